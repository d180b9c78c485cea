/*
 * deparse.cpp: shippability of WHERE/ORDER BY expressions and the SQLite
 * query text.  C-style code over PostgreSQL nodes, run under one pg::call by
 * the planner (see deparse.h).
 *
 * Values that are not plain integers or quoted text go to SQLite as bound
 * parameters (?1, ?2, ...), never pasted into the SQL: floats keep every bit,
 * and an outer Var or a Param of a nested loop is bound per rescan.
 */
#include "fdw/deparse.h"

#include "sqlite/sql_text.h"

extern "C" {
#include "catalog/pg_collation.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "utils/array.h"
#include "mb/pg_wchar.h"
#include "nodes/makefuncs.h"
#include "access/stratnum.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "miscadmin.h"
#include "access/htup_details.h"
#include "access/sysattr.h"
}

#include <cmath>

namespace recio {
namespace {

/*
 * SQLite's default maximum number of bound parameters (SQLITE_MAX_VARIABLE_NUMBER
 * since 3.32.0): a condition that needs more is evaluated locally.
 */
constexpr int kMaxBoundValues = 32766;

/*
 * SQLite's parser nests "a OR b OR c" one level per operand and refuses
 * expressions deeper than SQLITE_MAX_EXPR_DEPTH (1000): longer AND/OR lists
 * stay local.
 */
constexpr int kMaxBoolArgs = 500;

/*
 * Deparsing state.  There is no "check only" mode: the shippability of an
 * expression is whether it deparses (deparse_condition), so the planner's
 * choice and the SQL text cannot disagree.  buf is a scratch buffer that is
 * appended to the query only when the whole condition deparsed.
 */
struct Ctx {
    PlannerInfo* root;
    RelOptInfo* rel;
    RelInfo* info;
    StringInfo buf;
    List** params; /* expressions bound as ?n */
};

enum class ValueKind { Unsupported, Integer, Float, Text };

ValueKind kind_of_type(Oid type)
{
    switch (type) {
    case INT2OID:
    case INT4OID:
    case INT8OID:
        return ValueKind::Integer;
    case FLOAT4OID:
    case FLOAT8OID:
        return ValueKind::Float;
    case TEXTOID:
        return ValueKind::Text;
    default:
        return ValueKind::Unsupported;
    }
}

ValueKind kind_of_class(PushClass c, Oid type)
{
    if (c == PushClass::Number) {
        ValueKind k = kind_of_type(type);
        return k == ValueKind::Integer || k == ValueKind::Float ? k : ValueKind::Unsupported;
    }
    if (c == PushClass::Text && type == TEXTOID)
        return ValueKind::Text;
    return ValueKind::Unsupported;
}

bool same_family(ValueKind a, ValueKind b)
{
    if (a == ValueKind::Unsupported || b == ValueKind::Unsupported)
        return false;
    if (a == ValueKind::Text || b == ValueKind::Text)
        return a == b;
    return true; /* integers and floats compare numerically on both sides */
}

/*
 * May a value of this type be compared by SQLite against a column of kind
 * want?  Text only in a UTF-8 database: SQLite text is UTF-8, and neither
 * literals nor bound values are converted.
 */
bool value_type_ok(Oid type, ValueKind want)
{
    ValueKind kind = kind_of_type(type);
    return same_family(kind, want) && (kind != ValueKind::Text || GetDatabaseEncoding() == PG_UTF8);
}

Expr* strip(Expr* e)
{
    while (e && IsA(e, RelabelType))
        e = reinterpret_cast<RelabelType*>(e)->arg;
    return e;
}

/* A column of the scanned relation, or NULL. */
Var* own_column(Ctx& c, Expr* e)
{
    e = strip(e);
    if (!e || !IsA(e, Var))
        return nullptr;
    Var* v = reinterpret_cast<Var*>(e);
    if (!bms_is_member(v->varno, c.rel->relids) || v->varlevelsup != 0 || v->varattno <= 0 ||
        v->varattno > c.info->natts)
        return nullptr;
    return v;
}

PushClass column_class(Ctx& c, Var* v)
{
    return c.info->cols[v->varattno - 1].push;
}

/*
 * Bind e as ?n.  A Param or outer Var used twice is bound once; constants are
 * not looked up (an IN list of n floats would make that O(n^2)).
 */
[[nodiscard]] bool append_param(Ctx& c, Expr* e)
{
    int index = 0;
    if (!IsA(e, Const)) {
        ListCell* lc;
        int i = 1;
        foreach (lc, *c.params) {
            if (equal(lfirst(lc), e)) {
                index = i;
                break;
            }
            i++;
        }
    }
    if (index == 0) {
        if (list_length(*c.params) >= kMaxBoundValues)
            return false;
        *c.params = lappend(*c.params, e);
        index = list_length(*c.params);
    }
    appendStringInfo(c.buf, "?%d", index);
    return true;
}

/*
 * A value operand: a Const, a Param, or (for parameterized paths) a Var of
 * another relation.  Integers and text constants are inlined; the rest is
 * bound.  Every refusal returns false before anything is written.
 */
[[nodiscard]] bool deparse_value(Ctx& c, Expr* e, ValueKind want)
{
    e = strip(e);
    Oid type = exprType(reinterpret_cast<Node*>(e));
    if (!value_type_ok(type, want))
        return false;
    /*
     * Floats only as constants, and never NaN: SQLite binds a NaN as NULL, so
     * a NaN parameter or outer value would turn "<>" and "<" into NULL.
     * Infinities are bound as they are: SQLite's REAL holds and orders them
     * as PostgreSQL does.
     */
    if (kind_of_type(type) == ValueKind::Float) {
        if (!IsA(e, Const))
            return false;
        Const* k = reinterpret_cast<Const*>(e);
        if (!k->constisnull) {
            double d = k->consttype == FLOAT4OID ? DatumGetFloat4(k->constvalue) : DatumGetFloat8(k->constvalue);
            if (std::isnan(d))
                return false;
        }
    }
    if (IsA(e, Const)) {
        Const* k = reinterpret_cast<Const*>(e);
        if (k->constisnull) {
            appendStringInfoString(c.buf, "NULL");
            return true;
        }
        switch (type) {
        case INT2OID:
            appendStringInfo(c.buf, "%d", DatumGetInt16(k->constvalue));
            return true;
        case INT4OID:
            appendStringInfo(c.buf, "%d", DatumGetInt32(k->constvalue));
            return true;
        case INT8OID:
            appendStringInfo(c.buf, INT64_FORMAT, DatumGetInt64(k->constvalue));
            return true;
        case TEXTOID:
            sqlite::append_quoted_literal(c.buf, TextDatumGetCString(k->constvalue));
            return true;
        default:
            return append_param(c, e);
        }
    }
    if (IsA(e, Param))
        return append_param(c, e);
    if (IsA(e, Var)) {
        Var* v = reinterpret_cast<Var*>(e);
        if (bms_is_member(v->varno, c.rel->relids) || v->varlevelsup != 0)
            return false;
        return append_param(c, e);
    }
    return false;
}

void append_column(Ctx& c, Var* v)
{
    sqlite::append_quoted_ident(c.buf, c.info->cols[v->varattno - 1].sqlite_name);
}

bool is_builtin(Oid oid)
{
    return oid < FirstGenbkiObjectId;
}

/* Collation rules: ordering only under C; equality under any deterministic collation. */
bool collation_ok(Oid collid, bool ordering)
{
    if (!OidIsValid(collid) || collid == C_COLLATION_OID || collid == POSIX_COLLATION_OID)
        return true;
    if (ordering)
        return false;
    return get_collation_isdeterministic(collid);
}

[[nodiscard]] bool deparse(Ctx& c, Expr* e);

/* LIKE pattern (backslash escape) -> GLOB pattern; false if not translatable. */
bool like_to_glob(const char* like, StringInfo out)
{
    for (const char* p = like; *p; p++) {
        char ch = *p;
        if (ch == '\\') {
            p++;
            if (!*p)
                return false;
            ch = *p;
            if (ch == '*' || ch == '?' || ch == '[')
                appendStringInfo(out, "[%c]", ch);
            else
                appendStringInfoChar(out, ch);
            continue;
        }
        if (ch == '%')
            appendStringInfoChar(out, '*');
        else if (ch == '_')
            appendStringInfoChar(out, '?');
        else if (ch == '*' || ch == '?' || ch == '[')
            appendStringInfo(out, "[%c]", ch);
        else
            appendStringInfoChar(out, ch);
    }
    return true;
}

[[nodiscard]] bool deparse_like(Ctx& c, OpExpr* op, bool negate)
{
    Var* v = own_column(c, static_cast<Expr*>(linitial(op->args)));
    Expr* pat = strip(static_cast<Expr*>(lsecond(op->args)));
    if (!v || column_class(c, v) != PushClass::Text || !IsA(pat, Const) || reinterpret_cast<Const*>(pat)->constisnull ||
        !value_type_ok(exprType(reinterpret_cast<Node*>(pat)), ValueKind::Text))
        return false;
    StringInfoData glob;
    initStringInfo(&glob);
    if (!like_to_glob(TextDatumGetCString(reinterpret_cast<Const*>(pat)->constvalue), &glob))
        return false;
    appendStringInfoString(c.buf, negate ? "(NOT (" : "(");
    append_column(c, v);
    appendStringInfoString(c.buf, " GLOB ");
    sqlite::append_quoted_literal(c.buf, glob.data);
    appendStringInfoString(c.buf, negate ? "))" : ")");
    return true;
}

const char* comparison_token(const char* opname)
{
    static const char* const ops[] = {"=", "<>", "<", "<=", ">", ">="};
    for (const char* op : ops)
        if (strcmp(opname, op) == 0)
            return op;
    return nullptr;
}

[[nodiscard]] bool deparse_opexpr(Ctx& c, OpExpr* op)
{
    if (!is_builtin(op->opno) || list_length(op->args) != 2)
        return false;
    char* opname = get_opname(op->opno);
    if (!opname)
        return false;
    if (strcmp(opname, "~~") == 0 || strcmp(opname, "!~~") == 0)
        return deparse_like(c, op, opname[0] == '!');
    const char* token = comparison_token(opname);
    if (!token)
        return false;
    bool ordering = strcmp(token, "=") != 0 && strcmp(token, "<>") != 0;
    Expr* left = static_cast<Expr*>(linitial(op->args));
    Expr* right = static_cast<Expr*>(lsecond(op->args));
    Var* lv = own_column(c, left);
    Var* rv = own_column(c, right);
    if (!lv && !rv)
        return false;
    /* Text comparisons need PostgreSQL's collation to agree with memcmp. */
    if (!collation_ok(op->inputcollid, ordering))
        return false;
    ValueKind lk = lv ? kind_of_class(column_class(c, lv), exprType(reinterpret_cast<Node*>(lv)))
                      : kind_of_type(exprType(reinterpret_cast<Node*>(strip(left))));
    ValueKind rk = rv ? kind_of_class(column_class(c, rv), exprType(reinterpret_cast<Node*>(rv)))
                      : kind_of_type(exprType(reinterpret_cast<Node*>(strip(right))));
    if (!same_family(lk, rk))
        return false;
    appendStringInfoChar(c.buf, '(');
    if (lv)
        append_column(c, lv);
    else if (!deparse_value(c, left, rk))
        return false;
    appendStringInfo(c.buf, " %s ", token);
    if (rv)
        append_column(c, rv);
    else if (!deparse_value(c, right, lk))
        return false;
    appendStringInfoChar(c.buf, ')');
    return true;
}

/*
 * The elements of a constant array, "a, b, c", each through deparse_value so
 * that an element it refuses (NaN, a value of another type family) refuses
 * the whole list.
 */
[[nodiscard]] bool deparse_const_elements(Ctx& c, Const* arr, ValueKind want)
{
    Oid elemtype = get_element_type(arr->consttype);
    if (!value_type_ok(elemtype, want))
        return false;
    ArrayType* a = DatumGetArrayTypeP(arr->constvalue);
    int16 typlen;
    bool typbyval;
    char typalign;
    get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
    Datum* elems;
    bool* nulls;
    int n;
    deconstruct_array(a, elemtype, typlen, typbyval, typalign, &elems, &nulls, &n);
    for (int i = 0; i < n; i++) {
        CHECK_FOR_INTERRUPTS();
        if (i > 0)
            appendStringInfoString(c.buf, ", ");
        Const* k = makeConst(elemtype, -1, InvalidOid, typlen, elems[i], nulls[i], typbyval);
        if (!deparse_value(c, reinterpret_cast<Expr*>(k), want))
            return false;
    }
    return true;
}

/*
 * The elements of ARRAY[...] with non-constant members (what "col IN ($1,
 * $2)" becomes in a generic plan, or "col IN (outer.a, outer.b)" on the
 * inner side of a nested loop): Params and outer Vars are bound, constants
 * inlined, anything else refused.
 */
[[nodiscard]] bool deparse_array_expr_elements(Ctx& c, ArrayExpr* arr, ValueKind want)
{
    if (arr->multidims || !value_type_ok(arr->element_typeid, want))
        return false;
    ListCell* lc;
    bool first = true;
    foreach (lc, arr->elements) {
        CHECK_FOR_INTERRUPTS();
        if (!first)
            appendStringInfoString(c.buf, ", ");
        first = false;
        if (!deparse_value(c, static_cast<Expr*>(lfirst(lc)), want))
            return false;
    }
    return true;
}

/*
 * col = ANY (array)  ->  col IN (...)
 * col <> ALL (array) ->  col NOT IN (...)
 *
 * The three-valued logic is the same on both sides: a NULL element makes a
 * non-matching IN (NOT IN: a non-excluded value) NULL, a NULL column value
 * gives NULL, and an empty list is false for IN and true for NOT IN whatever
 * the column holds, as PostgreSQL's ANY/ALL over an empty array.  A NULL
 * array stays local (the planner folds it away when it is a constant).
 */
[[nodiscard]] bool deparse_in_list(Ctx& c, ScalarArrayOpExpr* sa)
{
    if (!is_builtin(sa->opno) || list_length(sa->args) != 2)
        return false;
    char* opname = get_opname(sa->opno);
    if (!opname || strcmp(opname, sa->useOr ? "=" : "<>") != 0 || !collation_ok(sa->inputcollid, false))
        return false;
    Var* v = own_column(c, static_cast<Expr*>(linitial(sa->args)));
    Expr* arr = strip(static_cast<Expr*>(lsecond(sa->args)));
    if (!v || !arr)
        return false;
    ValueKind vk = kind_of_class(column_class(c, v), exprType(reinterpret_cast<Node*>(v)));
    appendStringInfoChar(c.buf, '(');
    append_column(c, v);
    appendStringInfoString(c.buf, sa->useOr ? " IN (" : " NOT IN (");
    if (IsA(arr, Const)) {
        Const* k = reinterpret_cast<Const*>(arr);
        if (k->constisnull || !deparse_const_elements(c, k, vk))
            return false;
    } else if (IsA(arr, ArrayExpr)) {
        if (!deparse_array_expr_elements(c, reinterpret_cast<ArrayExpr*>(arr), vk))
            return false;
    } else {
        return false;
    }
    appendStringInfoString(c.buf, "))");
    return true;
}

[[nodiscard]] bool deparse_bool(Ctx& c, BoolExpr* b)
{
    const char* sep = b->boolop == AND_EXPR ? " AND " : b->boolop == OR_EXPR ? " OR " : nullptr;
    if (list_length(b->args) > kMaxBoolArgs)
        return false;
    appendStringInfoString(c.buf, b->boolop == NOT_EXPR ? "(NOT " : "(");
    ListCell* lc;
    bool first = true;
    foreach (lc, b->args) {
        if (!first && sep)
            appendStringInfoString(c.buf, sep);
        first = false;
        if (!deparse(c, static_cast<Expr*>(lfirst(lc))))
            return false;
    }
    appendStringInfoChar(c.buf, ')');
    return true;
}

[[nodiscard]] bool deparse_nulltest(Ctx& c, NullTest* nt)
{
    Var* v = own_column(c, nt->arg);
    if (!v || nt->argisrow || column_class(c, v) == PushClass::Never)
        return false;
    appendStringInfoChar(c.buf, '(');
    append_column(c, v);
    appendStringInfoString(c.buf, nt->nulltesttype == IS_NULL ? " IS NULL)" : " IS NOT NULL)");
    return true;
}

bool deparse(Ctx& c, Expr* e)
{
    if (!e)
        return false;
    check_stack_depth();
    switch (nodeTag(e)) {
    case T_OpExpr:
        return deparse_opexpr(c, reinterpret_cast<OpExpr*>(e));
    case T_ScalarArrayOpExpr:
        return deparse_in_list(c, reinterpret_cast<ScalarArrayOpExpr*>(e));
    case T_BoolExpr:
        return deparse_bool(c, reinterpret_cast<BoolExpr*>(e));
    case T_NullTest:
        return deparse_nulltest(c, reinterpret_cast<NullTest*>(e));
    default:
        return false;
    }
}

/*
 * The one entry to the deparser: cond is written into a scratch buffer with
 * a scratch copy of the parameter list, and appended to out (its parameters
 * kept) only if all of it deparsed.  A refusal anywhere inside leaves out and
 * *params exactly as they were: no half-built expression can reach SQLite.
 */
[[nodiscard]] bool deparse_condition(PlannerInfo* root, RelOptInfo* rel, RelInfo* info, Expr* cond, StringInfo out,
                                     List** params)
{
    StringInfoData scratch;
    initStringInfo(&scratch);
    List* scratch_params = list_copy(*params);
    Ctx c{root, rel, info, &scratch, &scratch_params};
    bool ok = deparse(c, cond);
    if (ok) {
        appendBinaryStringInfo(out, scratch.data, scratch.len);
        list_free(*params);
        *params = scratch_params;
    } else {
        list_free(scratch_params);
    }
    pfree(scratch.data);
    return ok;
}

}  // namespace

bool is_shippable(PlannerInfo* root, RelOptInfo* rel, RelInfo* info, Expr* expr)
{
    StringInfoData out;
    initStringInfo(&out);
    List* params = NIL;
    bool ok = deparse_condition(root, rel, info, expr, &out, &params);
    list_free(params);
    pfree(out.data);
    return ok;
}

/*
 * ORDER BY: a plain column of class Number (numbers sort alike) or Text
 * under the C collation; NULLS FIRST/LAST spelled out, since SQLite puts
 * NULLs first in ascending order and PostgreSQL last.
 */
Expr* shippable_sort_expr(PlannerInfo* root, RelOptInfo* rel, RelInfo* info, PathKey* key)
{
    EquivalenceClass* ec = key->pk_eclass;
    if (ec->ec_has_volatile)
        return nullptr;
    ListCell* lc;
    foreach (lc, ec->ec_members) {
        EquivalenceMember* em = static_cast<EquivalenceMember*>(lfirst(lc));
        if (!bms_equal(em->em_relids, rel->relids))
            continue;
        Ctx c{root, rel, info, nullptr, nullptr};
        Var* v = own_column(c, em->em_expr);
        if (!v)
            continue;
        PushClass cls = column_class(c, v);
        Oid type = exprType(reinterpret_cast<Node*>(v));
        if (kind_of_class(cls, type) == ValueKind::Unsupported)
            continue;
        if (cls == PushClass::Text && !collation_ok(ec->ec_collation, true))
            continue;
        /* the pathkey must use the type's default btree ordering */
        Oid opclass = GetDefaultOpClass(type, BTREE_AM_OID);
        if (!OidIsValid(opclass) || get_opclass_family(opclass) != key->pk_opfamily)
            continue;
        return em->em_expr;
    }
    return nullptr;
}

char* build_select(PlannerInfo* root, RelOptInfo* rel, RelInfo* info, Bitmapset* attrs, List* remote_exprs,
                   List* pathkeys, int64 limit, int64 offset, List** retrieved, List** params, List** refused)
{
    *retrieved = NIL;
    *refused = NIL;

    /* WHERE first: a refused condition is evaluated locally, so its columns must be fetched */
    StringInfoData where;
    initStringInfo(&where);
    ListCell* lc;
    foreach (lc, remote_exprs) {
        Expr* e = static_cast<Expr*>(lfirst(lc));
        StringInfoData cond;
        initStringInfo(&cond);
        if (deparse_condition(root, rel, info, e, &cond, params)) {
            appendStringInfoString(&where, where.len == 0 ? " WHERE " : " AND ");
            appendBinaryStringInfo(&where, cond.data, cond.len);
        } else {
            *refused = lappend(*refused, e);
        }
        pfree(cond.data);
    }
    if (*refused != NIL)
        pull_varattnos(reinterpret_cast<Node*>(*refused), rel->relid, &attrs);

    StringInfoData buf;
    initStringInfo(&buf);
    appendStringInfoString(&buf, "SELECT ");
    bool whole_row = bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, attrs);
    bool first = true;
    for (int attnum = 1; attnum <= info->natts; attnum++) {
        if (!whole_row && !bms_is_member(attnum - FirstLowInvalidHeapAttributeNumber, attrs))
            continue;
        if (!info->cols[attnum - 1].sqlite_name)
            continue; /* dropped column */
        if (!first)
            appendStringInfoString(&buf, ", ");
        first = false;
        sqlite::append_quoted_ident(&buf, info->cols[attnum - 1].sqlite_name);
        *retrieved = lappend_int(*retrieved, attnum);
    }
    /* ctid: the row identity of an UPDATE or DELETE, the rowid (see modify.h) */
    bool want_key = bms_is_member(SelfItemPointerAttributeNumber - FirstLowInvalidHeapAttributeNumber, attrs);
    if (first && !(want_key && info->key_expr)) {
        appendStringInfoString(&buf, "NULL");
    } else if (info->key_expr) {
        /* names the row in conversion errors */
        appendStringInfo(&buf, "%s%s", first ? "" : ", ", info->key_expr);
        *retrieved = lappend_int(*retrieved, 0);
    }
    appendStringInfoString(&buf, " FROM ");
    sqlite::append_quoted_ident(&buf, info->table);
    appendBinaryStringInfo(&buf, where.data, where.len);

    first = true;
    foreach (lc, pathkeys) {
        PathKey* key = static_cast<PathKey*>(lfirst(lc));
        Expr* e = shippable_sort_expr(root, rel, info, key);
        if (!e)
            elog(ERROR, "recio_sqlite: sort key chosen for pushdown cannot be deparsed");
        appendStringInfoString(&buf, first ? " ORDER BY " : ", ");
        first = false;
        Ctx c{root, rel, info, &buf, params};
        append_column(c, own_column(c, e));
        bool desc = key->pk_strategy == BTGreaterStrategyNumber;
        appendStringInfoString(&buf, desc ? " DESC" : " ASC");
        appendStringInfoString(&buf, key->pk_nulls_first ? " NULLS FIRST" : " NULLS LAST");
    }
    if (limit >= 0 || offset > 0)
        appendStringInfo(&buf, " LIMIT " INT64_FORMAT, limit >= 0 ? limit : -1);
    if (offset > 0)
        appendStringInfo(&buf, " OFFSET " INT64_FORMAT, offset);
    return buf.data;
}

}  // namespace recio

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
#include "access/htup_details.h"
#include "access/sysattr.h"
}

#include <cmath>

namespace recio {
namespace {

struct Ctx {
    PlannerInfo* root;
    RelOptInfo* rel;
    RelInfo* info;
    StringInfo buf; /* NULL: only check shippability */
    List** params;  /* expressions bound as ?n */
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

void append_param(Ctx& c, Expr* e)
{
    if (!c.buf)
        return;
    int index = 0;
    ListCell* lc;
    int i = 1;
    foreach (lc, *c.params) {
        if (equal(lfirst(lc), e)) {
            index = i;
            break;
        }
        i++;
    }
    if (index == 0) {
        *c.params = lappend(*c.params, e);
        index = list_length(*c.params);
    }
    appendStringInfo(c.buf, "?%d", index);
}

void append_text_literal(StringInfo buf, const char* s)
{
    appendStringInfoChar(buf, '\'');
    for (const char* p = s; *p; p++) {
        if (*p == '\'')
            appendStringInfoChar(buf, '\'');
        appendStringInfoChar(buf, *p);
    }
    appendStringInfoChar(buf, '\'');
}

/*
 * A value operand: a Const, a Param, or (for parameterized paths) a Var of
 * another relation.  Integers and text constants are inlined; the rest is
 * bound.
 */
bool deparse_value(Ctx& c, Expr* e, ValueKind want)
{
    e = strip(e);
    Oid type = exprType(reinterpret_cast<Node*>(e));
    ValueKind kind = kind_of_type(type);
    if (!same_family(kind, want))
        return false;
    if (kind == ValueKind::Text && GetDatabaseEncoding() != PG_UTF8)
        return false; /* SQLite text is UTF-8; bound values would need conversion */
    /*
     * Floats only as constants, and never NaN: SQLite binds a NaN as NULL, so
     * a NaN parameter or outer value would turn "<>" and "<" into NULL.
     */
    if (kind == ValueKind::Float) {
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
        if (!c.buf)
            return true;
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
        case TEXTOID: {
            char* s = TextDatumGetCString(k->constvalue);
            append_text_literal(c.buf, s);
            return true;
        }
        default:
            append_param(c, e);
            return true;
        }
    }
    if (IsA(e, Param)) {
        append_param(c, e);
        return true;
    }
    if (IsA(e, Var)) {
        Var* v = reinterpret_cast<Var*>(e);
        if (bms_is_member(v->varno, c.rel->relids) || v->varlevelsup != 0)
            return false;
        append_param(c, e);
        return true;
    }
    return false;
}

void append_column(Ctx& c, Var* v)
{
    if (c.buf)
        append_sqlite_ident(c.buf, c.info->cols[v->varattno - 1].sqlite_name);
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

bool deparse(Ctx& c, Expr* e);

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

bool deparse_like(Ctx& c, OpExpr* op, bool negate)
{
    Var* v = own_column(c, static_cast<Expr*>(linitial(op->args)));
    Expr* pat = strip(static_cast<Expr*>(lsecond(op->args)));
    if (!v || column_class(c, v) != PushClass::Text || !IsA(pat, Const) || reinterpret_cast<Const*>(pat)->constisnull ||
        exprType(reinterpret_cast<Node*>(pat)) != TEXTOID || GetDatabaseEncoding() != PG_UTF8)
        return false;
    StringInfoData glob;
    initStringInfo(&glob);
    if (!like_to_glob(TextDatumGetCString(reinterpret_cast<Const*>(pat)->constvalue), &glob))
        return false;
    if (c.buf) {
        appendStringInfoString(c.buf, negate ? "(NOT (" : "(");
        append_column(c, v);
        appendStringInfoString(c.buf, " GLOB ");
        append_text_literal(c.buf, glob.data);
        appendStringInfoString(c.buf, negate ? "))" : ")");
    }
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

bool deparse_opexpr(Ctx& c, OpExpr* op)
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
    if (c.buf)
        appendStringInfoChar(c.buf, '(');
    if (lv)
        append_column(c, lv);
    else if (!deparse_value(c, left, rk))
        return false;
    if (c.buf)
        appendStringInfo(c.buf, " %s ", token);
    if (rv)
        append_column(c, rv);
    else if (!deparse_value(c, right, lk))
        return false;
    if (c.buf)
        appendStringInfoChar(c.buf, ')');
    return true;
}

/* col = ANY (constant array)  ->  col IN (...) */
bool deparse_in_list(Ctx& c, ScalarArrayOpExpr* sa)
{
    if (!sa->useOr || !is_builtin(sa->opno) || list_length(sa->args) != 2)
        return false;
    char* opname = get_opname(sa->opno);
    if (!opname || strcmp(opname, "=") != 0 || !collation_ok(sa->inputcollid, false))
        return false;
    Var* v = own_column(c, static_cast<Expr*>(linitial(sa->args)));
    Expr* arr = strip(static_cast<Expr*>(lsecond(sa->args)));
    if (!v || !IsA(arr, Const) || reinterpret_cast<Const*>(arr)->constisnull)
        return false;
    ValueKind vk = kind_of_class(column_class(c, v), exprType(reinterpret_cast<Node*>(v)));
    Oid elemtype = get_element_type(exprType(reinterpret_cast<Node*>(arr)));
    if (!same_family(vk, kind_of_type(elemtype)) ||
        (kind_of_type(elemtype) == ValueKind::Text && GetDatabaseEncoding() != PG_UTF8))
        return false;
    if (!c.buf)
        return true;
    ArrayType* a = DatumGetArrayTypeP(reinterpret_cast<Const*>(arr)->constvalue);
    int16 typlen;
    bool typbyval;
    char typalign;
    get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
    Datum* elems;
    bool* nulls;
    int n;
    deconstruct_array(a, elemtype, typlen, typbyval, typalign, &elems, &nulls, &n);
    appendStringInfoChar(c.buf, '(');
    append_column(c, v);
    appendStringInfoString(c.buf, " IN (");
    for (int i = 0; i < n; i++) {
        if (i > 0)
            appendStringInfoString(c.buf, ", ");
        Const* k = makeConst(elemtype, -1, InvalidOid, typlen, elems[i], nulls[i], typbyval);
        deparse_value(c, reinterpret_cast<Expr*>(k), vk);
    }
    appendStringInfoString(c.buf, "))");
    return true;
}

bool deparse_bool(Ctx& c, BoolExpr* b)
{
    const char* sep = b->boolop == AND_EXPR ? " AND " : b->boolop == OR_EXPR ? " OR " : nullptr;
    if (c.buf)
        appendStringInfoString(c.buf, b->boolop == NOT_EXPR ? "(NOT " : "(");
    ListCell* lc;
    bool first = true;
    foreach (lc, b->args) {
        if (!first && c.buf && sep)
            appendStringInfoString(c.buf, sep);
        first = false;
        if (!deparse(c, static_cast<Expr*>(lfirst(lc))))
            return false;
    }
    if (c.buf)
        appendStringInfoChar(c.buf, ')');
    return true;
}

bool deparse_nulltest(Ctx& c, NullTest* nt)
{
    Var* v = own_column(c, nt->arg);
    if (!v || nt->argisrow || column_class(c, v) == PushClass::Never)
        return false;
    if (c.buf) {
        appendStringInfoChar(c.buf, '(');
        append_column(c, v);
        appendStringInfoString(c.buf, nt->nulltesttype == IS_NULL ? " IS NULL)" : " IS NOT NULL)");
    }
    return true;
}

bool deparse(Ctx& c, Expr* e)
{
    if (!e)
        return false;
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

}  // namespace

void append_sqlite_ident(StringInfo buf, const char* name)
{
    appendStringInfoChar(buf, '"');
    for (const char* p = name; *p; p++) {
        if (*p == '"')
            appendStringInfoChar(buf, '"');
        appendStringInfoChar(buf, *p);
    }
    appendStringInfoChar(buf, '"');
}

bool is_shippable(PlannerInfo* root, RelOptInfo* rel, RelInfo* info, Expr* expr)
{
    Ctx c{root, rel, info, nullptr, nullptr};
    return deparse(c, expr);
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
                   List* pathkeys, int64 limit, int64 offset, List** retrieved, List** params)
{
    StringInfoData buf;
    initStringInfo(&buf);
    Ctx c{root, rel, info, &buf, params};
    *retrieved = NIL;

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
        append_sqlite_ident(&buf, info->cols[attnum - 1].sqlite_name);
        *retrieved = lappend_int(*retrieved, attnum);
    }
    if (first) {
        appendStringInfoString(&buf, "NULL");
    } else if (info->key_expr) {
        /* names the row in conversion errors */
        appendStringInfo(&buf, ", %s", info->key_expr);
        *retrieved = lappend_int(*retrieved, 0);
    }
    appendStringInfoString(&buf, " FROM ");
    append_sqlite_ident(&buf, info->table);

    ListCell* lc;
    first = true;
    foreach (lc, remote_exprs) {
        appendStringInfoString(&buf, first ? " WHERE " : " AND ");
        first = false;
        Expr* e = static_cast<Expr*>(lfirst(lc));
        if (!deparse(c, e))
            elog(ERROR, "recio_sqlite: expression chosen for pushdown cannot be deparsed");
    }

    first = true;
    foreach (lc, pathkeys) {
        PathKey* key = static_cast<PathKey*>(lfirst(lc));
        Expr* e = shippable_sort_expr(root, rel, info, key);
        if (!e)
            elog(ERROR, "recio_sqlite: sort key chosen for pushdown cannot be deparsed");
        appendStringInfoString(&buf, first ? " ORDER BY " : ", ");
        first = false;
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

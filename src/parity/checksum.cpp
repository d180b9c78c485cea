/*
 * checksum.cpp: recio_migrate.checksum(): an order-independent 128-bit
 * checksum of a relation over canonical values (the form is specified in
 * checksum.h and the README).  The relation is read through SPI, so foreign
 * tables (read by recio_sqlite) and local tables go the same way and the
 * caller's privileges apply.  The row loop is C-style code over PostgreSQL
 * structures, run under one pg::call per batch.
 */
#include "parity/checksum.h"

extern "C" {
#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/shortest_dec.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/date.h"
#include "utils/uuid.h"
#include "utils/rel.h"
}

#include <cmath>
#include <cstring>

namespace recio {
namespace {

enum class Canon { Int, Float4, Float8, Numeric, Text, Bpchar, Bool, Timestamp, Date, Time, Bytea, Json, Jsonb, Uuid, Other };

struct ColumnPlan {
    char* name;
    Oid typid;
    Canon canon;
    Datum twice_tolerance; /* numeric 2t, or 0 for exact */
    char* tolerance_text;
    FmgrInfo out;
};

constexpr uint64 kSeedHi = UINT64CONST(0x9e3779b97f4a7c15);
constexpr uint64 kSeedLo = UINT64CONST(0xc2b2ae3d27d4eb4f);
constexpr int kBatchRows = 10000;

Canon canon_of(Oid typid)
{
    switch (getBaseType(typid)) {
    case INT2OID:
    case INT4OID:
    case INT8OID: return Canon::Int;
    case FLOAT4OID: return Canon::Float4;
    case FLOAT8OID: return Canon::Float8;
    case NUMERICOID: return Canon::Numeric;
    case TEXTOID:
    case VARCHAROID:
    case NAMEOID: return Canon::Text;
    case BPCHAROID: return Canon::Bpchar;
    case BOOLOID: return Canon::Bool;
    case TIMESTAMPOID:
    case TIMESTAMPTZOID: return Canon::Timestamp;
    case DATEOID: return Canon::Date;
    case TIMEOID: return Canon::Time;
    case BYTEAOID: return Canon::Bytea;
    case JSONOID: return Canon::Json;
    case JSONBOID: return Canon::Jsonb;
    case UUIDOID: return Canon::Uuid;
    default: return Canon::Other;
    }
}

bool is_number(Canon c)
{
    return c == Canon::Int || c == Canon::Float4 || c == Canon::Float8 || c == Canon::Numeric;
}

/*
 * A decimal text (optionally with exponent) as a plain decimal without
 * exponent, leading zeros, trailing fraction zeros, or a negative zero.
 */
void append_plain_decimal(StringInfo buf, const char* s)
{
    bool neg = false;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    StringInfoData digits;
    initStringInfo(&digits);
    int point = -1; /* digits before the decimal point */
    for (; *s && *s != 'e' && *s != 'E'; s++) {
        if (*s == '.')
            point = digits.len;
        else
            appendStringInfoChar(&digits, *s);
    }
    if (point < 0)
        point = digits.len;
    if (*s == 'e' || *s == 'E')
        point += atoi(s + 1);
    /* value = 0.digits * 10^point; trim leading zeros */
    int start = 0;
    while (start < digits.len && digits.data[start] == '0') {
        start++;
        point--;
    }
    int end = digits.len;
    while (end > start && digits.data[end - 1] == '0')
        end--;
    if (start == end) {
        appendStringInfoChar(buf, '0');
        pfree(digits.data);
        return;
    }
    if (neg)
        appendStringInfoChar(buf, '-');
    int n = end - start;
    if (point <= 0) {
        appendStringInfoString(buf, "0.");
        for (int i = 0; i < -point; i++)
            appendStringInfoChar(buf, '0');
        appendBinaryStringInfo(buf, digits.data + start, n);
    } else if (point >= n) {
        appendBinaryStringInfo(buf, digits.data + start, n);
        for (int i = n; i < point; i++)
            appendStringInfoChar(buf, '0');
    } else {
        appendBinaryStringInfo(buf, digits.data + start, point);
        appendStringInfoChar(buf, '.');
        appendBinaryStringInfo(buf, digits.data + start + point, n - point);
    }
    pfree(digits.data);
}

/* Shortest round-trip text of a float (single: of its float4 value); NaN and infinities by name. */
char* float_text(double d, bool single)
{
    if (std::isnan(d))
        return pstrdup("NaN");
    if (std::isinf(d))
        return pstrdup(d > 0 ? "Infinity" : "-Infinity");
    char buf[64];
    if (single)
        float_to_shortest_decimal_buf(static_cast<float>(d), buf);
    else
        double_to_shortest_decimal_buf(d, buf);
    return pstrdup(buf);
}

/* The number's decimal text as PostgreSQL prints it (shortest round-trip for floats). */
char* number_text(const ColumnPlan& col, Datum value)
{
    switch (col.canon) {
    case Canon::Float8:
        return float_text(DatumGetFloat8(value), false);
    case Canon::Float4:
        return float_text(DatumGetFloat4(value), true);
    default:
        return OutputFunctionCall(const_cast<FmgrInfo*>(&col.out), value);
    }
}

void append_number(StringInfo buf, const ColumnPlan& col, Datum value)
{
    appendStringInfoChar(buf, 'D');
    char* text = number_text(col, value);
    if (strcmp(text, "NaN") == 0 || strcmp(text, "Infinity") == 0 || strcmp(text, "-Infinity") == 0) {
        appendStringInfoString(buf, text);
    } else if (col.twice_tolerance == 0) {
        append_plain_decimal(buf, text);
    } else {
        /* bucket floor(v / 2t): values closer than the tolerance mostly share it */
        StringInfoData plain;
        initStringInfo(&plain);
        append_plain_decimal(&plain, text);
        Datum v = DirectFunctionCall3(numeric_in, CStringGetDatum(plain.data), ObjectIdGetDatum(InvalidOid),
                                      Int32GetDatum(-1));
        Datum q = DirectFunctionCall2(numeric_div, v, col.twice_tolerance);
        Datum f = DirectFunctionCall1(numeric_floor, q);
        appendStringInfoString(buf, DatumGetCString(DirectFunctionCall1(numeric_out, f)));
        appendStringInfoChar(buf, '@');
        appendStringInfoString(buf, col.tolerance_text);
    }
    appendStringInfoChar(buf, '\0');
}

void append_bytes(StringInfo buf, char tag, const char* data, int len)
{
    appendStringInfoChar(buf, tag);
    uint32 n = static_cast<uint32>(len);
    appendBinaryStringInfo(buf, reinterpret_cast<const char*>(&n), sizeof n);
    appendBinaryStringInfo(buf, data, len);
}

void append_int64(StringInfo buf, char tag, int64 v)
{
    appendStringInfoChar(buf, tag);
    appendBinaryStringInfo(buf, reinterpret_cast<const char*>(&v), sizeof v);
}

void append_value(StringInfo buf, const ColumnPlan& col, Datum value, bool isnull)
{
    if (isnull) {
        appendStringInfoChar(buf, 'N');
        return;
    }
    switch (col.canon) {
    case Canon::Int:
    case Canon::Float4:
    case Canon::Float8:
    case Canon::Numeric:
        append_number(buf, col, value);
        return;
    case Canon::Text:
    case Canon::Bpchar: {
        if (getBaseType(col.typid) == NAMEOID) {
            const char* s = NameStr(*DatumGetName(value));
            append_bytes(buf, 'T', s, static_cast<int>(strlen(s)));
            return;
        }
        struct varlena* t = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(value)));
        int len = VARSIZE_ANY_EXHDR(t);
        const char* p = VARDATA_ANY(t);
        if (col.canon == Canon::Bpchar)
            while (len > 0 && p[len - 1] == ' ')
                len--;
        append_bytes(buf, 'T', p, len);
        return;
    }
    case Canon::Bool:
        appendStringInfoChar(buf, 'B');
        appendStringInfoChar(buf, DatumGetBool(value) ? '1' : '0');
        return;
    case Canon::Timestamp:
        append_int64(buf, 'S', DatumGetInt64(value));
        return;
    case Canon::Date:
        append_int64(buf, 'A', DatumGetDateADT(value));
        return;
    case Canon::Time:
        append_int64(buf, 'M', DatumGetTimeADT(value));
        return;
    case Canon::Bytea: {
        struct varlena* t = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(value)));
        append_bytes(buf, 'X', VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
        return;
    }
    case Canon::Json:
    case Canon::Jsonb: {
        char* text = OutputFunctionCall(const_cast<FmgrInfo*>(&col.out), value);
        if (col.canon == Canon::Json)
            text = DatumGetCString(DirectFunctionCall1(jsonb_out, DirectFunctionCall1(jsonb_in, CStringGetDatum(text))));
        append_bytes(buf, 'J', text, static_cast<int>(strlen(text)));
        return;
    }
    case Canon::Uuid:
        append_bytes(buf, 'U', reinterpret_cast<const char*>(DatumGetUUIDP(value)->data), UUID_LEN);
        return;
    case Canon::Other: {
        char* text = OutputFunctionCall(const_cast<FmgrInfo*>(&col.out), value);
        append_bytes(buf, 'O', text, static_cast<int>(strlen(text)));
        return;
    }
    }
}

/* Tolerance for a column: jsonb number (all numeric columns) or object {column: number}. */
Datum tolerance_for(Jsonb* tolerance, const ColumnPlan& col, char** text)
{
    *text = nullptr;
    if (!tolerance || !is_number(col.canon))
        return 0;
    JsonbValue* v = nullptr;
    JsonbValue key;
    if (JB_ROOT_IS_SCALAR(tolerance)) {
        JsonbValue scalar;
        if (!JsonbExtractScalar(&tolerance->root, &scalar))
            return 0;
        v = static_cast<JsonbValue*>(palloc(sizeof(JsonbValue)));
        *v = scalar;
    } else if (JB_ROOT_IS_OBJECT(tolerance)) {
        key.type = jbvString;
        key.val.string.val = col.name;
        key.val.string.len = static_cast<int>(strlen(col.name));
        v = findJsonbValueFromContainer(&tolerance->root, JB_FOBJECT, &key);
    }
    if (!v)
        return 0;
    if (v->type != jbvNumeric)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("tolerance for column \"%s\" must be a number", col.name)));
    Datum t = NumericGetDatum(v->val.numeric);
    Datum zero = DirectFunctionCall1(int4_numeric, Int32GetDatum(0));
    if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, t, zero)) < 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("tolerance for column \"%s\" must not be negative", col.name)));
    if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, t, zero)) == 0)
        return 0;
    *text = DatumGetCString(DirectFunctionCall1(numeric_out, t));
    return DirectFunctionCall2(numeric_add, t, t);
}

int compare_names(const void* a, const void* b)
{
    return strcmp(static_cast<const ColumnPlan*>(a)->name, static_cast<const ColumnPlan*>(b)->name);
}

/* The columns to hash, sorted by name, and the SELECT that reads them. */
ColumnPlan* plan_columns(Oid relid, ArrayType* columns, Jsonb* tolerance, int* ncols, StringInfo query)
{
    Relation rel = relation_open(relid, AccessShareLock);
    TupleDesc desc = RelationGetDescr(rel);
    ColumnPlan* cols = static_cast<ColumnPlan*>(palloc0(sizeof(ColumnPlan) * (desc->natts + 1)));
    int n = 0;
    if (columns) {
        Datum* names;
        bool* nulls;
        int count;
        deconstruct_array(columns, TEXTOID, -1, false, TYPALIGN_INT, &names, &nulls, &count);
        cols = static_cast<ColumnPlan*>(repalloc(cols, sizeof(ColumnPlan) * (count + 1)));
        for (int i = 0; i < count; i++) {
            if (nulls[i])
                ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("column names must not be NULL")));
            char* name = TextDatumGetCString(names[i]);
            AttrNumber att = get_attnum(relid, name);
            if (att <= 0)
                ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                                errmsg("column \"%s\" of relation \"%s\" does not exist", name,
                                       RelationGetRelationName(rel))));
            cols[n].name = name;
            cols[n].typid = TupleDescAttr(desc, att - 1)->atttypid;
            n++;
        }
    } else {
        for (int i = 0; i < desc->natts; i++) {
            Form_pg_attribute a = TupleDescAttr(desc, i);
            if (a->attisdropped)
                continue;
            cols[n].name = pstrdup(NameStr(a->attname));
            cols[n].typid = a->atttypid;
            n++;
        }
    }
    if (n == 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("no columns to checksum")));
    qsort(cols, n, sizeof(ColumnPlan), compare_names);
    for (int i = 1; i < n; i++)
        if (strcmp(cols[i - 1].name, cols[i].name) == 0)
            ereport(ERROR, (errcode(ERRCODE_DUPLICATE_COLUMN), errmsg("column \"%s\" is listed twice", cols[i].name)));
    appendStringInfoString(query, "SELECT ");
    for (int i = 0; i < n; i++) {
        cols[i].canon = canon_of(cols[i].typid);
        Oid out;
        bool varlena;
        getTypeOutputInfo(cols[i].typid, &out, &varlena);
        fmgr_info(out, &cols[i].out);
        cols[i].twice_tolerance = tolerance_for(tolerance, cols[i], &cols[i].tolerance_text);
        appendStringInfo(query, "%s%s", i ? ", " : "", quote_identifier(cols[i].name));
    }
    if (tolerance && JB_ROOT_IS_OBJECT(tolerance)) {
        /* every key must name a numeric column being hashed */
        JsonbIterator* it = JsonbIteratorInit(&tolerance->root);
        JsonbValue v;
        JsonbIteratorToken tok;
        int depth = 0;
        while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE) {
            if (tok == WJB_BEGIN_OBJECT)
                depth++;
            else if (tok == WJB_END_OBJECT)
                depth--;
            else if (tok == WJB_KEY && depth == 1) {
                char* key = pnstrdup(v.val.string.val, v.val.string.len);
                bool found = false;
                for (int i = 0; i < n; i++)
                    found |= strcmp(cols[i].name, key) == 0 && is_number(cols[i].canon);
                if (!found)
                    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                                    errmsg("tolerance names \"%s\", which is not a numeric column being compared", key)));
            }
        }
    } else if (tolerance && !JB_ROOT_IS_SCALAR(tolerance)) {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("tolerance must be a number or an object of column names to numbers")));
    }
    appendStringInfo(query, " FROM %s",
                     quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
                                                RelationGetRelationName(rel)));
    relation_close(rel, AccessShareLock);
    *ncols = n;
    return cols;
}

/* Hash every row of the query; C-style, run under pg::call. */
void checksum_query(const char* query, ColumnPlan* cols, int ncols, ChecksumResult* out)
{
    unsigned __int128 sum = 0;
    int64 rows = 0;
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    SPIPlanPtr plan = SPI_prepare(query, 0, nullptr);
    if (!plan)
        elog(ERROR, "SPI_prepare failed for checksum query: %s", SPI_result_code_string(SPI_result));
    Portal portal = SPI_cursor_open(nullptr, plan, nullptr, nullptr, true);
    MemoryContext row_cxt = AllocSetContextCreate(CurrentMemoryContext, "recio checksum row", ALLOCSET_DEFAULT_SIZES);
    StringInfoData buf;
    initStringInfo(&buf);
    for (;;) {
        SPI_cursor_fetch(portal, true, kBatchRows);
        if (SPI_processed == 0)
            break;
        SPITupleTable* tt = SPI_tuptable;
        for (uint64 r = 0; r < SPI_processed; r++) {
            CHECK_FOR_INTERRUPTS();
            MemoryContext old = MemoryContextSwitchTo(row_cxt);
            resetStringInfo(&buf);
            for (int c = 0; c < ncols; c++) {
                bool isnull;
                Datum v = heap_getattr(tt->vals[r], c + 1, tt->tupdesc, &isnull);
                append_value(&buf, cols[c], v, isnull);
            }
            MemoryContextSwitchTo(old);
            uint64 hi = hash_bytes_extended(reinterpret_cast<const unsigned char*>(buf.data), buf.len, kSeedHi);
            uint64 lo = hash_bytes_extended(reinterpret_cast<const unsigned char*>(buf.data), buf.len, kSeedLo);
            sum += (static_cast<unsigned __int128>(hi) << 64) | lo;
            rows++;
            MemoryContextReset(row_cxt);
        }
        SPI_freetuptable(SPI_tuptable);
    }
    SPI_cursor_close(portal);
    SPI_finish();
    out->rows = rows;
    out->hi = static_cast<uint64>(sum >> 64);
    out->lo = static_cast<uint64>(sum);
}

}  // namespace

ChecksumResult relation_checksum(Oid relid, ArrayType* columns, Jsonb* tolerance)
{
    ChecksumResult result{0, 0, 0};
    pg::call([&] {
        StringInfoData query;
        initStringInfo(&query);
        int ncols = 0;
        ColumnPlan* cols = plan_columns(relid, columns, tolerance, &ncols, &query);
        checksum_query(query.data, cols, ncols, &result);
    });
    return result;
}

}  // namespace recio

RECIO_FUNCTION(recio_checksum)
{
    Oid relid = PG_GETARG_OID(0);
    ArrayType* columns = PG_ARGISNULL(1) ? nullptr : recio::pg::call([&] { return PG_GETARG_ARRAYTYPE_P(1); });
    Jsonb* tolerance = PG_ARGISNULL(2) ? nullptr : recio::pg::call([&] { return PG_GETARG_JSONB_P(2); });
    recio::ChecksumResult r = recio::relation_checksum(relid, columns, tolerance);
    return recio::pg::call([&] {
        TupleDesc desc;
        if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "checksum must return a composite type");
        desc = BlessTupleDesc(desc);
        Datum values[2];
        bool nulls[2] = {false, false};
        values[0] = Int64GetDatum(r.rows);
        values[1] = CStringGetTextDatum(psprintf("%016llx%016llx", static_cast<unsigned long long>(r.hi),
                                                 static_cast<unsigned long long>(r.lo)));
        return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
    });
}

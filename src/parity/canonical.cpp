/*
 * canonical.cpp: canonical values (the form is specified in canonical.h and
 * the README), their readable display, exact tolerance comparison, and the
 * memcmp-ordered key encoding that parity's merge compares.  Numbers are
 * the hot path: integers print directly, numerics are read digit by digit
 * from their on-disk form and floats go through the shortest round-trip
 * text, so no numeric_out/parse round trip happens per value.
 */
#include "parity/canonical.h"

#include "common/numeric_layout.h"

extern "C" {
#include "catalog/pg_type.h"
#include "common/int.h"
#include "common/shortest_dec.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
}

#include <algorithm>
#include <cmath>
#include <cstring>

namespace recio {

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

namespace {

/* The canonical tag a class produces; classes with one tag compare equal. */
char tag_of(Canon c)
{
    switch (c) {
    case Canon::Int:
    case Canon::Float4:
    case Canon::Float8:
    case Canon::Numeric: return 'D';
    case Canon::Text:
    case Canon::Bpchar: return 'T';
    case Canon::Bool: return 'B';
    case Canon::Timestamp: return 'S';
    case Canon::Date: return 'A';
    case Canon::Time: return 'M';
    case Canon::Bytea: return 'X';
    case Canon::Json:
    case Canon::Jsonb: return 'J';
    case Canon::Uuid: return 'U';
    case Canon::Other: return 'O';
    }
    return 'O';
}

}  // namespace

bool comparable(Canon a, Canon b)
{
    return tag_of(a) == tag_of(b) && (a != Canon::Other || b == Canon::Other);
}

const char* canon_class_name(Canon c)
{
    switch (tag_of(c)) {
    case 'D': return "number";
    case 'T': return "text";
    case 'B': return "boolean";
    case 'S': return "timestamp";
    case 'A': return "date";
    case 'M': return "time";
    case 'X': return "bytea";
    case 'J': return "json";
    case 'U': return "uuid";
    default: return "other";
    }
}

namespace {

/*
 * Append the plain decimal of sign * 0.d1d2...dn * 10^point, where digits
 * holds n decimal digit characters: no leading or trailing zeros, no
 * exponent, "0" for zero (so -0 is 0).
 */
void append_plain_digits(StringInfo buf, bool neg, const char* digits, int n, int point)
{
    int start = 0;
    while (start < n && digits[start] == '0') {
        start++;
        point--;
    }
    int end = n;
    while (end > start && digits[end - 1] == '0')
        end--;
    if (start == end) {
        appendStringInfoChar(buf, '0');
        return;
    }
    int len = end - start;
    const char* d = digits + start;
    /* the longest result: sign, "0.", -point zeros or point - len zeros, the digits */
    int size = 3 + len + Max(Abs(point), len);
    enlargeStringInfo(buf, size);
    char* out = buf->data + buf->len;
    char* o = out;
    if (neg)
        *o++ = '-';
    if (point <= 0) {
        *o++ = '0';
        *o++ = '.';
        memset(o, '0', -point);
        o += -point;
        memcpy(o, d, len);
        o += len;
    } else if (point >= len) {
        memcpy(o, d, len);
        o += len;
        memset(o, '0', point - len);
        o += point - len;
    } else {
        memcpy(o, d, point);
        o += point;
        *o++ = '.';
        memcpy(o, d + point, len - point);
        o += len - point;
    }
    buf->len += static_cast<int>(o - out);
    buf->data[buf->len] = '\0';
}

/* A decimal text with optional sign, point and exponent (as ryu prints floats). */
void append_plain_decimal(StringInfo buf, const char* s)
{
    bool neg = false;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    char digits[64];
    int n = 0;
    int point = -1;
    for (; *s && *s != 'e' && *s != 'E' && n < static_cast<int>(sizeof digits); s++) {
        if (*s == '.')
            point = n;
        else
            digits[n++] = *s;
    }
    if (point < 0)
        point = n;
    if (*s == 'e' || *s == 'E')
        point += atoi(s + 1);
    append_plain_digits(buf, neg, digits, n, point);
}

/* Shortest round-trip text of a float (single: of its float4 value); false for NaN/Infinity, named in *special. */
bool float_text(double d, bool single, char* buf, const char** special)
{
    if (std::isnan(d)) {
        *special = "NaN";
        return false;
    }
    if (std::isinf(d)) {
        *special = d > 0 ? "Infinity" : "-Infinity";
        return false;
    }
    if (single)
        float_to_shortest_decimal_buf(static_cast<float>(d), buf);
    else
        double_to_shortest_decimal_buf(d, buf);
    return true;
}

/* A numeric's plain decimal, read from its on-disk digits; false (with *special) for NaN/Infinity. */
bool append_numeric_plain(StringInfo buf, Datum value, const char** special)
{
    namespace nl = numeric_layout;
    struct varlena* v = reinterpret_cast<struct varlena*>(DatumGetPointer(value));
    if (VARATT_IS_EXTENDED(v))
        v = pg_detoast_datum_packed(v);
    const char* data = VARDATA_ANY(v);
    int size = VARSIZE_ANY_EXHDR(v);
    uint16 header;
    memcpy(&header, data, sizeof header);
    if ((header & nl::kSignMask) == nl::kSpecial) {
        uint16 ext = header & nl::kExtSignMask;
        *special = ext == nl::kNaN ? "NaN" : ext == nl::kPinf ? "Infinity" : "-Infinity";
        return false;
    }
    bool is_short = (header & nl::kShort) != 0;
    bool neg;
    int weight;
    int offset;
    if (is_short) {
        neg = (header & nl::kShortSign) != 0;
        weight = (header & nl::kShortWeightSign ? ~static_cast<int>(nl::kShortWeightMask) : 0) |
                 (header & nl::kShortWeightMask);
        offset = sizeof(uint16);
    } else {
        neg = (header & nl::kSignMask) == nl::kNeg;
        int16 w;
        memcpy(&w, data + sizeof(uint16), sizeof w);
        weight = w;
        offset = sizeof(uint16) + sizeof(int16);
    }
    int ndigits = (size - offset) / static_cast<int>(sizeof(nl::Digit));
    if (ndigits == 0) {
        appendStringInfoChar(buf, '0');
        return true;
    }
    char small[128];
    char* digits = ndigits * 4 <= static_cast<int>(sizeof small) ? small : static_cast<char*>(palloc(ndigits * 4));
    for (int i = 0; i < ndigits; i++) {
        nl::Digit d;
        memcpy(&d, data + offset + i * sizeof(nl::Digit), sizeof d);
        digits[i * 4] = static_cast<char>('0' + d / 1000);
        digits[i * 4 + 1] = static_cast<char>('0' + d / 100 % 10);
        digits[i * 4 + 2] = static_cast<char>('0' + d / 10 % 10);
        digits[i * 4 + 3] = static_cast<char>('0' + d % 10);
    }
    append_plain_digits(buf, neg, digits, ndigits * 4, (weight + 1) * 4);
    if (digits != small)
        pfree(digits);
    return true;
}

/* The plain decimal of a number column's value; false (with *special) for NaN/Infinity. */
bool append_number_plain(StringInfo buf, const ColumnPlan& col, Datum value, const char** special)
{
    char text[64];
    switch (col.canon) {
    case Canon::Int: {
        int64 v = col.basetype == INT8OID   ? DatumGetInt64(value)
                  : col.basetype == INT4OID ? DatumGetInt32(value)
                                            : DatumGetInt16(value);
        pg_lltoa(v, text);
        appendStringInfoString(buf, text);
        return true;
    }
    case Canon::Float8:
        if (!float_text(DatumGetFloat8(value), false, text, special))
            return false;
        append_plain_decimal(buf, text);
        return true;
    case Canon::Float4:
        if (!float_text(DatumGetFloat4(value), true, text, special))
            return false;
        append_plain_decimal(buf, text);
        return true;
    default:
        return append_numeric_plain(buf, value, special);
    }
}

Datum numeric_of(const char* plain)
{
    return DirectFunctionCall3(numeric_in, CStringGetDatum(plain), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

void append_number(StringInfo buf, const ColumnPlan& col, Datum value, bool bucketed)
{
    appendStringInfoChar(buf, 'D');
    const char* special = nullptr;
    if (!bucketed || col.twice_tolerance == 0) {
        if (!append_number_plain(buf, col, value, &special))
            appendStringInfoString(buf, special);
        appendStringInfoChar(buf, '\0');
        return;
    }
    /* bucket floor(v / 2t): values closer than the tolerance mostly share it */
    StringInfoData plain;
    initStringInfo(&plain);
    if (!append_number_plain(&plain, col, value, &special)) {
        appendStringInfoString(buf, special);
    } else {
        Datum q = DirectFunctionCall2(numeric_div, numeric_of(plain.data), col.twice_tolerance);
        Datum f = DirectFunctionCall1(numeric_floor, q);
        appendStringInfoString(buf, DatumGetCString(DirectFunctionCall1(numeric_out, f)));
        appendStringInfoChar(buf, '@');
        appendStringInfoString(buf, col.tolerance_text);
    }
    pfree(plain.data);
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

/* Text-like value bytes: char without its padding, name as a C string. */
const char* text_bytes(const ColumnPlan& col, Datum value, int* len)
{
    if (col.basetype == NAMEOID) {
        const char* s = NameStr(*DatumGetName(value));
        *len = static_cast<int>(strlen(s));
        return s;
    }
    struct varlena* t = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(value)));
    int n = VARSIZE_ANY_EXHDR(t);
    const char* p = VARDATA_ANY(t);
    if (col.canon == Canon::Bpchar)
        while (n > 0 && p[n - 1] == ' ')
            n--;
    *len = n;
    return p;
}

/* Jsonb tolerance value for one column (NULL when none applies). */
JsonbValue* tolerance_value(Jsonb* tolerance, const ColumnPlan& col)
{
    if (!tolerance || !is_number(col.canon))
        return nullptr;
    if (JB_ROOT_IS_SCALAR(tolerance)) {
        JsonbValue* v = static_cast<JsonbValue*>(palloc(sizeof(JsonbValue)));
        return JsonbExtractScalar(&tolerance->root, v) ? v : nullptr;
    }
    if (!JB_ROOT_IS_OBJECT(tolerance))
        return nullptr;
    JsonbValue key;
    key.type = jbvString;
    key.val.string.val = col.name;
    key.val.string.len = static_cast<int>(strlen(col.name));
    return findJsonbValueFromContainer(&tolerance->root, JB_FOBJECT, &key);
}

}  // namespace

void plan_column(ColumnPlan* col, Jsonb* tolerance)
{
    col->basetype = getBaseType(col->typid);
    col->canon = canon_of(col->basetype);
    Oid out;
    bool varlena;
    getTypeOutputInfo(col->typid, &out, &varlena);
    fmgr_info(out, &col->out);
    col->tolerance = 0;
    col->twice_tolerance = 0;
    col->tolerance_text = nullptr;
    if (tolerance && !JB_ROOT_IS_SCALAR(tolerance) && !JB_ROOT_IS_OBJECT(tolerance))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("tolerance must be a number or an object of column names to numbers")));
    JsonbValue* v = tolerance_value(tolerance, *col);
    if (!v)
        return;
    if (v->type != jbvNumeric)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("tolerance for column \"%s\" must be a number", col->name)));
    Datum t = NumericGetDatum(v->val.numeric);
    Datum zero = DirectFunctionCall1(int4_numeric, Int32GetDatum(0));
    int sign = DatumGetInt32(DirectFunctionCall2(numeric_cmp, t, zero));
    if (sign < 0 || numeric_is_nan(v->val.numeric) || numeric_is_inf(v->val.numeric))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("tolerance for column \"%s\" must be a finite number that is not negative", col->name)));
    if (sign == 0)
        return;
    col->tolerance = t;
    col->tolerance_text = DatumGetCString(DirectFunctionCall1(numeric_out, t));
    col->twice_tolerance = DirectFunctionCall2(numeric_add, t, t);
}

void check_tolerance_keys(Jsonb* tolerance, const ColumnPlan* cols, int ncols)
{
    if (!tolerance || !JB_ROOT_IS_OBJECT(tolerance))
        return;
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
            for (int i = 0; i < ncols; i++)
                found |= strcmp(cols[i].name, key) == 0 && is_number(cols[i].canon);
            if (!found)
                ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                                errmsg("tolerance names \"%s\", which is not a numeric column being compared", key)));
        }
    }
}

void append_value(StringInfo buf, const ColumnPlan& col, Datum value, bool isnull, bool bucketed)
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
        append_number(buf, col, value, bucketed);
        return;
    case Canon::Text:
    case Canon::Bpchar: {
        int len;
        const char* p = text_bytes(col, value, &len);
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

void append_raw_value(StringInfo buf, const char* raw)
{
    append_bytes(buf, 'R', raw, static_cast<int>(strlen(raw)));
}

int canonical_length(const char* p)
{
    switch (*p) {
    case 'N': return 1;
    case 'B': return 2;
    case 'D': return 2 + static_cast<int>(strlen(p + 1));
    case 'S':
    case 'A':
    case 'M': return 1 + static_cast<int>(sizeof(int64));
    default: {
        uint32 n;
        memcpy(&n, p + 1, sizeof n);
        return 1 + static_cast<int>(sizeof n) + static_cast<int>(n);
    }
    }
}

bool within_tolerance(const char* a, const char* b, Datum tolerance)
{
    if (tolerance == 0 || a[0] != 'D' || b[0] != 'D')
        return false;
    Datum x = numeric_of(a + 1);
    Datum y = numeric_of(b + 1);
    if (numeric_is_nan(DatumGetNumeric(x)) || numeric_is_nan(DatumGetNumeric(y)) ||
        numeric_is_inf(DatumGetNumeric(x)) || numeric_is_inf(DatumGetNumeric(y)))
        return false;
    Datum diff = DirectFunctionCall1(numeric_abs, DirectFunctionCall2(numeric_sub, x, y));
    return DatumGetInt32(DirectFunctionCall2(numeric_cmp, diff, tolerance)) <= 0;
}

bool values_differ(const char* a, int la, const char* b, int lb, Datum tolerance)
{
    return (la != lb || memcmp(a, b, la) != 0) && !within_tolerance(a, b, tolerance);
}

void append_row_buckets(StringInfo buf, const ColumnPlan* cols, int ncols, const char* row, bool shifted)
{
    for (int i = 0; i < ncols; i++) {
        int len = canonical_length(row);
        Datum v = cols[i].tolerance != 0 && row[0] == 'D' ? numeric_of(row + 1) : 0;
        if (v == 0 || numeric_is_nan(DatumGetNumeric(v)) || numeric_is_inf(DatumGetNumeric(v))) {
            appendBinaryStringInfo(buf, row, len);
        } else {
            if (shifted)
                v = DirectFunctionCall2(numeric_add, v, cols[i].tolerance);
            Datum q = DirectFunctionCall2(numeric_div, v, cols[i].twice_tolerance);
            Datum f = DirectFunctionCall1(numeric_floor, q);
            appendStringInfoChar(buf, 'D');
            appendStringInfoString(buf, DatumGetCString(DirectFunctionCall1(numeric_out, f)));
            appendStringInfoChar(buf, '\0');
        }
        row += len;
    }
}

void sort_by_name(ColumnPlan* cols, int ncols)
{
    std::sort(cols, cols + ncols, [](const ColumnPlan& a, const ColumnPlan& b) { return strcmp(a.name, b.name) < 0; });
}

char* canonical_display(const char* p)
{
    int64 i64;
    uint32 n;
    switch (*p) {
    case 'N': return nullptr;
    case 'D': return pstrdup(p + 1);
    case 'B': return pstrdup(p[1] == '1' ? "true" : "false");
    case 'S':
        memcpy(&i64, p + 1, sizeof i64);
        return DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(i64)));
    case 'A':
        memcpy(&i64, p + 1, sizeof i64);
        return DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(static_cast<DateADT>(i64))));
    case 'M':
        memcpy(&i64, p + 1, sizeof i64);
        return DatumGetCString(DirectFunctionCall1(time_out, TimeADTGetDatum(i64)));
    default:
        break;
    }
    memcpy(&n, p + 1, sizeof n);
    const char* data = p + 1 + sizeof n;
    if (*p == 'X') {
        bytea* b = static_cast<bytea*>(palloc(VARHDRSZ + n));
        SET_VARSIZE(b, VARHDRSZ + n);
        memcpy(VARDATA(b), data, n);
        return DatumGetCString(DirectFunctionCall1(byteaout, PointerGetDatum(b)));
    }
    if (*p == 'U') {
        pg_uuid_t u;
        memcpy(u.data, data, UUID_LEN);
        return DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&u)));
    }
    return pnstrdup(data, n);
}

/* ---- keys --------------------------------------------------------------- */

bool key_supported(Canon c)
{
    switch (c) {
    case Canon::Int:
    case Canon::Text:
    case Canon::Bpchar:
    case Canon::Timestamp:
    case Canon::Date:
    case Canon::Time:
    case Canon::Uuid:
    case Canon::Bool: return true;
    default: return false;
    }
}

namespace {

constexpr char kKeyValue = 0x00;
constexpr char kKeyNull = 0x01; /* after every value: NULLS LAST */
constexpr char kKeyRaw = 0x02;  /* a legacy value that did not convert: after the NULLs */

/* big-endian with the sign bit flipped: memcmp order is numeric order */
void append_ordered_int64(StringInfo buf, int64 v)
{
    uint64 u = static_cast<uint64>(v) ^ (UINT64CONST(1) << 63);
    unsigned char b[8];
    for (int i = 7; i >= 0; i--) {
        b[i] = static_cast<unsigned char>(u & 0xFF);
        u >>= 8;
    }
    appendBinaryStringInfo(buf, reinterpret_cast<char*>(b), 8);
}

int64 read_ordered_int64(const char** p)
{
    uint64 u = 0;
    for (int i = 0; i < 8; i++)
        u = (u << 8) | static_cast<unsigned char>((*p)[i]);
    *p += 8;
    return static_cast<int64>(u ^ (UINT64CONST(1) << 63));
}

}  // namespace

void append_key(StringInfo buf, const ColumnPlan& col, Datum value, bool isnull)
{
    if (isnull) {
        appendStringInfoChar(buf, kKeyNull);
        return;
    }
    appendStringInfoChar(buf, kKeyValue);
    switch (col.canon) {
    case Canon::Int:
        append_ordered_int64(buf, col.basetype == INT8OID   ? DatumGetInt64(value)
                                  : col.basetype == INT4OID ? DatumGetInt32(value)
                                                            : DatumGetInt16(value));
        return;
    case Canon::Timestamp:
    case Canon::Time:
        append_ordered_int64(buf, DatumGetInt64(value));
        return;
    case Canon::Date:
        append_ordered_int64(buf, DatumGetDateADT(value));
        return;
    case Canon::Bool:
        appendStringInfoChar(buf, DatumGetBool(value) ? 1 : 0);
        return;
    case Canon::Uuid:
        appendBinaryStringInfo(buf, reinterpret_cast<const char*>(DatumGetUUIDP(value)->data), UUID_LEN);
        return;
    default: {
        /* text has no NUL byte, so NUL ends it and sorts a prefix first */
        int len;
        const char* p = text_bytes(col, value, &len);
        appendBinaryStringInfo(buf, p, len);
        appendStringInfoChar(buf, '\0');
        return;
    }
    }
}

void append_raw_key(StringInfo buf, const char* raw)
{
    appendStringInfoChar(buf, kKeyRaw);
    appendStringInfoString(buf, raw);
    appendStringInfoChar(buf, '\0');
}

void append_key_json(StringInfo out, const ColumnPlan& col, const char** p)
{
    if (**p == kKeyNull) {
        (*p)++;
        appendStringInfoString(out, "null");
        return;
    }
    if (**p == kKeyRaw) {
        (*p)++;
        escape_json(out, *p);
        *p += strlen(*p) + 1;
        return;
    }
    (*p)++;
    int64 v;
    switch (col.canon) {
    case Canon::Int:
        appendStringInfo(out, INT64_FORMAT, read_ordered_int64(p));
        return;
    case Canon::Timestamp:
        v = read_ordered_int64(p);
        escape_json(out, DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(v))));
        return;
    case Canon::Time:
        v = read_ordered_int64(p);
        escape_json(out, DatumGetCString(DirectFunctionCall1(time_out, TimeADTGetDatum(v))));
        return;
    case Canon::Date:
        v = read_ordered_int64(p);
        escape_json(out, DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(static_cast<DateADT>(v)))));
        return;
    case Canon::Bool:
        appendStringInfoString(out, **p ? "true" : "false");
        (*p)++;
        return;
    case Canon::Uuid: {
        pg_uuid_t u;
        memcpy(u.data, *p, UUID_LEN);
        *p += UUID_LEN;
        escape_json(out, DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&u))));
        return;
    }
    default: {
        size_t len = strlen(*p);
        escape_json(out, *p);
        *p += len + 1;
        return;
    }
    }
}

}  // namespace recio

/*
 * value_convert.cpp: SQLite value -> PostgreSQL Datum, exact and strict.
 *
 * The rules (also in the README's type-mapping table):
 *  - integers: INTEGER must fit the type (22003); REAL must be integral and
 *    fit (22003: a fraction is never silently dropped); TEXT must be integer
 *    syntax (22P02); BLOB is refused (22P03).
 *  - float8: INTEGER must be exactly representable; REAL as is; TEXT parsed
 *    like float8in.  float4 follows PostgreSQL's float8 -> float4 cast and
 *    refuses overflow and underflow.
 *  - numeric: INTEGER exact; REAL through the shortest decimal that
 *    round-trips the double (0.47000000000000003 stays that, 118250.37 stays
 *    that), then the column's typmod rounds it as numeric always does; TEXT
 *    through numeric_in.
 *  - text: TEXT must be valid UTF-8 without NUL bytes (22021); INTEGER and
 *    REAL become their PostgreSQL text form; BLOB is refused.
 *  - varchar(n): as text, then varcharin's length rule (only trailing spaces
 *    may be cut).
 *  - bytea: BLOB and TEXT as bytes; INTEGER and REAL as their text form.
 *  - timestamp/timestamptz: TEXT in the legacy writers' formats (see
 *    parse_timestamp_text), zone-less values read in the column's zone (the
 *    timezone option, default UTC, never the session's TimeZone); INTEGER and
 *    REAL are epoch times in the column's epoch_unit.
 *  - everything else: the type's own input function on the value's text, in
 *    a subtransaction when the caller handles errors (input_compat.h).
 * Nothing here catches a PostgreSQL ERROR and carries on: the converted
 * types are validated by our own parsers, and what they hand to PostgreSQL
 * (numeric_in on text already checked, DetermineTimeZoneOffset) does not
 * raise for data; if it ever did, the PgError would end the statement.
 */
#include "sqlite/value_convert.h"

#include "common/numeric_layout.h"
#include "common/powers_of_ten.h"
#include "sqlite/input_compat.h"

extern "C" {
#include "access/transam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
}

#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstring>

namespace recio {
namespace {

[[noreturn]] void fail(int sqlstate, std::string message)
{
    throw ConversionError(sqlstate, std::move(message));
}

}  // namespace

std::string shown(const char* text)
{
    const size_t kMax = 64;
    size_t len = strlen(text);
    if (!pg_verify_mbstr(PG_UTF8, text, static_cast<int>(len < 4096 ? len : 4096), true)) {
        std::string hex = "\\x";
        for (size_t i = 0; i < len && i < kMax / 2; i++)
            hex += format("%02x", static_cast<unsigned char>(text[i]));
        return len > kMax / 2 ? hex + "..." : hex;
    }
    if (len <= kMax)
        return text;
    size_t n = kMax;
    while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80)
        n--;
    return std::string(text, n) + "...";
}

namespace {

[[noreturn]] void invalid_syntax(const Converter& conv, const char* text)
{
    fail(ERRCODE_INVALID_TEXT_REPRESENTATION,
         format("invalid input syntax for type %s: \"%s\"", conv.type_name, shown(text).c_str()));
}

/* TEXT as a C string for number/bool parsing: an embedded NUL byte is a syntax error, not an end. */
const char* number_source_text(const Converter& conv, sqlite3_value* val)
{
    const char* text = reinterpret_cast<const char*>(sqlite3_value_text(val));
    if (!text)
        throw std::bad_alloc();
    if (strlen(text) != static_cast<size_t>(sqlite3_value_bytes(val)))
        fail(ERRCODE_INVALID_TEXT_REPRESENTATION,
             format("invalid input syntax for type %s: TEXT value contains a NUL byte", conv.type_name));
    return text;
}

[[noreturn]] void blob_refused(const Converter& conv)
{
    fail(ERRCODE_INVALID_BINARY_REPRESENTATION, format("cannot convert a SQLite BLOB to type %s", conv.type_name));
}

/* ---- integers ---------------------------------------------------------- */

void int_range(Target t, int64* min, int64* max)
{
    switch (t) {
    case Target::Int2:
        *min = PG_INT16_MIN;
        *max = PG_INT16_MAX;
        break;
    case Target::Int4:
        *min = PG_INT32_MIN;
        *max = PG_INT32_MAX;
        break;
    default:
        *min = PG_INT64_MIN;
        *max = PG_INT64_MAX;
        break;
    }
}

Datum int_datum(Target t, int64 v)
{
    switch (t) {
    case Target::Int2:
        return Int16GetDatum(static_cast<int16>(v));
    case Target::Int4:
        return Int32GetDatum(static_cast<int32>(v));
    default:
        return Int64GetDatum(v);
    }
}

bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Integer syntax as int8in accepts it: [space][sign]digits[space]. */
bool parse_int64_text(const char* s, int64* out, bool* overflow)
{
    *overflow = false;
    while (is_space(*s))
        s++;
    bool neg = false;
    if (*s == '+' || *s == '-')
        neg = (*s++ == '-');
    if (!isdigit(static_cast<unsigned char>(*s)))
        return false;
    uint64 acc = 0;
    const uint64 limit = neg ? static_cast<uint64>(PG_INT64_MAX) + 1 : static_cast<uint64>(PG_INT64_MAX);
    for (; isdigit(static_cast<unsigned char>(*s)); s++) {
        unsigned d = static_cast<unsigned>(*s - '0');
        if (acc > (limit - d) / 10)
            *overflow = true;
        else
            acc = acc * 10 + d;
    }
    while (is_space(*s))
        s++;
    if (*s != '\0')
        return false;
    if (*overflow)
        return true;
    *out = neg ? static_cast<int64>(0 - acc) : static_cast<int64>(acc);
    return true;
}

Datum convert_int(const Converter& conv, sqlite3_value* val)
{
    int64 min, max, v = 0;
    int_range(conv.target, &min, &max);
    switch (sqlite3_value_type(val)) {
    case SQLITE_INTEGER:
        v = sqlite3_value_int64(val);
        if (v < min || v > max)
            fail(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                 format("value %lld is out of range for type %s", static_cast<long long>(v), conv.type_name));
        break;
    case SQLITE_FLOAT: {
        double d = sqlite3_value_double(val);
        char buf[32];
        if (!std::isfinite(d)) {
            format_double(d, buf);
            fail(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                 format("REAL value %s is out of range for type %s", buf, conv.type_name));
        }
        if (d != std::trunc(d)) {
            format_double(d, buf);
            fail(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                 format("REAL value %s has a fractional part and cannot be stored in type %s without rounding", buf,
                        conv.type_name));
        }
        if (d < static_cast<double>(min) || d >= -static_cast<double>(min)) {
            format_double(d, buf);
            fail(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                 format("value %s is out of range for type %s", buf, conv.type_name));
        }
        v = static_cast<int64>(d);
        if (v > max)
            fail(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                 format("value %lld is out of range for type %s", static_cast<long long>(v), conv.type_name));
        break;
    }
    case SQLITE_TEXT: {
        const char* text = number_source_text(conv, val);
        bool overflow;
        if (!parse_int64_text(text, &v, &overflow))
            invalid_syntax(conv, text);
        if (overflow || v < min || v > max)
            fail(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                 format("value \"%s\" is out of range for type %s", shown(text).c_str(), conv.type_name));
        break;
    }
    default:
        blob_refused(conv);
    }
    return int_datum(conv.target, v);
}

/* ---- floating point ---------------------------------------------------- */

/*
 * Decimal syntax only: [space][sign]digits[.digits][e[sign]digits][space].
 * Hex ("0x10"), "inf" and "nan" texts are refused: SQLite keeps such texts
 * as TEXT in a REAL column and compares them as text, so reading them as
 * numbers would make pushed-down comparisons disagree with local ones.
 */
bool decimal_syntax(const char* s)
{
    while (is_space(*s))
        s++;
    if (*s == '+' || *s == '-')
        s++;
    bool digits_seen = false;
    while (isdigit(static_cast<unsigned char>(*s))) {
        s++;
        digits_seen = true;
    }
    if (*s == '.') {
        s++;
        while (isdigit(static_cast<unsigned char>(*s))) {
            s++;
            digits_seen = true;
        }
    }
    if (!digits_seen)
        return false;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!isdigit(static_cast<unsigned char>(*s)))
            return false;
        while (isdigit(static_cast<unsigned char>(*s)))
            s++;
    }
    while (is_space(*s))
        s++;
    return *s == '\0';
}

double parse_double_text(const Converter& conv, const char* text)
{
    if (!decimal_syntax(text))
        invalid_syntax(conv, text);
    errno = 0;
    double d = strtod(text, nullptr);
    if (errno == ERANGE && (d == 0.0 || std::isinf(d)))
        fail(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
             format("\"%s\" is out of range for type %s", shown(text).c_str(), conv.type_name));
    return d;
}

double source_double(const Converter& conv, sqlite3_value* val)
{
    switch (sqlite3_value_type(val)) {
    case SQLITE_INTEGER: {
        int64 v = sqlite3_value_int64(val);
        double d = static_cast<double>(v);
        /* long double has a 64-bit mantissa on x86-64: the test is exact */
        if (static_cast<long double>(d) != static_cast<long double>(v))
            fail(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                 format("INTEGER value %lld cannot be represented exactly in type %s", static_cast<long long>(v),
                        conv.type_name));
        return d;
    }
    case SQLITE_FLOAT:
        return sqlite3_value_double(val);
    case SQLITE_TEXT:
        return parse_double_text(conv, number_source_text(conv, val));
    default:
        blob_refused(conv);
    }
}

Datum convert_float(const Converter& conv, sqlite3_value* val)
{
    double d = source_double(conv, val);
    if (conv.target == Target::Float8)
        return Float8GetDatum(d);
    if (std::isfinite(d) && (std::fabs(d) > FLT_MAX || (d != 0.0 && static_cast<float>(d) == 0.0f))) {
        char buf[32];
        format_double(d, buf);
        fail(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, format("value %s is out of range for type real", buf));
    }
    return Float4GetDatum(static_cast<float>(d));
}

/* ---- numeric ----------------------------------------------------------- */

/*
 * Fast path: build a numeric Datum directly from an exact scaled integer
 * (value = scaled * 10^-dscale) in numeric's short on-disk format, which is
 * part of PostgreSQL's stable on-disk format (pg_upgrade keeps it).  The
 * result is byte-identical to what numeric_in produces for the same value
 * and display scale; fdw_types checks that on every fixture value.  Returns
 * false when the value does not fit the short format (the caller then takes
 * the numeric_in path).
 */
using numeric_layout::kNbase;
using numeric_layout::kShortDscaleMax;
using numeric_layout::kShortDscaleShift;
using numeric_layout::kShortSign;
using numeric_layout::kShortWeightMask;
using numeric_layout::kShortWeightSign;
using NumericDigit = numeric_layout::Digit;
constexpr uint16 kNumericShort = numeric_layout::kShort;

bool build_numeric(__int128 scaled, int dscale, Datum* out)
{
    if (dscale < 0 || dscale > kShortDscaleMax)
        return false;
    bool neg = scaled < 0;
    unsigned __int128 v = neg ? static_cast<unsigned __int128>(-scaled) : static_cast<unsigned __int128>(scaled);
    int pad = (4 - dscale % 4) % 4;
    for (int i = 0; i < pad; i++)
        if (__builtin_mul_overflow(v, 10, &v))
            return false;
    int frac_digits = (dscale + pad) / 4;
    NumericDigit buf[12];
    int n = 0;
    while (v > UINT64_MAX) { /* rare: 128-bit division only for the high part */
        buf[n++] = static_cast<NumericDigit>(v % kNbase);
        v /= kNbase;
    }
    for (uint64 w = static_cast<uint64>(v); w != 0; w /= kNbase) {
        if (n == 12)
            return false;
        buf[n++] = static_cast<NumericDigit>(w % kNbase);
    }
    int low = 0;
    while (low < n && buf[low] == 0)
        low++;
    int ndigits = n - low;
    int weight = ndigits == 0 ? 0 : n - 1 - frac_digits;
    if (weight < -64 || weight > 63)
        return false;
    Size size = VARHDRSZ + sizeof(uint16) + sizeof(NumericDigit) * ndigits;
    auto* result = static_cast<char*>(pg::alloc(size));
    SET_VARSIZE(result, size);
    uint16 header = kNumericShort | static_cast<uint16>(dscale << kShortDscaleShift) |
                    (weight < 0 ? kShortWeightSign : 0) | (static_cast<uint16>(weight) & kShortWeightMask);
    if (neg && ndigits > 0)
        header |= kShortSign;
    memcpy(result + VARHDRSZ, &header, sizeof header);
    auto* digits_out = reinterpret_cast<NumericDigit*>(result + VARHDRSZ + sizeof header);
    for (int i = 0; i < ndigits; i++)
        digits_out[i] = buf[n - 1 - i];
    *out = PointerGetDatum(result);
    return true;
}

/* numeric typmod -> precision and scale; false when there is none */
bool typmod_scale(int32 typmod, int* precision, int* scale)
{
    if (typmod < static_cast<int32>(VARHDRSZ))
        return false;
    int32 t = typmod - VARHDRSZ;
    *precision = (t >> 16) & 0xFFFF;
    *scale = ((t & 0x7FF) ^ 1024) - 1024; /* PostgreSQL 15 allows negative scales */
    return true;
}

/*
 * The shortest decimal m * 10^-k that reads back as d, when it has at most
 * 15 significant digits (then it is unique: DBL_DIG), found by an exact test:
 * m and 10^k are exact doubles, so m / 10^k is correctly rounded.
 */
bool shortest_decimal(double d, int64* m, int* k)
{
    if (!std::isfinite(d) || std::fabs(d) >= 1e15)
        return false;
    for (int i = 0; i <= 15; i++) {
        double t = d * kPow10Double[i];
        if (std::fabs(t) >= 1e15)
            return false;
        double r = std::nearbyint(t);
        if (r / kPow10Double[i] == d) {
            *m = static_cast<int64>(r);
            *k = i;
            return true;
        }
    }
    return false;
}

/* m * 10^-k as numeric(precision, scale) (or unconstrained), if exact and in range. */
bool scaled_numeric(const Converter& conv, __int128 m, int k, Datum* out)
{
    if (!conv.has_scale) {
        if (conv.typmod >= static_cast<int32>(VARHDRSZ))
            return false; /* a typmod the fast path does not handle (negative scale, p > 34) */
        return build_numeric(m, k < 0 ? 0 : k, out);
    }
    int scale = conv.numeric_scale;
    __int128 scaled = m;
    if (k <= scale) {
        for (int i = k; i < scale; i++)
            if (__builtin_mul_overflow(scaled, 10, &scaled))
                return false;
    } else {
        int drop = k - scale;
        if (drop > 18)
            return false;
        __int128 div = kPow10[drop];
        __int128 q = scaled / div, r = scaled % div;
        if (2 * (r < 0 ? -r : r) >= div) /* half away from zero, as numeric rounds */
            q += scaled < 0 ? -1 : 1;
        scaled = q;
    }
    __int128 limit = 1; /* 10^precision; precision <= 34 keeps it and 1000x it in 128 bits */
    for (int i = 0; i < conv.numeric_precision; i++)
        limit *= 10;
    if ((scaled < 0 ? -scaled : scaled) >= limit)
        return false; /* overflow: numeric_in raises PostgreSQL's own error */
    return build_numeric(scaled, scale, out);
}

/*
 * REAL into numeric: for numeric(p,s), a double that is exactly a decimal
 * with s fraction digits (prices with cents) needs one test; otherwise the
 * shortest round-trip decimal is found and rounded to the scale.
 */
bool real_numeric(const Converter& conv, double d, Datum* out)
{
    if (conv.has_scale && conv.numeric_scale <= 15 && std::isfinite(d)) {
        double t = std::nearbyint(d * kPow10Double[conv.numeric_scale]);
        /* at most 15 digits: the unique short decimal that reads back as d */
        if (std::fabs(t) < 1e15 && t / kPow10Double[conv.numeric_scale] == d)
            return scaled_numeric(conv, static_cast<int64>(t), conv.numeric_scale, out);
    }
    int64 m;
    int k;
    return shortest_decimal(d, &m, &k) && scaled_numeric(conv, m, k, out);
}

void check_utf8(const char* s, int len);
Datum input_call(const Converter& conv, const char* text);

enum class Verdict { Ok, Unsure };

/*
 * What numeric_in will say about text, decided without calling it: throws
 * the ConversionError numeric_in would raise (syntax, numeric field
 * overflow), returns Ok when numeric_in accepts it, Unsure for the rare
 * texts this does not model (NaN and infinities, exponents beyond +-1000,
 * texts over 1000 bytes, a carry that may reach the precision, typmods the
 * fast path does not decode): those go to the input function under the
 * subtransaction rules.  The grammar is set_var_from_str's: [sign] then
 * digits with at most one point (at least one digit), then [e[sign]digits].
 */
Verdict numeric_verdict(const Converter& conv, const char* text)
{
    const char* s = text;
    while (isspace(static_cast<unsigned char>(*s)))
        s++;
    const char* body = s;
    if (*s == '+' || *s == '-')
        s++;
    if (!isdigit(static_cast<unsigned char>(*s)) &&
        !(*s == '.' && isdigit(static_cast<unsigned char>(s[1])))) {
        char c = static_cast<char>(tolower(static_cast<unsigned char>(*s)));
        if (c == 'n' || c == 'i')
            return Verdict::Unsure; /* NaN, Infinity, inf */
        fail(ERRCODE_INVALID_TEXT_REPRESENTATION,
             format("invalid input syntax for type numeric: \"%s\"", shown(text).c_str()));
    }
    int int_digits = 0; /* significant digits before the point */
    bool all_nines = true;
    bool seen_point = false;
    for (; isdigit(static_cast<unsigned char>(*s)) || *s == '.'; s++) {
        if (*s == '.') {
            if (seen_point)
                fail(ERRCODE_INVALID_TEXT_REPRESENTATION,
                     format("invalid input syntax for type numeric: \"%s\"", shown(text).c_str()));
            seen_point = true;
        } else if (!seen_point && (int_digits > 0 || *s != '0')) {
            int_digits++;
            all_nines &= *s == '9';
        }
    }
    if (*s == 'e' || *s == 'E')
        return Verdict::Unsure; /* exponents shift the digits: numeric_in decides */
    while (isspace(static_cast<unsigned char>(*s)))
        s++;
    if (*s != '\0')
        fail(ERRCODE_INVALID_TEXT_REPRESENTATION,
             format("invalid input syntax for type numeric: \"%s\"", shown(text).c_str()));
    if (s - body > 1000)
        return Verdict::Unsure;
    if (conv.typmod < static_cast<int32>(VARHDRSZ))
        return Verdict::Ok;
    if (!conv.has_scale)
        return Verdict::Unsure;
    int room = conv.numeric_precision - conv.numeric_scale;
    if (int_digits > room)
        fail(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "numeric field overflow");
    if (int_digits == room && all_nines)
        return Verdict::Unsure; /* 99.96 in numeric(3,1) rounds up to 100.0 */
    return Verdict::Ok;
}

Datum numeric_from_text(const Converter& conv, const char* text)
{
    if (numeric_verdict(conv, text) == Verdict::Unsure)
        return input_call(conv, text);
    const FmgrInfo* input = &conv.input;
    Oid ioparam = conv.typioparam;
    int32 typmod = conv.typmod;
    return pg::call(
        [&] { return InputFunctionCall(const_cast<FmgrInfo*>(input), const_cast<char*>(text), ioparam, typmod); });
}

Datum convert_numeric(const Converter& conv, sqlite3_value* val)
{
    char buf[40];
    Datum fast;
    switch (sqlite3_value_type(val)) {
    case SQLITE_INTEGER: {
        int64 v = sqlite3_value_int64(val);
        if (scaled_numeric(conv, v, 0, &fast))
            return fast;
        snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
        return numeric_from_text(conv, buf);
    }
    case SQLITE_FLOAT: {
        double d = sqlite3_value_double(val);
        if (real_numeric(conv, d, &fast))
            return fast;
        format_double(d, buf);
        return numeric_from_text(conv, buf);
    }
    case SQLITE_TEXT: {
        const char* text = number_source_text(conv, val);
        check_utf8(text, sqlite3_value_bytes(val));
        return numeric_from_text(conv, text);
    }
    default:
        blob_refused(conv);
    }
}

/* ---- text and bytea ---------------------------------------------------- */

text* make_varlena(const char* data, size_t len)
{
    if (len > MaxAllocSize - VARHDRSZ)
        fail(ERRCODE_PROGRAM_LIMIT_EXCEEDED,
             format("value of %zu bytes is too long for PostgreSQL (the limit is 1 GB)", len));
    auto* result = static_cast<text*>(pg::alloc(len + VARHDRSZ));
    SET_VARSIZE(result, len + VARHDRSZ);
    memcpy(VARDATA(result), data, len);
    return result;
}

void check_utf8(const char* s, int len)
{
    if (memchr(s, '\0', static_cast<size_t>(len)))
        fail(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
             "SQLite TEXT value contains a NUL byte, which PostgreSQL text cannot store");
    /* pg_verify_mbstr with noError=true reports instead of raising. */
    if (!pg_verify_mbstr(PG_UTF8, s, len, true))
        fail(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE, "invalid byte sequence for encoding \"UTF8\" in a SQLite TEXT value");
}

/*
 * Valid UTF-8 in the database encoding, NUL-terminated.  The conversion runs
 * with noError: a character the encoding lacks is a ConversionError, not a
 * caught ERROR.
 */
const char* to_server(const Converter& conv, const char* s, int len, int* out_len)
{
    *out_len = len;
    if (!OidIsValid(conv.to_server_proc))
        return s;
    Size cap = static_cast<Size>(len) * MAX_CONVERSION_GROWTH + 1;
    if (cap > MaxAllocSize)
        fail(ERRCODE_PROGRAM_LIMIT_EXCEEDED,
             format("value of %d bytes is too long to convert to encoding \"%s\"", len, GetDatabaseEncodingName()));
    auto* dest = static_cast<unsigned char*>(pg::alloc(cap));
    Oid proc = conv.to_server_proc;
    int enc = GetDatabaseEncoding();
    auto* src = reinterpret_cast<unsigned char*>(const_cast<char*>(s));
    int done = pg::call(
        [&] { return pg_do_encoding_conversion_buf(proc, PG_UTF8, enc, src, len, dest, static_cast<int>(cap), true); });
    if (done < len)
        fail(ERRCODE_UNTRANSLATABLE_CHARACTER,
             format("a character of the SQLite TEXT value has no equivalent in encoding \"%s\"",
                    GetDatabaseEncodingName()));
    *out_len = static_cast<int>(strlen(reinterpret_cast<char*>(dest)));
    return reinterpret_cast<char*>(dest);
}

/* The TEXT value in the server's encoding (UTF-8 checked either way). */
Datum text_datum(const Converter& conv, const char* s, int len)
{
    check_utf8(s, len);
    int n;
    const char* server = to_server(conv, s, len, &n);
    return PointerGetDatum(make_varlena(server, static_cast<size_t>(n)));
}

/* INTEGER and REAL as PostgreSQL prints them; false for TEXT/BLOB. */
bool number_text(sqlite3_value* val, char* buf, size_t cap)
{
    switch (sqlite3_value_type(val)) {
    case SQLITE_INTEGER:
        snprintf(buf, cap, "%lld", static_cast<long long>(sqlite3_value_int64(val)));
        return true;
    case SQLITE_FLOAT:
        format_double(sqlite3_value_double(val), buf);
        return true;
    default:
        return false;
    }
}

Datum convert_text(const Converter& conv, sqlite3_value* val)
{
    char buf[40];
    if (number_text(val, buf, sizeof buf))
        return PointerGetDatum(make_varlena(buf, strlen(buf)));
    if (sqlite3_value_type(val) == SQLITE_BLOB)
        blob_refused(conv);
    const char* s = reinterpret_cast<const char*>(sqlite3_value_text(val));
    if (!s)
        throw std::bad_alloc();
    return text_datum(conv, s, sqlite3_value_bytes(val));
}

/* varchar(n) as varcharin makes it: longer values may only lose trailing spaces (22001 otherwise) */
Datum convert_varchar(const Converter& conv, sqlite3_value* val)
{
    Datum d = convert_text(conv, val);
    if (conv.typmod < static_cast<int32>(VARHDRSZ))
        return d;
    auto* t = reinterpret_cast<text*>(DatumGetPointer(d)); /* ours: a 4-byte header, server encoding */
    int maxlen = conv.typmod - static_cast<int32>(VARHDRSZ);
    int len = static_cast<int>(VARSIZE(t) - VARHDRSZ);
    if (len <= maxlen)
        return d;
    const char* data = VARDATA(t);
    int clip = pg_mbcharcliplen(data, len, maxlen); /* valid text: does not raise */
    for (int i = clip; i < len; i++)
        if (data[i] != ' ')
            fail(ERRCODE_STRING_DATA_RIGHT_TRUNCATION, format("value too long for type character varying(%d)", maxlen));
    SET_VARSIZE(t, clip + VARHDRSZ);
    return d;
}

Datum convert_bytea(sqlite3_value* val)
{
    char buf[40];
    if (number_text(val, buf, sizeof buf))
        return PointerGetDatum(make_varlena(buf, strlen(buf)));
    const void* p = sqlite3_value_type(val) == SQLITE_BLOB ? sqlite3_value_blob(val) : sqlite3_value_text(val);
    int len = sqlite3_value_bytes(val);
    if (!p && len > 0)
        throw std::bad_alloc();
    return PointerGetDatum(make_varlena(static_cast<const char*>(p), static_cast<size_t>(len)));
}

/* ---- boolean ----------------------------------------------------------- */

Datum convert_bool(const Converter& conv, sqlite3_value* val)
{
    switch (sqlite3_value_type(val)) {
    case SQLITE_INTEGER:
    case SQLITE_FLOAT: {
        double d = sqlite3_value_double(val);
        if (d == 0.0 || d == 1.0)
            return BoolGetDatum(d == 1.0);
        char buf[40];
        number_text(val, buf, sizeof buf);
        invalid_syntax(conv, buf);
    }
    case SQLITE_TEXT: {
        const char* s = number_source_text(conv, val);
        const char* start = s;
        while (is_space(*start))
            start++;
        size_t len = strlen(start);
        while (len > 0 && is_space(start[len - 1]))
            len--;
        bool result;
        if (!parse_bool_with_len(start, len, &result))
            invalid_syntax(conv, s);
        return BoolGetDatum(result);
    }
    default:
        blob_refused(conv);
    }
}

/* ---- dates and times --------------------------------------------------- */

int digits(const char* s, int n, int* out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit(static_cast<unsigned char>(s[i])))
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return n;
}

int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

[[noreturn]] void datetime_out_of_range(const Converter& conv, const char* text)
{
    fail(ERRCODE_DATETIME_FIELD_OVERFLOW,
         format("date/time field value out of range for type %s: \"%s\"", conv.type_name, shown(text).c_str()));
}

[[noreturn]] void datetime_syntax(const Converter& conv, const char* text)
{
    fail(ERRCODE_INVALID_DATETIME_FORMAT,
         format("invalid input syntax for type %s: \"%s\"", conv.type_name, shown(text).c_str()));
}

}  // namespace

bool timestamp_fields_valid(const ParsedTimestamp& p)
{
    return p.year >= 1 && p.month >= 1 && p.month <= 12 && p.day >= 1 && p.day <= days_in_month(p.year, p.month) &&
           p.hour <= 23 && p.minute <= 59 && p.second <= 59;
}

namespace {

/* Local wall-clock fields -> microseconds since 2000-01-01 00:00 of that clock. */
int64 wall_clock_usecs(const ParsedTimestamp& p)
{
    int64 days = date2j(p.year, p.month, p.day) - POSTGRES_EPOCH_JDATE;
    int64 secs = (static_cast<int64>(p.hour) * 60 + p.minute) * 60 + p.second;
    return days * USECS_PER_DAY + secs * USECS_PER_SEC + p.usec;
}

/* Offset (seconds west of UTC, PostgreSQL's convention) of a local time in tz. */
int zone_offset_west(const ParsedTimestamp& p, pg_tz* tz)
{
    struct pg_tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = p.year;
    tm.tm_mon = p.month;
    tm.tm_mday = p.day;
    tm.tm_hour = p.hour;
    tm.tm_min = p.minute;
    tm.tm_sec = p.second;
    return pg::call([&] { return DetermineTimeZoneOffset(&tm, tz); });
}

/* Instant (UTC usecs since 2000) -> wall clock in tz (for timestamp columns). */
int64 instant_to_wall_clock(const Converter& conv, int64 instant)
{
    if (conv.tz_is_utc)
        return instant;
    pg_tz* tz = conv.tz;
    Timestamp local = 0;
    /* both report a range error by their result: nothing is raised for data */
    bool ok = pg::call([&] {
        struct pg_tm tm;
        fsec_t fsec;
        int offset;
        return timestamp2tm(instant, &offset, &tm, &fsec, NULL, tz) == 0 && tm2timestamp(&tm, fsec, NULL, &local) == 0;
    });
    if (!ok)
        fail(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE, "timestamp out of range");
    return local;
}

}  // namespace

bool wall_clock_exists(const ParsedTimestamp& p, pg_tz* tz)
{
    int64 wall = wall_clock_usecs(p);
    int64 instant = wall + static_cast<int64>(zone_offset_west(p, tz)) * USECS_PER_SEC;
    return pg::call([&] {
        struct pg_tm tm;
        fsec_t fsec;
        int offset;
        return timestamp2tm(instant, &offset, &tm, &fsec, NULL, tz) == 0 && tm.tm_year == p.year &&
               tm.tm_mon == p.month && tm.tm_mday == p.day && tm.tm_hour == p.hour && tm.tm_min == p.minute &&
               tm.tm_sec == p.second;
    });
}

namespace {

int64 epoch_to_instant(const Converter& conv, sqlite3_value* val)
{
    static const int64 kPerUnit[] = {USECS_PER_SEC, 1000, 1};
    const int64 per = kPerUnit[static_cast<int>(conv.epoch_unit)];
    const int64 shift = (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
    int64 ts = 0;
    bool overflow;
    if (sqlite3_value_type(val) == SQLITE_INTEGER) {
        /* shifted to PostgreSQL's epoch in the value's own unit first: the instants after 294247 AD
         * are more than INT64_MAX microseconds after 1970 but still valid timestamps */
        int64 since_2000;
        overflow = __builtin_sub_overflow(sqlite3_value_int64(val), shift / per, &since_2000) ||
                   __builtin_mul_overflow(since_2000, per, &ts);
    } else {
        double d = std::rint(sqlite3_value_double(val) * static_cast<double>(per));
        overflow = !(std::isfinite(d) && std::fabs(d) < 9.2e18) ||
                   __builtin_sub_overflow(static_cast<int64>(d), shift, &ts);
    }
    /* a flag, not a sentinel: INT64_MAX microseconds is a valid epoch (294247-01-10) */
    if (overflow || !IS_VALID_TIMESTAMP(ts)) {
        char buf[40];
        number_text(val, buf, sizeof buf);
        fail(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE, format("epoch value %s (unit %s) is out of range for type %s", buf,
                                                         conv.epoch_unit == EpochUnit::Seconds  ? "s"
                                                         : conv.epoch_unit == EpochUnit::Millis ? "ms"
                                                                                                : "us",
                                                         conv.type_name));
    }
    return ts;
}

Datum convert_timestamp(const Converter& conv, sqlite3_value* val)
{
    bool with_zone = conv.target == Target::TimestampTz;
    int type = sqlite3_value_type(val);
    if (type == SQLITE_BLOB)
        blob_refused(conv);
    if (type != SQLITE_TEXT) {
        int64 instant = epoch_to_instant(conv, val);
        return with_zone ? TimestampTzGetDatum(instant) : TimestampGetDatum(instant_to_wall_clock(conv, instant));
    }
    const char* text = reinterpret_cast<const char*>(sqlite3_value_text(val));
    ParsedTimestamp p;
    if (!parse_timestamp_text(text, sqlite3_value_bytes(val), p))
        datetime_syntax(conv, text);
    if (!timestamp_fields_valid(p))
        datetime_out_of_range(conv, text);
    int64 wall = wall_clock_usecs(p);
    int64 result;
    if (p.has_zone) {
        int64 instant = wall - static_cast<int64>(p.zone_seconds) * USECS_PER_SEC;
        result = with_zone ? instant : instant_to_wall_clock(conv, instant);
    } else if (with_zone && !conv.tz_is_utc) {
        result = wall + static_cast<int64>(zone_offset_west(p, conv.tz)) * USECS_PER_SEC;
    } else {
        result = wall;
    }
    if (!IS_VALID_TIMESTAMP(result))
        fail(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE, format("timestamp out of range: \"%s\"", shown(text).c_str()));
    return with_zone ? TimestampTzGetDatum(result) : TimestampGetDatum(result);
}

/* dates and times are only ever TEXT in SQLite: anything else is refused */
const char* require_text(const Converter& conv, sqlite3_value* val)
{
    if (sqlite3_value_type(val) == SQLITE_TEXT)
        return reinterpret_cast<const char*>(sqlite3_value_text(val));
    if (sqlite3_value_type(val) == SQLITE_BLOB)
        blob_refused(conv);
    char buf[40];
    number_text(val, buf, sizeof buf);
    datetime_syntax(conv, buf);
}

Datum convert_date(const Converter& conv, sqlite3_value* val)
{
    const char* text = require_text(conv, val);
    ParsedTimestamp p;
    if (!parse_timestamp_text(text, sqlite3_value_bytes(val), p) || p.has_time || p.has_zone)
        datetime_syntax(conv, text);
    if (!timestamp_fields_valid(p))
        datetime_out_of_range(conv, text);
    return DateADTGetDatum(static_cast<DateADT>(date2j(p.year, p.month, p.day) - POSTGRES_EPOCH_JDATE));
}

/* 'HH:MM[:SS[.f]]' -> time */
Datum convert_time(const Converter& conv, sqlite3_value* val)
{
    const char* text = require_text(conv, val);
    int len = sqlite3_value_bytes(val);
    /* Reuse the timestamp parser on a fixed date prefix. */
    char buf[64];
    if (len > 40)
        datetime_syntax(conv, text);
    snprintf(buf, sizeof buf, "2000-01-01 %.*s", len, text);
    ParsedTimestamp p;
    if (!parse_timestamp_text(buf, static_cast<int>(strlen(buf)), p) || !p.has_time || p.has_zone)
        datetime_syntax(conv, text);
    if (!timestamp_fields_valid(p))
        datetime_out_of_range(conv, text);
    int64 usecs = ((static_cast<int64>(p.hour) * 60 + p.minute) * 60 + p.second) * USECS_PER_SEC + p.usec;
    /* at most 24:00:00 (23:59:59.9999995 rounded), which time_in accepts too */
    return TimeADTGetDatum(usecs);
}

/* ---- everything else: the type's own input function ------------------- */

/* A data exception, or (checking a domain) a constraint violation: the value's fault, handled by the policy. */
bool value_error(const ErrorData* e, bool constraint_too)
{
    int category = ERRCODE_TO_CATEGORY(e->sqlerrcode);
    return category == ERRCODE_DATA_EXCEPTION ||
           (constraint_too && category == ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION);
}

/* A rolled-back ERROR as the value's ConversionError, or (any other ERROR) re-thrown to end the statement. */
[[noreturn]] void failed_after_rollback(ErrorData* e, bool constraint_too)
{
    if (!value_error(e, constraint_too))
        throw PgError(e);
    fail(e->sqlerrcode, e->message ? e->message : "invalid input value");
}

/*
 * The type's input function on text.  When errors are handled it runs where
 * its ERROR is rolled back (compat::soft_input); otherwise an ERROR is a
 * PgError that ends the statement (convert_row adds where the value was).
 */
Datum input_call(const Converter& conv, const char* text)
{
    auto* input = const_cast<FmgrInfo*>(&conv.input);
    auto* str = const_cast<char*>(text);
    Oid ioparam = conv.typioparam;
    int32 typmod = conv.typmod;
    if (!conv.errors_handled)
        return pg::call([&] { return InputFunctionCall(input, str, ioparam, typmod); });
    Datum result = 0;
    if (ErrorData* e = compat::soft_input(input, str, ioparam, typmod, &result))
        failed_after_rollback(e, false);
    return result;
}

Datum convert_generic(const Converter& conv, sqlite3_value* val)
{
    char buf[40];
    const char* text;
    if (number_text(val, buf, sizeof buf)) {
        text = buf;
    } else if (sqlite3_value_type(val) == SQLITE_BLOB) {
        blob_refused(conv);
    } else {
        text = reinterpret_cast<const char*>(sqlite3_value_text(val));
        int len = sqlite3_value_bytes(val);
        check_utf8(text, len);
        text = to_server(conv, text, len, &len);
    }
    return input_call(conv, text);
}

Target target_for(Oid typid)
{
    switch (typid) {
    case INT2OID:
        return Target::Int2;
    case INT4OID:
        return Target::Int4;
    case INT8OID:
        return Target::Int8;
    case FLOAT4OID:
        return Target::Float4;
    case FLOAT8OID:
        return Target::Float8;
    case NUMERICOID:
        return Target::Numeric;
    case TEXTOID:
        return Target::Text;
    case VARCHAROID:
        return Target::Varchar;
    case BYTEAOID:
        return Target::Bytea;
    case BOOLOID:
        return Target::Bool;
    case DATEOID:
        return Target::Date;
    case TIMEOID:
        return Target::Time;
    case TIMESTAMPOID:
        return Target::Timestamp;
    case TIMESTAMPTZOID:
        return Target::TimestampTz;
    default:
        return Target::Generic;
    }
}

}  // namespace

/*
 * Legacy timestamp texts:
 *   YYYY-MM-DD
 *   YYYY-MM-DD{ |T}HH:MM[:SS[.f...]]        up to 9 fraction digits, rounded to us
 *   ... followed by Z, z, +hh, +hhmm or +hh:mm (also -), optionally after one space
 * Anything else is a syntax error: no guessing of day/month order.
 */
bool parse_timestamp_text(const char* s, int len, ParsedTimestamp& out)
{
    memset(&out, 0, sizeof out);
    int i = 0;
    auto need = [&](int n) { return i + n <= len; };
    if (!need(10) || !digits(s, 4, &out.year) || s[4] != '-' || !digits(s + 5, 2, &out.month) || s[7] != '-' ||
        !digits(s + 8, 2, &out.day))
        return false;
    i = 10;
    if (i == len)
        return true;
    if (s[i] != ' ' && s[i] != 'T' && s[i] != 't')
        return false;
    i++;
    if (!need(5) || !digits(s + i, 2, &out.hour) || s[i + 2] != ':' || !digits(s + i + 3, 2, &out.minute))
        return false;
    out.has_time = true;
    i += 5;
    if (i < len && s[i] == ':') {
        if (!need(3) || !digits(s + i + 1, 2, &out.second))
            return false;
        i += 3;
        if (i < len && s[i] == '.') {
            i++;
            int start = i;
            int64 frac = 0;
            int n = 0;
            while (i < len && isdigit(static_cast<unsigned char>(s[i]))) {
                if (n < 6)
                    frac = frac * 10 + (s[i] - '0');
                n++;
                i++;
            }
            if (i == start || n > 9)
                return false;
            for (int k = n; k < 6; k++)
                frac *= 10;
            out.usec = frac;
            if (n > 6) {
                /* rounded as PostgreSQL's own input rounds (rint of the fraction read as a double:
                 * .0000005 -> 0, .0000015 -> 2), so the same text gives the same microsecond */
                char frac_text[12] = ".";
                memcpy(frac_text + 1, s + start, static_cast<size_t>(n));
                out.usec = static_cast<int64>(std::rint(strtod(frac_text, nullptr) * USECS_PER_SEC));
            }
        }
    }
    if (i == len)
        return true;
    if (s[i] == ' ' && i + 1 < len)
        i++;
    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
        out.has_zone = true;
        return true;
    }
    if (s[i] != '+' && s[i] != '-')
        return false;
    int sign = s[i] == '-' ? -1 : 1;
    i++;
    int hh = 0, mm = 0;
    if (!need(2) || !digits(s + i, 2, &hh))
        return false;
    i += 2;
    if (i < len && s[i] == ':')
        i++;
    if (i < len) {
        if (!need(2) || !digits(s + i, 2, &mm))
            return false;
        i += 2;
    }
    if (i != len || hh > 15 || mm > 59)
        return false;
    out.has_zone = true;
    out.zone_seconds = sign * (hh * 3600 + mm * 60);
    return true;
}

int format_double(double v, char* buf)
{
    if (std::isinf(v))
        return snprintf(buf, 32, "%s", v > 0 ? "Infinity" : "-Infinity");
    if (std::isnan(v))
        return snprintf(buf, 32, "NaN");
    return double_to_shortest_decimal_buf(v, buf);
}

const char* storage_class_name(int sqlite_type)
{
    switch (sqlite_type) {
    case SQLITE_INTEGER:
        return "INTEGER";
    case SQLITE_FLOAT:
        return "REAL";
    case SQLITE_TEXT:
        return "TEXT";
    case SQLITE_BLOB:
        return "BLOB";
    default:
        return "NULL";
    }
}

std::string describe_value(sqlite3_stmt* stmt, int col)
{
    const int kMax = 60;
    char buf[40];
    int type = sqlite3_column_type(stmt, col);
    if (number_text(sqlite3_column_value(stmt, col), buf, sizeof buf))
        return buf;
    if (type == SQLITE_NULL)
        return "NULL";
    const auto* p = static_cast<const unsigned char*>(type == SQLITE_BLOB ? sqlite3_column_blob(stmt, col)
                                                                          : sqlite3_column_text(stmt, col));
    int len = sqlite3_column_bytes(stmt, col);
    bool printable = type == SQLITE_TEXT && p && pg_verify_mbstr(PG_UTF8, reinterpret_cast<const char*>(p), len, true);
    std::string out;
    if (printable) {
        int n = len;
        if (n > kMax) {
            n = kMax;
            while (n > 0 && (p[n] & 0xC0) == 0x80)
                n--;
        }
        out = "'";
        for (int i = 0; i < n; i++) {
            if (p[i] == '\'')
                out += '\'';
            out += static_cast<char>(p[i]);
        }
        out += "'";
        if (n < len)
            out += format("... (%d bytes)", len);
    } else {
        out = "x'";
        int n = len < kMax / 2 ? len : kMax / 2;
        for (int i = 0; i < n; i++)
            out += format("%02x", p[i]);
        out += "'";
        if (n < len)
            out += format("... (%d bytes)", len);
    }
    return out;
}

char* raw_text(sqlite3_stmt* stmt, int col)
{
    char buf[40];
    if (number_text(sqlite3_column_value(stmt, col), buf, sizeof buf))
        return pg::strdup(buf);
    if (sqlite3_column_type(stmt, col) == SQLITE_TEXT) {
        const char* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
        int len = sqlite3_column_bytes(stmt, col);
        if (p && pg_verify_mbstr(PG_UTF8, p, len, true))
            return pg::call([&] { return pnstrdup(p, len); });
    }
    return pg::strdup(describe_value(stmt, col).c_str());
}

void plan_converter(Converter& conv, Oid typid, int32 typmod, const ValueRules& rules)
{
    memset(&conv, 0, sizeof conv);
    pg::call([&] {
        int32 base_typmod = typmod;
        Oid base = getBaseTypeAndTypmod(typid, &base_typmod);
        conv.typid = base;
        conv.typmod = base_typmod;
        conv.domain_typid = base != typid ? typid : InvalidOid;
        conv.domain_cxt = CurrentMemoryContext;
        int enc = GetDatabaseEncoding();
        conv.to_server_proc = enc == PG_UTF8 || enc == PG_SQL_ASCII ? InvalidOid : FindDefaultConversionProc(PG_UTF8, enc);
        if (enc != PG_UTF8 && enc != PG_SQL_ASCII && !OidIsValid(conv.to_server_proc))
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION),
                            errmsg("no conversion from UTF8 to encoding \"%s\"", GetDatabaseEncodingName())));
        conv.type_name = format_type_with_typemod(typid, typmod);
        Oid infunc;
        getTypeInputInfo(base, &infunc, &conv.typioparam);
        fmgr_info(infunc, &conv.input);
    });
    conv.target = target_for(conv.typid);
    int precision, scale;
    if (conv.target == Target::Numeric && typmod_scale(conv.typmod, &precision, &scale) && scale >= 0 &&
        scale <= precision && precision <= 34) {
        conv.has_scale = true;
        conv.numeric_scale = scale;
        conv.numeric_precision = precision;
    }
    /* varchar(n) is applied by convert_varchar, numeric(p,s) by convert_numeric, bpchar(n) by its input function */
    conv.has_declared_rules =
        OidIsValid(conv.domain_typid) ||
        (conv.typmod >= 0 &&
         (conv.target == Target::Timestamp || conv.target == Target::TimestampTz || conv.target == Target::Time));
    conv.errors_handled = rules.errors_handled;
    conv.epoch_unit = rules.epoch_unit;
    conv.tz_name = rules.tz_name ? rules.tz_name : "UTC";
    conv.tz = rules.tz;
    conv.tz_is_utc = !rules.tz || pg_strcasecmp(conv.tz_name, "UTC") == 0;
}

namespace {

Datum convert_base(const Converter& conv, sqlite3_value* val)
{
    switch (conv.target) {
    case Target::Int2:
    case Target::Int4:
    case Target::Int8:
        return convert_int(conv, val);
    case Target::Float4:
    case Target::Float8:
        return convert_float(conv, val);
    case Target::Numeric:
        return convert_numeric(conv, val);
    case Target::Text:
        return convert_text(conv, val);
    case Target::Varchar:
        return convert_varchar(conv, val);
    case Target::Bytea:
        return convert_bytea(val);
    case Target::Bool:
        return convert_bool(conv, val);
    case Target::Date:
        return convert_date(conv, val);
    case Target::Time:
        return convert_time(conv, val);
    case Target::Timestamp:
    case Target::TimestampTz:
        return convert_timestamp(conv, val);
    case Target::Generic:
        return convert_generic(conv, val);
    }
    return convert_generic(conv, val);
}

/* The declared type's own rules beyond the base type: precision of times, domain constraints. */
Datum apply_declared_type(const Converter& conv, Datum value, bool isnull)
{
    if (!isnull && conv.typmod >= 0 && (conv.target == Target::Timestamp || conv.target == Target::TimestampTz)) {
        Timestamp ts = DatumGetTimestamp(value);
        if (!compat::adjust_timestamp_typmod(&ts, conv.typmod))
            fail(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE, "timestamp out of range");
        value = TimestampGetDatum(ts);
    } else if (!isnull && conv.typmod >= 0 && conv.target == Target::Time) {
        TimeADT t = DatumGetTimeADT(value);
        int32 typmod = conv.typmod;
        pg::call([&] { AdjustTimeForTypmod(&t, typmod); });
        value = TimeADTGetDatum(t);
    }
    if (OidIsValid(conv.domain_typid)) {
        auto& mut = const_cast<Converter&>(conv); /* domain_check caches in domain_extra (in domain_cxt) */
        auto check = [&] { domain_check(value, isnull, mut.domain_typid, &mut.domain_extra, mut.domain_cxt); };
        if (!conv.errors_handled)
            pg::call(check);
        else if (ErrorData* e = compat::in_subtransaction(check)) /* CHECK expressions may call any function */
            failed_after_rollback(e, true);
    }
    return value;
}

}  // namespace

Datum convert(const Converter& conv, sqlite3_stmt* stmt, int col, bool* isnull)
{
    /* One column fetch per value; sqlite3_value_* on it avoids the per-call
     * bookkeeping of sqlite3_column_* (the connection is single-threaded). */
    sqlite3_value* val = sqlite3_column_value(stmt, col);
    *isnull = sqlite3_value_type(val) == SQLITE_NULL;
    Datum value = *isnull ? Datum(0) : convert_base(conv, val);
    if (!conv.has_declared_rules)
        return value;
    return apply_declared_type(conv, value, *isnull);
}

namespace {

/* out of convert_row's loop: no std::string is made per value when nothing is refused */
void refuse_or_not(const BadValuePolicy& policy, int col)
{
    int sqlstate;
    std::string message;
    if (policy.refuse(policy.arg, col, &sqlstate, &message))
        throw ConversionError(sqlstate, message);
}

}  // namespace

bool convert_row(const ColumnConversion* cols, int ncols, sqlite3_stmt* stmt, Datum* values, bool* nulls,
                 const BadValuePolicy& policy)
{
    bool keep = true;
    for (int i = 0; i < ncols; i++) {
        const ColumnConversion& c = cols[i];
        bool* isnull = &nulls[c.index];
        BadValueAction action;
        try {
            if (policy.refuse)
                refuse_or_not(policy, i);
            values[c.index] = convert(c.conv, stmt, c.result_col, isnull);
            continue;
        } catch (const ConversionError& e) {
            action = policy.on_bad_value(policy.arg, i, e.sqlstate(), e.message());
        } catch (const PgError& e) {
            /*
             * Raised outside a subtransaction: only for a column whose errors
             * are not handled, and never carried on from.  A data error is
             * re-thrown by the policy's stop with where the value was.
             */
            if (c.conv.errors_handled || !value_error(e.data(), true))
                throw;
            policy.on_bad_value(policy.arg, i, e.sqlstate(), e.data()->message ? e.data()->message : "");
            throw;
        }
        *isnull = true;
        if (action == BadValueAction::SkipRow) {
            keep = false;
            if (policy.skip_ends_row)
                return false;
        }
    }
    return keep;
}

}  // namespace recio

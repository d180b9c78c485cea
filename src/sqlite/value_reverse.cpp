/*
 * value_reverse.cpp: PostgreSQL values bound to SQLite parameters in their
 * legacy representation (value_reverse.h).  Per value the work is a switch
 * on the planned kind; formats are compiled once per statement.
 */
#include "sqlite/value_reverse.h"

extern "C" {
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
}

#include <cmath>
#include <cstring>

#include "sqlite/value_convert.h"

namespace recio {
namespace {

using sqlite::Affinity;

[[noreturn]] void fail(int sqlstate, const std::string& message, const std::string& detail = {},
                       const std::string& hint = {})
{
    throw ConversionError(sqlstate, message, detail, hint);
}

bool starts(const char* p, const char* token)
{
    return strncmp(p, token, strlen(token)) == 0;
}

/*
 * Compile a format into items (out may be NULL: count only).  The tokens
 * are to_char's (YYYY MM DD HH24 MI SS FF1..FF6 MS US TZH TZM), plus FF for
 * "as many fraction digits as the value needs"; letters elsewhere must be
 * quoted ("T"), other characters are literal.
 */
int compile_format(const char* fmt, FormatItem* out, std::string* problem)
{
    int n = 0;
    auto put = [&](char kind, char literal, int digits) {
        if (out)
            out[n] = FormatItem{kind, literal, digits};
        n++;
    };
    bool seen[128] = {false};
    for (const char* p = fmt; *p;) {
        char kind = 0;
        int len = 0, digits = 0;
        if (starts(p, "YYYY"))
            kind = 'Y', len = 4;
        else if (starts(p, "MM"))
            kind = 'M', len = 2;
        else if (starts(p, "DD"))
            kind = 'D', len = 2;
        else if (starts(p, "HH24"))
            kind = 'H', len = 4;
        else if (starts(p, "MI"))
            kind = 'I', len = 2;
        else if (starts(p, "SS"))
            kind = 'S', len = 2;
        else if (starts(p, "MS"))
            kind = 'F', len = 2, digits = 3;
        else if (starts(p, "US"))
            kind = 'F', len = 2, digits = 6;
        else if (starts(p, "FF") && p[2] >= '1' && p[2] <= '6')
            kind = 'F', len = 3, digits = p[2] - '0';
        else if (starts(p, "FF"))
            kind = 'F', len = 2, digits = 0;
        else if (starts(p, "TZH"))
            kind = 'h', len = 3;
        else if (starts(p, "TZM"))
            kind = 'm', len = 3;
        if (kind) {
            if (seen[static_cast<int>(kind)]) {
                *problem = format("\"%.*s\" appears twice", len, p);
                return -1;
            }
            seen[static_cast<int>(kind)] = true;
            put(kind, 0, digits);
            p += len;
            continue;
        }
        if (*p == '"') {
            const char* q = p + 1;
            for (; *q && *q != '"'; q++)
                put('L', *q, 0);
            if (!*q) {
                *problem = "a quoted text is not closed";
                return -1;
            }
            p = q + 1;
            continue;
        }
        if (isalpha(static_cast<unsigned char>(*p)) || static_cast<unsigned char>(*p) >= 0x80) {
            *problem = format("\"%s\" starts with no known field; quote literal letters (\"T\")", p);
            return -1;
        }
        put('L', *p, 0);
        p++;
    }
    for (char need : {'Y', 'M', 'D', 'H', 'I'})
        if (!seen[static_cast<int>(need)]) {
            *problem = "a timestamp format needs YYYY, MM, DD, HH24 and MI";
            return -1;
        }
    if (seen[static_cast<int>('F')] && !seen[static_cast<int>('S')]) {
        *problem = "a fraction needs SS";
        return -1;
    }
    if (seen[static_cast<int>('m')] && !seen[static_cast<int>('h')]) {
        *problem = "TZM needs TZH";
        return -1;
    }
    return n;
}

FormatItem* compiled(const char* fmt, int* n)
{
    std::string problem;
    int count = compile_format(fmt, nullptr, &problem);
    if (count < 0)
        throw Error(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE, format("invalid value for option \"format\": \"%s\"", fmt),
                    problem);
    auto* items = static_cast<FormatItem*>(pg::alloc(sizeof(FormatItem) * static_cast<Size>(count + 1)));
    compile_format(fmt, items, &problem);
    *n = count;
    return items;
}

/* v (>= 0) in at least width digits, zero-padded; by hand: snprintf was a sixth of a bulk insert */
void put_digits(char*& p, int64 v, int width)
{
    char buf[24];
    int n = 0;
    do {
        buf[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n < width)
        buf[n++] = '0';
    while (n > 0)
        *p++ = buf[--n];
}

/* The fraction's digits: exactly digits (1..6), or as few as hold it (0). False: digits would cut the value. */
bool put_fraction(char*& p, int64 usec, int digits)
{
    int keep = digits;
    if (keep == 0) {
        keep = 6;
        while (keep > 1 && usec % 10 == 0 && usec != 0) {
            usec /= 10;
            keep--;
        }
        if (usec == 0)
            keep = 1;
        put_digits(p, usec, keep);
        return true;
    }
    int64 cut = 1;
    for (int i = keep; i < 6; i++)
        cut *= 10;
    if (usec % cut != 0)
        return false;
    put_digits(p, usec / cut, keep);
    return true;
}

/*
 * Wall-clock fields (and the zone offset east of UTC) as text in the
 * compiled format.  Returns the length, or -1 with *why set.
 */
int format_fields(const FormatItem* items, int n, const pg_tm& tm, int64 usec, int offset_east, char* out,
                  const char** why)
{
    bool has_seconds = false, has_fraction = false;
    for (int i = 0; i < n; i++) {
        has_seconds |= items[i].kind == 'S';
        has_fraction |= items[i].kind == 'F';
    }
    if ((!has_seconds && tm.tm_sec != 0) || (!has_fraction && usec != 0)) {
        *why = has_seconds ? "it has a fraction of a second the column's format does not keep"
                           : "it has seconds the column's format does not keep";
        return -1;
    }
    char* p = out;
    for (int i = 0; i < n; i++) {
        const FormatItem& it = items[i];
        switch (it.kind) {
        case 'Y':
            if (tm.tm_year < 1 || tm.tm_year > 9999) {
                *why = "the year is outside 1..9999";
                return -1;
            }
            put_digits(p, tm.tm_year, 4);
            break;
        case 'M':
            put_digits(p, tm.tm_mon, 2);
            break;
        case 'D':
            put_digits(p, tm.tm_mday, 2);
            break;
        case 'H':
            put_digits(p, tm.tm_hour, 2);
            break;
        case 'I':
            put_digits(p, tm.tm_min, 2);
            break;
        case 'S':
            put_digits(p, tm.tm_sec, 2);
            break;
        case 'F':
            if (!put_fraction(p, usec, it.digits)) {
                *why = "it has more fraction digits than the column's format keeps";
                return -1;
            }
            break;
        case 'h': {
            int a = offset_east < 0 ? -offset_east : offset_east;
            *p++ = offset_east < 0 ? '-' : '+';
            put_digits(p, a / 3600, 2);
            if (a % 3600 != 0 && !(i + 1 < n && items[i + 1].kind == 'm') && !(i + 2 < n && items[i + 2].kind == 'm')) {
                *why = "its zone offset has minutes the format does not keep";
                return -1;
            }
            break;
        }
        case 'm': {
            int a = offset_east < 0 ? -offset_east : offset_east;
            if (a % 60 != 0) {
                *why = "its zone offset has seconds";
                return -1;
            }
            put_digits(p, (a % 3600) / 60, 2);
            break;
        }
        default:
            *p++ = it.literal;
            break;
        }
    }
    *p = '\0';
    return static_cast<int>(p - out);
}

/* The default text format of a timestamp: YYYY-MM-DD HH24:MI:SS, .FF when there is a fraction. */
const FormatItem kDefaultItems[] = {
    {'Y', 0, 0}, {'L', '-', 0}, {'M', 0, 0}, {'L', '-', 0}, {'D', 0, 0}, {'L', ' ', 0},
    {'H', 0, 0}, {'L', ':', 0}, {'I', 0, 0}, {'L', ':', 0}, {'S', 0, 0},
};
constexpr int kDefaultCount = sizeof kDefaultItems / sizeof kDefaultItems[0];

bool utc(const LegacyColumn& l)
{
    return l.tz == nullptr;
}

/*
 * A timestamp's wall-clock fields in the column's zone (timestamptz) or as
 * they are (timestamp), and the offset east of UTC.
 */
void wall_clock(const ReverseConverter& conv, int64 ts, pg_tm* tm, fsec_t* fsec, int* offset_east)
{
    if (TIMESTAMP_NOT_FINITE(ts))
        fail(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE, format("cannot write an infinite %s to SQLite", conv.type_name),
             "The legacy representation has no infinity.");
    bool zoned = conv.kind == Reverse::TimestampTz && !utc(conv.legacy);
    pg_tz* tz = conv.legacy.tz;
    int tzp = 0;
    /* timestamp2tm reports a range error by its result and raises nothing: called directly, per value */
    int rc = timestamp2tm(ts, zoned ? &tzp : nullptr, tm, fsec, nullptr, zoned ? tz : nullptr);
    if (rc != 0)
        fail(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE, "timestamp out of range");
    *offset_east = zoned ? -tzp : 0;
}

/* Instant (or, for timestamp columns, the wall clock in the column's zone) -> epoch in the column's unit. */
int64 epoch_of(const ReverseConverter& conv, int64 ts)
{
    if (TIMESTAMP_NOT_FINITE(ts))
        fail(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE, format("cannot write an infinite %s to SQLite", conv.type_name),
             "The legacy representation has no infinity.");
    int64 instant = ts;
    if (conv.kind == Reverse::Timestamp && !utc(conv.legacy)) {
        pg_tm tm;
        fsec_t fsec;
        pg_tz* tz = conv.legacy.tz;
        bool ok = pg::call([&] {
            if (timestamp2tm(ts, nullptr, &tm, &fsec, nullptr, nullptr) != 0)
                return false;
            int west = DetermineTimeZoneOffset(&tm, tz);
            instant = ts + static_cast<int64>(west) * USECS_PER_SEC;
            return true;
        });
        if (!ok)
            fail(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE, "timestamp out of range");
    }
    static const int64 kPerUnit[] = {USECS_PER_SEC, 1000, 1};
    int64 per = kPerUnit[static_cast<int>(conv.legacy.epoch_unit)];
    int64 unix_us = instant + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
    if (unix_us % per != 0)
        fail(ERRCODE_DATETIME_FIELD_OVERFLOW,
             format("%s value has a fraction finer than the column's epoch_unit '%s'", conv.type_name,
                    conv.legacy.epoch_unit == EpochUnit::Seconds ? "s" : "ms"),
             "Nothing is rounded: write the value at the precision of the legacy column.");
    int64 q = unix_us / per;
    return q;
}

int bind_text_utf8(const ReverseConverter& conv, sqlite3_stmt* stmt, int param, const char* s, int len)
{
    if (conv.utf8_db)
        return sqlite3_bind_text64(stmt, param, s, static_cast<sqlite3_uint64>(len), SQLITE_TRANSIENT, SQLITE_UTF8);
    const char* u = pg::call([&] { return pg_server_to_any(s, len, PG_UTF8); });
    return sqlite3_bind_text64(stmt, param, u, strlen(u), SQLITE_TRANSIENT, SQLITE_UTF8);
}

int bind_timestamp(const ReverseConverter& conv, sqlite3_stmt* stmt, int param, int64 ts)
{
    if (conv.legacy.epoch)
        return sqlite3_bind_int64(stmt, param, epoch_of(conv, ts));
    pg_tm tm;
    fsec_t fsec;
    int offset_east;
    wall_clock(conv, ts, &tm, &fsec, &offset_east);
    char buf[160];
    const char* why = nullptr;
    /* the default format adds the fraction when there is one */
    int n = format_fields(conv.items, conv.nitems, tm, conv.legacy.format ? fsec : 0, offset_east, buf, &why);
    if (n < 0)
        fail(ERRCODE_DATETIME_FIELD_OVERFLOW,
             format("%s value cannot be written in the column's legacy format: %s", conv.type_name, why),
             conv.legacy.format ? format("The column's format is \"%s\".", conv.legacy.format) : std::string(),
             "Nothing is rounded: write the value at the precision of the legacy column.");
    if (!conv.legacy.format && fsec != 0) {
        buf[n++] = '.';
        char* p = buf + n;
        put_fraction(p, fsec, 0);
        n = static_cast<int>(p - buf);
    }
    return sqlite3_bind_text64(stmt, param, buf, static_cast<sqlite3_uint64>(n), SQLITE_TRANSIENT, SQLITE_UTF8);
}

[[noreturn]] void nan_refused(const ReverseConverter& conv)
{
    fail(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, format("cannot write NaN of type %s to SQLite", conv.type_name),
         "SQLite stores a NaN as NULL.");
}

int bind_double_checked(const ReverseConverter& conv, sqlite3_stmt* stmt, int param, double d)
{
    if (std::isnan(d))
        nan_refused(conv);
    if (conv.legacy.affinity == Affinity::Text) {
        char buf[64];
        int n = format_double(d, buf);
        return sqlite3_bind_text(stmt, param, buf, n, SQLITE_TRANSIENT);
    }
    return sqlite3_bind_double(stmt, param, d);
}

/* 2^53: integers up to here are exact in a double */
constexpr int64 kExactDouble = INT64CONST(9007199254740992);

int bind_integer(const ReverseConverter& conv, sqlite3_stmt* stmt, int param, int64 v)
{
    if (conv.legacy.affinity == Affinity::Real && (v > kExactDouble || v < -kExactDouble) &&
        static_cast<int64>(static_cast<double>(v)) != v && !conv.legacy.allow_rounding)
        fail(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
             format("value %lld cannot be stored exactly in a REAL SQLite column", static_cast<long long>(v)),
             "SQLite converts integers in a column of REAL affinity to doubles.",
             "Set the column option allow_rounding 'true' to store the nearest double.");
    return sqlite3_bind_int64(stmt, param, v);
}

/*
 * numeric: text for TEXT affinity; an integer when it is one (and fits);
 * else the double that holds it exactly, or 22003.
 */
/*
 * Whether a numeric's output text and a double's shortest round-trip text
 * (no exponent) name the same decimal: equal once the numeric's trailing
 * fraction zeros (and a bare point) are dropped.  false means "not shown
 * here", not "different": the caller then compares as numerics.
 */
bool same_decimal_text(const char* numeric_text, const char* shortest)
{
    if (strpbrk(shortest, "eE"))
        return false;
    size_t n = strlen(numeric_text);
    if (strchr(numeric_text, '.')) {
        while (n > 0 && numeric_text[n - 1] == '0')
            n--;
        if (n > 0 && numeric_text[n - 1] == '.')
            n--;
    }
    return strlen(shortest) == n && strncmp(numeric_text, shortest, n) == 0;
}

int bind_numeric(const ReverseConverter& conv, sqlite3_stmt* stmt, int param, Datum value)
{
    Numeric num = DatumGetNumeric(value);
    if (numeric_is_nan(num))
        nan_refused(conv);
    const char* text = pg::call([&] { return DatumGetCString(DirectFunctionCall1(numeric_out, value)); });
    if (conv.legacy.affinity == Affinity::Text)
        return sqlite3_bind_text(stmt, param, text, -1, SQLITE_TRANSIENT);
    if (!numeric_is_inf(num) && !strpbrk(text, ".eE")) {
        errno = 0;
        char* end = nullptr;
        long long v = strtoll(text, &end, 10);
        if (errno == 0 && *end == '\0' && conv.legacy.affinity != Affinity::Real)
            return sqlite3_bind_int64(stmt, param, v);
    }
    double d = strtod(text, nullptr);
    if (!numeric_is_inf(num) && !conv.legacy.allow_rounding) {
        char buf[64];
        format_double(d, buf);
        /* fast path: the numeric's text without trailing fraction zeros is the double's shortest text */
        if (same_decimal_text(text, buf))
            return sqlite3_bind_double(stmt, param, d);
        bool exact = pg::call([&] {
            Datum back =
                DirectFunctionCall3(numeric_in, CStringGetDatum(buf), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
            return DatumGetInt32(DirectFunctionCall2(numeric_cmp, value, back)) == 0;
        });
        if (!exact)
            fail(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                 format("numeric value %s cannot be stored exactly as a SQLite REAL", shown(text).c_str()),
                 format("The nearest double is %s.", buf),
                 "Set the column option allow_rounding 'true' to store the nearest double, or declare the legacy "
                 "column's values as text.");
    }
    return sqlite3_bind_double(stmt, param, d);
}

int bind_date(sqlite3_stmt* stmt, int param, const ReverseConverter& conv, DateADT date)
{
    if (DATE_NOT_FINITE(date))
        fail(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE, "cannot write an infinite date to SQLite",
             "The legacy representation has no infinity.");
    int y, m, d;
    j2date(date + POSTGRES_EPOCH_JDATE, &y, &m, &d);
    if (y < 1 || y > 9999)
        fail(ERRCODE_DATETIME_FIELD_OVERFLOW,
             "date value cannot be written as YYYY-MM-DD: the year is outside 1..9999");
    char buf[16];
    int n = snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
    return sqlite3_bind_text(stmt, param, buf, n, SQLITE_TRANSIENT);
}

int bind_time(sqlite3_stmt* stmt, int param, TimeADT t)
{
    int64 usec = t % USECS_PER_SEC;
    int64 secs = t / USECS_PER_SEC;
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(secs / 3600),
                     static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
    if (usec != 0) {
        buf[n++] = '.';
        char* p = buf + n;
        put_fraction(p, usec, 0);
        n = static_cast<int>(p - buf);
    }
    return sqlite3_bind_text(stmt, param, buf, n, SQLITE_TRANSIENT);
}

/*
 * A format's texts must read back to the instant written: two instants
 * (winter and summer, for zones with daylight saving time) are formatted
 * and parsed the way the scan parses legacy texts.
 */
void check_round_trip(const ReverseConverter& conv)
{
    static const int64 kInstants[] = {
        INT64CONST(789999960000000), /* 2025-01-12 (winter), on a whole minute */
        INT64CONST(804999960000000), /* 2025-07-05 (summer) */
    };
    for (int64 ts : kInstants) {
        pg_tm tm;
        fsec_t fsec;
        int offset_east;
        wall_clock(conv, ts, &tm, &fsec, &offset_east);
        char buf[160];
        const char* why = nullptr;
        int n = format_fields(conv.items, conv.nitems, tm, 0, offset_east, buf, &why);
        ParsedTimestamp p;
        bool ok = n > 0 && parse_timestamp_text(buf, n, p) && timestamp_fields_valid(p) && p.year == tm.tm_year &&
                  p.month == tm.tm_mon && p.day == tm.tm_mday && p.hour == tm.tm_hour && p.minute == tm.tm_min &&
                  p.second == tm.tm_sec;
        if (ok && p.has_zone)
            ok = conv.kind != Reverse::TimestampTz || p.zone_seconds == offset_east;
        if (!ok)
            throw Error(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE,
                        format("invalid value for option \"format\": \"%s\"", conv.legacy.format),
                        n > 0 ? format("The text it gives (\"%s\" in zone %s) does not read back as the same %s.", buf,
                                       conv.legacy.tz_name ? conv.legacy.tz_name : "UTC", conv.type_name)
                              : format("%s.", why),
                        "A zone written into the text (\"Z\", TZH:TZM) must match the column's timezone option.");
    }
}

/* A varlena value, detoasted (short header kept) in the current memory context. */
struct varlena* detoasted(Datum value)
{
    return pg::call([&] { return pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(value))); });
}

}  // namespace

std::string timestamp_format_problem(const char* fmt)
{
    std::string problem;
    return compile_format(fmt, nullptr, &problem) < 0 ? problem : std::string();
}

void plan_reverse(ReverseConverter& conv, Oid typid, const LegacyColumn& legacy)
{
    memset(&conv, 0, sizeof conv);
    conv.legacy = legacy;
    int32 typmod = -1;
    conv.typid = pg::call([&] { return getBaseTypeAndTypmod(typid, &typmod); });
    conv.type_name = pg::call([&] { return format_type_be(typid); });
    conv.utf8_db = GetDatabaseEncoding() == PG_UTF8;
    switch (conv.typid) {
    case INT2OID:
    case INT4OID:
    case INT8OID:
        conv.kind = Reverse::Int;
        break;
    case FLOAT4OID:
        conv.kind = Reverse::Float4;
        break;
    case FLOAT8OID:
        conv.kind = Reverse::Float8;
        break;
    case NUMERICOID:
        conv.kind = Reverse::Numeric;
        break;
    case BOOLOID:
        conv.kind = Reverse::Bool;
        break;
    case TEXTOID:
    case VARCHAROID:
    case BPCHAROID:
        conv.kind = Reverse::Text;
        break;
    case BYTEAOID:
        conv.kind = Reverse::Bytea;
        break;
    case DATEOID:
        conv.kind = Reverse::Date;
        break;
    case TIMEOID:
        conv.kind = Reverse::Time;
        break;
    case TIMESTAMPOID:
        conv.kind = Reverse::Timestamp;
        break;
    case TIMESTAMPTZOID:
        conv.kind = Reverse::TimestampTz;
        break;
    default:
        conv.kind = Reverse::Output;
        break;
    }
    bool is_timestamp = conv.kind == Reverse::Timestamp || conv.kind == Reverse::TimestampTz;
    if (legacy.format && !is_timestamp)
        throw Error(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE,
                    format("option \"format\" applies only to timestamp columns, not to type %s", conv.type_name));
    if (is_timestamp && !legacy.epoch) {
        if (legacy.format) {
            conv.items = compiled(legacy.format, &conv.nitems);
            check_round_trip(conv);
        } else {
            conv.items = const_cast<FormatItem*>(kDefaultItems);
            conv.nitems = kDefaultCount;
        }
    }
    if (conv.kind == Reverse::Output || conv.kind == Reverse::Float4) {
        Oid typid_base = conv.typid;
        pg::call([&] {
            Oid out;
            bool varlena;
            getTypeOutputInfo(typid_base, &out, &varlena);
            fmgr_info(out, &conv.output);
        });
    }
}

int bind_legacy(const ReverseConverter& conv, sqlite3_stmt* stmt, int param, Datum value, bool isnull)
{
    if (isnull)
        return sqlite3_bind_null(stmt, param);
    switch (conv.kind) {
    case Reverse::Int: {
        int64 v = conv.typid == INT2OID   ? DatumGetInt16(value)
                  : conv.typid == INT4OID ? DatumGetInt32(value)
                                          : DatumGetInt64(value);
        return bind_integer(conv, stmt, param, v);
    }
    case Reverse::Float4: {
        float f = DatumGetFloat4(value);
        if (std::isnan(f))
            nan_refused(conv);
        if (conv.legacy.affinity == Affinity::Text) {
            const char* s = pg::call([&] { return OutputFunctionCall(const_cast<FmgrInfo*>(&conv.output), value); });
            return sqlite3_bind_text(stmt, param, s, -1, SQLITE_TRANSIENT);
        }
        return sqlite3_bind_double(stmt, param, static_cast<double>(f));
    }
    case Reverse::Float8:
        return bind_double_checked(conv, stmt, param, DatumGetFloat8(value));
    case Reverse::Numeric:
        return bind_numeric(conv, stmt, param, value);
    case Reverse::Bool:
        return sqlite3_bind_int(stmt, param, DatumGetBool(value) ? 1 : 0);
    case Reverse::Text: {
        auto* t = detoasted(value);
        const char* s = VARDATA_ANY(t);
        int len = static_cast<int>(VARSIZE_ANY_EXHDR(t));
        if (conv.utf8_db)
            return sqlite3_bind_text64(stmt, param, s, static_cast<sqlite3_uint64>(len), SQLITE_TRANSIENT, SQLITE_UTF8);
        return bind_text_utf8(conv, stmt, param, pg::call([&] { return text_to_cstring(t); }), len);
    }
    case Reverse::Bytea: {
        auto* b = detoasted(value);
        return sqlite3_bind_blob64(stmt, param, VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b), SQLITE_TRANSIENT);
    }
    case Reverse::Date:
        return bind_date(stmt, param, conv, DatumGetDateADT(value));
    case Reverse::Time:
        return bind_time(stmt, param, DatumGetTimeADT(value));
    case Reverse::Timestamp:
    case Reverse::TimestampTz:
        return bind_timestamp(conv, stmt, param, DatumGetInt64(value));
    case Reverse::Output: {
        const char* s = pg::call([&] { return OutputFunctionCall(const_cast<FmgrInfo*>(&conv.output), value); });
        return bind_text_utf8(conv, stmt, param, s, static_cast<int>(strlen(s)));
    }
    }
    return SQLITE_MISUSE;
}

}  // namespace recio

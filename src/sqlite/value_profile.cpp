/*
 * value_profile.cpp: the one-pass SQLite-side profile of a table
 * (value_profile.h), used by recio_migrate.profile() (migrate/profile.cpp),
 * create_target() and IMPORT FOREIGN SCHEMA ... OPTIONS (types 'observed').
 *
 * The pass is a C loop over sqlite3_step on "SELECT c1, c2, ... FROM t";
 * each value is classified by sqlite3_column_type and inspected in place, so
 * no value is converted into a PostgreSQL Datum.  Only columns whose every
 * value looks like a JSON object or array get a second, SQLite-side
 * json_valid() count.
 *
 * Suggested types (README "Type rules"): a type is chosen only when every
 * value it takes comes back as SQLite holds it, and a later write of the
 * legacy application is never rounded:
 *  - BLOB anywhere: bytea.
 *  - numbers (INTEGER, REAL, decimal TEXT) with at most 5% other values:
 *    integers -> bigint (timestamptz when every value is an epoch in
 *    2000..2100 and the column's name or declared type speaks of time);
 *    with fractions -> numeric without a typmod (the decimals seen so far
 *    say nothing of tomorrow's; numeric(p,s) from the data is observed_type,
 *    advice only).  A number TEXT that the type would give back as another
 *    text ('+3', '007', ' 5', '1e3') keeps the column text.
 *  - TEXT dates/times with at most 5% other values, all in one format that
 *    to_char can write back (legacy_format): timestamptz / date / time;
 *    two formats in one column, or more than 6 fractional digits, keep it
 *    text.  JSON objects/arrays with at most 5% invalid -> json (jsonb would
 *    reorder keys and respace); else text.
 * type_reason says which rule chose the type, or why the column stays text.
 */
#include "sqlite/value_profile.h"

extern "C" {
#include "mb/pg_wchar.h"
}

#include "common/powers_of_ten.h"

#include <cmath>
#include <algorithm>
#include <cstring>
#include <string_view>

#include "sqlite/schema.h"
#include "sqlite/sql_text.h"
#include "sqlite/value_convert.h"

namespace recio {
namespace {

constexpr int kMaxSuggestedScale = 10;
/* a suggestion tolerates up to 1 in 20 values that will be rejected */
bool mostly(int64 part, int64 whole)
{
    return part > 0 && (whole - part) * 20 <= whole;
}

}  // namespace

int real_decimals(double d)
{
    if (!std::isfinite(d) || std::fabs(d) >= 1e15)
        return 0;
    for (int i = 0; i <= kMaxProfileDecimals; i++)
        if (std::nearbyint(d * kPow10Double[i]) / kPow10Double[i] == d)
            return i;
    return kMaxProfileDecimals;
}

namespace {

int integer_digits(double a)
{
    a = std::fabs(a);
    if (!std::isfinite(a))
        return 0;
    int n = 1;
    while (n < 309 && a >= 10.0) {
        a /= 10.0;
        n++;
    }
    return n;
}

}  // namespace

bool decimal_text(const char* s, int len, int* int_digits, int* decimals, bool* fraction)
{
    int i = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    int lead = 0, frac = 0;
    while (i < len && isdigit(static_cast<unsigned char>(s[i]))) {
        i++;
        lead++;
    }
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && isdigit(static_cast<unsigned char>(s[i]))) {
            i++;
            frac++;
        }
    }
    if (lead + frac == 0)
        return false;
    int exp = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int sign = 1;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            sign = s[i++] == '-' ? -1 : 1;
        int n = 0;
        while (i < len && isdigit(static_cast<unsigned char>(s[i]))) {
            if (exp < 10000)
                exp = exp * 10 + (s[i] - '0');
            i++;
            n++;
        }
        if (n == 0)
            return false;
        exp *= sign;
    }
    if (i != len)
        return false;
    *decimals = std::max(0, std::min(frac - exp, kMaxProfileDecimals));
    *int_digits = std::max(0, lead + exp);
    /* a fraction, or an integer too long for bigint */
    *fraction = frac - exp > 0 || lead + exp > 18;
    return true;
}

std::string number_output_text(const char* s, int len)
{
    int i = 0;
    bool negative = false;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        negative = s[i++] == '-';
    std::string digits;
    int lead = 0;
    while (i < len && isdigit(static_cast<unsigned char>(s[i]))) {
        digits += s[i++];
        lead++;
    }
    if (i < len && s[i] == '.')
        for (i++; i < len && isdigit(static_cast<unsigned char>(s[i]));)
            digits += s[i++];
    long exp = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        exp = strtol(s + i + 1, nullptr, 10);
        exp = std::max(-1000L, std::min(exp, 1000L));
    }
    long point = lead + exp; /* digits before the point */
    long n = static_cast<long>(digits.size());
    std::string int_part = point <= 0 ? "" : point >= n ? digits + std::string(static_cast<size_t>(point - n), '0')
                                                        : digits.substr(0, static_cast<size_t>(point));
    std::string frac_part = point >= n ? "" : point < 0 ? std::string(static_cast<size_t>(-point), '0') + digits
                                                        : digits.substr(static_cast<size_t>(point));
    size_t nz = int_part.find_first_not_of('0');
    int_part = nz == std::string::npos ? "0" : int_part.substr(nz);
    bool zero = digits.find_first_not_of('0') == std::string::npos;
    return (negative && !zero ? "-" : "") + int_part + (frac_part.empty() ? "" : "." + frac_part);
}

namespace {

bool names_time(const std::string& name, const std::string& declared)
{
    std::string n;
    for (char c : name + " " + declared)
        n += static_cast<char>(tolower(static_cast<unsigned char>(c)));
    return n.find("time") != std::string::npos || n.find("date") != std::string::npos ||
           n.find("_at ") != std::string::npos || n.find("_ts ") != std::string::npos ||
           n.compare(0, 3, "ts ") == 0;
}

void see_integer(ColumnProfile& p, int64 v)
{
    p.n_integer++;
    if (!p.has_int || v < p.int_min)
        p.int_min = v;
    if (!p.has_int || v > p.int_max)
        p.int_max = v;
    p.has_int = true;
    p.max_integer_digits = std::max(p.max_integer_digits, integer_digits(static_cast<double>(v)));
    if (v >= INT64CONST(946684800) && v < INT64CONST(4102444800))
        p.n_epoch_s++;
    else if (v >= INT64CONST(946684800000) && v < INT64CONST(4102444800000))
        p.n_epoch_ms++;
}

void see_real(ColumnProfile& p, double d)
{
    p.n_real++;
    if (!p.has_real || d < p.real_min)
        p.real_min = d;
    if (!p.has_real || d > p.real_max)
        p.real_max = d;
    p.has_real = true;
    if (std::isinf(d))
        p.n_real_infinite++;
    if (p.max_decimals < kMaxProfileDecimals)
        p.max_decimals = std::max(p.max_decimals, real_decimals(d));
    p.max_integer_digits = std::max(p.max_integer_digits, integer_digits(d));
}

/* The format of a parsed date/time text: date part of 10 bytes, then what follows it. */
TextTimeFormat time_format_of(const char* s, int len, bool date, const ParsedTimestamp& ts)
{
    TextTimeFormat f;
    f.date = date;
    f.time = ts.has_time;
    int i = date ? 10 : 0;
    if (!f.time)
        return f;
    if (date)
        f.separator = s[i++];
    i += 5; /* HH:MM */
    if (i < len && s[i] == ':') {
        f.seconds = true;
        i += 3;
        if (i < len && s[i] == '.') {
            int start = ++i;
            while (i < len && isdigit(static_cast<unsigned char>(s[i])))
                i++;
            f.fraction_digits = i - start;
        }
    }
    f.zone.assign(s + i, static_cast<size_t>(len - i));
    return f;
}

void see_time_format(ColumnProfile& p, const char* s, int len, const TextTimeFormat& f)
{
    if (f.fraction_digits > 6 && p.too_fine_time.empty())
        p.too_fine_time.assign(s, static_cast<size_t>(len));
    if (p.time_format_example.empty()) {
        p.time_format = f;
        p.time_format_example.assign(s, static_cast<size_t>(len));
    } else if (p.other_format_example.empty() && !(f == p.time_format)) {
        p.other_format_example.assign(s, static_cast<size_t>(len));
    }
}

void see_timestamp_text(ColumnProfile& p, const char* s, int len)
{
    ParsedTimestamp ts;
    if (len >= 10 && s[4] == '-' && parse_timestamp_text(s, len, ts)) {
        if (!timestamp_fields_valid(ts)) {
            p.n_bad_datetime++;
            return;
        }
        p.n_timestamp++;
        see_time_format(p, s, len, time_format_of(s, len, true, ts));
        if (!ts.has_time) {
            p.f_date_only = true;
            return;
        }
        (s[10] == ' ' ? p.f_space : p.f_t) = true;
        p.f_fraction |= memchr(s + 11, '.', static_cast<size_t>(len - 11)) != nullptr;
        if (ts.has_zone) {
            p.f_zone = true;
        } else {
            p.n_naive++;
            if (p.zone && !wall_clock_exists(ts, p.zone) && p.n_skipped_wall_clock++ == 0)
                p.skipped_wall_clock.assign(s, static_cast<size_t>(len));
        }
        return;
    }
    if (len >= 5 && len <= 18 && s[2] == ':') {
        char buf[32];
        snprintf(buf, sizeof buf, "2000-01-01 %.*s", len, s);
        if (parse_timestamp_text(buf, static_cast<int>(strlen(buf)), ts) && !ts.has_zone &&
            timestamp_fields_valid(ts)) {
            p.n_time_only++;
            see_time_format(p, s, len, time_format_of(s, len, false, ts));
        }
    }
}

/* What int8out/numeric_out print is exactly this: -?(0|[1-9][0-9]*)(.[0-9]+)?, and no negative zero. */
bool number_text_kept(const char* s, int len)
{
    int i = 0;
    bool negative = i < len && s[i] == '-';
    if (negative)
        i++;
    int lead = i;
    while (i < len && isdigit(static_cast<unsigned char>(s[i])))
        i++;
    if (i == lead || (s[lead] == '0' && i - lead > 1))
        return false;
    if (i < len && s[i] == '.') {
        int frac = ++i;
        while (i < len && isdigit(static_cast<unsigned char>(s[i])))
            i++;
        if (i == frac)
            return false;
    }
    if (i != len)
        return false;
    if (negative)
        for (int k = 1; k < len; k++)
            if (s[k] != '0' && s[k] != '.')
                return true;
    return !negative;
}

/* A number text PostgreSQL's input would read after trimming blanks (' 5'): [start, end) */
bool blank_padded_number(const char* s, int len, int* start, int* end)
{
    int a = 0, b = len;
    while (a < b && isspace(static_cast<unsigned char>(s[a])))
        a++;
    while (b > a && isspace(static_cast<unsigned char>(s[b - 1])))
        b--;
    int int_digits, decimals;
    bool fraction;
    if ((a == 0 && b == len) || a == b || !decimal_text(s + a, b - a, &int_digits, &decimals, &fraction))
        return false;
    *start = a;
    *end = b;
    return true;
}

void see_text(ColumnProfile& p, const char* s, int len)
{
    p.n_text++;
    std::string_view v(s, static_cast<size_t>(len));
    if (!p.has_text || v < std::string_view(p.text_min))
        p.text_min.assign(v);
    if (!p.has_text || v > std::string_view(p.text_max))
        p.text_max.assign(v);
    p.has_text = true;
    if (memchr(s, '\0', static_cast<size_t>(len)) || !pg_verify_mbstr(PG_UTF8, s, len, true)) {
        p.n_invalid_text++;
        return;
    }
    int int_digits, decimals;
    bool fraction;
    if (decimal_text(s, len, &int_digits, &decimals, &fraction)) {
        p.n_numeric_text++;
        p.max_decimals = std::max(p.max_decimals, decimals);
        p.max_integer_digits = std::max(p.max_integer_digits, int_digits);
        p.fraction_text |= fraction;
        if (!number_text_kept(s, len) && p.n_number_text_changed++ == 0)
            p.number_text_changed.assign(s, static_cast<size_t>(len));
        return;
    }
    int start, end;
    if (blank_padded_number(s, len, &start, &end)) {
        p.n_numeric_text++;
        if (p.n_number_text_changed++ == 0)
            p.number_text_changed.assign(s, static_cast<size_t>(len));
        return;
    }
    int i = 0;
    while (i < len && isspace(static_cast<unsigned char>(s[i])))
        i++;
    if (i < len && (s[i] == '{' || s[i] == '[')) {
        p.n_json_like++;
        return;
    }
    see_timestamp_text(p, s, len);
}

/* numeric(p,s) from the data: s the most decimals seen, p the integer digits plus s rounded up */
std::string observed_numeric_type(const ColumnProfile& p)
{
    if (p.max_decimals > kMaxSuggestedScale)
        return "numeric";
    int need = p.max_integer_digits + p.max_decimals;
    for (int precision : {12, 18, 28, 38})
        if (need <= precision)
            return format("numeric(%d,%d)", precision, p.max_decimals);
    return "numeric";
}

std::string quoted(const std::string& v)
{
    return "'" + shown(v.c_str()) + "'";
}

/* The to_char pattern that writes a value of this format back, or "" when none can */
std::string to_char_pattern(const TextTimeFormat& f)
{
    if (f.fraction_digits > 6 || (!f.date && !f.zone.empty()) || f.zone.find('"') != std::string::npos)
        return "";
    std::string pat = f.date ? "YYYY-MM-DD" : "";
    if (!f.time)
        return pat;
    if (f.date)
        pat += f.separator == ' ' ? std::string(" ") : std::string("\"") + f.separator + "\"";
    pat += "HH24:MI";
    if (f.seconds)
        pat += ":SS";
    if (f.fraction_digits == 3)
        pat += ".MS";
    else if (f.fraction_digits == 6)
        pat += ".US";
    else if (f.fraction_digits > 0)
        pat += format(".FF%d", f.fraction_digits);
    if (!f.zone.empty())
        pat += "\"" + f.zone + "\"";
    return pat;
}

/*
 * Dates and times in TEXT: the type when every value is in one format that
 * to_char writes back; else the column stays text, and the reason says why.
 */
void suggest_time_text(ColumnProfile& p, const char* type, int64 valid, int64 nonnull)
{
    if (!p.other_format_example.empty()) {
        p.suggested_type = "text";
        p.type_reason = format("text: two date/time formats in one column (%s and %s): no one format writes "
                               "them back", quoted(p.time_format_example).c_str(),
                               quoted(p.other_format_example).c_str());
        p.nonconforming = p.n_invalid_text;
        return;
    }
    if (p.n_skipped_wall_clock > 0) {
        p.suggested_type = "text";
        p.type_reason = format("text: %s does not exist in %s (the clock skips that hour when daylight saving time "
                               "starts): %s would move it to another time",
                               quoted(p.skipped_wall_clock).c_str(), pg_get_timezone_name(p.zone), type);
        p.nonconforming = p.n_invalid_text;
        return;
    }
    std::string pat = to_char_pattern(p.time_format);
    if (pat.empty()) {
        p.suggested_type = "text";
        p.type_reason = p.too_fine_time.empty()
                            ? format("text: the format of %s cannot be written back by to_char",
                                     quoted(p.time_format_example).c_str())
                            : format("text: %s has more than 6 fractional digits: %s would round it to "
                                     "microseconds", quoted(p.too_fine_time).c_str(), type);
        p.nonconforming = p.n_invalid_text;
        return;
    }
    p.suggested_type = type;
    p.legacy_format = pat;
    p.nonconforming = nonnull - valid;
    p.type_reason = format("%s: text in one format (%s) that to_char gives back unchanged", type, pat.c_str());
}

void suggest(ColumnProfile& p)
{
    int64 nonnull = p.rows - p.nulls;
    int64 numbers = p.n_integer + p.n_real + p.n_numeric_text;
    p.nonconforming = 0;
    if (nonnull == 0) {
        p.suggested_type = "text";
        p.type_reason = "text: no value to go by (every row is NULL)";
    } else if (p.n_blob > 0) {
        p.suggested_type = "bytea";
        p.type_reason = "bytea: BLOB values";
    } else if (mostly(numbers, nonnull) && p.n_number_text_changed > 0) {
        std::string v = p.number_text_changed;
        const char* kind = p.has_real || p.fraction_text ? "numeric" : "bigint";
        int start = 0, end = static_cast<int>(v.size());
        blank_padded_number(v.c_str(), end, &start, &end);
        std::string back = number_output_text(v.c_str() + start, end - start);
        p.suggested_type = "text";
        p.type_reason = format("text: %s would come back as %s from %s", quoted(v).c_str(), quoted(back).c_str(),
                               kind);
        p.nonconforming = p.n_invalid_text;
    } else if (mostly(numbers, nonnull)) {
        if (p.has_real || p.fraction_text) {
            p.suggested_type = "numeric";
            p.observed_type = observed_numeric_type(p);
            p.nonconforming = nonnull - numbers;
            std::string seen = p.max_decimals == 0                     ? std::string("whole numbers only")
                               : p.max_decimals >= kMaxProfileDecimals ? format("%d or more decimals", p.max_decimals)
                                                                       : format("at most %d decimal%s", p.max_decimals,
                                                            p.max_decimals == 1 ? "" : "s");
            p.type_reason = format("numeric: %s, no scale taken from the data (observed %s)",
                                   p.has_real ? "REAL values" : "decimal text that numeric prints as written",
                                   seen.c_str());
        } else if (p.n_integer == nonnull && (p.n_epoch_s == nonnull || p.n_epoch_ms == nonnull) &&
                   names_time(p.sqlite_name, p.declared)) {
            p.suggested_type = "timestamptz";
            p.epoch_unit = p.n_epoch_s == nonnull ? "s" : "ms";
            p.legacy_format = "epoch " + p.epoch_unit;
            p.type_reason = format("timestamptz: INTEGER epochs in %s in 2000..2100 in a column named for time",
                                   p.epoch_unit == "s" ? "seconds" : "milliseconds");
        } else {
            p.suggested_type = "bigint";
            p.nonconforming = nonnull - numbers;
            p.type_reason = p.n_numeric_text > 0 ? "bigint: integer text that bigint prints as written"
                                                 : "bigint: INTEGER values";
            if (p.n_integer == nonnull && (p.n_epoch_s == nonnull || p.n_epoch_ms == nonnull))
                p.type_reason += format(" (all epoch %s in 2000..2100, but the column's name does not say it is a "
                                        "time: set the option epoch_unit and use timestamptz if it is)",
                                        p.n_epoch_s == nonnull ? "seconds" : "milliseconds");
        }
    } else if (mostly(p.n_timestamp, nonnull)) {
        suggest_time_text(p, p.f_space || p.f_t ? "timestamptz" : "date", p.n_timestamp, nonnull);
    } else if (mostly(p.n_time_only, nonnull)) {
        suggest_time_text(p, "time", p.n_time_only, nonnull);
    } else if (p.n_json_like == nonnull && mostly(nonnull - p.n_json_invalid, nonnull)) {
        p.suggested_type = "json";
        p.nonconforming = p.n_json_invalid;
        p.type_reason = "json: JSON objects or arrays, kept byte for byte (jsonb would reorder keys and respace)";
    } else {
        p.suggested_type = "text";
        p.nonconforming = p.n_invalid_text;
        p.type_reason = "text: TEXT values of no one other type";
    }
}

void count_invalid_json(sqlite::Connection& conn, const char* table, ColumnProfile& p)
{
    std::string col = sqlite::quote_ident(p.sqlite_name.c_str());
    std::string sql = "SELECT count(*) FROM " + sqlite::quote_ident(table) + " WHERE " + col + " IS NOT NULL AND NOT json_valid(" + col + ")";
    sqlite::Statement st(conn, sql.c_str());
    if (st.step())
        p.n_json_invalid = st.int64_value(0);
}

}  // namespace

std::vector<std::string> sqlite_column_names(sqlite::Connection& conn, const char* table)
{
    std::vector<std::string> names;
    for (sqlite::ColumnInfo& c : sqlite::table_columns(conn, table))
        names.push_back(std::move(c.name));
    return names;
}

std::vector<const char*> timestamp_formats(const ColumnProfile& p)
{
    std::vector<const char*> f;
    if (p.f_date_only)
        f.push_back("date-only");
    if (p.f_space)
        f.push_back("space");
    if (p.f_t)
        f.push_back("T");
    if (p.f_fraction)
        f.push_back("fraction");
    if (p.f_zone)
        f.push_back("zone");
    if (p.n_naive > 0)
        f.push_back("naive");
    return f;
}

std::vector<ColumnProfile> profile_table(sqlite::Connection& conn, const char* table,
                                         const std::vector<std::string>& columns, const std::vector<pg_tz*>& zones)
{
    std::vector<ColumnProfile> prof(columns.size());
    for (size_t i = 0; i < zones.size() && i < prof.size(); i++)
        prof[i].zone = zones[i];
    for (const sqlite::ColumnInfo& c : sqlite::table_columns(conn, table)) {
        for (size_t i = 0; i < columns.size(); i++) {
            if (sqlite3_stricmp(c.name.c_str(), columns[i].c_str()) == 0) {
                prof[i].declared = c.declared;
                prof[i].declared_not_null = c.not_null;
                prof[i].pk_position = c.pk;
                prof[i].declared_default = c.default_sql;
                prof[i].utc_default = sqlite::default_is_utc_now(c.default_sql);
            }
        }
    }
    std::string sql = "SELECT ";
    for (size_t i = 0; i < columns.size(); i++) {
        prof[i].sqlite_name = columns[i];
        sql += (i ? ", " : "") + sqlite::quote_ident(columns[i].c_str());
    }
    if (columns.empty())
        sql += "NULL";
    sql += " FROM " + sqlite::quote_ident(table);
    {
        sqlite::Statement st(conn, sql.c_str());
        sqlite3_stmt* stmt = st.handle();
        const int n = static_cast<int>(columns.size());
        while (st.step()) {
            pg::check_for_interrupts();
            for (int i = 0; i < n; i++) {
                ColumnProfile& p = prof[static_cast<size_t>(i)];
                p.rows++;
                switch (sqlite3_column_type(stmt, i)) {
                case SQLITE_NULL: p.nulls++; break;
                case SQLITE_INTEGER: see_integer(p, sqlite3_column_int64(stmt, i)); break;
                case SQLITE_FLOAT: see_real(p, sqlite3_column_double(stmt, i)); break;
                case SQLITE_TEXT:
                    see_text(p, reinterpret_cast<const char*>(sqlite3_column_text(stmt, i)),
                             sqlite3_column_bytes(stmt, i));
                    break;
                default: p.n_blob++; break;
                }
            }
        }
    }
    for (ColumnProfile& p : prof) {
        if (p.n_json_like > 0 && p.n_json_like == p.rows - p.nulls)
            count_invalid_json(conn, table, p);
        suggest(p);
    }
    return prof;
}

}  // namespace recio

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
 * Suggested types (README "Migration runs"):
 *  - BLOB anywhere: bytea.
 *  - numbers (INTEGER, REAL, decimal TEXT) with at most 5% other values:
 *    integers -> bigint (timestamptz when every value is an epoch in
 *    2000..2100 and the column's name or declared type speaks of time);
 *    with fractions -> numeric(p,s), s the most decimals seen (<= 10),
 *    p the integer digits plus s rounded up to 12/18/28/38; more decimals
 *    (float artefacts such as 0.30000000000000004) -> numeric.
 *  - TEXT timestamps with at most 5% other values -> timestamptz (date when
 *    none has a time of day); 'HH:MM:SS' -> time; all JSON objects/arrays
 *    with at most 5% invalid -> jsonb; else text.
 * The values that will not convert to the suggestion are counted as
 * nonconforming: migrate(on_error => 'reject') moves them to rejects.  TEXT
 * that is not valid UTF-8 (or holds a NUL byte) converts to nothing but
 * bytea, so it is nonconforming under every other suggestion, text too; a
 * REAL Infinity does not fit a numeric(p,s).
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

void see_timestamp_text(ColumnProfile& p, const char* s, int len)
{
    ParsedTimestamp ts;
    if (len >= 10 && s[4] == '-' && parse_timestamp_text(s, len, ts)) {
        if (!timestamp_fields_valid(ts)) {
            p.n_bad_datetime++;
            return;
        }
        p.n_timestamp++;
        if (!ts.has_time) {
            p.f_date_only = true;
            return;
        }
        (s[10] == ' ' ? p.f_space : p.f_t) = true;
        p.f_fraction |= memchr(s + 11, '.', static_cast<size_t>(len - 11)) != nullptr;
        if (ts.has_zone)
            p.f_zone = true;
        else
            p.n_naive++;
        return;
    }
    if (len >= 5 && len <= 18 && s[2] == ':') {
        char buf[32];
        snprintf(buf, sizeof buf, "2000-01-01 %.*s", len, s);
        if (parse_timestamp_text(buf, static_cast<int>(strlen(buf)), ts) && !ts.has_zone &&
            timestamp_fields_valid(ts))
            p.n_time_only++;
    }
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

std::string numeric_type(const ColumnProfile& p)
{
    if (p.max_decimals > kMaxSuggestedScale)
        return "numeric";
    int need = p.max_integer_digits + p.max_decimals;
    for (int precision : {12, 18, 28, 38})
        if (need <= precision)
            return format("numeric(%d,%d)", precision, p.max_decimals);
    return "numeric";
}

void suggest(ColumnProfile& p)
{
    int64 nonnull = p.rows - p.nulls;
    int64 numbers = p.n_integer + p.n_real + p.n_numeric_text;
    p.nonconforming = 0;
    if (nonnull == 0) {
        p.suggested_type = "text";
    } else if (p.n_blob > 0) {
        p.suggested_type = "bytea";
    } else if (mostly(numbers, nonnull)) {
        if (p.has_real || p.fraction_text) {
            p.suggested_type = numeric_type(p);
            p.nonconforming = nonnull - numbers + (p.suggested_type == "numeric" ? 0 : p.n_real_infinite);
        } else if (p.n_integer == nonnull && (p.n_epoch_s == nonnull || p.n_epoch_ms == nonnull) &&
                   names_time(p.sqlite_name, p.declared)) {
            p.suggested_type = "timestamptz";
            p.epoch_unit = p.n_epoch_s == nonnull ? "s" : "ms";
        } else {
            p.suggested_type = "bigint";
            p.nonconforming = nonnull - numbers;
        }
    } else if (mostly(p.n_timestamp, nonnull)) {
        p.suggested_type = p.f_space || p.f_t ? "timestamptz" : "date";
        p.nonconforming = nonnull - p.n_timestamp;
    } else if (mostly(p.n_time_only, nonnull)) {
        p.suggested_type = "time";
        p.nonconforming = nonnull - p.n_time_only;
    } else if (p.n_json_like == nonnull && mostly(nonnull - p.n_json_invalid, nonnull)) {
        p.suggested_type = "jsonb";
        p.nonconforming = p.n_json_invalid;
    } else {
        p.suggested_type = "text";
        p.nonconforming = p.n_invalid_text;
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
                                         const std::vector<std::string>& columns)
{
    std::vector<ColumnProfile> prof(columns.size());
    for (const sqlite::ColumnInfo& c : sqlite::table_columns(conn, table)) {
        for (size_t i = 0; i < columns.size(); i++) {
            if (sqlite3_stricmp(c.name.c_str(), columns[i].c_str()) == 0) {
                prof[i].declared = c.declared;
                prof[i].declared_not_null = c.not_null;
                prof[i].pk_position = c.pk;
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

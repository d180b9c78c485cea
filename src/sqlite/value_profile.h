/*
 * value_profile.h: what the values of a SQLite table really are.  One pass over
 * the table on the SQLite side (sqlite3_step over the cached read-only
 * connection; nothing is copied into PostgreSQL) counts storage classes,
 * NULLs, decimals, timestamp formats, epoch ranges and JSON shapes per
 * column, and chooses the PostgreSQL type the data fits without changing
 * a value now or rounding a later write (README "Type rules").  Used by
 * recio_migrate.profile(), create_target() (through profile()) and
 * IMPORT FOREIGN SCHEMA ... OPTIONS (types 'observed').
 */
#pragma once

#include <string>
#include <vector>

#include "sqlite/connection_cache.h"

namespace recio {

/* the largest number of decimal places reported (and used in a numeric(p,s)) */
constexpr int kMaxProfileDecimals = 15;

/*
 * The layout of a TEXT date/time value: which parts it has, the separator,
 * the number of fractional digits and the zone suffix as written.  Two
 * values share a format when every field is equal; a column of one format
 * can be written back by to_char(value, legacy_format) byte for byte.
 */
struct TextTimeFormat {
    bool date = false, time = false, seconds = false;
    char separator = ' '; /* ' ', 'T' or 't' between date and time */
    int fraction_digits = 0;
    std::string zone; /* the suffix as written ("Z", " +05:30"), "" when none */
    bool operator==(const TextTimeFormat& o) const
    {
        return date == o.date && time == o.time && seconds == o.seconds && separator == o.separator &&
               fraction_digits == o.fraction_digits && zone == o.zone;
    }
};

struct ColumnProfile {
    std::string sqlite_name;
    std::string declared; /* declared SQLite type, "" when none */
    bool declared_not_null = false;
    int pk_position = 0; /* 1-based position in the SQLite primary key, 0 if not part of it */
    std::string declared_default; /* the SQLite DEFAULT as declared, "" when none */
    bool utc_default = false; /* DEFAULT CURRENT_TIMESTAMP / datetime('now'): SQLite writes UTC */

    int64 rows = 0, nulls = 0;
    int64 n_integer = 0, n_real = 0, n_text = 0, n_blob = 0;

    /* numbers (INTEGER, REAL, and TEXT that reads as a decimal number) */
    int64 n_numeric_text = 0;
    bool has_int = false, has_real = false;
    int64 int_min = 0, int_max = 0;
    double real_min = 0, real_max = 0;
    int64 n_real_infinite = 0;  /* Infinity/-Infinity: no numeric(p,s) holds them */
    int max_decimals = 0;       /* of REAL values and decimal TEXT, capped */
    int max_integer_digits = 0; /* digits before the point */
    bool fraction_text = false; /* a decimal TEXT with a fraction or beyond int64 */
    /* number TEXT that a number type would give back as another text ('+3', '007', ' 5', '1e3') */
    int64 n_number_text_changed = 0;
    std::string number_text_changed; /* the first such value */
    /* INTEGER values in the epoch-seconds / epoch-milliseconds range of 2000..2100 */
    int64 n_epoch_s = 0, n_epoch_ms = 0;

    /* TEXT that no PostgreSQL type but bytea takes: invalid UTF-8 or a NUL byte */
    int64 n_invalid_text = 0;

    /* TEXT min/max (BINARY collation) */
    bool has_text = false;
    std::string text_min, text_max;

    /* TEXT timestamps (parse_timestamp_text), formats seen */
    int64 n_timestamp = 0;    /* parses and is a real date/time */
    int64 n_bad_datetime = 0; /* timestamp syntax, impossible field (2025-02-30) */
    int64 n_time_only = 0;    /* 'HH:MM[:SS[.f]]' */
    int64 n_naive = 0;        /* a date and time without a zone */
    bool f_date_only = false, f_space = false, f_t = false, f_fraction = false, f_zone = false;
    /* the format of the first date/time TEXT, and the first value of another format */
    TextTimeFormat time_format;
    std::string time_format_example, other_format_example;
    std::string too_fine_time; /* the first with more than 6 fractional digits (rounded to microseconds) */
    pg_tz* zone = nullptr;     /* the zone naive timestamps are read in; NULL: UTC */
    int64 n_skipped_wall_clock = 0; /* naive times the zone's clock skips (DST start): they would move */
    std::string skipped_wall_clock; /* the first of them */

    /* TEXT that starts like a JSON object or array; invalid ones counted after the pass */
    int64 n_json_like = 0;
    int64 n_json_invalid = 0;

    /* results */
    std::string suggested_type;
    std::string observed_type; /* numeric(p,s) from the data (advice; create_target numeric_typmod 'observed') */
    std::string epoch_unit;    /* "s" / "ms" when suggested_type is timestamptz from epochs */
    std::string legacy_format; /* how the values are written: to_char pattern, or "epoch s" / "epoch ms" */
    std::string type_reason;   /* the rule that chose suggested_type, or why the column stays text */
    int64 nonconforming = 0;   /* non-null values that will not convert to suggested_type */
};

/*
 * Profile the given columns (SQLite names) of a SQLite table in one pass.
 * Column metadata (declared type, NOT NULL, primary key, DEFAULT) comes from
 * pragma_table_xinfo.  zones: per column, the zone its naive timestamps are
 * read in (NULL or a missing entry: UTC), to find the times that zone skips.
 */
std::vector<ColumnProfile> profile_table(sqlite::Connection& conn, const char* table,
                                         const std::vector<std::string>& columns,
                                         const std::vector<pg_tz*>& zones = {});

/* The SQLite column names of a table or view, in order. */
std::vector<std::string> sqlite_column_names(sqlite::Connection& conn, const char* table);

/* Decimal places of the shortest decimal that reads back as d (capped). */
int real_decimals(double d);

/* A decimal number in text ([+-]digits[.digits][e[+-]n]): its digits before the point and decimals. */
bool decimal_text(const char* s, int len, int* int_digits, int* decimals, bool* fraction);

/*
 * The text numeric_out (or int8out) gives back for a decimal number text
 * (decimal_text syntax): '+3' -> '3', '007' -> '7', '1e3' -> '1000'.
 */
std::string number_output_text(const char* s, int len);

/* Timestamp formats seen, e.g. "T, fraction, zone" (empty when none). */
std::vector<const char*> timestamp_formats(const ColumnProfile& p);

}  // namespace recio

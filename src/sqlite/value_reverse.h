/*
 * value_reverse.h: the reverse of value_convert.h.  A PostgreSQL value is
 * bound to a SQLite statement parameter in the representation the legacy
 * writer used for that column: a timestamp as text in the column's format,
 * zone and fraction digits (or as an epoch in its unit), a date as
 * YYYY-MM-DD, a time as HH:MM:SS, a numeric as REAL only when the double
 * holds it exactly, booleans as 0/1, bytea as a BLOB, everything else as
 * UTF-8 text; the storage class follows the legacy column's affinity, so
 * typeof() in SQLite gives what the legacy rows have.
 *
 * A value that has no exact legacy representation (more fraction digits
 * than the format keeps, a numeric a double cannot hold, a NaN SQLite
 * would store as NULL) throws a ConversionError (22xxx): nothing is rounded
 * or cut silently.  Used by the wrapper's INSERT/UPDATE and, later, by the
 * export of whole tables; it knows nothing of foreign tables or options.
 */
#pragma once

#include <sqlite3.h>

#include "common/error_boundary.h"
#include "sqlite/affinity.h"
#include "sqlite/value_rules.h"

extern "C" {
#include "fmgr.h"
#include "pgtime.h"
}

namespace recio {

/* What is known of the legacy column a value is written to (plain facts, from options or a ledger). */
struct LegacyColumn {
    sqlite::Affinity affinity; /* of the declared type (affinity.h) */
    const char* format;        /* timestamp text format (see README "Writing to SQLite"), NULL: default */
    bool epoch;                /* timestamps as an epoch number in epoch_unit rather than text */
    EpochUnit epoch_unit;
    const char* tz_name; /* zone of zone-less texts and epochs of timestamp columns; NULL: UTC */
    pg_tz* tz;           /* that zone resolved; NULL: UTC */
    bool allow_rounding; /* a numeric no double holds exactly is written as the nearest double */
};

enum class Reverse : int {
    Int,
    Float4,
    Float8,
    Numeric,
    Bool,
    Text,
    Bytea,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Output
};

/* One compiled item of a timestamp format. */
struct FormatItem {
    char kind;    /* 'Y' 'M' 'D' 'H' 'I' (minutes) 'S' 'F' (fraction) 'h' (TZH) 'm' (TZM) 'L' (literal) */
    char literal; /* for 'L' */
    int digits;   /* for 'F': 1..6, 0 = as many as needed (at least one) */
};

/* A column's reverse conversion, planned once per statement; lives in palloc'd memory. */
struct ReverseConverter {
    Reverse kind;
    Oid typid; /* base type */
    const char* type_name;
    LegacyColumn legacy;
    int nitems;
    FormatItem* items; /* compiled format (or the default one) for timestamps */
    FmgrInfo output;   /* output function (numeric, generic types) */
    bool utf8_db;      /* the database encoding is UTF-8: text is bound as is */
};

/*
 * Plan the reverse conversion of a column of type typid written to a
 * legacy column described by legacy.  Throws (22023) when the format is
 * not one the wrapper can write and read back to the same instant.
 */
void plan_reverse(ReverseConverter& conv, Oid typid, const LegacyColumn& legacy);

/* Bind value (or NULL) to parameter param of stmt. Throws ConversionError; returns SQLite's bind code. */
int bind_legacy(const ReverseConverter& conv, sqlite3_stmt* stmt, int param, Datum value, bool isnull);

/*
 * Check a timestamp format's syntax (the column option "format"); an empty
 * string when good, else what is wrong.
 */
std::string timestamp_format_problem(const char* format);

}  // namespace recio

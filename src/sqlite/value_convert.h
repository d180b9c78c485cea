/*
 * value_convert.h: strict conversion of SQLite's dynamically typed values
 * into the declared PostgreSQL type of a foreign-table column.
 *
 * Each column gets a Converter, planned once per scan (target kind, typmod,
 * zone, epoch unit, whether errors are handled).  Per row, convert() reads
 * the SQLite value and builds the Datum directly in the declared type,
 * without a detour through text or float8 casts where a direct path exists.
 * A value that cannot be represented exactly throws a ConversionError
 * (22xxx, 23xxx for a domain constraint); convert_row() hands it to the
 * caller's policy (an ERROR, a NULL or a skipped row).
 *
 * A ConversionError is never a PostgreSQL ERROR carried on from: the types
 * converted here (integers, floats, numeric, text, varchar, bytea, bool, date,
 * time, timestamps) are validated without raising, and the input functions and
 * domain checks of every other type run, when errors are handled, inside a
 * subtransaction rolled back on failure (input_compat.h).  A PostgreSQL
 * ERROR outside that is a PgError, which always ends the statement.
 */
#pragma once

#include <sqlite3.h>

#include "common/error_boundary.h"
#include "sqlite/value_rules.h"

extern "C" {
#include "fmgr.h"
#include "pgtime.h"
}

namespace recio {

enum class Target : int {
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric,
    Text,
    Varchar,
    Bytea,
    Bool,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Generic
};

/* A value that does not fit its column; the scan adds where it came from. */
class ConversionError : public Error {
public:
    using Error::Error;
};

struct Converter {
    Target target;
    Oid typid; /* base type (domains resolved) */
    int32 typmod;
    bool errors_handled; /* see ValueRules */
    EpochUnit epoch_unit;
    pg_tz* tz; /* zone for zone-less timestamps */
    bool tz_is_utc;
    const char* tz_name;
    const char* type_name; /* for messages: format_type of the column */
    FmgrInfo input;        /* type input function (numeric, generic) */
    Oid to_server_proc;    /* UTF-8 -> database encoding conversion; InvalidOid: none needed */
    /* numeric(p,s) typmod, decoded once: has_scale false for plain numeric */
    bool has_scale;
    int numeric_scale;
    int numeric_precision;
    /* domain over the base type: its constraints are checked after conversion */
    Oid domain_typid;
    void* domain_extra;        /* domain_check()'s cache */
    MemoryContext domain_cxt;  /* where that cache lives (the scan's context) */
    bool has_declared_rules;   /* a domain, or a timestamp/time precision, to apply */
    Oid typioparam;
};

/* Fill conv for a column of type typid/typmod read by rules. */
void plan_converter(Converter& conv, Oid typid, int32 typmod, const ValueRules& rules);

/* Convert column col of the current row of stmt. Throws ConversionError. */
Datum convert(const Converter& conv, sqlite3_stmt* stmt, int col, bool* isnull);

/* One converted column of a row: SQLite result column -> values[index]. */
struct ColumnConversion {
    int result_col;
    int index;
    const char* name; /* PostgreSQL column name, for messages */
    Converter conv;
};

enum class BadValueAction { Null, SkipRow };

/*
 * What the caller does with a value that does not convert.  on_bad_value
 * returns the action, or throws to stop the statement (it must throw for a
 * column whose conv.errors_handled is false).  refuse, if set, may refuse a
 * value before it is converted (true: *sqlstate and *message set).
 */
struct BadValuePolicy {
    BadValueAction (*on_bad_value)(void* arg, int col, int sqlstate, const std::string& message);
    bool (*refuse)(void* arg, int col, int* sqlstate, std::string* message);
    void* arg;
    bool skip_ends_row; /* a skipped row's later values are not converted (nor reported) */
};

/*
 * Convert the current row of stmt: cols[0..ncols) into values/nulls at their
 * index.  False: the policy skipped the row.  The one implementation of the
 * on_error handling for foreign scans and migration runs.
 */
bool convert_row(const ColumnConversion* cols, int ncols, sqlite3_stmt* stmt, Datum* values, bool* nulls,
                 const BadValuePolicy& policy);

/*
 * A value as it may appear inside a message: at most 64 bytes, cut on a
 * character boundary, never invalid UTF-8 (shown as hex instead).
 */
std::string shown(const char* text);

/* A short, printable rendering of a SQLite value for messages. */
std::string describe_value(sqlite3_stmt* stmt, int col);

/*
 * The value as the legacy file holds it, whole, palloc'd: INTEGER and REAL as
 * PostgreSQL prints them, TEXT as it is when it is valid UTF-8, anything else
 * as describe_value renders it.  What parity shows for a value that does not
 * convert.
 */
char* raw_text(sqlite3_stmt* stmt, int col);

/* SQLite storage class name: INTEGER, REAL, TEXT, BLOB or NULL. */
const char* storage_class_name(int sqlite_type);

/* Shortest text that round-trips a double (PostgreSQL's float8out format). */
int format_double(double v, char* buf);

/* Parse a legacy timestamp text: false on bad syntax. See value_convert.cpp. */
struct ParsedTimestamp {
    int year, month, day, hour, minute, second;
    int64 usec; /* fraction, rounded to microseconds */
    bool has_time;
    bool has_zone;
    int zone_seconds; /* offset east of UTC */
};
bool parse_timestamp_text(const char* s, int len, ParsedTimestamp& out);
/* Are the parsed fields a real date and time of day (no 2025-02-30, no hour 25)? */
bool timestamp_fields_valid(const ParsedTimestamp& p);
/*
 * Does this zone-less wall-clock time (valid fields) exist in tz?  Not the
 * times the clock skips when daylight saving time starts (02:30 in New York
 * on 2025-03-09): read in tz they become another instant, whose wall clock
 * is not the text written.
 */
bool wall_clock_exists(const ParsedTimestamp& p, pg_tz* tz);

}  // namespace recio

/*
 * value_convert.h: strict conversion of SQLite's dynamically typed values
 * into the declared PostgreSQL type of a foreign-table column.
 *
 * Each column gets a Converter, planned once per scan (target kind, typmod,
 * zone, epoch unit, error policy).  Per row, convert() reads the SQLite value
 * and builds the Datum directly in the declared type, without a detour
 * through text or float8 casts where a direct path exists.  A value that
 * cannot be represented exactly raises a ConversionError (22xxx) which the
 * scan turns into an ERROR, a NULL or a skipped row per the column's
 * on_error policy.
 */
#pragma once

#include <sqlite3.h>

#include "common/error_boundary.h"
#include "fdw/options.h"

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
    OnError on_error;
    EpochUnit epoch_unit;
    pg_tz* tz; /* zone for zone-less timestamps */
    bool tz_is_utc;
    const char* tz_name;
    const char* type_name; /* for messages: format_type of the column */
    FmgrInfo input;        /* type input function (numeric, generic) */
    /* numeric(p,s) typmod, decoded once: has_scale false for plain numeric */
    bool has_scale;
    int numeric_scale;
    int numeric_precision;
    /* a type input function's data error may be handled by on_error (built-in scalar types only) */
    bool soft_errors_ok;
    /* domain over the base type: its constraints are checked after conversion */
    Oid domain_typid;
    void* domain_extra;        /* domain_check()'s cache */
    MemoryContext domain_cxt;  /* where that cache lives (the scan's context) */
    bool has_declared_rules;   /* a domain, or a timestamp/time precision, to apply */
    Oid typioparam;
};

/* Fill conv for a column of type typid/typmod; tz_name NULL means UTC. */
void plan_converter(Converter& conv, Oid typid, int32 typmod, OnError on_error, EpochUnit unit, const char* tz_name);

/* Convert column col of the current row of stmt. Throws ConversionError. */
Datum convert(const Converter& conv, sqlite3_stmt* stmt, int col, bool* isnull);

/*
 * A value as it may appear inside a message: at most 64 bytes, cut on a
 * character boundary, never invalid UTF-8 (shown as hex instead).
 */
std::string shown(const char* text);

/* A short, printable rendering of a SQLite value for messages. */
std::string describe_value(sqlite3_stmt* stmt, int col);

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

}  // namespace recio

/*
 * canonical.h: the canonical form of values, shared by checksum() and
 * parity(): equal data in a SQLite table (read through recio_sqlite) and in
 * its migrated PostgreSQL copy has equal canonical bytes although the column
 * types differ.
 *
 * Canonical form of one value (the README's "Checksum canonical form"):
 *   NULL                          'N'
 *   int2/4/8, float4/8, numeric   'D' plain decimal, no exponent, no trailing
 *                                 zeros, "-0" -> "0" (0.5 = 0.5000 = 5e-1;
 *                                 3 = 3.0); NaN/Infinity by name; then '\0'.
 *                                 With a tolerance t (checksums only):
 *                                 'D' floor(v / 2t) '@' t.
 *   text, varchar, char, name     'T' length bytes (char without its padding)
 *   bool                          'B' 0|1
 *   timestamptz, timestamp        'S' microseconds since 2000-01-01 UTC (a
 *                                 timestamp is taken as UTC)
 *   date                          'A' days;  time: 'M' microseconds
 *   bytea                         'X' length bytes
 *   json, jsonb                   'J' length, the jsonb text (key order and
 *                                 spacing ignored)
 *   uuid                          'U' length 16 bytes
 *   anything else                 'O' length, the type's output text
 *   a legacy value that did not   'R' length, its legacy text (read_as.h):
 *   convert into the target type  equal to no value of the target
 * (lengths are 4-byte, integers 8-byte, both in the machine's byte order).
 *
 * Everything here is C-style code over PostgreSQL structures, to be run under
 * pg::call: it may ereport.
 */
#pragma once

#include "common/error_boundary.h"

extern "C" {
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/jsonb.h"
}

namespace recio {

enum class Canon { Int, Float4, Float8, Numeric, Text, Bpchar, Bool, Timestamp, Date, Time, Bytea, Json, Jsonb, Uuid, Other };

/* One column as it is read and canonicalized. */
struct ColumnPlan {
    char* name;
    Oid typid;
    int32 typmod;
    Oid basetype; /* typid without domains */
    Canon canon;
    Datum twice_tolerance; /* numeric 2t for checksum buckets, or 0 for exact */
    Datum tolerance;       /* numeric t for row comparison, or 0 for exact */
    char* tolerance_text;
    FmgrInfo out;
};

Canon canon_of(Oid typid);
bool is_number(Canon c);
/* Values of the two classes can be equal: numbers with numbers, text with char, ... */
bool comparable(Canon a, Canon b);
const char* canon_class_name(Canon c);

/* Fill canon, output function and tolerances of a column whose name and typid are set. */
void plan_column(ColumnPlan* col, Jsonb* tolerance);
/* Every key of an object tolerance must name one of the numeric columns. */
void check_tolerance_keys(Jsonb* tolerance, const ColumnPlan* cols, int ncols);

/* Sort columns by name (strcmp order): a row is canonicalized in column-name order. */
void sort_by_name(ColumnPlan* cols, int ncols);

/* Append one value's canonical form; bucketed = apply the checksum tolerance buckets. */
void append_value(StringInfo buf, const ColumnPlan& col, Datum value, bool isnull, bool bucketed);

/* Append the canonical form of a legacy value that did not convert (raw: its text). */
void append_raw_value(StringInfo buf, const char* raw);

/* Length of one canonical value starting at p. */
int canonical_length(const char* p);

/* Canonical numbers a and b ('D' forms) differ by at most tolerance (numeric). */
bool within_tolerance(const char* a, const char* b, Datum tolerance);

/* Canonical values a and b (la, lb bytes long) differ by more than tolerance (0: at all). */
bool values_differ(const char* a, int la, const char* b, int lb, Datum tolerance);

/*
 * Append row (canonical values of cols, in order) with each value of a
 * column that has a tolerance t replaced by its bucket floor((v + shift) / 2t),
 * shift 0 or t.  Two numbers closer than t share a bucket in at least one of
 * the two shifts.
 */
void append_row_buckets(StringInfo buf, const ColumnPlan* cols, int ncols, const char* row, bool shifted);

/* A canonical value as readable text (NULL for 'N'): what parity_diff shows. */
char* canonical_display(const char* p);

/*
 * Key encoding: memcmp order of the encoded bytes equals the order of
 * ORDER BY key (COLLATE "C") NULLS LAST.  Supported kinds: integers,
 * text/varchar/char/name, date, time, timestamp(tz), uuid, bool.
 */
bool key_supported(Canon c);
void append_key(StringInfo buf, const ColumnPlan& col, Datum value, bool isnull);
/* A key part that did not convert: its legacy text, ordered after every value and NULL. */
void append_raw_key(StringInfo buf, const char* raw);
/* One encoded key part as JSON text (number, string or null); advances *p. */
void append_key_json(StringInfo out, const ColumnPlan& col, const char** p);

}  // namespace recio

/*
 * checksum.h: order-independent checksums of a relation (foreign or local)
 * over canonical values, so that a legacy SQLite table read through
 * recio_sqlite and its migrated PostgreSQL copy give the same checksum when
 * they hold the same data, although their column types differ.
 *
 * Canonical form of one value (the README's "Checksum canonical form"):
 *   NULL                          'N'
 *   int2/4/8, float4/8, numeric   'D' plain decimal, no exponent, no trailing
 *                                 zeros, "-0" -> "0" (0.5 = 0.5000 = 5e-1;
 *                                 3 = 3.0); NaN/Infinity by name.  With a
 *                                 tolerance t: 'D' floor(v / 2t) '@' t.
 *   text, varchar, char           'T' length bytes (char without its padding)
 *   bool                          'B' 0|1
 *   timestamptz, timestamp        'S' microseconds since 2000-01-01 UTC (a
 *                                 timestamp is taken as UTC)
 *   date                          'A' days;  time: 'M' microseconds
 *   bytea                         'X' length bytes
 *   json, jsonb                   'J' the jsonb text (key order, spacing ignored)
 *   uuid                          'U' 16 bytes
 *   anything else                 'O' the type's output text
 * A row is its values in column-name order; its hash is 128 bits
 * (hash_bytes_extended with two seeds); the table checksum is the sum of
 * the row hashes modulo 2^128: independent of row order, and a duplicated
 * row changes it (a XOR would cancel).
 */
#pragma once

#include "common/error_boundary.h"

extern "C" {
#include "utils/array.h"
#include "utils/jsonb.h"
}

namespace recio {

struct ChecksumResult {
    int64 rows;
    uint64 hi, lo;
};

/*
 * Checksum of relid's columns (NULL: all, by name) with per-column
 * tolerances (jsonb number or object; NULL: exact).
 */
ChecksumResult relation_checksum(Oid relid, ArrayType* columns, Jsonb* tolerance);

}  // namespace recio

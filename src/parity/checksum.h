/*
 * checksum.h: order-independent checksums of a relation (foreign or local)
 * over canonical values, so that a legacy SQLite table read through
 * recio_sqlite and its migrated PostgreSQL copy give the same checksum when
 * they hold the same data, although their column types differ.
 *
 * The canonical form of one value is specified in canonical.h.
 * A row is its values in column-name order; its hash is 128 bits
 * (hash_bytes_extended with two seeds); the table checksum is the sum of
 * the row hashes modulo 2^128: independent of row order, and a duplicated
 * row changes it (a XOR would cancel).
 */
#pragma once

#include "parity/canonical.h"

extern "C" {
#include "executor/spi.h"
}

extern "C" {
#include "utils/array.h"
#include "utils/jsonb.h"
}

namespace recio {

struct ChecksumResult {
    int64 rows;
    unsigned __int128 sum;
};

/* Add one row's canonical bytes to a checksum. */
void add_row(ChecksumResult* r, const char* data, int len);
/* The checksum as 32 hex digits. */
char* checksum_text(const ChecksumResult& r);

/*
 * Checksum of the rows of query, whose output columns are cols (in
 * column-name order), canonicalized with the checksum's tolerance buckets.
 * C-style: run under pg::call, inside SPI_connect.
 */
void checksum_query(const char* query, const ColumnPlan* cols, int ncols, ChecksumResult* out);
/* The same over a plan from prepare_rows (row_cursor.h) with its arguments. */
void checksum_plan(SPIPlanPtr plan, const int64* args, const ColumnPlan* cols, int ncols, ChecksumResult* out);

/*
 * Checksum of relid's columns (NULL: all, by name) with per-column
 * tolerances (jsonb number or object; NULL: exact).
 */
ChecksumResult relation_checksum(Oid relid, ArrayType* columns, Jsonb* tolerance);

/* parity's settings (recio_migrate.parity_range_rows), defined at load */
void define_parity_settings();

}  // namespace recio

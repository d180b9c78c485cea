/*
 * row_cursor.h: read the rows of a query through an SPI cursor straight into
 * a callback, without SPI's tuple copies: the cursor's portal runs with a
 * DestReceiver that hands each slot to the callback, which canonicalizes it
 * on the spot.  Two cursors can be open at once and fetched alternately (the
 * merge in parity() does that), each fetch asking for a batch of rows.
 *
 * C-style code to be run under pg::call, inside SPI_connect/SPI_finish.
 */
#pragma once

#include "common/error_boundary.h"
#include "fdw/read_as.h"

extern "C" {
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "utils/portal.h"
}

namespace recio {

using RowCallback = void (*)(void* arg, TupleTableSlot* slot);

struct RowCursor;

/*
 * Prepare query, which may use nargs bigint parameters $1..$n, for row
 * cursors.  The plan is generic: made once at the first open and reused for
 * every range parity's checksum mode reads (planning a foreign table can
 * cost a count(*) on the SQLite side).  It lives until SPI_finish.
 * fast_start: plan for the first rows (cursor_tuple_fraction), which picks
 * an ordered index scan over a sort for the key-ordered reads of the merge,
 * so memory stays flat instead of growing to work_mem; otherwise plan for
 * reading every row (the checksum's scans).
 */
SPIPlanPtr prepare_rows(const char* query, int nargs, bool fast_start);

/* Open a read-only, no-scroll cursor over plan with the given bigint arguments. */
RowCursor* open_row_cursor(SPIPlanPtr plan, const int64* args, RowCallback callback, void* arg);
/*
 * A cursor over every row of a recio_sqlite foreign table read through
 * read_as.h: cols (in this order) converted into their types, handed to the
 * callback as a virtual slot of those types, in no particular order.
 * During the callback, cursor_raw(cursor)[i] is the legacy text of column
 * i's value when it did not convert (the slot holds NULL), else NULL.
 */
RowCursor* open_read_as_cursor(Relation rel, const ReadAsColumn* cols, int ncols, RowCallback callback, void* arg);
const char* const* cursor_raw(const RowCursor* cursor);

/* Feed up to count rows (FETCH_ALL: every row) to the callback; returns how many. */
uint64 fetch_rows(RowCursor* cursor, long count);
void close_row_cursor(RowCursor* cursor);

}  // namespace recio

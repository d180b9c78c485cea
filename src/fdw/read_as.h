/*
 * read_as.h: read columns of a recio_sqlite foreign table converted into
 * types the caller names instead of the declared ones.  The conversion is
 * the one a foreign scan or a migration run makes into those types
 * (value_convert.h, with each column's timezone and epoch_unit options), so
 * parity and sync compare a legacy column as its migration converted it.
 * A value that does not convert never stops the read: it is NULL in the row
 * and its legacy text is in the reader's raw[] (scan.h).
 */
#pragma once

#include "fdw/scan.h"

namespace recio {

struct ReadAsColumn {
    AttrNumber attnum; /* of the foreign table */
    ColumnType type;   /* what to convert its SQLite value into */
};

/*
 * A reader over every row of foreign table rel (a recio_sqlite table the
 * caller has locked and may read), in no particular order: result column i
 * is cols[i], converted into cols[i].type; reader_next fills values and nulls
 * at attnum - 1 (arrays of the relation's natts), raw[i] for a value that did
 * not convert.  The reader lives in a child of parent; reader_close ends it.
 */
RowReader* read_as_open(Relation rel, const ReadAsColumn* cols, int ncols, MemoryContext parent);

}  // namespace recio

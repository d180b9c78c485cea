/*
 * scan.h: RowReader, one SQLite statement read row by row into the declared
 * types of a foreign table (used by foreign scans and by ANALYZE).
 * A RowReader lives in palloc'd memory and holds no C++ objects.
 */
#pragma once

#include "common/error_boundary.h"
#include "fdw/deparse.h"
#include "fdw/options.h"
#include "sqlite/connection_cache.h"
#include "sqlite/value_convert.h"

extern "C" {
#include "nodes/execnodes.h"
#include "utils/relcache.h"
}

namespace recio {

/* A type to read a column in instead of its declared one (read_as.h). */
struct ColumnType {
    Oid typid;
    int32 typmod;
};

/* Switch memory context for a C++ scope; restored on normal exit and on a throw. */
class ContextSwitch {
public:
    explicit ContextSwitch(MemoryContext cxt) : old_(MemoryContextSwitchTo(cxt)) {}
    ~ContextSwitch() { MemoryContextSwitchTo(old_); }
    ContextSwitch(const ContextSwitch&) = delete;
    ContextSwitch& operator=(const ContextSwitch&) = delete;

private:
    MemoryContext old_;
};

struct RowReader {
    static constexpr int kRemember = 5;

    Oid relid;
    const char* relname; /* schema.table, for messages */
    sqlite::Connection* conn;
    sqlite3_stmt* stmt; /* finalized when cxt goes away */
    const char* sql;
    MemoryContext cxt;
    MemoryContext row_cxt; /* reset before every row */
    int natts;             /* of the foreign table */
    int nconv;             /* converted result columns (all but the row key) */
    ColumnConversion* cols; /* per converted column: values[attnum - 1] */
    OnError* on_error;      /* per converted column */
    int key_col;           /* result column of the row key, or -1 */
    KeyKind key_kind;
    int64 row_number;
    /* on_error accounting, reported in one NOTICE when the reader closes */
    int64 skipped;
    int64 nulled;
    int nremembered;
    char remembered[kRemember][128];
    /* parameters bound to ?1..?n, evaluated at the first row after (re)start */
    List* param_states;
    Oid* param_types;
    bool params_bound;
    /*
     * Read in other types (read_as.h): per converted column, the legacy text
     * of a value that did not convert in the current row (its value is NULL),
     * else NULL.  NULL for a scan, which follows on_error.
     */
    char** raw;
    bool want_tid; /* the row's rowid goes into the slot's ctid (the row identity of UPDATE/DELETE) */
};

/*
 * as: per result column, the type to convert into (nullptr: the declared
 * types, with the columns' on_error); with it, a value that does not convert
 * is kept in raw, whatever on_error says.
 */
RowReader* reader_open(Relation rel, const char* sql, List* retrieved, KeyKind key_kind, MemoryContext parent,
                       const ColumnType* as = nullptr);
bool reader_next(RowReader& r, Datum* values, bool* nulls);
void reader_rewind(RowReader& r);
void reader_close(RowReader* r);

/* A SQLite rowid as a ctid and back (the row identity of UPDATE and DELETE); throws when out of range. */
ItemPointerData rowid_to_tid(int64 rowid);
int64 tid_to_rowid(const ItemPointerData* tid);

/* the scan callbacks (shims in module.cpp) */
void begin_scan(ForeignScanState* node, int eflags);
TupleTableSlot* iterate_scan(ForeignScanState* node);
void rescan(ForeignScanState* node);
void end_scan(ForeignScanState* node);

}  // namespace recio

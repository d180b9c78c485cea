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
    bool want_tid; /* the row's rowid goes into the slot's ctid (the row identity of UPDATE/DELETE) */
};

RowReader* reader_open(Relation rel, const char* sql, List* retrieved, KeyKind key_kind, MemoryContext parent);
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

/*
 * row_cursor.cpp: SPI cursors whose rows go to a callback (see row_cursor.h).
 * PortalRunFetch is what SPI_cursor_fetch runs, with SPI's own tuple-copying
 * receiver; here it runs with ours.  A read_as cursor steps a RowReader
 * instead and hands the callback a virtual slot.
 */
#include "parity/row_cursor.h"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "tcop/pquery.h"
#include "utils/rel.h"
}

namespace recio {

struct RowCursor {
    DestReceiver dest; /* first: the executor sees a DestReceiver */
    RowCallback callback;
    void* arg;
    Portal portal;
    /* read_as cursors (portal NULL) */
    RowReader* reader;
    const ReadAsColumn* cols;
    int ncols;
    TupleTableSlot* slot;
    Datum* values; /* by attnum - 1 of the foreign table */
    bool* nulls;
};

namespace {

bool receive_slot(TupleTableSlot* slot, DestReceiver* self)
{
    RowCursor* c = reinterpret_cast<RowCursor*>(self);
    c->callback(c->arg, slot);
    return true;
}

void receiver_startup(DestReceiver*, int, TupleDesc) {}
void receiver_shutdown(DestReceiver*) {}
void receiver_destroy(DestReceiver*) {}

}  // namespace

SPIPlanPtr prepare_rows(const char* query, int nargs, bool fast_start)
{
    Oid types[2] = {INT8OID, INT8OID};
    Assert(nargs <= 2);
    int options = CURSOR_OPT_NO_SCROLL | CURSOR_OPT_GENERIC_PLAN | (fast_start ? CURSOR_OPT_FAST_PLAN : 0);
    SPIPlanPtr plan = SPI_prepare_cursor(query, nargs, types, options);
    if (!plan)
        elog(ERROR, "could not prepare \"%s\": %s", query, SPI_result_code_string(SPI_result));
    return plan;
}

RowCursor* open_row_cursor(SPIPlanPtr plan, const int64* args, RowCallback callback, void* arg)
{
    RowCursor* c = static_cast<RowCursor*>(palloc0(sizeof(RowCursor)));
    c->dest.receiveSlot = receive_slot;
    c->dest.rStartup = receiver_startup;
    c->dest.rShutdown = receiver_shutdown;
    c->dest.rDestroy = receiver_destroy;
    c->dest.mydest = DestNone;
    c->callback = callback;
    c->arg = arg;
    int nargs = SPI_getargcount(plan);
    Datum values[2];
    for (int i = 0; i < nargs; i++)
        values[i] = Int64GetDatum(args[i]);
    c->portal = SPI_cursor_open(nullptr, plan, values, nullptr, true);
    return c;
}

RowCursor* open_read_as_cursor(Relation rel, const ReadAsColumn* cols, int ncols, RowCallback callback, void* arg)
{
    RowCursor* c = static_cast<RowCursor*>(palloc0(sizeof(RowCursor)));
    c->callback = callback;
    c->arg = arg;
    c->cols = cols;
    c->ncols = ncols;
    TupleDesc rdesc = RelationGetDescr(rel);
    TupleDesc desc = CreateTemplateTupleDesc(ncols);
    for (int i = 0; i < ncols; i++)
        TupleDescInitEntry(desc, static_cast<AttrNumber>(i + 1),
                           NameStr(TupleDescAttr(rdesc, cols[i].attnum - 1)->attname), cols[i].type.typid,
                           cols[i].type.typmod, 0);
    c->slot = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);
    c->values = static_cast<Datum*>(palloc0(sizeof(Datum) * rdesc->natts));
    c->nulls = static_cast<bool*>(palloc0(sizeof(bool) * rdesc->natts));
    c->reader = read_as_open(rel, cols, ncols, CurrentMemoryContext);
    return c;
}

const char* const* cursor_raw(const RowCursor* c)
{
    return c->reader ? c->reader->raw : nullptr;
}

uint64 fetch_rows(RowCursor* c, long count)
{
    if (c->portal)
        return PortalRunFetch(c->portal, FETCH_FORWARD, count, &c->dest);
    uint64 n = 0;
    for (; count == FETCH_ALL || n < static_cast<uint64>(count); n++) {
        if (!reader_next(*c->reader, c->values, c->nulls))
            break;
        TupleTableSlot* slot = c->slot;
        ExecClearTuple(slot);
        for (int i = 0; i < c->ncols; i++) {
            slot->tts_values[i] = c->values[c->cols[i].attnum - 1];
            slot->tts_isnull[i] = c->nulls[c->cols[i].attnum - 1];
        }
        ExecStoreVirtualTuple(slot);
        c->callback(c->arg, slot);
    }
    return n;
}

void close_row_cursor(RowCursor* c)
{
    if (c->portal) {
        SPI_cursor_close(c->portal);
    } else {
        reader_close(c->reader);
        ExecDropSingleTupleTableSlot(c->slot);
    }
    pfree(c);
}

}  // namespace recio

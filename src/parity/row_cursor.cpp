/*
 * row_cursor.cpp: SPI cursors whose rows go to a callback (see row_cursor.h).
 * PortalRunFetch is what SPI_cursor_fetch runs, with SPI's own tuple-copying
 * receiver; here it runs with ours.
 */
#include "parity/row_cursor.h"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "tcop/pquery.h"
}

namespace recio {

struct RowCursor {
    DestReceiver dest; /* first: the executor sees a DestReceiver */
    RowCallback callback;
    void* arg;
    Portal portal;
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

uint64 fetch_rows(RowCursor* c, long count)
{
    return PortalRunFetch(c->portal, FETCH_FORWARD, count, &c->dest);
}

void close_row_cursor(RowCursor* c)
{
    SPI_cursor_close(c->portal);
    pfree(c);
}

}  // namespace recio

/*
 * analyze.cpp: ANALYZE on a recio_sqlite foreign table.  One pass over the
 * SQLite table with reservoir sampling (the same algorithm ANALYZE uses for
 * heap tables), values converted exactly as a scan converts them.
 */
#include "fdw/analyze.h"

extern "C" {
#include "access/htup_details.h"
#include "commands/vacuum.h"
#include "utils/rel.h"
#include "utils/sampling.h"
}

#include <sys/stat.h>

#include "fdw/options.h"
#include "fdw/planner.h"
#include "fdw/scan.h"

extern "C" {
#include "foreign/foreign.h"
}

namespace recio {
namespace {

int acquire_sample(Relation rel, int elevel, HeapTuple* rows, int targrows, double* totalrows, double* totaldeadrows)
{
    RelInfo* info = describe_relation(RelationGetRelid(rel));
    List* retrieved = NIL;
    List* params = NIL;
    List* refused = NIL;
    Bitmapset* all = pg::call([] { return bms_make_singleton(0 - FirstLowInvalidHeapAttributeNumber); });
    char* sql = pg::call(
        [&] { return build_select(nullptr, nullptr, info, all, NIL, NIL, -1, 0, &retrieved, &params, &refused); });
    MemoryContext sample_cxt = CurrentMemoryContext;
    RowReader* r = reader_open(rel, sql, retrieved, info->key_kind, sample_cxt);
    TupleDesc desc = RelationGetDescr(rel);
    auto* values = static_cast<Datum*>(pg::alloc_zero(sizeof(Datum) * (desc->natts + 1)));
    auto* nulls = static_cast<bool*>(pg::alloc_zero(sizeof(bool) * (desc->natts + 1)));

    ReservoirStateData rstate;
    reservoir_init_selection_state(&rstate, targrows);
    int numrows = 0;
    double seen = 0;
    double skip = -1;
    while (reader_next(*r, values, nulls)) {
        pg::call([] { vacuum_delay_point(); });
        seen += 1;
        HeapTuple* slot = nullptr;
        if (numrows < targrows) {
            slot = &rows[numrows++];
        } else {
            if (skip < 0)
                skip = reservoir_get_next_S(&rstate, seen, targrows);
            if (skip <= 0) {
                int k = static_cast<int>(targrows * sampler_random_fract(&rstate.randstate));
                pg::call([&] { heap_freetuple(rows[k]); });
                slot = &rows[k];
            }
            skip -= 1;
        }
        if (slot)
            *slot = pg::call([&] { return heap_form_tuple(desc, values, nulls); });
    }
    reader_close(r);
    *totalrows = seen;
    *totaldeadrows = 0;
    const char* name = RelationGetRelationName(rel);
    pg::call([&] {
        ereport(elevel, (errmsg("\"%s\": SQLite table contains %.0f rows; %d rows in sample", name, seen, numrows)));
    });
    return numrows;
}

int acquire_sample_shim(Relation rel, int elevel, HeapTuple* rows, int targrows, double* totalrows,
                        double* totaldeadrows)
{
    return guarded([&] { return acquire_sample(rel, elevel, rows, targrows, totalrows, totaldeadrows); });
}

}  // namespace

bool analyze_table(Relation relation, AcquireSampleRowsFunc* func, BlockNumber* totalpages)
{
    Oid serverid = pg::call([&] { return GetForeignTable(RelationGetRelid(relation))->serverid; });
    ServerOptions opts = server_options(serverid);
    struct stat st;
    double pages = stat(opts.database, &st) == 0 ? static_cast<double>(st.st_size) / BLCKSZ : 1;
    *totalpages = pages < 1 ? 1 : static_cast<BlockNumber>(pages);
    *func = acquire_sample_shim;
    return true;
}

}  // namespace recio

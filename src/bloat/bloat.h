/*
 * bloat.h: what one page scan of a relation measures (bloat_measure()).
 * The figures are plain numbers so they can cross the C++/PostgreSQL
 * boundary and be turned into a row after every guarded call has returned.
 */
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/rel.h"
}

namespace recio {
namespace bloat {

enum class Method { Exact, Approx, Auto, Size };

struct Measurement {
    int64 total_bytes;  /* main fork */
    int64 live_bytes;   /* heap: t_len of live tuples; btree: used leaf space */
    int64 dead_bytes;   /* heap: t_len of dead tuples; btree: LP_DEAD items */
    int64 free_bytes;   /* heap: PageGetHeapFreeSpace; btree: leaf free + reusable pages */
    int64 bloat_bytes;  /* space beyond what the live data needs at the fillfactor */
    int64 live_tuples;  /* heap tuples, or btree leaf items */
    int64 dead_tuples;
    int64 pages_read;
    int fillfactor;
    double leaf_density; /* btree: percent of leaf space in use, else < 0 */
};

/* Heap (table, TOAST table, materialized view): every page, or approx. */
void measure_heap(Relation rel, bool approx, Measurement* out);

/* btree index: every page after the metapage, like pgstatindex. */
void measure_btree(Relation rel, Measurement* out);

}  // namespace bloat
}  // namespace recio

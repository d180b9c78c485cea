/*
 * planner.h: the planning callbacks of recio_sqlite (the extern "C" shims
 * PostgreSQL calls live in module.cpp; these are the C++ bodies they run
 * under the outer guard), and the SQLite-side description of a foreign
 * table that planning, scans, ANALYZE and migration runs share.
 */
#pragma once

#include "common/error_boundary.h"
#include "fdw/deparse.h"

extern "C" {
#include "access/htup.h"
#include "commands/explain.h"
#include "foreign/fdwapi.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"
#include "nodes/plannodes.h"
}

namespace recio {

void get_rel_size(PlannerInfo* root, RelOptInfo* baserel, Oid relid);
void get_paths(PlannerInfo* root, RelOptInfo* baserel);
ForeignScan* get_plan(PlannerInfo* root, RelOptInfo* baserel, ForeignPath* best_path, List* tlist, List* scan_clauses,
                      Plan* outer_plan);
void explain_scan(ForeignScanState* node, ExplainState* es);

/* The SQLite-side description of a foreign table: its SQLite table, columns, key and what may be pushed. */
RelInfo* describe_relation(Oid relid);

}  // namespace recio

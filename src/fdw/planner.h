/*
 * planner.h: the FDW callbacks of recio_sqlite, grouped by phase.  The
 * extern "C" shims that PostgreSQL calls live in module.cpp; these are the
 * C++ bodies they run under the outer guard.
 */
#pragma once

#include "common/error_boundary.h"

extern "C" {
#include "access/htup.h"
#include "commands/explain.h"
#include "foreign/fdwapi.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"
#include "nodes/plannodes.h"
}

namespace recio {

/* planner.cpp */
void get_rel_size(PlannerInfo* root, RelOptInfo* baserel, Oid relid);
void get_paths(PlannerInfo* root, RelOptInfo* baserel);
ForeignScan* get_plan(PlannerInfo* root, RelOptInfo* baserel, ForeignPath* best_path, List* tlist, List* scan_clauses,
                      Plan* outer_plan);
void explain_scan(ForeignScanState* node, ExplainState* es);

/* scan.cpp */
void begin_scan(ForeignScanState* node, int eflags);
TupleTableSlot* iterate_scan(ForeignScanState* node);
void rescan(ForeignScanState* node);
void end_scan(ForeignScanState* node);

/* analyze.cpp */
bool analyze_table(Relation relation, AcquireSampleRowsFunc* func, BlockNumber* totalpages);

/* import_schema.cpp */
List* import_schema(ImportForeignSchemaStmt* stmt, Oid serverid);

}  // namespace recio

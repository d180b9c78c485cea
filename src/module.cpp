/*
 * module.cpp: the extension's entry points PostgreSQL calls by name: the
 * module magic and the recio_sqlite FDW handler.  Each FDW callback is a
 * one-line shim that runs its C++ body under the outer guard.
 */
#include "common/error_boundary.h"

extern "C" {
#include "fmgr.h"
#include "foreign/fdwapi.h"
#include "nodes/nodes.h"
PG_MODULE_MAGIC;
void _PG_init(void);
}

#include "fdw/analyze.h"
#include "fdw/import_schema.h"
#include "fdw/planner.h"
#include "fdw/scan.h"
#include "parity/checksum.h"

namespace recio {
namespace {

void GetForeignRelSize(PlannerInfo* root, RelOptInfo* baserel, Oid relid)
{
    guarded([&] { get_rel_size(root, baserel, relid); });
}

void GetForeignPaths(PlannerInfo* root, RelOptInfo* baserel, Oid)
{
    guarded([&] { get_paths(root, baserel); });
}

ForeignScan* GetForeignPlan(PlannerInfo* root, RelOptInfo* baserel, Oid, ForeignPath* best_path, List* tlist,
                            List* scan_clauses, Plan* outer_plan)
{
    return guarded([&] { return get_plan(root, baserel, best_path, tlist, scan_clauses, outer_plan); });
}

void BeginForeignScan(ForeignScanState* node, int eflags)
{
    guarded([&] { begin_scan(node, eflags); });
}

TupleTableSlot* IterateForeignScan(ForeignScanState* node)
{
    return guarded([&] { return iterate_scan(node); });
}

void ReScanForeignScan(ForeignScanState* node)
{
    guarded([&] { rescan(node); });
}

void EndForeignScan(ForeignScanState* node)
{
    guarded([&] { end_scan(node); });
}

void ExplainForeignScan(ForeignScanState* node, ExplainState* es)
{
    guarded([&] { explain_scan(node, es); });
}

bool AnalyzeForeignTable(Relation relation, AcquireSampleRowsFunc* func, BlockNumber* totalpages)
{
    return guarded([&] { return analyze_table(relation, func, totalpages); });
}

List* ImportForeignSchema(ImportForeignSchemaStmt* stmt, Oid serverid)
{
    return guarded([&] { return import_schema(stmt, serverid); });
}

}  // namespace
}  // namespace recio

RECIO_FUNCTION(recio_sqlite_handler)
{
    FdwRoutine* routine = recio::pg::call([] { return makeNode(FdwRoutine); });
    routine->GetForeignRelSize = recio::GetForeignRelSize;
    routine->GetForeignPaths = recio::GetForeignPaths;
    routine->GetForeignPlan = recio::GetForeignPlan;
    routine->BeginForeignScan = recio::BeginForeignScan;
    routine->IterateForeignScan = recio::IterateForeignScan;
    routine->ReScanForeignScan = recio::ReScanForeignScan;
    routine->EndForeignScan = recio::EndForeignScan;
    routine->ExplainForeignScan = recio::ExplainForeignScan;
    routine->AnalyzeForeignTable = recio::AnalyzeForeignTable;
    routine->ImportForeignSchema = recio::ImportForeignSchema;
    PG_RETURN_POINTER(routine);
}

/* Load time: the extension's settings. */
extern "C" void _PG_init(void)
{
    recio::guarded([] { recio::pg::call([] { recio::define_parity_settings(); }); });
}

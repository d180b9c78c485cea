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
#include "fdw/modify.h"
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

int IsForeignRelUpdatable(Relation rel)
{
    return guarded([&] { return is_rel_updatable(rel); });
}

void AddForeignUpdateTargets(PlannerInfo* root, Index rtindex, RangeTblEntry* target_rte, Relation target_relation)
{
    guarded([&] { add_update_targets(root, rtindex, target_rte, target_relation); });
}

List* PlanForeignModify(PlannerInfo* root, ModifyTable* plan, Index result_relation, int subplan_index)
{
    return guarded([&] { return plan_modify(root, plan, result_relation, subplan_index); });
}

void BeginForeignModify(ModifyTableState* mtstate, ResultRelInfo* rinfo, List* fdw_private, int subplan_index,
                        int eflags)
{
    guarded([&] { begin_modify(mtstate, rinfo, fdw_private, subplan_index, eflags); });
}

TupleTableSlot* ExecForeignInsert(EState* estate, ResultRelInfo* rinfo, TupleTableSlot* slot, TupleTableSlot* plan_slot)
{
    return guarded([&] { return exec_insert(estate, rinfo, slot, plan_slot); });
}

TupleTableSlot** ExecForeignBatchInsert(EState* estate, ResultRelInfo* rinfo, TupleTableSlot** slots,
                                        TupleTableSlot** plan_slots, int* num_slots)
{
    return guarded([&] { return exec_batch_insert(estate, rinfo, slots, plan_slots, num_slots); });
}

int GetForeignModifyBatchSize(ResultRelInfo* rinfo)
{
    return guarded([&] { return batch_size(rinfo); });
}

TupleTableSlot* ExecForeignUpdate(EState* estate, ResultRelInfo* rinfo, TupleTableSlot* slot, TupleTableSlot* plan_slot)
{
    return guarded([&] { return exec_update(estate, rinfo, slot, plan_slot); });
}

TupleTableSlot* ExecForeignDelete(EState* estate, ResultRelInfo* rinfo, TupleTableSlot* slot, TupleTableSlot* plan_slot)
{
    return guarded([&] { return exec_delete(estate, rinfo, slot, plan_slot); });
}

void EndForeignModify(EState* estate, ResultRelInfo* rinfo)
{
    guarded([&] { end_modify(estate, rinfo); });
}

void ExplainForeignModify(ModifyTableState* mtstate, ResultRelInfo* rinfo, List* fdw_private, int subplan_index,
                          ExplainState* es)
{
    guarded([&] { explain_modify(mtstate, rinfo, fdw_private, subplan_index, es); });
}

void ExecForeignTruncate(List* rels, DropBehavior behavior, bool restart_seqs)
{
    guarded([&] { exec_truncate(rels, behavior, restart_seqs); });
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
    routine->IsForeignRelUpdatable = recio::IsForeignRelUpdatable;
    routine->AddForeignUpdateTargets = recio::AddForeignUpdateTargets;
    routine->PlanForeignModify = recio::PlanForeignModify;
    routine->BeginForeignModify = recio::BeginForeignModify;
    routine->ExecForeignInsert = recio::ExecForeignInsert;
    routine->ExecForeignBatchInsert = recio::ExecForeignBatchInsert;
    routine->GetForeignModifyBatchSize = recio::GetForeignModifyBatchSize;
    routine->ExecForeignUpdate = recio::ExecForeignUpdate;
    routine->ExecForeignDelete = recio::ExecForeignDelete;
    routine->EndForeignModify = recio::EndForeignModify;
    routine->ExplainForeignModify = recio::ExplainForeignModify;
    routine->ExecForeignTruncate = recio::ExecForeignTruncate;
    PG_RETURN_POINTER(routine);
}

/* Load time: the extension's settings. */
extern "C" void _PG_init(void)
{
    recio::guarded([] { recio::pg::call([] { recio::define_parity_settings(); }); });
}

/*
 * modify.h: INSERT, UPDATE, DELETE and TRUNCATE on recio_sqlite foreign
 * tables whose server or table has updatable 'true' (the extern "C" shims
 * live in module.cpp).  Every other foreign table refuses writes with one
 * error, before any file is opened for writing.
 *
 * Rows are named by their SQLite rowid, carried in the scan's ctid (see
 * rowid_to_tid in scan.h).  Values are written in their legacy
 * representation (sqlite/value_reverse.h), inside the SQLite write
 * transaction that follows the PostgreSQL transaction (fdw/connection.h).
 */
#pragma once

#include <vector>

#include "common/error_boundary.h"
#include "sqlite/schema.h"
#include "sqlite/value_reverse.h"

extern "C" {
#include "commands/explain.h"
#include "foreign/fdwapi.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"
#include "nodes/plannodes.h"
}

namespace recio {

/*
 * The legacy facts of a foreign table's column (its SQLite affinity, from
 * cols, the SQLite columns of its table; its format, timezone, epoch_unit and
 * allow_rounding options): how value_reverse.h writes its values.  Also used
 * by export_sqlite(), which writes a new file in the legacy formats.
 */
LegacyColumn legacy_column(Oid relid, Form_pg_attribute att, const std::vector<sqlite::ColumnInfo>& cols,
                           const char* default_tz, const char* relname);

int is_rel_updatable(Relation rel);
void add_update_targets(PlannerInfo* root, Index rtindex, RangeTblEntry* target_rte, Relation target_relation);
List* plan_modify(PlannerInfo* root, ModifyTable* plan, Index result_relation, int subplan_index);
void begin_modify(ModifyTableState* mtstate, ResultRelInfo* rinfo, List* fdw_private, int subplan_index, int eflags);
TupleTableSlot* exec_insert(EState* estate, ResultRelInfo* rinfo, TupleTableSlot* slot, TupleTableSlot* plan_slot);
TupleTableSlot** exec_batch_insert(EState* estate, ResultRelInfo* rinfo, TupleTableSlot** slots,
                                   TupleTableSlot** plan_slots, int* num_slots);
int batch_size(ResultRelInfo* rinfo);
TupleTableSlot* exec_update(EState* estate, ResultRelInfo* rinfo, TupleTableSlot* slot, TupleTableSlot* plan_slot);
TupleTableSlot* exec_delete(EState* estate, ResultRelInfo* rinfo, TupleTableSlot* slot, TupleTableSlot* plan_slot);
void end_modify(EState* estate, ResultRelInfo* rinfo);
void explain_modify(ModifyTableState* mtstate, ResultRelInfo* rinfo, List* fdw_private, int subplan_index,
                    ExplainState* es);
void exec_truncate(List* rels, DropBehavior behavior, bool restart_seqs);

}  // namespace recio

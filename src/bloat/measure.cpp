/*
 * measure.cpp: recio_migrate.bloat_measure(relation, method,
 * auto_exact_max_bytes): the page-reading half of bloat_report().  It checks
 * the caller's right to read every page (superuser or the privileges of
 * pg_stat_scan_tables), takes AccessShareLock only if it is free right now
 * (a relation behind an exclusive lock is reported as skipped, never waited
 * for), reads the pages (page_scan.cpp) and returns one row of figures.
 */
#include "bloat/bloat.h"
#include "bloat/compat.h"
#include "common/error_boundary.h"

extern "C" {
#include "access/xlog.h"
#include "access/relation.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "funcapi.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

#include <cstring>

namespace recio {
namespace bloat {
namespace {

struct Row {
    const char* kind;
    const char* status;
    const char* method;
    bool measured;   /* the page figures are set */
    bool sized;      /* total_bytes is set */
    Measurement m;
};

Method parse_method(const char* name)
{
    if (strcmp(name, "exact") == 0)
        return Method::Exact;
    if (strcmp(name, "approx") == 0)
        return Method::Approx;
    if (strcmp(name, "auto") == 0)
        return Method::Auto;
    if (strcmp(name, "estimate") == 0)
        return Method::Size;
    throw Error(ERRCODE_INVALID_PARAMETER_VALUE, format("invalid bloat method \"%s\"", name), {},
                "Use exact, approx, auto or estimate.");
}

void check_privileges()
{
    bool allowed = pg::call([] { return superuser() || has_privs_of_role(GetUserId(), compat::stat_scan_tables_role()); });
    if (!allowed)
        throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied to measure bloat",
                    "Only superusers and roles with the privileges of the \"pg_stat_scan_tables\" role may read "
                    "relation pages.",
                    "GRANT pg_stat_scan_tables TO the role that runs the report.");
}

/* What kind of relation it is, from its catalog row (no lock needed). */
const char* kind_of(Form_pg_class form)
{
    switch (form->relkind) {
    case RELKIND_RELATION: return "table";
    case RELKIND_TOASTVALUE: return "toast table";
    case RELKIND_MATVIEW: return "materialized view";
    case RELKIND_PARTITIONED_TABLE: return "partitioned table";
    case RELKIND_PARTITIONED_INDEX: return "partitioned index";
    case RELKIND_SEQUENCE: return "sequence";
    case RELKIND_VIEW: return "view";
    case RELKIND_FOREIGN_TABLE: return "foreign table";
    case RELKIND_INDEX: {
        char* am = get_am_name(form->relam);
        return psprintf("%s index", am ? am : "unknown");
    }
    default: return "other";
    }
}

bool has_storage(char relkind)
{
    return relkind == RELKIND_RELATION || relkind == RELKIND_TOASTVALUE || relkind == RELKIND_MATVIEW ||
           relkind == RELKIND_INDEX || relkind == RELKIND_SEQUENCE;
}

/* C-style body, run under one pg::call: lock, open, read, close. */
void measure_relation(Oid relid, Method method, int64 auto_exact_max_bytes, Row* row)
{
    HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
    if (!HeapTupleIsValid(tup)) {
        row->kind = "unknown";
        row->status = "skipped: dropped";
        return;
    }
    Form_pg_class form = reinterpret_cast<Form_pg_class>(GETSTRUCT(tup));
    row->kind = kind_of(form);
    char relkind = form->relkind;
    Oid relam = form->relam;
    ReleaseSysCache(tup);
    if (!has_storage(relkind)) {
        row->status = "not measured: no storage of its own";
        return;
    }
    /*
     * An index is read under its table's lock too, as an index scan would be:
     * whatever holds the table exclusively (VACUUM FULL, CLUSTER, ALTER
     * TABLE) may be rebuilding the index.
     */
    Oid table = relkind == RELKIND_INDEX ? IndexGetRelation(relid, true) : InvalidOid;
    if (OidIsValid(table) && !ConditionalLockRelationOid(table, AccessShareLock)) {
        row->status = "skipped: locked";
        return;
    }
    if (!ConditionalLockRelationOid(relid, AccessShareLock)) {
        if (OidIsValid(table))
            UnlockRelationOid(table, AccessShareLock);
        row->status = "skipped: locked";
        return;
    }
    Relation rel = try_relation_open(relid, NoLock);
    /* during recovery an unlogged relation has no main fork to read or size */
    bool unlogged_in_recovery = rel && rel->rd_rel->relpersistence == RELPERSISTENCE_UNLOGGED && RecoveryInProgress();
    if (!rel || RELATION_IS_OTHER_TEMP(rel) || unlogged_in_recovery) {
        row->status = !rel                  ? "skipped: dropped"
                      : unlogged_in_recovery ? "skipped: unlogged relation during recovery"
                                             : "skipped: temporary relation of another session";
        if (rel)
            relation_close(rel, NoLock);
        UnlockRelationOid(relid, AccessShareLock);
        if (OidIsValid(table))
            UnlockRelationOid(table, AccessShareLock);
        return;
    }
    row->sized = true;
    row->m.total_bytes = static_cast<int64>(RelationGetNumberOfBlocks(rel)) * BLCKSZ;
    bool heap = relkind != RELKIND_INDEX && relkind != RELKIND_SEQUENCE && relam == HEAP_TABLE_AM_OID;
    bool btree = relkind == RELKIND_INDEX && relam == BTREE_AM_OID;
    if (method == Method::Size) {
        /* the file length only: bloat_report() uses it for min_bytes and the estimate */
        row->status = "size only";
        row->method = "estimate";
    } else if (heap) {
        bool approx = method == Method::Approx || (method == Method::Auto && row->m.total_bytes > auto_exact_max_bytes);
        measure_heap(rel, approx, &row->m);
        row->measured = true;
        row->status = "measured";
        row->method = approx ? "approx" : "exact";
    } else if (btree) {
        measure_btree(rel, &row->m);
        row->measured = true;
        row->status = "measured";
        row->method = "exact";
    } else {
        row->status = relkind == RELKIND_SEQUENCE ? "not measured: sequence" : psprintf("not measured: %s", row->kind);
    }
    /* released at once: a report over thousands of relations must not fill the lock table */
    relation_close(rel, AccessShareLock);
    if (OidIsValid(table))
        UnlockRelationOid(table, AccessShareLock);
}

}  // namespace
}  // namespace bloat
}  // namespace recio

RECIO_FUNCTION(recio_bloat_measure)
{
    using namespace recio;
    using namespace recio::bloat;
    check_privileges();
    Oid relid = PG_GETARG_OID(0);
    char* method_name = pg::call([&] { return text_to_cstring(PG_GETARG_TEXT_PP(1)); });
    Method method = parse_method(method_name);
    int64 auto_exact_max_bytes = PG_GETARG_INT64(2);
    Row row = {};
    pg::call([&] { measure_relation(relid, method, auto_exact_max_bytes, &row); });
    return pg::call([&] {
        TupleDesc desc;
        if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "bloat_measure must return a composite type");
        desc = BlessTupleDesc(desc);
        Datum values[13];
        bool nulls[13];
        memset(nulls, 0, sizeof nulls);
        const Measurement& m = row.m;
        values[0] = CStringGetTextDatum(row.kind);
        values[1] = CStringGetTextDatum(row.status);
        values[2] = row.method ? CStringGetTextDatum(row.method) : (nulls[2] = true, Datum(0));
        values[3] = Int64GetDatum(m.total_bytes);
        nulls[3] = !row.sized;
        const int64 figures[] = {m.live_bytes, m.dead_bytes, m.free_bytes, m.bloat_bytes,
                                 m.live_tuples, m.dead_tuples, m.pages_read};
        for (int i = 0; i < 7; i++) {
            values[4 + i] = Int64GetDatum(figures[i]);
            nulls[4 + i] = !row.measured;
        }
        values[11] = Int32GetDatum(m.fillfactor);
        nulls[11] = !row.measured;
        values[12] = Float8GetDatum(m.leaf_density);
        nulls[12] = !row.measured || m.leaf_density < 0;
        return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
    });
}

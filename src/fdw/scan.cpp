/*
 * scan.cpp: the executor side of recio_sqlite.  A RowReader runs one SQLite
 * statement and turns each row into Datums of the foreign table's declared
 * types; foreign scans and ANALYZE both use it.
 *
 * Memory: each reader owns a memory context (its SQLite statement is
 * finalized by that context's reset callback, so an error anywhere still
 * releases it) and a per-row context reset before every row, so memory stays
 * flat however many rows a scan reads.
 */
#include "fdw/scan.h"

extern "C" {
#include "access/table.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "foreign/foreign.h"
#include "nodes/nodeFuncs.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

#include <algorithm>
#include <cstring>

#include "fdw/connection.h"
#include "fdw/planner.h"

namespace recio {
namespace {

std::string row_location(const RowReader& r)
{
    return sqlite::row_key_text(sqlite::row_key(r.stmt, r.key_col, r.key_kind, r.row_number));
}

void remember_row(RowReader& r)
{
    if (r.nremembered >= RowReader::kRemember)
        return;
    std::string loc = row_location(r); /* valid UTF-8 and short: shown() bounds the key text */
    size_t n = std::min(loc.size(), sizeof r.remembered[0] - 1);
    while (n > 0 && n < loc.size() && (static_cast<unsigned char>(loc[n]) & 0xC0) == 0x80)
        n--;
    memcpy(r.remembered[r.nremembered], loc.data(), n);
    r.remembered[r.nremembered++][n] = '\0';
}

/*
 * A value did not convert (convert_row's policy).  Per the column's
 * on_error: raise (stop), store NULL (null) or drop the row (ignore).
 */
BadValueAction bad_value(void* arg, int col, int sqlstate, const std::string& message)
{
    RowReader& r = *static_cast<RowReader*>(arg);
    if (r.raw) {
        r.raw[col] = raw_text(r.stmt, r.cols[col].result_col);
        return BadValueAction::Null;
    }
    switch (r.on_error[col]) {
    case OnError::Null:
        r.nulled++;
        remember_row(r);
        return BadValueAction::Null;
    case OnError::Ignore:
        r.skipped++;
        remember_row(r);
        return BadValueAction::SkipRow;
    case OnError::Stop:
        break;
    }
    const ColumnConversion& c = r.cols[col];
    std::string loc = row_location(r);
    std::string value = describe_value(r.stmt, c.result_col);
    Error err(sqlstate, message,
              format("Foreign table \"%s\", column \"%s\", %s, SQLite %s value %s.", r.relname, c.name, loc.c_str(),
                     storage_class_name(sqlite3_column_type(r.stmt, c.result_col)), value.c_str()),
              "Fix the value in the SQLite file, declare the column with a type that holds it, or set the "
              "column option on_error to 'null' or 'ignore'.");
    throw err;
}

void bind_param(RowReader& r, int index, Oid type, Datum value, bool isnull)
{
    sqlite3_stmt* st = r.stmt;
    int rc;
    if (isnull) {
        rc = sqlite3_bind_null(st, index);
    } else {
        switch (type) {
        case INT2OID: rc = sqlite3_bind_int64(st, index, DatumGetInt16(value)); break;
        case INT4OID: rc = sqlite3_bind_int64(st, index, DatumGetInt32(value)); break;
        case INT8OID: rc = sqlite3_bind_int64(st, index, DatumGetInt64(value)); break;
        case FLOAT4OID: rc = sqlite3_bind_double(st, index, DatumGetFloat4(value)); break;
        case FLOAT8OID: rc = sqlite3_bind_double(st, index, DatumGetFloat8(value)); break;
        case TEXTOID: {
            /* detoasted by bind_params, in per-tuple memory */
            auto* t = reinterpret_cast<text*>(DatumGetPointer(value));
            rc = sqlite3_bind_text64(st, index, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), SQLITE_TRANSIENT,
                                     SQLITE_UTF8);
            break;
        }
        default:
            throw Error(ERRCODE_FDW_INVALID_DATA_TYPE, format("cannot send a value of type %u to SQLite", type));
        }
    }
    if (rc != SQLITE_OK)
        sqlite::raise_error(*r.conn, rc, r.sql);
}

void bind_params(RowReader& r, ExprContext* econtext)
{
    int index = 1;
    ListCell* lc;
    foreach (lc, r.param_states) {
        ExprState* state = static_cast<ExprState*>(lfirst(lc));
        Oid type = r.param_types[index - 1];
        bool isnull = false;
        /* evaluated and detoasted in per-tuple memory: nothing accumulates across rescans */
        Datum value = pg::call([&] {
            MemoryContext old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
            Datum d = ExecEvalExpr(state, econtext, &isnull);
            if (!isnull && type == TEXTOID)
                d = PointerGetDatum(pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(d))));
            MemoryContextSwitchTo(old);
            return d;
        });
        bind_param(r, index, type, value, isnull);
        index++;
    }
    r.params_bound = true;
}

}  // namespace

RowReader* reader_open(Relation rel, const char* sql, List* retrieved, KeyKind key_kind, MemoryContext parent,
                       const ColumnType* as)
{
    Oid relid = RelationGetRelid(rel);
    MemoryContext cxt =
        pg::call([&] { return AllocSetContextCreate(parent, "recio_sqlite scan", ALLOCSET_DEFAULT_SIZES); });
    ContextSwitch in_cxt(cxt);
    auto* r = static_cast<RowReader*>(pg::alloc_zero(sizeof(RowReader)));
    r->cxt = cxt;
    r->row_cxt = pg::call([&] { return AllocSetContextCreate(cxt, "recio_sqlite row", ALLOCSET_DEFAULT_SIZES); });
    r->relid = relid;
    r->relname = pg::call(
        [&] { return psprintf("%s.%s", get_namespace_name(RelationGetNamespace(rel)), RelationGetRelationName(rel)); });
    r->key_kind = key_kind;
    r->key_col = -1;
    r->natts = RelationGetDescr(rel)->natts;
    r->sql = pg::strdup(sql);

    Oid serverid = pg::call([&] { return GetForeignTable(relid)->serverid; });
    ServerOptions sopts = server_options(serverid);
    TableOptions topts = table_options(relid);
    const char* default_tz = table_zone(sopts, topts);
    r->conn = &server_connection(serverid);
    std::vector<std::string> utc_now = utc_now_columns(*r->conn, topts.table, default_tz);

    auto n = static_cast<Size>(list_length(retrieved) + 1);
    r->cols = static_cast<ColumnConversion*>(pg::alloc_zero(sizeof(ColumnConversion) * n));
    r->on_error = static_cast<OnError*>(pg::alloc_zero(sizeof(OnError) * n));
    if (as)
        r->raw = static_cast<char**>(pg::alloc_zero(sizeof(char*) * n));
    TupleDesc desc = RelationGetDescr(rel);
    int i = 0;
    ListCell* lc;
    foreach (lc, retrieved) {
        AttrNumber att = static_cast<AttrNumber>(lfirst_int(lc));
        if (att == 0) {
            r->key_col = i;
        } else {
            Form_pg_attribute a = TupleDescAttr(desc, att - 1);
            ColumnOptions copts = column_options(relid, att, NameStr(a->attname));
            OnError on_error = copts.on_error_set ? copts.on_error : topts.on_error;
            const char* tz = column_zone(copts, default_tz, utc_now);
            ColumnConversion& c = r->cols[r->nconv];
            c.result_col = i;
            c.index = att - 1;
            c.name = pg::strdup(NameStr(a->attname));
            r->on_error[r->nconv++] = on_error;
            ValueRules rules{copts.epoch_unit, tz, tz ? lookup_timezone(tz) : nullptr, as || on_error != OnError::Stop};
            if (as)
                plan_converter(c.conv, as[i].typid, as[i].typmod, rules);
            else
                plan_converter(c.conv, a->atttypid, a->atttypmod, rules);
        }
        i++;
    }

    if (r->conn->writable) {
        /*
         * A scan through the write connection (this transaction has written
         * to the file) reads its rows before a statement of the same
         * transaction changes the table, as PostgreSQL's snapshot would: an
         * INSERT ... SELECT never reads its own new rows, an UPDATE never
         * revisits a row it moved.
         */
        r->sql = pg::call(
            [&] { return psprintf("WITH recio_rows AS MATERIALIZED (%s) SELECT * FROM recio_rows", r->sql); });
    }
    r->stmt = sqlite::prepare(*r->conn, r->sql);
    sqlite::own_statement(*r->conn, r->stmt, cxt);
    return r;
}

bool reader_next(RowReader& r, Datum* values, bool* nulls)
{
    for (;;) {
        pg::check_for_interrupts();
        MemoryContextReset(r.row_cxt);
        if (!sqlite::step_row(*r.conn, r.stmt, r.sql))
            return false;
        r.row_number++;
        memset(nulls, true, sizeof(bool) * r.natts);
        if (r.raw)
            memset(r.raw, 0, sizeof(char*) * r.nconv);
        ContextSwitch in_row(r.row_cxt);
        BadValuePolicy policy{bad_value, nullptr, &r, true};
        if (convert_row(r.cols, r.nconv, r.stmt, values, nulls, policy))
            return true;
    }
}

void reader_rewind(RowReader& r)
{
    sqlite3_reset(r.stmt);
    r.params_bound = false;
}

void reader_close(RowReader* r)
{
    if (r->skipped > 0 || r->nulled > 0) {
        std::string first;
        for (int i = 0; i < r->nremembered; i++) {
            if (i > 0)
                first += "; ";
            first += r->remembered[i];
        }
        const char* rel = r->relname;
        long long skipped = r->skipped, nulled = r->nulled;
        const char* firsts = first.c_str();
        pg::call([&] {
            if (skipped > 0 && nulled > 0)
                ereport(NOTICE, (errmsg("foreign table \"%s\": %lld rows skipped and %lld values set to NULL "
                                        "because they could not be converted",
                                        rel, skipped, nulled),
                                 errdetail("First affected rows: %s.", firsts)));
            else if (skipped > 0)
                ereport(NOTICE, (errmsg_plural("foreign table \"%s\": %lld row skipped because a value could "
                                               "not be converted (on_error 'ignore')",
                                               "foreign table \"%s\": %lld rows skipped because a value could "
                                               "not be converted (on_error 'ignore')",
                                               static_cast<unsigned long>(skipped), rel, skipped),
                                 errdetail("First skipped rows: %s.", firsts)));
            else
                ereport(NOTICE, (errmsg_plural("foreign table \"%s\": %lld value set to NULL because it could "
                                               "not be converted (on_error 'null')",
                                               "foreign table \"%s\": %lld values set to NULL because they could "
                                               "not be converted (on_error 'null')",
                                               static_cast<unsigned long>(nulled), rel, nulled),
                                 errdetail("First affected rows: %s.", firsts)));
        });
    }
    MemoryContext cxt = r->cxt;
    pg::call([&] { MemoryContextDelete(cxt); });
}

/*
 * A ctid holds 48 bits (block number and offset): rowids 0 .. 2^48 - 1
 * (SQLite assigns rowids from 1 upwards; only a file that chose huge or
 * negative rowids itself is outside).
 */
constexpr int64 kMaxTidRowid = (INT64CONST(1) << 48) - 1;

ItemPointerData rowid_to_tid(int64 rowid)
{
    if (rowid < 0 || rowid > kMaxTidRowid)
        throw Error(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                    format("SQLite rowid %lld is outside the range recio_sqlite can update or delete by",
                           static_cast<long long>(rowid)),
                    "UPDATE and DELETE name a row by its rowid, which must lie between 0 and 2^48 - 1.");
    ItemPointerData tid;
    BlockIdSet(&tid.ip_blkid, static_cast<BlockNumber>(rowid >> 16));
    tid.ip_posid = static_cast<OffsetNumber>(rowid & 0xFFFF);
    return tid;
}

int64 tid_to_rowid(const ItemPointerData* tid)
{
    return (static_cast<int64>(BlockIdGetBlockNumber(&tid->ip_blkid)) << 16) | tid->ip_posid;
}

void begin_scan(ForeignScanState* node, int eflags)
{
    if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
        return;
    auto* plan = reinterpret_cast<ForeignScan*>(node->ss.ps.plan);
    const char* sql = strVal(linitial(plan->fdw_private));
    List* retrieved = static_cast<List*>(lsecond(plan->fdw_private));
    auto kind = static_cast<KeyKind>(intVal(lthird(plan->fdw_private)));
    Relation rel = node->ss.ss_currentRelation;
    MemoryContext parent = node->ss.ps.state->es_query_cxt;
    RowReader* r = reader_open(rel, sql, retrieved, kind, parent);
    r->want_tid = intVal(lfourth(plan->fdw_private)) != 0 && kind == KeyKind::Rowid && r->key_col >= 0;
    node->fdw_state = r;

    List* exprs = plan->fdw_exprs;
    int n = list_length(exprs);
    if (n > 0) {
        ContextSwitch in_cxt(r->cxt);
        r->param_types = static_cast<Oid*>(pg::alloc_zero(sizeof(Oid) * static_cast<Size>(n)));
        int i = 0;
        ListCell* lc;
        foreach (lc, exprs)
            r->param_types[i++] = pg::call([&] { return exprType(static_cast<Node*>(lfirst(lc))); });
        r->param_states = pg::call([&] { return ExecInitExprList(exprs, &node->ss.ps); });
    }
}

TupleTableSlot* iterate_scan(ForeignScanState* node)
{
    auto* r = static_cast<RowReader*>(node->fdw_state);
    TupleTableSlot* slot = node->ss.ss_ScanTupleSlot;
    ExecClearTuple(slot);
    if (!r->params_bound && r->param_states)
        bind_params(*r, node->ss.ps.ps_ExprContext);
    if (!reader_next(*r, slot->tts_values, slot->tts_isnull))
        return slot;
    ExecStoreVirtualTuple(slot);
    if (r->want_tid)
        slot->tts_tid = rowid_to_tid(sqlite3_column_int64(r->stmt, r->key_col));
    return slot;
}

void rescan(ForeignScanState* node)
{
    auto* r = static_cast<RowReader*>(node->fdw_state);
    if (r)
        reader_rewind(*r);
}

void end_scan(ForeignScanState* node)
{
    auto* r = static_cast<RowReader*>(node->fdw_state);
    if (!r)
        return;
    node->fdw_state = nullptr;
    reader_close(r);
}

}  // namespace recio

/*
 * move_rows.cpp: the data path of a migration run (recio_migrate.move_rows,
 * called by migrate(), which keeps the ledger and the transaction rules).
 *
 * One SQLite statement reads the source table; each value is converted
 * straight into the TARGET column's type (value_convert.h: the same strict
 * rules and zone/epoch options as a foreign scan), and rows go into the
 * target in batches through table_multi_insert with a BulkInsertState, the
 * path COPY FROM uses, with index entries and NOT NULL/CHECK constraints
 * applied per row as COPY does.  Values that do not convert are stopped on,
 * rejected (the row goes to recio_migrate.rejects and is not inserted) or
 * set to NULL (recorded as well), per on_error.
 *
 * Progress: the run is published in the backend's progress slot
 * (pgstat_progress_*, shown by the view recio_migrate.progress) at every
 * batch, and a NOTICE reports rows and rate at most every 5 seconds.
 */
#include "migrate/source.h"

extern "C" {
#include "access/heapam.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteHandler.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "foreign/foreign.h"
#include "mb/pg_wchar.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "pgstat.h"
#include "utils/backend_progress.h"
}

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>

#include "fdw/deparse.h"
#include "fdw/planner.h"
#include "fdw/scan.h"
#include "fdw/connection.h"
#include "sqlite/value_profile.h"
#include "sqlite/sql_text.h"
#include "sqlite/connection_cache.h"
#include "sqlite/value_convert.h"

namespace recio {
namespace {

constexpr int kBatchRows = 1000;
constexpr int kNoticeSeconds = 5;
/* marks our use of the COPY progress slot (pg_stat_progress_copy.command shows NULL) */
constexpr int64 kProgressMarker = 1001;

enum class Policy { Stop, Reject, Null };

Policy parse_policy(const char* s)
{
    if (strcmp(s, "stop") == 0)
        return Policy::Stop;
    if (strcmp(s, "reject") == 0)
        return Policy::Reject;
    if (strcmp(s, "null") == 0)
        return Policy::Null;
    throw Error(ERRCODE_INVALID_PARAMETER_VALUE, format("invalid value for on_error: \"%s\"", s),
                {}, "Expected one of: stop, reject, null.");
}

const char* policy_name(Policy p)
{
    return p == Policy::Stop ? "stop" : p == Policy::Reject ? "reject" : "null";
}

/* A target column no source column feeds: its default (NULL: none, the column stays NULL). */
struct DefaultColumn {
    int index;
    ExprState* expr;
};

struct Run {
    SourceTable* src;
    int64 run_id;
    Policy policy;
    bool allow_rounding;
    sqlite::Connection* conn;
    sqlite3_stmt* stmt;
    const char* sql;
    KeyKind key_kind;
    bool has_key;
    int nmapped;
    ColumnConversion* mapped; /* target columns fed from the source */
    /* per mapped column: 10^s of a numeric(p,s) column with s <= 15, for would_round's quick test; else 0 */
    double* scale_factor;
    int ndefaults;
    DefaultColumn* defaults;
    int64 rows_read, rows_written, rows_rejected;
};

/* REAL or decimal TEXT with more decimals than the numeric column keeps */
bool would_round(const Run& r, int col)
{
    const ColumnConversion& c = r.mapped[col];
    const Converter& conv = c.conv;
    sqlite3_stmt* stmt = r.stmt;
    if (conv.target != Target::Numeric || !conv.has_scale)
        return false;
    switch (sqlite3_column_type(stmt, c.result_col)) {
    case SQLITE_FLOAT: {
        double d = sqlite3_column_double(stmt, c.result_col);
        if (!std::isfinite(d))
            return false;
        double p = r.scale_factor[col];
        if (p > 0 && std::fabs(d * p) < 1e15 && std::nearbyint(d * p) / p == d)
            return false;
        return real_decimals(d) > conv.numeric_scale;
    }
    case SQLITE_TEXT: {
        int int_digits, decimals;
        bool fraction;
        return decimal_text(reinterpret_cast<const char*>(sqlite3_column_text(stmt, c.result_col)),
                            sqlite3_column_bytes(stmt, c.result_col), &int_digits, &decimals, &fraction) &&
               decimals > conv.numeric_scale;
    }
    default:
        return false;
    }
}

sqlite::RowKey current_key(const Run& r)
{
    return sqlite::row_key(r.stmt, r.has_key ? 0 : -1, r.key_kind, r.rows_read);
}

void record_reject(Run& r, const ColumnConversion& c, int sqlstate, const std::string& message)
{
    sqlite::RowKey key = current_key(r);
    bool has_rowid = key.kind == KeyKind::Rowid;
    int64 rowid = has_rowid ? key.number : 0;
    std::string keytext_buf =
        key.kind == KeyKind::PrimaryKey ? key.key : format("row %lld", static_cast<long long>(key.number));
    int type = sqlite3_column_type(r.stmt, c.result_col);
    std::string raw;
    if (type == SQLITE_TEXT || type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
        const char* t = reinterpret_cast<const char*>(sqlite3_column_text(r.stmt, c.result_col));
        int len = sqlite3_column_bytes(r.stmt, c.result_col);
        /* raw text as stored; invalid UTF-8 or NUL bytes shown by describe_value instead */
        raw.assign(t, static_cast<size_t>(len));
        if (memchr(t, '\0', static_cast<size_t>(len)) || !pg_verify_mbstr(PG_UTF8, t, len, true))
            raw = describe_value(r.stmt, c.result_col);
    } else {
        raw = describe_value(r.stmt, c.result_col);
    }
    const char* storage = storage_class_name(type);
    const char* state = unpack_sql_state(sqlstate);
    int64 run_id = r.run_id;
    const char* relname = r.src->relname;
    const char* keytext = has_rowid ? nullptr : keytext_buf.c_str();
    const char* rawtext = raw.c_str();
    const char* msg = message.c_str();
    const char* action = policy_name(r.policy);
    const char* column = c.name;
    pg::call([&] {
        Oid types[10] = {INT8OID, TEXTOID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
        Datum values[10];
        char nulls[11] = "          ";
        values[0] = Int64GetDatum(run_id);
        values[1] = CStringGetTextDatum(relname);
        values[2] = Int64GetDatum(rowid);
        if (!has_rowid)
            nulls[2] = 'n';
        if (keytext)
            values[3] = CStringGetTextDatum(keytext);
        else
            nulls[3] = 'n';
        values[4] = CStringGetTextDatum(column);
        values[5] = CStringGetTextDatum(pg_any_to_server(rawtext, static_cast<int>(strlen(rawtext)), PG_UTF8));
        values[6] = CStringGetTextDatum(storage);
        values[7] = CStringGetTextDatum(state);
        values[8] = CStringGetTextDatum(msg);
        values[9] = CStringGetTextDatum(action);
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
        int rc = SPI_execute_with_args(
            "INSERT INTO recio_migrate.rejects (run_id, source_table, sqlite_rowid, sqlite_key, column_name, "
            "raw_value, storage_class, sqlstate, error, action) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            10, types, values, nulls, false, 0);
        if (rc != SPI_OK_INSERT)
            elog(ERROR, "recording a reject failed: %s", SPI_result_code_string(rc));
        SPI_finish();
    });
}

[[noreturn]] void stop_on(Run& r, const ColumnConversion& c, int sqlstate, const std::string& message)
{
    std::string key = sqlite::row_key_text(current_key(r));
    std::string value = describe_value(r.stmt, c.result_col);
    throw Error(sqlstate, message,
                format("Source %s, column \"%s\", %s, %s value %s.", r.src->relname, c.name, key.c_str(),
                       storage_class_name(sqlite3_column_type(r.stmt, c.result_col)), value.c_str()),
                "Run with on_error => 'reject' to move such rows to recio_migrate.rejects, or fix the value.");
}

/*
 * A value did not convert (convert_row's policy): stop, or record it in
 * rejects and insert the row with a NULL (null) or not at all (reject).
 * Every bad value of a rejected row is recorded.
 */
BadValueAction bad_value(void* arg, int col, int sqlstate, const std::string& message)
{
    Run& r = *static_cast<Run*>(arg);
    const ColumnConversion& c = r.mapped[col];
    if (r.policy == Policy::Stop)
        stop_on(r, c, sqlstate, message);
    record_reject(r, c, sqlstate, message);
    return r.policy == Policy::Null ? BadValueAction::Null : BadValueAction::SkipRow;
}

/* Without allow_rounding, a value the numeric column would round is a bad value. */
bool refuse_rounding(void* arg, int col, int* sqlstate, std::string* message)
{
    Run& r = *static_cast<Run*>(arg);
    if (!would_round(r, col))
        return false;
    const ColumnConversion& c = r.mapped[col];
    *sqlstate = ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
    *message = format("value %s has more decimal places than type %s keeps",
                      describe_value(r.stmt, c.result_col).c_str(), c.conv.type_name);
    return true;
}

/* The unmapped columns' defaults, in the per-tuple context (reset with each batch). */
void fill_defaults(Run& r, ExprContext* econtext, Datum* values, bool* nulls)
{
    for (int i = 0; i < r.ndefaults; i++) {
        const DefaultColumn& d = r.defaults[i];
        if (d.expr)
            values[d.index] = pg::call([&] { return ExecEvalExprSwitchContext(d.expr, econtext, &nulls[d.index]); });
    }
}

/* The target: a plain table the caller may insert into, with nothing that COPY's bulk path would skip. */
void check_target(Relation rel)
{
    const char* name = RelationGetRelationName(rel);
    if (rel->rd_rel->relkind != RELKIND_RELATION)
        throw Error(ERRCODE_WRONG_OBJECT_TYPE, format("target \"%s\" is not a plain table", name), {},
                    "Migrate into a table, then attach it or copy it on with INSERT ... SELECT.");
    if (rel->trigdesc && (rel->trigdesc->trig_insert_before_row || rel->trigdesc->trig_insert_after_row ||
                          rel->trigdesc->trig_insert_instead_row || rel->trigdesc->trig_insert_before_statement ||
                          rel->trigdesc->trig_insert_after_statement))
        throw Error(ERRCODE_FEATURE_NOT_SUPPORTED, format("target \"%s\" has INSERT triggers or foreign keys", name),
                    {}, "Migrate into a table without them, then add them (or use INSERT ... SELECT).");
    if (RelationGetDescr(rel)->constr && RelationGetDescr(rel)->constr->has_generated_stored)
        throw Error(ERRCODE_FEATURE_NOT_SUPPORTED, format("target \"%s\" has generated columns", name));
    if (pg::call([&] { return check_enable_rls(RelationGetRelid(rel), InvalidOid, true); }) == RLS_ENABLED)
        throw Error(ERRCODE_FEATURE_NOT_SUPPORTED, format("target \"%s\" has row-level security enabled", name));
}

/*
 * sync()'s append mode: read only the rows whose key column is greater than
 * a bound (move_rows_after's key_column and after_key), so the key range is
 * SQLite's work and only new rows leave the file.  Integer and text keys
 * only: SQLite compares those exactly as PostgreSQL does (text in the "C"
 * order, which is SQLite's BINARY collation).
 */
struct AfterKey {
    const char* sqlite_name; /* nullptr: no bound */
    bool is_integer;
    int64 integer;
    const char* text;
};

AfterKey after_key_of(FunctionCallInfo fcinfo, const SourceTable& src, TupleDesc desc)
{
    AfterKey a{};
    if (PG_NARGS() < 7)
        return a;
    const char* column = pg::call([&] { return pstrdup(NameStr(*PG_GETARG_NAME(5))); });
    a.text = pg::call([&] { return text_to_cstring(PG_GETARG_TEXT_PP(6)); });
    Oid type = InvalidOid;
    for (int i = 0; i < desc->natts; i++)
        if (!TupleDescAttr(desc, i)->attisdropped && strcmp(NameStr(TupleDescAttr(desc, i)->attname), column) == 0)
            type = TupleDescAttr(desc, i)->atttypid;
    for (const SourceColumn& s : src.columns)
        if (strcmp(s.pg_name, column) == 0)
            a.sqlite_name = s.sqlite_name;
    if (!a.sqlite_name || type == InvalidOid)
        throw Error(ERRCODE_UNDEFINED_COLUMN,
                    format("key column \"%s\" is not a column of both %s and the target", column, src.relname));
    a.is_integer = type == INT2OID || type == INT4OID || type == INT8OID;
    if (!a.is_integer && type != TEXTOID && type != VARCHAROID && type != BPCHAROID)
        throw Error(ERRCODE_FEATURE_NOT_SUPPORTED,
                    format("append reads new rows by an integer or text key; key column \"%s\" is neither", column),
                    {}, "Use mode => 'upsert'.");
    if (a.is_integer) {
        char* end;
        errno = 0;
        long long v = strtoll(a.text, &end, 10);
        if (errno != 0 || *end != '\0' || end == a.text)
            throw Error(ERRCODE_INVALID_TEXT_REPRESENTATION,
                        format("invalid integer key bound: \"%s\"", a.text));
        a.integer = v;
    }
    return a;
}

void publish(const Run& r)
{
    const int index[] = {PROGRESS_COPY_BYTES_PROCESSED, PROGRESS_COPY_TUPLES_PROCESSED,
                         PROGRESS_COPY_TUPLES_EXCLUDED};
    const int64 val[] = {r.rows_read, r.rows_written, r.rows_rejected};
    pgstat_progress_update_multi_param(3, index, val);
}

}  // namespace
}  // namespace recio

/*
 * move_rows(source regclass, target regclass, run_id bigint, on_error text,
 *           allow_rounding boolean, OUT rows_read, OUT rows_written, OUT rows_rejected)
 * move_rows_after(..., allow_rounding boolean, key_column name, after_key text, OUT ...):
 *           the same over the rows whose key_column is greater than after_key (sync's append)
 */
RECIO_FUNCTION(recio_move_rows)
{
    using namespace recio;
    Oid source = PG_GETARG_OID(0);
    Oid target = PG_GETARG_OID(1);
    auto* run = static_cast<Run*>(pg::alloc_zero(sizeof(Run)));
    run->run_id = PG_GETARG_INT64(2);
    run->policy = parse_policy(pg::call([&] { return text_to_cstring(PG_GETARG_TEXT_PP(3)); }));
    run->allow_rounding = PG_GETARG_BOOL(4);
    SourceTable src = source_table(source);
    run->src = &src;
    TupleDesc result_desc;
    if (pg::call([&] { return get_call_result_type(fcinfo, nullptr, &result_desc); }) != TYPEFUNC_COMPOSITE)
        throw Error(ERRCODE_FEATURE_NOT_SUPPORTED, "function returning record called in context that cannot accept it");

    MemoryContext run_cxt = pg::call(
        [&] { return AllocSetContextCreate(CurrentMemoryContext, "recio_migrate run", ALLOCSET_DEFAULT_SIZES); });
    MemoryContext batch_cxt =
        pg::call([&] { return AllocSetContextCreate(run_cxt, "recio_migrate batch", ALLOCSET_DEFAULT_SIZES); });

    /*
     * the target, locked and opened as INSERT ... SELECT would, with the
     * caller's rights checked; the executor opens it with NoLock, trusting
     * that the lock is already held, as the planner would have taken it
     */
    EState* estate = pg::call([] { return CreateExecutorState(); });
    ResultRelInfo* rri = nullptr;
    Relation rel = pg::call([&] {
        LockRelationOid(target, RowExclusiveLock);
        RangeTblEntry* rte = makeNode(RangeTblEntry);
        rte->rtekind = RTE_RELATION;
        rte->relid = target;
        rte->relkind = get_rel_relkind(target);
        if (rte->relkind == '\0') /* dropped before the lock was granted */
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("relation with OID %u does not exist", target)));
        rte->rellockmode = RowExclusiveLock;
        rte->requiredPerms = ACL_INSERT;
        List* rtable = list_make1(rte);
        ExecInitRangeTable(estate, rtable);
        rri = makeNode(ResultRelInfo);
        ExecInitResultRelation(estate, rri, 1);
        Relation r = rri->ri_RelationDesc;
        TupleDesc d = RelationGetDescr(r);
        for (int i = 0; i < d->natts; i++)
            if (!TupleDescAttr(d, i)->attisdropped)
                rte->insertedCols =
                    bms_add_member(rte->insertedCols, TupleDescAttr(d, i)->attnum - FirstLowInvalidHeapAttributeNumber);
        ExecCheckRTPerms(rtable, true);
        return r;
    });
    check_target(rel);
    pg::call([&] {
        ExecOpenIndices(rri, false);
        estate->es_output_cid = GetCurrentCommandId(true);
    });

    /* columns: by name; unmatched target columns take their default */
    TupleDesc desc = RelationGetDescr(rel);
    RelInfo* info = describe_relation(source);
    run->key_kind = info->key_kind;
    run->has_key = info->key_expr != nullptr;
    auto ncols = static_cast<Size>(desc->natts + 1);
    run->mapped = static_cast<ColumnConversion*>(pg::alloc_zero(sizeof(ColumnConversion) * ncols));
    run->scale_factor = static_cast<double*>(pg::alloc_zero(sizeof(double) * ncols));
    run->defaults = static_cast<DefaultColumn*>(pg::alloc_zero(sizeof(DefaultColumn) * ncols));
    std::string sql = "SELECT " + std::string(run->has_key ? info->key_expr : "NULL");
    int result_col = 1;
    for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute a = TupleDescAttr(desc, i);
        if (a->attisdropped)
            continue;
        const SourceColumn* sc = nullptr;
        for (const SourceColumn& s : src.columns)
            if (strcmp(s.pg_name, NameStr(a->attname)) == 0)
                sc = &s;
        if (sc) {
            int m = run->nmapped++;
            ColumnConversion& c = run->mapped[m];
            c.index = a->attnum - 1;
            c.name = pg::strdup(NameStr(a->attname));
            c.result_col = result_col++;
            sql += ", " + sqlite::quote_ident(sc->sqlite_name);
            ValueRules rules{sc->epoch_unit, sc->timezone, sc->timezone ? lookup_timezone(sc->timezone) : nullptr,
                             run->policy != Policy::Stop};
            plan_converter(c.conv, a->atttypid, a->atttypmod, rules);
            if (c.conv.target == Target::Numeric && c.conv.has_scale && c.conv.numeric_scale <= 15)
                run->scale_factor[m] = std::pow(10.0, c.conv.numeric_scale);
        } else {
            DefaultColumn& d = run->defaults[run->ndefaults++];
            d.index = a->attnum - 1;
            d.expr = pg::call([&] {
                Node* def = build_column_default(rel, a->attnum);
                return def ? ExecPrepareExpr(expression_planner(reinterpret_cast<Expr*>(def)), estate) : nullptr;
            });
        }
    }
    if (result_col == 1)
        throw Error(ERRCODE_UNDEFINED_COLUMN,
                    format("target \"%s\" has no column named like a column of %s", RelationGetRelationName(rel),
                           src.relname),
                    {}, "Columns are matched by name; create the target with recio_migrate.create_target().");
    sql += " FROM " + sqlite::quote_ident(src.table);
    AfterKey after = after_key_of(fcinfo, src, desc);
    if (after.sqlite_name)
        sql += " WHERE " + sqlite::quote_ident(after.sqlite_name) + " > ?1";
    run->sql = pg::strdup(sql.c_str());
    run->conn = &server_connection(src.serverid);

    int64 estimate = -1;
    if (run->key_kind == KeyKind::Rowid) {
        std::string q = "SELECT max(" + std::string(info->key_expr) + ") FROM " + sqlite::quote_ident(src.table);
        sqlite::Statement st(*run->conn, q.c_str());
        if (st.step())
            estimate = st.int64_value(0);
    }
    run->stmt = sqlite::prepare(*run->conn, run->sql);
    try {
        sqlite::own_statement(*run->conn, run->stmt, run_cxt);
    } catch (...) {
        sqlite3_finalize(run->stmt); /* not owned yet: nothing else would finalize it */
        throw;
    }
    if (after.sqlite_name) {
        if (after.is_integer)
            sqlite3_bind_int64(run->stmt, 1, after.integer);
        else
            sqlite3_bind_text(run->stmt, 1, after.text, -1, SQLITE_TRANSIENT);
    }

    pg::call([&] {
        pgstat_progress_start_command(PROGRESS_COMMAND_COPY, target);
        const int index[] = {PROGRESS_COPY_COMMAND, PROGRESS_COPY_BYTES_TOTAL, PROGRESS_COPY_TYPE};
        const int64 val[] = {kProgressMarker, estimate, run->run_id};
        pgstat_progress_update_multi_param(3, index, val);
    });

    /* the COPY FROM bulk path */
    int ti_options = 0;
    if (rel->rd_createSubid != InvalidSubTransactionId || rel->rd_firstRelfilenodeSubid != InvalidSubTransactionId)
        ti_options |= TABLE_INSERT_SKIP_FSM;
    CommandId cid = estate->es_output_cid;
    BulkInsertState bistate = pg::call([] { return GetBulkInsertState(); });
    TupleTableSlot** slots = static_cast<TupleTableSlot**>(pg::alloc_zero(sizeof(TupleTableSlot*) * kBatchRows));
    pg::call([&] {
        for (int i = 0; i < kBatchRows; i++)
            slots[i] = MakeSingleTupleTableSlot(desc, table_slot_callbacks(rel));
    });
    ExprContext* econtext = pg::call([&] { return GetPerTupleExprContext(estate); });
    bool has_constraints = desc->constr != nullptr;
    int nbuffered = 0;
    int read_since_flush = 0; /* rejected rows too: their memory goes and progress shows at every batch */
    TimestampTz started = GetCurrentTimestamp();
    BadValuePolicy policy{bad_value, run->allow_rounding ? nullptr : refuse_rounding, run, false};
    TimestampTz last_notice = started;

    auto flush = [&] {
        int n = nbuffered;
        pg::call([&] {
            /* what the heap and index AMs allocate lives until the batch is done, as in COPY's flush */
            MemoryContext caller_cxt = MemoryContextSwitchTo(GetPerTupleMemoryContext(estate));
            if (has_constraints)
                for (int i = 0; i < n; i++)
                    ExecConstraints(rri, slots[i], estate);
            if (n > 0)
                table_multi_insert(rel, slots, n, cid, ti_options, bistate);
            for (int i = 0; i < n; i++) {
                if (rri->ri_NumIndices > 0)
                    list_free(ExecInsertIndexTuples(rri, slots[i], estate, false, false, nullptr, NIL));
                ExecClearTuple(slots[i]);
            }
            MemoryContextSwitchTo(caller_cxt);
            MemoryContextReset(batch_cxt);
            ResetPerTupleExprContext(estate);
        });
        run->rows_written += n;
        nbuffered = 0;
        read_since_flush = 0;
        publish(*run);
        TimestampTz now = GetCurrentTimestamp();
        if (TimestampDifferenceExceeds(last_notice, now, kNoticeSeconds * 1000)) {
            last_notice = now;
            double secs = static_cast<double>(now - started) / USECS_PER_SEC;
            long long done = run->rows_written, rejected = run->rows_rejected;
            double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
            const char* relname = RelationGetRelationName(rel);
            pg::call([&] {
                ereport(NOTICE, (errmsg("migrating into \"%s\": %lld rows written, %lld rejected, %.0f rows/s",
                                        relname, done, rejected, rate)));
            });
        }
    };

    while (sqlite::step_row(*run->conn, run->stmt, run->sql)) {
        pg::check_for_interrupts();
        run->rows_read++;
        TupleTableSlot* slot = slots[nbuffered];
        memset(slot->tts_isnull, true, sizeof(bool) * static_cast<size_t>(desc->natts));
        MemoryContext old = MemoryContextSwitchTo(batch_cxt);
        bool keep;
        try {
            keep = convert_row(run->mapped, run->nmapped, run->stmt, slot->tts_values, slot->tts_isnull, policy);
            if (keep)
                fill_defaults(*run, econtext, slot->tts_values, slot->tts_isnull);
        } catch (...) {
            MemoryContextSwitchTo(old);
            throw;
        }
        MemoryContextSwitchTo(old);
        if (keep) {
            pg::call([&] { ExecStoreVirtualTuple(slot); });
            nbuffered++;
        } else {
            run->rows_rejected++;
        }
        if (++read_since_flush == kBatchRows)
            flush();
    }
    if (nbuffered > 0)
        flush();
    publish(*run);

    Datum values[3] = {Int64GetDatum(run->rows_read), Int64GetDatum(run->rows_written), Int64GetDatum(run->rows_rejected)};
    bool nulls[3] = {false, false, false};
    return pg::call([&] {
        for (int i = 0; i < kBatchRows; i++)
            ExecDropSingleTupleTableSlot(slots[i]);
        FreeBulkInsertState(bistate);
        table_finish_bulk_insert(rel, ti_options);
        ExecCloseResultRelations(estate); /* closes the indexes too */
        ExecCloseRangeTableRelations(estate);
        FreeExecutorState(estate);
        MemoryContextDelete(run_cxt);
        pgstat_progress_end_command();
        return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(result_desc), values, nulls));
    });
}

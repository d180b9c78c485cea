/*
 * modify.cpp: the modify callbacks of recio_sqlite (modify.h).
 *
 * Planning checks that the foreign table may be written (updatable, not
 * immutable, a SQLite table with a rowid for UPDATE and DELETE) and builds
 * the statement text; execution binds each value in its legacy
 * representation and runs the statement on the server's write connection.
 * Statements are owned by the modify state's memory context, so an error
 * anywhere still finalizes them.
 */
#include "fdw/modify.h"

extern "C" {
#include "access/sysattr.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "foreign/foreign.h"
#include "nodes/makefuncs.h"
#include "optimizer/appendinfo.h"
#include "optimizer/inherit.h"
#include "optimizer/pathnode.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

#include <algorithm>
#include <cstring>
#include <string>

#include "fdw/connection.h"
#include "fdw/options.h"
#include "fdw/planner.h"
#include "fdw/scan.h"
#include "sqlite/affinity.h"
#include "sqlite/connection_cache.h"
#include "sqlite/schema.h"
#include "sqlite/sql_text.h"
#include "sqlite/value_convert.h"
#include "sqlite/value_reverse.h"

namespace recio {
namespace {

/* SQLite's default limit on ?NNN parameters of one statement (SQLITE_MAX_VARIABLE_NUMBER since 3.32). */
constexpr int kMaxParams = 32766;

const char* qualified_name(Relation rel)
{
    return pg::call(
        [&] { return psprintf("%s.%s", get_namespace_name(RelationGetNamespace(rel)), RelationGetRelationName(rel)); });
}

/*
 * The one refusal of every write (INSERT, UPDATE, DELETE, TRUNCATE) to a
 * foreign table that is not updatable, raised before any file is opened
 * for writing.
 */
Oid require_updatable(Relation rel)
{
    Oid relid = RelationGetRelid(rel);
    Oid serverid = pg::call([&] { return GetForeignTable(relid)->serverid; });
    ServerOptions sopts = server_options(serverid);
    TableOptions topts = table_options(relid);
    bool updatable = topts.updatable_set ? topts.updatable : sopts.updatable;
    if (updatable && !sopts.immutable)
        return serverid;
    const char* server = pg::call([&] { return GetForeignServer(serverid)->servername; });
    throw Error(
        ERRCODE_FEATURE_NOT_SUPPORTED, format("cannot write to foreign table \"%s\"", qualified_name(rel)),
        sopts.immutable
            ? format("Server \"%s\" has immutable 'true': its file is read without locks and never written.", server)
            : format("Neither server \"%s\" nor the foreign table has updatable 'true'.", server),
        "Writes need updatable 'true' on the server or the foreign table (which needs the privileges of "
        "pg_read_server_files and pg_write_server_files) and a server without immutable 'true'.");
}

/* Statement text of one INSERT of nrows rows (?1 .. ?(nrows * ncols)). */
std::string insert_sql(const char* table, const std::vector<std::string>& cols, int nrows, bool or_ignore,
                       const std::string& returning)
{
    std::string sql = or_ignore ? "INSERT OR IGNORE INTO " : "INSERT INTO ";
    sql += sqlite::quote_ident(table);
    if (cols.empty())
        return sql + " DEFAULT VALUES" + returning;
    sql += " (";
    for (size_t i = 0; i < cols.size(); i++)
        sql += (i ? ", " : "") + sqlite::quote_ident(cols[i].c_str());
    sql += ") VALUES ";
    int param = 1;
    for (int r = 0; r < nrows; r++) {
        sql += r ? ", (" : "(";
        for (size_t i = 0; i < cols.size(); i++)
            sql += format("%s?%d", i ? ", " : "", param++);
        sql += ")";
    }
    return sql + returning;
}

/* What plan_modify hands to the executor (ModifyTable's fdw_private), in this order. */
enum PrivateField { kSql = 0, kTargetAttrs, kReturningAttrs, kOrIgnore, kTable, kInsertColumns, kKeyAttrs };

struct ModifyState {
    Relation rel;
    const char* relname;
    Oid serverid;
    const char* table; /* SQLite table */
    sqlite::Connection* conn;
    MemoryContext cxt;
    MemoryContext row_cxt; /* reset before every row or batch */
    const char* sql;
    sqlite3_stmt* stmt; /* one row */
    int ntargets;
    AttrNumber* targets; /* attnums written, in parameter order */
    const char** target_names;
    ReverseConverter* rev; /* per target */
    List* insert_columns;  /* SQLite names of the targets (String), for batch statements */
    bool or_ignore;
    int nreturning;
    ColumnConversion* returning; /* RETURNING columns, read back as SQLite stored them */
    AttrNumber ctid_attno;       /* junk ctid in the subplan's output (UPDATE, DELETE of rowid tables) */
    int nkeys;                   /* primary key columns (UPDATE, DELETE of WITHOUT ROWID tables) */
    AttrNumber* key_junk;        /* their junk attributes "recio_pk<n>" in the subplan's output */
    ReverseConverter* key_rev;   /* and their reverse conversion */
    int batch_size;
    sqlite3_stmt* batch_stmt; /* batch_size rows */
    int partial_rows;         /* rows of partial_stmt: the last, smaller batch */
    sqlite3_stmt* partial_stmt;
};

BadValueAction returning_bad_value(void* arg, int col, int sqlstate, const std::string& message)
{
    auto* st = static_cast<ModifyState*>(arg);
    throw Error(
        sqlstate, message,
        format("Foreign table \"%s\", column \"%s\", as SQLite stored it.", st->relname, st->returning[col].name));
}

void bind_or_raise(ModifyState& st, sqlite3_stmt* stmt, int param, int target, Datum value, bool isnull)
{
    int rc;
    try {
        rc = bind_legacy(st.rev[target], stmt, param, value, isnull);
    } catch (Error& e) {
        e.context = format("column \"%s\" of foreign table \"%s\"", st.target_names[target], st.relname);
        throw;
    }
    if (rc != SQLITE_OK)
        sqlite::raise_error(*st.conn, rc, st.sql);
}

void bind_targets(ModifyState& st, sqlite3_stmt* stmt, TupleTableSlot* slot, int first_param)
{
    slot_getallattrs(slot);
    for (int i = 0; i < st.ntargets; i++) {
        AttrNumber att = st.targets[i];
        bind_or_raise(st, stmt, first_param + i, i, slot->tts_values[att - 1], slot->tts_isnull[att - 1]);
    }
}

/*
 * Run a bound statement.  With RETURNING, the row SQLite returns (as it
 * stored it) replaces slot's contents; returns whether a row was written.
 */
bool run_statement(ModifyState& st, sqlite3_stmt* stmt, TupleTableSlot* slot)
{
    bool wrote;
    if (st.nreturning > 0) {
        wrote = sqlite::step_row(*st.conn, stmt, st.sql);
        if (wrote) {
            ExecClearTuple(slot);
            memset(slot->tts_isnull, true, sizeof(bool) * static_cast<size_t>(slot->tts_tupleDescriptor->natts));
            BadValuePolicy policy{returning_bad_value, nullptr, &st, true};
            convert_row(st.returning, st.nreturning, stmt, slot->tts_values, slot->tts_isnull, policy);
            ExecStoreVirtualTuple(slot);
            while (sqlite::step_row(*st.conn, stmt, st.sql))
                pg::check_for_interrupts();
        }
    } else {
        sqlite::step_row(*st.conn, stmt, st.sql);
        wrote = sqlite3_changes(st.conn->db) > 0;
    }
    sqlite3_reset(stmt);
    return wrote;
}

sqlite3_stmt* owned_write_statement(ModifyState& st, const char* sql)
{
    sqlite3_stmt* stmt = sqlite::prepare_write(*st.conn, sql, st.table);
    sqlite::own_statement(*st.conn, stmt, st.cxt);
    return stmt;
}

int64 junk_rowid(ModifyState& st, TupleTableSlot* plan_slot)
{
    bool isnull = true;
    Datum d = ExecGetJunkAttribute(plan_slot, st.ctid_attno, &isnull);
    if (isnull)
        throw Error(ERRCODE_FDW_ERROR, format("the row of foreign table \"%s\" to change has no rowid", st.relname));
    return tid_to_rowid(reinterpret_cast<ItemPointer>(DatumGetPointer(d)));
}

/* The row's key (rowid, or primary key values in their legacy representation) to ?first... */
void bind_key(ModifyState& st, TupleTableSlot* plan_slot, int first)
{
    if (st.nkeys == 0) {
        int rc = sqlite3_bind_int64(st.stmt, first, junk_rowid(st, plan_slot));
        if (rc != SQLITE_OK)
            sqlite::raise_error(*st.conn, rc, st.sql);
        return;
    }
    for (int k = 0; k < st.nkeys; k++) {
        bool isnull = true;
        Datum d = ExecGetJunkAttribute(plan_slot, st.key_junk[k], &isnull);
        int rc = bind_legacy(st.key_rev[k], st.stmt, first + k, d, isnull);
        if (rc != SQLITE_OK)
            sqlite::raise_error(*st.conn, rc, st.sql);
    }
}

const sqlite::ColumnInfo* find_sqlite_column(const std::vector<sqlite::ColumnInfo>& cols, const char* name)
{
    for (const auto& c : cols)
        if (sqlite3_stricmp(c.name.c_str(), name) == 0)
            return &c;
    return nullptr;
}

}  // namespace

/* The legacy facts of a column: its SQLite affinity and its options. */
LegacyColumn legacy_column(Oid relid, Form_pg_attribute att, const std::vector<sqlite::ColumnInfo>& cols,
                           const char* default_tz, const char* relname)
{
    ColumnOptions copts = column_options(relid, att->attnum, NameStr(att->attname));
    const sqlite::ColumnInfo* sc = find_sqlite_column(cols, copts.column_name);
    if (!sc)
        throw Error(ERRCODE_FDW_COLUMN_NAME_NOT_FOUND,
                    format("SQLite column \"%s\" of foreign table \"%s\" does not exist", copts.column_name, relname),
                    {}, "Check the foreign table's column names and \"column_name\" options.");
    LegacyColumn l{};
    l.affinity = sqlite::affinity_of(sc->declared.c_str());
    l.format = copts.format;
    bool numeric_affinity = l.affinity == sqlite::Affinity::Integer || l.affinity == sqlite::Affinity::Real ||
                            l.affinity == sqlite::Affinity::Numeric;
    l.epoch = copts.epoch_unit_set || (!copts.format && numeric_affinity);
    if (copts.epoch_unit_set && copts.format)
        throw Error(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE,
                    format("column \"%s\" of foreign table \"%s\" has both \"format\" and \"epoch_unit\"",
                           NameStr(att->attname), relname),
                    "A timestamp is written either as text in a format or as an epoch number, not both.");
    l.epoch_unit = copts.epoch_unit;
    const char* tz = copts.timezone ? copts.timezone : default_tz;
    if (tz && pg_strcasecmp(tz, "UTC") != 0) {
        l.tz_name = tz;
        l.tz = lookup_timezone(tz);
    }
    l.allow_rounding = copts.allow_rounding;
    return l;
}

namespace {

/*
 * The foreign-table columns (attnums, in primary-key order) that hold a
 * WITHOUT ROWID table's primary key; throws when one is not a column of the
 * foreign table.
 */
std::vector<AttrNumber> primary_key_attnums(Relation rel, const char* table)
{
    Oid relid = RelationGetRelid(rel);
    Oid serverid = pg::call([&] { return GetForeignTable(relid)->serverid; });
    std::vector<sqlite::ColumnInfo> cols = sqlite::table_columns(server_connection(serverid), table);
    std::vector<const sqlite::ColumnInfo*> pk;
    for (const auto& c : cols)
        if (c.pk > 0)
            pk.push_back(&c);
    std::sort(pk.begin(), pk.end(), [](auto a, auto b) { return a->pk < b->pk; });
    TupleDesc desc = RelationGetDescr(rel);
    std::vector<AttrNumber> out;
    for (const auto* c : pk) {
        AttrNumber found = InvalidAttrNumber;
        for (int i = 0; i < desc->natts && found == InvalidAttrNumber; i++) {
            Form_pg_attribute att = TupleDescAttr(desc, i);
            if (att->attisdropped)
                continue;
            ColumnOptions copts = column_options(relid, att->attnum, NameStr(att->attname));
            if (sqlite3_stricmp(copts.column_name, c->name.c_str()) == 0)
                found = att->attnum;
        }
        if (found == InvalidAttrNumber)
            throw Error(ERRCODE_FEATURE_NOT_SUPPORTED,
                        format("cannot update or delete rows of foreign table \"%s\": primary key column \"%s\" of "
                               "SQLite table \"%s\" is not one of its columns",
                               qualified_name(rel), shown(c->name.c_str()).c_str(), table),
                        "Rows of a WITHOUT ROWID table are named by their primary key: declare its columns.");
        out.push_back(found);
    }
    return out;
}

std::string key_junk_name(int k)
{
    return format("recio_pk%d", k + 1);
}

}  // namespace

int is_rel_updatable(Relation rel)
{
    Oid relid = RelationGetRelid(rel);
    Oid serverid = pg::call([&] { return GetForeignTable(relid)->serverid; });
    ServerOptions sopts = server_options(serverid);
    TableOptions topts = table_options(relid);
    bool updatable = (topts.updatable_set ? topts.updatable : sopts.updatable) && !sopts.immutable;
    return updatable ? (1 << CMD_INSERT) | (1 << CMD_UPDATE) | (1 << CMD_DELETE) : 0;
}

/*
 * The row identity: the rowid in the ctid, or, for a WITHOUT ROWID table,
 * its primary key columns as junk attributes recio_pk1, recio_pk2, ...
 */
void add_update_targets(PlannerInfo* root, Index rtindex, RangeTblEntry*, Relation rel)
{
    Oid relid = RelationGetRelid(rel);
    Oid serverid = pg::call([&] { return GetForeignTable(relid)->serverid; });
    bool snapshot_before = sqlite::snapshot_held(serverid);
    RelInfo* info = describe_relation(relid);
    std::vector<AttrNumber> key;
    if (info->key_kind == KeyKind::PrimaryKey)
        key = primary_key_attnums(rel, info->table);
    if (!snapshot_before && !sqlite::active_writer(serverid))
        sqlite::release_snapshot(server_connection(serverid));
    if (info->key_kind != KeyKind::PrimaryKey) {
        pg::call([&] {
            Var* var = makeVar(rtindex, SelfItemPointerAttributeNumber, TIDOID, -1, InvalidOid, 0);
            add_row_identity_var(root, var, rtindex, "ctid");
        });
        return;
    }
    TupleDesc desc = RelationGetDescr(rel);
    for (size_t k = 0; k < key.size(); k++) {
        Form_pg_attribute att = TupleDescAttr(desc, key[k] - 1);
        std::string name = key_junk_name(static_cast<int>(k));
        pg::call([&] {
            Var* var = makeVar(rtindex, att->attnum, att->atttypid, att->atttypmod, att->attcollation, 0);
            add_row_identity_var(root, var, rtindex, pstrdup(name.c_str()));
        });
    }
}

namespace {

/* " WHERE rowid = ?first" or " WHERE "k1" = ?first AND "k2" = ?first+1" */
std::string where_key(const RelInfo* info, const std::vector<AttrNumber>& key, int first)
{
    if (key.empty())
        return format(" WHERE %s = ?%d", info->key_expr, first);
    std::string w;
    for (size_t k = 0; k < key.size(); k++)
        w += format("%s%s = ?%d", k ? " AND " : " WHERE ",
                    sqlite::quote_ident(info->cols[key[k] - 1].sqlite_name).c_str(), first + static_cast<int>(k));
    return w;
}

}  // namespace

List* plan_modify(PlannerInfo* root, ModifyTable* plan, Index result_relation, int subplan_index)
{
    CmdType operation = plan->operation;
    RangeTblEntry* rte = pg::call([&] { return planner_rt_fetch(result_relation, root); });
    Relation rel = pg::call([&] { return table_open(rte->relid, NoLock); });
    const char* relname = qualified_name(rel);
    Oid serverid = require_updatable(rel);
    if (plan->onConflictAction == ONCONFLICT_UPDATE)
        throw Error(ERRCODE_FEATURE_NOT_SUPPORTED,
                    format("INSERT ... ON CONFLICT DO UPDATE is not supported on foreign table \"%s\"", relname), {},
                    "Use ON CONFLICT DO NOTHING (written as SQLite's INSERT OR IGNORE), or an UPDATE.");
    bool or_ignore = plan->onConflictAction == ONCONFLICT_NOTHING;

    bool snapshot_before = sqlite::snapshot_held(serverid);
    RelInfo* info = describe_relation(rte->relid);
    if (!snapshot_before && !sqlite::active_writer(serverid))
        sqlite::release_snapshot(server_connection(serverid));
    if (operation != CMD_INSERT && info->key_kind == KeyKind::None)
        throw Error(ERRCODE_FEATURE_NOT_SUPPORTED,
                    format("cannot %s foreign table \"%s\": SQLite \"%s\" has no rowid and no primary key",
                           operation == CMD_UPDATE ? "update" : "delete from", relname, info->table),
                    "recio_sqlite updates and deletes rows of SQLite tables by rowid, or by primary key for WITHOUT "
                    "ROWID tables; a SQLite view has neither.");
    std::vector<AttrNumber> key;
    if (operation != CMD_INSERT && info->key_kind == KeyKind::PrimaryKey)
        key = primary_key_attnums(rel, info->table);
    if (operation == CMD_INSERT && info->key_kind == KeyKind::None)
        throw Error(
            ERRCODE_FEATURE_NOT_SUPPORTED,
            format("cannot insert into foreign table \"%s\": SQLite \"%s\" is not a table", relname, info->table));

    TupleDesc desc = RelationGetDescr(rel);
    List* targets = NIL;
    List* returning = NIL;
    pg::call([&] {
        if (operation == CMD_INSERT) {
            for (int i = 0; i < desc->natts; i++)
                if (!TupleDescAttr(desc, i)->attisdropped)
                    targets = lappend_int(targets, i + 1);
        } else if (operation == CMD_UPDATE) {
            RelOptInfo* baserel = find_base_rel(root, static_cast<int>(result_relation));
            Bitmapset* cols = get_rel_all_updated_cols(root, baserel);
            int col = -1;
            while ((col = bms_next_member(cols, col)) >= 0) {
                AttrNumber att = static_cast<AttrNumber>(col + FirstLowInvalidHeapAttributeNumber);
                if (att > 0)
                    targets = lappend_int(targets, att);
            }
        }
        if (plan->returningLists && list_nth(plan->returningLists, subplan_index))
            for (int i = 0; i < desc->natts; i++)
                if (!TupleDescAttr(desc, i)->attisdropped)
                    returning = lappend_int(returning, i + 1);
    });

    std::string ret;
    ListCell* lc;
    foreach (lc, returning)
        ret += (ret.empty() ? " RETURNING " : ", ") + sqlite::quote_ident(info->cols[lfirst_int(lc) - 1].sqlite_name);
    std::vector<std::string> names;
    foreach (lc, targets)
        names.emplace_back(info->cols[lfirst_int(lc) - 1].sqlite_name);
    std::string table = sqlite::quote_ident(info->table);
    std::string sql;
    if (operation == CMD_INSERT) {
        sql = insert_sql(info->table, names, 1, or_ignore, ret);
    } else if (operation == CMD_UPDATE) {
        sql = "UPDATE " + table + " SET ";
        for (size_t i = 0; i < names.size(); i++)
            sql += format("%s%s = ?%d", i ? ", " : "", sqlite::quote_ident(names[i].c_str()).c_str(),
                          static_cast<int>(i + 1));
        sql += where_key(info, key, static_cast<int>(names.size() + 1)) + ret;
    } else {
        sql = "DELETE FROM " + table + where_key(info, key, 1) + ret;
    }
    pg::call([&] { table_close(rel, NoLock); });
    return pg::call([&] {
        List* columns = NIL;
        for (const auto& n : names)
            columns = lappend(columns, makeString(pstrdup(n.c_str())));
        List* priv = list_make4(makeString(pstrdup(sql.c_str())), targets, returning, makeInteger(or_ignore));
        priv = lappend(priv, makeString(pstrdup(info->table)));
        priv = lappend(priv, columns);
        List* key_attrs = NIL;
        for (AttrNumber a : key)
            key_attrs = lappend_int(key_attrs, a);
        return lappend(priv, key_attrs);
    });
}

void begin_modify(ModifyTableState* mtstate, ResultRelInfo* rinfo, List* fdw_private, int, int eflags)
{
    if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
        return;
    Relation rel = rinfo->ri_RelationDesc;
    Oid relid = RelationGetRelid(rel);
    EState* estate = mtstate->ps.state;
    MemoryContext cxt = pg::call(
        [&] { return AllocSetContextCreate(estate->es_query_cxt, "recio_sqlite modify", ALLOCSET_DEFAULT_SIZES); });
    ContextSwitch in_cxt(cxt);
    auto* st = static_cast<ModifyState*>(pg::alloc_zero(sizeof(ModifyState)));
    st->cxt = cxt;
    st->row_cxt =
        pg::call([&] { return AllocSetContextCreate(cxt, "recio_sqlite modify row", ALLOCSET_DEFAULT_SIZES); });
    st->rel = rel;
    st->relname = qualified_name(rel);
    st->serverid = require_updatable(rel);
    st->sql = pg::strdup(strVal(list_nth(fdw_private, kSql)));
    List* targets = static_cast<List*>(list_nth(fdw_private, kTargetAttrs));
    List* returning = static_cast<List*>(list_nth(fdw_private, kReturningAttrs));
    st->or_ignore = intVal(list_nth(fdw_private, kOrIgnore)) != 0;
    st->table = pg::strdup(strVal(list_nth(fdw_private, kTable)));
    st->insert_columns = static_cast<List*>(list_nth(fdw_private, kInsertColumns));
    st->conn = &write_connection(st->serverid);
    rinfo->ri_FdwState = st;

    ServerOptions sopts = server_options(st->serverid);
    TableOptions topts = table_options(relid);
    const char* default_tz = topts.timezone ? topts.timezone : sopts.timezone;
    std::vector<sqlite::ColumnInfo> cols = sqlite::table_columns(*st->conn, st->table);
    TupleDesc desc = RelationGetDescr(rel);

    st->ntargets = list_length(targets);
    st->targets = static_cast<AttrNumber*>(pg::alloc_zero(sizeof(AttrNumber) * static_cast<Size>(st->ntargets + 1)));
    st->target_names = static_cast<const char**>(pg::alloc_zero(sizeof(char*) * static_cast<Size>(st->ntargets + 1)));
    st->rev =
        static_cast<ReverseConverter*>(pg::alloc_zero(sizeof(ReverseConverter) * static_cast<Size>(st->ntargets + 1)));
    int i = 0;
    ListCell* lc;
    foreach (lc, targets) {
        Form_pg_attribute att = TupleDescAttr(desc, lfirst_int(lc) - 1);
        st->targets[i] = att->attnum;
        st->target_names[i] = pg::strdup(NameStr(att->attname));
        LegacyColumn legacy = legacy_column(relid, att, cols, default_tz, st->relname);
        try {
            plan_reverse(st->rev[i], att->atttypid, legacy);
        } catch (Error& e) {
            e.context = format("column \"%s\" of foreign table \"%s\"", NameStr(att->attname), st->relname);
            throw;
        }
        i++;
    }

    st->nreturning = list_length(returning);
    st->returning = static_cast<ColumnConversion*>(
        pg::alloc_zero(sizeof(ColumnConversion) * static_cast<Size>(st->nreturning + 1)));
    i = 0;
    foreach (lc, returning) {
        Form_pg_attribute att = TupleDescAttr(desc, lfirst_int(lc) - 1);
        ColumnOptions copts = column_options(relid, att->attnum, NameStr(att->attname));
        const char* tz = copts.timezone ? copts.timezone : default_tz;
        ColumnConversion& c = st->returning[i];
        c.result_col = i;
        c.index = att->attnum - 1;
        c.name = pg::strdup(NameStr(att->attname));
        ValueRules rules{copts.epoch_unit, tz, tz ? lookup_timezone(tz) : nullptr, false};
        plan_converter(c.conv, att->atttypid, att->atttypmod, rules);
        i++;
    }

    List* key_attrs = static_cast<List*>(list_nth(fdw_private, kKeyAttrs));
    st->nkeys = list_length(key_attrs);
    if (mtstate->operation != CMD_INSERT) {
        Plan* subplan = outerPlanState(mtstate)->plan;
        if (st->nkeys == 0) {
            st->ctid_attno = pg::call([&] { return ExecFindJunkAttributeInTlist(subplan->targetlist, "ctid"); });
            if (!AttributeNumberIsValid(st->ctid_attno))
                throw Error(ERRCODE_FDW_ERROR, format("the rows of foreign table \"%s\" carry no rowid", st->relname));
        }
        st->key_junk = static_cast<AttrNumber*>(pg::alloc_zero(sizeof(AttrNumber) * static_cast<Size>(st->nkeys + 1)));
        st->key_rev =
            static_cast<ReverseConverter*>(pg::alloc_zero(sizeof(ReverseConverter) * static_cast<Size>(st->nkeys + 1)));
        int k = 0;
        foreach (lc, key_attrs) {
            Form_pg_attribute att = TupleDescAttr(desc, lfirst_int(lc) - 1);
            std::string name = key_junk_name(k);
            st->key_junk[k] = pg::call([&] { return ExecFindJunkAttributeInTlist(subplan->targetlist, name.c_str()); });
            if (!AttributeNumberIsValid(st->key_junk[k]))
                throw Error(ERRCODE_FDW_ERROR,
                            format("the rows of foreign table \"%s\" carry no primary key", st->relname));
            plan_reverse(st->key_rev[k], att->atttypid, legacy_column(relid, att, cols, default_tz, st->relname));
            k++;
        }
    }
    st->stmt = owned_write_statement(*st, st->sql);
}

TupleTableSlot* exec_insert(EState*, ResultRelInfo* rinfo, TupleTableSlot* slot, TupleTableSlot*)
{
    auto* st = static_cast<ModifyState*>(rinfo->ri_FdwState);
    pg::call([&] { MemoryContextReset(st->row_cxt); });
    ContextSwitch in_row(st->row_cxt);
    bind_targets(*st, st->stmt, slot, 1);
    return run_statement(*st, st->stmt, slot) ? slot : nullptr;
}

int batch_size(ResultRelInfo* rinfo)
{
    if (rinfo->ri_projectReturning || rinfo->ri_WithCheckOptions ||
        (rinfo->ri_TrigDesc &&
         (rinfo->ri_TrigDesc->trig_insert_before_row || rinfo->ri_TrigDesc->trig_insert_after_row)))
        return 1;
    Relation rel = rinfo->ri_RelationDesc;
    Oid relid = RelationGetRelid(rel);
    Oid serverid = pg::call([&] { return GetForeignTable(relid)->serverid; });
    TableOptions topts = table_options(relid);
    int size = topts.batch_size > 0 ? topts.batch_size : server_options(serverid).batch_size;
    int natts = std::max(1, RelationGetDescr(rel)->natts);
    size = std::max(1, std::min(size, kMaxParams / natts));
    if (auto* st = static_cast<ModifyState*>(rinfo->ri_FdwState))
        st->batch_size = size;
    return size;
}

TupleTableSlot** exec_batch_insert(EState*, ResultRelInfo* rinfo, TupleTableSlot** slots, TupleTableSlot**,
                                   int* num_slots)
{
    auto* st = static_cast<ModifyState*>(rinfo->ri_FdwState);
    int n = *num_slots;
    if (st->ntargets == 0 || n == 1) {
        int done = 0;
        for (int i = 0; i < n; i++)
            done += exec_insert(nullptr, rinfo, slots[i], nullptr) ? 1 : 0;
        *num_slots = done;
        return slots;
    }
    bool full = n == st->batch_size;
    if (full ? !st->batch_stmt : (!st->partial_stmt || st->partial_rows != n)) {
        /* owned by the state's context, finalized when the statement ends or fails */
        std::vector<std::string> names;
        ListCell* lc;
        foreach (lc, st->insert_columns)
            names.emplace_back(strVal(lfirst(lc)));
        std::string sql = insert_sql(st->table, names, n, st->or_ignore, {});
        sqlite3_stmt* stmt = owned_write_statement(*st, sql.c_str());
        if (full) {
            st->batch_stmt = stmt;
        } else {
            st->partial_stmt = stmt;
            st->partial_rows = n;
        }
    }
    sqlite3_stmt* stmt = full ? st->batch_stmt : st->partial_stmt;
    pg::call([&] { MemoryContextReset(st->row_cxt); });
    {
        ContextSwitch in_row(st->row_cxt);
        for (int r = 0; r < n; r++) {
            pg::check_for_interrupts();
            bind_targets(*st, stmt, slots[r], r * st->ntargets + 1);
        }
    }
    sqlite::step_row(*st->conn, stmt, st->sql);
    *num_slots = sqlite3_changes(st->conn->db);
    sqlite3_reset(stmt);
    return slots;
}

TupleTableSlot* exec_update(EState*, ResultRelInfo* rinfo, TupleTableSlot* slot, TupleTableSlot* plan_slot)
{
    auto* st = static_cast<ModifyState*>(rinfo->ri_FdwState);
    pg::call([&] { MemoryContextReset(st->row_cxt); });
    ContextSwitch in_row(st->row_cxt);
    bind_targets(*st, st->stmt, slot, 1);
    bind_key(*st, plan_slot, st->ntargets + 1);
    return run_statement(*st, st->stmt, slot) ? slot : nullptr;
}

TupleTableSlot* exec_delete(EState*, ResultRelInfo* rinfo, TupleTableSlot* slot, TupleTableSlot* plan_slot)
{
    auto* st = static_cast<ModifyState*>(rinfo->ri_FdwState);
    pg::call([&] { MemoryContextReset(st->row_cxt); });
    ContextSwitch in_row(st->row_cxt);
    bind_key(*st, plan_slot, 1);
    return run_statement(*st, st->stmt, slot) ? slot : nullptr;
}

void end_modify(EState*, ResultRelInfo* rinfo)
{
    auto* st = static_cast<ModifyState*>(rinfo->ri_FdwState);
    if (!st)
        return;
    rinfo->ri_FdwState = nullptr;
    MemoryContext cxt = st->cxt;
    pg::call([&] { MemoryContextDelete(cxt); });
}

void explain_modify(ModifyTableState*, ResultRelInfo* rinfo, List* fdw_private, int, ExplainState* es)
{
    if (!es->verbose)
        return;
    const char* sql = strVal(list_nth(fdw_private, kSql));
    pg::call([&] {
        ExplainPropertyText("SQLite statement", sql, es);
        if (rinfo->ri_BatchSize > 0)
            ExplainPropertyInteger("Batch Size", nullptr, rinfo->ri_BatchSize, es);
    });
}

namespace {

/* Run one writing statement on the table, finalized whatever happens. */
void run_once(sqlite::Connection& conn, const char* sql, const char* table, const char* param)
{
    sqlite3_stmt* stmt = sqlite::prepare_write(conn, sql, table);
    try {
        if (param)
            sqlite3_bind_text(stmt, 1, param, -1, SQLITE_TRANSIENT);
        sqlite::step_row(conn, stmt, sql);
    } catch (...) {
        sqlite3_finalize(stmt);
        throw;
    }
    sqlite3_finalize(stmt);
}

}  // namespace

/*
 * TRUNCATE: DELETE FROM each table.  RESTART IDENTITY also forgets the
 * table's AUTOINCREMENT counter (its sqlite_sequence row); CONTINUE
 * IDENTITY, the default, keeps it, so new rows get keys past every key the
 * table ever had, as after a DELETE in the legacy application.
 */
void exec_truncate(List* rels, DropBehavior, bool restart_seqs)
{
    ListCell* lc;
    foreach (lc, rels) {
        Relation rel = static_cast<Relation>(lfirst(lc));
        Oid serverid = require_updatable(rel);
        TableOptions topts = table_options(RelationGetRelid(rel));
        sqlite::Connection& conn = write_connection(serverid);
        std::string sql = "DELETE FROM " + sqlite::quote_ident(topts.table);
        run_once(conn, sql.c_str(), topts.table, nullptr);
        bool has_sequence = sqlite3_table_column_metadata(conn.db, "main", "sqlite_sequence", "name", nullptr, nullptr,
                                                          nullptr, nullptr, nullptr) == SQLITE_OK;
        if (restart_seqs && has_sequence)
            run_once(conn, "DELETE FROM sqlite_sequence WHERE name = ?1", topts.table, topts.table);
    }
}

}  // namespace recio

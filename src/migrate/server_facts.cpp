/*
 * server_facts.cpp: what the ledger and migrate_server() read about a legacy
 * file: recio_migrate.source_facts(source) (path, size, modification time,
 * data_version) and recio_migrate.sqlite_tables(server) (its tables with
 * their row counts, its views, virtual tables and their shadow tables).
 */
#include "migrate/source.h"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

#include <sys/stat.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "fdw/connection.h"
#include "sqlite/schema.h"
#include "sqlite/sql_text.h"

/* source_facts(source regclass, OUT path, OUT size_bytes, OUT modified, OUT data_version) */
RECIO_FUNCTION(recio_source_facts)
{
    using namespace recio;
    SourceTable src = source_table(PG_GETARG_OID(0));
    sqlite::Connection& conn = server_connection(src.serverid);
    int64 data_version = 0;
    {
        sqlite::Statement st(conn, "PRAGMA data_version");
        if (st.step())
            data_version = st.int64_value(0);
    }
    struct stat sb;
    bool have_stat = stat(src.path, &sb) == 0;
    /* the facts must be those of the file this transaction reads, never of one renamed into place since */
    if (have_stat &&
        (static_cast<uint64>(sb.st_dev) != conn.file_dev || static_cast<uint64>(sb.st_ino) != conn.file_ino))
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    format("SQLite database file \"%s\" was replaced during this transaction", src.path),
                    "This transaction still reads the file that was there when it began.",
                    "Call source_facts() again in a new transaction.");
    TupleDesc desc;
    if (pg::call([&] { return get_call_result_type(fcinfo, nullptr, &desc); }) != TYPEFUNC_COMPOSITE)
        throw Error(ERRCODE_FEATURE_NOT_SUPPORTED, "function returning record called in context that cannot accept it");
    return pg::call([&] {
        Datum values[4];
        bool nulls[4] = {false, !have_stat, !have_stat, false};
        values[0] = CStringGetTextDatum(src.path);
        values[1] = Int64GetDatum(have_stat ? static_cast<int64>(sb.st_size) : 0);
        values[2] = TimestampTzGetDatum(have_stat ? time_t_to_timestamptz(sb.st_mtime) : 0);
        values[3] = Int64GetDatum(data_version);
        return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls));
    });
}

namespace recio {
namespace {

/*
 * The file's virtual tables and their shadow tables (named after them with
 * the suffixes of rtree, fts3/4 and fts5, as SQLite names its own), by name:
 * "virtual table" or "shadow table".
 */
std::map<std::string, std::string> virtual_tables(sqlite::Connection& conn)
{
    std::map<std::string, std::string> kinds;
    sqlite::Statement st(conn,
                         "SELECT s.name, CASE WHEN s.sql LIKE 'CREATE VIRTUAL TABLE%' THEN 'virtual table' "
                         "ELSE 'shadow table' END FROM sqlite_schema s WHERE s.type = 'table' "
                         "AND (s.sql LIKE 'CREATE VIRTUAL TABLE%' OR EXISTS (SELECT 1 FROM sqlite_schema v "
                         "WHERE v.type = 'table' AND v.sql LIKE 'CREATE VIRTUAL TABLE%' "
                         "AND substr(s.name, 1, length(v.name) + 1) = v.name || '_' "
                         "AND substr(s.name, length(v.name) + 2) IN ('node', 'parent', 'rowid', 'content', "
                         "'segments', 'segdir', 'docsize', 'stat', 'data', 'idx', 'config')))");
    while (st.step())
        if (st.text(0))
            kinds[st.text(0)] = st.text(1);
    return kinds;
}

}  // namespace
}  // namespace recio

/*
 * sqlite_tables(server name): the tables, views, virtual tables and shadow
 * tables of a server's file.  Only tables are counted: a view's count runs
 * its query (a recursive CTE without end, a dropped table, an integer
 * overflow) and a virtual table's needs its module, so they are listed with
 * no count (migrate_server() migrates tables only).
 */
RECIO_FUNCTION(recio_sqlite_tables)
{
    using namespace recio;
    const char* name = pg::call([&] { return NameStr(*PG_GETARG_NAME(0)); });
    Oid serverid = pg::call([&] { return get_foreign_server_oid(name, false); });
    if (pg::call([&] { return pg_foreign_server_aclcheck(serverid, GetUserId(), ACL_USAGE); }) != ACLCHECK_OK)
        throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, format("permission denied for foreign server %s", name));
    pg::call([&] { InitMaterializedSRF(fcinfo, 0); });
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    sqlite::Connection& conn = server_connection(serverid);
    std::map<std::string, std::string> virtuals = virtual_tables(conn);
    for (const sqlite::SchemaObject& object : sqlite::list_objects(conn)) {
        pg::check_for_interrupts();
        const char* t = object.name.c_str();
        if (!pg_verify_mbstr(PG_UTF8, t, static_cast<int>(object.name.size()), true))
            continue;
        auto v = virtuals.find(object.name);
        const char* k = object.kind == sqlite::ObjectKind::View ? "view"
                        : v != virtuals.end()                   ? v->second.c_str()
                                                                : "table";
        bool counted = strcmp(k, "table") == 0;
        int64 n = 0;
        if (counted) {
            std::string q = "SELECT count(*) FROM " + sqlite::quote_ident(t);
            sqlite::Statement st(conn, q.c_str());
            n = st.step() ? st.int64_value(0) : 0;
        }
        pg::call([&] {
            Datum values[3] = {CStringGetTextDatum(t), CStringGetTextDatum(k), Int64GetDatum(n)};
            bool nulls[3] = {false, false, !counted};
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        });
    }
    return Datum(0);
}

namespace recio {
namespace {

/* The legacy schema texts of one table, and the file's views (a view may read several tables). */
struct TableDdl {
    bool have_create = false;
    std::string create_sql;
    std::vector<std::string> indexes, triggers, views; /* each by name */
};

TableDdl table_ddl(sqlite::Connection& conn, const char* table)
{
    TableDdl d;
    for (sqlite::SchemaEntry& e : sqlite::schema_entries(conn)) {
        if (e.sql.empty())
            continue; /* automatic indexes: their constraints are in the CREATE TABLE */
        if (e.type == "view")
            d.views.push_back(std::move(e.sql));
        else if (e.type == "table" && sqlite3_stricmp(e.name.c_str(), table) == 0) {
            d.have_create = true;
            d.create_sql = std::move(e.sql);
        } else if (e.type == "index" && sqlite3_stricmp(e.table.c_str(), table) == 0)
            d.indexes.push_back(std::move(e.sql));
        else if (e.type == "trigger" && sqlite3_stricmp(e.table.c_str(), table) == 0)
            d.triggers.push_back(std::move(e.sql));
    }
    return d;
}

Datum text_array(const std::vector<std::string>& texts)
{
    ArrayBuildState* state = nullptr;
    for (const std::string& t : texts)
        state = accumArrayResult(state, CStringGetTextDatum(t.c_str()), false, TEXTOID, CurrentMemoryContext);
    return state ? makeArrayResult(state, CurrentMemoryContext)
                 : PointerGetDatum(construct_empty_array(TEXTOID));
}

}  // namespace
}  // namespace recio

/*
 * sqlite_table_ddl(source regclass, OUT sqlite_table, OUT create_sql, OUT index_sql, OUT
 * trigger_sql, OUT sqlite_sequence, OUT view_sql): the legacy table's own
 * CREATE TABLE text, the CREATE INDEX and CREATE TRIGGER texts on it, its
 * sqlite_sequence entry (NULL without one), and the file's CREATE VIEW
 * texts, as the file holds them now.
 * migrate() records them in recio_migrate.legacy_tables, so that
 * export_sqlite() can write a file the legacy application knows.
 */
RECIO_FUNCTION(recio_sqlite_table_ddl)
{
    using namespace recio;
    SourceTable src = source_table(PG_GETARG_OID(0));
    sqlite::Connection& conn = server_connection(src.serverid);
    TableDdl d = table_ddl(conn, src.table);
    int64 seq = 0;
    bool have_seq = sqlite::sqlite_sequence(conn, src.table, &seq);
    TupleDesc desc;
    if (pg::call([&] { return get_call_result_type(fcinfo, nullptr, &desc); }) != TYPEFUNC_COMPOSITE)
        throw Error(ERRCODE_FEATURE_NOT_SUPPORTED, "function returning record called in context that cannot accept it");
    return pg::call([&] {
        Datum values[6];
        bool nulls[6] = {false, !d.have_create, false, false, !have_seq, false};
        values[0] = CStringGetTextDatum(src.table);
        values[1] = d.have_create ? CStringGetTextDatum(d.create_sql.c_str()) : Datum(0);
        values[2] = text_array(d.indexes);
        values[3] = text_array(d.triggers);
        values[4] = Int64GetDatum(seq);
        values[5] = text_array(d.views);
        return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls));
    });
}

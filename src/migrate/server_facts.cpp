/*
 * server_facts.cpp: what the ledger and migrate_server() read about a legacy
 * file: recio_migrate.source_facts(source) (path, size, modification time,
 * data_version) and recio_migrate.sqlite_tables(server) (its tables and
 * views with their row counts).
 */
#include "migrate/source.h"

extern "C" {
#include "access/htup_details.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

#include <sys/stat.h>

#include <string>

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

/* sqlite_tables(server name): the tables and views of a server's file with their row counts */
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
    for (const sqlite::SchemaObject& object : sqlite::list_objects(conn)) {
        const char* t = object.name.c_str();
        if (!pg_verify_mbstr(PG_UTF8, t, static_cast<int>(object.name.size()), true))
            continue;
        std::string q = "SELECT count(*) FROM " + sqlite::quote_ident(t);
        sqlite::Statement st(conn, q.c_str());
        int64 n = st.step() ? st.int64_value(0) : 0;
        const char* k = object.kind == sqlite::ObjectKind::View ? "view" : "table";
        pg::call([&] {
            Datum values[3] = {CStringGetTextDatum(t), CStringGetTextDatum(k), Int64GetDatum(n)};
            bool nulls[3] = {false, false, false};
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        });
    }
    return Datum(0);
}

/*
 * connection.cpp: a foreign server's SQLite connections (connection.h):
 * the read connection, the write connection and the SQLite write
 * transaction that follows the PostgreSQL transaction (committed at
 * pre-commit, rolled back at abort, savepoints per subtransaction), and the
 * SQL functions that show and close this backend's cached connections:
 * recio_migrate.connections(), disconnect(server), disconnect_all().
 */
#include "fdw/connection.h"

extern "C" {
#include "access/xact.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "utils/builtins.h"
}

#include "fdw/options.h"

namespace recio {
namespace {

sqlite::FileSpec server_file(Oid serverid)
{
    ServerOptions opts = server_options(serverid);
    return sqlite::FileSpec{opts.database, opts.busy_timeout_ms, opts.immutable, false};
}

/* The write connection's file: the modify path has checked the table is updatable and the server not immutable. */
sqlite::FileSpec writable_file(Oid serverid)
{
    ServerOptions opts = server_options(serverid);
    return sqlite::FileSpec{opts.database, opts.busy_timeout_ms, false, true};
}

/*
 * PRE_COMMIT: commit every SQLite write transaction (an error aborts the
 * PostgreSQL transaction, whose abort rolls the rest back).  PRE_PREPARE:
 * refused while a SQLite transaction is open.  The abort of a write
 * transaction is the connection cache's own (end of transaction, never
 * raising).
 */
void on_xact(XactEvent event)
{
    if (event == XACT_EVENT_PRE_PREPARE) {
        std::vector<sqlite::Connection*> open = sqlite::writing_connections();
        if (!open.empty())
            throw Error(ERRCODE_FEATURE_NOT_SUPPORTED,
                        "cannot prepare a transaction that has written to a SQLite file",
                        format("The transaction wrote to \"%s\"; SQLite has no two-phase commit.", open[0]->path));
        return;
    }
    if (event != XACT_EVENT_PRE_COMMIT)
        return;
    for (sqlite::Connection* writer : sqlite::writing_connections()) {
        /* this backend's reader of the same file ends first: a commit in rollback-journal mode waits for readers */
        if (sqlite::Connection* reader = sqlite::cached_connection(writer->serverid))
            sqlite::release_snapshot(*reader);
        sqlite::commit_write(*writer);
    }
}

void xact_callback(XactEvent event, void*)
{
    if (event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PRE_PREPARE)
        guarded([&] { on_xact(event); });
}

/* Subtransactions: RELEASE at subcommit (may raise), ROLLBACK TO + RELEASE at subabort (never raises). */
void subxact_callback(SubXactEvent event, SubTransactionId, SubTransactionId, void*)
{
    if (event != SUBXACT_EVENT_PRE_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB)
        return;
    int level = GetCurrentTransactionNestLevel();
    if (event == SUBXACT_EVENT_ABORT_SUB) {
        for (sqlite::Connection* writer : sqlite::writing_connections())
            sqlite::rollback_savepoint(*writer, level);
        return;
    }
    guarded([&] {
        for (sqlite::Connection* writer : sqlite::writing_connections())
            sqlite::release_savepoint(*writer, level);
    });
}

bool g_callbacks_registered = false;

}  // namespace

sqlite::Connection& server_connection(Oid serverid)
{
    if (sqlite::Connection* writer = sqlite::active_writer(serverid))
        return *writer;
    return sqlite::connection_for(serverid, server_file);
}

sqlite::Connection& write_connection(Oid serverid)
{
    if (!g_callbacks_registered) {
        pg::call([] {
            RegisterXactCallback(xact_callback, nullptr);
            RegisterSubXactCallback(subxact_callback, nullptr);
        });
        g_callbacks_registered = true;
    }
    sqlite::Connection& writer = sqlite::writer_for(serverid, writable_file);
    sqlite::begin_write(writer, sqlite::cached_connection(serverid), GetCurrentTransactionNestLevel());
    return writer;
}

}  // namespace recio

RECIO_FUNCTION(recio_connections)
{
    recio::pg::call([&] { InitMaterializedSRF(fcinfo, 0); });
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (recio::sqlite::Connection* conn : recio::sqlite::open_connections()) {
        Datum values[4];
        bool nulls[4] = {false, false, false, false};
        recio::pg::call([&] {
            ForeignServer* server = GetForeignServerExtended(conn->serverid, FSV_MISSING_OK);
            if (server)
                values[0] = CStringGetTextDatum(server->servername);
            else
                nulls[0] = true;
            values[1] = CStringGetTextDatum(conn->path);
            values[2] = BoolGetDatum(conn->xact_open);
            values[3] = BoolGetDatum(!conn->invalidated);
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        });
    }
    return Datum(0);
}

RECIO_FUNCTION(recio_disconnect)
{
    const char* name = recio::pg::call([&] { return text_to_cstring(PG_GETARG_TEXT_PP(0)); });
    Oid serverid = recio::pg::call([&] { return GetForeignServerByName(name, false)->serverid; });
    recio::sqlite::Connection* conn = recio::sqlite::cached_connection(serverid);
    PG_RETURN_BOOL(conn && recio::sqlite::close_if_idle(*conn));
}

RECIO_FUNCTION(recio_disconnect_all)
{
    bool any = false;
    for (recio::sqlite::Connection* conn : recio::sqlite::open_connections())
        any |= recio::sqlite::close_if_idle(*conn);
    PG_RETURN_BOOL(any);
}

/*
 * connection.cpp: a foreign server's SQLite connection (connection.h), and
 * the SQL functions that show and close this backend's cached connections:
 * recio_migrate.connections(), disconnect(server), disconnect_all().
 */
#include "fdw/connection.h"

extern "C" {
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
    return sqlite::FileSpec{opts.database, opts.busy_timeout_ms, opts.immutable};
}

}  // namespace

sqlite::Connection& server_connection(Oid serverid)
{
    return sqlite::connection_for(serverid, server_file);
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

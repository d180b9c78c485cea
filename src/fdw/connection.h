/*
 * connection.h: the SQLite connection of a recio_sqlite foreign server: the
 * connection cache (sqlite/connection_cache.h) opened on the file the
 * server's options name.
 */
#pragma once

#include "sqlite/connection_cache.h"

namespace recio {

/* The server's cached connection, inside this transaction's read transaction. */
sqlite::Connection& server_connection(Oid serverid);

}  // namespace recio

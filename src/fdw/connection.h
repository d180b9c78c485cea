/*
 * connection.h: the SQLite connection of a recio_sqlite foreign server: the
 * connection cache (sqlite/connection_cache.h) opened on the file the
 * server's options name.
 */
#pragma once

#include "sqlite/connection_cache.h"

namespace recio {

/*
 * The connection scans of the server read through: the cached read
 * connection inside this transaction's read transaction, or, once this
 * transaction has written to the file, the write connection (a transaction
 * sees its own writes).
 */
sqlite::Connection& server_connection(Oid serverid);

/*
 * The server's write connection inside its write transaction, with a
 * savepoint for every subtransaction level open now (begin_write).  Only
 * for a foreign table the caller has checked is updatable.  The first call
 * in a backend registers the transaction callbacks that commit the SQLite
 * transaction at PostgreSQL's pre-commit, roll it back at abort, follow
 * subtransactions with savepoints and refuse PREPARE TRANSACTION.
 */
sqlite::Connection& write_connection(Oid serverid);

}  // namespace recio

/* fdw.sql: the recio_sqlite foreign-data wrapper, its handler, validator and connection cache functions */

CREATE FUNCTION recio_migrate.recio_sqlite_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME', 'recio_sqlite_handler'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION recio_migrate.recio_sqlite_handler()
IS 'foreign-data wrapper handler of recio_sqlite (reads legacy SQLite files)';

CREATE FUNCTION recio_migrate.recio_sqlite_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME', 'recio_sqlite_validator'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION recio_migrate.recio_sqlite_validator(text[], oid)
IS 'validates the options of recio_sqlite servers, foreign tables and columns';

CREATE FOREIGN DATA WRAPPER recio_sqlite
  HANDLER recio_migrate.recio_sqlite_handler
  VALIDATOR recio_migrate.recio_sqlite_validator;

COMMENT ON FOREIGN DATA WRAPPER recio_sqlite
IS 'access to SQLite database files: reads, and writes in the legacy representation where updatable (options: database, busy_timeout_ms, immutable, updatable, timezone, batch_size)';

-- Cached SQLite connections of this backend (like postgres_fdw_get_connections)
CREATE FUNCTION recio_migrate.connections(
  OUT server_name text, OUT database text, OUT in_transaction boolean, OUT valid boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'recio_connections'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION recio_migrate.connections()
IS 'SQLite connections cached by this backend: server, file, whether a read snapshot is held, whether still valid';

CREATE FUNCTION recio_migrate.disconnect(server_name text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'recio_disconnect'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION recio_migrate.disconnect(text)
IS 'close this backend''s cached connection to the server''s SQLite file; false if none was open or it is in use';

CREATE FUNCTION recio_migrate.disconnect_all()
RETURNS boolean
AS 'MODULE_PATHNAME', 'recio_disconnect_all'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION recio_migrate.disconnect_all()
IS 'close every SQLite connection cached by this backend';

/* recio_migrate 0.1.0: the recio_sqlite foreign-data wrapper */
\echo Use "CREATE EXTENSION recio_migrate" to load this file. \quit

CREATE FUNCTION recio_migrate.recio_sqlite_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME', 'recio_sqlite_handler'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION recio_migrate.recio_sqlite_handler()
IS 'foreign-data wrapper handler of recio_sqlite (reads legacy SQLite files)';

CREATE FUNCTION recio_migrate.recio_sqlite_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME', 'recio_sqlite_validator'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION recio_migrate.recio_sqlite_validator(text[], oid)
IS 'validates the options of recio_sqlite servers, foreign tables and columns';

CREATE FOREIGN DATA WRAPPER recio_sqlite
  HANDLER recio_migrate.recio_sqlite_handler
  VALIDATOR recio_migrate.recio_sqlite_validator;

COMMENT ON FOREIGN DATA WRAPPER recio_sqlite
IS 'read-only access to SQLite database files (options: database, busy_timeout_ms, immutable, updatable, timezone)';

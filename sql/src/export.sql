/* export.sql: export_sqlite(), a new legacy SQLite file from the migrated tables */

CREATE FUNCTION recio_migrate.export_file(server name, target_schema name, file text)
RETURNS TABLE(sqlite_table text, source regclass, rows_written bigint, seconds double precision, sha256 text)
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_export_file';
COMMENT ON FUNCTION recio_migrate.export_file(name, name, text) IS
'export_sqlite()''s file work: writes the new SQLite file and returns one row per table (use export_sqlite, which keeps the ledger)';

CREATE FUNCTION recio_migrate.export_sqlite(server name, target_schema name, file text)
RETURNS TABLE(sqlite_table text, source regclass, rows_written bigint, sha256 text)
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  e record;
  t0 timestamptz := pg_catalog.clock_timestamp();
BEGIN
  FOR e IN SELECT * FROM recio_migrate.export_file(server, target_schema, file) LOOP
    INSERT INTO recio_migrate.runs (kind, source_table, sqlite_table, source_path, target_table, on_error, status,
                                    started_at, finished_at, rows_read, rows_written, rows_rejected, seconds)
    VALUES ('export', e.source::text, e.sqlite_table, file,
            pg_catalog.format('%s (SQLite file %s)', e.sqlite_table, file), 'stop', 'succeeded',
            t0, pg_catalog.clock_timestamp(), e.rows_written, e.rows_written, 0, e.seconds);
    sqlite_table := e.sqlite_table;
    source := e.source;
    rows_written := e.rows_written;
    sha256 := e.sha256;
    RETURN NEXT;
  END LOOP;
END $$;
COMMENT ON FUNCTION recio_migrate.export_sqlite(name, name, text) IS
'write a NEW SQLite file (an existing path is refused) holding every table of server that was migrated into target_schema: the legacy CREATE TABLE texts recorded by the migration, the rows converted back into each column''s legacy representation, the legacy indexes and triggers, sqlite_sequence past every key handed out; one row per table with the finished file''s sha256, each recorded in recio_migrate.runs (kind export); superuser or pg_write_server_files';

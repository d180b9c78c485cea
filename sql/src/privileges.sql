/*
 * privileges.sql: every GRANT and REVOKE of the extension, in one place.
 *
 * The schema is open (USAGE to PUBLIC): a grant on a function in a schema
 * nobody may enter does nothing, and the read-only functions check the
 * caller's rights on each relation themselves (they read with the caller's
 * privileges).  EXECUTE is revoked from PUBLIC on everything that deletes,
 * writes a ledger, changes a policy or reveals this backend's files; the
 * ledgers are readable by pg_monitor; the bloat report belongs to
 * pg_stat_scan_tables (and so to pg_monitor).
 */

GRANT USAGE ON SCHEMA recio_migrate TO PUBLIC;

-- fdw: the connection cache is per backend, not per role: in a pooled or
-- SET ROLE session it lists (and closes) files another role opened
REVOKE ALL ON FUNCTION recio_migrate.connections() FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.disconnect(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.disconnect_all() FROM PUBLIC;

-- parity: checksum(), parity() and parity_diff() read with the caller's
-- privileges; parity_all() appends to the history
REVOKE ALL ON FUNCTION recio_migrate.parity_all(name, name, text, jsonb) FROM PUBLIC;
GRANT SELECT ON recio_migrate.parity_results TO pg_monitor;

-- migration runs: profile(), create_target(), source_facts() and
-- sqlite_tables() read with the caller's privileges; what writes is revoked
REVOKE ALL ON FUNCTION recio_migrate.move_rows(regclass, regclass, bigint, text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.migrate(regclass, regclass, text, boolean, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.migrate_server(name, name, text, name, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.migrate_lock(text, integer, text, boolean) FROM PUBLIC;
GRANT SELECT ON recio_migrate.runs, recio_migrate.rejects TO pg_monitor;
GRANT SELECT ON recio_migrate.legacy_tables TO pg_monitor;
-- export writes a file as the PostgreSQL OS user (export_file checks pg_write_server_files too)
REVOKE ALL ON FUNCTION recio_migrate.export_file(name, name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.export_sqlite(name, name, text) FROM PUBLIC;
GRANT SELECT ON recio_migrate.progress TO PUBLIC;

-- the carried schema: apply_schema() and note_schema_object() run schema_plan()'s statements with the
-- caller's privileges (create_target() is for everybody) and write schema_notes only when the caller may;
-- identity_forward() is migrate()'s; check_references() reads (and adds a foreign key) as the caller
REVOKE ALL ON FUNCTION recio_migrate.identity_forward(regclass, regclass) FROM PUBLIC;
GRANT SELECT ON recio_migrate.schema_notes TO pg_monitor;

-- retention: destructive or settings-changing objects are for the DBA; the
-- catalog helpers and the pins() listing stay callable (pins() needs SELECT
-- on retention_pins all the same)
REVOKE ALL ON FUNCTION recio_migrate.retention_settings(interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.set_retention(regclass, name, interval, integer, regclass, text, text, interval, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.drop_retention(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.pin(regclass, text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.pin_where(regclass, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.unpin(regclass, text[]) FROM PUBLIC;
REVOKE ALL ON PROCEDURE recio_migrate.prune_run(regclass, name, interval, integer, boolean, timestamptz, interval, bigint) FROM PUBLIC;
REVOKE ALL ON PROCEDURE recio_migrate.prune(regclass, name, interval, integer, boolean, timestamptz, interval) FROM PUBLIC;
REVOKE ALL ON PROCEDURE recio_migrate.run_retention(interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.schedule_retention(text, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.unschedule_retention() FROM PUBLIC;
-- the batch functions behind prune_run() and run_retention()
REVOKE ALL ON FUNCTION recio_migrate.retention_prune_items(recio_migrate.retention_prune_state, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_prune_start(regclass, name, interval, integer, boolean, timestamptz, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_prune_item(recio_migrate.retention_prune_state) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_prune_partition(recio_migrate.retention_prune_state, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_prune_rows(recio_migrate.retention_prune_state, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_prune_finish(recio_migrate.retention_prune_state, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_prune_batch(recio_migrate.retention_prune_state) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_prune_report(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_run_lock() FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_run_lock_acquire(integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_run_lock_release() FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_run_policies() FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_run_check(regclass, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_run_finish(bigint, regclass[]) FROM PUBLIC;
REVOKE ALL ON recio_migrate.retention_policies, recio_migrate.retention_pins, recio_migrate.retention_log FROM PUBLIC;
GRANT SELECT ON recio_migrate.retention_policies, recio_migrate.retention_pins, recio_migrate.retention_log TO pg_monitor;

-- bloat: pg_stat_scan_tables (bloat_measure() checks that membership again
-- before it reads a page)
REVOKE ALL ON FUNCTION recio_migrate.bloat_measure(regclass, text, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.bloat_estimate(regclass, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.bloat_rows(name, text, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.bloat_report(name, text, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.bloat_snapshot(name, text, bigint, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recio_migrate.bloat_measure(regclass, text, bigint) TO pg_stat_scan_tables;
GRANT EXECUTE ON FUNCTION recio_migrate.bloat_estimate(regclass, bigint) TO pg_stat_scan_tables;
GRANT EXECUTE ON FUNCTION recio_migrate.bloat_rows(name, text, bigint) TO pg_stat_scan_tables;
GRANT EXECUTE ON FUNCTION recio_migrate.bloat_report(name, text, bigint) TO pg_stat_scan_tables;
GRANT EXECUTE ON FUNCTION recio_migrate.bloat_snapshot(name, text, bigint, interval) TO pg_stat_scan_tables;
GRANT SELECT, INSERT, DELETE ON recio_migrate.bloat_history TO pg_stat_scan_tables;

-- sync: writes the target (and the ledgers), like migrate()
REVOKE ALL ON FUNCTION recio_migrate.move_rows_after(regclass, regclass, bigint, text, boolean, name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.move_rows_keys(regclass, regclass, bigint, text, boolean, text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.sync(regclass, regclass, text, text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.sync_server(name, name, text) FROM PUBLIC;

-- snapshot: writing a file as the PostgreSQL OS user is pg_write_server_files'
-- (snapshot_copy() checks it again, and pg_read_server_files for the server
-- over the copy); cutover_check() and file_quiet() read the legacy file and
-- its side files' metadata: for pg_read_server_files, as pointing a server at
-- a file is
REVOKE ALL ON FUNCTION recio_migrate.snapshot(name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.snapshot_copy(name, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recio_migrate.snapshot(name, text) TO pg_write_server_files;
GRANT EXECUTE ON FUNCTION recio_migrate.snapshot_copy(name, text) TO pg_write_server_files;
GRANT SELECT, INSERT ON recio_migrate.snapshots TO pg_write_server_files;
GRANT SELECT ON recio_migrate.snapshots TO pg_monitor;
REVOKE ALL ON FUNCTION recio_migrate.file_quiet(name, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.cutover_check(name, name, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recio_migrate.file_quiet(name, integer) TO pg_read_server_files;
GRANT EXECUTE ON FUNCTION recio_migrate.cutover_check(name, name, integer) TO pg_read_server_files;

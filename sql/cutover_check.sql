-- cutover_check(): the go/no-go list fails for each check on a planted
-- fault (a parity mismatch, an unresolved reject, an identity behind the
-- target's greatest key and behind sqlite_sequence, a view and a function
-- reading a foreign table) and passes when all hold.  A writer touching the
-- file during the quiet time: test/integration/snapshot_live.sh.
\getenv fixtures RECIO_FIXTURES
\set cutover_db :fixtures/cutover.db
CREATE SERVER cutover_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database :'cutover_db');
SELECT sqlite_table, target, action, sqlite_rows, target_rows, counts_match
FROM recio_migrate.migrate_server('cutover_srv', 'cut');
SELECT * FROM recio_migrate.sqlite_sequence('cutover_srv');
-- migrate_server() gave the rowid keys identities past max(id) and sqlite_sequence: plant the fault,
-- an identity of accounts behind everything
ALTER TABLE cut.accounts ALTER COLUMN id RESTART WITH 1;
CREATE FUNCTION public.cutover_report(quiet integer DEFAULT 0) RETURNS TABLE(check_name text, ok boolean, detail text)
LANGUAGE sql SET search_path = public, pg_catalog AS $$
  SELECT c.check_name, c.ok,
         regexp_replace(regexp_replace(regexp_replace(c.detail, 'mtime [0-9-]+ [0-9:.]+ UTC', 'mtime <mtime>', 'g'),
                                       '^run [0-9]+ ', 'run <run> '),
                        '\(([0-9]+) samples\)', '(<n> samples)')
  FROM recio_migrate.cutover_check('cutover_srv', 'cut', quiet) c
$$;
\x on
-- identity behind the target's greatest key (and sqlite_sequence)
SELECT * FROM cutover_report(1);
\x off
-- identity past the greatest key but behind sqlite_sequence (ids 7 and 8 were handed out once)
SELECT setval(pg_get_serial_sequence('cut.accounts', 'id'), 6);
SELECT check_name, ok, detail FROM cutover_report() WHERE check_name LIKE 'identity%' OR check_name = 'cutover';
SELECT setval(pg_get_serial_sequence('cut.accounts', 'id'), 8);
SELECT check_name, ok, detail FROM cutover_report() WHERE check_name LIKE 'identity%' OR check_name = 'cutover';

-- a parity mismatch, a missing and an extra row
UPDATE cut.ticks SET price = price + 1 WHERE id = 5;
DELETE FROM cut.ticks WHERE id = 6;
INSERT INTO cut.ticks VALUES (1000, '2025-02-01 00:00:00+00', 1);
SELECT check_name, ok, detail FROM cutover_report() WHERE check_name IN ('parity ticks', 'cutover');
UPDATE cut.ticks SET price = price - 1 WHERE id = 5;
INSERT INTO cut.ticks SELECT * FROM cut_sqlite.ticks WHERE id = 6;
DELETE FROM cut.ticks WHERE id = 1000;

-- an unresolved reject: the latest run into cut.ticks left a row out
INSERT INTO recio_migrate.runs (source_table, target_table, on_error, status, rows_read, rows_written, rows_rejected)
VALUES ('cut_sqlite.ticks', 'cut.ticks', 'reject', 'succeeded', 100, 99, 1) RETURNING run_id AS planted_run \gset
INSERT INTO recio_migrate.rejects (run_id, source_table, sqlite_rowid, sqlite_key, column_name, raw_value, storage_class,
                                   sqlstate, error, action)
VALUES (:planted_run, 'cut_sqlite.ticks', 42, '42', 'price', 'x', 'text', '22P02', 'invalid input', 'reject');
SELECT check_name, ok, detail
FROM cutover_report() WHERE check_name IN ('rejects ticks', 'cutover');
-- resolved by a later run with no rejects
INSERT INTO recio_migrate.runs (source_table, target_table, on_error, status, rows_read, rows_written, rows_rejected)
VALUES ('cut_sqlite.ticks', 'cut.ticks', 'reject', 'succeeded', 1, 1, 0) RETURNING run_id AS later_run \gset
SELECT check_name, ok, detail
FROM cutover_report() WHERE check_name IN ('rejects ticks', 'cutover');
DELETE FROM recio_migrate.runs WHERE run_id IN (:planted_run, :later_run);

-- a view, a rule's table and a function still reading the legacy tables
CREATE VIEW public.recent_ticks AS SELECT * FROM cut_sqlite.ticks WHERE id > 90;
CREATE FUNCTION public.tick_count() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN RETURN (SELECT count(*) FROM cut_sqlite.ticks); END $$;
CREATE FUNCTION public.account_count() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT count(*) FROM cut_sqlite.accounts; END;
SELECT check_name, ok, detail FROM cutover_report() WHERE check_name IN ('dependencies', 'cutover');
DROP VIEW public.recent_ticks;
DROP FUNCTION public.tick_count(), public.account_count();

-- a target missing, and a SQLite table no foreign table reads
ALTER TABLE cut.ticks RENAME TO ticks_old;
SELECT check_name, ok, detail FROM cutover_report() WHERE check_name LIKE 'parity%';
ALTER TABLE cut.ticks_old RENAME TO ticks;
ALTER FOREIGN TABLE cut_sqlite.ticks OPTIONS (SET table 'accounts');
SELECT check_name, ok, detail FROM cutover_report() WHERE check_name = 'parity ticks';
ALTER FOREIGN TABLE cut_sqlite.ticks OPTIONS (SET table 'ticks');

-- retention (informational): a policy without a schedule
DO $$ BEGIN PERFORM recio_migrate.set_retention('cut.ticks', 'ts', interval '30 days'); END $$;
SELECT check_name, ok, detail FROM cutover_report() WHERE check_name IN ('retention (informational)', 'cutover');
SELECT recio_migrate.drop_retention('cut.ticks');

-- all hold
\x on
SELECT * FROM cutover_report(1);
\x off

-- privileges: revoked from PUBLIC; for pg_read_server_files, which reads
-- with its own rights (here: no USAGE on the server, then no SELECT on the targets)
CREATE ROLE cut_plain;
CREATE ROLE cut_reader;
GRANT pg_read_server_files TO cut_reader;
SET ROLE cut_plain;
SELECT expect_error($$SELECT * FROM recio_migrate.cutover_check('cutover_srv', 'cut', 0)$$);
SET ROLE cut_reader;
SELECT expect_error($$SELECT * FROM recio_migrate.cutover_check('cutover_srv', 'cut', 0)$$);
RESET ROLE;
GRANT USAGE ON FOREIGN SERVER cutover_srv TO cut_reader;
GRANT USAGE ON SCHEMA cut, cut_sqlite TO cut_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA cut, cut_sqlite TO cut_reader;
GRANT pg_monitor TO cut_reader;
SET ROLE cut_reader;
SELECT check_name, ok, CASE WHEN NOT ok THEN detail END AS detail
FROM recio_migrate.cutover_check('cutover_srv', 'cut', 0);
RESET ROLE;
GRANT SELECT ON ALL SEQUENCES IN SCHEMA cut TO cut_reader;
SET ROLE cut_reader;
SELECT check_name, ok FROM recio_migrate.cutover_check('cutover_srv', 'cut', 0) WHERE check_name LIKE 'identity%' OR check_name = 'cutover';
RESET ROLE;

-- arguments
SELECT expect_error($$SELECT * FROM recio_migrate.cutover_check('no_such_server', 'cut', 0)$$);
SELECT expect_error($$SELECT * FROM recio_migrate.cutover_check('cutover_srv', 'no_such_schema', 0)$$);
SELECT expect_error($$SELECT * FROM recio_migrate.cutover_check('cutover_srv', 'cut', -1)$$);
SELECT expect_error($$SELECT * FROM recio_migrate.cutover_check('cutover_srv', NULL, 0)$$);

DROP OWNED BY cut_plain, cut_reader;
DROP ROLE cut_plain, cut_reader;

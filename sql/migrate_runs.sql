-- migrate_runs: migrate() with the ledger and rejects, a failed run,
-- migrate_server() and its idempotent re-run, the progress view
-- (mig_obs and trades_obs come from migrate_profile)
SELECT recio_migrate.create_target('mig_obs.events', 'public.events_t') IS NOT NULL AS created;

-- on_error 'stop' (the default): the first bad value fails the run, the target stays empty
SELECT status, rows_read, rows_written, rows_rejected FROM recio_migrate.migrate('mig_obs.events', 'events_t');
SELECT count(*) AS target_rows FROM events_t;
SELECT status, rows_written, error FROM recio_migrate.runs ORDER BY run_id DESC LIMIT 1;

-- on_error 'reject': bad rows go to rejects with their rowids, the rest is moved
SELECT status, rows_read, rows_written, rows_rejected, seconds >= 0 AS timed
FROM recio_migrate.migrate('mig_obs.events', 'events_t', on_error => 'reject');
SELECT sqlite_rowid, column_name, raw_value, storage_class, sqlstate, error, action
FROM recio_migrate.rejects WHERE run_id = (SELECT max(run_id) FROM recio_migrate.runs) ORDER BY sqlite_rowid, column_name;
SELECT count(*) AS target_rows, min(id), max(id) FROM events_t;
-- values moved with their types: zones applied, epochs, times, JSON
SELECT id, ts, price, qty, payload, fees, ticket_id, closed_at, created_ms, day FROM events_t WHERE id IN (1, 2, 7) ORDER BY id;
SELECT run_by = current_user AS by_me, source_table, sqlite_table, source_path LIKE '%/migrate.db' AS path,
       source_size > 0 AS sized, source_modified IS NOT NULL AS mtime, target_table, on_error, rows_read,
       rows_written, rows_rejected, status, error, finished_at >= started_at AS finished
FROM recio_migrate.runs ORDER BY run_id;

-- rounding: a REAL with more decimals than the target keeps is an error unless allowed
CREATE TABLE ev_round (id bigint PRIMARY KEY, price numeric(12,0));
SELECT status, rows_written FROM recio_migrate.migrate('mig_src.events', 'ev_round');
SELECT error FROM recio_migrate.runs ORDER BY run_id DESC LIMIT 1;
SELECT status, rows_written, rows_rejected FROM recio_migrate.migrate('mig_src.events', 'ev_round', 'reject');
SELECT count(*) AS rounded_rejects FROM recio_migrate.rejects
WHERE run_id = (SELECT max(run_id) FROM recio_migrate.runs) AND sqlstate = '22003';
TRUNCATE ev_round;
SELECT status, rows_written FROM recio_migrate.migrate('mig_src.events', 'ev_round', 'null', allow_rounding => true);
SELECT id, price FROM ev_round WHERE id IN (1, 2, 4) ORDER BY id;
SELECT sqlite_rowid, column_name, raw_value, action FROM recio_migrate.rejects
WHERE run_id = (SELECT max(run_id) FROM recio_migrate.runs);

-- a failure after rows were inserted (NOT NULL at the last row) leaves no partial rows
CREATE TABLE readings_t (id bigint PRIMARY KEY, v numeric(10,1) NOT NULL);
SELECT status, rows_written FROM recio_migrate.migrate('mig_src.readings', 'readings_t', 'reject');
SELECT count(*) AS partial_rows FROM readings_t;
SELECT status, error FROM recio_migrate.runs ORDER BY run_id DESC LIMIT 1;
-- a duplicate key fails the run the same way
CREATE TABLE readings_dup (id bigint PRIMARY KEY, v numeric(10,1));
INSERT INTO readings_dup VALUES (40, 0);
SELECT status FROM recio_migrate.migrate('mig_src.readings', 'readings_dup');
SELECT count(*) AS rows_still FROM readings_dup;

-- a target with a row trigger is no longer refused: its rows go through the executor (migrate_targets.sql)
CREATE TABLE trig_t (id bigint, v numeric);
CREATE FUNCTION trig_f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER trig BEFORE INSERT ON trig_t FOR EACH ROW EXECUTE FUNCTION trig_f();
SELECT status, rows_written FROM recio_migrate.migrate('mig_src.readings', 'trig_t');
SELECT count(*) AS trig_t_rows FROM trig_t;
-- refusals
SELECT expect_error($$SELECT * FROM recio_migrate.migrate('mig_src.readings', 'readings_t', 'skip')$$);
CREATE TABLE unrelated (x int);
SELECT status FROM recio_migrate.migrate('mig_src.readings', 'unrelated');
SELECT error FROM recio_migrate.runs ORDER BY run_id DESC LIMIT 1;
-- migrate is not for everyone
CREATE ROLE mig_user;
SELECT 'mig_src.readings'::regclass::oid AS src_oid, 'readings_t'::regclass::oid AS tgt_oid \gset
SET ROLE mig_user;
SELECT expect_error(format('SELECT * FROM recio_migrate.migrate(%s, %s)', :src_oid, :tgt_oid));
SELECT expect_error(format('SELECT * FROM recio_migrate.move_rows(%s, %s, 1, %L, false)', :src_oid, :tgt_oid, 'stop'));
RESET ROLE;
DROP ROLE mig_user;

-- migrate_server: every table of a file, in one call
SELECT * FROM recio_migrate.sqlite_tables('trades_srv');
SELECT sqlite_table, target, action, sqlite_rows, target_rows, rows_rejected, counts_match
FROM recio_migrate.migrate_server('trades_srv', 'legacy_trades');
SELECT count(*) AS trades, count(DISTINCT id) AS ids FROM legacy_trades.trades;
-- re-run: nothing duplicated
SELECT sqlite_table, action, sqlite_rows, target_rows, counts_match
FROM recio_migrate.migrate_server('trades_srv', 'legacy_trades');
-- a target with other rows is refused, not appended to
DELETE FROM legacy_trades.trades WHERE id > 400;
SELECT sqlite_table, action, target_rows, counts_match FROM recio_migrate.migrate_server('trades_srv', 'legacy_trades');
SELECT count(*) FROM legacy_trades.trades;

-- a file with rejects: its re-run counts the first run's rejects and skips as well
SELECT sqlite_table, action, sqlite_rows, target_rows, rows_rejected, counts_match
FROM recio_migrate.migrate_server('migrate_srv', 'legacy_mig') ORDER BY 1;
SELECT sqlite_table, action, sqlite_rows, target_rows, rows_rejected, counts_match
FROM recio_migrate.migrate_server('migrate_srv', 'legacy_mig') ORDER BY 1;

-- progress: nothing running now; the view's shape
SELECT count(*) AS running FROM recio_migrate.progress;

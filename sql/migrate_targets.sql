-- migrate_targets: migrate() into a partitioned table (rows routed to their
-- partitions), into tables with triggers and with a foreign key (the
-- executor's insert path: every trigger and constraint fires), and the
-- targets still refused (generated columns, row-level security, a view)
SELECT create_servers(ARRAY['targets']);
CREATE SCHEMA tgt_src;
IMPORT FOREIGN SCHEMA main FROM SERVER targets_srv INTO tgt_src;
SET timezone = 'UTC';
-- run ids in the WARNINGs below do not depend on the runs of earlier tests
ALTER TABLE recio_migrate.runs ALTER COLUMN run_id RESTART WITH 1001;
-- the same SQLite table read with the target's types, for parity()
CREATE FOREIGN TABLE tgt_src.prices_typed (id bigint, ts timestamptz, price numeric, label text)
  SERVER targets_srv OPTIONS (table 'prices');

-- a range-partitioned price history, by month; the source has one row dated before every partition
CREATE TABLE tt_pl (id bigint NOT NULL, ts timestamptz NOT NULL, price numeric, label text) PARTITION BY RANGE (ts);
CREATE TABLE tt_pl_2025_01 PARTITION OF tt_pl FOR VALUES FROM ('2025-01-01') TO ('2025-02-01');
CREATE TABLE tt_pl_2025_02 PARTITION OF tt_pl FOR VALUES FROM ('2025-02-01') TO ('2025-03-01');
-- a partition with another column order and a dropped column (rows are converted to its layout)
CREATE TABLE tt_pl_2025_03 (junk int, label text, price numeric, ts timestamptz NOT NULL, id bigint NOT NULL);
ALTER TABLE tt_pl_2025_03 DROP COLUMN junk;
ALTER TABLE tt_pl ATTACH PARTITION tt_pl_2025_03 FOR VALUES FROM ('2025-03-01') TO ('2025-04-01');
CREATE INDEX ON tt_pl (ts);
-- on_error 'stop': the row without a partition fails the run (23514), the target stays empty
SELECT status, rows_read, rows_written, rows_rejected FROM recio_migrate.migrate('tgt_src.prices', 'tt_pl');
SELECT error FROM recio_migrate.runs ORDER BY run_id DESC LIMIT 1;
SELECT count(*) AS rows_after_failed_run FROM tt_pl;
-- on_error 'reject': that row is recorded in rejects, every other row is in its partition
SELECT status, rows_read, rows_written, rows_rejected FROM recio_migrate.migrate('tgt_src.prices', 'tt_pl', 'reject');
SELECT sqlite_rowid, sqlite_key, column_name, raw_value, storage_class, sqlstate, error, action
FROM recio_migrate.rejects WHERE run_id = (SELECT max(run_id) FROM recio_migrate.runs);
SELECT tableoid::regclass AS partition, count(*), min(ts), max(ts) FROM tt_pl GROUP BY 1 ORDER BY 1;
SELECT id, ts, price, label FROM tt_pl_2025_03 ORDER BY id LIMIT 2;
-- the progress slot saw the rows (read, written, rejected) of the last run
SELECT rows_read, rows_written, rows_rejected FROM recio_migrate.runs ORDER BY run_id DESC LIMIT 1;
-- with a partition for the late row, a new run moves every row and parity is ok
CREATE TABLE tt_pl_2024_12 PARTITION OF tt_pl FOR VALUES FROM ('2024-12-01') TO ('2025-01-01');
TRUNCATE tt_pl;
SELECT status, rows_read, rows_written, rows_rejected FROM recio_migrate.migrate('tgt_src.prices', 'tt_pl');
SELECT source_rows, target_rows, matched, missing, extra, mismatched, ok
FROM recio_migrate.parity('tgt_src.prices_typed', 'tt_pl', key_columns => ARRAY['id']);
-- trigger functions run under migrate()'s search_path (pg_catalog, pg_temp) unless they set their own
-- a partition with a row trigger takes its rows through the executor (NOTICE), the others stay bulk
CREATE TABLE tt_pl_seen (partition text, n bigint);
CREATE FUNCTION tt_pl_count() RETURNS trigger LANGUAGE plpgsql SET search_path = public, pg_catalog AS $$
BEGIN
  UPDATE tt_pl_seen SET n = n + 1 WHERE partition = TG_TABLE_NAME;
  IF NOT FOUND THEN INSERT INTO tt_pl_seen VALUES (TG_TABLE_NAME, 1); END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER tt_pl_count AFTER INSERT ON tt_pl_2025_02 FOR EACH ROW EXECUTE FUNCTION tt_pl_count();
TRUNCATE tt_pl;
SELECT status, rows_written FROM recio_migrate.migrate('tgt_src.prices', 'tt_pl');
SELECT * FROM tt_pl_seen;
SELECT count(*) AS rows_in_feb FROM tt_pl_2025_02;

-- a table with a BEFORE trigger that changes a value, an AFTER row trigger
-- that logs and statement triggers: every trigger fires, once per row or per run
CREATE TABLE tt_notes (id bigint PRIMARY KEY, ts timestamptz, price numeric, label text);
CREATE TABLE tt_notes_log (what text, id bigint, label text, n bigint);
CREATE FUNCTION tt_notes_before() RETURNS trigger LANGUAGE plpgsql SET search_path = public, pg_catalog AS $$
BEGIN
  NEW.label := upper(NEW.label);
  IF NEW.id % 1000 = 0 THEN RETURN NULL; END IF;  -- skipped rows are said in a NOTICE
  RETURN NEW;
END $$;
CREATE FUNCTION tt_notes_after_row() RETURNS trigger LANGUAGE plpgsql SET search_path = public, pg_catalog AS $$
BEGIN
  INSERT INTO tt_notes_log VALUES ('row', NEW.id, NEW.label, (SELECT count(*) FROM tt_notes));
  RETURN NULL;
END $$;
CREATE FUNCTION tt_notes_statement() RETURNS trigger LANGUAGE plpgsql SET search_path = public, pg_catalog AS $$
BEGIN
  INSERT INTO tt_notes_log VALUES (TG_WHEN || ' statement', NULL, NULL, (SELECT count(*) FROM tt_notes));
  RETURN NULL;
END $$;
CREATE TRIGGER tt_notes_before BEFORE INSERT ON tt_notes FOR EACH ROW EXECUTE FUNCTION tt_notes_before();
CREATE TRIGGER tt_notes_after_row AFTER INSERT ON tt_notes FOR EACH ROW EXECUTE FUNCTION tt_notes_after_row();
CREATE TRIGGER tt_notes_bs BEFORE INSERT ON tt_notes FOR EACH STATEMENT EXECUTE FUNCTION tt_notes_statement();
CREATE TRIGGER tt_notes_as AFTER INSERT ON tt_notes FOR EACH STATEMENT EXECUTE FUNCTION tt_notes_statement();
SELECT status, rows_read, rows_written, rows_rejected FROM recio_migrate.migrate('tgt_src.prices', 'tt_notes', 'reject');
SELECT count(*) AS rows, count(*) FILTER (WHERE label = upper(label)) AS changed_by_trigger FROM tt_notes;
SELECT what, count(*), min(n), max(n) FROM tt_notes_log GROUP BY what ORDER BY what;
SELECT what, id, label, n FROM tt_notes_log WHERE what <> 'row' OR id IN (1, 2401) ORDER BY n, what;
-- the AFTER row trigger saw the rows of its own batch (it runs after every batch of 1000 rows)
SELECT count(*) FILTER (WHERE n < id) AS saw_fewer_rows_than_before_it FROM tt_notes_log WHERE what = 'row';
-- a failed run with triggers leaves the target and the trigger's log unchanged
TRUNCATE tt_notes_log;
CREATE TABLE tt_notes2 (LIKE tt_notes INCLUDING ALL, CHECK (id < 2000));
CREATE TRIGGER tt_notes_after_row AFTER INSERT ON tt_notes2 FOR EACH ROW EXECUTE FUNCTION tt_notes_after_row();
SELECT status, rows_written FROM recio_migrate.migrate('tgt_src.prices', 'tt_notes2');
SELECT error FROM recio_migrate.runs ORDER BY run_id DESC LIMIT 1;
SELECT (SELECT count(*) FROM tt_notes2) AS target_rows, (SELECT count(*) FROM tt_notes_log) AS log_rows;
-- under reject the rows a CHECK refuses are recorded, the others go in
SELECT status, rows_read, rows_written, rows_rejected FROM recio_migrate.migrate('tgt_src.prices', 'tt_notes2', 'reject');
SELECT count(*), min(sqlite_rowid), max(sqlite_rowid), min(column_name) AS col, min(sqlstate) AS state,
       min(error) AS error, min(storage_class) AS storage
FROM recio_migrate.rejects WHERE run_id = (SELECT max(run_id) FROM recio_migrate.runs);

-- a child table with a foreign key (RI triggers): an orphan is refused
CREATE TABLE tt_parents (id bigint PRIMARY KEY, name text NOT NULL);
SELECT status, rows_written FROM recio_migrate.migrate('tgt_src.parents', 'tt_parents');
CREATE TABLE tt_children (id bigint PRIMARY KEY, parent_id bigint REFERENCES tt_parents, qty integer);
-- on_error 'stop': 23503, the target stays empty
SELECT status, rows_read, rows_written, rows_rejected FROM recio_migrate.migrate('tgt_src.children', 'tt_children');
SELECT error FROM recio_migrate.runs ORDER BY run_id DESC LIMIT 1;
SELECT count(*) AS rows_after_failed_run FROM tt_children;
-- on_error 'reject': the orphan is in rejects (its key and the constraint's detail), the others are in
SELECT status, rows_read, rows_written, rows_rejected FROM recio_migrate.migrate('tgt_src.children', 'tt_children', 'reject');
SELECT sqlite_rowid, sqlite_key, column_name, raw_value, storage_class, sqlstate, error, action
FROM recio_migrate.rejects WHERE run_id = (SELECT max(run_id) FROM recio_migrate.runs);
SELECT id, parent_id, qty FROM tt_children ORDER BY id;
-- parity counts the orphan as missing: the target holds every other row unchanged
SELECT source_rows, target_rows, matched, missing, extra, mismatched, ok
FROM recio_migrate.parity('tgt_src.children', 'tt_children');
SELECT source_rows, target_rows, matched, missing, extra, mismatched, ok
FROM recio_migrate.parity('tgt_src.parents', 'tt_parents');

-- still refused, with the reason: generated columns, row-level security, a view, a foreign table
CREATE TABLE tt_gen (id bigint, price numeric, cents bigint GENERATED ALWAYS AS ((price * 100)::bigint) STORED);
SELECT expect_error($$SELECT * FROM recio_migrate.move_rows('tgt_src.prices', 'tt_gen', 0, 'stop', false)$$);
SELECT status, rows_written FROM recio_migrate.migrate('tgt_src.prices', 'tt_gen');
SELECT error FROM recio_migrate.runs ORDER BY run_id DESC LIMIT 1;
-- row-level security applies to its owner (FORCE) when the owner has no BYPASSRLS
CREATE ROLE tgt_rls_owner NOLOGIN;
CREATE TABLE tt_rls (id bigint, price numeric);
ALTER TABLE tt_rls OWNER TO tgt_rls_owner;
ALTER TABLE tt_rls ENABLE ROW LEVEL SECURITY;
ALTER TABLE tt_rls FORCE ROW LEVEL SECURITY;
CREATE POLICY tt_rls_all ON tt_rls USING (true);
GRANT USAGE ON SCHEMA recio_migrate, tgt_src TO tgt_rls_owner;
GRANT SELECT ON tgt_src.prices TO tgt_rls_owner;
GRANT EXECUTE ON FUNCTION recio_migrate.move_rows(regclass, regclass, bigint, text, boolean) TO tgt_rls_owner;
SET ROLE tgt_rls_owner;
SELECT expect_error($$SELECT * FROM recio_migrate.move_rows('tgt_src.prices', 'tt_rls', 0, 'stop', false)$$);
RESET ROLE;
REVOKE EXECUTE ON FUNCTION recio_migrate.move_rows(regclass, regclass, bigint, text, boolean) FROM tgt_rls_owner;
REVOKE USAGE ON SCHEMA recio_migrate, tgt_src FROM tgt_rls_owner;
REVOKE SELECT ON tgt_src.prices FROM tgt_rls_owner;
SELECT count(*) AS rls_rows_after_refusal FROM tt_rls;
-- a superuser bypasses row-level security: the run goes through
SELECT status, rows_written FROM recio_migrate.migrate('tgt_src.prices', 'tt_rls');
CREATE VIEW tt_view AS SELECT id, price FROM tt_notes;
SELECT expect_error($$SELECT * FROM recio_migrate.move_rows('tgt_src.prices', 'tt_view', 0, 'stop', false)$$);
SELECT expect_error($$SELECT * FROM recio_migrate.move_rows('tgt_src.prices', 'tgt_src.parents', 0, 'stop', false)$$);
SELECT count(*) AS rows_in_refused_target FROM tt_gen;

RESET timezone;
DROP TABLE tt_pl, tt_pl_seen, tt_notes, tt_notes_log, tt_notes2, tt_children, tt_parents, tt_gen, tt_rls CASCADE;
DROP FUNCTION tt_pl_count(), tt_notes_before(), tt_notes_after_row(), tt_notes_statement();
DROP SCHEMA tgt_src CASCADE;
DROP SERVER targets_srv CASCADE;
DROP ROLE tgt_rls_owner;

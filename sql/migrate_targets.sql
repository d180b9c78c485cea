-- migrate_targets: migrate() into a partitioned table (rows routed to their
-- partitions), into tables with triggers and with a foreign key (the
-- executor's insert path: every trigger and constraint fires), and the
-- targets still refused (generated columns, row-level security, a view)
SELECT create_servers(ARRAY['targets']);
CREATE SCHEMA tgt_src;
IMPORT FOREIGN SCHEMA main FROM SERVER targets_srv INTO tgt_src;
SET timezone = 'UTC';
-- the same SQLite table read with the target's types, for parity()
CREATE FOREIGN TABLE tgt_src.prices_typed (id bigint, ts timestamptz, price numeric, label text)
  SERVER targets_srv OPTIONS (table 'prices');

-- a range-partitioned price history, by month; the source has one row dated before every partition
CREATE TABLE pl (id bigint NOT NULL, ts timestamptz NOT NULL, price numeric, label text) PARTITION BY RANGE (ts);
CREATE TABLE pl_2025_01 PARTITION OF pl FOR VALUES FROM ('2025-01-01') TO ('2025-02-01');
CREATE TABLE pl_2025_02 PARTITION OF pl FOR VALUES FROM ('2025-02-01') TO ('2025-03-01');
-- a partition with another column order and a dropped column (rows are converted to its layout)
CREATE TABLE pl_2025_03 (junk int, label text, price numeric, ts timestamptz NOT NULL, id bigint NOT NULL);
ALTER TABLE pl_2025_03 DROP COLUMN junk;
ALTER TABLE pl ATTACH PARTITION pl_2025_03 FOR VALUES FROM ('2025-03-01') TO ('2025-04-01');
CREATE INDEX ON pl (ts);
-- on_error 'stop': the row without a partition fails the run (23514), the target stays empty
SELECT status, rows_read, rows_written, rows_rejected FROM recio_migrate.migrate('tgt_src.prices', 'pl');
SELECT error FROM recio_migrate.runs ORDER BY run_id DESC LIMIT 1;
SELECT count(*) AS rows_after_failed_run FROM pl;
-- on_error 'reject': that row is recorded in rejects, every other row is in its partition
SELECT status, rows_read, rows_written, rows_rejected FROM recio_migrate.migrate('tgt_src.prices', 'pl', 'reject');
SELECT sqlite_rowid, sqlite_key, column_name, raw_value, storage_class, sqlstate, error, action
FROM recio_migrate.rejects WHERE run_id = (SELECT max(run_id) FROM recio_migrate.runs);
SELECT tableoid::regclass AS partition, count(*), min(ts), max(ts) FROM pl GROUP BY 1 ORDER BY 1;
SELECT id, ts, price, label FROM pl_2025_03 ORDER BY id LIMIT 2;
-- the progress slot saw the rows (read, written, rejected) of the last run
SELECT rows_read, rows_written, rows_rejected FROM recio_migrate.runs ORDER BY run_id DESC LIMIT 1;
-- with a partition for the late row, a new run moves every row and parity is ok
CREATE TABLE pl_2024_12 PARTITION OF pl FOR VALUES FROM ('2024-12-01') TO ('2025-01-01');
TRUNCATE pl;
SELECT status, rows_read, rows_written, rows_rejected FROM recio_migrate.migrate('tgt_src.prices', 'pl');
SELECT source_rows, target_rows, matched, missing, extra, mismatched, ok
FROM recio_migrate.parity('tgt_src.prices_typed', 'pl', key_columns => ARRAY['id']);
-- trigger functions run under migrate()'s search_path (pg_catalog, pg_temp) unless they set their own
-- a partition with a row trigger takes its rows through the executor (NOTICE), the others stay bulk
CREATE TABLE pl_seen (partition text, n bigint);
CREATE FUNCTION pl_count() RETURNS trigger LANGUAGE plpgsql SET search_path = public, pg_catalog AS $$
BEGIN
  UPDATE pl_seen SET n = n + 1 WHERE partition = TG_TABLE_NAME;
  IF NOT FOUND THEN INSERT INTO pl_seen VALUES (TG_TABLE_NAME, 1); END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER pl_count AFTER INSERT ON pl_2025_02 FOR EACH ROW EXECUTE FUNCTION pl_count();
TRUNCATE pl;
SELECT status, rows_written FROM recio_migrate.migrate('tgt_src.prices', 'pl');
SELECT * FROM pl_seen;
SELECT count(*) AS rows_in_feb FROM pl_2025_02;

-- a table with a BEFORE trigger that changes a value, an AFTER row trigger
-- that logs and statement triggers: every trigger fires, once per row or per run
CREATE TABLE notes (id bigint PRIMARY KEY, ts timestamptz, price numeric, label text);
CREATE TABLE notes_log (what text, id bigint, label text, n bigint);
CREATE FUNCTION notes_before() RETURNS trigger LANGUAGE plpgsql SET search_path = public, pg_catalog AS $$
BEGIN
  NEW.label := upper(NEW.label);
  IF NEW.id % 1000 = 0 THEN RETURN NULL; END IF;  -- skipped rows are said in a NOTICE
  RETURN NEW;
END $$;
CREATE FUNCTION notes_after_row() RETURNS trigger LANGUAGE plpgsql SET search_path = public, pg_catalog AS $$
BEGIN
  INSERT INTO notes_log VALUES ('row', NEW.id, NEW.label, (SELECT count(*) FROM notes));
  RETURN NULL;
END $$;
CREATE FUNCTION notes_statement() RETURNS trigger LANGUAGE plpgsql SET search_path = public, pg_catalog AS $$
BEGIN
  INSERT INTO notes_log VALUES (TG_WHEN || ' statement', NULL, NULL, (SELECT count(*) FROM notes));
  RETURN NULL;
END $$;
CREATE TRIGGER notes_before BEFORE INSERT ON notes FOR EACH ROW EXECUTE FUNCTION notes_before();
CREATE TRIGGER notes_after_row AFTER INSERT ON notes FOR EACH ROW EXECUTE FUNCTION notes_after_row();
CREATE TRIGGER notes_bs BEFORE INSERT ON notes FOR EACH STATEMENT EXECUTE FUNCTION notes_statement();
CREATE TRIGGER notes_as AFTER INSERT ON notes FOR EACH STATEMENT EXECUTE FUNCTION notes_statement();
SELECT status, rows_read, rows_written, rows_rejected FROM recio_migrate.migrate('tgt_src.prices', 'notes', 'reject');
SELECT count(*) AS rows, count(*) FILTER (WHERE label = upper(label)) AS changed_by_trigger FROM notes;
SELECT what, count(*), min(n), max(n) FROM notes_log GROUP BY what ORDER BY what;
SELECT what, id, label, n FROM notes_log WHERE what <> 'row' OR id IN (1, 2401) ORDER BY n, what;
-- the AFTER row trigger saw the rows of its own batch (it runs after every batch of 1000 rows)
SELECT count(*) FILTER (WHERE n < id) AS saw_fewer_rows_than_before_it FROM notes_log WHERE what = 'row';
-- a failed run with triggers leaves the target and the trigger's log unchanged
TRUNCATE notes_log;
CREATE TABLE notes2 (LIKE notes INCLUDING ALL, CHECK (id < 2000));
CREATE TRIGGER notes_after_row AFTER INSERT ON notes2 FOR EACH ROW EXECUTE FUNCTION notes_after_row();
SELECT status, rows_written FROM recio_migrate.migrate('tgt_src.prices', 'notes2');
SELECT error FROM recio_migrate.runs ORDER BY run_id DESC LIMIT 1;
SELECT (SELECT count(*) FROM notes2) AS target_rows, (SELECT count(*) FROM notes_log) AS log_rows;
-- under reject the rows a CHECK refuses are recorded, the others go in
SELECT status, rows_read, rows_written, rows_rejected FROM recio_migrate.migrate('tgt_src.prices', 'notes2', 'reject');
SELECT count(*), min(sqlite_rowid), max(sqlite_rowid), min(column_name) AS col, min(sqlstate) AS state,
       min(error) AS error, min(storage_class) AS storage
FROM recio_migrate.rejects WHERE run_id = (SELECT max(run_id) FROM recio_migrate.runs);

-- a child table with a foreign key (RI triggers): an orphan is refused
CREATE TABLE parents (id bigint PRIMARY KEY, name text NOT NULL);
SELECT status, rows_written FROM recio_migrate.migrate('tgt_src.parents', 'parents');
CREATE TABLE children (id bigint PRIMARY KEY, parent_id bigint REFERENCES parents, qty integer);
-- on_error 'stop': 23503, the target stays empty
SELECT status, rows_read, rows_written, rows_rejected FROM recio_migrate.migrate('tgt_src.children', 'children');
SELECT error FROM recio_migrate.runs ORDER BY run_id DESC LIMIT 1;
SELECT count(*) AS rows_after_failed_run FROM children;
-- on_error 'reject': the orphan is in rejects (its key and the constraint's detail), the others are in
SELECT status, rows_read, rows_written, rows_rejected FROM recio_migrate.migrate('tgt_src.children', 'children', 'reject');
SELECT sqlite_rowid, sqlite_key, column_name, raw_value, storage_class, sqlstate, error, action
FROM recio_migrate.rejects WHERE run_id = (SELECT max(run_id) FROM recio_migrate.runs);
SELECT id, parent_id, qty FROM children ORDER BY id;
-- parity counts the orphan as missing: the target holds every other row unchanged
SELECT source_rows, target_rows, matched, missing, extra, mismatched, ok
FROM recio_migrate.parity('tgt_src.children', 'children');
SELECT source_rows, target_rows, matched, missing, extra, mismatched, ok
FROM recio_migrate.parity('tgt_src.parents', 'parents');

-- still refused, with the reason: generated columns, row-level security, a view, a foreign table
CREATE TABLE gen_t (id bigint, price numeric, cents bigint GENERATED ALWAYS AS ((price * 100)::bigint) STORED);
SELECT expect_error($$SELECT * FROM recio_migrate.move_rows('tgt_src.prices', 'gen_t', 0, 'stop', false)$$);
SELECT status, rows_written FROM recio_migrate.migrate('tgt_src.prices', 'gen_t');
SELECT error FROM recio_migrate.runs ORDER BY run_id DESC LIMIT 1;
-- row-level security applies to its owner (FORCE) when the owner has no BYPASSRLS
CREATE ROLE tgt_rls_owner NOLOGIN;
CREATE TABLE rls_t (id bigint, price numeric);
ALTER TABLE rls_t OWNER TO tgt_rls_owner;
ALTER TABLE rls_t ENABLE ROW LEVEL SECURITY;
ALTER TABLE rls_t FORCE ROW LEVEL SECURITY;
CREATE POLICY rls_t_all ON rls_t USING (true);
GRANT USAGE ON SCHEMA recio_migrate, tgt_src TO tgt_rls_owner;
GRANT SELECT ON tgt_src.prices TO tgt_rls_owner;
GRANT EXECUTE ON FUNCTION recio_migrate.move_rows(regclass, regclass, bigint, text, boolean) TO tgt_rls_owner;
SET ROLE tgt_rls_owner;
SELECT expect_error($$SELECT * FROM recio_migrate.move_rows('tgt_src.prices', 'rls_t', 0, 'stop', false)$$);
RESET ROLE;
REVOKE EXECUTE ON FUNCTION recio_migrate.move_rows(regclass, regclass, bigint, text, boolean) FROM tgt_rls_owner;
REVOKE USAGE ON SCHEMA recio_migrate, tgt_src FROM tgt_rls_owner;
REVOKE SELECT ON tgt_src.prices FROM tgt_rls_owner;
SELECT count(*) AS rls_rows_after_refusal FROM rls_t;
-- a superuser bypasses row-level security: the run goes through
SELECT status, rows_written FROM recio_migrate.migrate('tgt_src.prices', 'rls_t');
CREATE VIEW view_t AS SELECT id, price FROM notes;
SELECT expect_error($$SELECT * FROM recio_migrate.move_rows('tgt_src.prices', 'view_t', 0, 'stop', false)$$);
SELECT expect_error($$SELECT * FROM recio_migrate.move_rows('tgt_src.prices', 'tgt_src.parents', 0, 'stop', false)$$);
SELECT count(*) AS rows_in_refused_target FROM gen_t;

RESET timezone;
DROP TABLE pl, pl_seen, notes, notes_log, notes2, children, parents, gen_t, rls_t CASCADE;
DROP FUNCTION pl_count(), notes_before(), notes_after_row(), notes_statement();
DROP SCHEMA tgt_src CASCADE;
DROP SERVER targets_srv CASCADE;
DROP ROLE tgt_rls_owner;

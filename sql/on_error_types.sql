-- on_error_types: values refused by a type's own input function (jsonb,
-- uuid, varchar(3), an enum) or by a domain (CHECK, base type syntax) under
-- each on_error of a foreign scan (stop, null, ignore) and of migrate()
-- (stop, null, reject).  A refused input function or domain check runs in a
-- subtransaction rolled back on failure: what it took (here an advisory lock
-- taken by the domain's CHECK before it raises) is released with it.
SELECT create_servers(ARRAY['on_error_types']);
CREATE TYPE oe_mood AS ENUM ('happy', 'sad');
-- lock_and_fail takes a transaction-level advisory lock, then raises
CREATE FUNCTION oe_lock_and_fail(v int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(4242);
  RAISE EXCEPTION 'value % is too large', v USING ERRCODE = '22023';
END $$;
CREATE DOMAIN oe_small AS int CHECK (VALUE > 0) CHECK (VALUE IS NULL OR VALUE < 100 OR oe_lock_and_fail(VALUE));
-- the domain's advisory locks (not migrate()'s own lock on its target, held to the commit)
CREATE FUNCTION oe_advisory_locks() RETURNS bigint LANGUAGE sql AS
$$ SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
     AND NOT (objsubid = 2 AND classid = recio_migrate.lock_class('migrate target')::oid) $$;
CREATE FOREIGN TABLE oe_stop (id bigint, j jsonb, u uuid, vc varchar(3), m oe_mood, d oe_small)
  SERVER on_error_types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE oe_null (id bigint, j jsonb, u uuid, vc varchar(3), m oe_mood, d oe_small)
  SERVER on_error_types_srv OPTIONS ("table" 'vals', on_error 'null');
CREATE FOREIGN TABLE oe_ignore (id bigint, j jsonb, u uuid, vc varchar(3), m oe_mood, d oe_small)
  SERVER on_error_types_srv OPTIONS ("table" 'vals', on_error 'ignore');

-- stop: the first refused value of the column is an ERROR naming the row and the value
SELECT expect_error('SELECT id, j FROM oe_stop');
SELECT expect_error('SELECT id, u FROM oe_stop');
SELECT expect_error('SELECT id, vc FROM oe_stop');
SELECT expect_error('SELECT id, m FROM oe_stop');
SELECT expect_error('SELECT id, d FROM oe_stop');
SELECT expect_error('SELECT id, d FROM oe_stop WHERE id > 7');
-- the values the types accept, as they accept them
SELECT id, j, u, vc, m, d FROM oe_stop WHERE id IN (1, 9) ORDER BY id;

-- null: every refused value is NULL, one NOTICE counts them
SELECT id, j, u, vc, m, d FROM oe_null ORDER BY id;
-- ignore: a row with a refused value is skipped
SELECT id, j, u, vc, m, d FROM oe_ignore ORDER BY id;
-- in parallel mode (a plan with a Gather, force_parallel_mode) PostgreSQL 15 starts no
-- subtransaction: a value that needs its input function gets a clear 0A000, not 25000;
-- the wrapper's own conversions still work there
SET force_parallel_mode = on;
SELECT id, u FROM oe_null ORDER BY id;
\echo :LAST_ERROR_SQLSTATE
SELECT id, vc FROM oe_null ORDER BY id LIMIT 2;
RESET force_parallel_mode;
-- a column option overrides the table's: only d is nulled, the rest stops
ALTER FOREIGN TABLE oe_stop ALTER COLUMN d OPTIONS (ADD on_error 'null');
SELECT id, d FROM oe_stop ORDER BY id;
SELECT expect_error('SELECT id, d, m FROM oe_stop');
ALTER FOREIGN TABLE oe_stop ALTER COLUMN d OPTIONS (DROP on_error);
-- an ERROR that is not the value's fault (not class 22 or 23) stops the scan under any on_error
CREATE FUNCTION oe_fail_hard(v int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the check of % failed for another reason', v;
END $$;
CREATE DOMAIN oe_hard_int AS int CHECK (VALUE < 10 OR oe_fail_hard(VALUE));
CREATE FOREIGN TABLE oe_hard (k oe_hard_int OPTIONS (column_name 'id'))
  SERVER on_error_types_srv OPTIONS ("table" 'vals', on_error 'null');
SELECT expect_error('SELECT count(k) FROM oe_hard');
-- numeric is converted by the wrapper itself: bad syntax and overflow are found without numeric_in raising
CREATE FOREIGN TABLE oe_num (id bigint, d numeric(2,0)) SERVER on_error_types_srv OPTIONS ("table" 'vals', on_error 'null');
SELECT id, d FROM oe_num ORDER BY id;
ALTER FOREIGN TABLE oe_num OPTIONS (SET on_error 'stop');
SELECT expect_error('SELECT d FROM oe_num');

-- the failed CHECK's advisory lock went with its rolled-back subtransaction;
-- the transaction goes on and its own work is kept
BEGIN;
CREATE TEMP TABLE oe_seen AS SELECT id, d FROM oe_null WHERE id >= 6;
SELECT oe_advisory_locks() AS advisory_locks_held;
SELECT * FROM oe_seen ORDER BY id;
SELECT id, d FROM oe_ignore WHERE id >= 6 ORDER BY id;
SELECT oe_advisory_locks() AS advisory_locks_held;
COMMIT;
DROP TABLE oe_seen;

-- migrate(): the source columns as text, converted into the target's types
CREATE FOREIGN TABLE oe_src (id bigint, j text, u text, vc text, m text, d text)
  SERVER on_error_types_srv OPTIONS ("table" 'vals');
CREATE TABLE oe_t (id bigint, j jsonb, u uuid, vc varchar(3), m oe_mood, d oe_small);
-- stop: the run fails at the first refused value, the target stays empty
SET client_min_messages = error; -- migrate's WARNING names the run id, which earlier tests decide
SELECT status, rows_read, rows_written, rows_rejected FROM recio_migrate.migrate('oe_src', 'oe_t');
RESET client_min_messages;
SELECT error FROM recio_migrate.runs ORDER BY run_id DESC LIMIT 1;
SELECT count(*) AS target_rows FROM oe_t;
-- reject: rows with a refused value go to rejects (each refused value), the rest is moved
BEGIN;
SELECT status, rows_read, rows_written, rows_rejected FROM recio_migrate.migrate('oe_src', 'oe_t', 'reject');
SELECT oe_advisory_locks() AS advisory_locks_held;
COMMIT;
SELECT sqlite_rowid, column_name, raw_value, storage_class, sqlstate, error, action
FROM recio_migrate.rejects WHERE run_id = (SELECT max(run_id) FROM recio_migrate.runs) ORDER BY sqlite_rowid, column_name;
SELECT id, j, u, vc, m, d FROM oe_t ORDER BY id;
-- null: every row is moved, refused values as NULL, each recorded
TRUNCATE oe_t;
SELECT status, rows_read, rows_written, rows_rejected FROM recio_migrate.migrate('oe_src', 'oe_t', 'null');
SELECT sqlite_rowid, column_name, raw_value, sqlstate, action
FROM recio_migrate.rejects WHERE run_id = (SELECT max(run_id) FROM recio_migrate.runs) ORDER BY sqlite_rowid, column_name;
SELECT id, j, u, vc, m, d FROM oe_t ORDER BY id;

DROP TABLE oe_t;
DROP SERVER on_error_types_srv CASCADE;
DROP FUNCTION oe_advisory_locks();
DROP DOMAIN oe_small, oe_hard_int;
DROP FUNCTION oe_lock_and_fail(int), oe_fail_hard(int);
DROP TYPE oe_mood;
DELETE FROM recio_migrate.rejects WHERE run_id IN (SELECT run_id FROM recio_migrate.runs WHERE source_table = 'oe_src');
DELETE FROM recio_migrate.runs WHERE source_table = 'oe_src';

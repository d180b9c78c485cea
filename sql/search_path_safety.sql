-- search_path safety: hostile operators, functions and types first on the
-- caller's search_path never run inside the extension.  Every hostile object
-- raises a WARNING naming itself and then an error, so a call shows in this
-- output even where the extension catches the error (parity_all records it,
-- migrate() marks its run failed, a prune batch logs it).
CREATE SCHEMA sps;
CREATE SCHEMA hostile;
CREATE FUNCTION hostile.tripwire(what text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  RAISE WARNING 'hostile % ran', what;
  RAISE EXCEPTION 'hostile % ran', what USING ERRCODE = '42501';
END $$;
-- comparison and arithmetic operators for every type the extension's code compares
DO $$
DECLARE
  typ text;
  op text;
  n integer := 0;
BEGIN
  FOREACH typ IN ARRAY ARRAY['regclass', 'text', 'integer', 'bigint', 'smallint', 'numeric', 'double precision',
                             'interval', 'timestamptz', 'timestamp', 'date', 'name', 'oid', 'boolean', '"char"',
                             'regtype', 'text[]', 'regclass[]', 'tid', 'jsonb'] LOOP
    FOREACH op IN ARRAY ARRAY['=', '<>', '<', '<=', '>', '>='] LOOP
      n := n + 1;
      EXECUTE format('CREATE FUNCTION hostile.op%s(%s, %s) RETURNS boolean LANGUAGE sql AS %L', n, typ, typ,
                     format('SELECT hostile.tripwire(%L)', op || ' (' || typ || ')'));
      EXECUTE format('CREATE OPERATOR hostile.%s (FUNCTION = hostile.op%s, LEFTARG = %s, RIGHTARG = %s)', op, n, typ, typ);
    END LOOP;
  END LOOP;
  FOREACH typ IN ARRAY ARRAY['integer', 'bigint', 'numeric', 'double precision', 'interval'] LOOP
    FOREACH op IN ARRAY ARRAY['+', '-', '*', '/'] LOOP
      n := n + 1;
      EXECUTE format('CREATE FUNCTION hostile.op%s(%s, %s) RETURNS %s LANGUAGE sql AS %L', n, typ, typ, typ,
                     format('SELECT NULL::%s WHERE hostile.tripwire(%L)', typ, op || ' (' || typ || ')'));
      EXECUTE format('CREATE OPERATOR hostile.%s (FUNCTION = hostile.op%s, LEFTARG = %s, RIGHTARG = %s)', op, n, typ, typ);
    END LOOP;
  END LOOP;
  FOREACH typ IN ARRAY ARRAY['timestamptz', 'timestamp', 'date'] LOOP
    n := n + 1;
    EXECUTE format('CREATE FUNCTION hostile.op%s(%s, interval) RETURNS %s LANGUAGE sql AS %L', n, typ, typ,
                   format('SELECT NULL::%s WHERE hostile.tripwire(%L)', typ, '- (' || typ || ', interval)'));
    EXECUTE format('CREATE OPERATOR hostile.- (FUNCTION = hostile.op%s, LEFTARG = %s, RIGHTARG = interval)', n, typ);
  END LOOP;
  FOREACH typ IN ARRAY ARRAY['text', 'text[]', 'regclass[]'] LOOP
    n := n + 1;
    EXECUTE format('CREATE FUNCTION hostile.op%s(%s, %s) RETURNS %s LANGUAGE sql AS %L', n, typ, typ, typ,
                   format('SELECT NULL::%s WHERE hostile.tripwire(%L)', typ, '|| (' || typ || ')'));
    EXECUTE format('CREATE OPERATOR hostile.|| (FUNCTION = hostile.op%s, LEFTARG = %s, RIGHTARG = %s)', n, typ, typ);
  END LOOP;
END $$;
-- functions that shadow pg_catalog's for the argument types the code passes
CREATE FUNCTION hostile.cardinality(anyarray) RETURNS integer LANGUAGE sql AS $$ SELECT 0 WHERE hostile.tripwire('cardinality()') $$;
CREATE FUNCTION hostile."coalesce"(text, text) RETURNS text LANGUAGE sql AS $$ SELECT NULL::text WHERE hostile.tripwire('coalesce()') $$;
CREATE FUNCTION hostile.format(text) RETURNS text LANGUAGE sql AS $$ SELECT NULL::text WHERE hostile.tripwire('format(text)') $$;
CREATE FUNCTION hostile.format(text, text) RETURNS text LANGUAGE sql AS $$ SELECT NULL::text WHERE hostile.tripwire('format(text, text)') $$;
CREATE FUNCTION hostile.format(text, regclass) RETURNS text LANGUAGE sql AS $$ SELECT NULL::text WHERE hostile.tripwire('format(text, regclass)') $$;
CREATE FUNCTION hostile.array_to_string(anyarray, text) RETURNS text LANGUAGE sql AS $$ SELECT NULL::text WHERE hostile.tripwire('array_to_string()') $$;
CREATE FUNCTION hostile.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT NULL::timestamptz WHERE hostile.tripwire('now()') $$;
CREATE FUNCTION hostile.clock_timestamp() RETURNS timestamptz LANGUAGE sql AS $$ SELECT NULL::timestamptz WHERE hostile.tripwire('clock_timestamp()') $$;
CREATE FUNCTION hostile.current_setting(text) RETURNS text LANGUAGE sql AS $$ SELECT NULL::text WHERE hostile.tripwire('current_setting()') $$;
CREATE FUNCTION hostile.set_config(text, text, boolean) RETURNS text LANGUAGE sql AS $$ SELECT NULL::text WHERE hostile.tripwire('set_config()') $$;
CREATE FUNCTION hostile.pg_sleep(double precision) RETURNS void LANGUAGE sql AS $$ SELECT WHERE hostile.tripwire('pg_sleep()') $$;
CREATE FUNCTION hostile.to_regclass(text) RETURNS regclass LANGUAGE sql AS $$ SELECT NULL::regclass WHERE hostile.tripwire('to_regclass()') $$;
CREATE FUNCTION hostile.nextval(regclass) RETURNS bigint LANGUAGE sql AS $$ SELECT NULL::bigint WHERE hostile.tripwire('nextval()') $$;
CREATE FUNCTION hostile.greatest(interval, interval) RETURNS interval LANGUAGE sql AS $$ SELECT NULL::interval WHERE hostile.tripwire('greatest()') $$;
-- types that shadow pg_catalog's: a variable declared with one would run its CHECK on every assignment
CREATE DOMAIN hostile.regclass AS pg_catalog.regclass CHECK (hostile.tripwire('type regclass'));
CREATE DOMAIN hostile.timestamptz AS pg_catalog.timestamptz CHECK (hostile.tripwire('type timestamptz'));
CREATE DOMAIN hostile.text AS pg_catalog.text CHECK (hostile.tripwire('type text'));
CREATE DOMAIN hostile.name AS pg_catalog.name CHECK (hostile.tripwire('type name'));
SELECT count(*) AS hostile_operators FROM pg_operator WHERE oprnamespace = 'hostile'::regnamespace;

-- what the calls work on: a table with a policy and a pin, a partitioned
-- table (a partition to drop, one holding a pin), a legacy file to migrate
CREATE TABLE sps.fills (id bigint PRIMARY KEY, ts timestamptz NOT NULL, qty integer);
INSERT INTO sps.fills SELECT g, timestamptz '2024-01-01 00:00+00' + g * interval '1 hour', g FROM generate_series(1, 1000) g;
CREATE TABLE sps.prices (id bigint, ts timestamptz NOT NULL, PRIMARY KEY (id, ts)) PARTITION BY RANGE (ts);
CREATE TABLE sps.prices_01 PARTITION OF sps.prices FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2024-02-01 00:00+00');
CREATE TABLE sps.prices_02 PARTITION OF sps.prices FOR VALUES FROM ('2024-02-01 00:00+00') TO ('2024-03-01 00:00+00');
CREATE TABLE sps.prices_03 PARTITION OF sps.prices FOR VALUES FROM ('2024-03-01 00:00+00') TO ('2024-04-01 00:00+00');
INSERT INTO sps.prices SELECT g, timestamptz '2024-01-01 00:00+00' + g * interval '2 hours' FROM generate_series(0, 1000) g;
DO $$
BEGIN
  EXECUTE format('CREATE SERVER sps_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database %L)',
                 current_setting('recio_test.fixtures') || '/trades.db');
END $$;
-- every call below runs with the hostile schema first
SET search_path = hostile, pg_catalog, public;
SELECT relation, keep, batch_rows FROM recio_migrate.set_retention('sps.fills', 'ts', '10 days', batch_rows => 100);
SELECT relation, keep FROM recio_migrate.set_retention('sps.prices', 'ts', '20 days');
SELECT recio_migrate.pin('sps.fills', '{5}', 'kept') AS pinned, recio_migrate.pin_where('sps.fills', 't.id IN (6, 7)') AS pinned_where;
SELECT recio_migrate.pin('sps.prices', '{300,"2024-01-26 00:00:00+00"}') AS pinned_partition_row;
CALL recio_migrate.prune('sps.fills', dry_run => true, as_of => '2024-02-01 00:00+00');
CALL recio_migrate.prune('sps.fills', as_of => '2024-02-01 00:00+00');
CALL recio_migrate.prune('sps.prices', as_of => '2024-04-01 00:00+00');
CALL recio_migrate.run_retention();
CALL recio_migrate.run_retention('0 seconds');
SELECT sqlite_table, action, sqlite_rows, target_rows, counts_match FROM recio_migrate.migrate_server('sps_srv', 'sps_target');
SELECT source_table, mode, ok, error FROM recio_migrate.parity_all('sps_srv', 'sps_target');
SELECT orphan_rows, orphan_keys FROM recio_migrate.check_references('sps_target.trades', '{id}', 'sps_target.trades', '{id}');
SELECT b.kind, b.method, b.advice FROM recio_migrate.bloat_report('sps', 'exact') b WHERE b.relation OPERATOR(pg_catalog.=) 'sps.fills'::pg_catalog.regclass;
SELECT recio_migrate.unpin('sps.fills', '{7}') AS unpinned, recio_migrate.drop_retention('sps.prices') AS dropped;
RESET search_path;

-- what they did, read with the hostile schema off the path
SELECT count(*) FILTER (WHERE ts < '2024-01-22 00:00+00') AS fills_before_cutoff, count(*) AS fills_left FROM sps.fills;
SELECT c.relname AS partition_left, (SELECT count(*) FROM sps.prices p WHERE p.tableoid = c.oid) AS rows
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'sps.prices'::regclass ORDER BY 1;
SELECT relation_name, rows_deleted, partitions_dropped, status, error FROM recio_migrate.retention_log
WHERE relation_name LIKE 'sps.%' ORDER BY id;
SELECT status, count(*) FROM recio_migrate.runs WHERE target_table LIKE 'sps_target.%' GROUP BY 1;

-- the tripwires are live: the same path makes plain SQL run them, and a
-- procedure written the 0.3.0 way (an unqualified operator in its body)
CREATE PROCEDURE sps.naive(n bigint) LANGUAGE plpgsql AS $$ BEGIN IF n = n THEN RETURN; END IF; END $$;
\set SHOW_CONTEXT never
SET search_path = hostile, pg_catalog, public;
SELECT 'sps.fills'::pg_catalog.regclass = 'sps.fills'::pg_catalog.regclass;
SELECT 1 + 1;
SELECT cardinality(ARRAY[1]);
SELECT 'a'::pg_catalog.text || 'b'::pg_catalog.text;
DO 'DECLARE r regclass := 0; BEGIN END';
CALL sps.naive(1);
RESET search_path;
\set SHOW_CONTEXT errors

-- leave no trace for the tests after this one
DELETE FROM recio_migrate.retention_log;
DELETE FROM recio_migrate.retention_pins WHERE relation::text LIKE 'sps.%';
SELECT recio_migrate.drop_retention('sps.fills') AS dropped;
SET client_min_messages = warning;
DROP SCHEMA hostile CASCADE;
DROP SCHEMA sps, sps_target, sps_target_sqlite CASCADE;
DROP SERVER sps_srv CASCADE;
RESET client_min_messages;

-- retention: policies are checked, prune keeps the row at the cutoff and every
-- pinned row, dry runs change nothing, archives get each row exactly once,
-- partitions wholly before the cutoff are dropped (never one holding a pin)
-- (a schema of its own: other tests have tables of the same names)
CREATE SCHEMA retention;
SET search_path = retention, public;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
CREATE TABLE fills (id bigint PRIMARY KEY, ts timestamptz NOT NULL, qty integer);
INSERT INTO fills SELECT g, timestamptz '2024-01-01 00:00+00' + g * interval '1 hour', g FROM generate_series(1, 1000) g;

-- bad policies are refused with clear errors
CREATE VIEW fills_v AS SELECT * FROM fills;
CREATE TABLE notes (id int PRIMARY KEY, body text, n int, ms bigint);
SELECT expect_error($$SELECT recio_migrate.set_retention('retention.fills_v', 'ts', '30 days')$$);
SELECT expect_error($$SELECT recio_migrate.set_retention('retention.fills', 'nope', '30 days')$$);
SELECT expect_error($$SELECT recio_migrate.set_retention('retention.notes', 'body', '30 days')$$);
SELECT expect_error($$SELECT recio_migrate.set_retention('retention.notes', 'ms', '30 days')$$);
SELECT expect_error($$SELECT recio_migrate.set_retention('retention.notes', 'ms', '30 days', time_unit => 'days')$$);
SELECT expect_error($$SELECT recio_migrate.set_retention('retention.fills', 'ts', '30 days', time_unit => 's')$$);
SELECT expect_error($$SELECT recio_migrate.set_retention('retention.fills', 'ts', '0 days')$$);
SELECT expect_error($$SELECT recio_migrate.set_retention('retention.fills', 'ts', '-1 day')$$);
SELECT expect_error($$SELECT recio_migrate.set_retention('retention.fills', 'ts', NULL)$$);
SELECT expect_error($$SELECT recio_migrate.set_retention('retention.fills', 'ts', '30 days', batch_rows => 0)$$);
SELECT expect_error($$SELECT recio_migrate.set_retention('retention.fills', 'ts', '30 days', partition_action => 'truncate')$$);
SELECT expect_error($$SELECT recio_migrate.set_retention('retention.fills', 'ts', '30 days', archive_relation => 'retention.fills')$$);
SELECT expect_error($$SELECT recio_migrate.set_retention('retention.fills', 'ts', '30 days', archive_relation => 'retention.notes')$$);
SELECT expect_error($$SELECT recio_migrate.set_retention('retention.fills', 'ts', '30 days', lock_timeout => '5 minutes')$$);
SELECT expect_error($$CALL recio_migrate.prune('retention.fills')$$);
SELECT expect_error($$CALL recio_migrate.prune('retention.fills', 'qty', '1 day')$$);
SELECT count(*) AS policies FROM recio_migrate.retention_policies WHERE relation <> 'recio_migrate.retention_log'::regclass;

-- a good policy, replaced by a second call
SELECT relation, time_column, keep, batch_rows FROM recio_migrate.set_retention('fills', 'ts', '60 days');
SELECT relation, time_column, keep, batch_rows FROM recio_migrate.set_retention('fills', 'ts', '10 days', batch_rows => 100);

-- pins: by primary key, checked, idempotent
SELECT recio_migrate.pin('fills', '{5}', 'dispute 5') AS pinned, recio_migrate.pin('fills', '{5}') AS again;
SELECT recio_migrate.pin('fills', ARRAY['7']) AS pinned;
SELECT recio_migrate.pin_where('fills', 't.qty BETWEEN 100 AND 109', 'audit') AS pinned;
SELECT expect_error($$SELECT recio_migrate.pin('retention.fills', '{123456}')$$);
SELECT expect_error($$SELECT recio_migrate.pin('retention.fills', '{1,2}')$$);
SELECT expect_error($$SELECT recio_migrate.pin('retention.fills', '{x}')$$);
SELECT expect_error($$SELECT recio_migrate.pin('retention.fills_v', '{1}')$$);
CREATE TABLE nokey (ts timestamptz);
SELECT expect_error($$SELECT recio_migrate.pin('retention.nokey', '{1}')$$);
SELECT recio_migrate.pin('fills', '{8}') AS pinned, recio_migrate.unpin('fills', '{8}') AS unpinned,
       recio_migrate.unpin('fills', '{8}') AS unpinned_again;
SELECT key, pinned_by, note FROM recio_migrate.pins('fills') LIMIT 3;
SELECT count(*) AS pins FROM recio_migrate.pins('fills');

-- the cutoff is as_of - keep = 2024-01-22 00:00; row 504 lies exactly on it
SELECT id, ts FROM fills WHERE ts = timestamptz '2024-01-22 00:00+00';
-- a dry run deletes nothing and writes no log entry
CALL recio_migrate.prune('fills', dry_run => true, as_of => '2024-02-01 00:00+00');
SELECT count(*) AS rows_left FROM fills;
SELECT count(*) AS log_entries FROM recio_migrate.retention_log;
CALL recio_migrate.prune('fills', as_of => '2024-02-01 00:00+00');
-- every row before the cutoff is gone except the 12 pinned; the row at the cutoff stays
SELECT count(*) FILTER (WHERE ts < '2024-01-22 00:00+00') AS before_cutoff,
       count(*) FILTER (WHERE ts < '2024-01-22 00:00+00' AND ARRAY[id::text] IN (SELECT key FROM recio_migrate.pins('fills'))) AS pinned_before,
       min(id) FILTER (WHERE ts >= '2024-01-22 00:00+00') AS first_kept, count(*) AS rows_left
FROM fills;
SELECT relation, cutoff, rows_deleted, rows_archived, batches > 1 AS batched, status, error
FROM recio_migrate.retention_log ORDER BY id;

-- a pin with a timestamptz key given in another zone names the same row
CREATE TABLE ticks (sym text, ts timestamptz, px float8, PRIMARY KEY (sym, ts));
INSERT INTO ticks VALUES ('BTC', '2024-01-01 00:00+00', 0.1), ('BTC', '2024-01-01 01:00+00', 0.2), ('ETH', '2024-01-01 00:00+00', 0.3);
SET TimeZone = 'America/New_York';
SELECT recio_migrate.pin('ticks', '{BTC,"2024-01-01 02:00:00+01"}') AS pinned;
SELECT key FROM recio_migrate.pins('ticks');
-- pin(), pin_where() and unpin() use UTC and ISO for key texts, and leave the caller's settings alone
BEGIN;
SET LOCAL DateStyle = 'SQL, DMY';
SELECT recio_migrate.pin('ticks', '{BTC,"2024-01-01 02:00:00+01"}') AS pinned_again,
       recio_migrate.pin_where('ticks', 'false') AS pinned_where, recio_migrate.unpin('ticks', '{ETH,2024-01-01}') AS unpinned;
SELECT current_setting('TimeZone') AS zone, current_setting('DateStyle') AS datestyle,
       current_setting('extra_float_digits') AS float_digits;
COMMIT;
-- their SET clauses and retention_settings() (prune's batches) must make the same key texts
BEGIN;
SELECT recio_migrate.retention_settings();
SELECT p.proname, pg_catalog.bool_and(current_setting(split_part(c, '=', 1)) = substr(c, strpos(c, '=') + 1))
         AS same_as_retention_settings, count(*) AS settings
FROM pg_proc p, unnest(p.proconfig) c
WHERE p.pronamespace = 'recio_migrate'::regnamespace AND p.proname IN ('pin', 'pin_where', 'unpin')
  AND c NOT LIKE 'search_path=%'
GROUP BY p.proname ORDER BY 1;
ROLLBACK;
CALL recio_migrate.prune('ticks', 'ts', '1 day', as_of => '2024-02-01');
SELECT sym, ts FROM ticks;
SET TimeZone = 'UTC';

-- the archive gets every deleted row exactly once, in the same transaction
CREATE TABLE orders (id int PRIMARY KEY, placed date NOT NULL, side text, total numeric(12,2));
CREATE TABLE orders_archive (LIKE orders);
INSERT INTO orders SELECT g, date '2024-01-01' + g, CASE WHEN g % 2 = 0 THEN 'buy' ELSE 'sell' END, g * 1.5
FROM generate_series(0, 299) g;
CREATE TABLE orders_before AS SELECT * FROM orders;
SELECT relation, archive_relation FROM recio_migrate.set_retention('orders', 'placed', '100 days', batch_rows => 40,
                                                                   archive_relation => 'orders_archive');
SELECT recio_migrate.pin('orders', '{3}') AS pinned;
CALL recio_migrate.prune('orders', as_of => '2024-08-01');
SELECT (SELECT count(*) FROM orders_archive) AS archived,
       (SELECT count(DISTINCT id) FROM orders_archive) AS distinct_archived,
       (SELECT count(*) FROM orders) AS kept,
       (SELECT count(*) FROM orders o JOIN orders_archive a USING (id)) AS in_both,
       (SELECT max(placed) FROM orders_archive) AS newest_archived,
       (SELECT min(placed) FROM orders WHERE id <> 3) AS oldest_kept;
-- nothing lost, nothing changed: both together are the original rows
SELECT count(*) AS differences FROM (
  (SELECT * FROM orders UNION ALL SELECT * FROM orders_archive) EXCEPT ALL SELECT * FROM orders_before
  UNION ALL
  (SELECT * FROM orders_before EXCEPT ALL (SELECT * FROM orders UNION ALL SELECT * FROM orders_archive))) d;
-- a second prune finds nothing more to move
CALL recio_migrate.prune('orders', as_of => '2024-08-01');
SELECT count(*) AS archived FROM orders_archive;

-- an integer epoch column in milliseconds: the row exactly at the cutoff stays
CREATE TABLE events (id int PRIMARY KEY, at_ms bigint NOT NULL);
INSERT INTO events VALUES (1, 1704067199999), (2, 1704067200000), (3, 1704067200001);
SELECT relation, time_unit FROM recio_migrate.set_retention('events', 'at_ms', '1 day', time_unit => 'ms');
CALL recio_migrate.prune('events', as_of => '2024-01-02 00:00+00');
SELECT id, to_timestamp(at_ms / 1000.0) AT TIME ZONE 'UTC' AS at FROM events ORDER BY id;

-- partitions: months wholly before the cutoff are dropped, one holding a pin
-- is pruned row by row instead, the one holding the cutoff row by row too
CREATE TABLE prices (id bigint, ts timestamptz NOT NULL, px numeric, PRIMARY KEY (id, ts)) PARTITION BY RANGE (ts);
CREATE TABLE prices_2024_01 PARTITION OF prices FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2024-02-01 00:00+00');
CREATE TABLE prices_2024_02 PARTITION OF prices FOR VALUES FROM ('2024-02-01 00:00+00') TO ('2024-03-01 00:00+00');
CREATE TABLE prices_2024_03 PARTITION OF prices FOR VALUES FROM ('2024-03-01 00:00+00') TO ('2024-04-01 00:00+00');
CREATE TABLE prices_2024_04 PARTITION OF prices FOR VALUES FROM ('2024-04-01 00:00+00') TO ('2024-05-01 00:00+00');
CREATE TABLE prices_future PARTITION OF prices FOR VALUES FROM ('2024-05-01 00:00+00') TO (MAXVALUE);
CREATE TABLE prices_default PARTITION OF prices DEFAULT;
INSERT INTO prices SELECT g, timestamptz '2024-01-01 00:00+00' + g * interval '2 hours', g FROM generate_series(0, 1450) g;
SELECT recio_migrate.pin('prices', (SELECT ARRAY[id::text, ts::text] FROM prices WHERE id = 400)) AS pinned;
SELECT tableoid::regclass AS pinned_in FROM prices WHERE id = 400;
SELECT relation FROM recio_migrate.set_retention('prices', 'ts', '30 days');
CALL recio_migrate.prune('prices', dry_run => true, as_of => '2024-04-15 00:00+00');
CALL recio_migrate.prune('prices', as_of => '2024-04-15 00:00+00');
-- January is dropped; February (pinned) and March (holding the cutoff) stay
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'prices'::regclass ORDER BY 1;
SELECT to_regclass('prices_2024_01') AS january, (SELECT count(*) FROM prices_2024_02) AS february_rows;
SELECT count(*) FILTER (WHERE ts < '2024-03-16 00:00+00') AS before_cutoff, min(ts) FILTER (WHERE id <> 400) AS oldest,
       count(*) FILTER (WHERE id = 400) AS pinned_kept
FROM prices;
SELECT partitions_dropped, partitions_detached, rows_deleted > 0 AS rows_deleted, status
FROM recio_migrate.retention_log WHERE relation = 'prices'::regclass;
-- detach mode keeps the detached partition as a table of its own
SELECT relation, partition_action FROM recio_migrate.set_retention('prices', 'ts', '30 days', partition_action => 'detach');
-- (cutoff 2024-04-20: March lies wholly before it, February still holds its pin)
CALL recio_migrate.prune('prices', as_of => '2024-05-20 00:00+00');
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'prices'::regclass ORDER BY 1;
SELECT to_regclass('prices_2024_03') IS NOT NULL AS march_kept_as_table,
       (SELECT count(*) FROM prices_2024_03) AS march_rows,
       (SELECT count(*) FROM prices WHERE ts < '2024-04-20 00:00+00') AS attached_before_cutoff;

-- run_retention applies every enabled policy and logs each; the log's own
-- policy is there, so the log stays bounded
SELECT relation, keep FROM recio_migrate.retention_policies WHERE relation = 'recio_migrate.retention_log'::regclass;
SELECT relation FROM recio_migrate.set_retention('events', 'at_ms', '1 day', time_unit => 'ms', enabled => false);
SELECT max(id) AS last_id FROM recio_migrate.retention_log \gset
CALL recio_migrate.run_retention();
SELECT relation_name, status, error FROM recio_migrate.retention_log WHERE id > :last_id ORDER BY id;
-- a policy gone bad (its archive lost a column) is logged as failed, the
-- others still run, and the run ends with an error (pg_cron shows it failed)
SELECT recio_migrate.drop_retention('events') AS dropped, recio_migrate.drop_retention('events') AS dropped_again;
ALTER TABLE orders_archive DROP COLUMN side;
SELECT max(id) AS last_id FROM recio_migrate.retention_log \gset
\set SHOW_CONTEXT never
CALL recio_migrate.run_retention();
\set SHOW_CONTEXT errors
SELECT relation_name, status, error FROM recio_migrate.retention_log WHERE id > :last_id ORDER BY id;
-- a time budget stops a run between batches
SELECT max(id) AS last_id FROM recio_migrate.retention_log \gset
SELECT recio_migrate.drop_retention('orders') AS dropped;
CALL recio_migrate.run_retention('0 seconds');
SELECT relation_name, status, error FROM recio_migrate.retention_log WHERE id > :last_id ORDER BY id;
CALL recio_migrate.prune('fills', keep => '1 day', time_budget => '0 seconds');
SELECT count(*) AS rows_left FROM fills;
SELECT status, error FROM recio_migrate.retention_log ORDER BY id DESC LIMIT 1;
-- a policy whose table was dropped is skipped, not an error
CREATE TABLE gone (id int PRIMARY KEY, ts timestamptz);
SELECT relation FROM recio_migrate.set_retention('gone', 'ts', '1 day');
DROP TABLE gone;
SELECT max(id) AS last_id FROM recio_migrate.retention_log \gset
CALL recio_migrate.run_retention();
SELECT relation IS NULL AS no_relation, relation_name ~ '^[0-9]+$' AS named_by_oid, status, error
FROM recio_migrate.retention_log WHERE id > :last_id AND status <> 'succeeded' ORDER BY id;

-- without pg_cron, scheduling says how to install it
DO $$
DECLARE st text; msg text; hint text;
BEGIN
  PERFORM recio_migrate.schedule_retention('0 4 * * *');
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
  RAISE NOTICE E'%: %\nHINT: %', st, msg, hint;
END $$;

-- pins are primary key values: after the key changes shape, prune refuses instead of ignoring them
CREATE TABLE rekeyed (id int PRIMARY KEY, ts timestamptz NOT NULL);
INSERT INTO rekeyed VALUES (1, '2023-01-01 00:00+00'), (2, '2023-01-02 00:00+00');
SELECT recio_migrate.pin('rekeyed', '{1}') AS pinned;
ALTER TABLE rekeyed DROP CONSTRAINT rekeyed_pkey, ADD PRIMARY KEY (id, ts);
SELECT expect_error($$CALL recio_migrate.prune('retention.rekeyed', 'ts', '1 day', as_of => '2024-01-01')$$);
SELECT count(*) AS rows_kept FROM rekeyed;
-- run_retention()'s check before each policy fails that policy (logged) instead of the whole run
SELECT (recio_migrate.set_retention('rekeyed', 'ts', '1 day')).relation AS policy_for;
SELECT recio_migrate.retention_run_check('retention.rekeyed', NULL) AS prune_it;
SELECT relation_name, status, error_sqlstate, error FROM recio_migrate.retention_log
WHERE relation_name = 'retention.rekeyed' ORDER BY id;
SELECT recio_migrate.drop_retention('rekeyed') AS policy_dropped;

-- privileges: the destructive objects are not for PUBLIC
SELECT p.oid::regprocedure AS object, has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_call
FROM pg_proc p WHERE p.pronamespace = 'recio_migrate'::regnamespace
  AND p.proname IN ('prune', 'prune_run', 'run_retention', 'set_retention', 'drop_retention', 'pin', 'pin_where',
                    'unpin', 'pins', 'schedule_retention', 'unschedule_retention', 'retention_settings')
ORDER BY 1::text;

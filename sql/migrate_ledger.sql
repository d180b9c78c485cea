-- migrate_ledger: what a run records about its target, what sqlite_tables()
-- counts, and the advisory lock classes runs are serialized with (0.4.0)

-- tables are counted; a view is listed without a count (counting it runs its query)
SELECT * FROM recio_migrate.sqlite_tables('settlements_srv');

-- the lock classes (README, "Migration runs"): pg_advisory_*(class, object)
SELECT p AS purpose, to_hex(recio_migrate.lock_class(p)) AS class
FROM unnest(ARRAY['migrate target', 'migrate schema', 'run_retention', 'something else']) p;

-- a run into a target that already holds rows says so and records the count
CREATE SCHEMA led_src;
IMPORT FOREIGN SCHEMA main LIMIT TO (positions) FROM SERVER positions_srv INTO led_src;
CREATE TABLE led_copy AS SELECT * FROM led_src.positions WHERE false;
SELECT status, rows_written FROM recio_migrate.migrate('led_src.positions', 'led_copy');
SELECT status, rows_written FROM recio_migrate.migrate('led_src.positions', 'led_copy');
SELECT count(*) AS target_rows FROM led_copy;
SELECT target_table, target_rows_before, rows_written, status FROM recio_migrate.runs
WHERE target_table = 'public.led_copy' ORDER BY run_id;

-- migrate_server(): NULL arguments are refused
SELECT expect_error($$SELECT * FROM recio_migrate.migrate_server('positions_srv', 'led', nowait => NULL)$$);

-- migrate_server(): the foreign tables never go into the target schema (given so, or when a 63-byte
-- target_schema cuts "_sqlite" off the default), and a target that is not a table is refused, not
-- reported "already migrated"
SELECT expect_error($$SELECT * FROM recio_migrate.migrate_server('positions_srv', 'led_src', foreign_schema => 'led_src')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.migrate_server('positions_srv', repeat('s', 63))$$);
CREATE SCHEMA led_view;
CREATE VIEW led_view.positions AS SELECT 1 AS x;
SELECT sqlite_table, target, action, run_id FROM recio_migrate.migrate_server('positions_srv', 'led_view');
DROP SCHEMA led_view, led_view_sqlite CASCADE;
-- an advisory lock for a purpose recio_migrate does not know is an error, never no lock at all
SELECT expect_error($$SELECT recio_migrate.migrate_lock('no such purpose', 1, 'x', false)$$);

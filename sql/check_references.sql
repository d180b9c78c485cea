-- check_references: references between tables that no SQLite file can declare (the REC.IO files are
-- separate files): orphan rows counted, the first keys listed in key order, NULL keys never orphans
-- (MATCH SIMPLE), the foreign key added NOT VALID while orphans exist and validated otherwise, and the
-- caller's rights checked before any lock
CREATE SCHEMA cr;
CREATE TABLE cr.trades (id bigint PRIMARY KEY, ticker text);
INSERT INTO cr.trades SELECT g, 'T' || g FROM generate_series(1, 5) g;
CREATE TABLE cr.fills (fill_id int PRIMARY KEY, trade_id bigint);
INSERT INTO cr.fills VALUES (1, 1), (2, 1), (3, 5), (4, NULL);
CREATE TABLE cr.orphaned (fill_id int PRIMARY KEY, trade_id integer);
INSERT INTO cr.orphaned VALUES (1, 1), (2, 99), (3, 42), (4, 99), (5, NULL), (6, 7);

-- no orphans: the foreign key is added and validated
SELECT * FROM recio_migrate.check_references('cr.fills', '{trade_id}', 'cr.trades', '{id}');
SELECT * FROM recio_migrate.check_references('cr.fills', '{trade_id}', 'cr.trades', '{id}', add_constraint => true);
SELECT conname, convalidated, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = 'cr.fills'::regclass AND contype = 'f';
-- called again: the same foreign key, not a second one
SELECT constraint_name FROM recio_migrate.check_references('cr.fills', '{trade_id}', 'cr.trades', '{id}', true);
SELECT count(*) AS foreign_keys FROM pg_constraint WHERE conrelid = 'cr.fills'::regclass AND contype = 'f';
-- it is enforced
SELECT expect_error($$INSERT INTO cr.fills VALUES (9, 1000)$$);

-- orphans: 4 rows (99 twice), the keys once each in key order, the NULL key not counted; the foreign key
-- stays NOT VALID (it refuses new orphans all the same)
SELECT * FROM recio_migrate.check_references('cr.orphaned', '{trade_id}', 'cr.trades', '{id}', true);
SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'cr.orphaned'::regclass AND contype = 'f';
SELECT expect_error($$INSERT INTO cr.orphaned VALUES (9, 1000)$$);
-- the orphans corrected: the next call validates that foreign key
UPDATE cr.orphaned SET trade_id = 2 WHERE trade_id > 5;
SELECT * FROM recio_migrate.check_references('cr.orphaned', '{trade_id}', 'cr.trades', '{id}', true);
SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'cr.orphaned'::regclass AND contype = 'f';

-- at most the first 100 keys are listed; all orphan rows are counted
CREATE TABLE cr.many (trade_id bigint);
INSERT INTO cr.many SELECT g FROM generate_series(1000, 1250) g;
SELECT orphan_rows, jsonb_array_length(orphan_keys) AS keys_listed, orphan_keys->0 AS first_key,
       orphan_keys->99 AS last_key, constraint_name
FROM recio_migrate.check_references('cr.many', '{trade_id}', 'cr.trades', '{id}');

-- composite keys, quoted names; a row with a NULL in any key column refers to nothing (MATCH SIMPLE)
CREATE TABLE cr."Order Lines" ("Order Id" int, line int, PRIMARY KEY ("Order Id", line));
INSERT INTO cr."Order Lines" VALUES (1, 1), (1, 2), (2, 1);
CREATE TABLE cr.line_notes (order_id int, line_no int, body text);
INSERT INTO cr.line_notes VALUES (1, 2, 'ok'), (2, 2, 'orphan'), (3, 1, 'orphan'), (NULL, 7, 'null key'),
                                 (9, NULL, 'null key'), (2, 2, 'orphan again');
SELECT * FROM recio_migrate.check_references('cr.line_notes', '{order_id,line_no}', 'cr."Order Lines"',
                                             '{Order Id,line}', true);
SELECT conname, convalidated, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = 'cr.line_notes'::regclass AND contype = 'f';

-- mistakes
SELECT expect_error($$SELECT * FROM recio_migrate.check_references('cr.fills', '{trade_id}', 'cr.trades', '{id,ticker}')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.check_references('cr.fills', '{}', 'cr.trades', '{}')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.check_references('cr.fills', '{NULL}', 'cr.trades', '{id}')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.check_references('cr.fills', '{no_such}', 'cr.trades', '{id}')$$);
-- a parent key without a unique constraint: PostgreSQL's own refusal, nothing added
SELECT expect_error($$SELECT * FROM recio_migrate.check_references('cr.fills', '{fill_id}', 'cr.trades', '{ticker}', true)$$);

-- privileges: a plain role without SELECT is refused (42501) before any lock (another session holds both
-- tables exclusively: a lock taken first would time out), a missing column the same way; with SELECT
-- it counts, and adding the constraint needs ownership of the child
CREATE ROLE cr_plain;
CREATE ROLE cr_reader;
GRANT USAGE ON SCHEMA cr TO cr_plain, cr_reader;
GRANT SELECT ON cr.orphaned, cr.trades, cr.many, cr.fills TO cr_reader;
GRANT SELECT (fill_id) ON cr.fills TO cr_plain;
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT dblink_connect('cr_locker', format('host=%s port=%s dbname=%s user=%s',
                      current_setting('unix_socket_directories'), current_setting('port'),
                      current_database(), current_user));
SELECT dblink_exec('cr_locker', 'BEGIN');
SELECT dblink_exec('cr_locker', 'LOCK TABLE cr.fills, cr.trades IN ACCESS EXCLUSIVE MODE');
SET ROLE cr_plain;
SET lock_timeout = '500ms';
SELECT expect_error($$SELECT * FROM recio_migrate.check_references('cr.fills', '{trade_id}', 'cr.trades', '{id}')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.check_references('cr.fills', '{no_such}', 'cr.trades', '{id}')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.check_references('cr.fills', '{fill_id}', 'cr.trades', '{id}')$$);
RESET ROLE;
-- a role that may read both does wait for the lock: the refusals above were not luck
SET ROLE cr_reader;
SELECT expect_error($$SELECT * FROM recio_migrate.check_references('cr.fills', '{trade_id}', 'cr.trades', '{id}')$$);
RESET lock_timeout;
RESET ROLE;
SELECT dblink_exec('cr_locker', 'ROLLBACK');
SELECT dblink_disconnect('cr_locker');
SET ROLE cr_reader;
SELECT orphan_rows, orphan_keys->0 AS first_key FROM recio_migrate.check_references('cr.many', '{trade_id}', 'cr.trades', '{id}');
SELECT expect_error($$SELECT * FROM recio_migrate.check_references('cr.many', '{trade_id}', 'cr.trades', '{id}', true)$$);
SELECT count(*) AS foreign_keys FROM pg_constraint WHERE conrelid = 'cr.many'::regclass AND contype = 'f';
RESET ROLE;

DROP SCHEMA cr CASCADE;
DROP ROLE cr_plain;
DROP ROLE cr_reader;

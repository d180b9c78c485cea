-- privilege_before_lock: checksum(), parity(), parity_diff(), profile() and
-- bloat_measure() check the caller's rights on a relation given by OID
-- before they lock it: a role that may not read a table is refused at once
-- (42501, PostgreSQL's own message, no column named), never queued behind
-- another session's lock on it
CREATE SCHEMA pbl;
CREATE TABLE pbl.secret (id int PRIMARY KEY, hidden_col text);
INSERT INTO pbl.secret VALUES (1, 'a'), (2, 'b');
CREATE TABLE pbl.open_t (id int PRIMARY KEY, hidden_col text);
INSERT INTO pbl.open_t VALUES (1, 'a'), (2, 'b');
DO $$ BEGIN
  EXECUTE format('CREATE SERVER pbl_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database %L)',
                 current_setting('recio_test.fixtures') || '/parity.db');
END $$;
CREATE FOREIGN TABLE pbl.legacy (id bigint, price float8) SERVER pbl_srv OPTIONS ("table" 'prices');
CREATE ROLE pbl_user;
GRANT USAGE ON SCHEMA pbl TO pbl_user;
GRANT SELECT ON pbl.open_t TO pbl_user;
GRANT SELECT (id) ON pbl.secret TO pbl_user;
-- a mistaken grant: bloat_measure still wants the privileges of pg_stat_scan_tables
GRANT EXECUTE ON FUNCTION recio_migrate.bloat_measure(regclass, text, bigint) TO pbl_user;

-- refused, and no column of pbl.secret is named (a missing column is refused the same way)
SET ROLE pbl_user;
SELECT expect_error($$SELECT * FROM recio_migrate.checksum('pbl.secret')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.checksum('pbl.secret', '{hidden_col}')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.checksum('pbl.secret', '{no_such_col}')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.parity('pbl.open_t', 'pbl.secret')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.parity('pbl.secret', 'pbl.open_t', '{id}', '{no_such_col}')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.parity('pbl.open_t', 'pbl.secret', '{id}', '{hidden_col}')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.parity_diff('pbl.open_t', 'pbl.secret', mode => 'checksum')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.profile('pbl.legacy')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.bloat_measure('pbl.secret')$$);
-- the columns the role may read are enough
SELECT row_count FROM recio_migrate.checksum('pbl.secret', '{id}');
SELECT source_rows, target_rows, matched, ok FROM recio_migrate.parity('pbl.open_t', 'pbl.secret', '{id}', '{id}');
RESET ROLE;

-- an OID that names no relation is a clean 42P01
SELECT expect_error($$SELECT * FROM recio_migrate.checksum(4000000000::oid::regclass)$$);
SELECT expect_error($$SELECT * FROM recio_migrate.parity('pbl.open_t', 4000000000::oid::regclass, '{id}')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.parity_diff(4000000000::oid::regclass, 'pbl.open_t', '{id}')$$);

-- another session holds every table exclusively (a foreign table cannot be
-- LOCKed: ALTER takes its AccessExclusiveLock); the refusals come at once,
-- with no lock queued (with the lock taken first they would time out)
CREATE EXTENSION dblink;
SELECT dblink_connect('locker', format('host=%s port=%s dbname=%s user=%s',
                      current_setting('unix_socket_directories'), current_setting('port'),
                      current_database(), current_user));
SELECT dblink_exec('locker', 'BEGIN');
SELECT dblink_exec('locker', 'LOCK TABLE pbl.secret, pbl.open_t IN ACCESS EXCLUSIVE MODE');
SELECT dblink_exec('locker', 'ALTER FOREIGN TABLE pbl.legacy ADD COLUMN locked int');
SELECT count(*) AS exclusive_locks_held FROM pg_locks
WHERE mode = 'AccessExclusiveLock' AND granted AND pid <> pg_backend_pid()
  AND relation IN ('pbl.secret'::regclass, 'pbl.open_t'::regclass, 'pbl.legacy'::regclass);
SET ROLE pbl_user;
SET lock_timeout = '500ms';
SELECT expect_error($$SELECT * FROM recio_migrate.checksum('pbl.secret')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.parity('pbl.open_t', 'pbl.secret')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.parity('pbl.secret', 'pbl.open_t')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.parity_diff('pbl.open_t', 'pbl.secret')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.profile('pbl.legacy')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.bloat_measure('pbl.secret')$$);
-- a table the role may read does wait for the lock: the refusals above were not luck
SELECT expect_error($$SELECT * FROM recio_migrate.checksum('pbl.open_t')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.checksum('pbl.secret', '{id}')$$);
RESET lock_timeout;
RESET ROLE;
SELECT dblink_exec('locker', 'ROLLBACK');
SELECT dblink_disconnect('locker');
DROP EXTENSION dblink;

REVOKE ALL ON FUNCTION recio_migrate.bloat_measure(regclass, text, bigint) FROM pbl_user;
DROP SCHEMA pbl CASCADE;
DROP SERVER pbl_srv CASCADE;
DROP ROLE pbl_user;

-- fdw_snapshot: one cached read-only connection per server, a SQLite read
-- transaction held for the PostgreSQL transaction, closed on ALTER/DROP SERVER
\getenv fixtures RECIO_FIXTURES
\set trades_db :fixtures '/trades.db'
\set positions_db :fixtures '/positions.db'
SELECT recio_migrate.disconnect_all() IS NOT NULL AS reset;
SELECT count(*) FROM recio_migrate.connections();
CREATE SERVER snap_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database :'trades_db');
CREATE FOREIGN TABLE snap_t (id bigint) SERVER snap_srv OPTIONS ("table" 'trades');
SELECT count(*) FROM snap_t;
-- cached, and no snapshot held between transactions
SELECT server_name, replace(database, current_setting('recio_test.fixtures'), '$FIXTURES') AS database,
       in_transaction, valid
FROM recio_migrate.connections() WHERE server_name = 'snap_srv';
BEGIN;
SELECT count(*) FROM snap_t;
-- inside the transaction the read snapshot stays open
SELECT in_transaction FROM recio_migrate.connections() WHERE server_name = 'snap_srv';
SELECT count(*) FROM snap_t WHERE id > 250;
COMMIT;
SELECT in_transaction FROM recio_migrate.connections() WHERE server_name = 'snap_srv';

-- ALTER SERVER invalidates the connection: the next query opens the new file
ALTER SERVER snap_srv OPTIONS (SET database :'positions_db');
ALTER FOREIGN TABLE snap_t OPTIONS (SET "table" 'positions');
ALTER FOREIGN TABLE snap_t RENAME COLUMN id TO position;
SELECT count(*) FROM snap_t;
SELECT replace(database, current_setting('recio_test.fixtures'), '$FIXTURES') AS database, valid
FROM recio_migrate.connections() WHERE server_name = 'snap_srv';

-- disconnect; DROP SERVER closes the connection at transaction end
SELECT recio_migrate.disconnect('snap_srv');
SELECT recio_migrate.disconnect('snap_srv');
SELECT count(*) FROM snap_t;
DROP SERVER snap_srv CASCADE;
SELECT count(*) FROM recio_migrate.connections() WHERE database LIKE '%positions.db';
SELECT expect_error($$SELECT recio_migrate.disconnect('no_such_server')$$);

-- immutable: the file is read without any locking (for snapshot copies)
CREATE SERVER imm_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database :'trades_db', immutable 'true');
CREATE FOREIGN TABLE imm_t (id bigint) SERVER imm_srv OPTIONS ("table" 'trades');
SELECT count(*), max(id) FROM imm_t;
DROP SERVER imm_srv CASCADE;

-- fdw_write: INSERT, UPDATE, DELETE, TRUNCATE through updatable recio_sqlite
-- servers, on a copy of a legacy file made here (the fixtures are never
-- written); every write is checked by reading the file with the sqlite3 CLI.
\getenv work RECIO_WORK
\! rm -rf "$RECIO_WORK/write" && mkdir -p "$RECIO_WORK/write" && chmod 777 "$RECIO_WORK/write"
\! sqlite3 "$RECIO_WORK/write/legacy.db" "CREATE TABLE trades (id INTEGER PRIMARY KEY AUTOINCREMENT, symbol TEXT UNIQUE, qty INTEGER, price REAL, opened_at TEXT, closed INTEGER, payload BLOB, meta TEXT); INSERT INTO trades (symbol, qty, price, opened_at, closed, payload, meta) VALUES ('AAPL', 10, 189.5, '2025-08-01T10:00:00', 0, x'00ff', '{\"a\": 1}'); CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID; CREATE VIEW trade_symbols AS SELECT symbol FROM trades; CREATE TABLE other (x INTEGER);"
\! chmod 666 "$RECIO_WORK/write/legacy.db"
\set legacy :work '/write/legacy.db'

-- error texts with the run's work directory masked as $WORK
CREATE FUNCTION write_error(query text) RETURNS text
LANGUAGE plpgsql SET search_path = public, pg_catalog AS $$
DECLARE st text; msg text; det text;
BEGIN
  EXECUTE query;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
  RETURN st || ': ' || replace(msg, current_setting('recio_test.work'), '$WORK')
         || CASE WHEN det <> '' THEN E'\n' || replace(det, current_setting('recio_test.work'), '$WORK') ELSE '' END;
END $$;
SELECT set_config('recio_test.work', :'work', false) IS NOT NULL AS work_set;

CREATE SERVER w_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database :'legacy', updatable 'true', busy_timeout_ms '200');
CREATE SERVER ro_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database :'legacy');
CREATE SERVER imm_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database :'legacy', immutable 'true', updatable 'true');
CREATE FOREIGN TABLE w_trades (id bigint, symbol text, qty integer, price numeric, opened_at timestamp, closed boolean,
  payload bytea, meta jsonb)
  SERVER w_srv OPTIONS ("table" 'trades');
ALTER FOREIGN TABLE w_trades ALTER COLUMN opened_at OPTIONS (format 'YYYY-MM-DD"T"HH24:MI:SS');
CREATE FOREIGN TABLE ro_trades (id bigint, symbol text) SERVER ro_srv OPTIONS ("table" 'trades');
CREATE FOREIGN TABLE imm_trades (id bigint, symbol text) SERVER imm_srv OPTIONS ("table" 'trades');

-- writes to a server without updatable, and to an immutable one, are refused with one text
SELECT write_error($$INSERT INTO ro_trades VALUES (100, 'X')$$);
SELECT write_error($$UPDATE ro_trades SET symbol = 'X'$$);
SELECT write_error($$DELETE FROM ro_trades$$);
SELECT write_error($$TRUNCATE ro_trades$$);
SELECT write_error($$INSERT INTO imm_trades VALUES (100, 'X')$$);
SELECT write_error($$DELETE FROM imm_trades$$);
-- the table option overrides the server's (both ways); an immutable server still refuses
ALTER FOREIGN TABLE imm_trades OPTIONS (ADD updatable 'true');
SELECT write_error($$DELETE FROM imm_trades$$);
SELECT relname, pg_relation_is_updatable(c.oid, false) FROM pg_class c
WHERE relname IN ('w_trades', 'ro_trades', 'imm_trades') ORDER BY relname;
-- no write connection was opened for them: only reads so far
SELECT server_name, in_transaction FROM recio_migrate.connections() ORDER BY 1, 2;
\! ls "$RECIO_WORK/write"

-- INSERT, one row, values in the legacy representation
INSERT INTO w_trades (symbol, qty, price, opened_at, closed, payload, meta)
VALUES ('MSFT', 5, 0.30000000000000004, '2025-08-01 10:30:00', true, '\x0102', '{"b": [1, 2]}');
\! sqlite3 -readonly "$RECIO_WORK/write/legacy.db" "SELECT id, symbol, qty, typeof(qty), printf('%!.17g', price), typeof(price), opened_at, closed, typeof(closed), hex(payload), typeof(payload), meta FROM trades ORDER BY id"

-- RETURNING gives the row as SQLite stored it (the rowid SQLite assigned)
INSERT INTO w_trades (symbol, qty, price, opened_at, closed)
VALUES ('GOOG', 7, 101.25, '2025-08-02 09:00:00', false) RETURNING id, symbol, price, opened_at, closed;

-- UPDATE and DELETE by rowid, with RETURNING
UPDATE w_trades SET qty = qty + 1, price = 190.25 WHERE symbol = 'AAPL' RETURNING id, qty, price;
DELETE FROM w_trades WHERE symbol = 'GOOG' RETURNING id, symbol;
UPDATE w_trades SET closed = true WHERE id = 999;
\! sqlite3 -readonly "$RECIO_WORK/write/legacy.db" "SELECT id, symbol, qty, typeof(qty), printf('%!.17g', price), typeof(price), opened_at, closed, typeof(closed), hex(payload), typeof(payload), meta FROM trades ORDER BY id"

-- ON CONFLICT DO NOTHING is SQLite's INSERT OR IGNORE; other forms are refused
INSERT INTO w_trades (symbol, qty) VALUES ('AAPL', 1), ('NVDA', 2) ON CONFLICT DO NOTHING;
SELECT write_error($$INSERT INTO w_trades (symbol, qty) VALUES ('AAPL', 1) ON CONFLICT (symbol) DO NOTHING$$);
SELECT write_error($$INSERT INTO w_trades (symbol, qty) VALUES ('AAPL', 1) ON CONFLICT (symbol) DO UPDATE SET qty = 2$$);
-- a unique violation is 23505
SELECT write_error($$INSERT INTO w_trades (symbol, qty) VALUES ('AAPL', 1)$$);
\! sqlite3 -readonly "$RECIO_WORK/write/legacy.db" "SELECT id, symbol, qty FROM trades ORDER BY id"

-- batched INSERT: batch_size rows per SQLite statement
ALTER FOREIGN TABLE w_trades OPTIONS (ADD batch_size '3');
EXPLAIN (VERBOSE, COSTS OFF) INSERT INTO w_trades (symbol, qty) SELECT 'B' || g, g FROM generate_series(1, 7) g;
SET client_min_messages = debug1;
INSERT INTO w_trades (symbol, qty) SELECT 'B' || g, g FROM generate_series(1, 7) g;
RESET client_min_messages;
\! sqlite3 -readonly "$RECIO_WORK/write/legacy.db" "SELECT count(*), min(qty), max(qty), sum(qty) FROM trades WHERE symbol LIKE 'B%'"
SELECT write_error($$ALTER FOREIGN TABLE w_trades OPTIONS (SET batch_size '0')$$);
SELECT write_error($$ALTER SERVER w_srv OPTIONS (ADD batch_size 'lots')$$);

-- a transaction: reads see its own writes; ROLLBACK leaves the file as it was
BEGIN;
INSERT INTO w_trades (symbol, qty) VALUES ('TX1', 1);
SELECT symbol, qty FROM w_trades WHERE symbol = 'TX1';
SELECT server_name, in_transaction FROM recio_migrate.connections() ORDER BY 1, 2;
ROLLBACK;
\! sqlite3 -readonly "$RECIO_WORK/write/legacy.db" "SELECT count(*) FROM trades WHERE symbol = 'TX1'"

-- later statements of a writing transaction read through its write connection: an UPDATE and a
-- DELETE find the rows it inserted, and INSERT ... SELECT from the same table reads only the rows
-- that were there when it started (each copied once)
BEGIN;
INSERT INTO w_trades (symbol, qty) VALUES ('H1', 1), ('H2', 2);
UPDATE w_trades SET qty = qty * 10 WHERE symbol LIKE 'H%';
INSERT INTO w_trades (symbol, qty) SELECT symbol || 'x', qty + 1 FROM w_trades WHERE symbol LIKE 'H%';
DELETE FROM w_trades WHERE symbol = 'H2';
SELECT symbol, qty FROM w_trades WHERE symbol LIKE 'H%' ORDER BY symbol;
COMMIT;
\! sqlite3 -readonly "$RECIO_WORK/write/legacy.db" "SELECT symbol, qty FROM trades WHERE symbol LIKE 'H%' ORDER BY symbol"

-- a failed statement inside a transaction: the transaction is rolled back, the earlier insert too
\set VERBOSITY sqlstate
BEGIN;
INSERT INTO w_trades (symbol, qty) VALUES ('TX2', 1);
INSERT INTO w_trades (symbol, qty) VALUES ('AAPL', 1);
COMMIT;
\set VERBOSITY default
\! sqlite3 -readonly "$RECIO_WORK/write/legacy.db" "SELECT count(*) FROM trades WHERE symbol = 'TX2'"

-- savepoints follow subtransactions
BEGIN;
INSERT INTO w_trades (symbol, qty) VALUES ('SP1', 1);
SAVEPOINT a;
INSERT INTO w_trades (symbol, qty) VALUES ('SP2', 2);
ROLLBACK TO SAVEPOINT a;
SAVEPOINT b;
INSERT INTO w_trades (symbol, qty) VALUES ('SP3', 3);
RELEASE SAVEPOINT b;
SAVEPOINT c;
\set VERBOSITY sqlstate
INSERT INTO w_trades (symbol, qty) VALUES ('AAPL', 4);
\set VERBOSITY default
ROLLBACK TO SAVEPOINT c;
COMMIT;
\! sqlite3 -readonly "$RECIO_WORK/write/legacy.db" "SELECT symbol, qty FROM trades WHERE symbol LIKE 'SP%' ORDER BY symbol"

-- PREPARE TRANSACTION is refused once the transaction wrote to SQLite (the write is rolled back)
BEGIN;
INSERT INTO w_trades (symbol, qty) VALUES ('PREP', 1);
\set VERBOSITY terse
PREPARE TRANSACTION 'recio_write';
\set VERBOSITY default
\! sqlite3 -readonly "$RECIO_WORK/write/legacy.db" "SELECT count(*) FROM trades WHERE symbol = 'PREP'"

-- another writer holds the lock: 55P03 after busy_timeout_ms, not a hang
\! cd "$RECIO_WORK/write" && rm -f locked released && (printf 'BEGIN IMMEDIATE;\nINSERT INTO other VALUES (1);\n.system touch locked\n'; sleep 3; printf 'COMMIT;\n.system touch released\n') | sqlite3 legacy.db >/dev/null & while [ ! -f "$RECIO_WORK/write/locked" ]; do sleep 0.1; done
SELECT write_error($$INSERT INTO w_trades (symbol, qty) VALUES ('LOCKED', 1)$$);
\! while [ ! -f "$RECIO_WORK/write/released" ]; do sleep 0.1; done; sqlite3 -readonly "$RECIO_WORK/write/legacy.db" "SELECT (SELECT count(*) FROM trades WHERE symbol = 'LOCKED'), (SELECT count(*) FROM other)"

-- a WITHOUT ROWID table: rows are named by their primary key
CREATE FOREIGN TABLE w_kv (k text, v text) SERVER w_srv OPTIONS ("table" 'kv');
INSERT INTO w_kv VALUES ('a', 'one'), ('b', 'two'), ('c', 'three');
UPDATE w_kv SET v = 'uno' WHERE k = 'a' RETURNING k, v;
UPDATE w_kv SET k = 'z' WHERE k = 'c';
DELETE FROM w_kv WHERE v = 'two' RETURNING k;
\! sqlite3 -readonly "$RECIO_WORK/write/legacy.db" "SELECT k, v FROM kv ORDER BY k"
-- the primary key must be a column of the foreign table; a SQLite view has no row identity
CREATE FOREIGN TABLE w_kv_nokey (v text) SERVER w_srv OPTIONS ("table" 'kv');
SELECT write_error($$UPDATE w_kv_nokey SET v = 'x'$$);
CREATE FOREIGN TABLE w_view (symbol text) SERVER w_srv OPTIONS ("table" 'trade_symbols');
SELECT write_error($$INSERT INTO w_view VALUES ('V')$$);
SELECT write_error($$DELETE FROM w_view$$);

-- a hostile table option is one quoted SQLite name, never SQL
CREATE FOREIGN TABLE w_hostile (x integer) SERVER w_srv OPTIONS ("table" 'other"; DROP TABLE trades; --');
SELECT write_error($$INSERT INTO w_hostile VALUES (1)$$);
SELECT write_error($$TRUNCATE w_hostile$$);
\! sqlite3 -readonly "$RECIO_WORK/write/legacy.db" "SELECT name FROM sqlite_schema ORDER BY name"

-- TRUNCATE: DELETE FROM; CONTINUE IDENTITY keeps the AUTOINCREMENT counter, RESTART IDENTITY resets it
TRUNCATE w_trades;
INSERT INTO w_trades (symbol) VALUES ('AFTER_TRUNCATE') RETURNING id > 1 AS kept_counter;
TRUNCATE w_trades RESTART IDENTITY;
INSERT INTO w_trades (symbol) VALUES ('AFTER_RESTART') RETURNING id;
\! sqlite3 -readonly "$RECIO_WORK/write/legacy.db" "SELECT id, symbol FROM trades; SELECT name, seq FROM sqlite_sequence"

-- setting updatable needs the rights of "database" plus pg_write_server_files
CREATE ROLE write_reader IN ROLE pg_read_server_files;
CREATE ROLE write_writer IN ROLE pg_read_server_files, pg_write_server_files;
GRANT USAGE ON FOREIGN DATA WRAPPER recio_sqlite TO write_reader, write_writer;
CREATE SCHEMA write_roles;
GRANT USAGE, CREATE ON SCHEMA write_roles TO write_reader, write_writer;
SET search_path = write_roles, public;
SET ROLE write_reader;
CREATE SERVER wr_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database :'legacy');
SELECT write_error($$ALTER SERVER wr_srv OPTIONS (ADD updatable 'true')$$);
SELECT write_error($$CREATE SERVER wr2_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '/x.db', updatable 'true')$$);
CREATE FOREIGN TABLE wr_trades (id bigint, symbol text) SERVER wr_srv OPTIONS ("table" 'trades');
SELECT write_error($$ALTER FOREIGN TABLE write_roles.wr_trades OPTIONS (ADD updatable 'true')$$);
SELECT write_error($$INSERT INTO write_roles.wr_trades (symbol) VALUES ('R')$$);
RESET ROLE;
SET ROLE write_writer;
CREATE SERVER ww_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database :'legacy', updatable 'true');
CREATE FOREIGN TABLE ww_trades (id bigint, symbol text) SERVER ww_srv OPTIONS ("table" 'trades');
INSERT INTO ww_trades (symbol) VALUES ('BY_WRITER');
-- the table option alone makes a table of a read-only server writable
CREATE SERVER ww_ro_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database :'legacy');
CREATE FOREIGN TABLE ww_table_rw (id bigint, symbol text) SERVER ww_ro_srv OPTIONS ("table" 'trades', updatable 'true');
INSERT INTO ww_table_rw (symbol) VALUES ('BY_TABLE_OPTION');
RESET ROLE;
RESET search_path;
\! sqlite3 -readonly "$RECIO_WORK/write/legacy.db" "SELECT symbol FROM trades ORDER BY id"

DROP SERVER ww_srv CASCADE;
DROP SERVER ww_ro_srv CASCADE;
DROP SERVER wr_srv CASCADE;
DROP SCHEMA write_roles;
REVOKE USAGE ON FOREIGN DATA WRAPPER recio_sqlite FROM write_reader, write_writer;
DROP ROLE write_reader;
DROP ROLE write_writer;
DROP SERVER w_srv CASCADE;
DROP SERVER ro_srv CASCADE;
DROP SERVER imm_srv CASCADE;

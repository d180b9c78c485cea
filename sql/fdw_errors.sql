-- fdw_errors: hostile files and bad values end in clear errors, never a crash
\getenv fixtures RECIO_FIXTURES
SELECT create_servers(ARRAY['missing', 'not_sqlite', 'truncated', 'corrupt']);
CREATE SERVER dir_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '/');
CREATE FOREIGN TABLE missing_t (id bigint) SERVER missing_srv OPTIONS ("table" 'price_log');
CREATE FOREIGN TABLE not_sqlite_t (id bigint) SERVER not_sqlite_srv OPTIONS ("table" 'price_log');
CREATE FOREIGN TABLE truncated_t (id bigint, price float8) SERVER truncated_srv OPTIONS ("table" 'price_log');
CREATE FOREIGN TABLE corrupt_t (id bigint, price float8) SERVER corrupt_srv OPTIONS ("table" 'price_log');
CREATE FOREIGN TABLE dir_t (id bigint) SERVER dir_srv;
SELECT expect_error('SELECT * FROM missing_t');
SELECT expect_error('SELECT * FROM not_sqlite_t');
SELECT expect_error('SELECT sum(price) FROM truncated_t');
SELECT expect_error('SELECT sum(price) FROM corrupt_t');
SELECT expect_error('SELECT * FROM dir_t');
-- a damaged sqlite_stat1 (NULL stat) falls back to count(*) for estimates
SELECT create_servers(ARRAY['stat_null']);
CREATE FOREIGN TABLE stat_null_t (id bigint, v text) SERVER stat_null_srv OPTIONS ("table" 't');
SELECT explain_rows('SELECT * FROM stat_null_t');
SELECT count(*) FROM stat_null_t;
DROP SERVER stat_null_srv CASCADE;
-- a missing file is never created
SELECT count(*) AS created FROM pg_ls_dir(current_setting('recio_test.fixtures')) f WHERE f = 'missing.db';

-- a bad value names the table, column, SQLite row and the value
CREATE FOREIGN TABLE trades_strict (id bigint, fees bigint, ticket_id bigint) SERVER trades_srv OPTIONS ("table" 'trades');
SELECT expect_error('SELECT sum(fees) FROM trades_strict');
SELECT expect_error('SELECT count(ticket_id) FROM trades_strict WHERE id = 1');
CREATE FOREIGN TABLE orders_strict (order_id text, yes_price int2, created_time int8) SERVER orders_srv OPTIONS ("table" 'orders');
SELECT expect_error('SELECT max(created_time) FROM orders_strict');
CREATE FOREIGN TABLE slow_view (x bigint) SERVER types_srv OPTIONS ("table" 'slow_sorted');
CREATE FOREIGN TABLE long_text (id bigint, v int) SERVER types_srv OPTIONS ("table" 'vals');
SELECT expect_error('SELECT v FROM long_text WHERE id = 64');
SELECT expect_error('SELECT v FROM long_text WHERE id = 41');

-- on_error 'null': the value becomes NULL, one NOTICE at the end of the scan
CREATE FOREIGN TABLE trades_null (id bigint, fees bigint OPTIONS (on_error 'null')) SERVER trades_srv OPTIONS ("table" 'trades');
SELECT count(*) AS rows, count(fees) AS fees_kept FROM trades_null;
-- on_error 'ignore' (table option): the whole row is skipped
CREATE FOREIGN TABLE trades_ignore (id bigint, fees bigint) SERVER trades_srv OPTIONS ("table" 'trades', on_error 'ignore');
SELECT count(*) AS rows_kept, sum(fees) FROM trades_ignore;
-- a column option overrides the table option
ALTER FOREIGN TABLE trades_ignore ALTER COLUMN fees OPTIONS (ADD on_error 'stop');
SELECT expect_error('SELECT count(fees) FROM trades_ignore');
-- the active_trades price column holds one 'n/a'
CREATE FOREIGN TABLE active_prices (id bigint, price float8 OPTIONS (on_error 'null')) SERVER active_trades_srv OPTIONS ("table" 'active_trades');
SELECT id, price FROM active_prices WHERE price IS NULL;

-- cancel: a long SQLite-side sort stops at statement_timeout
SET statement_timeout = '300ms';
-- (query_canceled cannot be trapped by a handler, so the ERROR shows here)
SELECT x FROM slow_view LIMIT 1;
RESET statement_timeout;
-- and the connection is usable afterwards
SELECT count(*) FROM notes;

-- errors inside a subtransaction leave the connection usable
BEGIN;
SELECT expect_error('SELECT sum(fees) FROM trades_strict');
SELECT count(*) FROM trades_null WHERE id < 10;
COMMIT;
DROP SERVER missing_srv, not_sqlite_srv, truncated_srv, corrupt_srv, dir_srv CASCADE;

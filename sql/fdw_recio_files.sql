-- fdw_recio_files: the seven REC.IO legacy files, imported and moved with
-- INSERT ... SELECT into well-typed PostgreSQL tables
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
CREATE SCHEMA legacy;
IMPORT FOREIGN SCHEMA main FROM SERVER trades_srv INTO legacy;
IMPORT FOREIGN SCHEMA main FROM SERVER active_trades_srv INTO legacy;
IMPORT FOREIGN SCHEMA main FROM SERVER btc_price_history_srv INTO legacy;
IMPORT FOREIGN SCHEMA main FROM SERVER fills_srv INTO legacy;
IMPORT FOREIGN SCHEMA main FROM SERVER orders_srv INTO legacy;
IMPORT FOREIGN SCHEMA main FROM SERVER settlements_srv INTO legacy;
IMPORT FOREIGN SCHEMA main FROM SERVER positions_srv INTO legacy;
SELECT relname FROM pg_class WHERE relnamespace = 'legacy'::regnamespace ORDER BY 1;

-- declared types lie: trades.fees and pnl are INTEGER holding REAL, ticket_id INTEGER holding text
SELECT expect_error('SELECT sum(fees) FROM legacy.trades');
ALTER FOREIGN TABLE legacy.trades ALTER COLUMN fees TYPE numeric(10,2), ALTER COLUMN pnl TYPE numeric(12,2),
  ALTER COLUMN ticket_id TYPE text;

CREATE SCHEMA migrated;
CREATE TABLE migrated.trades (LIKE legacy.trades);
ALTER TABLE migrated.trades ALTER COLUMN buy_price TYPE numeric(10,2), ALTER COLUMN sell_price TYPE numeric(10,2),
  ADD PRIMARY KEY (id);
INSERT INTO migrated.trades SELECT * FROM legacy.trades;
SELECT count(*), sum(fees) AS fees, sum(pnl) AS pnl, sum(buy_price) AS buy FROM migrated.trades;
SELECT id, buy_price, ticket_id, notes FROM migrated.trades WHERE id IN (1, 7, 8, 21, 22, 50) ORDER BY id;

-- active_trades: the same trade_id four times, a TEXT 'n/a' in the REAL price column
ALTER FOREIGN TABLE legacy.active_trades ALTER COLUMN price OPTIONS (ADD on_error 'null');
CREATE TABLE migrated.active_trades AS SELECT * FROM legacy.active_trades;
SELECT trade_id, count(*) FROM migrated.active_trades GROUP BY trade_id HAVING count(*) > 1;
SELECT count(*), count(price), min(last_updated), max(last_updated) FROM migrated.active_trades;

-- price_log: naive local text times read as America/New_York
ALTER FOREIGN TABLE legacy.price_log ALTER COLUMN "timestamp" TYPE timestamptz,
  ALTER COLUMN "timestamp" OPTIONS (ADD timezone 'America/New_York'),
  ALTER COLUMN price TYPE numeric(12,2);
CREATE TABLE migrated.price_log (id bigint PRIMARY KEY, ts timestamptz NOT NULL, price numeric(12,2),
                                 volume double precision, momentum double precision);
INSERT INTO migrated.price_log SELECT * FROM legacy.price_log;
SELECT count(*), min(ts), max(ts), sum(price) FROM migrated.price_log;

-- fills: exchange times with 1-6 fraction digits and Z, epoch ms, JSON, 1/0 booleans
ALTER FOREIGN TABLE legacy.fills ALTER COLUMN created_time TYPE timestamptz,
  ALTER COLUMN ts TYPE timestamptz, ALTER COLUMN ts OPTIONS (ADD epoch_unit 'ms'),
  ALTER COLUMN raw_json TYPE jsonb, ALTER COLUMN is_taker TYPE boolean, ALTER COLUMN fill_id TYPE uuid;
CREATE TABLE migrated.fills AS SELECT * FROM legacy.fills;
SELECT count(*), min(created_time), max(created_time), count(*) FILTER (WHERE is_taker) AS takers,
       count(*) FILTER (WHERE raw_json ? 'fill_id') AS with_fill_id FROM migrated.fills;
SELECT count(*) AS ts_matches_created FROM migrated.fills WHERE ts = created_time;

-- orders (WITHOUT ROWID), settlements (and a view), positions
CREATE TABLE migrated.orders AS SELECT * FROM legacy.orders;
CREATE TABLE migrated.settlements AS SELECT * FROM legacy.settlements;
CREATE TABLE migrated.positions AS SELECT * FROM legacy.positions;
-- a view's computed columns have no declared type, so they import as bytea: say what they hold
SELECT * FROM legacy.settlements_by_result ORDER BY market_result;
ALTER FOREIGN TABLE legacy.settlements_by_result ALTER COLUMN n TYPE bigint, ALTER COLUMN revenue TYPE bigint;
SELECT * FROM legacy.settlements_by_result ORDER BY market_result;

-- row counts: every migrated table equals its legacy source
SELECT 'trades' AS t, (SELECT count(*) FROM legacy.trades) AS legacy, (SELECT count(*) FROM migrated.trades) AS migrated
UNION ALL SELECT 'active_trades', (SELECT count(*) FROM legacy.active_trades), (SELECT count(*) FROM migrated.active_trades)
UNION ALL SELECT 'price_log', (SELECT count(*) FROM legacy.price_log), (SELECT count(*) FROM migrated.price_log)
UNION ALL SELECT 'fills', (SELECT count(*) FROM legacy.fills), (SELECT count(*) FROM migrated.fills)
UNION ALL SELECT 'orders', (SELECT count(*) FROM legacy.orders), (SELECT count(*) FROM migrated.orders)
UNION ALL SELECT 'settlements', (SELECT count(*) FROM legacy.settlements), (SELECT count(*) FROM migrated.settlements)
UNION ALL SELECT 'positions', (SELECT count(*) FROM legacy.positions), (SELECT count(*) FROM migrated.positions);

-- parity: parity() and parity_diff() report exactly the rows in which a
-- migrated table differs from its legacy source, in both modes
-- its own schemas and server (parity_checksum uses parity.db too)
CREATE SCHEMA pty;
CREATE SCHEMA pty_legacy;
SET search_path = pty, public;
DO $$ BEGIN
  EXECUTE format('CREATE SERVER pty_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database %L)',
                 current_setting('recio_test.fixtures') || '/parity.db');
END $$;
IMPORT FOREIGN SCHEMA main LIMIT TO (prices, symbols) FROM SERVER pty_srv INTO pty_legacy;
-- the legacy table, read with the types the migrated copy has
CREATE FOREIGN TABLE legacy_prices (id bigint, ts timestamptz, price float8, qty bigint, note text)
  SERVER pty_srv OPTIONS ("table" 'prices');
CREATE TABLE prices (id bigint PRIMARY KEY, ts timestamptz NOT NULL, price numeric(12,5), qty integer, note text);
INSERT INTO prices SELECT * FROM legacy_prices;

-- equal data across types: everything matches in both modes, and the
-- checksums are those of checksum()
SELECT * FROM recio_migrate.parity('legacy_prices', 'prices');
SELECT * FROM recio_migrate.parity('legacy_prices', 'prices', mode => 'checksum');
SELECT p.source_checksum = s.checksum AND p.target_checksum = t.checksum AS checksums_agree
FROM recio_migrate.parity('legacy_prices', 'prices') p,
     recio_migrate.checksum('legacy_prices') s, recio_migrate.checksum('prices') t;
SELECT count(*) AS diff_rows FROM recio_migrate.parity_diff('legacy_prices', 'prices');
-- the merge reads the legacy side in key order from SQLite
EXPLAIN (VERBOSE, COSTS OFF) SELECT id, ts FROM legacy_prices ORDER BY id NULLS LAST;
EXPLAIN (VERBOSE, COSTS OFF) SELECT symbol FROM pty_legacy.symbols ORDER BY symbol COLLATE "C" NULLS LAST;

-- the known differences: 3 rows deleted, 1 extra row, 2 values changed, a
-- price moved by 0.00005, a timestamp shifted by an hour, a NULL turned into ''
DELETE FROM prices WHERE id IN (17, 4242, 19999);
INSERT INTO prices VALUES (20001, '2024-02-01 00:00:00+00', 1.5, 1, 'extra');
UPDATE prices SET qty = qty + 1 WHERE id = 100;
UPDATE prices SET note = 'changed' WHERE id = 7001;
UPDATE prices SET price = price + 0.00005 WHERE id = 12345;
UPDATE prices SET ts = ts + interval '1 hour' WHERE id = 15000;
UPDATE prices SET note = '' WHERE id = 500;
SELECT source_rows, target_rows, matched, missing, extra, mismatched, source_checksum <> target_checksum AS differ, ok
FROM recio_migrate.parity('legacy_prices', 'prices');
SELECT source_rows, target_rows, matched, missing, extra, mismatched, source_checksum <> target_checksum AS differ, ok
FROM recio_migrate.parity('legacy_prices', 'prices', mode => 'checksum');
SET TimeZone = 'UTC';
SELECT * FROM recio_migrate.parity_diff('legacy_prices', 'prices');
SELECT * FROM recio_migrate.parity_diff('legacy_prices', 'prices', mode => 'checksum');
-- the NULL and the '' are told apart
SELECT key, source_value IS NULL AS source_is_null, target_value = '' AS target_is_empty
FROM recio_migrate.parity_diff('legacy_prices', 'prices') WHERE key = '{"id": 500}';
-- both modes agree row for row
CREATE VIEW diff_between_modes AS
  (SELECT * FROM recio_migrate.parity_diff('legacy_prices', 'prices')
   EXCEPT ALL SELECT * FROM recio_migrate.parity_diff('legacy_prices', 'prices', mode => 'checksum'))
  UNION ALL
  (SELECT * FROM recio_migrate.parity_diff('legacy_prices', 'prices', mode => 'checksum')
   EXCEPT ALL SELECT * FROM recio_migrate.parity_diff('legacy_prices', 'prices'));
SELECT count(*) AS rows_only_in_one_mode FROM diff_between_modes;

-- narrowing deeper (ranges are split until at most 100 rows per side are left to merge) finds the same rows
SET recio_migrate.parity_range_rows = 100;
SELECT source_rows, target_rows, matched, missing, extra, mismatched, ok
FROM recio_migrate.parity('legacy_prices', 'prices', mode => 'checksum');
SELECT count(*) AS rows_only_in_one_mode FROM diff_between_modes;
SELECT matched, mismatched FROM recio_migrate.parity('legacy_prices', 'prices', tolerance => '0.0001', mode => 'checksum');
RESET recio_migrate.parity_range_rows;

-- what a range checksum cannot see must still be found: a difference larger than the
-- tolerance but inside one tolerance bucket, values swapped between keys when the key
-- is not a compared column, and duplicate keys that are the same on both sides
SELECT mode, matched, mismatched FROM unnest(ARRAY['rows', 'checksum']) mode,
  LATERAL recio_migrate.parity('legacy_prices', 'prices', tolerance => '{"price": 0.00003}', mode => mode);
CREATE TABLE prices_swapped AS SELECT * FROM prices;
UPDATE prices_swapped s SET price = o.price FROM prices o WHERE (s.id, o.id) IN ((1000, 1001), (1001, 1000));
SELECT mode, matched, mismatched FROM unnest(ARRAY['rows', 'checksum']) mode,
  LATERAL recio_migrate.parity('prices', 'prices_swapped', '{id}', '{price}', mode => mode);
CREATE TABLE dup_a (id int, v text);
INSERT INTO dup_a VALUES (1, 'x'), (1, 'x'), (2, 'y');
CREATE TABLE dup_b AS SELECT * FROM dup_a;
SELECT mode, matched, missing, extra, mismatched, ok FROM unnest(ARRAY['rows', 'checksum']) mode,
  LATERAL recio_migrate.parity('dup_a', 'dup_b', '{id}', mode => mode);
SELECT * FROM recio_migrate.parity_diff('dup_a', 'dup_b', '{id}', mode => 'checksum');

-- within a tolerance of 0.0001 the moved price matches (per column or for all numbers)
SELECT matched, mismatched, ok FROM recio_migrate.parity('legacy_prices', 'prices', tolerance => '{"price": 0.0001}');
SELECT matched, mismatched, ok FROM recio_migrate.parity('legacy_prices', 'prices', tolerance => '0.0001', mode => 'checksum');
SELECT count(*) FILTER (WHERE column_name = 'price') AS price_diffs, count(*) AS all_diffs
FROM recio_migrate.parity_diff('legacy_prices', 'prices', tolerance => '{"price": 0.0001}');
-- but not within 0.00001
SELECT mismatched FROM recio_migrate.parity('legacy_prices', 'prices', tolerance => '{"price": 0.00001}');

-- a column subset: the differences in other columns do not count
SELECT matched, missing, extra, mismatched FROM recio_migrate.parity('legacy_prices', 'prices', columns => '{id,price}');
-- max_rows bounds the diff
SELECT count(*) FROM recio_migrate.parity_diff('legacy_prices', 'prices', max_rows => 3);
SELECT count(*) FROM recio_migrate.parity_diff('legacy_prices', 'prices', max_rows => 3, mode => 'checksum');

-- row order and VACUUM FULL of the target change nothing
CREATE TABLE prices_shuffled (LIKE prices INCLUDING ALL);
INSERT INTO prices_shuffled SELECT * FROM prices ORDER BY md5(id::text);
VACUUM FULL prices;
SELECT a.source_checksum = b.source_checksum AND a.target_checksum = b.target_checksum AS same_checksums,
       (a.matched, a.missing, a.extra, a.mismatched) = (b.matched, b.missing, b.extra, b.mismatched) AS same_counts
FROM recio_migrate.parity('legacy_prices', 'prices') a, recio_migrate.parity('legacy_prices', 'prices_shuffled') b;

-- duplicate keys are reported, not merged: the legacy active_trades has trade_id 486 four times
-- (active_trades_srv is setup's)
CREATE FOREIGN TABLE legacy_active (id bigint, trade_id bigint, side text, quantity bigint)
  SERVER active_trades_srv OPTIONS ("table" 'active_trades');
CREATE TABLE active (trade_id bigint PRIMARY KEY, side text, quantity bigint);
INSERT INTO active SELECT DISTINCT ON (trade_id) trade_id, side, quantity FROM legacy_active ORDER BY trade_id, id;
SELECT source_rows, target_rows, matched, missing, extra, mismatched, ok
FROM recio_migrate.parity('legacy_active', 'active', columns => '{trade_id,side,quantity}');
SELECT source_rows, target_rows, matched, missing, extra, mismatched, ok
FROM recio_migrate.parity('legacy_active', 'active', columns => '{trade_id,side,quantity}', mode => 'checksum');
SELECT * FROM recio_migrate.parity_diff('legacy_active', 'active', columns => '{trade_id,side,quantity}');
-- the same on the target side
ALTER TABLE active DROP CONSTRAINT active_pkey;
INSERT INTO active SELECT * FROM active WHERE trade_id = 470;
SELECT * FROM recio_migrate.parity_diff('legacy_active', 'active', '{trade_id}', '{trade_id,side,quantity}')
WHERE key = '{"trade_id": 470}';

-- a text key is merged in byte order (COLLATE "C", pushed to SQLite)
CREATE TABLE symbols AS SELECT * FROM pty_legacy.symbols;
ALTER TABLE symbols ADD PRIMARY KEY (symbol);
UPDATE symbols SET name = 'Bitcoin!' WHERE symbol = 'BTC';
DELETE FROM symbols WHERE symbol = 'ÄRG';
SELECT * FROM recio_migrate.parity_diff('pty_legacy.symbols', 'symbols');
-- checksum mode narrows ranges of integer keys only; other keys are merged
SELECT matched, missing, mismatched FROM recio_migrate.parity('pty_legacy.symbols', 'symbols', mode => 'checksum');

-- parity_all: every foreign table of a server against the same-named tables
CREATE SCHEMA pty_migrated;
CREATE TABLE pty_migrated.prices AS SELECT * FROM pty_legacy.prices;
ALTER TABLE pty_migrated.prices ADD PRIMARY KEY (id);
CREATE TABLE pty_migrated.symbols AS SELECT * FROM pty_legacy.symbols;
SELECT run_id > 0 AS has_run, server, source_table, target_table, mode, source_rows, target_rows, matched, missing,
       extra, mismatched, ok, error, seconds >= 0 AS timed
FROM recio_migrate.parity_all('pty_srv', 'pty_migrated');
UPDATE pty_migrated.prices SET qty = 0 WHERE id = 3;
SELECT source_table, mismatched, ok, error FROM recio_migrate.parity_all('pty_srv', 'pty_migrated', 'rows');
SELECT run_id, source_table, ok FROM recio_migrate.parity_results ORDER BY run_id, source_table;
SELECT expect_error($$SELECT * FROM recio_migrate.parity_all('no_such_srv', 'pty_migrated')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.parity_all('pty_srv', 'no_such_schema')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.parity_all('pty_srv', NULL)$$);
SELECT has_function_privilege('public', 'recio_migrate.parity_all(name, name, text, jsonb)', 'EXECUTE') AS public_may_run_parity_all;

-- bad arguments
SELECT expect_error($$SELECT * FROM recio_migrate.parity('pty.legacy_prices', 'pty.prices', mode => 'fast')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.parity('pty.legacy_prices', 'pty.prices', mode => NULL)$$);
SELECT expect_error($$SELECT * FROM recio_migrate.parity(NULL, 'pty.prices')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.parity('pty.legacy_prices', 'pty_legacy.prices')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.parity('pty.legacy_prices', 'pty.prices', '{nope}')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.parity('pty.legacy_prices', 'pty.prices', '{id,id}')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.parity('pty.legacy_prices', 'pty.prices', '{}')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.parity('pty.legacy_prices', 'pty.prices', '{price}')$$);
-- no error for the default-imported table (text timestamps): it is read in
-- the target's types, and agrees with the table declared with them
-- (parity_types tests this in depth)
SELECT source_rows, target_rows, matched, missing, extra, mismatched, ok
FROM recio_migrate.parity('pty_legacy.prices', 'pty.prices');
SELECT (SELECT row(p.*) FROM recio_migrate.parity('pty_legacy.prices', 'pty.prices') p)
     = (SELECT row(p.*) FROM recio_migrate.parity('pty.legacy_prices', 'pty.prices') p) AS same_as_declared;
SELECT expect_error($$SELECT * FROM recio_migrate.parity('pty.legacy_prices', 'pty.prices', tolerance => '{"note": 1}')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.parity_diff('pty.legacy_prices', 'pty.prices', max_rows => 0)$$);
SELECT expect_error($$SELECT * FROM recio_migrate.parity('pty.legacy_prices', 'pty.symbols')$$);

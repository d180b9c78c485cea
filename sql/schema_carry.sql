-- schema_carry: what a migrated target carries of its SQLite schema (issue #11): migrate_server() over
-- schema.db (test/fixtures/schema.sql, every construct) builds the keys and indexes after the load, the
-- file's foreign keys after every table and its views last; every object ends in schema_notes; then the
-- application's writes behave as they did on SQLite (next id, defaults, refusals with their SQLSTATEs)
DO $$ BEGIN
  EXECUTE format('CREATE SERVER sc_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database %L)',
                 current_setting('recio_test.fixtures') || '/schema.db');
END $$;
SELECT sqlite_table, target, action, sqlite_rows, target_rows, rows_rejected, counts_match, schema_skipped
FROM recio_migrate.migrate_server('sc_srv', 'app') ORDER BY sqlite_table COLLATE "C";

-- every object of the SQLite schema, noted (run_id: the run of its table)
SELECT n.target, n.phase, n.object_kind, n.object_name, n.action, n.reason, r.sqlite_table AS run_of
FROM recio_migrate.schema_notes n LEFT JOIN recio_migrate.runs r USING (run_id)
WHERE n.target LIKE 'app.%' ORDER BY n.note_id;

-- the PostgreSQL objects, from the catalog
SELECT a.attrelid::regclass AS target, a.attname, a.attidentity, a.attnotnull
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = 'app'::regnamespace AND a.attidentity <> '' ORDER BY 1::text, 2;
SELECT d.adrelid::regclass AS target, a.attname, pg_get_expr(d.adbin, d.adrelid) AS default_expr
FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
JOIN pg_class c ON c.oid = d.adrelid
WHERE c.relnamespace = 'app'::regnamespace ORDER BY 1::text, a.attnum;
SELECT conrelid::regclass AS target, conname, contype, convalidated, pg_get_constraintdef(oid) AS definition
FROM pg_constraint WHERE connamespace = 'app'::regnamespace ORDER BY 1::text, 2;
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) AS definition
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
WHERE c.relnamespace = 'app'::regnamespace ORDER BY 1::text;
SELECT a.attrelid::regclass AS target, a.attname, a.attcollation::regcollation AS collation
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = 'app'::regnamespace AND c.relkind = 'r' AND a.attnum > 0
  AND a.attcollation NOT IN (0, 'default'::regcollation) ORDER BY 1::text, 2;
SELECT c.relname AS view, pg_get_viewdef(c.oid) AS definition
FROM pg_class c WHERE c.relnamespace = 'app'::regnamespace AND c.relkind = 'v' ORDER BY 1;
-- views are imported as foreign tables too (they are readable)
SELECT c.relname AS foreign_table FROM pg_class c
WHERE c.relnamespace = 'app_sqlite'::regnamespace AND c.relkind = 'f' ORDER BY 1 COLLATE "C";

-- the application afterwards.  An insert without id: greatest(max(id), sqlite_sequence) + 1 (accounts:
-- AUTOINCREMENT, sqlite_sequence 7 ahead of max(id) 3) and max(id) + 1 (trades: no AUTOINCREMENT)
INSERT INTO app.accounts (email, handle) VALUES ('dee@example.com', 'dee')
RETURNING id, currency, venue, balance, active, vip, score, ratio, note, quote, raw, token IS NULL AS no_token;
INSERT INTO app.trades (account_id, ticker, qty) VALUES (1, 'BTC-26JAN', 1) RETURNING id, status, entry_method;
-- the defaults of the clock write the text SQLite would (CURRENT_TIMESTAMP: UTC, 'YYYY-MM-DD HH:MM:SS')
SELECT created_at ~ '^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$' AS timestamp_text,
       abs(extract(epoch FROM created_at::timestamp - (now() AT TIME ZONE 'UTC'))) < 300 AS utc_now,
       created_on ~ '^\d{4}-\d\d-\d\d$' AS date_text, created_time ~ '^\d\d:\d\d:\d\d$' AS time_text,
       updated_at ~ '^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$' AS datetime_now, day ~ '^\d{4}-\d\d-\d\d$' AS date_now,
       stamp ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$' AS strftime_now
FROM app.accounts WHERE email = 'dee@example.com';
SELECT ts ~ '^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$' AS trade_ts_text FROM app.trades WHERE ticker = 'BTC-26JAN';
-- refused as SQLite refused them: a duplicate (also one differing in case on the NOCASE column), an orphan,
-- a CHECK violation
SELECT expect_error($$INSERT INTO app.accounts (email, handle) VALUES ('eve@example.com', 'ann')$$);
SELECT expect_error($$INSERT INTO app.accounts (email) VALUES ('ANN@Example.COM')$$);
SELECT expect_error($$INSERT INTO app.trades (account_id, ticker, qty) VALUES (999, 'BTC-X', 1)$$);
SELECT expect_error($$INSERT INTO app.trades (account_id, ticker, qty) VALUES (1, 'BTC-X', 0)$$);
SELECT expect_error($$INSERT INTO app.accounts (email, currency) VALUES ('fay@example.com', 'EUR')$$);
-- the foreign key with orphans stays NOT VALID, the orphans reported; it still refuses a new orphan
SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'app.fills'::regclass AND contype = 'f';
SELECT object_name, reason FROM recio_migrate.schema_notes
WHERE target = 'app.fills' AND object_kind ILIKE '%foreign%' ORDER BY note_id;
SELECT expect_error($$INSERT INTO app.fills (fill_id, trade_id) VALUES (9, 98)$$);
SELECT * FROM recio_migrate.check_references('app.fills', '{trade_id}', 'app.trades', '{id}');
-- the view that translates returns the rows of its foreign table (before the inserts above: compare the
-- SQLite rows that are in both)
SELECT count(*) AS view_rows,
       (SELECT count(*) FROM app_sqlite.open_trades) AS foreign_rows,
       (SELECT count(*) FROM (SELECT id, ticker, qty, email FROM app_sqlite.open_trades
                              EXCEPT SELECT id, ticker, qty, email FROM app.open_trades) d) AS missing
FROM app.open_trades WHERE ticker <> 'BTC-26JAN';

-- the identity only ever moves forward: a later run (here the call migrate() makes) never moves it back
SELECT recio_migrate.identity_forward('app_sqlite.accounts', 'app.accounts') AS next_id;
SELECT recio_migrate.identity_forward('app_sqlite.audit', 'app.audit') AS next_id;

-- a re-run migrates nothing again and carries nothing twice
SELECT sqlite_table, action, schema_skipped FROM recio_migrate.migrate_server('sc_srv', 'app')
ORDER BY sqlite_table COLLATE "C";
SELECT count(*) AS notes FROM recio_migrate.schema_notes WHERE target LIKE 'app.%';

-- create_target() alone: the create phase with it (a dry run cannot: the plan needs the table)
SELECT recio_migrate.create_target('app_sqlite.accounts', 'public.sc_accounts');
SELECT attname, attidentity FROM pg_attribute WHERE attrelid = 'public.sc_accounts'::regclass AND attidentity <> '';

-- the REC.IO files: an application-style insert into trades without id takes the legacy defaults, the price
-- history keeps its timestamp index (the latest-price poll reads it), and parity holds
SELECT sqlite_table, action, counts_match, schema_skipped FROM recio_migrate.migrate_server('trades_srv', 'cut');
SELECT sqlite_table, action, counts_match, schema_skipped FROM recio_migrate.migrate_server('btc_price_history_srv', 'cut');
SELECT sqlite_table, action, counts_match, schema_skipped FROM recio_migrate.migrate_server('active_trades_srv', 'cut');
INSERT INTO cut.trades (date, time, strike, side, buy_price, position, ticker)
VALUES ('2025-07-20', '10:00:00', '$118,500', 'yes', 0.55, 2, 'KXBTCD-25JUL2011-T118499.99')
RETURNING id, status, entry_method;
INSERT INTO cut.active_trades (trade_id, side, quantity, price) VALUES (501, 'yes', 2, 0.55)
RETURNING id, symbol, last_updated IS NOT NULL AS stamped;
SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'cut.price_log'::regclass ORDER BY 1;
ANALYZE cut.price_log;
EXPLAIN (COSTS OFF) SELECT price FROM cut.price_log ORDER BY timestamp DESC LIMIT 1;
DELETE FROM cut.trades WHERE date = '2025-07-20';
DELETE FROM cut.active_trades WHERE trade_id = 501;
SELECT source_table, ok FROM recio_migrate.parity_all('trades_srv', 'cut');
SELECT source_table, ok FROM recio_migrate.parity_all('btc_price_history_srv', 'cut');
SELECT source_table, ok FROM recio_migrate.parity_all('active_trades_srv', 'cut');

-- schema_carry: what a migrated target carries of its SQLite schema (issue #11): migrate_server() over
-- schema.db (test/fixtures/schema.sql, every construct) builds the keys and indexes after the load, the
-- file's foreign keys after every table and its views last; every object ends in schema_notes; then the
-- application's writes behave as they did on SQLite (next id, defaults, refusals with their SQLSTATEs)
DO $$ BEGIN
  EXECUTE format('CREATE SERVER sc_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database %L)',
                 current_setting('recio_test.fixtures') || '/schema.db');
END $$;
SELECT sqlite_table, target, action, sqlite_rows, target_rows, rows_rejected, counts_match, schema_skipped
FROM recio_migrate.migrate_server('sc_srv', 'sc_app') ORDER BY sqlite_table COLLATE "C";

-- every object of the SQLite schema, noted (run_id: the run of its table)
SELECT n.target, n.phase, n.object_kind, n.object_name, n.action, n.reason, r.sqlite_table AS run_of
FROM recio_migrate.schema_notes n LEFT JOIN recio_migrate.runs r USING (run_id)
WHERE n.target LIKE 'sc_app.%' ORDER BY n.note_id;

-- the PostgreSQL objects, from the catalog
SELECT a.attrelid::regclass AS target, a.attname, a.attidentity, a.attnotnull
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = 'sc_app'::regnamespace AND a.attidentity <> '' ORDER BY a.attrelid::regclass::text, 2;
SELECT d.adrelid::regclass AS target, a.attname, pg_get_expr(d.adbin, d.adrelid) AS default_expr
FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
JOIN pg_class c ON c.oid = d.adrelid
WHERE c.relnamespace = 'sc_app'::regnamespace ORDER BY d.adrelid::regclass::text, a.attnum;
SELECT conrelid::regclass AS target, conname, contype, convalidated, pg_get_constraintdef(oid) AS definition
FROM pg_constraint WHERE connamespace = 'sc_app'::regnamespace ORDER BY conrelid::regclass::text, 2;
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) AS definition
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
WHERE c.relnamespace = 'sc_app'::regnamespace ORDER BY indexrelid::regclass::text;
SELECT a.attrelid::regclass AS target, a.attname, a.attcollation::regcollation AS collation
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = 'sc_app'::regnamespace AND c.relkind = 'r' AND a.attnum > 0
  AND a.attcollation NOT IN (0, 'default'::regcollation) ORDER BY a.attrelid::regclass::text, 2;
SELECT c.relname AS view, pg_get_viewdef(c.oid) AS definition
FROM pg_class c WHERE c.relnamespace = 'sc_app'::regnamespace AND c.relkind = 'v' ORDER BY 1;
-- views are imported as foreign tables too (they are readable)
SELECT c.relname AS foreign_table FROM pg_class c
WHERE c.relnamespace = 'sc_app_sqlite'::regnamespace AND c.relkind = 'f' ORDER BY c.relname COLLATE "C";

-- a re-run migrates nothing again and carries nothing twice
SELECT sqlite_table, action, schema_skipped FROM recio_migrate.migrate_server('sc_srv', 'sc_app')
ORDER BY sqlite_table COLLATE "C";
SELECT count(*) AS notes FROM recio_migrate.schema_notes WHERE target LIKE 'sc_app.%';

-- the application afterwards.  An insert without id: greatest(max(id), sqlite_sequence) + 1 (accounts:
-- AUTOINCREMENT, sqlite_sequence 7 ahead of max(id) 3) and max(id) + 1 (trades: no AUTOINCREMENT)
INSERT INTO sc_app.accounts (email, handle) VALUES ('dee@example.com', 'dee')
RETURNING id, currency, venue, balance, active, vip, score, ratio, note, quote, raw, token IS NULL AS no_token;
INSERT INTO sc_app.trades (account_id, ticker, qty) VALUES (1, 'BTC-26JAN', 1) RETURNING id, status, entry_method;
-- the defaults of the clock: now in UTC, to the second, as SQLite's (the columns are timestamptz, date, time)
SELECT created_at = date_trunc('second', created_at) AND abs(extract(epoch FROM created_at - now())) < 300
         AS created_at_now,
       created_on = (now() AT TIME ZONE 'UTC')::date AS created_on_today,
       created_time = date_trunc('second', (statement_timestamp() AT TIME ZONE 'UTC'))::time
         OR abs(extract(epoch FROM created_time - (now() AT TIME ZONE 'UTC')::time)) < 300 AS created_time_now,
       updated_at = date_trunc('second', updated_at) AS updated_at_now, day = created_on AS day_today,
       stamp IS NULL AS stamp_not_carried
FROM sc_app.accounts WHERE email = 'dee@example.com';
SELECT ts = date_trunc('second', ts) AND abs(extract(epoch FROM ts - now())) < 300 AS trade_ts_now
FROM sc_app.trades WHERE ticker = 'BTC-26JAN';
-- refused as SQLite refused them: a duplicate (also one differing in case on the NOCASE column), an orphan,
-- a CHECK violation (SQLSTATE and message: the failing row's detail holds the clock's defaults)
CREATE FUNCTION pg_temp.refusal(query text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE st text; msg text;
BEGIN
  EXECUTE query;
  RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
  RETURN st || ': ' || msg;
END $f$;
SELECT pg_temp.refusal($$INSERT INTO sc_app.accounts (email, handle) VALUES ('eve@example.com', 'ann')$$);
SELECT pg_temp.refusal($$INSERT INTO sc_app.accounts (email) VALUES ('ANN@Example.COM')$$);
SELECT pg_temp.refusal($$INSERT INTO sc_app.trades (account_id, ticker, qty) VALUES (999, 'BTC-X', 1)$$);
SELECT pg_temp.refusal($$INSERT INTO sc_app.trades (account_id, ticker, qty) VALUES (1, 'BTC-X', 0)$$);
SELECT pg_temp.refusal($$INSERT INTO sc_app.accounts (email, currency) VALUES ('fay@example.com', 'EUR')$$);
-- the foreign key with orphans stays NOT VALID, the orphans reported; it still refuses a new orphan
SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'sc_app.fills'::regclass AND contype = 'f';
SELECT object_name, reason FROM recio_migrate.schema_notes
WHERE target = 'sc_app.fills' AND object_kind ILIKE '%foreign%' ORDER BY note_id;
SELECT expect_error($$INSERT INTO sc_app.fills (fill_id, trade_id) VALUES (9, 98)$$);
SELECT * FROM recio_migrate.check_references('sc_app.fills', '{trade_id}', 'sc_app.trades', '{id}');
-- the view that translates returns the rows of its foreign table (before the inserts above: compare the
-- SQLite rows that are in both)
SELECT count(*) AS view_rows,
       (SELECT count(*) FROM sc_app_sqlite.open_trades) AS foreign_rows,
       (SELECT count(*) FROM (SELECT id, ticker, qty, email FROM sc_app_sqlite.open_trades
                              EXCEPT SELECT id, ticker, qty, email FROM sc_app.open_trades) d) AS missing
FROM sc_app.open_trades WHERE ticker <> 'BTC-26JAN';

-- the identity only ever moves forward: a later run (here the call migrate() makes) never moves it back
SELECT recio_migrate.identity_forward('sc_app_sqlite.accounts', 'sc_app.accounts') AS next_id;
SELECT recio_migrate.identity_forward('sc_app_sqlite.audit', 'sc_app.audit') AS next_id;


-- create_target() alone carries the create phase (a dry run cannot: the plan reads the target's catalog
-- entry)
SELECT recio_migrate.create_target('sc_app_sqlite.accounts', 'public.sc_accounts');
SELECT attname, attidentity FROM pg_attribute WHERE attrelid = 'public.sc_accounts'::regclass AND attidentity <> '';
-- apply_schema() on a table of the DBA's own, whose clock columns stay text: a CURRENT_TIMESTAMP default
-- writes the text SQLite writes (UTC, 'YYYY-MM-DD HH:MM:SS'), the others their own formats
CREATE TABLE public.sc_text (id bigint PRIMARY KEY, email text, currency text, created_at text, created_on text,
                             created_time text, updated_at text, day text, stamp text);
SELECT object_kind, object_name, action, postgres_sql, reason
FROM recio_migrate.apply_schema('sc_app_sqlite.accounts', 'public.sc_text', 'create') ORDER BY object_kind, object_name;
INSERT INTO public.sc_text (email) VALUES ('gus@example.com')
RETURNING id, currency, created_at ~ '^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$' AS timestamp_text,
          abs(extract(epoch FROM created_at::timestamp - (now() AT TIME ZONE 'UTC'))) < 300 AS utc_now,
          created_on ~ '^\d{4}-\d\d-\d\d$' AS date_text, created_time ~ '^\d\d:\d\d:\d\d$' AS time_text,
          updated_at ~ '^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$' AS datetime_now, day ~ '^\d{4}-\d\d-\d\d$' AS date_now,
          stamp ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$' AS strftime_now;
-- a plain role may call create_target() (the create phase runs; schema_notes is not written)
SELECT count(*) AS notes_of_sc_accounts FROM recio_migrate.schema_notes WHERE target = 'public.sc_accounts';
CREATE ROLE sc_plain;
GRANT USAGE ON SCHEMA sc_app_sqlite TO sc_plain;
GRANT SELECT ON sc_app_sqlite.accounts TO sc_plain;
GRANT CREATE ON SCHEMA public TO sc_plain;
SET ROLE sc_plain;
SELECT recio_migrate.create_target('sc_app_sqlite.accounts', 'public.sc_plain_accounts') IS NOT NULL AS created;
RESET ROLE;
SELECT count(*) AS notes_of_sc_plain_accounts FROM recio_migrate.schema_notes WHERE target = 'public.sc_plain_accounts';
DROP TABLE public.sc_plain_accounts;
REVOKE CREATE ON SCHEMA public FROM sc_plain;
DROP OWNED BY sc_plain;
DROP ROLE sc_plain;

-- the REC.IO files: an application-style insert into trades without id takes the legacy defaults, the price
-- history keeps its timestamp index (the latest-price poll reads it), and parity holds
SELECT sqlite_table, action, counts_match, rows_rejected, schema_skipped
FROM recio_migrate.migrate_server('trades_srv', 'cut');
SELECT sqlite_table, action, counts_match, rows_rejected, schema_skipped
FROM recio_migrate.migrate_server('btc_price_history_srv', 'cut');
SELECT sqlite_table, action, counts_match, rows_rejected, schema_skipped
FROM recio_migrate.migrate_server('active_trades_srv', 'cut');
INSERT INTO cut.trades (date, time, strike, side, buy_price, position, ticker)
VALUES ('2025-07-20', '10:00:00', '$118,500', 'yes', 0.55, 2, 'KXBTCD-25JUL2011-T118499.99')
RETURNING id, status, entry_method;
INSERT INTO cut.active_trades (trade_id, side, quantity, price) VALUES (501, 'yes', 2, 0.55)
RETURNING id, symbol, abs(extract(epoch FROM last_updated - now())) < 300 AS stamped_now;
SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'cut.price_log'::regclass ORDER BY 1;
ANALYZE cut.price_log;
EXPLAIN (COSTS OFF) SELECT price FROM cut.price_log ORDER BY timestamp DESC LIMIT 1;
DELETE FROM cut.trades WHERE date = '2025-07-20';
DELETE FROM cut.active_trades WHERE trade_id = 501;
-- (active_trades: its planted 'n/a' price is the one rejected row, so parity counts one row missing)
SELECT p.source_table, p.ok FROM (SELECT * FROM recio_migrate.parity_all('trades_srv', 'cut')
                                  UNION ALL SELECT * FROM recio_migrate.parity_all('btc_price_history_srv', 'cut')) p
WHERE p.source_table LIKE 'cut\_sqlite.%' ORDER BY 1;

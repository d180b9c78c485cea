-- migrate_profile: profile() on messy legacy columns, IMPORT ... OPTIONS
-- (types 'observed'), create_target() with and without dry_run
SELECT create_servers(ARRAY['migrate']);
ALTER SERVER migrate_srv OPTIONS (ADD timezone 'America/New_York');
CREATE SCHEMA mig_src;
IMPORT FOREIGN SCHEMA main FROM SERVER migrate_srv INTO mig_src;

-- one row per column: storage classes, NULLs, min/max, decimals, formats, suggestion
SELECT column_name, declared_type AS decl, row_count AS n, null_count AS nulls, integer_count AS i,
       real_count AS r, text_count AS t, min_value, max_value, max_decimals AS dec
FROM recio_migrate.profile('mig_src.events');
SELECT column_name, all_timestamps, timestamp_formats, epoch_unit, all_json, suggested_type, nonconforming,
       zone_assumed
FROM recio_migrate.profile('mig_src.events');

-- the trades fixture: fees INTEGER holding cents, ticket_id INTEGER holding text,
-- closed_at holding only times, created_at naive local timestamps
CREATE SCHEMA trades_src;
IMPORT FOREIGN SCHEMA main FROM SERVER trades_srv INTO trades_src;
SELECT column_name, declared_type, integer_count, real_count, text_count, suggested_type, nonconforming
FROM recio_migrate.profile('trades_src.trades')
WHERE column_name IN ('id', 'fees', 'ticket_id', 'closed_at', 'created_at', 'buy_price', 'pnl', 'notes', 'date');
-- the price_log: prices with cents, volumes with 4 decimals
CREATE SCHEMA btc_src;
IMPORT FOREIGN SCHEMA main FROM SERVER btc_price_history_srv INTO btc_src;
SELECT column_name, min_value, max_value, max_decimals, timestamp_formats, suggested_type
FROM recio_migrate.profile('btc_src.price_log');

-- the profile agrees with a count through the wrapper
SELECT (SELECT row_count FROM recio_migrate.profile('btc_src.price_log') LIMIT 1) =
       (SELECT count(*) FROM btc_src.price_log) AS same_count;

-- IMPORT with the observed types
CREATE SCHEMA mig_obs;
IMPORT FOREIGN SCHEMA main FROM SERVER migrate_srv INTO mig_obs OPTIONS (types 'observed');
SELECT attname, format_type(atttypid, atttypmod) AS type, attnotnull, attfdwoptions
FROM pg_attribute WHERE attrelid = 'mig_obs.events'::regclass AND attnum > 0 ORDER BY attnum;
CREATE SCHEMA trades_obs;
IMPORT FOREIGN SCHEMA main FROM SERVER trades_srv INTO trades_obs OPTIONS (types 'observed');
SELECT attname, format_type(atttypid, atttypmod) AS type, attfdwoptions
FROM pg_attribute WHERE attrelid = 'trades_obs.trades'::regclass
  AND attname IN ('fees', 'ticket_id', 'closed_at', 'created_at') ORDER BY attnum;
-- the observed types read the legacy values: fees 0.11 is numeric, tickets are text
SELECT id, fees, ticket_id, closed_at, created_at FROM trades_obs.trades WHERE id IN (1, 2, 37, 50) ORDER BY id;
SELECT expect_error($$IMPORT FOREIGN SCHEMA main FROM SERVER trades_srv INTO trades_obs OPTIONS (types 'guessed')$$);

-- create_target: the DDL (dry run creates nothing)
SELECT recio_migrate.create_target('mig_src.events', 'public.events_t', dry_run => true);
SELECT to_regclass('public.events_t') IS NULL AS not_created;
SELECT recio_migrate.create_target('trades_obs.trades', 'public.trades_t');
SELECT attname, format_type(atttypid, atttypmod), attnotnull, col_description(attrelid, attnum)
FROM pg_attribute WHERE attrelid = 'trades_t'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'trades_t'::regclass;
SELECT expect_error($$SELECT recio_migrate.create_target('mig_src.events', 'a.b.c')$$);
SELECT expect_error($$SELECT recio_migrate.create_target('mig_src.events', 'events_t')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.profile('public.trades_t')$$);
-- an epoch column whose unit (ms) is not the source's epoch_unit option (s by default) stays bigint
CREATE SCHEMA ord_src;
IMPORT FOREIGN SCHEMA main LIMIT TO (orders) FROM SERVER orders_srv INTO ord_src;
SELECT epoch_unit, suggested_type FROM recio_migrate.profile('ord_src.orders') WHERE column_name = 'last_update_time';
SELECT ddl ~ 'last_update_time bigint' AS kept_bigint, ddl ~ 'epochs in ms but the source''''s epoch_unit is s' AS says_why
FROM recio_migrate.create_target('ord_src.orders', 'public.orders_t', dry_run => true) AS ddl;
ALTER FOREIGN TABLE ord_src.orders ALTER COLUMN last_update_time OPTIONS (ADD epoch_unit 'ms');
SELECT recio_migrate.create_target('ord_src.orders', 'public.orders_t', dry_run => true) ~ 'last_update_time timestamptz,' AS timestamptz_with_ms;
-- a source lacking the first column of a two-column SQLite key gets no (narrower) primary key
CREATE FOREIGN TABLE ord_src.settlements_part (settled_time text) SERVER settlements_srv OPTIONS (table 'settlements');
SELECT recio_migrate.create_target('ord_src.settlements_part', 'public.settlements_t', dry_run => true);
-- profile needs SELECT on the foreign table
CREATE ROLE mig_nobody;
SELECT 'mig_src.events'::regclass::oid AS ev_oid \gset
SET ROLE mig_nobody;
SELECT expect_error(format('SELECT * FROM recio_migrate.profile(%s)', :ev_oid));
RESET ROLE;
DROP ROLE mig_nobody;

-- migrate_types: the type rules of profile() and create_target() (issue 11
-- item 6): no type rounds a later write, no type changes a written text,
-- CURRENT_TIMESTAMP columns are read as UTC in a New York server.
SELECT create_servers(ARRAY['migrate_types']);
ALTER SERVER migrate_types_srv OPTIONS (ADD timezone 'America/New_York');
CREATE SCHEMA ty_src;
IMPORT FOREIGN SCHEMA main FROM SERVER migrate_types_srv INTO ty_src;

-- REAL columns with few rows: numeric without a scale; the decimals stay advice
SELECT column_name, max_decimals, suggested_type, observed_type, type_reason
FROM recio_migrate.profile('ty_src.few_rows');
SELECT recio_migrate.create_target('ty_src.few_rows', 'public.ty_few');
SELECT attname, format_type(atttypid, atttypmod) AS type, col_description(attrelid, attnum) AS comment
FROM pg_attribute WHERE attrelid = 'public.ty_few'::regclass AND attnum > 0 ORDER BY attnum;
SELECT status, rows_written FROM recio_migrate.migrate('ty_src.few_rows', 'public.ty_few');
-- the application's later writes, with more decimals than seen so far, come back exactly
INSERT INTO public.ty_few VALUES (3, 97.93, -0.5, 0.9234);
SELECT id, price, whole, prob FROM public.ty_few ORDER BY id;
SELECT price = 97.93 AS price_exact, whole = -0.5 AS whole_exact, prob = 0.9234 AS prob_exact
FROM public.ty_few WHERE id = 3;
-- the observed typmods only when asked for (and what they would do to the same writes)
SELECT recio_migrate.create_target('ty_src.few_rows', 'public.ty_few_typmod', numeric_typmod => 'observed');
INSERT INTO public.ty_few_typmod VALUES (3, 97.93, -0.5, 0.9234);
SELECT price, whole, prob FROM public.ty_few_typmod;
SELECT expect_error($$SELECT recio_migrate.create_target('ty_src.few_rows', 'public.ty_x', numeric_typmod => 'scale')$$);
DO $$
DECLARE h text;
BEGIN
  PERFORM recio_migrate.create_target('ty_src.few_rows', 'public.ty_x', numeric_typmod => 'scale');
EXCEPTION WHEN invalid_parameter_value THEN
  GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
  RAISE NOTICE 'hint: %', h;
END $$;

-- TEXT: a non-text type only when every value comes back as written
SELECT column_name, suggested_type, legacy_format, type_reason
FROM recio_migrate.profile('ty_src.texts');
SELECT recio_migrate.create_target('ty_src.texts', 'public.ty_texts');
SELECT status, rows_written FROM recio_migrate.migrate('ty_src.texts', 'public.ty_texts');
-- every value as the legacy application wrote it
SELECT t.id, t.plus, t.zeros, t.spaced, t.expo, t.negzero, t.ints::text, t.decimals::text
FROM public.ty_texts t ORDER BY t.id;
SELECT count(*) FILTER (WHERE t.payload::text = s.payload) AS payload_same_bytes,
       count(*) FILTER (WHERE t.ints::text = s.ints AND t.decimals::text = s.decimals
                          AND t.plus = s.plus AND t.zeros = s.zeros AND t.spaced = s.spaced) AS numbers_same,
       count(*) FILTER (WHERE to_char(t.ts_one AT TIME ZONE 'America/New_York', p.legacy_format) = s.ts_one
                          AND to_char(t.ts_us AT TIME ZONE 'America/New_York', q.legacy_format) = s.ts_us)
         AS timestamps_written_back,
       count(*) AS rows
FROM public.ty_texts t JOIN ty_src.texts s USING (id),
     recio_migrate.profile('ty_src.texts') p, recio_migrate.profile('ty_src.texts') q
WHERE p.column_name = 'ts_one' AND q.column_name = 'ts_us';
SELECT payload FROM public.ty_texts ORDER BY id;

-- CURRENT_TIMESTAMP / datetime('now') columns hold UTC: read as UTC in a New York server
SET timezone = 'UTC';
SELECT id, created, local_ts FROM ty_src.stamps ORDER BY id;
SELECT column_name, suggested_type, zone_assumed, legacy_format, type_reason
FROM recio_migrate.profile('ty_src.stamps');
CREATE SCHEMA ty_obs;
IMPORT FOREIGN SCHEMA main LIMIT TO (stamps) FROM SERVER migrate_types_srv INTO ty_obs OPTIONS (types 'observed');
SELECT attname, format_type(atttypid, atttypmod) AS type, attfdwoptions
FROM pg_attribute WHERE attrelid = 'ty_obs.stamps'::regclass AND attnum > 0 ORDER BY attnum;
SELECT recio_migrate.create_target('ty_obs.stamps', 'public.ty_stamps');
SELECT status, rows_written FROM recio_migrate.migrate('ty_obs.stamps', 'public.ty_stamps');
-- the same instant three ways: SQLite's UTC default columns and the New York wall clock
SELECT id, created, changed, local_ts, created = local_ts AND changed = local_ts AS same_instant
FROM public.ty_stamps ORDER BY id;
RESET timezone;

-- the REC.IO trades file: a 4-decimal probability and a negative half momentum are stored exactly
SELECT action, counts_match FROM recio_migrate.migrate_server('trades_srv', 'ty_recio', 'reject', 'ty_recio_sqlite');
SELECT attname, format_type(atttypid, atttypmod) AS type
FROM pg_attribute WHERE attrelid = 'ty_recio.trades'::regclass AND attname IN ('prob', 'momentum', 'buy_price')
ORDER BY attnum;
INSERT INTO ty_recio.trades (id, prob, momentum) VALUES (100001, 0.9234, -0.5);
SELECT prob, momentum, prob = 0.9234 AND momentum = -0.5 AS exact FROM ty_recio.trades WHERE id = 100001;
DELETE FROM ty_recio.trades WHERE id = 100001;
SELECT matched, missing, extra, mismatched, ok FROM recio_migrate.parity('ty_recio_sqlite.trades', 'ty_recio.trades');

SET client_min_messages = warning;
DROP SCHEMA ty_src, ty_obs, ty_recio, ty_recio_sqlite CASCADE;
RESET client_min_messages;
DROP TABLE public.ty_few, public.ty_few_typmod, public.ty_texts, public.ty_stamps;
DROP SERVER migrate_types_srv;

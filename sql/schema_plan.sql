-- schema_plan: what of schema.db's SQLite schema (test/fixtures/schema.sql)
-- the migrated targets carry, every row of schema_plan() per table; the
-- statements executed against targets made by create_target(), and the
-- result read back from the catalog; then the translator's rules and its
-- hostile inputs through translate_sqlite_expression().
\getenv fixtures RECIO_FIXTURES
SELECT public.create_servers(ARRAY['schema', 'schema_b']);
CREATE SCHEMA sch_src;
IMPORT FOREIGN SCHEMA main FROM SERVER schema_srv INTO sch_src OPTIONS (types 'observed');
CREATE SCHEMA sch_b_src;
IMPORT FOREIGN SCHEMA main FROM SERVER schema_b_srv INTO sch_b_src OPTIONS (types 'observed');
CREATE SCHEMA app;
SELECT c.relname, recio_migrate.create_target(c.oid, pg_catalog.format('app.%I', c.relname)) IS NOT NULL AS created
FROM pg_class c WHERE c.relnamespace IN ('sch_src'::regnamespace, 'sch_b_src'::regnamespace) AND c.relkind = 'f'
  AND c.relname NOT IN ('open_trades', 'trade_days', 'all_refs')
ORDER BY c.relname;
-- the targets' columns, as create_target() made them
SELECT attrelid::regclass AS target, attname, format_type(atttypid, atttypmod) AS type
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = 'app'::regnamespace AND c.relkind = 'r' AND attnum > 0 ORDER BY attrelid::regclass::text, attnum;

-- every row of the plan, per table
SELECT t.relname AS source, p.phase, p.object_kind, p.object_name, p.postgres_sql, p.action, p.reason
FROM pg_class t, recio_migrate.schema_plan(t.oid, pg_catalog.format('app.%I', t.relname)::regclass) p
WHERE t.relnamespace = 'sch_src'::regnamespace AND t.relkind = 'f'
  AND t.relname NOT IN ('open_trades', 'trade_days', 'all_refs')
ORDER BY t.relname, p.phase = 'file', p.phase = 'load', p.object_kind, p.object_name;
-- schema_b.db: a deferred foreign key, a self-reference to the primary key
SELECT p.phase, p.object_kind, p.object_name, p.sqlite_sql, p.postgres_sql, p.action
FROM recio_migrate.schema_plan('sch_b_src.ticks', 'app.ticks') p ORDER BY p.phase, p.object_kind, p.object_name;
-- schema_b.db's odd DDL: every object a row, nothing an error
SELECT p.phase, p.object_kind, p.object_name, p.sqlite_sql, p.postgres_sql, p.action, p.reason
FROM recio_migrate.schema_plan('sch_b_src."odd ""t"""', 'app."odd ""t"""') p ORDER BY p.phase, p.object_kind, p.object_name;
-- the SQLite text and the facts for the caller
SELECT p.object_kind, p.object_name, p.sqlite_sql, p.properties
FROM recio_migrate.schema_plan('sch_src.accounts', 'app.accounts') p
WHERE p.object_kind IN ('identity', 'unique', 'check') ORDER BY 1, 2;
SELECT p.object_kind, p.object_name, p.sqlite_sql, p.properties
FROM recio_migrate.schema_plan('sch_src.fills', 'app.fills') p WHERE p.phase = 'file';

-- run the create and load rows of every table (the file rows after all of them)
-- a table's rows are planned and run before the next table is planned (names
-- are unique against the catalog when planned)
CREATE FUNCTION public.apply_plan(phases text[]) RETURNS TABLE(source name, object_name text, result text, renamed boolean)
LANGUAGE plpgsql SET search_path = public, pg_catalog AS $$
DECLARE t record; r record;
BEGIN
  FOR t IN SELECT c.oid, c.relname FROM pg_class c
           WHERE c.relnamespace IN ('sch_src'::regnamespace, 'sch_b_src'::regnamespace) AND c.relkind = 'f'
             AND c.relname NOT IN ('open_trades', 'trade_days', 'all_refs')
           ORDER BY c.relnamespace::regnamespace::text DESC, c.relname
  LOOP
    FOR r IN SELECT p.* FROM recio_migrate.schema_plan(t.oid, pg_catalog.format('app.%I', t.relname)::regclass) p
             WHERE p.phase = ANY (phases) AND p.postgres_sql IS NOT NULL
             ORDER BY p.object_kind, p.object_name
    LOOP
      source := t.relname; object_name := r.object_name; renamed := coalesce(r.reason LIKE '%renamed:%', false);
      BEGIN
        EXECUTE r.postgres_sql;
        result := 'ok';
      EXCEPTION WHEN OTHERS THEN
        result := SQLSTATE || ': ' || SQLERRM;
      END;
      RETURN NEXT;
    END LOOP;
  END LOOP;
END $$;
CREATE FUNCTION public.apply_views() RETURNS int
LANGUAGE plpgsql SET search_path = public, pg_catalog AS $$
DECLARE r record; n int := 0;
BEGIN
  FOR r IN SELECT postgres_sql FROM recio_migrate.schema_views('schema_srv', 'app') WHERE postgres_sql IS NOT NULL LOOP
    EXECUTE r.postgres_sql;
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;
-- (create_target() ran the create rows already: apply_schema(), sql/src/carried_schema.sql)
-- load the rows, then the load phase
SELECT t.relname, (SELECT status FROM recio_migrate.migrate(t.oid, pg_catalog.format('app.%I', t.relname)::regclass)) AS status
FROM pg_class t WHERE t.relnamespace IN ('sch_src'::regnamespace, 'sch_b_src'::regnamespace) AND t.relkind = 'f'
  AND t.relname NOT IN ('open_trades', 'trade_days', 'all_refs')
ORDER BY t.relnamespace::regnamespace::text DESC, t.relname;
SELECT * FROM public.apply_plan(ARRAY['load']);
SELECT * FROM public.apply_plan(ARRAY['file']);
-- the identity's next value past greatest(max(id), sqlite_sequence) (what migrate_server will do)
SELECT t.relname, p.object_name, pg_catalog.setval(pg_get_serial_sequence(pg_catalog.format('app.%I', t.relname), p.object_name),
         greatest((SELECT max(id) FROM app.accounts WHERE t.relname = 'accounts'),
                  (SELECT max(id) FROM app.trades WHERE t.relname = 'trades'),
                  (SELECT max(fill_id) FROM app.fills WHERE t.relname = 'fills'),
                  (p.properties->>'sqlite_sequence')::bigint)) AS last_value
FROM pg_class t, recio_migrate.schema_plan(t.oid, pg_catalog.format('app.%I', t.relname)::regclass) p
WHERE t.relname IN ('accounts', 'trades', 'fills') AND t.relnamespace = 'sch_src'::regnamespace AND p.object_kind = 'identity'
ORDER BY 1;

-- the views of the file, over the migrated tables (phase view)
SELECT object_name, postgres_sql, action, reason, properties FROM recio_migrate.schema_views('schema_srv', 'app')
ORDER BY object_name;
SELECT public.apply_views();
SELECT * FROM app.open_trades;

-- the result, from the catalog
SELECT attrelid::regclass AS target, attname, attidentity, pg_get_expr(d.adbin, d.adrelid) AS default,
       collname
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 100
JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = 'app'::regnamespace AND c.relkind = 'r' AND attnum > 0 ORDER BY attrelid::regclass::text, attnum;
SELECT conrelid::regclass AS target, conname, contype, convalidated, pg_get_constraintdef(oid) AS definition
FROM pg_constraint WHERE connamespace = 'app'::regnamespace ORDER BY conrelid::regclass::text, conname;
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) AS definition
FROM pg_index JOIN pg_class c ON c.oid = indrelid WHERE c.relnamespace = 'app'::regnamespace
ORDER BY indrelid::regclass::text, indexrelid::regclass::text;

-- the application's writes afterwards (SQLSTATE and message: the failing row holds the current time)
CREATE FUNCTION public.sqlstate_of(query text) RETURNS text
LANGUAGE plpgsql SET search_path = public, pg_catalog AS $$
BEGIN
  EXECUTE query;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
INSERT INTO app.accounts (email) VALUES ('dee@example.com') RETURNING id, currency, venue, balance, active, vip;
SELECT public.sqlstate_of($$INSERT INTO app.accounts (email) VALUES ('ANN@example.com')$$);
SELECT public.sqlstate_of($$INSERT INTO app.accounts (email, currency) VALUES ('eve@example.com', 'EUR')$$);
SELECT public.sqlstate_of($$INSERT INTO app.trades (account_id, ticker, qty) VALUES (1, 'BTC-X', 0)$$);
SELECT public.sqlstate_of($$INSERT INTO app.trades (account_id, ticker, qty) VALUES (42, 'BTC-X', 1)$$);
INSERT INTO app.trades (account_id, ticker, qty) VALUES (1, 'BTC-X', 1)
RETURNING id, status, entry_method, ts = date_trunc('second', statement_timestamp()) AS ts_default;
-- the NOCASE unique index (ticker COLLATE NOCASE, ts): 'btc-y' next to 'BTC-Y' at one instant is refused
INSERT INTO app.trades (account_id, ticker, qty, ts) VALUES (1, 'BTC-Y', 1, '2025-07-20 00:00:00+00') RETURNING id;
SELECT public.sqlstate_of($$INSERT INTO app.trades (account_id, ticker, qty, ts) VALUES (1, 'btc-y', 1, '2025-07-20 00:00:00+00')$$);
INSERT INTO app.accounts (email, handle) VALUES ('fay@example.com', 'Ann')
RETURNING id, created_at = date_trunc('second', statement_timestamp()) AS created_default,
          created_on = (statement_timestamp() AT TIME ZONE 'UTC')::date AS date_default;
SELECT public.sqlstate_of($$INSERT INTO app.fills (trade_id) VALUES (77)$$);
SELECT public.sqlstate_of($$ALTER TABLE app.fills VALIDATE CONSTRAINT fills_trade_id_fkey$$);
SELECT public.sqlstate_of($$ALTER TABLE app.trades VALIDATE CONSTRAINT trades_account_id_fkey$$);

-- the translator, one expression at a time
CREATE TABLE public.xt (i bigint, n numeric, f double precision, t text, b boolean, d date, ts timestamptz,
                        tt timestamp, tm time, by bytea, v varchar(3), n2 numeric(4,2), s smallint);
SELECT e AS sqlite, x.*
FROM unnest(ARRAY[
  'i = 1', 'i == 1 AND NOT t IS NULL', 'i <> 2 OR i != 3', 't < ''b''', 't = ''b''', 't = 5', 'i = ''5''',
  'i IN (1, 2, 3)', 't NOT IN (''a'', ''b'')', 'i BETWEEN 1 AND 10', 't BETWEEN ''a'' AND ''m''',
  't NOTNULL', 'i ISNULL', 'i IS NOT 2', 'i + 1 > 2', 'i / 2', 'i / 0', 'i % 3', 'f % 2', 'f / 2.0', 'f * 1.5',
  'n * 2', '5 / 2', 't || ''x''', 'i || t', 'f || t', 'lower(t)', 'upper(t) = ''A''', 'length(t)', 'length(i)',
  'substr(t, 2, 3)', 'substr(t, -2)', 'substring(t, 1)', 'abs(i)', 'abs(t)', 'coalesce(t, ''x'')',
  'ifnull(i, 0)', 'coalesce(i, t)', 't LIKE ''a%''', 't NOT LIKE ''a\%'' ESCAPE ''\''', 'i LIKE ''1%''',
  't GLOB ''ab*''', 't GLOB ''[a-z]*''', 'CAST(i AS TEXT)', 'CAST(t AS INTEGER)', 'CAST(i AS REAL)',
  'X''00ff'' = by', 'b = 1', 'b', 'i', 't', 'ts > ''2025-01-01''', 'd = d', 'random()', 't COLLATE NOCASE = ''a''',
  'lower(t) COLLATE RTRIM = ''a''', '"i" = [i] AND `i` = i', 'nope = 1', 'rowid = 1', 'i = 0x10', 'f > 0.1',
  'f > 0.1000000000000000055511151231257827', 'i = 99999999999999999999', 't -> ''$.a''', 'CASE WHEN i THEN 1 END',
  'i = (SELECT 1)', '1 +', '''unterminated', '"unterminated', 'i = 1 -- comment', 'i /* c */ = 1', 'i = @p',
  'i = 1; DROP TABLE x', 'é = 1', 'i IN ()'
]) AS e, recio_migrate.translate_sqlite_expression(e, 'public.xt') x;

-- defaults for each column type
SELECT c, e AS sqlite_default, x.*
FROM (VALUES ('i', '1'), ('i', '-5'), ('i', '1.0'), ('i', '''5'''), ('i', '''+5'''), ('i', '''abc'''), ('i', 'TRUE'),
             ('s', '40000'), ('n', '0.0'), ('n2', '1.5'), ('n2', '1.234'), ('n2', '100'), ('f', '1e3'), ('f', '0.1'),
             ('t', '''BTC'''), ('t', '0'), ('t', '1.5'), ('t', 'NULL'), ('t', 'CURRENT_TIMESTAMP'),
             ('t', 'CURRENT_DATE'), ('t', 'CURRENT_TIME'), ('t', 'datetime(''now'')'), ('t', 'date(''now'')'),
             ('t', 'strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now'')'), ('t', 'strftime(''%s'', ''now'')'),
             ('t', 'datetime(''now'', ''localtime'')'), ('ts', 'CURRENT_TIMESTAMP'), ('tt', 'datetime(''now'')'),
             ('d', 'CURRENT_DATE'), ('d', 'CURRENT_TIMESTAMP'), ('tm', 'CURRENT_TIME'), ('b', '1'), ('b', '''0'''),
             ('b', 'FALSE'), ('b', '2'), ('by', 'X''00ff'''), ('by', '''x'''), ('v', '''abc'''), ('v', '''abcd'''), ('v', '1234'),
             ('t', 'random()'), ('t', '(1+)')) AS d(c, e),
     recio_migrate.translate_sqlite_expression(e, 'public.xt', c::name) x;
-- the translated defaults run: each evaluated once
SELECT pg_typeof(x) AS type, x ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$' AS sqlite_format
FROM (SELECT to_char((statement_timestamp() AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS x) s;

-- hostile input: deep nesting, a long chain, a huge input; an error row, never a crash
SELECT action, reason FROM recio_migrate.translate_sqlite_expression(repeat('(', 100000) || '1' || repeat(')', 100000));
SELECT action, reason FROM recio_migrate.translate_sqlite_expression(repeat('- ', 100000) || '1');
SELECT action, reason FROM recio_migrate.translate_sqlite_expression(repeat('NOT ', 100000) || '1');
SELECT action, reason FROM recio_migrate.translate_sqlite_expression('1' || repeat(' + 1', 100000));
SELECT action, length(postgres_sql) FROM recio_migrate.translate_sqlite_expression('1' || repeat(' + 1', 500));
SELECT action, reason FROM recio_migrate.translate_sqlite_expression('i IN (' || repeat('1, ', 100000) || '1)', 'public.xt');
SELECT action, reason FROM recio_migrate.translate_sqlite_expression(repeat('x', 2000000) || '(');
SELECT action, reason FROM recio_migrate.translate_sqlite_expression(NULL);
SELECT action, reason FROM recio_migrate.translate_sqlite_expression(E'i = \'\\x01\x02\'', 'public.xt');
DROP TABLE public.xt;

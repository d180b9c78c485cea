-- setup: the extension, the fixture path, and a helper that reports an
-- error's SQLSTATE, message and detail with the run's fixture directory
-- masked as $FIXTURES (it differs from run to run).
\getenv fixtures RECIO_FIXTURES
SELECT extname, extversion, extnamespace::regnamespace AS schema, extrelocatable
FROM pg_extension WHERE extname = 'recio_migrate';
SELECT fdwname, fdwhandler::regproc, fdwvalidator::regproc FROM pg_foreign_data_wrapper;

SELECT current_database() AS db \gset
ALTER DATABASE :"db" SET recio_test.fixtures = :'fixtures';
SELECT set_config('recio_test.fixtures', :'fixtures', false) IS NOT NULL AS fixtures_set;

CREATE FUNCTION public.expect_error(query text) RETURNS text
LANGUAGE plpgsql SET search_path = public, pg_catalog AS $$
DECLARE
  st text; msg text; det text; hint text;
  fixtures text := current_setting('recio_test.fixtures');
BEGIN
  EXECUTE query;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
  RETURN st || ': ' || replace(msg, fixtures, '$FIXTURES')
         || CASE WHEN det <> '' THEN E'\n' || replace(det, fixtures, '$FIXTURES') ELSE '' END;
END $$;

-- explain_rows: the planner's row estimate for a query, without costs or widths
CREATE FUNCTION public.explain_rows(query text) RETURNS bigint
LANGUAGE plpgsql SET search_path = public, pg_catalog AS $$
DECLARE line text;
BEGIN
  EXECUTE 'EXPLAIN ' || query INTO line;
  RETURN substring(line from 'rows=([0-9]+)')::bigint;
END $$;

-- create_servers: a server NAME_srv for each fixture file NAME.db
CREATE FUNCTION public.create_servers(names text[]) RETURNS int
LANGUAGE plpgsql SET search_path = public, pg_catalog AS $$
DECLARE f text;
BEGIN
  FOREACH f IN ARRAY names LOOP
    EXECUTE format('CREATE SERVER %I FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database %L)',
                   f || '_srv', current_setting('recio_test.fixtures') || '/' || f || '.db');
  END LOOP;
  RETURN cardinality(names);
END $$;

-- one server per legacy file, used by the later tests
SELECT create_servers(ARRAY['trades', 'active_trades', 'btc_price_history', 'fills', 'orders',
                  'settlements', 'positions', 'quoting', 'types']);
SELECT count(*) AS servers FROM pg_foreign_server WHERE srvname LIKE '%\_srv';

-- privileges: what a plain role, a pg_monitor member and a pg_stat_scan_tables
-- member may do.  Nothing is granted here: the roles get only the memberships
-- that make them what they are, so the test shows the extension's own grants.
CREATE ROLE priv_plain;
CREATE ROLE priv_monitor IN ROLE pg_monitor;
CREATE ROLE priv_scanner IN ROLE pg_stat_scan_tables;
CREATE TABLE public.priv_ledger (id int PRIMARY KEY, ts timestamptz NOT NULL);
INSERT INTO public.priv_ledger SELECT g, timestamptz '2024-01-01 00:00+00' + g * interval '1 hour' FROM generate_series(1, 500) g;
DELETE FROM public.priv_ledger WHERE id % 2 = 0;
VACUUM ANALYZE public.priv_ledger;

-- the schema is open to every role
SELECT r AS role, has_schema_privilege(r, 'recio_migrate', 'USAGE') AS usage, has_schema_privilege(r, 'recio_migrate', 'CREATE') AS "create"
FROM unnest(ARRAY['priv_plain', 'priv_monitor', 'priv_scanner']) r;

-- EXECUTE on every function and procedure
SELECT p.oid::regprocedure AS function, p.prokind AS kind,
       has_function_privilege('priv_plain', p.oid, 'EXECUTE') AS plain,
       has_function_privilege('priv_monitor', p.oid, 'EXECUTE') AS monitor,
       has_function_privilege('priv_scanner', p.oid, 'EXECUTE') AS scanner
FROM pg_proc p WHERE p.pronamespace = 'recio_migrate'::regnamespace
ORDER BY p.oid::regprocedure::text COLLATE "C";

-- SELECT, INSERT, UPDATE, DELETE on every table and view
CREATE FUNCTION pg_temp.table_privs(role name, rel oid) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(nullif(concat_ws(',', CASE WHEN has_table_privilege(role, rel, 'SELECT') THEN 'SELECT' END,
                                        CASE WHEN has_table_privilege(role, rel, 'INSERT') THEN 'INSERT' END,
                                        CASE WHEN has_table_privilege(role, rel, 'UPDATE') THEN 'UPDATE' END,
                                        CASE WHEN has_table_privilege(role, rel, 'DELETE') THEN 'DELETE' END), ''), '-')
$$;
SELECT c.oid::regclass AS relation, c.relkind AS kind, pg_temp.table_privs('priv_plain', c.oid) AS plain,
       pg_temp.table_privs('priv_monitor', c.oid) AS monitor, pg_temp.table_privs('priv_scanner', c.oid) AS scanner
FROM pg_class c WHERE c.relnamespace = 'recio_migrate'::regnamespace AND c.relkind IN ('r', 'v')
ORDER BY c.relname COLLATE "C";

-- a plain role: the progress view and the read-only helpers, nothing destructive, no ledger
SET ROLE priv_plain;
SELECT count(*) AS migrations_in_progress FROM recio_migrate.progress;
SELECT recio_migrate.retention_lock_key('public.priv_ledger') > 0 AS lock_key;
SELECT expect_error($$CALL recio_migrate.prune('public.priv_ledger', 'ts', '1 day')$$);
SELECT expect_error($$CALL recio_migrate.run_retention()$$);
SELECT expect_error($$SELECT recio_migrate.pin('public.priv_ledger', '{1}')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.bloat_report('public')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.connections()$$);
-- an open schema exposes no file: the callable functions check the caller's rights
SELECT expect_error($$SELECT * FROM recio_migrate.sqlite_tables('trades_srv')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.migrate('public.priv_ledger', 'public.priv_ledger')$$);
SELECT expect_error($$SELECT count(*) FROM recio_migrate.runs$$);
SELECT expect_error($$SELECT * FROM recio_migrate.pins('public.priv_ledger')$$);
RESET ROLE;

-- a pg_stat_scan_tables member: the bloat report and its history, no ledger
SET ROLE priv_scanner;
SELECT b.kind, b.method, b.advice, b.trust FROM recio_migrate.bloat_report('public', 'exact') b
WHERE b.relation IN ('public.priv_ledger'::regclass, 'public.priv_ledger_pkey'::regclass) ORDER BY b.relation::text;
SELECT recio_migrate.bloat_snapshot('public', 'estimate') > 0 AS stored;
SELECT count(*) > 0 AS history_readable FROM recio_migrate.bloat_history;
SELECT expect_error($$SELECT count(*) FROM recio_migrate.runs$$);
SELECT expect_error($$CALL recio_migrate.prune('public.priv_ledger', 'ts', '1 day')$$);
RESET ROLE;

-- a pg_monitor member: the ledgers and the bloat report, nothing destructive
SET ROLE priv_monitor;
SELECT count(*) >= 0 AS runs_readable FROM recio_migrate.runs;
SELECT count(*) >= 0 AS parity_readable FROM recio_migrate.parity_results;
SELECT count(*) >= 1 AS policies_readable FROM recio_migrate.retention_policies;
SELECT count(*) AS pins FROM recio_migrate.pins('public.priv_ledger');
SELECT b.advice FROM recio_migrate.bloat_report('public', 'approx') b WHERE b.relation = 'public.priv_ledger'::regclass;
SELECT expect_error($$CALL recio_migrate.run_retention()$$);
SELECT expect_error($$SELECT recio_migrate.set_retention('public.priv_ledger', 'ts', '1 day')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.connections()$$);
RESET ROLE;

DROP TABLE public.priv_ledger;
DROP ROLE priv_plain, priv_monitor, priv_scanner;

-- fdw_estimate: row estimates of a foreign table that was never ANALYZEd,
-- made without reading the table (no count(*)): sqlite_stat1 when SQLite's
-- ANALYZE ran, else the rowid range (two b-tree descents), else the file's
-- size; cached on the connection until another connection commits to the
-- file; ANALYZE on the foreign table still wins.  Planning releases the
-- SQLite read lock it took, so a writer is not blocked by a plan.
\getenv fixtures RECIO_FIXTURES
SELECT create_servers(ARRAY['estimate']);
CREATE FOREIGN TABLE est_dense (id bigint, v text) SERVER estimate_srv OPTIONS ("table" 'dense');
CREATE FOREIGN TABLE est_sparse (id bigint, v text) SERVER estimate_srv OPTIONS ("table" 'sparse');
CREATE FOREIGN TABLE est_empty (id bigint, v text) SERVER estimate_srv OPTIONS ("table" 'empty');
CREATE FOREIGN TABLE est_keyed (k text, v float8) SERVER estimate_srv OPTIONS ("table" 'keyed');
CREATE FOREIGN TABLE est_analyzed (id bigint, grp bigint, v text) SERVER estimate_srv OPTIONS ("table" 'analyzed');
CREATE FOREIGN TABLE est_view (id bigint, v text) SERVER estimate_srv OPTIONS ("table" 'dense_odd');

-- what planning sends to SQLite (each statement is logged at DEBUG1): the
-- table's description and the estimate (sqlite_stat1, else the rowid range
-- capped by the file's size), never a count(*) or a scan
SET client_min_messages = debug1;
EXPLAIN (COSTS OFF) SELECT * FROM est_sparse;
-- the second planning finds the estimate cached (data_version unchanged)
EXPLAIN (COSTS OFF) SELECT * FROM est_sparse WHERE id > 5;
-- sqlite_stat1 present: its count is used, stale or not (100 rows were added after SQLite's ANALYZE)
EXPLAIN (COSTS OFF) SELECT * FROM est_analyzed;
RESET client_min_messages;

-- the estimate next to the real count; "by file size" is the file's bytes
-- over (4 + 8 per column), the estimate for tables without a rowid and views;
-- sparse rowids are capped at the bytes over (4 + 1 per column)
CREATE FUNCTION count_rows(t regclass) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM %s', t) INTO n;
  RETURN n;
END $$;
SELECT c.relname, explain_rows(format('SELECT * FROM %I', c.relname)) AS estimate, count_rows(c.oid) AS actual,
       ceil((pg_stat_file(:'fixtures' || '/estimate.db')).size / (4 + 8 * c.relnatts)::float8) AS by_file_size
FROM pg_class c WHERE c.relname LIKE 'est\_%' ORDER BY c.relname;
-- the btc_price_history file has sqlite_stat1 for price_log (20000 rows)
CREATE FOREIGN TABLE est_prices (id bigint) SERVER btc_price_history_srv OPTIONS ("table" 'price_log');
SELECT explain_rows('SELECT * FROM est_prices') AS estimate;

-- ANALYZE on the foreign table: the exact count, used from then on
ANALYZE est_keyed;
SELECT reltuples FROM pg_class WHERE oid = 'est_keyed'::regclass;
SELECT explain_rows('SELECT * FROM est_keyed') AS estimate;

-- a writer commits to the file between two plans of one transaction: the
-- plan held no read lock (the writer does not wait), the cached estimate is
-- dropped (data_version changed), and a scan then keeps its snapshot
\! cp "$RECIO_FIXTURES/estimate.db" "$RECIO_WORK/estimate_copy.db"
\getenv work RECIO_WORK
SELECT format('CREATE SERVER est_copy_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database %L)',
              :'work' || '/estimate_copy.db') AS create_server \gset
:create_server;
CREATE FOREIGN TABLE est_copy (id bigint, v text) SERVER est_copy_srv OPTIONS ("table" 'dense');
BEGIN;
SELECT explain_rows('SELECT * FROM est_copy') AS estimate;
SELECT in_transaction FROM recio_migrate.connections() WHERE server_name = 'est_copy_srv';
\! sqlite3 "$RECIO_WORK/estimate_copy.db" "INSERT INTO dense (v) SELECT v FROM dense" 2>&1 || echo "the writer could not commit"
SELECT explain_rows('SELECT * FROM est_copy') AS estimate;
SELECT count(*) FROM est_copy;
SELECT in_transaction FROM recio_migrate.connections() WHERE server_name = 'est_copy_srv';
COMMIT;

DROP SERVER est_copy_srv CASCADE;
DROP SERVER estimate_srv CASCADE;
DROP FOREIGN TABLE est_prices;
DROP FUNCTION count_rows(regclass);

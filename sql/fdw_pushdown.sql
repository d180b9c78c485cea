-- fdw_pushdown: what SQLite evaluates (EXPLAIN VERBOSE shows the SQLite
-- query) and what stays local because the semantics would differ; each
-- pushed query's result is checked against the same filter run locally.
SET TimeZone = 'UTC';
CREATE FOREIGN TABLE prices (id bigint, ts text OPTIONS (column_name 'timestamp'), price float8,
                             volume float8, momentum float8)
  SERVER btc_price_history_srv OPTIONS ("table" 'price_log');
CREATE FOREIGN TABLE prices_tstz (id bigint, ts timestamptz OPTIONS (column_name 'timestamp'), price numeric(12,2))
  SERVER btc_price_history_srv OPTIONS ("table" 'price_log');
CREATE FOREIGN TABLE trades_p (id bigint, ticker text, notes text, status text, ticket_text text OPTIONS (column_name 'ticket_id'),
                               pnl float8 OPTIONS (on_error 'null'))
  SERVER trades_srv OPTIONS ("table" 'trades');

-- projection: only referenced columns (plus the rowid that names rows in errors)
EXPLAIN (VERBOSE, COSTS OFF) SELECT price FROM prices;
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*) FROM prices;
-- comparisons, NULL tests, AND/OR/NOT, IN and = ANY on numeric columns
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM prices WHERE id >= 100 AND id < 110 AND price > 0;
SELECT count(*) FROM prices WHERE id >= 100 AND id < 110 AND price > 0;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM prices WHERE momentum IS NULL OR NOT (id <> 5);
SELECT count(*) AS pushed, (SELECT count(*) FROM prices WHERE (momentum + 0) IS NULL OR NOT (id + 0 <> 5)) AS local
FROM prices WHERE momentum IS NULL OR NOT (id <> 5);
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM prices WHERE id IN (1, 2, 3) OR id = ANY ('{7,8}'::int[]);
SELECT array_agg(id ORDER BY id) FROM prices WHERE id IN (1, 2, 3) OR id = ANY ('{7,8}'::int[]);
-- floats are bound as parameters, never printed into the SQL text
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM prices WHERE price = 118250.37::float8;
-- never pushed: NaN (SQLite binds it as NULL) and float parameters (they could be NaN)
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM prices WHERE price <> 'NaN'::float8 AND id < 3;
SELECT count(*) FROM prices WHERE price <> 'NaN'::float8 AND id < 3;
PREPARE by_price(float8) AS SELECT id FROM prices WHERE price = $1;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE by_price(118250.37);
RESET plan_cache_mode;
DEALLOCATE by_price;
-- text: equality under a deterministic collation, LIKE as a case-sensitive GLOB
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM trades_p WHERE status = 'open' AND ticker LIKE 'TEST-%';
SELECT count(*) AS pushed,
       (SELECT count(*) FROM trades_p WHERE status || '' = 'open' OR ticker || '' LIKE 'TEST-%') AS local
FROM trades_p WHERE status = 'open' OR ticker LIKE 'TEST-%';
-- LIKE metacharacters: % and _ are escaped, GLOB's * ? [ are bracketed
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM trades_p WHERE notes LIKE '100\% sure\_t*[?]%';
SELECT id, notes FROM trades_p WHERE notes LIKE '100\% sure\_%';
SELECT count(*) FROM trades_p WHERE notes LIKE 'ünï%';
-- LIKE is case-sensitive in PostgreSQL (SQLite's LIKE is not: it is never sent)
SELECT count(*) FROM trades_p WHERE ticker LIKE 'test-%';
-- ordering comparisons on text only under the C collation
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM trades_p WHERE ticker > 'TEST';
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM trades_p WHERE ticker COLLATE "C" > 'TEST';
-- not pushed: a text column over an INTEGER-affinity SQLite column (mixed storage classes)
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM trades_p WHERE ticket_text = '0';
SELECT count(*) FROM trades_p WHERE ticket_text = '0';
-- not pushed: timestamps stored as text, numeric (decimal vs binary), on_error 'null' columns
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM prices_tstz WHERE ts < '2025-07-14 01:00:00+00' AND price > 100;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM trades_p WHERE pnl IS NULL;
-- not pushed: expressions and functions
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM prices WHERE id % 2 = 0 AND abs(price) > 1;

-- ORDER BY on pushable columns, with NULLS ordering spelled out
EXPLAIN (VERBOSE, COSTS OFF) SELECT id, momentum FROM prices ORDER BY momentum DESC, id;
SELECT id, momentum FROM prices ORDER BY momentum NULLS FIRST, id LIMIT 3;
SELECT id FROM prices ORDER BY id DESC LIMIT 3;

-- parameters: a prepared statement and the inner side of a nested loop
PREPARE by_id(bigint) AS SELECT id, price FROM prices WHERE id = $1;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE by_id(42);
EXECUTE by_id(42);
SET plan_cache_mode = force_generic_plan;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE by_id(42);
EXECUTE by_id(43);
RESET plan_cache_mode;
DEALLOCATE by_id;
CREATE TEMP TABLE wanted(id bigint);
INSERT INTO wanted VALUES (10), (20), (30);
ANALYZE wanted;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
EXPLAIN (VERBOSE, COSTS OFF) SELECT w.id, p.price FROM wanted w JOIN prices p ON p.id = w.id;
SELECT w.id, p.price = (SELECT price FROM prices WHERE id + 0 = w.id) AS same FROM wanted w JOIN prices p ON p.id = w.id ORDER BY 1;
RESET enable_hashjoin;
RESET enable_mergejoin;

-- row estimates: sqlite_stat1 when present, count(*) otherwise, ANALYZE after that
SELECT explain_rows('SELECT * FROM prices');
SELECT explain_rows('SELECT * FROM trades_p');
ANALYZE trades_p;
SELECT reltuples FROM pg_class WHERE oid = 'trades_p'::regclass;
SELECT explain_rows($$SELECT * FROM trades_p WHERE status = 'open'$$);

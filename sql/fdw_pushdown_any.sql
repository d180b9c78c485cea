-- fdw_pushdown_any: col = ANY (array) and col <> ALL (array).  Every element
-- is checked before anything is sent: one element SQLite cannot take (NaN,
-- which SQLite binds as NULL) keeps the whole condition local, never a
-- half-built IN list.  NULL elements and empty arrays are pushed: SQLite's IN
-- and NOT IN follow the same three-valued logic as ANY and ALL.  Pushed or
-- not, every result is compared with the same query on a local copy.
CREATE FOREIGN TABLE any_prices (id bigint, price float8, momentum float8)
  SERVER btc_price_history_srv OPTIONS ("table" 'price_log');
CREATE FOREIGN TABLE any_trades (id bigint, notes text, status text)
  SERVER trades_srv OPTIONS ("table" 'trades');
CREATE TEMP TABLE local_prices AS SELECT * FROM any_prices;
CREATE TEMP TABLE local_trades AS SELECT * FROM any_trades;

-- same_rows: the ids a condition selects on the foreign table, checked
-- against the same condition on the local copy
CREATE FUNCTION same_rows(foreign_table text, local_table text, cond text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE f bigint[]; l bigint[];
BEGIN
  EXECUTE format('SELECT array_agg(id ORDER BY id) FROM %I WHERE %s', foreign_table, cond) INTO f;
  EXECUTE format('SELECT array_agg(id ORDER BY id) FROM %I WHERE %s', local_table, cond) INTO l;
  RETURN CASE WHEN f IS NOT DISTINCT FROM l THEN 'same' ELSE 'DIFFERENT' END
         || ': ' || coalesce(cardinality(f), 0) || ' rows'
         || CASE WHEN cardinality(f) <= 6 THEN ' ' || f::text ELSE '' END;
END $$;

-- the reported defect: NaN among the elements (was "IN (?1, )", a SQLite syntax error)
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM any_prices WHERE price = ANY ('{118250.37,NaN}'::float8[]);
SELECT same_rows('any_prices', 'local_prices', $$price = ANY ('{118250.37,NaN}'::float8[])$$);
SELECT same_rows('any_prices', 'local_prices', $$price <> ALL ('{118250.37,NaN}'::float8[])$$);
-- a refused leg keeps the whole OR local; a refused AND condition only itself
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM any_prices
  WHERE id = ANY ('{1,2}'::bigint[]) OR price = ANY ('{NaN}'::float8[]);
SELECT same_rows('any_prices', 'local_prices', $$id = ANY ('{1,2}'::bigint[]) OR price = ANY ('{NaN}'::float8[])$$);
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM any_prices
  WHERE id = ANY ('{1,2,3}'::bigint[]) AND price = ANY ('{118250.37,NaN}'::float8[]);
SELECT same_rows('any_prices', 'local_prices', $$id = ANY ('{1,2,3}'::bigint[]) AND price = ANY ('{118250.37,NaN}'::float8[])$$);

-- infinities are bound like any other float (SQLite's REAL orders them as PostgreSQL does)
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM any_prices WHERE price = ANY ('{Infinity,-Infinity,118248.93}'::float8[]);
SELECT same_rows('any_prices', 'local_prices', $$price = ANY ('{Infinity,-Infinity,118248.93}'::float8[])$$);
SELECT same_rows('any_prices', 'local_prices', $$price <> ALL ('{Infinity,118248.93}'::float8[])$$);

-- NULL elements: no match gives NULL, not false, so NOT (...) selects nothing on both sides
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM any_prices WHERE NOT (id = ANY ('{1,NULL,3}'::bigint[]));
SELECT same_rows('any_prices', 'local_prices', $$id = ANY ('{1,NULL,3}'::bigint[])$$);
SELECT same_rows('any_prices', 'local_prices', $$NOT (id = ANY ('{1,NULL,3}'::bigint[]))$$);
SELECT same_rows('any_prices', 'local_prices', $$(id = ANY ('{1,NULL,3}'::bigint[])) IS NULL AND id < 6$$);
-- <> ALL is NOT IN: false on a match, NULL with a NULL element, true otherwise
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM any_prices WHERE id <> ALL ('{1,2,NULL}'::bigint[]);
SELECT same_rows('any_prices', 'local_prices', $$id <> ALL ('{1,2,NULL}'::bigint[])$$);
SELECT same_rows('any_prices', 'local_prices', $$id <> ALL ('{1,2}'::int[]) AND id < 6$$);
-- a NULL column value (momentum is NULL for ids 1..60) against a list with and without NULL
SELECT same_rows('any_prices', 'local_prices', $$(momentum = ANY ('{0.073175,NULL}'::float8[])) IS NULL AND id < 63$$);
SELECT same_rows('any_prices', 'local_prices', $$(momentum <> ALL ('{0.073175}'::float8[])) IS NULL AND id < 63$$);
-- a NULL float element next to a NaN: still local
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM any_prices WHERE momentum = ANY ('{NULL,NaN}'::float8[]);
SELECT same_rows('any_prices', 'local_prices', $$NOT (momentum = ANY ('{NULL,NaN,0.073175}'::float8[]))$$);

-- empty arrays: = ANY is false and <> ALL true, even for a NULL column value
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM any_prices WHERE momentum = ANY ('{}'::float8[]);
SELECT same_rows('any_prices', 'local_prices', $$momentum = ANY ('{}'::float8[])$$);
SELECT same_rows('any_prices', 'local_prices', $$NOT (momentum = ANY ('{}'::float8[])) AND id < 4$$);
SELECT same_rows('any_prices', 'local_prices', $$momentum <> ALL ('{}'::float8[]) AND id < 4$$);
-- a NULL array: the planner folds the condition away
SELECT same_rows('any_prices', 'local_prices', $$id = ANY (NULL::bigint[])$$);
-- multidimensional arrays compare every element
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM any_prices WHERE id = ANY ('{{1,2},{3,NULL}}'::int[]);
SELECT same_rows('any_prices', 'local_prices', $$id = ANY ('{{1,2},{3,NULL}}'::int[])$$);

-- text elements with quotes, backslashes, newlines, tabs and non-ASCII characters
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM any_trades
  WHERE notes = ANY (ARRAY['it''s "quoted"', E'line1\nline2\ttabbed', 'back\slash C:\rec\io', 'ünïcødé ✓ 日本', '', NULL]);
SELECT same_rows('any_trades', 'local_trades',
  $$notes = ANY (ARRAY['it''s "quoted"', E'line1\nline2\ttabbed', 'back\slash C:\rec\io', 'ünïcødé ✓ 日本', '', NULL])$$);
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM any_trades WHERE status <> ALL ('{closed,expired}'::text[]);
SELECT same_rows('any_trades', 'local_trades', $$status <> ALL ('{closed,expired}'::text[])$$);

-- a Param array (prepared statement, generic plan): evaluated locally
PREPARE by_ids(bigint[]) AS SELECT id FROM any_prices WHERE id = ANY ($1);
SET plan_cache_mode = force_generic_plan;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE by_ids('{4,5,NULL}');
EXECUTE by_ids('{4,5,NULL}');
-- a list of Params (what "IN ($1, $2)" is in a generic plan): integers and
-- text are bound, floats stay local (a float parameter could be NaN)
PREPARE by_list(bigint, bigint) AS SELECT id FROM any_prices WHERE id IN ($1, $2);
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE by_list(4, NULL);
EXECUTE by_list(4, NULL);
PREPARE not_in_list(bigint, bigint) AS SELECT count(*) FROM any_prices WHERE id NOT IN ($1, $2);
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE not_in_list(4, NULL);
EXECUTE not_in_list(4, NULL);
EXECUTE not_in_list(4, 5);
SELECT count(*) FROM local_prices WHERE id NOT IN (4, 5);
PREPARE by_status(text, text) AS SELECT count(*) FROM any_trades WHERE status IN ($1, $2);
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE by_status('open', 'it''s');
EXECUTE by_status('open', 'it''s');
PREPARE by_prices(float8, float8) AS SELECT id FROM any_prices WHERE price IN ($1, $2);
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE by_prices('NaN', 118250.37);
EXECUTE by_prices('NaN', 118250.37);
RESET plan_cache_mode;
DEALLOCATE by_ids;
DEALLOCATE by_list;
DEALLOCATE not_in_list;
DEALLOCATE by_status;
DEALLOCATE by_prices;

-- more floats than SQLite binds in one statement: local, and still correct
SELECT format('price = ANY (%L::float8[])', (SELECT array_agg(g + 0.5) || 118250.37::float8 FROM generate_series(1, 40000) g)) AS big_cond \gset
-- plan_shape: which columns' conditions the SQLite query carries and which the Filter
CREATE FUNCTION plan_shape(query text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE line text; sent text := ''; kept text := '';
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || query LOOP
    IF line LIKE '%SQLite query:%' AND line LIKE '% WHERE %' THEN
      sent := array_to_string(ARRAY(SELECT m[1] FROM regexp_matches(split_part(line, ' WHERE ', 2), '"(\w+)" IN', 'g') m), ',');
    ELSIF line LIKE '%Filter:%' THEN
      kept := array_to_string(ARRAY(SELECT m[1] FROM regexp_matches(line, 'any_prices\.(\w+) = ANY', 'g') m), ',');
    END IF;
  END LOOP;
  RETURN 'SQLite: ' || coalesce(nullif(sent, ''), '-') || '; local: ' || coalesce(nullif(kept, ''), '-');
END $$;
SELECT plan_shape('SELECT id FROM any_prices WHERE ' || :'big_cond');
SELECT same_rows('any_prices', 'local_prices', :'big_cond');
-- two conditions that fit one at a time but not together: the first is sent,
-- the second is refused while the query is built and evaluated locally
SELECT format('price = ANY (%L::float8[]) AND momentum = ANY (%L::float8[])',
              (SELECT array_agg(g + 0.5) || 118336.9::float8 FROM generate_series(1, 20000) g),
              (SELECT array_agg(g + 0.25) || 0.073175::float8 FROM generate_series(1, 20000) g)) AS two_conds \gset
SELECT plan_shape('SELECT id FROM any_prices WHERE ' || :'two_conds');
SELECT same_rows('any_prices', 'local_prices', :'two_conds');

DROP FUNCTION plan_shape(text);
DROP FUNCTION same_rows(text, text, text);
DROP FOREIGN TABLE any_prices, any_trades;

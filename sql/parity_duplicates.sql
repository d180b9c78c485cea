-- parity_duplicates: a key repeated 20,000 times on each side is compared in
-- O(n log n) (rows sorted by their canonical bytes, then by their tolerance
-- buckets), not by pairing every row with every other; the statement
-- timeout fails the test if it takes the old quadratic time
SET statement_timeout = '20s';
CREATE SCHEMA pdup;
SET search_path = pdup, public;

-- one key, exact comparison: 3 rows changed, 2 deleted, 1 added on the target
CREATE TABLE dk_src (k int, v int, note text);
INSERT INTO dk_src SELECT 1, g, 'n' || g FROM generate_series(1, 20000) g;
CREATE TABLE dk_tgt AS SELECT * FROM dk_src;
UPDATE dk_tgt SET note = 'changed' WHERE v IN (10, 20, 30);
DELETE FROM dk_tgt WHERE v IN (40, 50);
INSERT INTO dk_tgt VALUES (1, 99999, 'extra');
SELECT mode, source_rows, target_rows, matched, missing, extra, mismatched, ok,
       source_rows = matched + mismatched + missing AS source_adds_up,
       target_rows = matched + mismatched + extra AS target_adds_up
FROM unnest(ARRAY['rows', 'checksum']) AS mode,
  LATERAL recio_migrate.parity('dk_src', 'dk_tgt', '{k}', mode => mode);
-- the four pairs left over differ in note whichever rows they pair
SELECT kind, column_name, count(*)
FROM recio_migrate.parity_diff('dk_src', 'dk_tgt', '{k}', max_rows => 100000)
WHERE column_name IS DISTINCT FROM 'v' GROUP BY kind, column_name ORDER BY kind, column_name;
-- the same rows on both sides, arriving in opposite orders, all match
CREATE TABLE dk_rev AS SELECT * FROM dk_src ORDER BY v DESC;
SELECT source_rows, target_rows, matched, missing, extra, mismatched
FROM recio_migrate.parity('dk_src', 'dk_rev', '{k}');

-- one key with a tolerance: every target price is 0.001 off, three are 0.501
-- off (no source price is within the tolerance of them); the target arrives in the opposite order, so pairing each source row
-- with the first target row within the tolerance would be quadratic
CREATE TABLE tk_src (k int, price numeric);
INSERT INTO tk_src SELECT 1, g FROM generate_series(1, 20000) g;
CREATE TABLE tk_tgt AS
  SELECT 1 AS k, g + CASE WHEN g IN (5, 6, 7) THEN 0.501 ELSE 0.001 END AS price
  FROM generate_series(20000, 1, -1) g;
SELECT mode, source_rows, target_rows, matched, missing, extra, mismatched, ok
FROM unnest(ARRAY['rows', 'checksum']) AS mode,
  LATERAL recio_migrate.parity('tk_src', 'tk_tgt', '{k}', tolerance => '0.01', mode => mode);
SELECT kind, count(*)
FROM recio_migrate.parity_diff('tk_src', 'tk_tgt', '{k}', tolerance => '0.01', max_rows => 100000)
GROUP BY kind ORDER BY kind;
-- values either side of a bucket boundary still match: 0.019 and 0.021 (and
-- 1.019 and 1.021) are 0.002 apart; buckets of 2 x 0.01 put them apart, the
-- buckets shifted by 0.01 together (pairing in order would miss both)
CREATE TABLE tb_src (k int, price numeric);
INSERT INTO tb_src VALUES (1, 0.019), (1, 1.019);
CREATE TABLE tb_tgt (k int, price numeric);
INSERT INTO tb_tgt VALUES (1, 1.021), (1, 0.021);
SELECT source_rows, target_rows, matched, missing, extra, mismatched
FROM recio_migrate.parity('tb_src', 'tb_tgt', '{k}', tolerance => '0.01');

RESET statement_timeout;
RESET search_path;
DROP SCHEMA pdup CASCADE;

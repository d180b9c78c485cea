-- parity_checksum: recio_migrate.checksum() gives equal checksums for equal
-- data across types and storage, and different ones for each kind of change
SELECT create_servers(ARRAY['parity']);
-- the legacy table, read with the types the data really has
CREATE FOREIGN TABLE src (id bigint, price float8, qty bigint, opened timestamptz, note text, flag boolean,
                          payload jsonb) SERVER parity_srv OPTIONS ("table" 'trades_src');
-- the same file read into other types, to build the migrated copy
CREATE FOREIGN TABLE src_typed (id integer, price numeric(30,17), qty numeric, opened timestamptz,
                                note varchar(10), flag boolean, payload json)
  SERVER parity_srv OPTIONS ("table" 'trades_src');
CREATE TABLE tgt AS SELECT * FROM src_typed;
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 'tgt'::regclass AND attnum > 0 ORDER BY attnum;

-- equal data, different types: same checksum
SELECT s.row_count, t.row_count, length(s.checksum) AS hex_digits, s.checksum = t.checksum AS same
FROM recio_migrate.checksum('src') s, recio_migrate.checksum('tgt') t;

-- row order and physical layout do not matter
CREATE TABLE tgt_reversed AS SELECT * FROM tgt ORDER BY id DESC;
SELECT (SELECT checksum FROM recio_migrate.checksum('tgt_reversed')) = (SELECT checksum FROM recio_migrate.checksum('src')) AS same;
UPDATE tgt SET qty = qty WHERE id = 2;
VACUUM FULL tgt;
SELECT (SELECT checksum FROM recio_migrate.checksum('tgt')) = (SELECT checksum FROM recio_migrate.checksum('src')) AS same_after_vacuum_full;

-- each kind of change shows (compare_to_src: count and checksum against the source)
CREATE FUNCTION compare_to_src(rel regclass, tol jsonb DEFAULT NULL) RETURNS TABLE(rows bigint, same boolean)
LANGUAGE sql SET search_path = public, pg_catalog AS $$
  SELECT t.row_count, t.checksum = s.checksum
  FROM recio_migrate.checksum('src', NULL, tol) s, recio_migrate.checksum(rel, NULL, tol) t $$;
-- a duplicated row does not cancel out
CREATE TABLE tgt_dup AS SELECT * FROM tgt UNION ALL SELECT * FROM tgt WHERE id = 1;
SELECT * FROM compare_to_src('tgt_dup');
CREATE TABLE tgt_dup2 AS SELECT * FROM tgt_dup UNION ALL SELECT * FROM tgt WHERE id = 1;
SELECT * FROM compare_to_src('tgt_dup2');
-- a NULL turned into '' and '' turned into NULL
CREATE TABLE tgt_empty AS SELECT * FROM tgt;
UPDATE tgt_empty SET note = '' WHERE id = 3;
SELECT * FROM compare_to_src('tgt_empty');
-- a timestamp shifted by one hour (a time zone mistake)
CREATE TABLE tgt_tz AS SELECT * FROM tgt;
UPDATE tgt_tz SET opened = opened + interval '1 hour' WHERE id = 2;
SELECT * FROM compare_to_src('tgt_tz');
-- a price changed by 0.00005: different exactly, the same within a tolerance of 0.0001
CREATE TABLE tgt_price AS SELECT * FROM tgt;
UPDATE tgt_price SET price = price + 0.00005 WHERE id = 2;
SELECT * FROM compare_to_src('tgt_price');
SELECT * FROM compare_to_src('tgt_price', '{"price": 0.0001}');
SELECT * FROM compare_to_src('tgt_price', '0.0001');
-- a changed value in a column left out of the comparison does not count
SELECT (SELECT checksum FROM recio_migrate.checksum('tgt_tz', '{id,price,qty,note}')) =
       (SELECT checksum FROM recio_migrate.checksum('src', '{note,qty,price,id}')) AS same_subset;

-- canonical numbers: 3 = 3.0 = 3e0, 0.5 = 0.5000, -0 = 0, across integer/numeric/float types
CREATE TABLE n_int (v bigint);
CREATE TABLE n_num (v numeric(10,4));
CREATE TABLE n_f8 (v float8);
CREATE TABLE n_f4 (v real);
INSERT INTO n_int VALUES (3), (0), (-7);
INSERT INTO n_num VALUES (3.0000), (-0.0), (-7);
INSERT INTO n_f8 VALUES (3e0), ('-0'), (-7.0);
INSERT INTO n_f4 VALUES (3), (0), (-7);
SELECT count(DISTINCT checksum) AS distinct_checksums
FROM (SELECT checksum FROM recio_migrate.checksum('n_int') UNION ALL SELECT checksum FROM recio_migrate.checksum('n_num')
      UNION ALL SELECT checksum FROM recio_migrate.checksum('n_f8') UNION ALL SELECT checksum FROM recio_migrate.checksum('n_f4')) c;
-- and text is compared byte for byte: '3' is not 3
CREATE TABLE n_text (v text);
INSERT INTO n_text VALUES ('3'), ('0'), ('-7');
SELECT (SELECT checksum FROM recio_migrate.checksum('n_text')) = (SELECT checksum FROM recio_migrate.checksum('n_int')) AS text_equals_number;

-- bad arguments
SELECT expect_error($$SELECT * FROM recio_migrate.checksum('tgt', '{id,nope}')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.checksum('tgt', '{id,id}')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.checksum('tgt', NULL, '{"note": 0.1}')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.checksum('tgt', NULL, '{"price": -1}')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.checksum('tgt', NULL, '{"price": "x"}')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.checksum('tgt', NULL, '[1]')$$);

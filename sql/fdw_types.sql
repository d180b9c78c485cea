-- fdw_types: every conversion rule from SQLite's dynamic values to the
-- declared PostgreSQL type (types.db: one value per row, stored as written)
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
CREATE FOREIGN TABLE notes (id bigint, note text) SERVER types_srv OPTIONS ("table" 'vals');

-- show_conv: each id's value through a foreign table, or the error it raises
CREATE FUNCTION show_conv(tbl regclass, ids int[])
RETURNS TABLE(id int, note text, result text)
LANGUAGE plpgsql SET search_path = public, pg_catalog AS $$
DECLARE i int; r text; st text; msg text;
BEGIN
  FOREACH i IN ARRAY ids LOOP
    id := i;
    SELECT n.note INTO note FROM notes n WHERE n.id = i;
    BEGIN
      EXECUTE format('SELECT v::text FROM %s WHERE id = $1', tbl) INTO r USING i;
      result := coalesce(r, 'NULL');
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
      result := st || ': ' || msg;
    END;
    RETURN NEXT;
  END LOOP;
END $$;

CREATE FOREIGN TABLE t_int2 (id bigint, v smallint) SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_int4 (id bigint, v integer) SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_int8 (id bigint, v bigint) SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_float4 (id bigint, v real) SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_float8 (id bigint, v double precision) SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_numeric (id bigint, v numeric) SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_num122 (id bigint, v numeric(12,2)) SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_num42 (id bigint, v numeric(4,2)) SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_text (id bigint, v text) SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_varchar5 (id bigint, v varchar(5)) SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_bytea (id bigint, v bytea) SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_bool (id bigint, v boolean) SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_date (id bigint, v date) SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_time (id bigint, v time) SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_ts (id bigint, v timestamp) SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_tstz (id bigint, v timestamptz) SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_tstz_ny (id bigint, v timestamptz OPTIONS (timezone 'America/New_York'))
  SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_ts_ny (id bigint, v timestamp) SERVER types_srv
  OPTIONS ("table" 'vals', timezone 'America/New_York');
CREATE FOREIGN TABLE t_tstz_ms (id bigint, v timestamptz OPTIONS (epoch_unit 'ms'))
  SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_tstz_us (id bigint, v timestamptz OPTIONS (epoch_unit 'us'))
  SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_jsonb (id bigint, v jsonb) SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_uuid (id bigint, v uuid) SERVER types_srv OPTIONS ("table" 'vals');

-- integers: range-checked, a fraction is never dropped, text must be integer syntax
SELECT * FROM show_conv('t_int2', '{1,3,4,5,6,7,8,9,16}');
SELECT * FROM show_conv('t_int4', '{1,2,4,5,6,7,13,15}');
SELECT * FROM show_conv('t_int8', '{1,14,15,17,18}');
-- floating point: integers must be exact, text parsed like float8in
SELECT * FROM show_conv('t_float8', '{1,4,10,11,12,13,14,6,8,16}');
SELECT * FROM show_conv('t_float4', '{1,12,15}');
-- only decimal syntax: SQLite keeps hex and inf/nan texts as TEXT (they would compare as text there)
SELECT * FROM show_conv('t_float8', '{70,71,72,74,7}');
SELECT * FROM show_conv('t_int8', '{70,74}');
-- numeric: the shortest decimal that round-trips the double, then the typmod
SELECT * FROM show_conv('t_numeric', '{1,4,10,11,12,13,14,15,17,6,8}');
SELECT * FROM show_conv('t_num122', '{1,10,11,12,13,6}');
SELECT * FROM show_conv('t_num42', '{4,12}');
-- wide typmods: the direct path stops at 34 digits, numeric_in takes over
CREATE FOREIGN TABLE t_num3633 (id bigint, v numeric(36,33)) SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_num3430 (id bigint, v numeric(34,30)) SERVER types_srv OPTIONS ("table" 'vals');
SELECT * FROM show_conv('t_num3633', '{1,12,4}');
SELECT * FROM show_conv('t_num3430', '{1,4,12}');
SELECT * FROM show_conv('t_numeric', '{70,72,74}');
-- text: valid UTF-8 kept byte for byte, numbers in PostgreSQL's text form
SELECT * FROM show_conv('t_text', '{1,4,10,12,40,41,42,43,8,9}');
SELECT v = 'ünïcødé ✓ 日本 🚀' AS same_text, octet_length(v) FROM t_text WHERE id = 40;
SELECT * FROM show_conv('t_varchar5', '{1,63}');
SELECT * FROM show_conv('t_bytea', '{8,6,1,4}');
SELECT * FROM show_conv('t_bool', '{50,51,52,53,6}');
-- dates and times
SELECT * FROM show_conv('t_date', '{30,20,26,27,1}');
SELECT * FROM show_conv('t_time', '{31,20,34}');
-- timestamps: zone-less texts are read in the timezone option (default UTC),
-- never in the session's TimeZone
SELECT * FROM show_conv('t_tstz', '{20,21,22,23,24,25,26,27,28,30,32,33,34,6}');
SET TimeZone = 'Asia/Tokyo';
SELECT id, v, v AT TIME ZONE 'UTC' AS utc FROM t_tstz WHERE id IN (20, 21) ORDER BY id;
SET TimeZone = 'UTC';
-- New York local time: summer (EDT, -04) and winter (EST, -05)
SELECT * FROM show_conv('t_tstz_ny', '{20,35,21,23}');
SELECT * FROM show_conv('t_ts', '{20,23,24,28}');
SELECT * FROM show_conv('t_ts_ny', '{20,23,24}');
-- epoch units, and epochs beyond the timestamp range
SELECT * FROM show_conv('t_tstz_ms', '{29,28,73}');
SELECT * FROM show_conv('t_tstz_us', '{29,73}');
SELECT * FROM show_conv('t_tstz', '{73}');
-- the declared type's precision and domain constraints apply
CREATE FOREIGN TABLE t_tstz0 (id bigint, v timestamptz(0)) SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_time0 (id bigint, v time(0)) SERVER types_srv OPTIONS ("table" 'vals');
SELECT * FROM show_conv('t_tstz0', '{23,33}');
SELECT * FROM show_conv('t_time0', '{31}');
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE DOMAIN required_text AS text NOT NULL;
CREATE FOREIGN TABLE t_domain (id bigint, v positive_int) SERVER types_srv OPTIONS ("table" 'vals');
CREATE FOREIGN TABLE t_domain_nn (id bigint, v required_text) SERVER types_srv OPTIONS ("table" 'vals');
SELECT * FROM show_conv('t_domain', '{1,3,6}');
SELECT * FROM show_conv('t_domain_nn', '{40,9}');
-- everything else goes through the type's input function
SELECT * FROM show_conv('t_jsonb', '{60,61,1}');
SELECT * FROM show_conv('t_uuid', '{62,6}');

-- REAL and INTEGER -> numeric is built directly (no text detour); it must
-- equal numeric_in of the shortest round-trip text byte for byte
SET extra_float_digits = 1;
CREATE FOREIGN TABLE reals_f (id bigint, v float8, i bigint) SERVER types_srv OPTIONS ("table" 'reals');
CREATE FOREIGN TABLE reals_n (id bigint, v numeric, i numeric) SERVER types_srv OPTIONS ("table" 'reals');
CREATE FOREIGN TABLE reals_n2 (id bigint, v numeric(20,2), i numeric(20,2)) SERVER types_srv OPTIONS ("table" 'reals');
CREATE FOREIGN TABLE reals_n6 (id bigint, v numeric(24,6), i numeric(24,6)) SERVER types_srv OPTIONS ("table" 'reals');
CREATE FOREIGN TABLE reals_n0 (id bigint, v numeric(30,0), i numeric(30,0)) SERVER types_srv OPTIONS ("table" 'reals');
SELECT count(*) AS values_checked,
       count(*) FILTER (WHERE numeric_send(n.v) <> numeric_send(f.v::text::numeric)
                           OR numeric_send(n.i) <> numeric_send(f.i::numeric)) AS differ_numeric,
       count(*) FILTER (WHERE numeric_send(n2.v) <> numeric_send(f.v::text::numeric(20,2))
                           OR numeric_send(n2.i) <> numeric_send(f.i::numeric(20,2))) AS differ_20_2,
       count(*) FILTER (WHERE numeric_send(n6.v) <> numeric_send(f.v::text::numeric(24,6))
                           OR numeric_send(n6.i) <> numeric_send(f.i::numeric(24,6))) AS differ_24_6,
       count(*) FILTER (WHERE numeric_send(n0.v) <> numeric_send(f.v::text::numeric(30,0))
                           OR numeric_send(n0.i) <> numeric_send(f.i::numeric(30,0))) AS differ_30_0
FROM reals_f f JOIN reals_n n USING (id) JOIN reals_n2 n2 USING (id) JOIN reals_n6 n6 USING (id)
JOIN reals_n0 n0 USING (id);
-- rounding ties round half away from zero, as numeric does
SELECT f.v, n2.v FROM reals_f f JOIN reals_n2 n2 USING (id) WHERE f.v::text LIKE '%.125' OR f.v::text LIKE '%.375' ORDER BY f.id LIMIT 4;

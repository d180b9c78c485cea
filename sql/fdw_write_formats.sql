-- fdw_write_formats: values written in the legacy writer's representation
-- (format, timezone, epoch_unit, allow_rounding), read back with the sqlite3
-- CLI: the text and typeof() of every column.
\getenv work RECIO_WORK
\! mkdir -p "$RECIO_WORK/write" && chmod 777 "$RECIO_WORK/write" && rm -f "$RECIO_WORK/write/formats.db"
\! sqlite3 "$RECIO_WORK/write/formats.db" "CREATE TABLE times (id INTEGER PRIMARY KEY, ny_t TEXT, utc_z1 TEXT, utc_z3 TEXT, utc_z6 TEXT, utc_zvar TEXT, utc_space TEXT, epoch_ms INTEGER, d TEXT, t TEXT, money REAL, flag INTEGER, doc TEXT, data BLOB, note TEXT, naive TIMESTAMP); INSERT INTO times (ny_t, utc_z3, utc_space, epoch_ms, d, t, money) VALUES ('2025-08-01T10:00:00', '2025-08-01T14:00:00.000Z', '2025-08-01 14:00:00', 1754056800000, '2025-08-01', '10:00:00', 0.30000000000000004);"
\! chmod 666 "$RECIO_WORK/write/formats.db"
\set formats :work '/write/formats.db'
CREATE SERVER f_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database :'formats', updatable 'true');
CREATE FOREIGN TABLE f_times (
  id bigint,
  ny_t timestamptz OPTIONS (format 'YYYY-MM-DD"T"HH24:MI:SS', timezone 'America/New_York'),
  utc_z1 timestamptz OPTIONS (format 'YYYY-MM-DD"T"HH24:MI:SS.FF1"Z"'),
  utc_z3 timestamptz OPTIONS (format 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
  utc_z6 timestamptz OPTIONS (format 'YYYY-MM-DD"T"HH24:MI:SS.FF6"Z"'),
  utc_zvar timestamptz OPTIONS (format 'YYYY-MM-DD"T"HH24:MI:SS.FF"Z"'),
  utc_space timestamptz,
  epoch_ms timestamptz OPTIONS (epoch_unit 'ms'),
  d date, t time, money numeric, flag boolean, doc json, data bytea, note text,
  naive timestamp OPTIONS (format 'YYYY-MM-DD HH24:MI:SS')
) SERVER f_srv OPTIONS ("table" 'times');

-- a summer and a winter instant; fractions of 1, 3 and 6 digits; NULLs in every column of the last row
INSERT INTO f_times (ny_t, utc_z1, utc_z3, utc_z6, utc_zvar, utc_space, epoch_ms, d, t, money, flag, doc, data, note, naive)
VALUES
  ('2025-08-01 14:00:00+00', '2025-08-01 14:00:00.5+00', '2025-08-01 14:00:00.123+00', '2025-08-01 14:00:00.123456+00',
   '2025-08-01 14:00:00.12+00', '2025-08-01 14:00:00+00', '2025-08-01 14:00:00.250+00', '2025-08-01', '10:00:00',
   0.30000000000000004, true, '{"side": "buy"}', '\x00ff10', 'café', '2025-08-01 10:00:00'),
  ('2025-01-15 15:30:00+00', '2025-01-15 15:30:00+00', '2025-01-15 15:30:00+00', '2025-01-15 15:30:00+00',
   '2025-01-15 15:30:00+00', '2025-01-15 15:30:00+00', '2025-01-15 15:30:00+00', '2025-01-15', '23:59:59.5',
   1e20, false, '[1, 2.5]', '\x', '', '2025-01-15 15:30:00'),
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
\! sqlite3 -readonly "$RECIO_WORK/write/formats.db" "SELECT id, ny_t, utc_z1, utc_z3, utc_z6, utc_zvar, utc_space FROM times ORDER BY id"
\! sqlite3 -readonly "$RECIO_WORK/write/formats.db" "SELECT id, epoch_ms, typeof(epoch_ms), d, t, CASE WHEN money IS NULL THEN 'NULL' ELSE printf('%!.17g', money) END, typeof(money), flag, typeof(flag), doc, hex(data), typeof(data), note, naive FROM times ORDER BY id"
\! sqlite3 -readonly "$RECIO_WORK/write/formats.db" "SELECT id, typeof(ny_t), typeof(utc_z1), typeof(d), typeof(t), typeof(doc), typeof(note), typeof(naive) FROM times ORDER BY id"
-- the rows read back as the values written (the first row is the legacy writer's own)
SELECT id, ny_t AT TIME ZONE 'UTC' AS ny_t_utc, utc_z3 AT TIME ZONE 'UTC' AS utc_z3, epoch_ms AT TIME ZONE 'UTC' AS epoch_ms,
       money FROM f_times ORDER BY id;

-- nothing is rounded or cut without being asked
SELECT expect_error($$INSERT INTO f_times (ny_t) VALUES ('2025-08-01 14:00:00.5+00')$$);
SELECT expect_error($$INSERT INTO f_times (utc_z3) VALUES ('2025-08-01 14:00:00.1234+00')$$);
SELECT expect_error($$INSERT INTO f_times (utc_z1) VALUES ('2025-08-01 14:00:00.25+00')$$);
SELECT expect_error($$INSERT INTO f_times (epoch_ms) VALUES ('2025-08-01 14:00:00.0005+00')$$);
SELECT expect_error($$INSERT INTO f_times (money) VALUES (0.1 + 0.12345678901234567890123)$$);
SELECT expect_error($$INSERT INTO f_times (money) VALUES ('NaN')$$);
SELECT expect_error($$INSERT INTO f_times (ny_t) VALUES ('infinity')$$);
SELECT expect_error($$INSERT INTO f_times (d) VALUES ('10000-01-01')$$);
ALTER FOREIGN TABLE f_times ALTER COLUMN money OPTIONS (ADD allow_rounding 'true');
INSERT INTO f_times (id, money) VALUES (10, 0.1 + 0.12345678901234567890123);
\! sqlite3 -readonly "$RECIO_WORK/write/formats.db" "SELECT printf('%!.17g', money), typeof(money) FROM times WHERE id = 10"

-- formats: checked when set, and against the column's zone when written
SELECT expect_error($$ALTER FOREIGN TABLE f_times ALTER COLUMN ny_t OPTIONS (SET format 'YYYY-MM-DDTHH24:MI:SS')$$);
SELECT expect_error($$ALTER FOREIGN TABLE f_times ALTER COLUMN ny_t OPTIONS (SET format 'YYYY-MM-DD HH:MI:SS')$$);
SELECT expect_error($$ALTER FOREIGN TABLE f_times ALTER COLUMN ny_t OPTIONS (SET format 'YYYY-MM-DD')$$);
SELECT expect_error($$ALTER FOREIGN TABLE f_times ALTER COLUMN ny_t OPTIONS (SET format 'YYYY-MM-DD "T HH24:MI:SS')$$);
-- a "Z" written for a New York clock would read back as another instant
ALTER FOREIGN TABLE f_times ALTER COLUMN ny_t OPTIONS (SET format 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
SELECT expect_error($$INSERT INTO f_times (ny_t) VALUES ('2025-08-01 14:00:00+00')$$);
-- a zone offset in the text is written for the column's zone
ALTER FOREIGN TABLE f_times ALTER COLUMN ny_t OPTIONS (SET format 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM');
INSERT INTO f_times (id, ny_t) VALUES (11, '2025-08-01 14:00:00+00'), (12, '2025-01-15 15:30:00+00');
\! sqlite3 -readonly "$RECIO_WORK/write/formats.db" "SELECT id, ny_t FROM times WHERE id IN (11, 12) ORDER BY id"
-- format and epoch_unit together, and a format on a column that is not a timestamp
ALTER FOREIGN TABLE f_times ALTER COLUMN epoch_ms OPTIONS (ADD format 'YYYY-MM-DD HH24:MI:SS');
SELECT expect_error($$INSERT INTO f_times (epoch_ms) VALUES (now())$$);
ALTER FOREIGN TABLE f_times ALTER COLUMN epoch_ms OPTIONS (DROP format);
ALTER FOREIGN TABLE f_times ALTER COLUMN note OPTIONS (ADD format 'YYYY-MM-DD HH24:MI:SS');
SELECT expect_error($$INSERT INTO f_times (note) VALUES ('x')$$);

DROP SERVER f_srv CASCADE;

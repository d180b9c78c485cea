-- parity_types: parity(), parity_diff() and parity_all() between legacy
-- tables imported with the default types (TEXT stays text, REAL double
-- precision, INTEGER bigint) and hand-made typed targets: the source is read
-- through the wrapper's conversion into the target's types, as migrate()
-- converts it
CREATE SCHEMA ptt;
CREATE SCHEMA ptt_legacy;
SET search_path = ptt, public;
SET TimeZone = 'UTC';
DO $$ BEGIN
  EXECUTE format('CREATE SERVER ptt_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database %L)',
                 current_setting('recio_test.fixtures') || '/parity_types.db');
END $$;
IMPORT FOREIGN SCHEMA main FROM SERVER ptt_srv INTO ptt_legacy;
-- the epoch column holds milliseconds
ALTER FOREIGN TABLE ptt_legacy.ticks ALTER COLUMN at_ms OPTIONS (ADD epoch_unit 'ms');
SELECT attname, format_type(atttypid, atttypmod) AS declared
FROM pg_attribute WHERE attrelid = 'ptt_legacy.ticks'::regclass AND attnum > 0 ORDER BY attnum;

-- the targets, made by hand with the types the data has
CREATE TABLE ticks (id integer PRIMARY KEY, ts timestamptz, price numeric(12,2), amount numeric,
                    active boolean, meta jsonb, ref uuid, day date, at_ms timestamptz);
INSERT INTO ticks VALUES
  (1, '2024-01-01 00:00:00+00', 19.99, 12.5, true, '{"a": 2, "b": 1}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
   '2024-03-01', '2024-01-01 00:00:00+00'),
  (2, '2024-01-01 10:00:00+00', 0.10, 0.30, false, '[]', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12', '2024-02-29',
   '2024-01-01 10:00:00.123+00'),
  (3, '2025-07-14 13:45:12.123456+00', 118250.37, -18.72, true, '{"b": 1, "a": 2}',
   'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13', '1999-12-31', '1970-01-01 00:00:00+00'),
  (4, '2024-02-29 21:59:59+00', -18.72, 100, false, 'null', NULL, NULL, '1969-12-31 23:59:59+00'),
  (5, '2024-06-01 12:30:00+00', NULL, NULL, NULL, NULL, NULL, '2024-06-01', NULL),
  (6, '2024-06-01 00:00:00+00', 5, 5, true, '{"k": [1, 2]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a16',
   '2024-06-02', '2024-06-01 12:00:00+00'),
  (7, NULL, 0.01, 0.01, false, '{}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a17', '2024-06-03',
   '2024-06-01 12:00:00.001+00'),
  (8, '2024-06-01 11:30:00.5+00', 7.25, 7.25, true, '"x"', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a18', '2024-06-04',
   '2024-06-01 12:00:00.002+00'),
  (9, '2024-12-31 23:59:59.999999+00', 9.50, 9.5, false, '1', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a19',
   '2024-06-05', '2024-06-01 12:00:00.003+00'),
  (10, '2024-01-10 00:00:00+00', 10, 10, true, '{"n": 10}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1a',
   '2024-06-06', '2024-06-01 12:00:00.004+00'),
  (11, '2024-01-11 00:00:00+00', 11.11, 11.11, false, '{"n": 11}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1b',
   '2024-06-07', '2024-06-01 12:00:00.005+00'),
  (12, '2024-01-12 05:00:00+00', 12.50, 12.5, true, '{"n": 12}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1c',
   '2024-06-08', '2024-06-01 12:00:00.006+00');
CREATE TABLE odd_ticks (id integer PRIMARY KEY, ts timestamptz, amount numeric, active boolean, meta jsonb,
                        ref uuid, day date);
INSERT INTO odd_ticks
SELECT i, '2024-01-01 00:00:00+00', 1.5, true, '{}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-03-01'
FROM generate_series(1, 8) i;

-- equal data: ok in both modes although no column has the same type on both
-- sides (the text key is compared in integer order: its text order differs)
SELECT * FROM recio_migrate.parity('ptt_legacy.ticks', 'ticks');
SELECT * FROM recio_migrate.parity('ptt_legacy.ticks', 'ticks', mode => 'checksum');
SELECT count(*) AS diff_rows FROM recio_migrate.parity_diff('ptt_legacy.ticks', 'ticks');
-- source_checksum is the checksum of the converted source: the target's,
-- not that of the foreign table as declared (text)
SELECT p.source_checksum = t.checksum AS source_is_converted, p.source_checksum <> s.checksum AS not_as_declared
FROM recio_migrate.parity('ptt_legacy.ticks', 'ticks') p,
     recio_migrate.checksum('ticks') t, recio_migrate.checksum('ptt_legacy.ticks') s;
-- the comparison is the one migrate() makes: a copy migrated into another
-- hand-made target is equal to the hand-made one
CREATE TABLE ticks_migrated (LIKE ticks INCLUDING ALL);
SELECT status, rows_read, rows_written, rows_rejected FROM recio_migrate.migrate('ptt_legacy.ticks', 'ticks_migrated');
SELECT ok, matched FROM recio_migrate.parity('ptt_legacy.ticks', 'ticks_migrated');
SELECT ok, matched FROM recio_migrate.parity('ticks_migrated', 'ticks');

-- planted differences: a timestamp an hour later, a price, a flag, a JSON
-- value, an amount moved by 0.01, a row deleted and one added
BEGIN;
UPDATE ticks SET ts = ts + interval '1 hour' WHERE id = 2;
UPDATE ticks SET price = 20.00 WHERE id = 1;
UPDATE ticks SET active = NOT active WHERE id = 10;
UPDATE ticks SET meta = '{"a": 3, "b": 1}' WHERE id = 3;
UPDATE ticks SET amount = amount + 0.01 WHERE id = 6;
DELETE FROM ticks WHERE id = 11;
INSERT INTO ticks (id, ts) VALUES (13, '2024-01-13 00:00:00+00');
SELECT source_rows, target_rows, matched, missing, extra, mismatched, ok
FROM recio_migrate.parity('ptt_legacy.ticks', 'ticks');
SELECT source_rows, target_rows, matched, missing, extra, mismatched, ok
FROM recio_migrate.parity('ptt_legacy.ticks', 'ticks', mode => 'checksum');
-- both values of each mismatch, the source's as converted
SELECT * FROM recio_migrate.parity_diff('ptt_legacy.ticks', 'ticks');
-- the tolerance applies to the converted amount (text in the legacy file)
SELECT matched, mismatched FROM recio_migrate.parity('ptt_legacy.ticks', 'ticks', tolerance => '{"amount": 0.05}');
SELECT * FROM recio_migrate.parity_diff('ptt_legacy.ticks', 'ticks', tolerance => '{"amount": 0.05}')
WHERE kind = 'mismatch';
SELECT matched, mismatched
FROM recio_migrate.parity('ptt_legacy.ticks', 'ticks', tolerance => '{"amount": 0.05}', mode => 'checksum');
-- key_columns and columns narrow the comparison as before
SELECT source_rows, matched, missing, extra, mismatched
FROM recio_migrate.parity('ptt_legacy.ticks', 'ticks', key_columns => '{id}', columns => '{day,at_ms}');
ROLLBACK;

-- values that do not convert are mismatches that show the legacy text, never
-- an error; a key that does not convert is a source row the target lacks;
-- '1' and '01' are one integer key (a duplicate); a NULL key sorts last
SELECT source_rows, target_rows, matched, missing, extra, mismatched, ok
FROM recio_migrate.parity('ptt_legacy.odd_ticks', 'odd_ticks');
SELECT * FROM recio_migrate.parity_diff('ptt_legacy.odd_ticks', 'odd_ticks');
SELECT source_rows, target_rows, matched, missing, extra, mismatched, ok
FROM recio_migrate.parity('ptt_legacy.odd_ticks', 'odd_ticks', mode => 'checksum');

-- parity_all over the server: each foreign table against its typed target
SELECT source_table, target_table, mode, source_rows, target_rows, matched, missing, extra, mismatched, ok, error
FROM recio_migrate.parity_all('ptt_srv', 'ptt') ORDER BY source_table;
SELECT source_table, matched, mismatched, ok
FROM recio_migrate.parity_all('ptt_srv', 'ptt', mode => 'rows') ORDER BY source_table;

-- local-to-local pairs keep the rule: columns whose types cannot be compared are refused
CREATE TABLE local_ticks AS SELECT * FROM ptt_legacy.ticks;
SELECT expect_error($$SELECT * FROM recio_migrate.parity('ptt.local_ticks', 'ptt.ticks')$$);
CREATE TABLE local_ts AS SELECT id::integer AS id, ts FROM ptt_legacy.ticks;
SELECT expect_error($$SELECT * FROM recio_migrate.parity('ptt.local_ts', 'ptt.ticks', columns => '{ts}')$$);
SELECT expect_error($$SELECT * FROM recio_migrate.parity_diff('ptt.local_ts', 'ptt.ticks', columns => '{ts}')$$);
-- a foreign source whose columns compare as declared is read as before
CREATE FOREIGN TABLE ptt_legacy.ticks_typed (id bigint, ts timestamptz, price float8, amount numeric)
  SERVER ptt_srv OPTIONS ("table" 'ticks');
SELECT source_rows, matched, ok
FROM recio_migrate.parity('ptt_legacy.ticks_typed', 'ticks', columns => '{ts,price,amount}');

-- the legacy file was only read
SELECT count(*) AS ticks FROM ptt_legacy.ticks;
RESET TimeZone;
DROP SCHEMA ptt CASCADE;
DROP SCHEMA ptt_legacy CASCADE;
DROP SERVER ptt_srv CASCADE;

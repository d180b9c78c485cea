-- sync: sync() and sync_server() bring migrated targets up to date with a
-- legacy file that keeps changing.  The file is a copy of parity.db in the
-- run's work directory (the fixtures never change), changed with sqlite3.
\getenv work RECIO_WORK
-- run ids that do not depend on the runs of the tests before this one (migrate_targets uses 1001 on)
SELECT setval('recio_migrate.runs_run_id_seq', 3000) AS first_run_id_after;
\! cp "$RECIO_FIXTURES/parity.db" "$RECIO_WORK/sync.db"
\! sqlite3 "$RECIO_WORK/sync.db" "CREATE TABLE legs (account TEXT NOT NULL, leg INTEGER NOT NULL, qty INTEGER, PRIMARY KEY (account, leg)); INSERT INTO legs VALUES ('a', 1, 10), ('a', 2, 20), ('b', 1, 30); CREATE TABLE ticks (id INTEGER, v TEXT); INSERT INTO ticks VALUES (1, 'one'), (2, 'two');"
SELECT format('CREATE SERVER sync_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database %L)',
              :'work' || '/sync.db') AS create_server \gset
:create_server;
SELECT sqlite_table, target, action, sqlite_rows, target_rows, counts_match
FROM recio_migrate.migrate_server('sync_srv', 'sync_t') ORDER BY 1;
\d sync_t.prices

-- parity as a one-line verdict
CREATE FUNCTION sync_parity(src regclass, tgt regclass, keys text[] DEFAULT NULL) RETURNS text
LANGUAGE sql AS $$
  SELECT format('source %s, target %s, missing %s, extra %s, mismatched %s, ok %s',
                source_rows, target_rows, missing, extra, mismatched, ok)
  FROM recio_migrate.parity(src, tgt, keys)
$$;

-- the legacy writer: 3 new prices, a changed price, a note to NULL and one
-- from NULL, a changed timestamp, a deleted row
\! sqlite3 "$RECIO_WORK/sync.db" "INSERT INTO prices VALUES (20001, '2024-02-01 00:00:00', 1.5, 1, 'new'), (20002, '2024-02-01 00:01:00', 2.5, 2, NULL), (20003, '2024-02-01 00:02:00', 3.5, 3, 'new'); UPDATE prices SET price = 7.25 WHERE id = 5; UPDATE prices SET note = NULL WHERE id = 7; UPDATE prices SET note = 'was null' WHERE id = 10; UPDATE prices SET ts = '2030-01-01 12:00:00' WHERE id = 11; DELETE FROM prices WHERE id = 12;"
SELECT sync_parity('sync_t_sqlite.prices', 'sync_t.prices');

-- append: only the rows past the target's greatest id; the bound is SQLite's work
SET client_min_messages = debug1;
SELECT status, rows_inserted, rows_updated, rows_deleted, rows_only_in_target, rows_rejected
FROM recio_migrate.sync('sync_t_sqlite.prices', 'sync_t.prices', 'append');
RESET client_min_messages;
SELECT id, ts, price, qty, note FROM sync_t.prices WHERE id > 20000 ORDER BY id;
-- the updates and the delete are not append's business
SELECT sync_parity('sync_t_sqlite.prices', 'sync_t.prices');
-- again: nothing new
SELECT status, rows_inserted FROM recio_migrate.sync('sync_t_sqlite.prices', 'sync_t.prices', 'append');

-- a row the new application wrote into the target
INSERT INTO sync_t.prices VALUES (900000, '2024-03-01 00:00:00', 9, 9, 'app');

-- upsert: the four changed rows; the deleted one and the application's row are left alone and counted
SELECT status, rows_inserted, rows_updated, rows_deleted, rows_only_in_target, rows_rejected
FROM recio_migrate.sync('sync_t_sqlite.prices', 'sync_t.prices');
SELECT id, ts, price, note FROM sync_t.prices WHERE id IN (5, 7, 10, 11, 12, 900000) ORDER BY id;
SELECT sync_parity('sync_t_sqlite.prices', 'sync_t.prices');
-- mirror: those two go as well
SELECT status, rows_inserted, rows_updated, rows_deleted, rows_only_in_target, rows_rejected
FROM recio_migrate.sync('sync_t_sqlite.prices', 'sync_t.prices', 'mirror');
SELECT sync_parity('sync_t_sqlite.prices', 'sync_t.prices');
-- the ledger
SELECT kind, sync_mode, source_table, target_table, status, rows_read, rows_written, rows_inserted, rows_updated,
       rows_deleted, rows_only_in_target, rows_rejected
FROM recio_migrate.runs WHERE target_table = 'sync_t.prices' ORDER BY run_id;

-- on_error: a quantity that is no integer
\! sqlite3 "$RECIO_WORK/sync.db" "UPDATE prices SET qty = 'lots', price = 8 WHERE id = 3; UPDATE prices SET price = 9 WHERE id = 4; INSERT INTO prices VALUES (20004, '2024-02-01 00:03:00', 4.5, 'many', 'bad');"
-- stop (the default): the run fails and leaves the target as it was
SELECT status, rows_inserted, rows_updated FROM recio_migrate.sync('sync_t_sqlite.prices', 'sync_t.prices');
SELECT error FROM recio_migrate.runs WHERE target_table = 'sync_t.prices' ORDER BY run_id DESC LIMIT 1;
-- reject: the two rows go to rejects and are not applied; the rest is
SELECT status, rows_inserted, rows_updated, rows_only_in_target, rows_rejected
FROM recio_migrate.sync('sync_t_sqlite.prices', 'sync_t.prices', on_error => 'reject');
SELECT source_table, sqlite_rowid, sqlite_key, column_name, raw_value, storage_class, sqlstate, action
FROM recio_migrate.rejects WHERE run_id = (SELECT max(run_id) FROM recio_migrate.runs) ORDER BY sqlite_rowid;
SELECT id, price, qty FROM sync_t.prices WHERE id IN (3, 4, 20004) ORDER BY id;
-- mirror with rejects: the rejected row 3 looks like a row only in the target, so nothing is deleted
SELECT status, rows_deleted, rows_only_in_target, rows_rejected
FROM recio_migrate.sync('sync_t_sqlite.prices', 'sync_t.prices', 'mirror', on_error => 'reject');
SELECT count(*) AS row_3_kept FROM sync_t.prices WHERE id = 3;
\! sqlite3 "$RECIO_WORK/sync.db" "UPDATE prices SET qty = 4 WHERE id = 3; UPDATE prices SET qty = 5 WHERE id = 20004;"
SELECT status, rows_inserted, rows_updated, rows_deleted, rows_rejected
FROM recio_migrate.sync('sync_t_sqlite.prices', 'sync_t.prices', 'mirror');
SELECT sync_parity('sync_t_sqlite.prices', 'sync_t.prices');

-- a text key
\! sqlite3 "$RECIO_WORK/sync.db" "UPDATE symbols SET name = 'Ethereum' WHERE symbol = 'ETH'; INSERT INTO symbols VALUES ('SOL', 'Solana'); UPDATE symbols SET name = NULL WHERE symbol = 'ÄRG';"
SELECT status, rows_inserted, rows_updated, rows_deleted, rows_only_in_target
FROM recio_migrate.sync('sync_t_sqlite.symbols', 'sync_t.symbols');
SELECT * FROM sync_t.symbols ORDER BY symbol COLLATE "C";
SELECT sync_parity('sync_t_sqlite.symbols', 'sync_t.symbols');

-- a composite key
\! sqlite3 "$RECIO_WORK/sync.db" "UPDATE legs SET qty = 21 WHERE account = 'a' AND leg = 2; INSERT INTO legs VALUES ('b', 2, 40); DELETE FROM legs WHERE account = 'a' AND leg = 1;"
SELECT status, rows_inserted, rows_updated, rows_deleted, rows_only_in_target
FROM recio_migrate.sync('sync_t_sqlite.legs', 'sync_t.legs', 'mirror');
SELECT * FROM sync_t.legs ORDER BY 1, 2;
SELECT sync_parity('sync_t_sqlite.legs', 'sync_t.legs');
-- append cannot read a composite key range
SELECT expect_error($$SELECT recio_migrate.sync('sync_t_sqlite.legs', 'sync_t.legs', 'append')$$);

-- duplicate keys in the source: never a silent pick
\d sync_t.ticks
SELECT expect_error($$SELECT recio_migrate.sync('sync_t_sqlite.ticks', 'sync_t.ticks')$$);
\! sqlite3 "$RECIO_WORK/sync.db" "INSERT INTO ticks VALUES (2, 'two again'), (3, 'three');"
SELECT status, rows_inserted FROM recio_migrate.sync('sync_t_sqlite.ticks', 'sync_t.ticks', key_columns => '{id}');
SELECT error FROM recio_migrate.runs ORDER BY run_id DESC LIMIT 1;
-- append reads past the greatest key only: the second row 2 is not its business, 3 is
SELECT status, rows_inserted FROM recio_migrate.sync('sync_t_sqlite.ticks', 'sync_t.ticks', 'append', '{id}');
SELECT error FROM recio_migrate.runs ORDER BY run_id DESC LIMIT 1;
-- two new rows with one key: the run fails
\! sqlite3 "$RECIO_WORK/sync.db" "INSERT INTO ticks VALUES (4, 'four'), (4, 'four again');"
SELECT status, rows_inserted FROM recio_migrate.sync('sync_t_sqlite.ticks', 'sync_t.ticks', 'append', '{id}');
SELECT * FROM sync_t.ticks ORDER BY id;

-- local to local, into a target whose key is an identity
CREATE TABLE sync_local_src (id bigint, name text, at timestamp);
INSERT INTO sync_local_src VALUES (1, 'a', '2024-01-01 10:00'), (2, 'b', '2024-01-01 11:00'), (5, 'e', NULL);
CREATE TABLE sync_ident (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text, at timestamp);
SELECT status, rows_inserted, rows_updated, rows_deleted, rows_only_in_target
FROM recio_migrate.sync('sync_local_src', 'sync_ident');
SELECT * FROM sync_ident ORDER BY id;
-- the application's next row takes the id after the legacy ones
INSERT INTO sync_ident (name) VALUES ('next app row') RETURNING id;
INSERT INTO sync_local_src VALUES (10, 'j', '2024-01-02 00:00');
UPDATE sync_local_src SET at = '2024-06-01 00:00' WHERE id = 2;
SELECT status, rows_inserted, rows_updated FROM recio_migrate.sync('sync_local_src', 'sync_ident', 'append');
INSERT INTO sync_ident (name) VALUES ('after append') RETURNING id;
-- mirror deletes the application's rows 6 and 11
SELECT status, rows_inserted, rows_updated, rows_deleted, rows_only_in_target
FROM recio_migrate.sync('sync_local_src', 'sync_ident', 'mirror');
SELECT * FROM sync_ident ORDER BY id;
SELECT sync_parity('sync_local_src', 'sync_ident');
-- a timestamp key (parity's key text read back)
CREATE TABLE sync_ts_tgt (at timestamp PRIMARY KEY, name text);
CREATE TABLE sync_ts_src (at timestamp, name text);
INSERT INTO sync_ts_src SELECT at, name FROM sync_local_src WHERE at IS NOT NULL;
SET TimeZone = 'America/New_York';
SELECT status, rows_inserted FROM recio_migrate.sync('sync_ts_src', 'sync_ts_tgt');
UPDATE sync_ts_src SET name = 'changed' WHERE at = '2024-01-01 10:00';
SELECT status, rows_updated FROM recio_migrate.sync('sync_ts_src', 'sync_ts_tgt');
RESET TimeZone;
SELECT sync_parity('sync_ts_src', 'sync_ts_tgt');

-- refusals
CREATE TABLE sync_nokey (id bigint, name text);
SELECT expect_error($$SELECT recio_migrate.sync('sync_local_src', 'sync_nokey')$$);
SELECT expect_error($$SELECT recio_migrate.sync('sync_local_src', 'sync_ident', 'merge')$$);
SELECT expect_error($$SELECT recio_migrate.sync('sync_local_src', 'sync_ident', on_error => 'skip')$$);
SELECT expect_error($$SELECT recio_migrate.sync('sync_local_src', 'sync_ident', key_columns => '{nope}')$$);
SELECT expect_error($$SELECT recio_migrate.sync('sync_ts_src', 'sync_ts_tgt', 'append')$$);
-- privileges, checked before the target is locked
CREATE ROLE sync_reader;
GRANT EXECUTE ON FUNCTION recio_migrate.sync(regclass, regclass, text, text[], text) TO sync_reader;
GRANT SELECT ON sync_local_src TO sync_reader;
GRANT SELECT, INSERT ON sync_ident TO sync_reader;
SET ROLE sync_reader;
SELECT expect_error($$SELECT recio_migrate.sync('sync_local_src', 'sync_ident')$$);
SELECT expect_error($$SELECT recio_migrate.sync('sync_ts_src', 'sync_ident')$$);
SELECT expect_error($$SELECT recio_migrate.sync_server('sync_srv', 'sync_t')$$);
RESET ROLE;

-- sync_server: every table migrate_server() filled, each on its own; ticks (no key) fails alone
\! sqlite3 "$RECIO_WORK/sync.db" "INSERT INTO prices VALUES (20005, '2024-02-01 00:04:00', 5.5, 5, 'late'); UPDATE trades_src SET note = 'b' WHERE id = 2; INSERT INTO legs VALUES ('c', 1, 50);"
SELECT source, target, status, rows_inserted, rows_updated, rows_deleted, rows_only_in_target, rows_rejected, error
FROM recio_migrate.sync_server('sync_srv', 'sync_t', 'mirror') ORDER BY target::text;
SELECT sync_parity('sync_t_sqlite.prices', 'sync_t.prices'), sync_parity('sync_t_sqlite.trades_src', 'sync_t.trades_src'),
       sync_parity('sync_t_sqlite.legs', 'sync_t.legs');
SELECT * FROM recio_migrate.sync_server('sync_srv', 'public');
SELECT expect_error($$SELECT recio_migrate.sync_server('no_such_srv', 'sync_t')$$);

DROP OWNED BY sync_reader;
DROP ROLE sync_reader;
DROP TABLE sync_local_src, sync_ident, sync_ts_src, sync_ts_tgt, sync_nokey;
DROP FUNCTION sync_parity(regclass, regclass, text[]);
DROP SCHEMA sync_t CASCADE;
DROP SERVER sync_srv CASCADE;

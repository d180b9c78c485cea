-- snapshot(): an online copy of a legacy file, its ledger row and the
-- server over it; who may take one; names that must not escape the
-- directory; a name already taken is never overwritten; a rolled-back
-- snapshot leaves no file.  (A live writer: test/integration/snapshot_live.sh.)
\getenv fixtures RECIO_FIXTURES
\set cutover_db :fixtures/cutover.db
\getenv snapdir RECIO_SNAPSHOTS
SELECT set_config('recio_test.snapdir', :'snapdir', false) IS NOT NULL AS snapdir_set;
CREATE FUNCTION public.snap_masked(t text) RETURNS text
LANGUAGE sql SET search_path = public, pg_catalog AS $$
  SELECT regexp_replace(replace(t, current_setting('recio_test.snapdir'), '$SNAPS'),
                        '[0-9]{8}[T_][0-9]{6}Z?', '<time>', 'g')
$$;
CREATE SERVER cutover_live FOREIGN DATA WRAPPER recio_sqlite
  OPTIONS (database :'cutover_db', busy_timeout_ms '1500', timezone 'Europe/Berlin');
CREATE SCHEMA snap_live;
IMPORT FOREIGN SCHEMA main FROM SERVER cutover_live INTO snap_live;

-- who may: a plain role, a pg_write_server_files member (it may write the
-- file but not name it in a server), and a member of both
CREATE ROLE snap_plain;
CREATE ROLE snap_writer;
CREATE ROLE snap_dba;
GRANT pg_write_server_files TO snap_writer, snap_dba;
GRANT pg_read_server_files TO snap_dba;
GRANT USAGE ON FOREIGN DATA WRAPPER recio_sqlite TO snap_writer, snap_dba;
GRANT USAGE ON FOREIGN SERVER cutover_live TO snap_plain, snap_writer, snap_dba;
SET ROLE snap_plain;
SELECT snap_masked(expect_error(format('SELECT * FROM recio_migrate.snapshot(%L, %L)', 'cutover_live', :'snapdir'))) AS error;
SELECT expect_error(format('SELECT * FROM recio_migrate.snapshot_copy(%L, %L)', 'cutover_live', :'snapdir'));
SET ROLE snap_writer;
SELECT snap_masked(expect_error(format('SELECT * FROM recio_migrate.snapshot(%L, %L)', 'cutover_live', :'snapdir'))) AS error;
RESET ROLE;
SELECT count(*) AS files_after_refusals FROM pg_ls_dir(:'snapdir');

SET ROLE snap_dba;
SELECT snap_masked(snapshot_server) AS snapshot_server, snap_masked(file) AS file, bytes,
       length(sha256) AS sha256_length, data_version > 0 AS has_data_version,
       taken_at BETWEEN now() AND clock_timestamp() AS taken_now
FROM recio_migrate.snapshot('cutover_live', :'snapdir') \gset snap_
SELECT snap_masked(:'snap_snapshot_server') AS snapshot_server, :'snap_file' AS file, :'snap_bytes' AS bytes,
       :'snap_sha256_length' AS sha256_length, :'snap_has_data_version' AS has_data_version,
       :'snap_taken_now' AS taken_now;
RESET ROLE;

-- the ledger row agrees with the file on disk (size, sha256, pages)
SELECT s.server, snap_masked(s.snapshot_server) AS snapshot_server,
       replace(s.source_file, current_setting('recio_test.fixtures'), '$FIXTURES') AS source_file,
       snap_masked(s.file) AS file, s.bytes = (pg_stat_file(s.file)).size AS bytes_match,
       s.pages * s.page_size = s.bytes AS pages_match, s.pages, s.page_size,
       s.sha256 = encode(sha256(pg_read_binary_file(s.file)), 'hex') AS sha256_match,
       s.source_journal, s.taken_by, s.restarts, s.steps, s.one_transaction, s.seconds >= 0 AS timed
FROM recio_migrate.snapshots s;
SELECT snapshot_server AS snap_server, file AS snap_path FROM recio_migrate.snapshots \gset
-- the copy is a rollback-journal file: header bytes 18 and 19 (write and read versions) are 1, and no side file
SELECT get_byte(h, 18) AS write_version, get_byte(h, 19) AS read_version
FROM pg_read_binary_file(:'snap_path', 0, 100) h;
SELECT count(*) AS side_files FROM pg_ls_dir(:'snapdir') f WHERE f ~ '-(journal|wal|shm)$';

-- the new server: the copy, immutable, the original's other options; owned by the caller
SELECT snap_masked(array_to_string(srvoptions, ', ')) AS options, srvowner::regrole AS owner,
       regexp_replace(obj_description(oid, 'pg_foreign_server'), 'taken .*, sha256 [0-9a-f]{64}$',
                      'taken <time>, sha256 <sha256>') AS comment
FROM pg_foreign_server WHERE srvname = :'snap_server';

-- the copy's rows equal the source's
CREATE SCHEMA snap_copy;
SELECT set_config('recio_test.snap_server', :'snap_server', false) IS NOT NULL AS snap_server_set;
DO $$ BEGIN
  EXECUTE format('IMPORT FOREIGN SCHEMA main FROM SERVER %I INTO snap_copy', current_setting('recio_test.snap_server'));
END $$;
SELECT (SELECT row(c.*) FROM recio_migrate.checksum('snap_live.accounts') c)
     = (SELECT row(c.*) FROM recio_migrate.checksum('snap_copy.accounts') c) AS accounts_equal,
       (SELECT row(c.*) FROM recio_migrate.checksum('snap_live.ticks') c)
     = (SELECT row(c.*) FROM recio_migrate.checksum('snap_copy.ticks') c) AS ticks_equal,
       (SELECT count(*) FROM snap_copy.ticks) AS tick_rows;
SELECT p.ok, p.matched FROM recio_migrate.parity('snap_live.ticks', 'snap_copy.ticks', key_columns => '{id}') p;

-- a name already taken is never overwritten: the file of this transaction's
-- name is planted first; the snapshot takes the next name and the planted
-- file keeps its bytes
BEGIN;
CREATE SERVER cutover_plant FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database :'cutover_db');
SELECT format('%s/cutover_plant-%s.db', :'snapdir', to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS"Z"'))
  AS planted \gset
COPY (SELECT 'not a snapshot') TO :'planted';
SELECT snap_masked(file) AS file FROM recio_migrate.snapshot('cutover_plant', :'snapdir');
SELECT pg_read_file(:'planted') AS planted_content;
COMMIT;

-- a hostile server name stays inside the directory
CREATE SERVER "../../x/.hidden/srv" FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database :'cutover_db');
SELECT snap_masked(file) AS file, snap_masked(snapshot_server) AS snapshot_server
FROM recio_migrate.snapshot('../../x/.hidden/srv', :'snapdir');
DO $$ BEGIN
  EXECUTE format('CREATE SERVER %I FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database %L)',
                 left(repeat('ä long name ', 5), 50), current_setting('recio_test.fixtures') || '/cutover.db');
END $$;
SELECT snap_masked(file) AS file, snap_masked(snapshot_server) AS snapshot_server,
       octet_length(snapshot_server) AS name_bytes
FROM recio_migrate.snapshot(left(repeat('ä long name ', 5), 50), :'snapdir');

-- a snapshot whose transaction rolls back leaves no file (and no ledger row, no server)
SELECT count(*) AS files_before FROM pg_ls_dir(:'snapdir') \gset
BEGIN;
SELECT file AS rolled_back_file FROM recio_migrate.snapshot('cutover_live', :'snapdir') \gset
SELECT (pg_stat_file(:'rolled_back_file', true)).size > 0 AS written;
ROLLBACK;
SELECT pg_stat_file(:'rolled_back_file', true) IS NULL AS removed,
       (SELECT count(*) FROM pg_ls_dir(:'snapdir')) = :files_before AS same_files;
-- and so does one in a subtransaction rolled back
BEGIN;
SAVEPOINT s;
SELECT file AS rolled_back_file FROM recio_migrate.snapshot('cutover_live', :'snapdir') \gset
ROLLBACK TO SAVEPOINT s;
SELECT pg_stat_file(:'rolled_back_file', true) IS NULL AS removed_with_savepoint;
COMMIT;

-- errors: nothing written
SELECT snap_masked(expect_error(format('SELECT * FROM recio_migrate.snapshot(%L, %L)', 'cutover_live', :'snapdir' || '/missing'))) AS error;
SELECT snap_masked(expect_error(format('SELECT * FROM recio_migrate.snapshot(%L, %L)', 'cutover_live', 'relative/dir'))) AS error;
SELECT snap_masked(expect_error(format('SELECT * FROM recio_migrate.snapshot(%L, %L)', 'cutover_live', :'planted'))) AS error;
SELECT expect_error(format('SELECT * FROM recio_migrate.snapshot(%L, %L)', 'no_such_server', :'snapdir'));
SELECT snap_masked(expect_error(format('SELECT * FROM recio_migrate.snapshot(%L, %L)', 'cutover_live', '/proc'))) AS error;
SELECT count(*) AS files_after_errors FROM pg_ls_dir(:'snapdir');
SELECT count(*) AS snapshots FROM recio_migrate.snapshots;

DROP SCHEMA snap_copy CASCADE;
REASSIGN OWNED BY snap_dba TO CURRENT_USER;
DROP OWNED BY snap_plain, snap_writer, snap_dba;
DROP ROLE snap_plain, snap_writer, snap_dba;

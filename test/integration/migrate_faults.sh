#!/usr/bin/env bash
# Faults during migrate(), in a cluster of its own (a killed backend makes
# the postmaster restart every session, and its log says so):
#  - kill -9 of the backend in the middle of a run: after recovery the target
#    holds what it held before, the ledger has no row, the server log has the
#    run's start line, and a re-run succeeds;
#  - a full tablespace (an 8 MB tmpfs mounted here): the run is 'failed'
#    with 53100 and the target is unchanged;
#  - odd objects in a file (views that never end or fail, an rtree virtual
#    table and its shadow tables, a table only named like one, an empty
#    table): migrate_server() migrates the tables within a statement_timeout,
#    lists the rest in a WARNING, and a re-run starts no run for the empty
#    table.
. "$(dirname "$0")/common.sh"
(
set -euo pipefail
W=$(make_workdir)
mounted=""
cleanup() {
    stop_cluster
    [ -z "$mounted" ] || as_root umount "$mounted" || true
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
start_cluster "$W"
export PGDATABASE=postgres
q -c "CREATE EXTENSION recio_migrate"
N=400000
db=$W/big.db
sqlite3 "$db" "CREATE TABLE ticks (n integer PRIMARY KEY, label text);
  WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < $N)
  INSERT INTO ticks SELECT i, 'tick number ' || i FROM g;"
[ "$(id -u)" = 0 ] && chown postgres "$db"
q >/dev/null <<SQL
CREATE SERVER big_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$db');
CREATE FOREIGN TABLE big_src (n bigint, label text) SERVER big_srv OPTIONS (table 'ticks');
-- the run must last: the index expression sleeps 20 ms at every 1000th row (about 8 s in all)
CREATE FUNCTION slow_key(i bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS
\$\$ BEGIN IF i % 1000 = 0 THEN PERFORM pg_sleep(0.02); END IF; RETURN i; END \$\$;
CREATE TABLE tgt (n bigint PRIMARY KEY, label text);
CREATE INDEX ON tgt (slow_key(n));
INSERT INTO tgt SELECT -g, 'before' FROM generate_series(1, 10) g;
SQL

# ------------------------------------------------ kill -9 in the middle of a run
psql -X -q -At -c "SELECT status FROM recio_migrate.migrate('big_src', 'tgt')" >"$W/killed.out" 2>&1 &
runner=$!
t0=$SECONDS
pid=""
until [ -n "$pid" ]; do
    pid=$(q -c "SELECT pid FROM recio_migrate.progress WHERE rows_written > 0" 2>/dev/null || true)
    [ $((SECONDS - t0)) -lt 30 ] || fail "the run never showed progress: $(cat "$W/killed.out")"
    sleep 0.1
done
as_root kill -9 "$pid"
wait "$runner" && fail "the killed run's client saw success: $(cat "$W/killed.out")"
t0=$SECONDS
until q -c "SELECT 1" >/dev/null 2>&1; do
    [ $((SECONDS - t0)) -lt 60 ] || fail "the cluster did not recover"
    sleep 0.2
done
rows=$(q -c "SELECT count(*) FROM tgt")
runs=$(q -c "SELECT count(*) FROM recio_migrate.runs")
logline=$(grep -o "LOG:  recio_migrate: migration run [0-9]* from public.big_src into public.tgt started (target rows before: 10)" "$W/postgres.log" | head -1 || true)
echo "kill -9 of pid $pid: recovered in $((SECONDS - t0)) s; target $rows rows, $runs ledger rows; server log: '$logline'"
grep -q "server process (PID $pid) was terminated by signal 9" "$W/postgres.log" || fail "the backend was not killed"
[ "$rows" = 10 ] || fail "after the kill the target holds $rows rows, not the 10 of before"
[ "$runs" = 0 ] || fail "the killed run left $runs ledger rows"
[ -n "$logline" ] || fail "no start line of the run in the server log"
q -c "DROP INDEX tgt_slow_key_idx"
out=$(q -F ' ' -c "SELECT status, rows_written FROM recio_migrate.migrate('big_src', 'tgt')" 2>&1)
grep -qx "succeeded $N" <<<"$out" || fail "the re-run: $out"
[ "$(q -c "SELECT count(*) FROM tgt")" = $((N + 10)) ] || fail "the re-run left $(q -c "SELECT count(*) FROM tgt") rows"
echo "re-run after the kill: $out"

# ------------------------------------------------ a full tablespace
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$W/ts"
    mount -t tmpfs -o size=8m tmpfs "$W/ts"
    mounted=$W/ts
    chown postgres:postgres "$W/ts"
    q >/dev/null <<SQL
CREATE TABLESPACE small LOCATION '$W/ts';
CREATE TABLE tgt_small (n bigint, label text) TABLESPACE small;
INSERT INTO tgt_small SELECT -g, 'before' FROM generate_series(1, 10) g;
SQL
    out=$(q -F ' ' -c "SELECT status FROM recio_migrate.migrate('big_src', 'tgt_small')" 2>&1)
    read -r status err <<<"$(q -F ' ' -c "SELECT status, left(error, 5) FROM recio_migrate.runs ORDER BY run_id DESC LIMIT 1")"
    rows=$(q -c "SELECT count(*) FROM tgt_small")
    echo "full tablespace: $(grep WARNING <<<"$out"); ledger '$status' $err; target $rows rows"
    [ "$status" = failed ] && [ "$err" = 53100 ] || fail "full tablespace: ledger says '$status' '$err': $out"
    [ "$rows" = 10 ] || fail "full tablespace: the target holds $rows rows, not the 10 of before"
    q -c "DROP TABLE tgt_small" -c "DROP TABLESPACE small"
    as_root umount "$W/ts"
    mounted=""
else
    echo "full tablespace: skipped (mounting a tmpfs needs root)"
fi

# ------------------------------------------------ odd objects
odd=$W/odd.db
sqlite3 "$odd" <<'SQL'
CREATE TABLE good (id integer PRIMARY KEY, v text);
INSERT INTO good VALUES (1, 'a'), (2, 'b'), (3, 'c');
CREATE TABLE empty_one (id integer PRIMARY KEY, v text);
CREATE TABLE gone (x integer);
CREATE VIEW v_gone AS SELECT x FROM gone;
DROP TABLE gone;
CREATE VIEW v_forever AS WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT i FROM r;
CREATE VIEW v_overflow AS SELECT abs(-9223372036854775807 - 1) AS x;
CREATE VIRTUAL TABLE boxes USING rtree(id, minx, maxx);
INSERT INTO boxes VALUES (1, 0, 1);
-- named like a shadow table, but a table of its own
CREATE TABLE boxes_history (id integer PRIMARY KEY, v text);
INSERT INTO boxes_history VALUES (1, 'x');
SQL
[ "$(id -u)" = 0 ] && chown postgres "$odd"
q -c "CREATE SERVER odd_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$odd')"
listing=$(q -F ' ' -c "SET statement_timeout = '20s'" -c "SELECT name, kind, coalesce(row_count::text, '-') FROM recio_migrate.sqlite_tables('odd_srv')" 2>&1) ||
    fail "sqlite_tables() on odd objects: $listing"
echo "sqlite_tables(): $(xargs <<<"$listing")"
grep -qx "v_forever view -" <<<"$listing" && grep -qx "boxes virtual table -" <<<"$listing" &&
    grep -qx "boxes_node shadow table -" <<<"$listing" && grep -qx "good table 3" <<<"$listing" ||
    fail "sqlite_tables(): $listing"
out=$(psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 -c "SET statement_timeout = '20s'" \
      -c "SELECT sqlite_table, action, counts_match FROM recio_migrate.migrate_server('odd_srv', 'odd') ORDER BY 1" 2>&1) ||
    fail "migrate_server() on odd objects: $out"
echo "migrate_server(): $(xargs <<<"$out")"
grep -qx "WARNING:  not migrated: virtual table \"boxes\", shadow table \"boxes_node\", shadow table \"boxes_parent\", shadow table \"boxes_rowid\" (migrate_server() moves tables and imports views)" <<<"$out" ||
    fail "no WARNING naming the views and the virtual table: $out"
grep -qx "good migrated t" <<<"$out" && grep -qx "empty_one migrated t" <<<"$out" &&
    grep -qx "boxes_history migrated t" <<<"$out" || fail "migrate_server(): $out"
runs=$(q -c "SELECT count(*) FROM recio_migrate.runs")
out=$(q -F ' ' -c "SELECT sqlite_table, action, run_id IS NOT NULL FROM recio_migrate.migrate_server('odd_srv', 'odd') ORDER BY 1" 2>/dev/null)
echo "re-run: $(xargs <<<"$out")"
grep -qx "empty_one skipped: already migrated t" <<<"$out" && grep -qx "good skipped: already migrated t" <<<"$out" ||
    fail "re-run: $out"
[ "$(q -c "SELECT count(*) FROM recio_migrate.runs")" = "$runs" ] || fail "the re-run started runs"
)

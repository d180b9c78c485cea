#!/usr/bin/env bash
# test/bench_on_error.sh: the cost of on_error for columns converted by a
# type's input function (uuid, jsonb) next to a self-converted one (bigint):
# BENCH_ROWS rows (default 1,000,000) whose values all convert and the same
# number whose values all fail, read by a foreign scan under on_error 'stop',
# 'null' and 'ignore', and moved by migrate() ('reject' on good values, 'null'
# on bad ones, the latter on a tenth of the rows: every bad value is a row of
# recio_migrate.rejects).  Each measurement is the median of BENCH_REPEAT
# (default 3) runs.   BENCH_ROWS=100000 BENCH_REPEAT=1 bash test/bench_on_error.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
. "$ROOT/test/bench_lib.sh"
serialize_installs "$@"
bench_args 1000000 3

ensure_packages
build_and_install "$ROOT"
bench_workdir
DB=$WORK/on_error.db
FEW=$((ROWS / 10 > 0 ? ROWS / 10 : 1))
echo "== generating $(commas "$ROWS") rows (good and bad uuid, jsonb, bigint) in $DB"
sqlite3 "$DB" <<SQL
PRAGMA journal_mode = off;
CREATE TABLE good (id INTEGER PRIMARY KEY, u TEXT, j TEXT, n INTEGER);
CREATE TABLE bad (id INTEGER PRIMARY KEY, u TEXT, j TEXT, n TEXT);
CREATE TABLE bad_few (id INTEGER PRIMARY KEY, u TEXT);
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $ROWS)
INSERT INTO good SELECT i, printf('%08x-1234-4abc-8def-%012x', i, i * 7), printf('{"k": %d, "v": [1, 2]}', i), i FROM s;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $ROWS)
INSERT INTO bad SELECT i, printf('not-a-uuid-%d', i), printf('{"k": %d,', i), printf('x%d', i) FROM s;
INSERT INTO bad_few SELECT id, u FROM bad WHERE id <= $FEW;
SQL
[ "$(id -u)" = 0 ] && chown postgres:postgres "$DB"
chmod a+r "$DB"
start_cluster "$WORK" shared_buffers=512MB work_mem=64MB jit=off
export PGOPTIONS="-c client_min_messages=warning"
pg -q <<SQL
CREATE EXTENSION recio_migrate;
CREATE SERVER oe FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$DB');
CREATE FOREIGN TABLE good_stop (id bigint, u uuid, j jsonb, n bigint) SERVER oe OPTIONS (table 'good');
CREATE FOREIGN TABLE good_null (id bigint, u uuid, j jsonb, n bigint) SERVER oe OPTIONS (table 'good', on_error 'null');
CREATE FOREIGN TABLE bad_null (id bigint, u uuid, j jsonb, n bigint) SERVER oe OPTIONS (table 'bad', on_error 'null');
CREATE FOREIGN TABLE bad_ignore (id bigint, u uuid, j jsonb, n bigint) SERVER oe OPTIONS (table 'bad', on_error 'ignore');
CREATE FOREIGN TABLE good_src (id bigint, u uuid) SERVER oe OPTIONS (table 'good');
CREATE FOREIGN TABLE bad_src (id bigint, u uuid) SERVER oe OPTIONS (table 'bad_few');
SQL
echo "   $(pg -At -c "EXPLAIN VERBOSE SELECT count(u) FROM good_stop" | grep -o 'SQLite query:.*')"

declare -A MS
run() {   # name setup statement expected-last-line [rows]
    local k times=() out
    for ((k = 1; k <= REPEAT; k++)); do
        out=$(timed_stmt "$2" "$3")
        [ "${out#* }" = "$4" ] || die "$1: got '${out#* }', expected '$4'"
        times+=("${out%% *}")
    done
    MS[$1]=$(median "${times[@]}")
    printf '   %-44s %8s s  %12s rows/s\n' "$1" "$(secs "${MS[$1]}")" "$(commas "$(rate "${5:-$ROWS}" "${MS[$1]}")")"
}
echo "== scans of $(commas "$ROWS") rows (median of $REPEAT)"
for c in n u j; do
    run "scan $c, all good, on_error stop" "" "SELECT count($c) FROM good_stop" "$ROWS"
    run "scan $c, all good, on_error null" "" "SELECT count($c) FROM good_null" "$ROWS"
    run "scan $c, all bad, on_error null" "" "SELECT count($c) FROM bad_null" "0"
done
run "scan u, all bad, on_error ignore" "" "SELECT count(u) FROM bad_ignore" "0"
echo "== migrate()"
run "migrate uuid, all good, on_error reject" "DROP TABLE IF EXISTS t1; CREATE TABLE t1 (id bigint, u uuid);" \
    "SELECT status || ' ' || rows_written FROM recio_migrate.migrate('good_src', 't1', 'reject')" "succeeded $ROWS"
run "migrate uuid, all bad ($(commas "$FEW") rows), on_error null" \
    "DROP TABLE IF EXISTS t2; CREATE TABLE t2 (id bigint, u uuid); TRUNCATE recio_migrate.rejects;" \
    "SELECT status || ' ' || rows_written FROM recio_migrate.migrate('bad_src', 't2', 'null')" "succeeded $FEW" "$FEW"
crashes=$(crashed_backends "$WORK/postgres.log")
[ -z "$crashes" ] || die "backend crash: $crashes"
echo "server log: no crashed backend"

#!/usr/bin/env bash
# test/bench_write.sh: speed of writes through updatable recio_sqlite foreign
# tables (issue 13), each measurement repeated BENCH_REPEAT times (default 3)
# and reported as the median.
#
#   (b) INSERT INTO price_w SELECT ... of BENCH_ROWS rows (default 1,000,000)
#       into an empty SQLite price_log through the wrapper (timestamps written
#       in the legacy 'YYYY-MM-DD"T"HH24:MI:SS' format, batch_size 100),
#       against
#   (R) test/bench_write_insert.c: one transaction of prepared inserts of the
#       same rows through the SQLite C API (the physical reference);
#       target (b) >= 60% of (R)'s rows/s.
#   (c) single-row INSERT latency through the wrapper, autocommit (each row
#       its own PostgreSQL and SQLite transaction): pgbench, one client,
#       BENCH_SINGLE (default 2000) transactions; p50 and p99; beside it
#       (c0) the sqlite3 CLI running the same autocommit INSERTs (mean).
# Each round writes a fresh empty file for (b) and (R), both with SQLite's
# defaults (rollback journal, synchronous FULL), in the same directory.
#   BENCH_ROWS=200000 BENCH_REPEAT=3 bash test/bench_write.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
. "$ROOT/test/bench_lib.sh"
serialize_installs "$@"

bench_args 1000000 3
SINGLE=${BENCH_SINGLE:-2000}

ensure_packages
build_and_install "$ROOT"
bench_workdir
REF=$WORK/bench_write_insert
cc -O2 -o "$REF" "$ROOT/test/bench_write_insert.c" -lsqlite3
as_pg mkdir -p "$WORK/files"

start_cluster "$WORK" shared_buffers=256MB jit=off
export PGTZ=UTC PGOPTIONS="-c client_min_messages=warning"

# fresh_file NAME: an empty price_log file the cluster's OS user can write
fresh_file() {
    local f=$WORK/files/$1.db
    as_pg rm -f "$f" "$f-journal"
    as_pg sqlite3 "$f" "CREATE TABLE price_log (id INTEGER PRIMARY KEY, timestamp TEXT, price REAL, volume REAL)"
    echo "$f"
}

pg -q <<SQL
CREATE EXTENSION recio_migrate;
CREATE SERVER wsrv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$WORK/files/w.db', updatable 'true');
CREATE FOREIGN TABLE price_w (id bigint, ts timestamp OPTIONS (column_name 'timestamp', format 'YYYY-MM-DD"T"HH24:MI:SS'),
    price double precision, volume double precision) SERVER wsrv OPTIONS (table 'price_log');
SQL
INSERT_SQL="INSERT INTO price_w SELECT g, timestamp '2025-01-01' + g * interval '1 second', g * 0.25::float8, (g % 1000)::float8 FROM generate_series(1, $ROWS) g"

declare -a B_MS R_MS
echo "== $REPEAT rounds of: (b) wrapper INSERT ... SELECT, (R) C loop of prepared inserts; $(commas "$ROWS") rows"
for ((k = 1; k <= REPEAT; k++)); do
    fresh_file w >/dev/null
    read -r ms tag <<<"$(timed_stmt "SELECT recio_migrate.disconnect_all();" "$INSERT_SQL")"
    n=$(as_pg sqlite3 "$WORK/files/w.db" "SELECT count(*) FROM price_log")
    [ "$n" = "$ROWS" ] || die "(b) wrote $n rows, expected $ROWS"
    B_MS[k]=$ms
    f=$(fresh_file r)
    read -r n s <<<"$(as_pg "$REF" "$f" "$ROWS")"
    R_MS[k]=$(awk -v s="$s" 'BEGIN { printf "%.1f", s * 1000 }')
    if [ "$k" = 1 ]; then
        a=$(as_pg sqlite3 "$WORK/files/w.db" "SELECT id, timestamp, typeof(price), price, volume FROM price_log ORDER BY id LIMIT 1 OFFSET 9")
        b=$(as_pg sqlite3 "$f" "SELECT id, timestamp, typeof(price), price, volume FROM price_log ORDER BY id LIMIT 1 OFFSET 9")
        echo "   row 10 through the wrapper: $a; through the C loop: $b"
        [ "$a" = "$b" ] || die "the two files differ"
    fi
    echo "   round $k: (b) ${B_MS[k]} ms, (R) ${R_MS[k]} ms"
done
bm=$(median "${B_MS[@]}")
rm_=$(median "${R_MS[@]}")
echo "(b) wrapper: $(commas "$(rate "$ROWS" "$bm")") rows/s (median $(secs "$bm") s)"
echo "(R) C loop:  $(commas "$(rate "$ROWS" "$rm_")") rows/s (median $(secs "$rm_") s)"
echo "(b)/(R) = $(pct "$rm_" "$bm")% (target >= 60%: $(verdict "$(pct "$rm_" "$bm")" ">=" 60))"

echo
echo "== (c) single-row INSERT latency, autocommit, $SINGLE transactions, one client"
fresh_file w >/dev/null
as_pg mkdir -p "$WORK/pgbench"
echo "INSERT INTO price_w (ts, price, volume) VALUES (localtimestamp(0), random(), 1);" | as_pg tee "$WORK/pgbench/insert.sql" >/dev/null
declare -a P50 P99
for ((k = 1; k <= REPEAT; k++)); do
    as_pg rm -f "$WORK/pgbench/"pgbench_log.*
    (cd / && as_pg bash -c "cd '$WORK/pgbench' && '$PGBIN/pgbench' -n -c 1 -t '$SINGLE' -f insert.sql -l -h '$PGHOST' -p '$PGPORT' postgres" >/dev/null)
    read -r p50 p99 <<<"$(cat "$WORK/pgbench/"pgbench_log.* | awk '{ print $3 }' | sort -n |
        awk '{ a[NR] = $1 } END { printf "%.0f %.0f", a[int(NR * 0.5)], a[int(NR * 0.99)] }')"
    P50[k]=$p50
    P99[k]=$p99
    echo "   round $k: p50 $p50 us, p99 $p99 us"
done
echo "(c) single-row INSERT: p50 $(median "${P50[@]}") us, p99 $(median "${P99[@]}") us (medians of $REPEAT rounds)"
# the floor under (c): the same autocommit INSERTs by the sqlite3 CLI, each a
# SQLite commit with its journal and fsyncs (the mean, the CLI times no single statement)
f=$(fresh_file cli)
declare -a CLI
for ((k = 1; k <= REPEAT; k++)); do
    t0=$(date +%s%N)
    for ((i = 1; i <= SINGLE; i++)); do echo "INSERT INTO price_log (timestamp, price, volume) VALUES (strftime('%Y-%m-%dT%H:%M:%S', 'now'), random(), 1);"; done |
        as_pg sqlite3 "$f"
    CLI[k]=$(( ($(date +%s%N) - t0) / 1000 / SINGLE ))
done
echo "(c0) sqlite3 CLI, the same autocommit INSERTs: mean $(median "${CLI[@]}") us per INSERT (median of $REPEAT rounds)"

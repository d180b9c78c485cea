#!/usr/bin/env bash
# test/bench_retention.sh: recio_migrate.prune() on a price table of
# BENCH_ROWS rows (default 5,000,000) of which 80% lie before the cutoff,
# each measurement repeated BENCH_REPEAT times (default 3), medians reported.
#
#   (1) DELETE FROM price WHERE ts < now() - '30 days': one statement, the
#       physical reference (rows/s).
#   (2) CALL recio_migrate.prune('price', 'ts', '30 days'): batches of 10,000
#       rows, each committed; target >= 70% of (1)'s rows/s.
#   (3) (2) again while a writer (pgbench, one client) inserts single rows:
#       the writer's p50/p99/max insert latency; target p99 < 50 ms.
#   (4) BENCH_PINS pins (default 1,000,000): pin_where() time, one pin() with
#       all of them present, and (2) with them (the anti-join).
#
# Each round rebuilds the table from a template with the same layout, index
# and VACUUM ANALYZE, so (1) and (2) start from the same state.  Run as root or
# a sudo user:  BENCH_ROWS=200000 BENCH_REPEAT=1 bash test/bench_retention.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
. "$ROOT/test/bench_lib.sh"
serialize_installs "$@"

bench_args 5000000 3
PINS=${BENCH_PINS:-1000000}
[[ $PINS =~ ^[0-9]+$ ]] || { echo "BENCH_PINS must be an integer"; exit 2; }
OLD=$((ROWS * 8 / 10))
[ "$PINS" -le "$OLD" ] || PINS=$OLD

pg() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }   # quiet, unlike bench_lib's
# ms NAME SQL: run SQL, print its wall time in ms
ms() { local t0 t1; t0=$(date +%s%N); pg -c "$1" >/dev/null; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }

ensure_packages
build_and_install "$ROOT"
WORK=$(make_workdir)
trap 'stop_cluster; [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT
start_cluster "$WORK" shared_buffers=512MB work_mem=64MB jit=off autovacuum=off
export PGTZ=UTC PGOPTIONS="-c client_min_messages=warning"
echo "== cluster on port $PGPORT (shared_buffers=512MB, jit=off, autovacuum=off); $ROWS rows, $OLD before the cutoff"

# the template: ids in time order, 80% of rows before now() - 30 days (a day
# clear of it, so the cutoff moving while the bench runs changes nothing)
pg <<SQL
CREATE EXTENSION recio_migrate;
CREATE TABLE price_src AS
SELECT g AS id, CASE WHEN g <= $OLD THEN now() - interval '31 days' - ($OLD - g) * interval '0.5 seconds'
                     ELSE now() - interval '29 days' + (g - $OLD) * interval '0.1 seconds' END AS ts,
       round((30000 + 1000 * sin(g / 5000.0))::numeric, 2) AS px, round((random() * 10)::numeric, 6) AS vol
FROM generate_series(1, $ROWS) g;
SQL
fresh() {
    pg <<'SQL'
DROP TABLE IF EXISTS price;
CREATE TABLE price (id bigint, ts timestamptz NOT NULL, px numeric(12,2), vol numeric(18,6));
INSERT INTO price SELECT * FROM price_src ORDER BY id;
ALTER TABLE price ADD PRIMARY KEY (id);
CREATE INDEX ON price (ts);
VACUUM ANALYZE price;
CHECKPOINT;
SQL
}
check_left() {
    local left
    left=$(pg -At -c "SELECT count(*) FROM price")
    [ "$left" = "$1" ] || { echo "bench: $left rows left, expected $1"; exit 1; }
}

del=(); pru=()
for r in $(seq "$REPEAT"); do
    fresh
    del+=("$(ms "DELETE FROM price WHERE ts < now() - interval '30 days'")")
    check_left $((ROWS - OLD))
    fresh
    pru+=("$(ms "CALL recio_migrate.prune('price', 'ts', '30 days')")")
    check_left $((ROWS - OLD))
    echo "   round $r: DELETE ${del[-1]} ms, prune ${pru[-1]} ms"
done
d=$(median "${del[@]}"); p=$(median "${pru[@]}")
batches=$(pg -At -c "SELECT batches FROM recio_migrate.retention_log ORDER BY id DESC LIMIT 1")

# (3) the writer during a prune: single-row inserts, one client, for about as
# long as a prune takes
fresh
echo "INSERT INTO price (id, ts, px) VALUES (nextval('wseq'), now(), 1);" >"$WORK/insert.sql"
pg -c "CREATE SEQUENCE wseq START $((ROWS + 1))"
secs=$(( p / 1000 + 2 ))
(cd "$WORK" && "$PGBIN/pgbench" -n -c 1 -T "$secs" -f insert.sql --log --log-prefix=writer >/dev/null 2>"$WORK/pgbench.err") &
wpid=$!
sleep 0.5
w0=$(date +%s%6N)
pw=$(ms "CALL recio_migrate.prune('price', 'ts', '30 days')")
w1=$(date +%s%6N)
wait $wpid
wall=$(cat "$WORK"/writer.* | wc -l)
# the inserts that ended while the prune ran
read -r wn wp50 wp99 wmax < <(cat "$WORK"/writer.* |
    awk -v a="$w0" -v b="$w1" '{ t = $5 * 1000000 + $6; if (t >= a && t <= b) print $3 / 1000 }' | sort -g |
    awk '{ a[NR] = $1 } END { print NR, a[int(NR * 0.5) + 1], a[int(NR * 0.99) + 1], a[NR] }')
new=$(pg -At -c "SELECT count(*) FROM price WHERE id > $ROWS")
[ "$new" = "$wall" ] || { echo "bench: the writer committed $wall rows, $new are in the table"; exit 1; }

# (4) pins
fresh
pinms=$(ms "SELECT recio_migrate.pin_where('price', 't.id % ($OLD / $PINS) = 0 AND t.id <= $OLD')")
npins=$(pg -At -c "SELECT count(*) FROM recio_migrate.retention_pins")
onepin=$(ms "SELECT recio_migrate.pin('price', ARRAY['$((OLD + 1))'])")
pp=$(ms "CALL recio_migrate.prune('price', 'ts', '30 days')")
check_left $((ROWS - OLD + npins))

echo
echo "== results (medians of $REPEAT; a shared 2-core machine)"
echo "(1) single DELETE:        $d ms, $(rate $OLD "$d") rows/s"
echo "(2) prune, $batches batches:  $p ms, $(rate $OLD "$p") rows/s = $(pct "$(rate $OLD "$p")" "$(rate $OLD "$d")")% of (1)   target >= 70%: $(verdict "$(pct "$(rate $OLD "$p")" "$(rate $OLD "$d")")" ">=" 70)"
echo "(3) prune with a writer:  $pw ms; writer: $wn inserts during it, p50 $wp50 ms, p99 $wp99 ms, max $wmax ms   target p99 < 50 ms: $(verdict "$wp99" "<" 50)"
echo "(4) $npins pins: pin_where $pinms ms, one more pin() $onepin ms, prune $pp ms = $(rate $((OLD - npins)) "$pp") rows/s"

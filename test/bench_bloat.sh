#!/usr/bin/env bash
# test/bench_bloat.sh: cost and accuracy of recio_migrate.bloat_report() on a
# BENCH_ROWS-row table (default 5,000,000) of which 30% of the pages hold dead
# tuples, against contrib pgstattuple:
#
#   time   bloat_report(method => 'approx')   vs  pgstattuple_approx()
#          bloat_report(method => 'exact')    vs  pgstattuple()
#          bloat_report(method => 'estimate')     (catalog statistics only)
#   error  of each method's live, dead and free bytes against pgstattuple(),
#          as a percentage of the table size
#
# The dead tuples are kept dead by a session holding an old snapshot (as a
# long transaction would), so no reader can prune them between measurements
# and every method sees the same table.  Each round runs every method once,
# one after the other, so machine noise (a shared 2-core box) hits them alike;
# the medians of BENCH_REPEAT rounds (default 3) are reported.  Run as root or
# as a sudo user:  BENCH_ROWS=200000 BENCH_REPEAT=3 bash test/bench_bloat.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
. "$ROOT/test/bench_lib.sh"
serialize_installs "$@"

bench_args 5000000 3


ensure_packages
build_and_install "$ROOT"
WORK=$(make_workdir)
HOLDER=
cleanup() {
    [ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null || true
    stop_cluster
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start_cluster "$WORK" shared_buffers=512MB jit=off autovacuum=off
# synchronous_commit=on: VACUUM may set a page all-visible only once the
# inserting commit is flushed, which start_cluster's synchronous_commit=off delays
export PGOPTIONS="-c client_min_messages=warning -c synchronous_commit=on"
echo "== cluster on $PGHOST port $PGPORT (shared_buffers=512MB, autovacuum=off); $ROWS rows, $REPEAT rounds"

t=$SECONDS
pg -q <<SQL
CREATE EXTENSION recio_migrate;
CREATE EXTENSION pgstattuple;
CREATE SCHEMA bench;
CREATE TABLE bench.prices (id bigint, ts timestamptz, price float8, volume float8, venue text);
INSERT INTO bench.prices
SELECT g, timestamptz '2024-01-01' + g * interval '1 second', 100 + (g % 1000) / 7.0, g % 97, 'venue-' || (g % 13)
FROM generate_series(1, $ROWS) g;
VACUUM (FREEZE, ANALYZE) bench.prices;
SQL
echo "   loaded and vacuumed in $((SECONDS - t)) s"

# an old snapshot, so the rows deleted next stay dead tuples (not prunable)
pg -q -c "BEGIN ISOLATION LEVEL REPEATABLE READ" -c "SELECT count(*) FROM pg_class" -c "SELECT pg_sleep(3600)" >/dev/null 2>&1 &
HOLDER=$!
for _ in $(seq 100); do
    [ "$(pg -At -c "SELECT count(*) FROM pg_stat_activity WHERE backend_xmin IS NOT NULL AND query LIKE '%pg_sleep(3600)%'")" = 1 ] && break
    sleep 0.1
done
# every 4th row of 3 pages in 10: 30% of the pages hold dead tuples
pg -q -c "DELETE FROM bench.prices WHERE (ctid::text::point)[0]::bigint % 10 < 3 AND id % 4 = 0" \
      -c "ANALYZE bench.prices"
pg -At -F ' ' <<'SQL' | { read -r pages dirty; echo "   $pages pages, $dirty of them ($((100 * dirty / pages))%) with dead tuples (not all-visible)"; }
SELECT relpages, relpages - relallvisible FROM pg_class WHERE oid = 'bench.prices'::regclass;
SQL

pg -q <<'SQL'
CREATE FUNCTION public.ms(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
    EXECUTE q;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END $$;
CREATE TABLE public.figures (method text, live bigint, dead bigint, free bigint);
INSERT INTO public.figures
SELECT 'pgstattuple', tuple_len, dead_tuple_len, free_space FROM pgstattuple('bench.prices')
UNION ALL
SELECT 'pgstattuple_approx', approx_tuple_len, dead_tuple_len, approx_free_space FROM pgstattuple_approx('bench.prices')
UNION ALL
SELECT 'bloat_report ' || m, live_bytes, dead_bytes, free_bytes
FROM unnest(ARRAY['approx', 'exact', 'estimate']) m, recio_migrate.bloat_report('bench', m)
WHERE relation = 'bench.prices'::regclass;
SQL

declare -A T
QUERIES=(
    "bloat_report approx|SELECT count(*) FROM recio_migrate.bloat_report('bench', 'approx')"
    "pgstattuple_approx|SELECT count(*) FROM pgstattuple_approx('bench.prices')"
    "bloat_report exact|SELECT count(*) FROM recio_migrate.bloat_report('bench', 'exact')"
    "pgstattuple|SELECT count(*) FROM pgstattuple('bench.prices')"
    "bloat_report estimate|SELECT count(*) FROM recio_migrate.bloat_report('bench', 'estimate')"
)
# One session for every round, and a first round that is not counted: the
# first call in a backend loads the libraries and compiles the PL/pgSQL
# (a few ms, paid once per pg_cron run), which is not what is compared here.
script=""
for round in $(seq 0 "$REPEAT"); do
    for entry in "${QUERIES[@]}"; do
        script+="SELECT '${entry%%|*}', $round, round(public.ms(\$q\$${entry#*|}\$q\$)::numeric, 1);"$'\n'
    done
done
while IFS='|' read -r name round ms; do
    [ "$round" = 0 ] || T[$name]="${T[$name]:-} $ms"
done < <(pg -At <<<"$script")

echo
echo "== time (median of $REPEAT, ms; every round reads the same table, warm in shared buffers / page cache)"
for entry in "${QUERIES[@]}"; do
    name=${entry%%|*}
    # shellcheck disable=SC2086
    printf '   %-24s %10s   (rounds:%s)\n' "$name" "$(median ${T[$name]})" "${T[$name]}"
done
# shellcheck disable=SC2086
ap=$(median ${T["bloat_report approx"]}); pa=$(median ${T["pgstattuple_approx"]})
# shellcheck disable=SC2086
ex=$(median ${T["bloat_report exact"]}); pe=$(median ${T["pgstattuple"]})
echo "   approx / pgstattuple_approx = $(ratio "$ap" "$pa")  (target <= 1: $(verdict "$ap" "<=" "$pa"))"
echo "   exact  / pgstattuple        = $(ratio "$ex" "$pe")  (target <= 1: $(verdict "$ex" "<=" "$pe"))"

echo
echo "== error against pgstattuple, percent of the table size"
pg -q <<'SQL'
SELECT f.method,
       round(100.0 * abs(f.live - r.live) / t.len, 2) AS live_err_pct,
       round(100.0 * abs(f.dead - r.dead) / t.len, 2) AS dead_err_pct,
       round(100.0 * abs(f.free - r.free) / t.len, 2) AS free_err_pct,
       pg_size_pretty(f.dead) AS dead, pg_size_pretty(f.free) AS free
FROM public.figures f, public.figures r, (SELECT pg_relation_size('bench.prices') AS len) t
WHERE r.method = 'pgstattuple'
ORDER BY f.method;
SELECT relation, method, pg_size_pretty(total_bytes) AS total, pg_size_pretty(bloat_bytes) AS bloat, bloat_pct, advice, trust
FROM recio_migrate.bloat_report('bench', 'approx');
SQL

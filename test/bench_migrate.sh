#!/usr/bin/env bash
# test/bench_migrate.sh: speed of the migration runs (issue 3) on a price_log
# table of BENCH_ROWS rows (default 5,000,000), each measurement repeated
# BENCH_REPEAT times (default 3) and reported as the median.
#
#   (M) SELECT * FROM recio_migrate.migrate('price_typed', 'tgt_m') into an
#       empty logged table (bigint, timestamptz, numeric(12,2), numeric(18,6))
#       against
#   (C) COPY tgt_c FROM the same rows as CSV into an identical empty logged
#       table; target (M) >= 120% of (C)'s rows/s.
#   (P) SELECT * FROM recio_migrate.profile('price_raw') against
#   (S) a plain wrapper scan that makes every column of every row reach
#       PostgreSQL (the query of test/bench.sh (2)); target (P) <= 2x (S).
#
# Both targets are created (and committed) before their timed statement, as a
# DBA would create them before a migration; neither statement runs in the
# transaction that created its table.  Every timed statement runs in a fresh
# session after a CHECKPOINT and a sync, so it does not pay for the previous
# statement's dirty buffers.  Each round runs (S), (P), (M), (C) one after the
# other, so machine noise (a shared 2-core box) hits all of them alike.  In
# the first round the two targets are compared (EXCEPT both ways).
#   BENCH_ROWS=200000 BENCH_REPEAT=3 bash test/bench_migrate.sh
# KEEP_WORK=1 keeps the work directory (fixtures, server log).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
. "$ROOT/test/bench_lib.sh"
serialize_installs "$@"

bench_args 5000000 3
T0=$SECONDS


# ---------------------------------------------------------------- setup
ensure_packages
build_and_install "$ROOT"

bench_workdir
bench_price_log

bench_price_cluster
PROFILE_QUERY="SELECT count(*) FROM recio_migrate.profile('price_raw')"

echo
echo "== profile of price_raw (printed once, untimed)"
pg -c "SELECT column_name, row_count, null_count, integer_count, real_count, text_count, max_decimals,
              timestamp_formats, suggested_type, nonconforming FROM recio_migrate.profile('price_raw')" | sed 's/^/   /'


declare -a S_MS P_MS M_MS C_MS M_RATE C_RATE
echo
echo "== $REPEAT rounds of: (S) wrapper scan, (P) profile(), (M) migrate(), (C) COPY"
for ((k = 1; k <= REPEAT; k++)); do
    read -r ms n <<<"$(timed_stmt "" "$SCAN_QUERY")"
    [ "$n" = "$ROWS" ] || die "wrapper scan counted $n rows, expected $ROWS"
    S_MS[k]=$ms

    read -r ms n <<<"$(timed_stmt "" "$PROFILE_QUERY")"
    [ "$n" = 4 ] || die "profile() returned $n columns, expected 4"
    P_MS[k]=$ms

    read -r ms res <<<"$(timed_stmt "DROP TABLE IF EXISTS tgt_m, tgt_c; CREATE TABLE tgt_m $TGT_COLS;" \
        "SELECT status || ':' || rows_read || ':' || rows_written || ':' || rows_rejected FROM recio_migrate.migrate('price_typed', 'tgt_m')")"
    [ "$res" = "succeeded:$ROWS:$ROWS:0" ] || die "migrate() returned status:read:written:rejected '$res'"
    M_MS[k]=$ms

    read -r ms res <<<"$(timed_stmt "CREATE TABLE tgt_c $TGT_COLS;" "COPY tgt_c FROM '$CSV' (FORMAT csv)")"
    [ "$res" = "COPY $ROWS" ] || die "COPY returned '$res', expected 'COPY $ROWS'"
    C_MS[k]=$ms

    M_RATE[k]=$(rate "$ROWS" "${M_MS[k]}")
    C_RATE[k]=$(rate "$ROWS" "${C_MS[k]}")
    printf '   round %d/%d: scan %s s, profile %s s, migrate %s s, COPY %s s\n' "$k" "$REPEAT" \
        "$(secs "${S_MS[k]}")" "$(secs "${P_MS[k]}")" "$(secs "${M_MS[k]}")" "$(secs "${C_MS[k]}")"

    if [ "$k" = 1 ]; then
        # once, untimed: migrate()'s rows must equal COPY's parse of the CSV
        read -r cnt1 cnt2 d1 d2 <<<"$(pg -At -F ' ' <<'SQL' | tail -n1
SET work_mem = '512MB';
SELECT (SELECT count(*) FROM tgt_m), (SELECT count(*) FROM tgt_c),
       (SELECT count(*) FROM (SELECT * FROM tgt_m EXCEPT SELECT * FROM tgt_c) x),
       (SELECT count(*) FROM (SELECT * FROM tgt_c EXCEPT SELECT * FROM tgt_m) x);
SQL
)"
        echo "   check: tgt_m $cnt1 rows, tgt_c $cnt2 rows, (tgt_m EXCEPT tgt_c) = $d1 rows, (tgt_c EXCEPT tgt_m) = $d2 rows"
        if [ "$d1" != 0 ] || [ "$d2" != 0 ] || [ "$cnt1" != "$cnt2" ] || [ "$cnt1" != "$ROWS" ]; then
            pg -c "(SELECT * FROM tgt_m EXCEPT SELECT * FROM tgt_c) ORDER BY id LIMIT 5" | sed 's/^/      /'
            die "migrate() and COPY from CSV disagree"
        fi
    fi
done
pg -q -c "DROP TABLE IF EXISTS tgt_m, tgt_c"

# ---------------------------------------------------------------- report
S_MED=$(median "${S_MS[@]}")
P_MED=$(median "${P_MS[@]}")
M_MED=$(median "${M_RATE[@]}")
C_MED=$(median "${C_RATE[@]}")
M_PCT=$(pct "$M_MED" "$C_MED")
P_X=$(ratio "$P_MED" "$S_MED")

echo
echo "== raw numbers, $(commas "$ROWS") rows per measurement (seconds)"
echo
echo "| round | S. wrapper scan | P. profile() | M. migrate() | C. COPY from CSV |"
echo "|---|---:|---:|---:|---:|"
for ((k = 1; k <= REPEAT; k++)); do
    printf '| %d | %s | %s | %s | %s |\n' "$k" "$(secs "${S_MS[k]}")" "$(secs "${P_MS[k]}")" \
        "$(secs "${M_MS[k]}")" "$(secs "${C_MS[k]}")"
done
echo
echo "== summary (median of $REPEAT)"
echo
echo "| measurement | median | ratio | target |"
echo "|---|---:|---|---|"
echo "| C. COPY from CSV into an empty logged table | $(commas "$C_MED") rows/s | 100% | |"
echo "| M. migrate() into an identical empty logged table | $(commas "$M_MED") rows/s | $M_PCT% of (C) | >= 120% of (C): $(verdict "$M_PCT" ">=" 120) |"
echo "| S. wrapper scan, all columns | $(secs "$S_MED") s | 1.00x | |"
echo "| P. profile() | $(secs "$P_MED") s | ${P_X}x (S) | <= 2x (S): $(verdict "$P_X" "<=" 2) |"
echo

crashes=$(crashed_backends "$WORK/postgres.log")
if [ -n "$crashes" ]; then
    echo "backend crash in the server log:"
    echo "$crashes"
    exit 1
fi
errors=$(grep -c -E "\] (ERROR|FATAL|PANIC):" "$WORK/postgres.log" || true)
echo "server log: no crashed backend, $errors ERROR/FATAL lines; total bench time $((SECONDS - T0)) s"
[ "$errors" = 0 ] || grep -E -A2 "\] (ERROR|FATAL|PANIC):" "$WORK/postgres.log" | head -n 30 | sed 's/^/   /'

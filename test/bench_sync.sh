#!/usr/bin/env bash
# test/bench_sync.sh: speed of sync() (issue 12) after a full migrate() of a
# price_log table of BENCH_ROWS rows (default 5,000,000), each measurement
# repeated BENCH_REPEAT times (default 3) and reported as the median.
#
#   (M) migrate('live_typed', 'tgt'): the full move into an empty logged
#       table with a primary key, the reference of (A)
#   (A) sync('live_typed', 'tgt', 'append') after the legacy writer added
#       10,000 rows; target (A) < 2% of (M)
#   (P) parity('live_typed', 'tgt', mode => 'rows') after the writer added
#       10,000 more rows and changed 1,000 spread over the table, the
#       reference of (U)
#   (U) sync('live_typed', 'tgt', 'upsert') of those changes; target
#       (U) <= 1.5x (P)
#
# Each round starts from a fresh copy of the generated file (live.db, the
# file the legacy writer changes with sqlite3), so every round measures the
# same work.  Every timed statement runs in a fresh session after a
# CHECKPOINT and a sync (timed_stmt), and its result is checked.  In the
# first round parity() after the upsert must be ok.
#   BENCH_ROWS=200000 BENCH_REPEAT=3 bash test/bench_sync.sh
# KEEP_WORK=1 keeps the work directory (fixtures, server log).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
. "$ROOT/test/bench_lib.sh"
serialize_installs "$@"

bench_args 5000000 3
T0=$SECONDS
NEW=10000
CHANGED=1000
[ "$ROWS" -ge $((CHANGED * 10)) ] || die "BENCH_ROWS must be at least $((CHANGED * 10))"

# ---------------------------------------------------------------- setup
ensure_packages
build_and_install "$ROOT"

bench_workdir
bench_price_log
bench_price_cluster
LIVE=$WORK/fixtures/live.db
pg -q <<SQL
CREATE SERVER live FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$LIVE');
CREATE FOREIGN TABLE live_typed (id bigint, ts timestamptz OPTIONS (column_name 'timestamp'),
    price numeric(12,2), volume numeric(18,6))
    SERVER live OPTIONS (table 'price_log');
SQL
TGT='(id bigint PRIMARY KEY, ts timestamptz, price numeric(12,2), volume numeric(18,6)) WITH (autovacuum_enabled = off)'

# the legacy writer: $1 new rows after id $2 (and with $3, $CHANGED changed prices spread over the first $ROWS ids)
legacy_writes() {
    local sql="WITH RECURSIVE n(i) AS (SELECT $2 + 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2 + $1)
INSERT INTO price_log SELECT i, strftime('%Y-%m-%d %H:%M:%S', '2031-01-01', '+' || i || ' seconds'), 41000.25, 0.5 FROM n;"
    [ -z "${3:-}" ] || sql="$sql UPDATE price_log SET price = round(price + 1, 2) WHERE id <= $ROWS AND id % $((ROWS / CHANGED)) = 7;"
    sqlite3 "$LIVE" "$sql"
}

declare -a M_MS A_MS P_MS U_MS
echo
echo "== $REPEAT rounds of: (M) migrate(), writer +$NEW rows, (A) sync append, writer +$NEW rows and $CHANGED changed, (P) parity rows, (U) sync upsert"
for ((k = 1; k <= REPEAT; k++)); do
    cp "$DB" "$LIVE"
    read -r ms res <<<"$(timed_stmt "DROP TABLE IF EXISTS tgt; CREATE TABLE tgt $TGT;" \
        "SELECT status || ':' || rows_written FROM recio_migrate.migrate('live_typed', 'tgt')")"
    [ "$res" = "succeeded:$ROWS" ] || die "migrate() returned status:written '$res'"
    M_MS[k]=$ms

    legacy_writes $NEW "$ROWS"
    read -r ms res <<<"$(timed_stmt "" \
        "SELECT status || ':' || rows_inserted || ':' || rows_rejected FROM recio_migrate.sync('live_typed', 'tgt', 'append')")"
    [ "$res" = "succeeded:$NEW:0" ] || die "sync(append) returned status:inserted:rejected '$res'"
    A_MS[k]=$ms

    legacy_writes $NEW $((ROWS + NEW)) changes
    read -r ms res <<<"$(timed_stmt "" \
        "SELECT missing || ':' || mismatched || ':' || extra FROM recio_migrate.parity('live_typed', 'tgt', mode => 'rows')")"
    [ "$res" = "$NEW:$CHANGED:0" ] || die "parity(rows) returned missing:mismatched:extra '$res'"
    P_MS[k]=$ms

    read -r ms res <<<"$(timed_stmt "" \
        "SELECT status || ':' || rows_inserted || ':' || rows_updated || ':' || rows_only_in_target FROM recio_migrate.sync('live_typed', 'tgt', 'upsert')")"
    [ "$res" = "succeeded:$NEW:$CHANGED:0" ] || die "sync(upsert) returned status:inserted:updated:only_in_target '$res'"
    U_MS[k]=$ms
    printf '   round %d/%d: migrate %s s, append %s s, parity %s s, upsert %s s\n' "$k" "$REPEAT" \
        "$(secs "${M_MS[k]}")" "$(secs "${A_MS[k]}")" "$(secs "${P_MS[k]}")" "$(secs "${U_MS[k]}")"
    if [ "$k" = 1 ]; then
        res=$(pg -At -c "SELECT ok FROM recio_migrate.parity('live_typed', 'tgt', mode => 'rows')")
        [ "$res" = t ] || die "parity after sync(upsert) is not ok"
        echo "   check: parity(live_typed, tgt) ok after the upsert"
    fi
done
pg -q -c "DROP TABLE IF EXISTS tgt"

# ---------------------------------------------------------------- report
M_MED=$(median "${M_MS[@]}")
A_MED=$(median "${A_MS[@]}")
P_MED=$(median "${P_MS[@]}")
U_MED=$(median "${U_MS[@]}")
A_PCT=$(awk -v a="$A_MED" -v b="$M_MED" 'BEGIN { printf "%.2f", 100 * a / b }')
U_X=$(ratio "$U_MED" "$P_MED")

echo
echo "== raw numbers, $(commas "$ROWS") rows migrated (seconds)"
echo
echo "| round | M. migrate() | A. sync append | P. parity rows | U. sync upsert |"
echo "|---|---:|---:|---:|---:|"
for ((k = 1; k <= REPEAT; k++)); do
    printf '| %d | %s | %s | %s | %s |\n' "$k" "$(secs "${M_MS[k]}")" "$(secs "${A_MS[k]}")" \
        "$(secs "${P_MS[k]}")" "$(secs "${U_MS[k]}")"
done
echo
echo "== summary (median of $REPEAT)"
echo
echo "| measurement | median | ratio | target |"
echo "|---|---:|---|---|"
echo "| M. migrate() of $(commas "$ROWS") rows | $(secs "$M_MED") s | 100% | |"
echo "| A. sync(mode => 'append') of $(commas $NEW) new rows | $(secs "$A_MED") s | $A_PCT% of (M) | < 2% of (M): $(verdict "$A_PCT" "<" 2) |"
echo "| P. parity(mode => 'rows'), $(commas $NEW) missing and $(commas $CHANGED) mismatched | $(secs "$P_MED") s | 1.00x | |"
echo "| U. sync(mode => 'upsert') of those changes | $(secs "$U_MED") s | ${U_X}x (P) | <= 1.5x (P): $(verdict "$U_X" "<=" 1.5) |"
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

#!/usr/bin/env bash
# test/bench_parity_types.sh: the cost of parity() across declared types.  On
# the BENCH_ROWS-row price_log (default 1,000,000), against its migrated copy
# ptgt (id bigint primary key, ts timestamptz, price numeric(12,2), volume
# numeric(18,6)), each the median of BENCH_REPEAT (default 3) runs:
#   (r) reference: COPY (SELECT * FROM price_typed) TO '/dev/null', one read of
#       the legacy table in the target's types through the wrapper
#   (a) parity(price_typed, ptgt): the source declared with the target's types,
#       read with SQL, key order from SQLite (the same-type path)
#   (b) parity(price_text, ptgt): the default import (ts text, REAL double
#       precision): read through the wrapper's conversion in the target's
#       types and sorted by key here
#   (c) parity(price_textkey, ptgt): the same with the key declared text too
#   (d) checksum mode of (b) (it falls back to the row merge)
#   BENCH_ROWS=200000 BENCH_REPEAT=3 bash test/bench_parity_types.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
. "$ROOT/test/bench_lib.sh"
serialize_installs "$@"
bench_args 1000000 3

ensure_packages
build_and_install "$ROOT"
bench_workdir
bench_price_log
bench_price_cluster
pg -q <<SQL
CREATE FOREIGN TABLE price_text (id bigint, ts text OPTIONS (column_name 'timestamp'), price double precision,
    volume double precision) SERVER bench OPTIONS (table 'price_log');
CREATE FOREIGN TABLE price_textkey (id text, ts text OPTIONS (column_name 'timestamp'), price double precision,
    volume double precision) SERVER bench OPTIONS (table 'price_log');
CREATE TABLE ptgt $TGT_COLS;
INSERT INTO ptgt SELECT * FROM price_typed;
ALTER TABLE ptgt ADD PRIMARY KEY (id);
VACUUM ANALYZE ptgt;
SQL
SETUP="SET max_parallel_workers_per_gather = 0; SET TimeZone = 'UTC';"
OK="$ROWS|$ROWS|$ROWS|true"
declare -A MS
run() {   # name statement expected-last-line
    local k times=() out
    for ((k = 1; k <= REPEAT; k++)); do
        out=$(timed_stmt "$SETUP" "$2")
        [ "${out#* }" = "$3" ] || die "$1: got '${out#* }', expected '$3'"
        times+=("${out%% *}")
    done
    MS[$1]=$(median "${times[@]}")
    printf '   %-56s %8s s  (runs: %s ms)\n' "$1" "$(secs "${MS[$1]}")" "${times[*]}"
}
echo "== $(commas "$ROWS") rows, median of $REPEAT (work_mem 64MB, parallel query off)"
q() { echo "SELECT source_rows || '|' || target_rows || '|' || matched || '|' || ok FROM recio_migrate.parity('$1', 'ptgt'${2:-})"; }
run "(r) COPY (SELECT * FROM price_typed) TO /dev/null" "COPY (SELECT * FROM price_typed) TO '/dev/null'" "COPY $ROWS"
run "(a) parity(price_typed, ptgt), same types" "$(q price_typed)" "$OK"
run "(b) parity(price_text, ptgt), ts text, REAL" "$(q price_text)" "$OK"
run "(c) parity(price_textkey, ptgt), key text too" "$(q price_textkey)" "$OK"
run "(d) parity(price_text, ptgt, mode => 'checksum')" "$(q price_text ", mode => 'checksum'")" "$OK"
run "(a') parity(price_typed, ptgt, mode => 'checksum')" "$(q price_typed ", mode => 'checksum'")" "$OK"
echo
echo "| measurement | seconds | vs (a) same-type parity | vs (r) one read |"
echo "|---|---|---|---|"
for k in "(r) COPY (SELECT * FROM price_typed) TO /dev/null" "(a) parity(price_typed, ptgt), same types" \
         "(b) parity(price_text, ptgt), ts text, REAL" "(c) parity(price_textkey, ptgt), key text too" \
         "(d) parity(price_text, ptgt, mode => 'checksum')" "(a') parity(price_typed, ptgt, mode => 'checksum')"; do
    echo "| $k | $(secs "${MS[$k]}") | $(ratio "${MS[$k]}" "${MS["(a) parity(price_typed, ptgt), same types"]}")x | $(ratio "${MS[$k]}" "${MS["(r) COPY (SELECT * FROM price_typed) TO /dev/null"]}")x |"
done

#!/usr/bin/env bash
# test/bench_explain.sh (`make bench`): the planning cost of a recio_sqlite
# foreign table that was never ANALYZEd, on a price_log table of BENCH_ROWS
# rows (default 5,000,000; no sqlite_stat1), BENCH_REPEAT plans (default 20).
#
#   (1) EXPLAIN in a fresh session: opens the SQLite file, reads its schema
#       and makes the row estimate;
#   (2) EXPLAIN again in the same session, median of BENCH_REPEAT: the file
#       is open and the estimate cached.
# Target: (1) and (2) under 5 ms (a count(*) of the table took seconds).
#   BENCH_ROWS=200000 bash test/bench_explain.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
. "$ROOT/test/bench_lib.sh"
serialize_installs "$@"

bench_args 5000000 20
ensure_packages
build_and_install "$ROOT"
bench_workdir
bench_price_log
bench_price_cluster

QUERY='SELECT * FROM price_raw WHERE id > 100'
# psql's \timing of each EXPLAIN, in milliseconds, one per line
explain_times() {
    local script="\\timing on"
    for ((k = 1; k <= $1; k++)); do script+=$'\n'"EXPLAIN $QUERY;"; done
    pg -At <<<"$script" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
}

echo
echo "== EXPLAIN $QUERY"
pg -At -c "EXPLAIN $QUERY" | sed 's/^/   /'
declare -a FIRST
for ((k = 1; k <= 5; k++)); do FIRST+=("$(explain_times 1)"); done
mapfile -t AGAIN < <(explain_times $((REPEAT + 1)) | tail -n +2)
first=$(median "${FIRST[@]}")
again=$(median "${AGAIN[@]}")
echo "== (1) first EXPLAIN of a session, median of 5 sessions: $first ms  (target < 5 ms: $(verdict "$first" '<' 5))"
echo "== (2) EXPLAIN again in the session, median of $REPEAT: $again ms  (target < 5 ms: $(verdict "$again" '<' 5))"

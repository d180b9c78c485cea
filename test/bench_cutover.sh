#!/usr/bin/env bash
# test/bench_cutover.sh: the live cutover's benchmarks (issue 12) on a
# price_log file of BENCH_ROWS rows (default 5,000,000), each measurement
# repeated BENCH_REPEAT times (default 3) and reported as the median.
#
#   (c) SELECT * FROM recio_migrate.snapshot('bench', DIR): the online copy
#       (stepped backup API), journal_mode DELETE, PRAGMA integrity_check,
#       fsync and sha256 of the copy, the ledger row and the new server
#       against
#   (K) cp of the same file (the physical reference), and
#   (KV) cp, sync of the copy and sha256sum of it (what snapshot() does
#       besides copying, without the integrity check).
# The source file is in the page cache for every measurement (it is read
# once before the first round); each copy is removed before the next round.
#   BENCH_ROWS=200000 BENCH_REPEAT=3 bash test/bench_cutover.sh
# KEEP_WORK=1 keeps the work directory (fixtures, server log).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
. "$ROOT/test/bench_lib.sh"
serialize_installs "$@"

bench_args 5000000 3
T0=$SECONDS

ensure_packages
build_and_install "$ROOT"
bench_workdir
bench_price_log
bench_price_cluster
SNAPDIR=$WORK/snapshots
as_pg mkdir -p "$SNAPDIR"
BYTES=$(stat -c %s "$DB")
cat "$DB" >/dev/null

# wall ms of a shell command run as the cluster's OS user
timed_sh() {
    local t0 t1
    t0=$(date +%s%N)
    as_pg bash -c "$1" >/dev/null
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000000))
}

declare -a S_MS K_MS KV_MS
echo
echo "== $REPEAT rounds of: (K) cp, (KV) cp + sync + sha256sum, (c) snapshot() of $(commas "$BYTES") bytes"
for ((k = 1; k <= REPEAT; k++)); do
    K_MS[k]=$(timed_sh "cp '$DB' '$SNAPDIR/cp.db'")
    as_pg rm -f "$SNAPDIR/cp.db"
    KV_MS[k]=$(timed_sh "cp '$DB' '$SNAPDIR/cp.db' && sync '$SNAPDIR/cp.db' && sha256sum '$SNAPDIR/cp.db'")
    as_pg rm -f "$SNAPDIR/cp.db"
    read -r ms res <<<"$(timed_stmt "" "SELECT bytes FROM recio_migrate.snapshot('bench', '$SNAPDIR')")"
    [ "$res" = "$BYTES" ] || die "snapshot() wrote $res bytes, the file has $BYTES"
    S_MS[k]=$ms
    detail=$(pg -At -F ' ' -c "SELECT steps, restarts, round(longest_step_ms::numeric, 1), round(seconds::numeric, 3)
                                FROM recio_migrate.snapshots ORDER BY snapshot_id DESC LIMIT 1")
    read -r steps restarts longest inner <<<"$detail"
    if [ "$k" = 1 ]; then
        file=$(pg -At -c "SELECT file FROM recio_migrate.snapshots ORDER BY snapshot_id DESC LIMIT 1")
        n=$(pg -At -c "CREATE SCHEMA c1; IMPORT FOREIGN SCHEMA main LIMIT TO (price_log) FROM SERVER
                       $(pg -At -c "SELECT quote_ident(snapshot_server) FROM recio_migrate.snapshots ORDER BY snapshot_id DESC LIMIT 1")
                       INTO c1; SELECT count(*) FROM c1.price_log" | tail -n1)
        [ "$n" = "$ROWS" ] || die "the snapshot holds $n rows, expected $ROWS"
        echo "   check: the copy $file holds $(commas "$n") rows"
    fi
    pg -q -c "DO \$\$ DECLARE s name; BEGIN
                FOR s IN SELECT snapshot_server FROM recio_migrate.snapshots LOOP
                  EXECUTE format('DROP SERVER %I CASCADE', s);
                END LOOP; END \$\$" -c "DROP SCHEMA IF EXISTS c1 CASCADE" -c "TRUNCATE recio_migrate.snapshots" >/dev/null
    as_pg find "$SNAPDIR" -mindepth 1 -delete
    printf '   round %d/%d: cp %s s, cp+sync+sha256sum %s s, snapshot() %s s (%s steps, %s restarts, longest step %s ms)\n' \
        "$k" "$REPEAT" "$(secs "${K_MS[k]}")" "$(secs "${KV_MS[k]}")" "$(secs "${S_MS[k]}")" "$steps" "$restarts" "$longest"
done

S_MED=$(median "${S_MS[@]}")
K_MED=$(median "${K_MS[@]}")
KV_MED=$(median "${KV_MS[@]}")
echo
echo "== summary (median of $REPEAT, $(commas "$ROWS") rows, $(commas "$BYTES") bytes)"
echo
echo "| measurement | median | ratio |"
echo "|---|---:|---:|"
echo "| K. cp | $(secs "$K_MED") s | 1.00x |"
echo "| KV. cp + sync + sha256sum | $(secs "$KV_MED") s | $(ratio "$KV_MED" "$K_MED")x (K) |"
echo "| c. snapshot() | $(secs "$S_MED") s | $(ratio "$S_MED" "$K_MED")x (K), $(ratio "$S_MED" "$KV_MED")x (KV) |"
echo

crashes=$(crashed_backends "$WORK/postgres.log")
[ -z "$crashes" ] || { echo "backend crash in the server log:"; echo "$crashes"; exit 1; }
echo "server log: no crashed backend; total bench time $((SECONDS - T0)) s"

# test/bench_lib.sh: helpers shared by the benchmark scripts (bench*.sh).
# Source it after test/lib.sh.

# bench_args: BENCH_ROWS (default $1) and BENCH_REPEAT (default $2) as ROWS and REPEAT
bench_args() {
    ROWS=${BENCH_ROWS:-$1}
    REPEAT=${BENCH_REPEAT:-$2}
    [[ $ROWS =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_ROWS must be a positive integer, not '$ROWS'"; exit 2; }
    [[ $REPEAT =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_REPEAT must be a positive integer, not '$REPEAT'"; exit 2; }
}
# median of the arguments (mean of the middle two for an even count)
median() {
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
        END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
# rows/s from rows and milliseconds
rate() { awk -v r="$1" -v ms="$2" 'BEGIN { printf "%.0f", r * 1000 / ms }'; }
# integer with thousands separators
commas() {
    awk -v n="$1" 'BEGIN { s = sprintf("%.0f", n); o = ""
        while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }
        print s o }'
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", 100 * a / b }'; }
# a / b with two decimals
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.3f", ms / 1000 }'; }
# verdict VALUE OP LIMIT (OP: >=, <, <=) -> "met" / "MISSED"
verdict() {
    awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
        ok = (op == ">=") ? v >= l : (op == "<=") ? v <= l : v < l; print ok ? "met" : "MISSED" }'
}
pg() { "$PGBIN/psql" -X -v ON_ERROR_STOP=1 "$@"; }
die() { echo "bench: $*" >&2; exit 1; }

# bench_workdir: a fresh work directory in WORK, and an exit trap that shows the
# end of the server log when the benchmark failed, stops the cluster and
# removes the directory (KEEP_WORK=1 keeps it)
bench_workdir() {
    WORK=$(make_workdir)
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}
bench_cleanup() {
    local rc=$?
    touch "$WORK/rss.stop" 2>/dev/null || true   # ends a memory sampler that may be running
    if [ "$rc" != 0 ] && [ -f "$WORK/postgres.log" ]; then
        echo "--- bench failed (exit $rc); end of the server log:"
        tail -n 20 "$WORK/postgres.log"
        crashed_backends "$WORK/postgres.log"
    fi
    stop_cluster
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}

# bench_price_log: the ROWS-row price_log as a SQLite file (DB) and the same rows
# as CSV (CSV), generated as the cluster's OS user can read them
bench_price_log() {
    echo "== generating $(commas "$ROWS") rows of price_log (SQLite + CSV) in $WORK/fixtures"
    local t=$SECONDS
    gen_fixtures "$WORK/fixtures" --bench-rows "$ROWS"
    DB=$WORK/fixtures/bench_price_log.db
    CSV=$WORK/fixtures/bench_price_log.csv
    echo "   done in $((SECONDS - t)) s: $(du -m "$DB" | cut -f1) MB .db, $(du -m "$CSV" | cut -f1) MB .csv"
}

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

# bench_price_cluster: start the benchmark cluster (jit off: compiling the tiny
# quals costs 100+ ms of noise unrelated to what is measured) and create the
# wrapper's view of the price_log file DB: price_raw (the declared SQLite
# types) and price_typed (the migrated table's types).  Sets SCAN_QUERY, a
# query that makes every column of every row reach PostgreSQL, and TGT_COLS,
# the columns of the logged target tables.
bench_price_cluster() {
    start_cluster "$WORK" shared_buffers=512MB work_mem=64MB jit=off
    # the wrapper reads the naive timestamps as UTC (timezone option default);
    # COPY parses the CSV in the session's TimeZone: make it UTC too
    export PGTZ=UTC
    export PGOPTIONS="-c client_min_messages=warning"   # no "does not exist, skipping"
    echo "== cluster on $PGHOST port $PGPORT (shared_buffers=512MB, work_mem=64MB, jit=off)"
    pg -q <<SQL
CREATE EXTENSION recio_migrate;
CREATE SERVER bench FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$DB');
CREATE FOREIGN TABLE price_raw (id bigint, "timestamp" text, price double precision, volume double precision)
    SERVER bench OPTIONS (table 'price_log');
CREATE FOREIGN TABLE price_typed (id bigint, ts timestamptz OPTIONS (column_name 'timestamp'),
    price numeric(12,2), volume numeric(18,6))
    SERVER bench OPTIONS (table 'price_log');
SQL
    # Nothing can be pushed down to SQLite (the wrapper does not ship IS NOT
    # NULL over arithmetic) or projected away.  octet_length (a varlena header
    # read) rather than length (a character walk) and float8 additions keep the
    # evaluation cheap next to fetching the row.  Not `SELECT count(*) FROM
    # (SELECT * FROM price_raw OFFSET 0) s`: the planner replaces the
    # subquery's unreferenced output columns by NULL constants
    # (remove_unused_subquery_outputs), so the wrapper would fetch no column.
    SCAN_QUERY='SELECT count(*) FROM price_raw WHERE (id + octet_length("timestamp") + price + volume) IS NOT NULL'
    # ordinary logged tables; autovacuum off on them only so that one round's
    # insert-triggered vacuum does not run during the next timed statement
    TGT_COLS='(id bigint, ts timestamptz, price numeric(12,2), volume numeric(18,6)) WITH (autovacuum_enabled = off)'
}

# timed_stmt SETUP STATEMENT: run SETUP and a CHECKPOINT untimed (so the
# statement does not pay for the previous one's dirty buffers; the sync then
# keeps the kernel's writeback of those pages out of the timed window), then
# STATEMENT under psql's \timing, in one fresh session.  Prints "ms result",
# the result being the statement's last output line (a value or a command tag).
timed_stmt() {
    local out ms res
    out=$(pg -At <<SQL
$1
CHECKPOINT;
\! sync
\timing on
$2;
SQL
)
    ms=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | tail -n1)
    res=$(grep -v '^Time: ' <<<"$out" | tail -n1)
    [ -n "$ms" ] && [ -n "$res" ] || die "could not time '$2': $out"
    echo "$ms $res"
}

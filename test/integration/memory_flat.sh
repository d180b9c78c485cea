#!/usr/bin/env bash
# Memory stays flat: a 1,000,000-row scan converting every column keeps the
# backend's resident memory within 64 MB of its size before the scan.
. "$(dirname "$0")/common.sh"
it_db recio_it_memory
dir=$RECIO_WORK/memfix
gen_fixtures "$dir" --bench-rows 1000000
q -c "CREATE SERVER bench FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$dir/bench_price_log.db')" \
  -c "CREATE FOREIGN TABLE price_log (id bigint, ts timestamptz OPTIONS (column_name 'timestamp'), price numeric(12,2), volume numeric(18,6)) SERVER bench"
coproc PSQL { psql -X -At -q 2>&1; }
echo "SELECT pg_backend_pid();" >&${PSQL[1]}
read -r pid <&${PSQL[0]}
echo "SELECT count(*) FROM price_log WHERE price IS NULL;" >&${PSQL[1]}
read -r _ <&${PSQL[0]}   # warm up: caches, connection, plan
idle=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
echo "SELECT count(*) FROM price_log WHERE (id::numeric + extract(epoch FROM ts)::numeric + price + volume) IS NOT NULL;" >&${PSQL[1]}
peak=$idle
# a read that times out keeps what it read of a line in part: gather it, or a
# result arriving across a timeout loses its first digits
line=""
while true; do
    rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)
    [ "$rss" -gt "$peak" ] && peak=$rss
    part=""
    if read -r -t 0.05 part <&${PSQL[0]}; then line=$line$part; break; fi
    line=$line$part
done
echo "\\q" >&${PSQL[1]}
echo "rows: $line; backend RSS before: $((idle / 1024)) MB, peak during the scan: $((peak / 1024)) MB, growth $(((peak - idle) / 1024)) MB"
[ "$line" = 1000000 ] || fail "scan returned $line"
[ $((peak - idle)) -lt $((64 * 1024)) ] || fail "memory grew by $(((peak - idle) / 1024)) MB"

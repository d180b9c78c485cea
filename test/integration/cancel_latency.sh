#!/usr/bin/env bash
# pg_cancel_backend and statement_timeout stop a scan, including a long
# SQLite-side sort that has not returned its first row, within 100 ms.
. "$(dirname "$0")/common.sh"
it_db recio_it_cancel
q -c "CREATE SERVER types FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$RECIO_FIXTURES/types.db')" \
  -c "CREATE FOREIGN TABLE slow_sorted (x bigint) SERVER types"
worst=0
for i in 1 2 3; do
    psql -X -At -c "SET application_name = 'recio_cancel'" -c "SELECT x FROM slow_sorted LIMIT 1" >"$RECIO_WORK/cancel.out" 2>&1 &
    pid=$!
    sleep 0.7
    start=$(now_ms)
    q -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'recio_cancel'" >/dev/null
    wait $pid || true
    took=$(( $(now_ms) - start ))
    grep -q "canceling statement due to user request" "$RECIO_WORK/cancel.out" || fail "not canceled: $(cat "$RECIO_WORK/cancel.out")"
    echo "cancel of a running SQLite sort: $took ms (includes psql start-up of the canceller)"
    [ $took -gt $worst ] && worst=$took
done
start=$(now_ms)
out=$(psql -X -At -c "SET statement_timeout = '200ms'" -c "SELECT x FROM slow_sorted LIMIT 1" 2>&1 || true)
took=$(( $(now_ms) - start ))
echo "statement_timeout 200ms: returned after $took ms: $out"
echo "$out" | grep -q "canceling statement due to statement timeout" || fail "no timeout: $out"
[ "$worst" -lt 500 ] || fail "cancel took $worst ms"

#!/usr/bin/env bash
# A writer holding an exclusive lock: the scan waits busy_timeout_ms, then
# fails with 55P03; with a long busy_timeout_ms, pg_cancel_backend still
# stops the wait at once.
. "$(dirname "$0")/common.sh"
it_db recio_it_locked
db=$RECIO_WORK/locked.db
as_pg cp "$RECIO_FIXTURES/trades.db" "$db"
as_pg python3 - "$db" <<'PY' &
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN EXCLUSIVE")
con.execute("UPDATE trades SET notes = notes")
time.sleep(8)
con.execute("ROLLBACK")
PY
locker=$!
sleep 1
q -c "CREATE SERVER short_wait FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$db', busy_timeout_ms '300')" \
  -c "CREATE SERVER long_wait FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$db', busy_timeout_ms '600000')" \
  -c "CREATE FOREIGN TABLE t_short (id bigint) SERVER short_wait OPTIONS (\"table\" 'trades')" \
  -c "CREATE FOREIGN TABLE t_long (id bigint) SERVER long_wait OPTIONS (\"table\" 'trades')"

start=$(now_ms)
err=$(psql -X -At -v VERBOSITY=verbose -c "SELECT count(*) FROM t_short" 2>&1 || true)
took=$(( $(now_ms) - start ))
echo "busy_timeout_ms 300: $took ms: $(echo "$err" | head -1)"
echo "$err" | grep -q "55P03" || fail "expected SQLSTATE 55P03, got: $err"
echo "$err" | grep -q "is locked" || fail "expected a 'is locked' message: $err"
[ "$took" -lt 3000 ] || fail "the wait took $took ms for a 300 ms busy_timeout_ms"

psql -X -At -c "SET application_name = 'recio_locked_wait'" -c "SELECT count(*) FROM t_long" >"$RECIO_WORK/long.out" 2>&1 &
waiter=$!
sleep 1
start=$(now_ms)
q -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'recio_locked_wait'" >/dev/null
wait $waiter || true
took=$(( $(now_ms) - start ))
echo "cancel during a lock wait: returned after $took ms: $(head -1 "$RECIO_WORK/long.out")"
grep -q "canceling statement due to user request" "$RECIO_WORK/long.out" || fail "not canceled: $(cat "$RECIO_WORK/long.out")"
[ "$took" -lt 1000 ] || fail "cancel took $took ms"
kill $locker 2>/dev/null || true
wait $locker 2>/dev/null || true

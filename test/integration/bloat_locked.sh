#!/usr/bin/env bash
# bloat_report() behind an exclusive lock: a table held in ACCESS EXCLUSIVE by
# another session (and its index, read under the table's lock) is reported as
# 'skipped: locked' at once instead of waiting; the other tables are measured.
# A cancel stops a long measurement promptly.
. "$(dirname "$0")/common.sh"
it_db recio_it_bloat
q -c "CREATE TABLE busy (id int PRIMARY KEY, note text)" \
  -c "INSERT INTO busy SELECT g, 'b' FROM generate_series(1, 10000) g" \
  -c "CREATE TABLE calm (id int PRIMARY KEY, note text)" \
  -c "INSERT INTO calm SELECT g, 'c' FROM generate_series(1, 10000) g"

psql -X -q -c "BEGIN" -c "LOCK TABLE busy IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(20)" >/dev/null 2>&1 &
locker=$!
trap 'kill $locker 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    [ "$(q -c "SELECT count(*) FROM pg_locks WHERE relation = 'busy'::regclass AND mode = 'AccessExclusiveLock' AND granted")" = 1 ] && break
    sleep 0.1
done

start=$(now_ms)
rows=$(q -c "SET statement_timeout = '10s'" \
         -c "SELECT relation, advice FROM recio_migrate.bloat_report('public', 'exact') ORDER BY 1::text")
took=$(( $(now_ms) - start ))
echo "report with busy locked: $took ms"
echo "$rows"
echo "$rows" | grep -qx "busy|skipped: locked" || fail "busy should be skipped: $rows"
echo "$rows" | grep -qx "busy_pkey|skipped: locked" || fail "busy_pkey should be skipped: $rows"
echo "$rows" | grep -qx "calm|ok" || fail "calm should be measured: $rows"
echo "$rows" | grep -qx "calm_pkey|ok" || fail "calm_pkey should be measured: $rows"
[ "$took" -lt 5000 ] || fail "the report waited $took ms behind the lock"
kill $locker 2>/dev/null || true
wait $locker 2>/dev/null || true

# measurements stop promptly at a cancel (CHECK_FOR_INTERRUPTS per page)
q -c "CREATE TABLE big (id int, note text) WITH (autovacuum_enabled = off)" \
  -c "INSERT INTO big SELECT g, repeat('x', 200) FROM generate_series(1, 150000) g"
start=$(now_ms)
err=$(psql -X -At -c "SET statement_timeout = '300ms'" \
      -c "SELECT count(*) FROM generate_series(1, 1000) g, LATERAL recio_migrate.bloat_measure('big', CASE WHEN g > 0 THEN 'exact' END) m" 2>&1 || true)
took=$(( $(now_ms) - start ))
echo "cancelled after $took ms: $err"
echo "$err" | grep -q "canceling statement due to statement timeout" || fail "expected a statement timeout: $err"
[ "$took" -lt 3000 ] || fail "the cancel took $took ms"

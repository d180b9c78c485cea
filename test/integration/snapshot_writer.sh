#!/usr/bin/env bash
# A legacy writer keeps inserting into a WAL-mode file while PostgreSQL
# reads it: every scan inside one PostgreSQL transaction sees the same
# SQLite snapshot; the next transaction sees the new rows.
. "$(dirname "$0")/common.sh"
it_db recio_it_snapshot
db=$RECIO_WORK/snapshot_wal.db
as_pg cp "$RECIO_FIXTURES/btc_price_history.db" "$db"
as_pg python3 - "$db" <<'PY' &
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("PRAGMA journal_mode=WAL")
end = time.time() + 6
i = 0
while time.time() < end:
    con.execute("INSERT INTO price_log (timestamp, price, volume, momentum) VALUES ('2025-07-15T00:00:00', 1, 1, 0)")
    i += 1
    time.sleep(0.002)
PY
writer=$!
sleep 1
q -c "CREATE SERVER snap FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$db')" \
  -c "CREATE FOREIGN TABLE price_log (id bigint, price float8) SERVER snap"
out=$(q <<'SQL'
BEGIN;
SELECT count(*) FROM price_log;
SELECT pg_sleep(1);
SELECT count(*) FROM price_log;
SELECT count(*) FROM price_log WHERE id > 0;
SELECT sum(price)::bigint >= 0 FROM price_log;
COMMIT;
SELECT pg_sleep(0.5);
SELECT count(*) FROM price_log;
SQL
)
wait $writer
set -- $(echo "$out" | grep -E '^[0-9]+$')
echo "in one transaction: $1, $2, $3; next transaction: $4"
[ "$1" = "$2" ] && [ "$2" = "$3" ] || fail "counts within one transaction differ: $1 $2 $3"
[ "$4" -gt "$1" ] || fail "the next transaction did not see the writer's rows ($4 <= $1)"
[ "$1" -gt 20000 ] || fail "the writer had not started ($1 rows)"

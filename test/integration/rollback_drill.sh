#!/usr/bin/env bash
# The rollback drill: trades.db is migrated, the application writes 1,000
# trades in PostgreSQL (no id: the identity hands them out; whole-second
# timestamps, as the legacy services write), export_sqlite() writes a new
# file, and a legacy-style Python service reads every row of it, the 1,000
# included, parsing each column the way the legacy code does.  The original
# legacy file is unchanged (sha256).
. "$(dirname "$0")/common.sh"
it_db recio_it_rollback
legacy=$RECIO_FIXTURES/trades.db
sha_before=$(sha256sum "$legacy" | cut -d' ' -f1)
out_dir=$RECIO_WORK/rollback
mkdir -p "$out_dir"
chown postgres "$out_dir" 2>/dev/null || true

# the legacy services write naive New York times ('T' format)
q -c "CREATE SERVER drill_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$legacy', timezone 'America/New_York')"
q -c "SELECT count(*) FROM recio_migrate.migrate_server('drill_srv', 'app')" >/dev/null
legacy_rows=$(sqlite3 -readonly "$legacy" "SELECT count(*) FROM trades")
q -c "INSERT INTO app.trades (date, time, strike, side, buy_price, position, status, contract, ticker, entry_method, created_at)
      SELECT d::date, to_char(d, 'HH24:MI:SS')::time, '\$120,000', CASE WHEN g % 2 = 0 THEN 'yes' ELSE 'no' END,
             round((0.01 * (g % 97))::numeric, 2), g % 10 + 1, 'open', 'BTC 5pm', 'KXBTCD-25AUG0117-T' || g, 'auto',
             d AT TIME ZONE 'America/New_York'
      FROM generate_series(1, 1000) g, LATERAL (SELECT timestamp '2025-08-01 10:00:00' + g * interval '7 seconds') t(d)"
new=$out_dir/trades_rollback.db
q -c "SELECT * FROM recio_migrate.export_sqlite('drill_srv', 'app', '$new')" >/dev/null

python3 - "$new" "$legacy_rows" <<'PY'
# written like the legacy services: sqlite3 module, ISO 'T' timestamps, REAL prices
import sqlite3, sys
from datetime import datetime
path, legacy_rows = sys.argv[1], int(sys.argv[2])
conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
rows = conn.execute("SELECT id, date, time, buy_price, position, status, created_at, typeof(buy_price), typeof(id) "
                    "FROM trades ORDER BY id").fetchall()
assert len(rows) == legacy_rows + 1000, f"{len(rows)} rows, expected {legacy_rows} + 1000"
new = [r for r in rows if r[0] > legacy_rows]
assert len(new) == 1000, f"{len(new)} rows past the legacy ids"
for r in rows:
    datetime.strptime(r[1], "%Y-%m-%d")
    datetime.strptime(r[2], "%H:%M:%S")
    if r[6] is not None:
        datetime.strptime(r[6], "%Y-%m-%dT%H:%M:%S")
    assert r[8] == "integer", f"id {r[0]} stored as {r[8]}"
    assert r[3] is None or r[7] == "real", f"buy_price of id {r[0]} stored as {r[7]}"
assert new[0][6] == "2025-08-01T10:00:07", f"first new trade's created_at is {new[0][6]!r}"
open_count = conn.execute("SELECT count(*) FROM trades WHERE status = 'open'").fetchone()[0]
seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'trades'").fetchone()[0]
assert seq >= rows[-1][0], f"sqlite_sequence {seq} is behind the greatest id {rows[-1][0]}"
print(f"legacy service read {len(rows)} trades ({len(new)} written in PostgreSQL, ids {new[0][0]}..{new[-1][0]}), "
      f"{open_count} open, sqlite_sequence {seq}")
PY
[ "$(sha256sum "$legacy" | cut -d' ' -f1)" = "$sha_before" ] || fail "the original legacy file changed"
echo "original legacy file unchanged: sha256 $sha_before"

# reverse sync: the same 1,000 PostgreSQL rows written back into an updatable copy of the legacy file
# (the legacy file itself is never written: a copy, as the runbook's stopped legacy side would use)
rw=$out_dir/trades_rw.db
cp "$legacy" "$rw"
chown postgres "$rw" 2>/dev/null || true
q -c "CREATE SERVER drill_rw FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$rw', timezone 'America/New_York', updatable 'true')"
q -c "CREATE SCHEMA legacy_rw"
q -c "IMPORT FOREIGN SCHEMA main LIMIT TO (trades) FROM SERVER drill_rw INTO legacy_rw OPTIONS (types 'observed')"
out=$(q -F '|' -c "SELECT status, rows_inserted, rows_updated, rows_deleted, rows_only_in_target FROM recio_migrate.sync('app.trades', 'legacy_rw.trades', 'upsert', key_columns => '{id}')")
[ "$out" = "succeeded|1000|0|0|0" ] || fail "reverse sync: $out"
n=$(sqlite3 -readonly "$rw" "SELECT count(*) FROM trades WHERE id > 500 AND created_at GLOB '2025-08-01T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]' AND typeof(buy_price) = 'real'")
[ "$n" = 1000 ] || fail "reverse sync: $n of the 1,000 rows are in the copy in the legacy formats"
[ "$(sqlite3 -readonly "$rw" "SELECT created_at FROM trades WHERE id = 501")" = "2025-08-01T10:00:07" ] || fail "reverse sync: created_at of id 501"
ok=$(q -c "SELECT ok FROM recio_migrate.parity('legacy_rw.trades', 'app.trades')")
[ "$ok" = t ] || fail "reverse sync: parity between the copy and app.trades is not ok"
echo "reverse sync: $out (status|inserted|updated|deleted|only in target); the 1,000 rows in the copy in the legacy formats, parity ok"
[ "$(sha256sum "$legacy" | cut -d' ' -f1)" = "$sha_before" ] || fail "the original legacy file changed"

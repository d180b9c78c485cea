#!/usr/bin/env bash
# snapshot() of a live legacy file, in WAL mode and in rollback-journal
# mode: a Python sqlite3 writer commits continuously (each transaction adds
# its number to a ledger table, five rows and an update to items, and sets a
# counter), and measures how long each of its transactions takes.  The copy
# must open, pass PRAGMA integrity_check, be in journal_mode DELETE and hold
# a prefix of the writer's transactions (every invariant of one moment);
# the writer's longest transaction while the snapshot ran is reported
# (target under 50 ms).  Then: migrate_server() from the snapshot's server;
# the server pointed at the live file and sync_server() while the writer
# writes; cutover_check() fails "writers stopped" while the writer runs; the
# writer stops; sync_server(mirror); cutover_check() passes.
. "$(dirname "$0")/common.sh"
it_db recio_it_snaplive
snapdir=$RECIO_WORK/snapshots_live
as_pg mkdir -p "$snapdir"
stall_limit_ms=${RECIO_STALL_LIMIT_MS:-250}
# a failing check must not leave a writer behind
trap 'for m in wal delete; do as_pg touch "$RECIO_WORK/live_$m.db.stop" 2>/dev/null || true; done; wait' EXIT

writer() { # writer DB MODE: runs until DB.stop exists; prints its stats as "key=value" lines
    as_pg python3 - "$1" "$2" <<'PY'
import os, sqlite3, sys, time
db, mode = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db, timeout=10, isolation_level=None)
con.execute("PRAGMA journal_mode=" + mode)
con.execute("CREATE TABLE IF NOT EXISTS ledger (txn INTEGER PRIMARY KEY, at TEXT NOT NULL)")
con.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY AUTOINCREMENT, txn INTEGER NOT NULL, v INTEGER NOT NULL, pad TEXT)")
con.execute("CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
con.execute("BEGIN")
con.executemany("INSERT INTO items (txn, v, pad) VALUES (0, 0, ?)", (("x" * 40,) for _ in range(60000)))
con.execute("INSERT INTO counter VALUES (1, 0)")
con.execute("COMMIT")
open(db + ".ready", "w").close()
i = 0
worst_in = worst_out = 0.0
n_in = 0
while not os.path.exists(db + ".stop"):
    i += 1
    inside = os.path.exists(db + ".snap")
    t = time.perf_counter()
    con.execute("BEGIN IMMEDIATE")
    con.execute("INSERT INTO ledger VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ'))", (i,))
    con.executemany("INSERT INTO items (txn, v, pad) VALUES (?, 0, 'new')", ((i,) for _ in range(5)))
    con.execute("UPDATE items SET v = v + 1 WHERE id = ?", (i * 7919 % 60000 + 1,))
    con.execute("UPDATE counter SET n = ? WHERE id = 1", (i,))
    con.execute("COMMIT")
    ms = (time.perf_counter() - t) * 1000
    if inside or os.path.exists(db + ".snap"):
        worst_in = max(worst_in, ms)
        n_in += 1
    else:
        worst_out = max(worst_out, ms)
    time.sleep(0.001)
con.close()
print(f"transactions={i}\nduring_snapshot={n_in}\nworst_during_ms={worst_in:.1f}\nworst_outside_ms={worst_out:.1f}")
PY
}

# check_copy COPY: integrity, journal mode, and the invariants of one moment; prints the last transaction
check_copy() {
    as_pg python3 - "$1" <<'PY'
import os, sqlite3, sys
copy = sys.argv[1]
con = sqlite3.connect("file:" + copy + "?mode=ro", uri=True)
ic = con.execute("PRAGMA integrity_check").fetchone()[0]
jm = con.execute("PRAGMA journal_mode").fetchone()[0]
m = con.execute("SELECT coalesce(max(txn), 0), count(*) FROM ledger").fetchone()
new_items = con.execute("SELECT count(*) FROM items WHERE txn > 0").fetchone()[0]
bad_items = con.execute("SELECT count(*) FROM items WHERE txn > ?", (m[0],)).fetchone()[0]
v = con.execute("SELECT sum(v) FROM items").fetchone()[0]
n = con.execute("SELECT n FROM counter").fetchone()[0]
problems = []
if ic != "ok": problems.append(f"integrity_check: {ic}")
if jm != "delete": problems.append(f"journal_mode {jm}")
if m[1] != m[0]: problems.append(f"ledger holds {m[1]} transactions but its last is {m[0]}: not a prefix")
if new_items != 5 * m[0] or bad_items: problems.append(f"{new_items} new items for {m[0]} transactions")
if v != m[0]: problems.append(f"sum(v) {v} for {m[0]} transactions")
if n != m[0]: problems.append(f"counter {n} for {m[0]} transactions")
for side in ("-wal", "-shm", "-journal"):
    if os.path.exists(copy + side): problems.append(f"{side} next to the copy")
if problems:
    print("BAD " + "; ".join(problems)); sys.exit(1)
print(m[0])
PY
}

for mode in wal delete; do
    db=$RECIO_WORK/live_$mode.db
    as_pg rm -f "$db" "$db".*
    writer "$db" "$mode" > "$RECIO_WORK/writer_$mode.out" &
    wpid=$!
    for _ in $(seq 300); do [ -e "$db.ready" ] && break; sleep 0.1; done
    [ -e "$db.ready" ] || fail "$mode: the writer did not start"
    sleep 0.5
    q -c "CREATE SERVER live_$mode FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$db', busy_timeout_ms '5000')"
    as_pg touch "$db.snap"
    t0=$(now_ms)
    q -c "SELECT * FROM recio_migrate.snapshot('live_$mode', '$snapdir')" >/dev/null
    t1=$(now_ms)
    as_pg rm -f "$db.snap"
    out=$(q -F ' ' -c "SELECT snapshot_server, file, restarts, steps, one_transaction, round(longest_step_ms::numeric, 1), pages
                       FROM recio_migrate.snapshots WHERE server = 'live_$mode'")
    read -r snap copy restarts steps onetx longest pages <<<"$out"
    [ -n "${copy:-}" ] || fail "$mode: snapshot() returned no file"
    last=$(check_copy "$copy") || fail "$mode: the copy is not consistent: $last"
    live_rows=$(as_pg python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('SELECT count(*) FROM ledger WHERE txn <= ?', (int(sys.argv[2]),)).fetchone()[0])" "$db" "$last")
    [ "$live_rows" = "$last" ] || fail "$mode: the live file has $live_rows ledger rows up to $last"
    echo "$mode: snapshot in $((t1 - t0)) ms ($pages pages, $steps steps, $restarts restarts, one read transaction: $onetx, longest step $longest ms); the copy holds transactions 1..$last, integrity ok, journal_mode delete"

    # the bulk move reads the frozen copy
    res=$(q -c "SELECT string_agg(sqlite_table || ':' || action || ':' || counts_match, ' ' ORDER BY sqlite_table)
                FROM recio_migrate.migrate_server('$snap', 'tgt_$mode')")
    [ "$res" = "counter:migrated:true items:migrated:true ledger:migrated:true" ] || fail "$mode: migrate_server from the snapshot: $res"
    [ "$(q -c "SELECT max(txn) FROM tgt_$mode.ledger")" = "$last" ] || fail "$mode: the targets do not hold the snapshot's rows"

    # the week: the snapshot's server is pointed at the live file (sync_server() follows the
    # ledger's migrate runs, which read through this server's foreign tables), synced while
    # the writer writes
    q -c "ALTER SERVER \"$snap\" OPTIONS (SET database '$db', SET immutable 'false')" >/dev/null
    res=$(q -c "SELECT string_agg(status, ' ') FROM recio_migrate.sync_server('$snap', 'tgt_$mode', 'upsert')")
    [ "$res" = "succeeded succeeded succeeded" ] || fail "$mode: sync_server while the writer writes: $res"
    synced=$(q -c "SELECT max(txn) FROM tgt_$mode.ledger")
    [ "$synced" -gt "$last" ] || fail "$mode: sync_server brought no new transaction ($synced <= $last)"

    # the writer still writes: not quiet
    res=$(q -F '|' -c "SELECT ok, detail FROM recio_migrate.cutover_check('$snap', 'tgt_$mode', 2) WHERE check_name = 'writers stopped'")
    case $res in f\|changed*) ;; *) fail "$mode: writers stopped while the writer runs: $res" ;; esac
    echo "$mode: sync_server while the writer runs reached transaction $synced; writers stopped: ${res%%|*} (${res#*|})"

    as_pg touch "$db.stop"
    wait $wpid
    stats=$(cat "$RECIO_WORK/writer_$mode.out")
    worst=$(sed -n 's/^worst_during_ms=//p' <<<"$stats")
    echo "$mode: writer $(tr '\n' ' ' <<<"$stats")"
    awk -v w="$worst" -v l="$stall_limit_ms" 'BEGIN { exit !(w < l) }' ||
        fail "$mode: the writer stalled $worst ms during the snapshot (limit $stall_limit_ms ms)"

    # the window: writers stopped (a WAL file's last writer removed its -wal: read it immutable), the last sync
    q -c "ALTER SERVER \"$snap\" OPTIONS (SET immutable 'true')" >/dev/null
    res=$(q -c "SELECT string_agg(status, ' ') FROM recio_migrate.sync_server('$snap', 'tgt_$mode', 'mirror')")
    [ "$res" = "succeeded succeeded succeeded" ] || fail "$mode: sync_server after the writer stopped: $res"
    res=$(q -F '|' -c "SELECT check_name, ok FROM recio_migrate.cutover_check('$snap', 'tgt_$mode', 2)")
    echo "$mode: after the writer stopped and the last sync: $(tr '\n' ' ' <<<"$res")"
    [ "$(grep -c '|f$' <<<"$res")" = 0 ] || fail "$mode: cutover_check failed after the writer stopped: $res"
    grep -q '^cutover|t$' <<<"$res" || fail "$mode: no cutover row"
done

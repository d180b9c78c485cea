#!/usr/bin/env bash
# Reading a legacy file never creates a file next to it that its writer
# cannot use.  The legacy writer runs as its own OS user and owns the
# directory and the file, once in a directory the PostgreSQL OS user cannot
# write (0755) and once in one it can (0777).  Cases:
#  (a) WAL mode, writer running: reads work through SQLite's read-only WAL
#      path, the writer keeps committing;
#  (b) WAL mode, no writer (no -wal, no -shm): the read is refused with 55000
#      and nothing is created; immutable 'true' reads it; the writer then
#      starts and commits;
#  (c) rollback-journal mode: a writer holding its RESERVED lock (the read
#      works), then a writer killed in mid-transaction (a hot journal: 55000,
#      nothing rolled back or created) until the legacy side opens the file.
# After each case no file in the directory belongs to the postgres OS user.
. "$(dirname "$0")/common.sh"
[ "$(id -u)" = 0 ] || { echo "skipped: running a legacy writer as its own OS user needs root"; exit 0; }
it_db recio_it_wal
LEGACY=recio_legacy
made_user=""
if ! id -u "$LEGACY" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$LEGACY"
    made_user=1
fi
base=$RECIO_WORK/wal_side
cleanup() {
    jobs -p | xargs -r kill 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$base"
    [ -z "$made_user" ] || userdel "$LEGACY" 2>/dev/null || true
}
trap cleanup EXIT
mkdir -p "$base"
chmod 755 "$base"

as_legacy() { (cd / && runuser -u "$LEGACY" -- "$@"); }

# writer DB SECONDS MODE: commits a row every 5 ms for SECONDS, exits non-zero on any error
writer() {
    as_legacy python3 - "$@" <<'PY'
import sqlite3, sys, time
db, seconds, mode = sys.argv[1], float(sys.argv[2]), sys.argv[3]
con = sqlite3.connect(db, isolation_level=None, timeout=5)
if con.execute("PRAGMA journal_mode").fetchone()[0].lower() != mode:
    sys.exit("journal mode is not " + mode)
end, n = time.time() + seconds, 0
while time.time() < end:
    con.execute("INSERT INTO beat (at) VALUES (?)", (time.time(),))
    n += 1
    time.sleep(0.005)
con.close()
print(n)
PY
}

# no_postgres_files DIR CASE: fail if any file in DIR belongs to the postgres OS user
no_postgres_files() {
    echo "$2: ls -ln $(basename "$1")"
    ls -ln "$1" | sed 's/^/    /'
    local owned
    owned=$(find "$1" -mindepth 1 -user postgres)
    [ -z "$owned" ] || fail "$2: files owned by postgres next to the legacy file: $owned"
}

# expect_error SQL SQLSTATE TEXT...: the ERROR's SQLSTATE, and each TEXT in its output
expect_error() {
    local out sql=$1 state=$2
    shift 2
    out=$(psql -X -At -v VERBOSITY=verbose -c "$sql" 2>&1 || true)
    echo "$out" | grep -q "ERROR:  $state" || fail "expected SQLSTATE $state from: $sql, got: $out"
    for text in "$@"; do
        echo "$out" | grep -qF "$text" || fail "expected '$text' from: $sql, got: $out"
    done
    echo "$out" | grep -v "^LOCATION" | sed 's/^/    /'
}

for mode in 0755 0777; do
    dir=$base/d$mode
    mkdir "$dir"
    chown "$LEGACY:" "$dir"
    chmod "$mode" "$dir"
    db=$dir/legacy.db
    as_legacy cp "$RECIO_FIXTURES/trades.db" "$db"
    as_legacy chmod 644 "$db"
    as_legacy python3 -c "
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute('PRAGMA journal_mode=WAL')
con.execute('CREATE TABLE beat (at REAL)')
con.close()" "$db"
    [ "$(od -An -tu1 -j18 -N2 "$db" | tr -s ' ')" = " 2 2" ] || fail "$db is not in WAL mode"
    srv=wal_$mode
    q -c "CREATE SERVER $srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$db')" \
      -c "CREATE FOREIGN TABLE beat_$mode (at float8) SERVER $srv OPTIONS (\"table\" 'beat')" \
      -c "CREATE FOREIGN TABLE trades_$mode (id bigint) SERVER $srv OPTIONS (\"table\" 'trades')"

    # (a) a running writer: two transactions of one session see its new rows
    writer "$db" 3 wal >"$RECIO_WORK/writer.out" &
    w=$!
    sleep 0.5
    out=$(q -c "SELECT count(*) FROM beat_$mode" -c "SELECT pg_sleep(0.5)" \
            -c "SELECT count(*) FROM beat_$mode" -c "SELECT count(*) FROM trades_$mode")
    wait $w || fail "dir $mode (a): the writer failed while PostgreSQL read: $(cat "$RECIO_WORK/writer.out")"
    set -- $(echo "$out" | grep -E '^[0-9]+$')
    echo "dir $mode (a) writer running: beat $1 then $2 rows, trades $3; writer committed $(cat "$RECIO_WORK/writer.out") rows"
    [ "$2" -gt "$1" ] && [ "$1" -gt 0 ] || fail "dir $mode (a): the reads did not follow the writer ($1, $2)"
    [ "$3" -gt 0 ] || fail "dir $mode (a): no trades read"
    no_postgres_files "$dir" "dir $mode (a)"
    writer "$db" 0.3 wal >/dev/null || fail "dir $mode (a): the writer cannot commit after the read"

    # (b) no writer: -wal and -shm are gone; the read is refused and creates nothing
    [ ! -e "$db-wal" ] && [ ! -e "$db-shm" ] || fail "dir $mode (b): the writer left its -wal/-shm"
    before=$(ls -ln --time-style=+ "$dir")
    echo "dir $mode (b) no writer:"
    expect_error "SELECT count(*) FROM trades_$mode" 55000 \
        "ERROR:  55000: SQLite database file \"$db\" is in WAL mode and no writer has it open" \
        "DETAIL:  Reading it would create \"$db-wal\" and \"$db-shm\" next to it" \
        "HINT:  Set the server option immutable 'true' while no writer uses the file, or copy it."
    [ "$(ls -ln --time-style=+ "$dir")" = "$before" ] || fail "dir $mode (b): the refused read changed the directory"
    q -c "CREATE SERVER ${srv}_imm FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$db', immutable 'true')" \
      -c "CREATE FOREIGN TABLE trades_imm_$mode (id bigint) SERVER ${srv}_imm OPTIONS (\"table\" 'trades')"
    n=$(q -c "SELECT count(*) FROM trades_imm_$mode")
    echo "    immutable 'true': $n trades"
    [ "$n" -gt 0 ] || fail "dir $mode (b): immutable read nothing"
    no_postgres_files "$dir" "dir $mode (b)"
    [ "$(ls -ln --time-style=+ "$dir")" = "$before" ] || fail "dir $mode (b): the immutable read changed the directory"
    writer "$db" 0.3 wal >"$RECIO_WORK/writer.out" || fail "dir $mode (b): the writer cannot commit after the refused read"
    echo "    then the writer committed $(cat "$RECIO_WORK/writer.out") rows"

    # (c) rollback-journal mode
    as_legacy python3 -c "
import sqlite3, sys
sqlite3.connect(sys.argv[1], isolation_level=None).execute('PRAGMA journal_mode=DELETE')" "$db"
    as_legacy python3 - "$db" >"$RECIO_WORK/writer.out" <<'PY' &
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN IMMEDIATE")
con.execute("INSERT INTO beat (at) VALUES (-1)")
time.sleep(2)
con.execute("COMMIT")
print("committed")
PY
    w=$!
    sleep 0.5
    [ -e "$db-journal" ] || fail "dir $mode (c): the writer has no journal"
    n=$(q -c "SELECT count(*) FROM beat_$mode WHERE at < 0")
    echo "dir $mode (c) writer holding RESERVED: read $n uncommitted rows"
    [ "$n" = 0 ] || fail "dir $mode (c): read the writer's uncommitted row"
    wait $w || fail "dir $mode (c): the writer failed"
    grep -q committed "$RECIO_WORK/writer.out" || fail "dir $mode (c): the writer did not commit"
    no_postgres_files "$dir" "dir $mode (c)"
    # a writer killed in mid-transaction leaves a hot journal
    as_legacy python3 -c "
import sqlite3, sys, os
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute('PRAGMA cache_size=2')
con.execute('BEGIN')
con.execute('UPDATE trades SET id = id + 1000000')
os.kill(os.getpid(), 9)" "$db" 2>/dev/null || true
    [ -s "$db-journal" ] || fail "dir $mode (c): no hot journal"
    before=$(ls -ln --time-style=+ "$dir")
    echo "dir $mode (c) hot journal:"
    expect_error "SELECT count(*) FROM trades_$mode" 55000 \
        "ERROR:  55000: SQLite database file \"$db\" has a hot journal to roll back" \
        "DETAIL:  A writer stopped in the middle of a transaction and left \"$db-journal\""
    [ "$(ls -ln --time-style=+ "$dir")" = "$before" ] || fail "dir $mode (c): the refused read changed the directory"
    no_postgres_files "$dir" "dir $mode (c) hot journal"
    as_legacy python3 -c "
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute('SELECT max(id) < 1000000 FROM trades').fetchone()[0])" "$db" \
        | grep -qx 1 || fail "dir $mode (c): the legacy side did not roll the journal back"
    n=$(q -c "SELECT count(*) FROM trades_$mode WHERE id >= 1000000")
    echo "    after the legacy side opened the file: $n rows of the killed transaction"
    [ "$n" = 0 ] || fail "dir $mode (c): read rows of the killed transaction"
done

# control: the same read by a stock read-only SQLite connection (what 0.3.0
# did) in the writable directory leaves postgres-owned -wal/-shm behind, and
# the legacy writer's next commit fails: the checks above can fail.
ctl=$base/control
mkdir "$ctl"
chown "$LEGACY:" "$ctl"
chmod 0777 "$ctl"
as_legacy cp "$base/d0777/legacy.db" "$ctl/legacy.db"
as_legacy python3 -c "
import sqlite3, sys
sqlite3.connect(sys.argv[1], isolation_level=None).execute('PRAGMA journal_mode=WAL')" "$ctl/legacy.db"
as_pg python3 -c "
import sqlite3, sys
sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True).execute('SELECT count(*) FROM trades').fetchone()" "$ctl/legacy.db"
[ -n "$(find "$ctl" -mindepth 1 -user postgres)" ] || fail "control: a stock read-only connection created nothing"
if out=$(writer "$ctl/legacy.db" 0.1 wal 2>&1); then fail "control: the writer committed despite postgres-owned side files"; fi
echo "control (stock SQLite read, dir 0777): postgres-owned $(cd "$ctl" && find . -mindepth 1 -user postgres | tr '\n' ' ')-> writer: $(echo "$out" | tail -1)"

#!/usr/bin/env bash
# snapshot() when the copy cannot finish: the directory's file system fills
# up mid-copy (an 8 MB tmpfs, a 40 MB legacy file: 53100), and a cancel
# mid-copy (statement_timeout: 57014).  Either way the partial file is
# removed, no ledger row or server is left, and the backend goes on.
. "$(dirname "$0")/common.sh"
it_db recio_it_snapfaults
db=$RECIO_WORK/snapfaults.db
as_pg python3 - "$db" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
con.execute("PRAGMA journal_mode=DELETE")
con.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB)")
con.executemany("INSERT INTO blobs (b) VALUES (randomblob(4000))", ((),) * 10000)
con.commit()
PY
q -c "CREATE SERVER faults FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$db')"
left_over() { q -c "SELECT (SELECT count(*) FROM recio_migrate.snapshots) || ' ledger rows, '
                        || (SELECT count(*) FROM pg_foreign_server WHERE srvname LIKE 'faults_snap%') || ' servers'"; }

# a cancel mid-copy
dir=$RECIO_WORK/snapfaults_dir
as_pg mkdir -p "$dir"
out=$(q -c "SET statement_timeout = '30ms'" -c "SELECT file FROM recio_migrate.snapshot('faults', '$dir')" 2>&1 || true)
grep -q 'canceling statement due to statement timeout' <<<"$out" || fail "cancel: $out"
[ -z "$(ls -A "$dir")" ] || fail "cancel: left $(ls "$dir")"
[ "$(left_over)" = "0 ledger rows, 0 servers" ] || fail "cancel: $(left_over)"
echo "cancel mid-copy: $(head -n1 <<<"$out"); the directory is empty; $(left_over)"
# the same session copies the file afterwards
n=$(q -c "SELECT count(*) FROM recio_migrate.snapshot('faults', '$dir')")
[ "$n" = 1 ] || fail "the snapshot after the cancel: $n"
as_pg find "$dir" -mindepth 1 -delete
q -c "DO \$\$ DECLARE s name; BEGIN
        FOR s IN SELECT snapshot_server FROM recio_migrate.snapshots LOOP EXECUTE format('DROP SERVER %I', s); END LOOP;
      END \$\$" -c "TRUNCATE recio_migrate.snapshots" >/dev/null

# a full file system mid-copy
if [ "$(id -u)" = 0 ]; then
    small=$RECIO_WORK/snapfaults_small
    mkdir -p "$small"
    mount -t tmpfs -o size=8m tmpfs "$small"
    trap 'umount "$small" 2>/dev/null || true' EXIT
    chown postgres:postgres "$small"
    out=$(q -c "SELECT file FROM recio_migrate.snapshot('faults', '$small')" 2>&1 || true)
    state=$(q -c "DO \$\$ BEGIN PERFORM recio_migrate.snapshot('faults', '$small');
                  EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'sqlstate %', SQLSTATE; END \$\$" 2>&1 | sed -n 's/.*sqlstate //p')
    [ "$state" = 53100 ] || fail "disk full: SQLSTATE $state: $out"
    grep -q 'disk full' <<<"$out" || fail "disk full: $out"
    [ -z "$(ls -A "$small")" ] || fail "disk full: left $(ls "$small")"
    [ "$(left_over)" = "0 ledger rows, 0 servers" ] || fail "disk full: $(left_over)"
    echo "disk full mid-copy: $state $(head -n1 <<<"$out" | sed "s|$RECIO_WORK|\$WORK|g"); the file system is empty again; $(left_over)"
    umount "$small"
    trap - EXIT
else
    echo "disk full: skipped (mounting a small tmpfs needs root)"
fi

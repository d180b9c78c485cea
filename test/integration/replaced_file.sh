#!/usr/bin/env bash
# A legacy file replaced by a rename (rsync, a restore) is never read stale:
# the session that read the old file reads the new one in its next
# transaction, and source_facts() reports the file whose rows it reads.
# Inside one transaction the snapshot of the old file holds.
. "$(dirname "$0")/common.sh"
it_db recio_it_replaced
dir=$RECIO_WORK/replaced
as_pg mkdir -p "$dir"
make_db() {
    as_pg python3 -c "
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
con.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)')
con.executemany('INSERT INTO t (v) VALUES (?)', [(sys.argv[3],)] * int(sys.argv[2]))
con.commit()" "$@"
}
make_db "$dir/legacy.db" 3 old
make_db "$dir/new1.db" 5 new1
make_db "$dir/new2.db" 7 new2
q -c "CREATE SERVER repl FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$dir/legacy.db')" \
  -c "CREATE FOREIGN TABLE t (id bigint, v text) SERVER repl" \
  -c "CREATE FUNCTION facts_state() RETURNS text LANGUAGE plpgsql AS \$\$
      BEGIN PERFORM recio_migrate.source_facts('t'::regclass); RETURN 'ok';
      EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE || ' ' || SQLERRM; END \$\$"
size1=$(stat -c %s "$dir/new1.db")
out=$(psql -X -At -v ON_ERROR_STOP=1 <<SQL
SELECT 'before', count(*), min(v) FROM t;
\! mv "$dir/new1.db" "$dir/legacy.db"
SELECT 'after mv', count(*), min(v) FROM t;
SELECT 'facts', (f).size_bytes = $size1 FROM (SELECT recio_migrate.source_facts('t'::regclass) AS f) s;
BEGIN;
SELECT 'in xact', count(*), min(v) FROM t;
\! mv "$dir/new2.db" "$dir/legacy.db"
SELECT 'in xact after mv', count(*), min(v) FROM t;
SELECT 'facts in xact after mv', facts_state();
COMMIT;
SELECT 'next xact', count(*), min(v) FROM t;
SELECT 'connections', count(*) FROM recio_migrate.connections();
SQL
)
echo "$out" | sed 's/^/    /'
expect() { echo "$out" | grep -qxF "$1" || fail "expected '$1' in: $out"; }
expect "before|3|old"
expect "after mv|5|new1"
expect "facts|t"
expect "in xact|5|new1"
expect "in xact after mv|5|new1"
expect "facts in xact after mv|55000 SQLite database file \"$dir/legacy.db\" was replaced during this transaction"
expect "next xact|7|new2"
expect "connections|1"

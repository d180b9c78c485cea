#!/usr/bin/env bash
# A file the PostgreSQL OS user may not read fails with the operating
# system's reason (HV00N ... Permission denied), and IMPORT FOREIGN SCHEMA of
# a 0-byte file (a valid empty database to SQLite) warns that it imported
# nothing.
. "$(dirname "$0")/common.sh"
it_db recio_it_unreadable
dir=$RECIO_WORK/unreadable
as_pg mkdir -p "$dir"
as_pg cp "$RECIO_FIXTURES/trades.db" "$dir/locked.db"
as_pg chmod 000 "$dir/locked.db"
as_pg touch "$dir/empty.db"
q -c "CREATE SERVER locked FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$dir/locked.db')" \
  -c "CREATE FOREIGN TABLE locked_t (id bigint) SERVER locked OPTIONS (\"table\" 'trades')" \
  -c "CREATE SERVER empty FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$dir/empty.db')" \
  -c "CREATE SCHEMA imported"
out=$(psql -X -At -v VERBOSITY=verbose -c "SELECT count(*) FROM locked_t" 2>&1 || true)
echo "chmod 000: $(echo "$out" | head -1)"
echo "$out" | grep -qF "ERROR:  HV00N: could not open SQLite database file \"$dir/locked.db\": Permission denied" ||
    fail "expected HV00N with Permission denied, got: $out"
out=$(psql -X -At -v ON_ERROR_STOP=1 -c "IMPORT FOREIGN SCHEMA main FROM SERVER empty INTO imported" \
           -c "SELECT count(*) FROM pg_foreign_table ft JOIN pg_class c ON c.oid = ft.ftrelid
               WHERE c.relnamespace = 'imported'::regnamespace" 2>&1)
echo "0-byte file: $out"
echo "$out" | grep -qxF "WARNING:  file \"$dir/empty.db\" is empty (0 bytes): no tables to import" ||
    fail "expected the empty-file WARNING, got: $out"
echo "$out" | grep -qx 0 || fail "a 0-byte file imported tables: $out"
[ "$(stat -c %s "$dir/empty.db")" = 0 ] || fail "the 0-byte file was written"

#!/usr/bin/env bash
# Every table and view of the seven REC.IO files, imported and copied with
# INSERT ... SELECT, has exactly the row count the sqlite3 CLI reports.
. "$(dirname "$0")/common.sh"
it_db recio_it_counts
for f in trades active_trades btc_price_history fills orders settlements positions; do
    q -c "CREATE SERVER ${f}_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$RECIO_FIXTURES/$f.db')" \
      -c "CREATE SCHEMA $f" -c "IMPORT FOREIGN SCHEMA main FROM SERVER ${f}_srv INTO $f"
    for t in $(sqlite3 "$RECIO_FIXTURES/$f.db" "SELECT name FROM sqlite_schema WHERE type IN ('table','view') AND name NOT LIKE 'sqlite_%'"); do
        cli=$(sqlite3 "$RECIO_FIXTURES/$f.db" "SELECT count(*) FROM \"$t\"")
        # the declared types lie in these files: copy every column as text (bytea for no-affinity)
        cols=$(q -c "SELECT string_agg(format('%I', attname), ',') FROM pg_attribute WHERE attrelid = '$f.\"$t\"'::regclass AND attnum > 0")
        q -c "ALTER FOREIGN TABLE $f.\"$t\" OPTIONS (ADD on_error 'null')"
        q -c "CREATE TABLE $f.\"copy_$t\" AS SELECT $cols FROM $f.\"$t\"" 2>/dev/null
        pg=$(q -c "SELECT count(*) FROM $f.\"copy_$t\"")
        echo "$f.db $t: sqlite3 $cli, PostgreSQL $pg"
        [ "$cli" = "$pg" ] || fail "$f.$t: sqlite3 says $cli rows, the copy has $pg"
    done
done

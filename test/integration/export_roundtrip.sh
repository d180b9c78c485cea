#!/usr/bin/env bash
# export_sqlite() round trip: each of the seven REC.IO files -> migrate_server
# -> export_sqlite gives a NEW file whose schema, sqlite_sequence and rows,
# read with the sqlite3 CLI (quote() and typeof() of every column, in rowid
# order), are what the legacy file had; an existing path is refused; a role
# without pg_write_server_files is refused; the legacy files are unchanged.
. "$(dirname "$0")/common.sh"
it_db recio_it_export
trap 'echo "export_roundtrip: line $LINENO failed: $BASH_COMMAND" >&2' ERR
FILES="trades active_trades btc_price_history fills orders settlements positions"
out_dir=$RECIO_WORK/export
mkdir -p "$out_dir"
chown postgres "$out_dir" 2>/dev/null || true

# every column of every table as SQLite stores it, in rowid order
dump_rows() {
    local db=$1 t cols
    for t in $(sqlite3 -readonly "$db" "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"); do
        cols=$(sqlite3 -readonly "$db" "SELECT group_concat('quote(\"' || name || '\") || ''/'' || typeof(\"' || name || '\")', ' || ''|'' || ') FROM pragma_table_info('$t')")
        # rowid order, or the primary key's for a WITHOUT ROWID table
        order=$(sqlite3 -readonly "$db" "SELECT coalesce((SELECT group_concat('\"' || name || '\"', ', ') FROM (SELECT name FROM pragma_table_info('$t') WHERE pk > 0 ORDER BY pk)
                                                          WHERE (SELECT sql FROM sqlite_schema WHERE name = '$t') LIKE '%WITHOUT ROWID%'), 'rowid')")
        echo "table $t"
        sqlite3 -readonly -bail "$db" "SELECT $cols FROM \"$t\" ORDER BY $order" || echo "cannot read $t"
    done
}
# (SQLite's planner statistics, sqlite_stat1, are not exported: ANALYZE makes them anew)
dump_schema() {
    sqlite3 -readonly "$1" "SELECT type, name, tbl_name, sql FROM sqlite_schema
                            WHERE name NOT LIKE 'sqlite_autoindex%' AND name NOT LIKE 'sqlite_stat%' ORDER BY type, name"
    sqlite3 -readonly "$1" "SELECT 'sqlite_sequence', name, seq FROM sqlite_sequence ORDER BY name" 2>/dev/null || true
}

for f in $FILES; do
    db=$RECIO_FIXTURES/$f.db
    q -c "CREATE SERVER ${f}_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$db')"
    q -c "SELECT count(*) FROM recio_migrate.migrate_server('${f}_srv', 'm_$f')" >/dev/null
    new=$out_dir/$f.db
    out=$(q -F '|' -c "SELECT sqlite_table, rows_written, sha256 FROM recio_migrate.export_sqlite('${f}_srv', 'm_$f', '$new')")
    [ -f "$new" ] || fail "$f: export_sqlite wrote no file"
    sha=$(sha256sum "$new" | cut -d' ' -f1)
    cut -d'|' -f3 <<<"$out" | sort -u | grep -qx "$sha" || fail "$f: export_sqlite's sha256 is not the file's ($sha)"
    [ "$(sqlite3 -readonly "$new" 'PRAGMA integrity_check')" = ok ] || fail "$f: the exported file fails integrity_check"
    if ! diff <(dump_schema "$db") <(dump_schema "$new") >"$out_dir/$f.schema.diff"; then
        cat "$out_dir/$f.schema.diff"
        fail "$f: the exported schema differs from the legacy file's"
    fi
    # the rows the migration rejected are not in PostgreSQL (recio_migrate.rejects lists them): exactly those
    # may be missing from the export, and nothing else may differ
    diff <(dump_rows "$db") <(dump_rows "$new") >"$out_dir/$f.rows.diff" || true
    missing=$(awk '/^</ { split($2, v, "/"); print v[1] }' "$out_dir/$f.rows.diff" | sort -n | xargs)
    rejected=$(q -c "SELECT string_agg(DISTINCT sqlite_rowid::text, ' ' ORDER BY sqlite_rowid::text) FROM recio_migrate.rejects j
                     JOIN recio_migrate.runs r USING (run_id) WHERE r.target_table LIKE 'm_$f.%' AND j.action = 'reject'")
    rejected=$(tr ' ' '\n' <<<"$rejected" | sort -n | xargs)
    if grep -q '^>' "$out_dir/$f.rows.diff" || [ "$missing" != "$rejected" ]; then
        head -20 "$out_dir/$f.rows.diff"
        fail "$f: rows differ in the exported file (missing rowids [$missing], rejected at migration [$rejected])"
    fi
    [ -z "$missing" ] || echo "$f.db: rowids $missing were rejected at migration (recio_migrate.rejects) and are not exported"
    ledger=$(q -c "SELECT count(*) FROM recio_migrate.runs WHERE kind = 'export' AND source_path = '$new'")
    [ "$ledger" = "$(wc -l <<<"$out")" ] || fail "$f: $ledger export runs in the ledger for $(wc -l <<<"$out") tables"
    echo "$f.db: $(wc -l <<<"$out") tables, $(awk -F'|' '{s += $2} END {print s}' <<<"$out") rows exported; schema, sqlite_sequence, values and storage classes equal"
done

# an existing file is never overwritten
before=$(sha256sum "$out_dir/trades.db")
err=$(q -c "SELECT * FROM recio_migrate.export_sqlite('trades_srv', 'm_trades', '$out_dir/trades.db')" 2>&1 || true)
grep -q 'could not create file .*File exists' <<<"$err" || fail "export over an existing file: $err"
[ "$(sha256sum "$out_dir/trades.db")" = "$before" ] || fail "the existing file changed"
echo "existing path refused: $err"

# a role without pg_write_server_files may not write a file
q -c "CREATE ROLE export_plain"
err=$(psql -X -q -At -c "SET ROLE export_plain" -c "SELECT * FROM recio_migrate.export_file('trades_srv', 'm_trades', '$out_dir/x.db')" 2>&1 || true)
grep -q 'permission denied' <<<"$err" || fail "a plain role exported: $err"
[ ! -e "$out_dir/x.db" ] || fail "a refused export left a file"
echo "plain role refused: $err"

# a value with no exact legacy representation stops the export, and the
# half-written file is removed (nothing that looks like a legacy file is left)
q -c "UPDATE m_trades.trades SET buy_price = 0.12345678901234567890123 WHERE id = 1"
err=$(q -c "SELECT * FROM recio_migrate.export_sqlite('trades_srv', 'm_trades', '$out_dir/rounded.db')" 2>&1 || true)
grep -q 'ERROR' <<<"$err" || fail "a numeric no double holds was exported: $err"
[ ! -e "$out_dir/rounded.db" ] || fail "a failed export left its file behind"
echo "inexact value refused, no file left: $(head -1 <<<"$err")"

# a role the DBA granted EXECUTE, without pg_write_server_files, still may not write a file
q -c "CREATE ROLE export_granted; GRANT EXECUTE ON FUNCTION recio_migrate.export_file(name, name, text) TO export_granted"
err=$(psql -X -q -At -c "SET ROLE export_granted" -c "SELECT * FROM recio_migrate.export_file('trades_srv', 'm_trades', '$out_dir/y.db')" 2>&1 || true)
grep -q 'permission denied to write a SQLite file' <<<"$err" || fail "a role without pg_write_server_files exported: $err"
[ ! -e "$out_dir/y.db" ] || fail "a refused export left a file"
echo "EXECUTE without pg_write_server_files refused: $(head -1 <<<"$err")"

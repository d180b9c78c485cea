#!/usr/bin/env bash
# test/bench_export.sh: speed of export_sqlite() (issue 13) against the
# physical reference, the sqlite3 CLI importing the same rows from CSV into a
# new file, on a price_log of BENCH_ROWS rows (default 5,000,000), each
# measured BENCH_REPEAT times (default 3), medians.
#
#   (E) export_sqlite('bench', 'm', new file): the migrated price_log written
#       back as a new legacy file (legacy CREATE TABLE, every row converted back
#       into its legacy representation, the legacy index), fsynced, sha256
#   (I) sqlite3 new.db: the legacy CREATE TABLE, `.import --csv` of the same
#       rows, the same CREATE INDEX (the CLI wraps the import in one
#       transaction), then an fsync of the file
#   target: (I) / (E) >= 100%
# Each round's file is checked: same row count, PRAGMA integrity_check ok.
#   BENCH_ROWS=200000 BENCH_REPEAT=3 bash test/bench_export.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
. "$ROOT/test/bench_lib.sh"
serialize_installs "$@"

bench_args 5000000 3
ensure_packages
build_and_install "$ROOT"
bench_workdir
bench_price_log
bench_price_cluster
OUT=$WORK/export
mkdir -p "$OUT" && { [ "$(id -u)" != 0 ] || chown postgres "$OUT"; }
chmod 755 "$WORK"
pg -qAt -c "SELECT action FROM recio_migrate.migrate_server('bench', 'm')" | sort | uniq -c | sed 's/^/   migrate_server: /'
DDL=$(sqlite3 -readonly "$DB" "SELECT sql || ';' FROM sqlite_schema WHERE tbl_name = 'price_log' AND type = 'table'")
IDX=$(sqlite3 -readonly "$DB" "SELECT group_concat(sql || ';', ' ') FROM sqlite_schema WHERE tbl_name = 'price_log' AND type = 'index' AND sql IS NOT NULL")

declare -a E_MS I_MS
for round in $(seq 1 "$REPEAT"); do
    f=$OUT/export_$round.db
    read -r ms res <<<"$(timed_stmt "" "SELECT rows_written FROM recio_migrate.export_sqlite('bench', 'm', '$f')")"
    [ "$res" = "$ROWS" ] || die "export wrote $res rows"
    [ "$(sqlite3 -readonly "$f" 'PRAGMA integrity_check')" = ok ] || die "export_$round.db: integrity_check failed"
    E_MS+=("$ms")
    g=$OUT/import_$round.db
    sync
    t0=$(date +%s%N)
    sqlite3 "$g" "$DDL" ".import --csv $CSV price_log" "$IDX"
    sync -d "$g" 2>/dev/null || sync
    t1=$(date +%s%N)
    ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
    [ "$(sqlite3 -readonly "$g" 'SELECT count(*) FROM price_log')" = "$ROWS" ] || die "import_$round.db: wrong count"
    I_MS+=("$ms")
    rm -f "$f" "$g"
    echo "   round $round: export_sqlite ${E_MS[-1]} ms, sqlite3 .import ${I_MS[-1]} ms"
done
E=$(median "${E_MS[@]}")
I=$(median "${I_MS[@]}")
echo
echo "| measurement ($(commas "$ROWS") rows, median of $REPEAT) | time | rows/s | vs sqlite3 .import |"
echo "|---|---:|---:|---:|"
echo "| sqlite3 CLI: CREATE TABLE, .import --csv, CREATE INDEX | $(secs "$I") s | $(commas "$(rate "$ROWS" "$I")") | 100% |"
echo "| export_sqlite() (rows converted back, index, fsync, sha256) | $(secs "$E") s | $(commas "$(rate "$ROWS" "$E")") | $(pct "$I" "$E")% ($(verdict "$(pct "$I" "$E")" '>=' 100) target >= 100%) |"

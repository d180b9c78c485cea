#!/usr/bin/env bash
# The main job on a throwaway cluster (README, "Run the main job"): install
# what is missing, build and install the extension, generate the seven
# REC.IO legacy files, migrate each with recio_migrate.migrate_server()
# (profile, typed targets, bulk move, rejects, ledger), check every table
# with parity_all(), and print the row counts next to the sqlite3 CLI's.  KEEP=1 leaves the cluster running and prints how to reach it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
serialize_installs "$@"
ensure_packages
build_and_install "$ROOT"
WORK=$(make_workdir)
if [ -z "${KEEP:-}" ]; then trap 'stop_cluster; rm -rf "$WORK"' EXIT; fi
gen_fixtures "$WORK/legacy"
start_cluster "$WORK"
F=$WORK/legacy
psql -X -q -v ON_ERROR_STOP=1 -v legacy="$F" <<'SQL'
\pset footer off
CREATE EXTENSION recio_migrate;
SELECT format('CREATE SERVER %I FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database %L, timezone %L)', f,
              :'legacy' || '/' || f || '.db', 'America/New_York')
FROM unnest('{trades,active_trades,btc_price_history,fills,orders,settlements,positions}'::text[]) f \gexec
CREATE SCHEMA app;
\echo '== migrate_server: import with observed types, create targets, move the rows, check the counts'
SELECT s.srvname AS file, m.sqlite_table, m.target, m.action, m.sqlite_rows, m.target_rows, m.rows_rejected, m.counts_match
FROM pg_foreign_server s, recio_migrate.migrate_server(s.srvname, 'app') m ORDER BY s.srvname, m.sqlite_table;
\echo '== the ledger and the rejects'
SELECT run_id, source_table, target_table, rows_read, rows_written, rows_rejected, status FROM recio_migrate.runs ORDER BY run_id;
SELECT run_id, sqlite_rowid, column_name, raw_value, sqlstate, error FROM recio_migrate.rejects;
\echo '== parity of every table against its legacy source (rejected values read as NULL, so rejected rows show as missing)'
SELECT format('ALTER FOREIGN TABLE %s OPTIONS (ADD on_error %L)', t.source_table, 'null')
FROM (SELECT DISTINCT r.source_table FROM recio_migrate.runs r JOIN recio_migrate.rejects j USING (run_id)) t \gexec
SET client_min_messages = warning;   -- one on_error NOTICE per range scan of active_trades otherwise
SELECT p.source_table, p.target_table, p.mode, p.source_rows, p.target_rows, p.matched, p.missing, p.extra, p.mismatched, p.ok
FROM pg_foreign_server s, recio_migrate.parity_all(s.srvname, 'app') p ORDER BY 1;
SQL
echo
echo "table            sqlite3 CLI   PostgreSQL + rejected"
for pair in trades:trades active_trades:active_trades btc_price_history:price_log fills:fills orders:orders settlements:settlements positions:positions; do
    f=${pair%%:*}; t=${pair##*:}
    cli=$(sqlite3 "$F/$f.db" "SELECT count(*) FROM $t")
    pg=$(psql -X -At -c "SELECT (SELECT count(*) FROM app.$t) + (SELECT count(DISTINCT (j.run_id, j.sqlite_rowid)) FROM recio_migrate.rejects j JOIN recio_migrate.runs r USING (run_id) WHERE r.target_table = 'app.$t')")
    printf '%-16s %11s %12s %s\n' "$t" "$cli" "$pg" "$([ "$cli" = "$pg" ] && echo ok || echo MISMATCH)"
    [ "$cli" = "$pg" ]
done
if [ -n "${KEEP:-}" ]; then
    echo "cluster left running: PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=postgres psql; stop with: runuser -u postgres -- $PGBIN/pg_ctl -D $PGDATA_DIR stop"
fi

#!/usr/bin/env bash
# The main job on a throwaway cluster (README, "Run the main job"): install
# what is missing, build and install the extension, generate the seven
# REC.IO legacy files, import each into PostgreSQL with recio_sqlite, move
# every table with INSERT ... SELECT, and print the row counts next to the
# sqlite3 CLI's.  KEEP=1 leaves the cluster running and prints how to reach it.
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
SELECT format('CREATE SERVER %I FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database %L)', f, :'legacy' || '/' || f || '.db')
FROM unnest('{trades,active_trades,btc_price_history,fills,orders,settlements,positions}'::text[]) f \gexec
CREATE SCHEMA legacy;
CREATE SCHEMA app;
SELECT format('IMPORT FOREIGN SCHEMA main FROM SERVER %I INTO legacy', srvname) FROM pg_foreign_server \gexec
-- the declared SQLite types lie: say what the columns really hold
ALTER FOREIGN TABLE legacy.trades ALTER fees TYPE numeric(10,2), ALTER pnl TYPE numeric(12,2), ALTER ticket_id TYPE text,
  ALTER created_at TYPE timestamptz, ALTER created_at OPTIONS (ADD timezone 'America/New_York');
ALTER FOREIGN TABLE legacy.active_trades ALTER price OPTIONS (ADD on_error 'null');
ALTER FOREIGN TABLE legacy.price_log ALTER "timestamp" TYPE timestamptz,
  ALTER "timestamp" OPTIONS (ADD timezone 'America/New_York'), ALTER price TYPE numeric(12,2);
ALTER FOREIGN TABLE legacy.fills ALTER created_time TYPE timestamptz, ALTER ts TYPE timestamptz,
  ALTER ts OPTIONS (ADD epoch_unit 'ms'), ALTER raw_json TYPE jsonb, ALTER is_taker TYPE boolean;
SELECT format('CREATE TABLE app.%I (LIKE legacy.%I)', relname, relname)
FROM pg_class WHERE relnamespace = 'legacy'::regnamespace AND relname <> 'settlements_by_result' \gexec
SELECT format('INSERT INTO app.%I SELECT * FROM legacy.%I', relname, relname)
FROM pg_class WHERE relnamespace = 'app'::regnamespace AND relkind = 'r' ORDER BY relname \gexec
SQL
echo
echo "table            sqlite3 CLI   PostgreSQL"
for pair in trades:trades active_trades:active_trades btc_price_history:price_log fills:fills orders:orders settlements:settlements positions:positions; do
    f=${pair%%:*}; t=${pair##*:}
    cli=$(sqlite3 "$F/$f.db" "SELECT count(*) FROM $t")
    pg=$(psql -X -At -c "SELECT count(*) FROM app.$t")
    printf '%-16s %11s %12s %s\n' "$t" "$cli" "$pg" "$([ "$cli" = "$pg" ] && echo ok || echo MISMATCH)"
    [ "$cli" = "$pg" ]
done
if [ -n "${KEEP:-}" ]; then
    echo "cluster left running: PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=postgres psql; stop with: runuser -u postgres -- $PGBIN/pg_ctl -D $PGDATA_DIR stop"
fi

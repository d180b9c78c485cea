#!/usr/bin/env bash
# migrate_server() on the seven REC.IO files: every table migrated (views are
# imported and reported as rows of their own: left out here), target
# rows + rejected rows = the sqlite3 CLI count, the rejects listed; a re-run
# adds no row and no run; and a second session sees a larger run's rows-done
# move in recio_migrate.progress while the run is going.
. "$(dirname "$0")/common.sh"
it_db recio_it_migrate
FILES="trades active_trades btc_price_history fills orders settlements positions"

# ---------------------------------------------------------------- seven files
for f in $FILES; do
    db=$RECIO_FIXTURES/$f.db
    q -c "CREATE SERVER ${f}_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$db')"
    out=$(q -F '|' -c "SELECT sqlite_table, action, sqlite_rows, target_rows, rows_rejected, counts_match, run_id
                        FROM recio_migrate.migrate_server('${f}_srv', 'm_$f') WHERE action NOT LIKE 'view%'")
    tables=$(sqlite3 "$db" "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    [ "$(cut -d'|' -f1 <<<"$out" | sort)" = "$(sort <<<"$tables")" ] ||
        fail "$f.db: migrate_server returned tables [$(cut -d'|' -f1 <<<"$out" | xargs)], sqlite3 lists [$(xargs <<<"$tables")]"
    for t in $tables; do
        IFS='|' read -r _ action srows trows nrej match run <<<"$(grep "^$t|" <<<"$out")"
        cli=$(sqlite3 "$db" "SELECT count(*) FROM \"$t\"")
        # counted again here, not taken from migrate_server's own columns
        pg_rows=$(q -c "SELECT count(*) FROM m_$f.\"$t\"")
        rejected=$(q -c "SELECT count(DISTINCT coalesce(sqlite_rowid::text, sqlite_key)) FROM recio_migrate.rejects
                         WHERE run_id = $run AND action = 'reject'")
        echo "$f.db $t: sqlite3 $cli rows; target $pg_rows + rejected $rejected ($action, run $run)"
        [ "$action" = migrated ] || fail "$f.$t: action '$action'"
        [ "$match" = t ] || fail "$f.$t: counts_match is '$match'"
        [ "$srows" = "$cli" ] || fail "$f.$t: migrate_server read $srows rows, sqlite3 counts $cli"
        [ "$trows" = "$pg_rows" ] && [ "$nrej" = "$rejected" ] ||
            fail "$f.$t: migrate_server says $trows + $nrej, the tables say $pg_rows + $rejected"
        [ $((pg_rows + rejected)) = "$cli" ] || fail "$f.$t: $pg_rows + $rejected rejected != sqlite3's $cli"
        if [ "$rejected" != 0 ]; then
            q -F ' | ' -c "SELECT coalesce('rowid ' || sqlite_rowid, sqlite_key), column_name, storage_class,
                                  quote_literal(left(raw_value, 40)), sqlstate, error
                           FROM recio_migrate.rejects WHERE run_id = $run
                           ORDER BY sqlite_rowid, sqlite_key, column_name" | sed 's/^/    reject: /'
        fi
    done
done
total=$(q -c "SELECT count(*) FROM recio_migrate.runs")
[ "$(q -c "SELECT count(*) FROM recio_migrate.runs WHERE status <> 'succeeded'")" = 0 ] || fail "a run did not succeed"
rows_before=$(q -c "SELECT sum(rows_written) FROM recio_migrate.runs")

# ---------------------------------------------------------------- re-run
for f in $FILES; do
    out=$(q -F '|' -c "SELECT sqlite_table, action, counts_match FROM recio_migrate.migrate_server('${f}_srv', 'm_$f')
                        WHERE action NOT LIKE 'view%'")
    bad=$(grep -v '|skipped: already migrated|t$' <<<"$out" || true)
    [ -z "$bad" ] || fail "re-run of $f.db: $bad"
done
rows_after=0
for f in $FILES; do
    for t in $(sqlite3 "$RECIO_FIXTURES/$f.db" "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"); do
        rows_after=$((rows_after + $(q -c "SELECT count(*) FROM m_$f.\"$t\"")))
    done
done
[ "$rows_after" = "$rows_before" ] || fail "re-run: the targets hold $rows_after rows, the first runs wrote $rows_before"
[ "$(q -c "SELECT count(*) FROM recio_migrate.runs")" = "$total" ] || fail "re-run started new runs"
echo "re-run: every table skipped, $rows_after target rows and $total runs before and after"

# ---------------------------------------------------------------- progress seen from another session
BIG=300000
gen_fixtures "$RECIO_WORK/migrate_big" --bench-rows "$BIG"
# The run must last long enough for a poller on any machine: the target's
# index expression sleeps 20 ms at every 1000th row (~6 s in all); the rows
# still move through migrate()'s bulk path and progress is published per batch.
q <<SQL
CREATE SERVER big_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$RECIO_WORK/migrate_big/bench_price_log.db');
CREATE FOREIGN TABLE big_src (id bigint, ts timestamptz OPTIONS (column_name 'timestamp'),
    price numeric(12,2), volume numeric(18,6)) SERVER big_srv OPTIONS (table 'price_log');
CREATE TABLE big_t (id bigint PRIMARY KEY, ts timestamptz, price numeric(12,2), volume numeric(18,6));
CREATE FUNCTION slow_key(i bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS
\$\$ BEGIN IF i % 1000 = 0 THEN PERFORM pg_sleep(0.02); END IF; RETURN i; END \$\$;
CREATE INDEX ON big_t (slow_key(id));
SQL
psql -X -v ON_ERROR_STOP=1 -At -c "SET client_min_messages = notice" \
    -c "SELECT status, rows_written FROM recio_migrate.migrate('big_src', 'big_t')" >"$RECIO_WORK/big_run.out" 2>&1 &
runner=$!
samples=$RECIO_WORK/big_progress.txt
: >"$samples"
while kill -0 "$runner" 2>/dev/null; do
    q -F ' ' -c "SELECT rows_read, rows_written, rows_estimated, run_id FROM recio_migrate.progress
                 WHERE target = 'big_t'::regclass" >>"$samples"
    sleep 0.2
done
wait "$runner" || fail "the large run failed: $(cat "$RECIO_WORK/big_run.out")"
grep -qx "succeeded|$BIG" "$RECIO_WORK/big_run.out" || fail "large run: $(cat "$RECIO_WORK/big_run.out")"
grep -q "NOTICE:  migrating into \"big_t\": [0-9]* rows written, 0 rejected, [0-9]* rows/s" "$RECIO_WORK/big_run.out" ||
    fail "no progress NOTICE in the large run's session: $(cat "$RECIO_WORK/big_run.out")"
run=$(q -c "SELECT max(run_id) FROM recio_migrate.runs")
# written counts seen by the other session: several, increasing, inside the run
written=$(awk '$2 > 0 && $2 < '"$BIG"' { print $2 }' "$samples" | uniq)
n=$(wc -l <<<"$written" | tr -d ' ')
[ -n "$written" ] && [ "$n" -ge 3 ] || fail "the second session saw $n distinct in-flight rows-written values: $(xargs <"$samples")"
sort -n -c <<<"$written" || fail "rows_written went backwards: $(xargs <<<"$written")"
awk -v big="$BIG" -v run="$run" '$1 < $2 || $3 != big || $4 != run { bad = 1 } END { exit bad }' "$samples" ||
    fail "progress rows: rows_read < rows_written, a wrong estimate or run id: $(head -n 5 "$samples" | xargs)"
echo "progress: a second session saw rows_written at $(xargs <<<"$written") of $BIG (run $run)"

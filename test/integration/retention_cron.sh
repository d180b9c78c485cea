#!/usr/bin/env bash
# Retention under pg_cron: a second throwaway cluster with pg_cron preloaded
# runs recio_migrate.run_retention() every minute while a writer keeps
# inserting; afterwards the old unpinned rows are gone, every pinned and every
# new row is still there, and the run shows in cron.job_run_details and in
# retention_log as succeeded.  An overlapping run exits with a WARNING and a
# skipped log entry.
# (pg_cron 1.4 on Debian 12 knows no second-granularity schedules, so the job
# runs at the next minute boundary: the test takes at most about 75 s.)
. "$(dirname "$0")/common.sh"

# Everything below runs in a subshell with its own cluster and trap: the
# caller's cluster (PGHOST, PGPORT, PGDATA_DIR) is left alone.
(
set -euo pipefail
W=$(make_workdir)
writer=""
cleanup() {
    [ -n "$writer" ] && kill "$writer" 2>/dev/null && wait "$writer" 2>/dev/null
    stop_cluster
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
start_cluster "$W" "shared_preload_libraries=pg_cron" "cron.database_name=postgres" "cron.host=$W/sock"
export PGDATABASE=postgres

q >/dev/null <<'SQL'
CREATE EXTENSION pg_cron;
CREATE EXTENSION recio_migrate;
CREATE TABLE ticks (id bigserial PRIMARY KEY, ts timestamptz NOT NULL DEFAULT clock_timestamp(), src text NOT NULL);
-- 20,000 old rows, one every 3 minutes back from now: 41.7 days, 30 days kept
INSERT INTO ticks (ts, src) SELECT now() - g * interval '3 minutes', 'old' FROM generate_series(1, 20000) g;
SELECT recio_migrate.pin_where('ticks', 't.id % 1000 = 0', 'legal hold');
SELECT relation FROM recio_migrate.set_retention('ticks', 'ts', '30 days', batch_rows => 500);
CREATE TABLE ticks_before AS SELECT id, ts FROM ticks;
SQL
pins=$(q -c "SELECT count(*) FROM recio_migrate.retention_pins")
old_pinned=$(q -c "SELECT count(*) FROM ticks WHERE ts < now() - interval '30 days' AND id % 1000 = 0")
[ "$pins" = 20 ] && [ "$old_pinned" -ge 5 ] || fail "setup: $pins pins, $old_pinned of them old"

# no pg_cron job may pile up behind a running one: an overlapping run exits
# with a WARNING and a skipped log entry (and does no work)
q -c "SELECT pg_advisory_lock(recio_migrate.lock_class('run_retention'), 0), pg_sleep(4)" >/dev/null &
holder=$!
sleep 1
overlap=$(psql -X -q -At -c "CALL recio_migrate.run_retention()" 2>&1)
wait $holder
echo "overlapping run: $overlap"
grep -q "WARNING:  run_retention() is already running in pid [0-9]*: this run exits without pruning" <<<"$overlap" \
    || fail "an overlapping run did not exit with the WARNING"
[ "$(q -c "SELECT string_agg(status || ' ' || relation_name, ',') FROM recio_migrate.retention_log")" = "skipped run_retention()" ] ||
    fail "the overlapping run did work or left no skipped entry"

job=$(q -c "SELECT recio_migrate.schedule_retention('* * * * *')")
echo "scheduled pg_cron job $job: $(q -c "SELECT schedule || ' ' || command FROM cron.job WHERE jobid = $job")"

# the writer: one committed row at a time until told to stop
: >"$W/written"
(
    n=0
    while [ ! -e "$W/stop" ]; do
        psql -X -q -At -c "INSERT INTO ticks (src) VALUES ('new')" >/dev/null && n=$((n + 1)) && echo $n >"$W/written"
    done
) &
writer=$!

t0=$SECONDS
status=""
while [ $((SECONDS - t0)) -lt 80 ]; do
    status=$(q -c "SELECT string_agg(status, ',') FROM cron.job_run_details WHERE jobid = $job AND status IN ('succeeded', 'failed')")
    [ -n "$status" ] && break
    sleep 1
done
# a few more rows after the run, then stop the writer
sleep 1
touch "$W/stop"
wait "$writer"
writer=""
written=$(cat "$W/written")
echo "job finished after $((SECONDS - t0)) s with status '$status'; the writer committed $written rows"
[ "$status" = succeeded ] || fail "cron.job_run_details: '$status' $(q -c "SELECT return_message FROM cron.job_run_details WHERE jobid = $job")"
q -c "SELECT 'cron.job_run_details: ' || status || ', ' || return_message || ', ' || command FROM cron.job_run_details WHERE jobid = $job ORDER BY runid LIMIT 1"

log=$(q -F ' ' -c "SELECT relation_name, status, rows_deleted, batches FROM recio_migrate.retention_log ORDER BY id")
echo "retention_log:"
sed 's/^/  /' <<<"$log"
grep -q "^public.ticks succeeded [1-9][0-9]* [1-9]" <<<"$log" || fail "no succeeded prune of ticks in retention_log"
grep -q "^recio_migrate.retention_log succeeded" <<<"$log" || fail "the log's own policy did not run"

read -r gone_wrong pinned_left new_left kept_old lost_old <<<"$(q -F ' ' <<'SQL'
WITH l AS (SELECT cutoff FROM recio_migrate.retention_log
           WHERE relation = 'ticks'::regclass AND status = 'succeeded' ORDER BY id LIMIT 1)
SELECT (SELECT count(*) FROM ticks, l WHERE ts < l.cutoff AND id % 1000 <> 0),
       (SELECT count(*) FROM ticks t JOIN recio_migrate.retention_pins p
          ON p.relation = 'ticks'::regclass AND p.key = ARRAY[t.id::text]),
       (SELECT count(*) FROM ticks WHERE src = 'new'),
       (SELECT count(*) FROM ticks_before b, l WHERE b.ts >= l.cutoff),
       (SELECT count(*) FROM ticks_before b, l WHERE b.ts >= l.cutoff AND NOT EXISTS (SELECT FROM ticks t WHERE t.id = b.id))
SQL
)"
echo "after the job: $gone_wrong unpinned rows before the cutoff, $pinned_left of $pins pinned rows, $new_left of $written new rows, $((kept_old - lost_old)) of $kept_old old rows at or after the cutoff"
[ "$gone_wrong" = 0 ] || fail "$gone_wrong unpinned rows before the cutoff survived"
[ "$pinned_left" = "$pins" ] || fail "pinned rows lost: $pinned_left of $pins left"
[ "$new_left" = "$written" ] || fail "new rows lost: $new_left of $written left"
[ "$written" -gt 0 ] || fail "the writer wrote nothing"
[ "$lost_old" = 0 ] && [ "$kept_old" -gt 10000 ] || fail "rows not past the cutoff lost: $lost_old of $kept_old"
[ "$(q -c "SELECT recio_migrate.unschedule_retention()")" = t ] || fail "unschedule_retention() did not remove the job"
)

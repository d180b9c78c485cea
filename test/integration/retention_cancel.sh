#!/usr/bin/env bash
# A cancelled run_retention() gives its lock back: session A's run is
# cancelled (pg_cancel_backend, then a statement_timeout) and A stays open
# and idle; the next run then prunes -- pg_cron's job after the first cancel,
# a run from session B after the second (before the fix both found the lock
# taken, said so in a NOTICE and pruned nothing) -- and A's log row left
# 'running' is marked aborted.  A session that holds the lock without
# running makes a later run exit with a WARNING and a 'skipped' log row
# naming its pid and saying that it is idle.  A cluster of its own, with
# pg_cron preloaded (its job runs at the next minute boundary: up to 60 s).
. "$(dirname "$0")/common.sh"
(
set -euo pipefail
W=$(make_workdir)
a_psql=""
cleanup() {
    exec 7>&- 2>/dev/null || true
    [ -z "$a_psql" ] || wait "$a_psql" 2>/dev/null || true
    stop_cluster
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
start_cluster "$W" "shared_preload_libraries=pg_cron" "cron.database_name=postgres" "cron.host=$W/sock"
export PGDATABASE=postgres
q -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION recio_migrate"

q >/dev/null <<'SQL'
CREATE TABLE events (id bigserial PRIMARY KEY, ts timestamptz NOT NULL, note text);
-- every deleted row costs 2 ms: a prune of 3000 rows lasts about 6 s
CREATE FUNCTION slow_delete() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN PERFORM pg_sleep(0.002); RETURN OLD; END $$;
CREATE TRIGGER slow AFTER DELETE ON events FOR EACH ROW EXECUTE FUNCTION slow_delete();
SELECT relation FROM recio_migrate.set_retention('events', 'ts', '30 days', batch_rows => 50);
SQL
refill() {
    q -c "INSERT INTO events (ts, note) SELECT now() - interval '100 days' + g * interval '1 minute', 'old'
          FROM generate_series(1, 3000) g" >/dev/null
}
old_left() { q -c "SELECT count(*) FROM events WHERE ts < now() - interval '30 days'"; }

# session A: a psql fed through a FIFO, kept open between statements
mkfifo "$W/a.fifo"
psql -X -At -v ON_ERROR_STOP=0 -v VERBOSITY=verbose <"$W/a.fifo" >"$W/a.out" 2>&1 &
a_psql=$!
exec 7>"$W/a.fifo"
say() { echo "$1" >&7; }
wait_for() {   # wait_for TEXT: until session A's output holds TEXT (at most 60 s)
    local t0=$SECONDS
    until grep -q "$1" "$W/a.out"; do
        [ $((SECONDS - t0)) -lt 60 ] || fail "session A never printed '$1': $(cat "$W/a.out")"
        sleep 0.1
    done
}
say "SELECT 'pid=' || pg_backend_pid();"
wait_for "pid="
a_pid=$(sed -n 's/^pid=//p' "$W/a.out")
lock_held_by_a() {
    q -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $a_pid AND objsubid = 2
            AND classid = recio_migrate.lock_class('run_retention')::oid AND objid = 0"
}
a_idle() { q -c "SELECT state FROM pg_stat_activity WHERE pid = $a_pid"; }
running_batches() {
    q -c "SELECT coalesce(max(batches), 0) FROM recio_migrate.retention_log WHERE pid = $a_pid AND status = 'running'"
}

for how in pg_cancel_backend statement_timeout; do
    refill
    if [ "$how" = pg_cancel_backend ]; then
        say "CALL recio_migrate.run_retention();"
        t0=$SECONDS
        until [ "$(running_batches)" -ge 2 ]; do
            [ $((SECONDS - t0)) -lt 30 ] || fail "session A's run never got going: $(cat "$W/a.out")"
            sleep 0.1
        done
        q -c "SELECT pg_cancel_backend($a_pid)" >/dev/null
        wait_for "ERROR:  57014: canceling statement due to user request"
    else
        say "SET statement_timeout = '1500ms';"
        say "CALL recio_migrate.run_retention();"
        wait_for "ERROR:  57014: canceling statement due to statement timeout"
        say "RESET statement_timeout;"
    fi
    say "SELECT 'after-$how';"
    wait_for "after-$how"
    left=$(old_left)
    echo "$how: session A's run stopped with $left old rows left; A is '$(a_idle)' and holds $(lock_held_by_a) run lock(s)"
    [ "$left" -gt 0 ] || fail "$how: the run finished before it was cancelled"
    [ "$(a_idle)" = idle ] || fail "$how: session A is '$(a_idle)'"
    [ "$(lock_held_by_a)" = 0 ] || fail "$how: the cancelled session still holds the run_retention() lock"
    if [ "$how" = pg_cancel_backend ]; then
        # the next run is pg_cron's
        job=$(q -c "SELECT recio_migrate.schedule_retention('* * * * *')")
        t0=$SECONDS
        status=""
        while [ -z "$status" ] && [ $((SECONDS - t0)) -lt 80 ]; do
            sleep 1
            status=$(q -c "SELECT string_agg(status, ',') FROM cron.job_run_details
                           WHERE jobid = $job AND status IN ('succeeded', 'failed')")
        done
        q -c "SELECT recio_migrate.unschedule_retention()" >/dev/null
        echo "$how: pg_cron's run ended after $((SECONDS - t0)) s: '$status'"
        [ "$status" = succeeded ] || fail "$how: pg_cron's run: '$status'"
        [ "$(q -c "SELECT count(*) FROM recio_migrate.retention_log WHERE status = 'skipped'")" = 0 ] ||
            fail "$how: pg_cron's run found the lock taken"
        [ "$(old_left)" = 0 ] || fail "$how: pg_cron's run left $(old_left) old rows"
    else
        out=$(psql -X -q -At -c "CALL recio_migrate.run_retention()" 2>&1) || fail "$how: session B's run failed: $out"
        grep -q "already running" <<<"$out" && fail "$how: session B found the lock taken: $out"
        [ "$(old_left)" = 0 ] || fail "$how: session B's run left $(old_left) old rows"
    fi
    read -r status error <<<"$(q -F ' ' -c "SELECT status, error FROM recio_migrate.retention_log
                                            WHERE pid = $a_pid AND relation = 'events'::regclass ORDER BY id DESC LIMIT 1")"
    echo "$how: the next run pruned the rest; A's log row is '$status' ($error)"
    [ "$status" = aborted ] && [ "$error" = "cancelled or failed before it finished (pid $a_pid)" ] ||
        fail "$how: session A's log row is '$status' '$error'"
    [ "$(q -c "SELECT count(*) FROM recio_migrate.retention_log WHERE status = 'running'")" = 0 ] || fail "a running row is left"
done

# a session holding the lock without running: a later run is skipped, visibly
say "SELECT 'locked=' || pg_advisory_lock(recio_migrate.lock_class('run_retention'), 0)::text;"
wait_for "locked="
refill
out=$(psql -X -q -At -c "CALL recio_migrate.run_retention()" 2>&1) || fail "the skipped run failed: $out"
echo "while session A holds the lock: $out"
grep -qx "WARNING:  run_retention() is already running in pid $a_pid, whose session is idle in no transaction: it holds the lock without running: this run exits without pruning" <<<"$out" ||
    fail "no WARNING naming pid $a_pid and its idle session: $out"
[ "$(old_left)" = 3000 ] || fail "the skipped run pruned"
entry=$(q -F '|' -c "SELECT relation_name, status, error FROM recio_migrate.retention_log ORDER BY id DESC LIMIT 1")
[ "$entry" = "run_retention()|skipped|run_retention() is already running in pid $a_pid, whose session is idle in no transaction: it holds the lock without running" ] ||
    fail "the log's last entry: $entry"
say "SELECT 'unlocked=' || pg_advisory_unlock(recio_migrate.lock_class('run_retention'), 0)::text;"
wait_for "unlocked=true"
q -c "CALL recio_migrate.run_retention()" >/dev/null
[ "$(old_left)" = 0 ] || fail "the run after the unlock left $(old_left) old rows"
echo "skipped: a WARNING and a skipped log entry naming pid $a_pid; the next run after the unlock pruned"
)

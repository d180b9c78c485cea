#!/usr/bin/env bash
# A cancel stops each long-running function within 200 ms, with nothing
# half-done: migrate() (rows moving), profile() and checksum() of a foreign
# table (SQLite-side work), parity() and parity_diff() of two local tables
# (PostgreSQL-side merge), and prune() between or inside its batches.
# The time is from the cancel's send to the canceled statement's return.
. "$(dirname "$0")/common.sh"
it_db recio_it_cancel_functions
q <<SQL
CREATE SERVER types FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$RECIO_FIXTURES/types.db');
CREATE FOREIGN TABLE slow_sorted (x bigint) SERVER types;
CREATE TABLE slow_target (x bigint);
CREATE TABLE big_a (id bigint PRIMARY KEY, v numeric);
INSERT INTO big_a SELECT i, i / 7.0 FROM generate_series(1, 3000000) i;
CREATE TABLE big_b (LIKE big_a INCLUDING ALL);
INSERT INTO big_b SELECT * FROM big_a;
CREATE TABLE ticks (id bigint PRIMARY KEY, ts timestamptz NOT NULL);
INSERT INTO ticks SELECT i, '2020-01-01'::timestamptz + i * interval '1 second' FROM generate_series(1, 3000000) i;
ANALYZE big_a; ANALYZE big_b; ANALYZE ticks;
SQL
worst=0
# cancel_after NAME DELAY_S SQL: run SQL in the background, cancel it after DELAY_S
cancel_after() {
    local name=$1 delay=$2 sql=$3 out=$RECIO_WORK/cancel_fn.out
    psql -X -At -c "SET application_name = 'recio_cancel_fn'" -c "$sql" >"$out" 2>&1 &
    local pid=$!
    sleep "$delay"
    # the statement must still be running when the cancel is sent
    local state
    state=$(q -c "SELECT state FROM pg_stat_activity WHERE application_name = 'recio_cancel_fn'")
    [ "$state" = active ] || fail "$name had already ended before the cancel ($state): $(cat "$out")"
    local start
    start=$(now_ms)
    q -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'recio_cancel_fn'" >/dev/null
    wait $pid || true
    local took=$(( $(now_ms) - start ))
    grep -q "canceling statement due to user request" "$out" || fail "$name not canceled: $(cat "$out")"
    echo "$name: canceled after $took ms (includes the canceller's psql start-up)"
    [ $took -gt $worst ] && worst=$took
    return 0
}
cancel_after "migrate()" 0.7 "SELECT * FROM recio_migrate.migrate('slow_sorted', 'slow_target')"
[ "$(q -c "SELECT count(*) FROM slow_target")" = 0 ] || fail "migrate() left rows in its target"
[ "$(q -c "SELECT count(*) FROM recio_migrate.runs WHERE status = 'running'")" = 0 ] || fail "a run stays 'running'"
cancel_after "profile()" 0.7 "SELECT count(*) FROM recio_migrate.profile('slow_sorted')"
cancel_after "checksum() of a foreign table" 0.7 "SELECT * FROM recio_migrate.checksum('slow_sorted')"
cancel_after "parity(rows)" 0.7 "SELECT * FROM recio_migrate.parity('big_a', 'big_b', mode => 'rows')"
cancel_after "parity(checksum)" 0.7 "SELECT * FROM recio_migrate.parity('big_a', 'big_b', mode => 'checksum')"
cancel_after "parity_diff()" 0.7 "SELECT count(*) FROM recio_migrate.parity_diff('big_a', 'big_b')"
# ticks span 2020-01-01 .. 2020-02-04; the cutoff 2020-01-19 is in the middle
before=$(q -c "SELECT count(*) FROM ticks")
kept=$(q -c "SELECT count(*) FROM ticks WHERE ts >= '2020-01-19'")
cancel_after "prune()" 0.25 "CALL recio_migrate.prune('ticks', 'ts', '1 day', batch_rows => 1000, as_of => '2020-01-20')"
# the batches that committed are gone, the canceled one is rolled back whole, no row at or after the cutoff is touched
after=$(q -c "SELECT count(*) FROM ticks")
[ "$after" -lt "$before" ] || fail "prune() deleted nothing before the cancel ($after of $before)"
[ "$after" -gt "$kept" ] || fail "prune() had finished before the cancel"
[ "$(q -c "SELECT count(*) FROM ticks WHERE ts >= '2020-01-19'")" = "$kept" ] || fail "prune() deleted rows at or after its cutoff"
echo "prune(): $((before - after)) rows deleted by the batches committed before the cancel, all $kept rows at or after the cutoff kept"
q -c "SELECT 1" >/dev/null || fail "server not answering"
[ "$worst" -lt 200 ] || fail "a cancel took $worst ms (limit 200 ms)"
echo "slowest cancel: $worst ms"

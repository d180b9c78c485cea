#!/usr/bin/env bash
# Concurrent runs into one target: two migrate_server() calls into one schema
# (a new one, then existing empty targets, the state the TRUNCATE hint leads
# to) write every row exactly once, the second call waiting for the first
# and then skipping; with nowait the second fails with 55P03 naming the
# first's pid; a second migrate() into a target being migrated waits, and in
# REPEATABLE READ fails with 40001 instead of appending on a stale count.
# The first session holds its transaction open (pg_sleep before COMMIT) so
# the overlap does not depend on timing.
. "$(dirname "$0")/common.sh"
it_db recio_it_concurrent
N=200000
db=$RECIO_WORK/concurrent.db
rm -f "$db"
# no primary key: nothing in the target would refuse a duplicate
sqlite3 "$db" "CREATE TABLE ticks (n integer, label text);
  WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < $N)
  INSERT INTO ticks SELECT i, 'tick ' || i FROM g;"
chmod a+r "$db"
[ "$(id -u)" = 0 ] && chown postgres "$db"
q -c "CREATE SERVER conc_srv FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$db')"

# first SESSION_SQL... in the background: a session that migrates, then keeps
# its transaction open for HOLD seconds
hold_open() {
    local out=$1 hold=$2 sql=$3
    psql -X -q -At -v ON_ERROR_STOP=1 >"$out" 2>&1 <<SQL &
BEGIN;
$sql;
SELECT 'holding';
SELECT pg_sleep($hold);
COMMIT;
SQL
}
wait_for() {   # wait_for FILE TEXT: until FILE contains TEXT (at most 60 s)
    local t0=$SECONDS
    until grep -q "$2" "$1" 2>/dev/null; do
        [ $((SECONDS - t0)) -lt 60 ] || fail "no '$2' in $1: $(cat "$1")"
        sleep 0.1
    done
}
check_once() {   # check_once TABLE WHAT: exactly N rows, N distinct
    read -r rows distinct <<<"$(q -F ' ' -c "SELECT count(*), count(DISTINCT n) FROM $1")"
    echo "$2: $1 holds $rows rows, $distinct distinct"
    [ "$rows" = "$N" ] && [ "$distinct" = "$N" ] || fail "$2: $rows rows ($distinct distinct) in $1, expected $N"
}

# ------------------------------------------------ a new schema, two callers
hold_open "$RECIO_WORK/c1.out" 3 "SELECT action FROM recio_migrate.migrate_server('conc_srv', 'conc')"
first=$!
wait_for "$RECIO_WORK/c1.out" holding
second=$(q -c "SELECT action || ' ' || counts_match FROM recio_migrate.migrate_server('conc_srv', 'conc')" 2>&1) ||
    fail "the second migrate_server() failed: $second"
wait $first || fail "the first migrate_server() failed: $(cat "$RECIO_WORK/c1.out")"
echo "new schema: first '$(head -1 "$RECIO_WORK/c1.out")', second '$second'"
grep -qx migrated "$RECIO_WORK/c1.out" || fail "first call: $(cat "$RECIO_WORK/c1.out")"
grep -q "NOTICE:  schema conc is being migrated by another session (pid [0-9]*): waiting for it to end" <<<"$second" ||
    fail "the second call did not say that it waited: $second"
grep -qx "skipped: already migrated true" <<<"$second" || fail "second call: $second"
check_once conc.ticks "new schema"
[ "$(q -c "SELECT count(*) FROM recio_migrate.runs WHERE target_table = 'conc.ticks'")" = 1 ] || fail "more than one run"

# ------------------------------------------------ existing empty targets (after the TRUNCATE hint)
q -c "TRUNCATE conc.ticks"
hold_open "$RECIO_WORK/c2.out" 3 "SELECT action FROM recio_migrate.migrate_server('conc_srv', 'conc')"
first=$!
wait_for "$RECIO_WORK/c2.out" holding
second=$(q -c "SELECT action FROM recio_migrate.migrate_server('conc_srv', 'conc')" 2>&1) || fail "second call: $second"
wait $first || fail "the first call failed: $(cat "$RECIO_WORK/c2.out")"
echo "empty targets: first '$(head -1 "$RECIO_WORK/c2.out")', second '$(tail -1 <<<"$second")'"
grep -qx migrated "$RECIO_WORK/c2.out" && grep -qx "skipped: already migrated" <<<"$second" ||
    fail "empty targets: first $(cat "$RECIO_WORK/c2.out"), second $second"
check_once conc.ticks "empty target"

# ------------------------------------------------ nowait: 55P03 naming the running session
q -c "TRUNCATE conc.ticks"
hold_open "$RECIO_WORK/c3.out" 3 "SELECT action FROM recio_migrate.migrate_server('conc_srv', 'conc')"
first=$!
wait_for "$RECIO_WORK/c3.out" holding
pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(3)%' AND datname = current_database()")
out=$(psql -X -q -At -v VERBOSITY=verbose -c "SELECT * FROM recio_migrate.migrate_server('conc_srv', 'conc', nowait => true)" 2>&1) &&
    fail "nowait did not fail: $out"
wait $first || fail "the first call failed: $(cat "$RECIO_WORK/c3.out")"
echo "nowait: $(head -1 <<<"$out")"
grep -q "^ERROR:  55P03: schema conc is being migrated by another session (pid $pid)$" <<<"$out" ||
    fail "nowait: expected 55P03 naming pid $pid: $out"
check_once conc.ticks "nowait"

# ------------------------------------------------ migrate(): a second run into one target
q -c "TRUNCATE conc.ticks"
hold_open "$RECIO_WORK/c4.out" 3 "SELECT status FROM recio_migrate.migrate('conc_sqlite.ticks', 'conc.ticks')"
first=$!
wait_for "$RECIO_WORK/c4.out" holding
pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(3)%' AND datname = current_database()")
out=$(psql -X -q -At -v VERBOSITY=verbose -c "SELECT status FROM recio_migrate.migrate('conc_sqlite.ticks', 'conc.ticks', nowait => true)" 2>&1) &&
    fail "migrate(nowait) did not fail: $out"
grep -q "^ERROR:  55P03: target conc.ticks is being migrated by another session (pid $pid)$" <<<"$out" ||
    fail "migrate(nowait): $out"
# REPEATABLE READ: the snapshot predates the first run's commit
out=$(psql -X -q -At -v VERBOSITY=verbose <<'SQL' 2>&1
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM conc.ticks;
SELECT status FROM recio_migrate.migrate('conc_sqlite.ticks', 'conc.ticks');
SQL
) || true
wait $first || fail "the first migrate() failed: $(cat "$RECIO_WORK/c4.out")"
echo "repeatable read: $(grep ERROR <<<"$out")"
grep -q "^ERROR:  40001: could not serialize access to target conc.ticks: another session migrated it since this transaction began$" <<<"$out" ||
    fail "repeatable read: $out"
check_once conc.ticks "repeatable read"
# read committed: the second run waits, then appends (with a NOTICE and the count in the ledger)
hold_open "$RECIO_WORK/c5.out" 2 "SELECT 1 FROM recio_migrate.migrate_lock('migrate target', 'conc.ticks'::regclass::oid::integer, 'x', false)"
first=$!
wait_for "$RECIO_WORK/c5.out" holding
out=$(q -c "SELECT status FROM recio_migrate.migrate('conc_sqlite.ticks', 'conc.ticks')" 2>&1) || fail "second migrate(): $out"
wait $first
grep -q "NOTICE:  target conc.ticks is being migrated by another session (pid [0-9]*): waiting for it to end" <<<"$out" &&
    grep -q "NOTICE:  target conc.ticks already holds $N rows: this run adds to them" <<<"$out" || fail "second migrate(): $out"
before=$(q -c "SELECT target_rows_before FROM recio_migrate.runs ORDER BY run_id DESC LIMIT 1")
[ "$before" = "$N" ] || fail "target_rows_before is '$before', expected $N"
echo "read committed: the second run waited, then added to $before rows (NOTICE, target_rows_before)"

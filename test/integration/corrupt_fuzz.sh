#!/usr/bin/env bash
# Hostile files: 60 copies of real fixtures with bytes overwritten at
# deterministic random places.  Importing and scanning each one must end in a
# result or a clean ERROR: never a crashed backend, never a hang.
. "$(dirname "$0")/common.sh"
it_db recio_it_fuzz
dir=$RECIO_WORK/fuzz
as_pg mkdir -p "$dir"
as_pg python3 - "$RECIO_FIXTURES" "$dir" <<'PY'
import os, random, sys
src, out = sys.argv[1], sys.argv[2]
rng = random.Random(20261123)
for n in range(60):
    # (not types.db: its slow_sorted view exists to outlast a statement_timeout)
    name = ["trades.db", "quoting.db", "active_trades.db", "orders.db", "settlements.db"][n % 5]
    data = bytearray(open(os.path.join(src, name), "rb").read())
    for _ in range(rng.choice([1, 4, 16, 64])):
        pos = rng.randrange(100 if n % 3 else 0, len(data))   # a third may hit the header too
        data[pos] = rng.randrange(256)
    open(os.path.join(out, "fuzz_%02d.db" % n), "wb").write(bytes(data))
PY
q <<'SQL'
CREATE FUNCTION try_file(path text, n int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE t record; rows bigint; ok int := 0; bad int := 0; cols text;
BEGIN
  EXECUTE format('CREATE SERVER f%s FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database %L)', n, path);
  EXECUTE format('CREATE SCHEMA s%s', n);
  BEGIN
    EXECUTE format('IMPORT FOREIGN SCHEMA main FROM SERVER f%s INTO s%s', n, n);
  EXCEPTION WHEN OTHERS THEN RETURN 'import: ' || SQLSTATE;
  END;
  FOR t IN SELECT c.oid::regclass AS rel FROM pg_class c WHERE relnamespace = format('s%s', n)::regnamespace LOOP
    SELECT string_agg(format('%I::text', attname), ' || ') INTO cols FROM pg_attribute
    WHERE attrelid = t.rel AND attnum > 0;
    BEGIN
      EXECUTE format('SELECT count(*) FROM %s WHERE (%s) IS NOT NULL OR true', t.rel, cols) INTO rows;
      ok := ok + 1;
    EXCEPTION WHEN OTHERS THEN bad := bad + 1;
    END;
  END LOOP;
  RETURN format('%s scans ok, %s errors', ok, bad);
END $$;
SQL
start=$(now_ms)
results=""
for n in $(seq 0 59); do
    f=$(printf '%s/fuzz_%02d.db' "$dir" "$n")
    # each file gets its own statement_timeout: a hang fails the test
    r=$(PGOPTIONS="-c statement_timeout=20s" q -c "SELECT try_file('$f', $n)" 2>&1) || fail "fuzz_$n: $r"
    results="$results$r"$'\n'
done
summary=$(echo -n "$results" | sort | uniq -c | sort -rn)
echo "$summary" | head -8
echo "60 corrupted files in $(( $(now_ms) - start )) ms"
q -c "SELECT 1" >/dev/null || fail "server not answering after the fuzz run"
crashes=$(crashed_backends "$RECIO_WORK/postgres.log")
[ -z "$crashes" ] || fail "backend crashed: $crashes"

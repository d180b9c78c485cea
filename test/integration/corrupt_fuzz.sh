#!/usr/bin/env bash
# Hostile files.  (1) copies of real fixtures with bytes overwritten at
# deterministic random places; (2) page-level corruption of a purpose-built
# file (test/fuzz/corrupt_files.py): b-tree interior table and index pages,
# leaf pages, overflow chains, the freelist, truncation at every page
# boundary, a header claiming a larger page count.  On each file: IMPORT
# FOREIGN SCHEMA, a full scan, a pushed-down WHERE, ORDER BY, count(*),
# recio_migrate.profile() and recio_migrate.checksum().  Every step must end
# in a result or a clean ERROR (any SQLSTATE but XX000; the histogram is
# printed), never a crashed backend, never a hang (statement_timeout per file).
#
# RECIO_FUZZ_SCALE (default 1: the test command, ~270 files; `make fuzz`
# passes a larger one) multiplies the number of files.
. "$(dirname "$0")/common.sh"
SCALE=${RECIO_FUZZ_SCALE:-1}
it_db recio_it_fuzz
dir=$RECIO_WORK/fuzz
as_pg rm -rf "$dir"
as_pg mkdir -p "$dir"
as_pg python3 - "$RECIO_FIXTURES" "$dir" "$SCALE" <<'PY'
import os, random, sys
src, out, scale = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(20261123)
for n in range(60 * scale):
    # (not types.db: its slow_sorted view exists to outlast a statement_timeout)
    name = ["trades.db", "quoting.db", "active_trades.db", "orders.db", "settlements.db"][n % 5]
    data = bytearray(open(os.path.join(src, name), "rb").read())
    for _ in range(rng.choice([1, 4, 16, 64])):
        pos = rng.randrange(100 if n % 3 else 0, len(data))   # a third may hit the header too
        data[pos] = rng.randrange(256)
    open(os.path.join(out, "fixture_%05d.db" % n), "wb").write(bytes(data))
PY
# the script is read by the invoking user (the checkout may be closed to postgres), run as postgres
as_pg python3 - "$dir/pages" "$SCALE" <"$(dirname "$0")/../fuzz/corrupt_files.py"

q <<'SQL'
CREATE TABLE fuzz_result (file text, step text, sqlstate text);
-- one step: the statement's outcome ('ok' or its SQLSTATE); a cancel (statement_timeout) is not
-- caught by WHEN OTHERS, so a hang still fails the run
CREATE FUNCTION try_step(file text, step text, stmt text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE state text := 'ok';
BEGIN
  BEGIN
    EXECUTE stmt;
  EXCEPTION WHEN OTHERS THEN state := SQLSTATE;
  END;
  INSERT INTO fuzz_result VALUES (file, step, state);
END $$;
CREATE FUNCTION try_file(path text, known boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE t record; cols text;
BEGIN
  EXECUTE format('CREATE SERVER fz FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database %L)', path);
  CREATE SCHEMA fz;
  IF known THEN   -- declared by hand: scanned even when the schema table is what is broken
    CREATE FOREIGN TABLE fz_ticks (id bigint, sym text, px double precision, qty bigint, note text)
      SERVER fz OPTIONS (table 'ticks');
    CREATE FOREIGN TABLE fz_blobs (id bigint, payload bytea, body text) SERVER fz OPTIONS (table 'blobs');
    PERFORM try_step(path, 'full scan', 'SELECT count(*) FROM fz_ticks WHERE (id, sym, px, qty, note) IS NOT NULL OR true');
    PERFORM try_step(path, 'overflow scan', 'SELECT sum(length(payload)) + sum(length(body)) FROM fz_blobs');
    PERFORM try_step(path, 'pushed where', 'SELECT count(*) FROM fz_ticks WHERE id > 100 AND sym = ''S7''');
    PERFORM try_step(path, 'order by', 'SELECT count(*) FROM (SELECT sym, id FROM fz_ticks ORDER BY sym, id LIMIT 100000) s');
    PERFORM try_step(path, 'count(*)', 'SELECT count(*) FROM fz_ticks');
    PERFORM try_step(path, 'profile()', 'SELECT count(*) FROM recio_migrate.profile(''fz_ticks'')');
    PERFORM try_step(path, 'checksum()', 'SELECT * FROM recio_migrate.checksum(''fz_blobs'')');
  END IF;
  PERFORM try_step(path, 'import', 'IMPORT FOREIGN SCHEMA main FROM SERVER fz INTO fz');
  FOR t IN SELECT c.oid::regclass AS rel FROM pg_class c WHERE relnamespace = 'fz'::regnamespace LOOP
    SELECT string_agg(format('%I::text', attname), ' || ') INTO cols FROM pg_attribute
    WHERE attrelid = t.rel AND attnum > 0;
    PERFORM try_step(path, 'imported scan', format('SELECT count(*) FROM %s WHERE (%s) IS NOT NULL OR true', t.rel, cols));
    PERFORM try_step(path, 'imported count(*)', format('SELECT count(*) FROM %s', t.rel));
    PERFORM try_step(path, 'imported profile()', format('SELECT count(*) FROM recio_migrate.profile(%L)', t.rel));
    PERFORM try_step(path, 'imported checksum()', format('SELECT * FROM recio_migrate.checksum(%L)', t.rel));
  END LOOP;
  DROP SERVER fz CASCADE;
  DROP SCHEMA fz CASCADE;
END $$;
SQL

# one session for all files; each file is one statement under its own statement_timeout
script=$RECIO_WORK/fuzz.sql
{
    echo "SET client_min_messages = error;"
    echo "SET statement_timeout = '20s';"
    for f in "$dir"/fixture_*.db; do echo "\\echo $f"; echo "SELECT try_file('$f', false);"; done
    for f in "$dir"/pages/*_*.db; do echo "\\echo $f"; echo "SELECT try_file('$f', true);"; done
} >"$script"
nfiles=$(grep -c '^SELECT try_file' "$script")
start=$(now_ms)
q -f "$script" >"$RECIO_WORK/fuzz.out" 2>&1 || fail "stopped at $(grep '\.db$' "$RECIO_WORK/fuzz.out" | tail -1): $(tail -3 "$RECIO_WORK/fuzz.out")"
ms=$(( $(now_ms) - start ))
q -c "SELECT 1" >/dev/null || fail "server not answering after the fuzz run"
echo "SQLSTATE histogram (steps):"
q -F ' ' -c "SELECT lpad(count(*)::text, 7), sqlstate FROM fuzz_result GROUP BY 2 ORDER BY 1 DESC" | sed 's/^/  /'
echo "by kind of file (files; steps ok / failed cleanly):"
q -F ' ' -c "SELECT rpad(regexp_replace(file, '^.*/([a-z_]+)_[0-9]+[.]db$', '\1'), 16), count(DISTINCT file),
               count(*) FILTER (WHERE sqlstate = 'ok'), count(*) FILTER (WHERE sqlstate <> 'ok')
             FROM fuzz_result GROUP BY 1 ORDER BY 1" | sed 's/^/  /'
steps=$(q -c "SELECT count(*) FROM fuzz_result")
echo "$nfiles corrupt files, $steps statements in $ms ms"
internal=$(q -c "SELECT string_agg(DISTINCT file || ' (' || step || ')', ', ') FROM fuzz_result WHERE sqlstate LIKE 'XX%'")
[ -z "$internal" ] || fail "internal errors (XX class) on: $internal"
crashes=$(crashed_backends "$RECIO_WORK/postgres.log")
[ -z "$crashes" ] || fail "backend crashed: $crashes"

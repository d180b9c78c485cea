#!/usr/bin/env bash
# Differential test of the wrapper's own converters against PostgreSQL's input
# functions (the oracle).  test/differential/gen_values.py writes, per
# converter, a SQLite table of values in their legacy storage class plus the
# text the oracle parses; a foreign table reads them with the target type
# (on_error 'null': a refused value is NULL) and one set-based query per
# converter compares the wrapper's value with the oracle's, as text (so -0,
# the display scale of a numeric and every microsecond count).
#
# RECIO_DIFF_N values per converter (default 20000: the test command; `make
# fuzz` runs 1000000).  RECIO_DIFF_ONLY=name,name picks converters.
. "$(dirname "$0")/common.sh"
N=${RECIO_DIFF_N:-20000}
it_db recio_it_differential
dir=$RECIO_WORK/differential
as_pg mkdir -p "$dir"
chmod 777 "$dir" 2>/dev/null || as_pg chmod 777 "$dir"
gen=$(dirname "$0")/../differential/gen_values.py
cases=$dir/cases.tsv
python3 "$gen" --list | { if [ -n "${RECIO_DIFF_ONLY:-}" ]; then grep -E "^(${RECIO_DIFF_ONLY//,/|})\s"; else cat; fi; } >"$cases"

q <<'SQL'
SET client_min_messages = warning;
CREATE SERVER diff FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '/dev/null');
-- the oracle on the rows the plain oracle expression cannot evaluate (PostgreSQL refuses them):
-- a data exception (class 22) is a refusal, NULL; anything else fails the test
CREATE FUNCTION diff_safe(expr text, o text, zoned int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE format('SELECT (%s)::text', expr) INTO r USING o, zoned;
  RETURN r;
EXCEPTION WHEN data_exception THEN RETURN NULL;
END $$;
SQL

start=$(now_ms)
total=0
bad_total=0
failed=""
# one SQLite file per converter, written just before it is compared and removed after (1M rows each
# for `make fuzz`)
while IFS=$'\t' read -r name coltype opts oracle; do
    [ "$opts" != - ] || opts=""
    db=$dir/$name.db
    t0=$(now_ms)
    python3 "$gen" "$db" "$N" "$name"
    chmod a+r "$db"
    plain=${oracle//\{o\}/oracle}
    plain=${plain//\{zoned\}/zoned}
    safe=${oracle//\{o\}/\$1}
    safe=${safe//\{zoned\}/\$2}
    safe=${safe//\'/\'\'}
    colopts="on_error 'null'${opts:+, $opts}"
    out=$(q -F ' ' 2>&1 <<SQL
SET client_min_messages = warning;
SET TimeZone = 'UTC';
ALTER SERVER diff OPTIONS (SET database '$db');
CREATE FOREIGN TABLE "$name" (id bigint, v $coltype OPTIONS ($colopts), oracle text, ok int, zoned int)
  SERVER diff OPTIONS (table '$name');
WITH c AS (
  SELECT id, oracle, v::text AS got,
         CASE WHEN ok = 1 THEN ($plain)::text ELSE diff_safe('$safe', oracle, zoned) END AS want
  FROM "$name")
SELECT count(*), count(*) FILTER (WHERE want IS NULL AND got IS NULL),
       count(*) FILTER (WHERE got IS DISTINCT FROM want),
       coalesce(array_to_string((array_agg(format('id %s %L: wrapper %s, oracle %s', id, oracle,
                coalesce(got, 'NULL (refused)'), coalesce(want, 'NULL (refused)')) ORDER BY id)
                FILTER (WHERE got IS DISTINCT FROM want))[1:5], E'\n    '), '')
FROM c;
DROP FOREIGN TABLE "$name";
SQL
) || { echo "$name: the comparison failed: $out"; failed="$failed $name"; rm -f "$db"; continue; }
    rm -f "$db"
    read -r n refused bad first <<<"$(echo "$out" | head -1)"
    printf '%-24s %-18s %8d values, %6d refused by both, %d disagree (%d ms)\n' "$name" "$coltype" "$n" \
        "$refused" "$bad" $(( $(now_ms) - t0 ))
    if [ "$bad" != 0 ]; then
        echo "    $first"
        echo "$out" | tail -n +2 | head -4 | sed 's/^/    /'
        failed="$failed $name"
    fi
    total=$((total + n))
    bad_total=$((bad_total + bad))
done <"$cases"
echo "$(wc -l <"$cases") converters, $total values, $bad_total disagreements in $(( $(now_ms) - start )) ms"
[ -z "$failed" ] || fail "converters that disagree with PostgreSQL:$failed"

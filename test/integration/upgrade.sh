#!/usr/bin/env bash
# Upgrades: install the oldest version, update step by step to the default
# version, and require the result to equal a fresh installation (the same
# member objects, the same function definitions and comments).
. "$(dirname "$0")/common.sh"
members() {
    q -d "$1" <<'SQL'
SELECT pg_describe_object(classid, objid, objsubid) FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'recio_migrate')
ORDER BY 1;
SELECT p.oid::regprocedure, md5(pg_get_functiondef(p.oid)), md5(coalesce(obj_description(p.oid, 'pg_proc'), ''))
FROM pg_proc p WHERE pronamespace = 'recio_migrate'::regnamespace ORDER BY p.oid::regprocedure::text COLLATE "C";
SELECT array_to_string(proacl, ',') FROM pg_proc WHERE pronamespace = 'recio_migrate'::regnamespace ORDER BY oid::regprocedure::text COLLATE "C";
SQL
}
oldest=$(ls "$(dirname "$0")"/../../sql/recio_migrate--*.sql | sed -n 's/.*recio_migrate--\([0-9.]*\)\.sql$/\1/p' | sort -V | head -1)
default=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$(dirname "$0")"/../../recio_migrate.control)
for db in recio_it_upgraded recio_it_fresh; do dropdb --if-exists "$db" >/dev/null 2>&1; createdb "$db"; done
q -d recio_it_upgraded -c "CREATE EXTENSION recio_migrate VERSION '$oldest'"
q -d recio_it_upgraded -c "ALTER EXTENSION recio_migrate UPDATE"
q -d recio_it_fresh -c "CREATE EXTENSION recio_migrate"
v1=$(q -d recio_it_upgraded -c "SELECT extversion FROM pg_extension WHERE extname = 'recio_migrate'")
v2=$(q -d recio_it_fresh -c "SELECT extversion FROM pg_extension WHERE extname = 'recio_migrate'")
echo "installed $oldest, updated to $v1; fresh install is $v2"
[ "$v1" = "$default" ] && [ "$v2" = "$default" ] || fail "versions: upgraded $v1, fresh $v2, default $default"
diff <(members recio_it_upgraded) <(members recio_it_fresh) || fail "an upgraded installation differs from a fresh one"
echo "upgraded and fresh installations have the same $(members recio_it_fresh | grep -c '') catalog lines"

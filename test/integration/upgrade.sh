#!/usr/bin/env bash
# Upgrades: install the oldest version, update step by step to the default
# version, and require the result to equal a fresh installation: the same
# member objects, function and procedure definitions, comments, privileges
# (schema, functions, relations, columns), table columns and their types,
# defaults, constraints, indexes, views, and the same configuration dumps.
. "$(dirname "$0")/common.sh"
members() {
    q -d "$1" <<'SQL'
SELECT pg_describe_object(classid, objid, objsubid) FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'recio_migrate')
ORDER BY 1;
SELECT p.oid::regprocedure, md5(pg_get_functiondef(p.oid)), md5(coalesce(obj_description(p.oid, 'pg_proc'), ''))
FROM pg_proc p WHERE pronamespace = 'recio_migrate'::regnamespace ORDER BY p.oid::regprocedure::text COLLATE "C";
SELECT p.oid::regprocedure, array_to_string(proacl, ',') FROM pg_proc p WHERE pronamespace = 'recio_migrate'::regnamespace ORDER BY p.oid::regprocedure::text COLLATE "C";
SELECT 'schema', nspowner::regrole, array_to_string(nspacl, ','), obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = 'recio_migrate';
SELECT c.relname, c.relkind, c.reloftype::regtype, array_to_string(c.relacl, ','), obj_description(c.oid, 'pg_class')
FROM pg_class c WHERE c.relnamespace = 'recio_migrate'::regnamespace ORDER BY c.relname::text COLLATE "C";
SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity, a.attgenerated,
       pg_get_expr(d.adbin, d.adrelid), array_to_string(a.attacl, ','), col_description(c.oid, a.attnum)
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE c.relnamespace = 'recio_migrate'::regnamespace ORDER BY c.relname::text COLLATE "C", a.attnum;
SELECT conrelid::regclass, conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE connamespace = 'recio_migrate'::regnamespace ORDER BY conrelid::regclass::text COLLATE "C", conname::text COLLATE "C";
SELECT indexrelid::regclass, pg_get_indexdef(indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relnamespace = 'recio_migrate'::regnamespace ORDER BY c.relname::text COLLATE "C";
SELECT c.oid::regclass, pg_get_viewdef(c.oid) FROM pg_class c
WHERE c.relnamespace = 'recio_migrate'::regnamespace AND c.relkind IN ('v', 'm') ORDER BY c.relname::text COLLATE "C";
SELECT t.typname, t.typtype, array_to_string(t.typacl, ',') FROM pg_type t
WHERE t.typnamespace = 'recio_migrate'::regnamespace AND t.typtype <> 'b' ORDER BY t.typname::text COLLATE "C";
SELECT f.fdwname, f.fdwhandler::regproc, f.fdwvalidator::regproc, array_to_string(f.fdwacl, ','),
       obj_description(f.oid, 'pg_foreign_data_wrapper') FROM pg_foreign_data_wrapper f WHERE f.fdwname = 'recio_sqlite';
SELECT cfg::regclass, cond FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(cfg, cond)
WHERE e.extname = 'recio_migrate' ORDER BY x.cfg::regclass::text COLLATE "C";
SELECT pg_describe_object(i.classoid, i.objoid, i.objsubid) AS obj, i.privtype, array_to_string(i.initprivs, ',')
FROM pg_init_privs i
WHERE EXISTS (SELECT FROM pg_depend d WHERE d.classid = i.classoid AND d.objid = i.objoid AND d.deptype = 'e'
                AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'recio_migrate'))
   OR (i.classoid = 'pg_namespace'::regclass AND i.objoid = 'recio_migrate'::regnamespace)
ORDER BY 1, 2;
SELECT relation, time_column, keep, batch_rows, enabled FROM recio_migrate.retention_policies ORDER BY relation::text COLLATE "C";
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
members recio_it_upgraded >"$RECIO_WORK/upgraded.catalog" || fail "catalog queries failed on the upgraded installation"
members recio_it_fresh >"$RECIO_WORK/fresh.catalog" || fail "catalog queries failed on the fresh installation"
diff "$RECIO_WORK/upgraded.catalog" "$RECIO_WORK/fresh.catalog" || fail "an upgraded installation differs from a fresh one"
echo "upgraded and fresh installations have the same $(grep -c '' "$RECIO_WORK/fresh.catalog") catalog lines"

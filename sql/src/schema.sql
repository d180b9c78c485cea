/* schema.sql: what of a SQLite schema a migrated table carries (issue #11): schema_plan(), translate_sqlite_expression(), the nocase collation */

-- SQLite's COLLATE NOCASE: case-insensitive, as a nondeterministic ICU
-- collation (level 2: case ignored, accents kept).  Created only where
-- PostgreSQL has ICU; schema_plan() skips NOCASE columns with the reason
-- otherwise.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_collation WHERE collprovider = 'i') THEN
    CREATE COLLATION recio_migrate.nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
    COMMENT ON COLLATION recio_migrate.nocase IS
    'SQLite''s COLLATE NOCASE for migrated columns: case-insensitive (ICU level 2; it also folds non-ASCII case, which SQLite''s NOCASE does not)';
  END IF;
END
$$;

CREATE FUNCTION recio_migrate.schema_plan(source regclass, target regclass)
RETURNS TABLE(phase text, object_kind text, object_name text, sqlite_sql text, postgres_sql text,
              action text, reason text, properties jsonb)
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_schema_plan';
COMMENT ON FUNCTION recio_migrate.schema_plan(regclass, regclass) IS
'what of the SQLite schema of a recio_sqlite foreign table its migrated target carries, as statements to run: identity, defaults and collations (phase create), primary key, unique, indexes and checks (phase load), foreign keys (phase file, NOT VALID); each object created as is, translated (reason says how) or skipped (reason says why)';

CREATE FUNCTION recio_migrate.translate_sqlite_expression(expression text, target regclass DEFAULT NULL,
    column_name name DEFAULT NULL)
RETURNS TABLE(postgres_sql text, action text, reason text)
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_translate_sqlite_expression';
COMMENT ON FUNCTION recio_migrate.translate_sqlite_expression(text, regclass, name) IS
'a SQLite expression as PostgreSQL with the same meaning over the columns of target (SQLite names taken as the column names), or as the DEFAULT of column_name; action created, translated (reason says how) or skipped (reason says why)';

CREATE FUNCTION recio_migrate.schema_views(server name, target_schema name)
RETURNS TABLE(phase text, object_kind text, object_name text, sqlite_sql text, postgres_sql text,
              action text, reason text, properties jsonb)
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_schema_views';
COMMENT ON FUNCTION recio_migrate.schema_views(name, name) IS
'the views of a recio_sqlite server''s file as CREATE VIEW statements over its tables migrated into target_schema (phase view, run after the whole file), where the SELECT translates with the same meaning; skipped with the reason otherwise';

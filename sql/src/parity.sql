/* parity.sql: checksum(), parity(), parity_diff(), parity_all() and the parity_results history */

CREATE FUNCTION recio_migrate.parity(
  source regclass, target regclass, key_columns text[] DEFAULT NULL, columns text[] DEFAULT NULL,
  tolerance jsonb DEFAULT NULL, mode text DEFAULT 'rows',
  OUT source_rows bigint, OUT target_rows bigint, OUT matched bigint, OUT missing bigint, OUT extra bigint,
  OUT mismatched bigint, OUT source_checksum text, OUT target_checksum text, OUT ok boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'recio_parity'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION recio_migrate.parity(regclass, regclass, text[], text[], jsonb, text)
IS 'compare a legacy table with its migrated copy by key: mode rows merges both sides in key order, mode checksum compares range checksums and narrows the differing ranges; counts matched, missing, extra and mismatched rows';

CREATE FUNCTION recio_migrate.parity_diff(
  source regclass, target regclass, key_columns text[] DEFAULT NULL, columns text[] DEFAULT NULL,
  tolerance jsonb DEFAULT NULL, max_rows integer DEFAULT 1000, mode text DEFAULT 'rows')
RETURNS TABLE(key jsonb, kind text, column_name text, source_value text, target_value text)
AS 'MODULE_PATHNAME', 'recio_parity_diff'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL RESTRICTED ROWS 100
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION recio_migrate.parity_diff(regclass, regclass, text[], text[], jsonb, integer, text)
IS 'the rows in which a legacy table and its migrated copy differ: missing, extra, mismatch (one row per differing column) and duplicate_key, at most max_rows';

CREATE FUNCTION recio_migrate.checksum(
  rel regclass, columns text[] DEFAULT NULL, tolerance jsonb DEFAULT NULL,
  OUT row_count bigint, OUT checksum text)
RETURNS record
AS 'MODULE_PATHNAME', 'recio_checksum'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION recio_migrate.checksum(regclass, text[], jsonb)
IS 'order-independent 128-bit checksum of a relation over canonical values: equal data in a SQLite table (through recio_sqlite) and its migrated copy give equal checksums although their types differ';

-- history of parity_all(): one row per table per run
CREATE SEQUENCE recio_migrate.parity_run_seq;
CREATE TABLE recio_migrate.parity_results (
  run_id bigint NOT NULL,
  checked_at timestamptz NOT NULL,
  checked_by name NOT NULL DEFAULT current_user,
  server name NOT NULL,
  source_table text NOT NULL,
  target_table text NOT NULL,
  mode text NOT NULL,
  source_rows bigint,
  target_rows bigint,
  matched bigint,
  missing bigint,
  extra bigint,
  mismatched bigint,
  source_checksum text,
  target_checksum text,
  ok boolean NOT NULL,
  error text,
  seconds double precision NOT NULL,
  PRIMARY KEY (run_id, source_table)
);
CREATE INDEX ON recio_migrate.parity_results (checked_at);
COMMENT ON TABLE recio_migrate.parity_results IS 'parity_all() history: one row per legacy table per run';
SELECT pg_catalog.pg_extension_config_dump('recio_migrate.parity_results', '');
SELECT pg_catalog.pg_extension_config_dump('recio_migrate.parity_run_seq', '');

CREATE FUNCTION recio_migrate.parity_all(
  server name, target_schema name, mode text DEFAULT 'checksum', tolerance jsonb DEFAULT NULL)
RETURNS SETOF recio_migrate.parity_results
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  run bigint;
  srv oid;
  ft record;
  tgt regclass;
  t0 timestamptz;
  r recio_migrate.parity_results;
  p record;
  tables integer := 0;
BEGIN
  IF server IS NULL OR target_schema IS NULL OR mode IS NULL THEN
    RAISE EXCEPTION 'server, target_schema and mode must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  SELECT oid INTO srv FROM pg_catalog.pg_foreign_server WHERE srvname = server;
  IF srv IS NULL THEN
    RAISE EXCEPTION 'server "%" does not exist', server USING ERRCODE = 'undefined_object';
  END IF;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = target_schema) THEN
    RAISE EXCEPTION 'schema "%" does not exist', target_schema USING ERRCODE = 'invalid_schema_name';
  END IF;
  run := pg_catalog.nextval('recio_migrate.parity_run_seq');
  FOR ft IN
    SELECT c.oid::regclass AS rel, c.relname
    FROM pg_catalog.pg_foreign_table f JOIN pg_catalog.pg_class c ON c.oid = f.ftrelid
    WHERE f.ftserver = srv
    ORDER BY c.relname, c.oid
  LOOP
    tables := tables + 1;
    t0 := pg_catalog.clock_timestamp();
    r := NULL;
    r.run_id := run;
    r.checked_at := t0;
    r.checked_by := current_user;
    r.server := server;
    r.source_table := ft.rel::text;
    r.target_table := pg_catalog.format('%I.%I', target_schema, ft.relname);
    r.mode := mode;
    r.ok := false;
    tgt := pg_catalog.to_regclass(r.target_table);
    IF tgt IS NULL THEN
      r.error := 'target table does not exist';
    ELSE
      r.target_table := tgt::text;
      BEGIN
        p := recio_migrate.parity(ft.rel, tgt, tolerance => tolerance, mode => mode);
        r.source_rows := p.source_rows;
        r.target_rows := p.target_rows;
        r.matched := p.matched;
        r.missing := p.missing;
        r.extra := p.extra;
        r.mismatched := p.mismatched;
        r.source_checksum := p.source_checksum;
        r.target_checksum := p.target_checksum;
        r.ok := p.ok;
      EXCEPTION WHEN OTHERS THEN
        r.error := SQLSTATE || ': ' || SQLERRM;
      END;
    END IF;
    r.seconds := pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - t0);
    INSERT INTO recio_migrate.parity_results VALUES (r.*);
    RETURN NEXT r;
  END LOOP;
  IF tables = 0 THEN
    RAISE EXCEPTION 'server "%" has no foreign tables', server
      USING ERRCODE = 'undefined_table',
            HINT = 'Import the legacy tables first: IMPORT FOREIGN SCHEMA main FROM SERVER ... INTO ...';
  END IF;
END
$$;

COMMENT ON FUNCTION recio_migrate.parity_all(name, name, text, jsonb)
IS 'parity of every foreign table of a recio_sqlite server against the same-named table in target_schema; each result is recorded in recio_migrate.parity_results';

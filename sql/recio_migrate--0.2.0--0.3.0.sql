/* recio_migrate 0.2.0 -> 0.3.0: parity, migration runs, retention, bloat */
\echo Use "ALTER EXTENSION recio_migrate UPDATE TO '0.3.0'" to load this file. \quit

/*
 * ======================================================================
 * Parity: parity(), parity_diff(), parity_all(), parity_results
 * ======================================================================
 */

CREATE FUNCTION recio_migrate.parity(
  source regclass, target regclass, key_columns text[] DEFAULT NULL, columns text[] DEFAULT NULL,
  tolerance jsonb DEFAULT NULL, mode text DEFAULT 'rows',
  OUT source_rows bigint, OUT target_rows bigint, OUT matched bigint, OUT missing bigint, OUT extra bigint,
  OUT mismatched bigint, OUT source_checksum text, OUT target_checksum text, OUT ok boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'recio_parity'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL RESTRICTED;

COMMENT ON FUNCTION recio_migrate.parity(regclass, regclass, text[], text[], jsonb, text)
IS 'compare a legacy table with its migrated copy by key: mode rows merges both sides in key order, mode checksum compares range checksums and narrows the differing ranges; counts matched, missing, extra and mismatched rows';

CREATE FUNCTION recio_migrate.parity_diff(
  source regclass, target regclass, key_columns text[] DEFAULT NULL, columns text[] DEFAULT NULL,
  tolerance jsonb DEFAULT NULL, max_rows integer DEFAULT 1000, mode text DEFAULT 'rows')
RETURNS TABLE(key jsonb, kind text, column_name text, source_value text, target_value text)
AS 'MODULE_PATHNAME', 'recio_parity_diff'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL RESTRICTED ROWS 100;

COMMENT ON FUNCTION recio_migrate.parity_diff(regclass, regclass, text[], text[], jsonb, integer, text)
IS 'the rows in which a legacy table and its migrated copy differ: missing, extra, mismatch (one row per differing column) and duplicate_key, at most max_rows';

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

REVOKE ALL ON FUNCTION recio_migrate.parity_all(name, name, text, jsonb) FROM PUBLIC;


/*
 * ======================================================================
 * Migration runs: profile(), create_target(), migrate(), migrate_server(),
 * runs, rejects
 * ======================================================================
 */

CREATE FUNCTION recio_migrate.profile(
    source regclass,
    OUT column_name name, OUT sqlite_column text, OUT declared_type text, OUT declared_not_null boolean,
    OUT primary_key_position integer, OUT row_count bigint, OUT null_count bigint,
    OUT integer_count bigint, OUT real_count bigint, OUT text_count bigint, OUT blob_count bigint,
    OUT min_value text, OUT max_value text, OUT max_decimals integer,
    OUT all_timestamps boolean, OUT timestamp_formats text[], OUT epoch_unit text, OUT all_json boolean,
    OUT suggested_type text, OUT nonconforming bigint, OUT zone_assumed text)
RETURNS SETOF record
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_profile';
COMMENT ON FUNCTION recio_migrate.profile(regclass) IS
'profile every column of a recio_sqlite foreign table in one pass on the SQLite side: storage classes, NULLs, min/max, decimals, timestamp formats, epochs, JSON, and the type the data fits';

CREATE FUNCTION recio_migrate.create_target(source regclass, target_name text, dry_run boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  parts text[] := pg_catalog.parse_ident(target_name);
  qname text;
  cols text[] := '{}';
  pk text[] := '{}';
  pk_ok boolean := true;
  stmts text[];
  comments text[] := '{}';
  p record;
  s text;
BEGIN
  -- schema-qualified: this function's search_path is not the caller's
  IF cardinality(parts) <> 2 THEN
    RAISE EXCEPTION 'target name "%" must be schema-qualified', target_name USING ERRCODE = '42602',
      HINT = 'Give schema.table, for example public.trades.';
  END IF;
  qname := pg_catalog.format('%I.%I', parts[1], parts[2]);
  FOR p IN SELECT * FROM recio_migrate.profile(source) LOOP
    cols := cols || pg_catalog.format('%I %s%s', p.column_name, p.suggested_type,
                      CASE WHEN p.declared_not_null AND p.null_count = 0 THEN ' NOT NULL' ELSE '' END);
    IF p.primary_key_position > 0 THEN
      pk[p.primary_key_position] := pg_catalog.format('%I', p.column_name);
      pk_ok := pk_ok AND p.null_count = 0 AND p.nonconforming = 0;
    END IF;
    IF p.zone_assumed IS NOT NULL THEN
      comments := comments || pg_catalog.format('COMMENT ON COLUMN %s.%I IS %L', qname, p.column_name,
        pg_catalog.format('SQLite %s holds naive local timestamps; read as %s (the timezone option of the source)',
                          p.sqlite_column, p.zone_assumed));
    END IF;
  END LOOP;
  IF cardinality(pk) > 0 AND pk_ok THEN
    cols := cols || pg_catalog.format('PRIMARY KEY (%s)', pg_catalog.array_to_string(pk, ', '));
  END IF;
  stmts := ARRAY[pg_catalog.format(E'CREATE TABLE %s (\n  %s\n)', qname, pg_catalog.array_to_string(cols, E',\n  '))]
           || comments;
  IF NOT dry_run THEN
    FOREACH s IN ARRAY stmts LOOP
      EXECUTE s;
    END LOOP;
  END IF;
  RETURN pg_catalog.array_to_string(stmts, E';\n') || ';';
END $$;
COMMENT ON FUNCTION recio_migrate.create_target(regclass, text, boolean) IS
'create a table typed from the profile of a recio_sqlite foreign table (primary key from SQLite, NOT NULL kept where the data has no NULLs) and return its DDL; dry_run returns the DDL only';

CREATE TABLE recio_migrate.runs (
  run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_by name NOT NULL DEFAULT current_user,
  started_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
  finished_at timestamptz,
  source_table text NOT NULL,
  sqlite_table text,
  source_path text,
  source_size bigint,
  source_modified timestamptz,
  source_data_version bigint,
  target_table text NOT NULL,
  on_error text NOT NULL,
  rows_read bigint,
  rows_written bigint,
  rows_rejected bigint,
  seconds double precision,
  status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  error text
);
COMMENT ON TABLE recio_migrate.runs IS 'ledger of migration runs: one row per migrate() call';
SELECT pg_catalog.pg_extension_config_dump('recio_migrate.runs', '');
SELECT pg_catalog.pg_extension_config_dump('recio_migrate.runs_run_id_seq', '');

CREATE TABLE recio_migrate.rejects (
  run_id bigint NOT NULL REFERENCES recio_migrate.runs ON DELETE CASCADE,
  source_table text NOT NULL,
  sqlite_rowid bigint,
  sqlite_key text,
  column_name name NOT NULL,
  raw_value text,
  storage_class text NOT NULL,
  sqlstate text NOT NULL,
  error text NOT NULL,
  action text NOT NULL CHECK (action IN ('reject', 'null'))
);
CREATE INDEX ON recio_migrate.rejects (run_id);
COMMENT ON TABLE recio_migrate.rejects IS 'values a migration run could not convert: the row was left out (reject) or the value stored as NULL (null)';
SELECT pg_catalog.pg_extension_config_dump('recio_migrate.rejects', '');
REVOKE ALL ON recio_migrate.runs, recio_migrate.rejects FROM PUBLIC;
GRANT SELECT ON recio_migrate.runs, recio_migrate.rejects TO pg_monitor;

CREATE FUNCTION recio_migrate.move_rows(source regclass, target regclass, run_id bigint, on_error text,
    allow_rounding boolean, OUT rows_read bigint, OUT rows_written bigint, OUT rows_rejected bigint)
RETURNS record
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_move_rows';
COMMENT ON FUNCTION recio_migrate.move_rows(regclass, regclass, bigint, text, boolean) IS
'data path of migrate(): bulk-insert every row of a recio_sqlite foreign table into a table (call migrate() instead)';
REVOKE ALL ON FUNCTION recio_migrate.move_rows(regclass, regclass, bigint, text, boolean) FROM PUBLIC;

CREATE FUNCTION recio_migrate.source_facts(source regclass,
    OUT path text, OUT size_bytes bigint, OUT modified timestamptz, OUT data_version bigint)
RETURNS record
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_source_facts';
COMMENT ON FUNCTION recio_migrate.source_facts(regclass) IS
'the SQLite file behind a recio_sqlite foreign table: path, size, modification time, SQLite data_version';

CREATE FUNCTION recio_migrate.sqlite_tables(server name, OUT name text, OUT kind text, OUT row_count bigint)
RETURNS SETOF record
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_sqlite_tables';
COMMENT ON FUNCTION recio_migrate.sqlite_tables(name) IS
'the tables and views of a recio_sqlite server''s file with their row counts (count(*) in SQLite)';

CREATE FUNCTION recio_migrate.migrate(source regclass, target regclass, on_error text DEFAULT 'stop',
    allow_rounding boolean DEFAULT false,
    OUT run_id bigint, OUT status text, OUT rows_read bigint, OUT rows_written bigint, OUT rows_rejected bigint,
    OUT seconds double precision)
RETURNS record
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  f record;
  m record;
  t0 timestamptz := pg_catalog.clock_timestamp();
  msg text;
  state text;
BEGIN
  IF on_error NOT IN ('stop', 'reject', 'null') THEN
    RAISE EXCEPTION 'invalid value for on_error: "%"', on_error USING ERRCODE = '22023',
      HINT = 'Expected one of: stop, reject, null.';
  END IF;
  SELECT * INTO f FROM recio_migrate.source_facts(source);
  INSERT INTO recio_migrate.runs (source_table, sqlite_table, source_path, source_size, source_modified,
                                  source_data_version, target_table, on_error, status)
  SELECT source::text, (SELECT substr(o, 7) FROM pg_catalog.pg_foreign_table ft,
                          pg_catalog.unnest(ft.ftoptions) o WHERE ft.ftrelid = source AND o LIKE 'table=%'),
         f.path, f.size_bytes, f.modified, f.data_version, target::text, on_error, 'running'
  RETURNING runs.run_id INTO run_id;
  BEGIN
    -- the target's changes and the rejects live in this block's subtransaction
    SELECT * INTO m FROM recio_migrate.move_rows(source, target, run_id, on_error, allow_rounding);
    status := 'succeeded';
    rows_read := m.rows_read;
    rows_written := m.rows_written;
    rows_rejected := m.rows_rejected;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
    status := 'failed';
    RAISE WARNING 'migration run % from % into % failed: %', run_id, source, target, msg
      USING DETAIL = pg_catalog.format('SQLSTATE %s; the target was left as it was before the run.', state);
  END;
  seconds := extract(epoch FROM pg_catalog.clock_timestamp() - t0);
  UPDATE recio_migrate.runs r
     SET finished_at = pg_catalog.clock_timestamp(), rows_read = migrate.rows_read,
         rows_written = migrate.rows_written, rows_rejected = migrate.rows_rejected,
         seconds = migrate.seconds, status = migrate.status,
         error = CASE WHEN migrate.status = 'failed' THEN state || ': ' || msg END
   WHERE r.run_id = migrate.run_id;
END $$;
COMMENT ON FUNCTION recio_migrate.migrate(regclass, regclass, text, boolean) IS
'move every row of a recio_sqlite foreign table into a table (columns by name, bulk insert), recording the run in recio_migrate.runs and unconvertible values in recio_migrate.rejects; a failed run leaves the target unchanged';
REVOKE ALL ON FUNCTION recio_migrate.migrate(regclass, regclass, text, boolean) FROM PUBLIC;

CREATE FUNCTION recio_migrate.migrate_server(server name, target_schema name, on_error text DEFAULT 'reject',
    foreign_schema name DEFAULT NULL,
    OUT sqlite_table text, OUT target regclass, OUT action text, OUT run_id bigint, OUT sqlite_rows bigint,
    OUT target_rows bigint, OUT rows_rejected bigint, OUT counts_match boolean)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  fschema name := coalesce(foreign_schema, (target_schema || '_sqlite')::name);
  t record;
  ft regclass;
  m record;
  n bigint;
BEGIN
  IF server IS NULL OR target_schema IS NULL OR on_error IS NULL THEN
    RAISE EXCEPTION 'server, target_schema and on_error must not be NULL' USING ERRCODE = '22004';
  END IF;
  IF pg_catalog.to_regnamespace(pg_catalog.quote_ident(target_schema)) IS NULL THEN
    EXECUTE pg_catalog.format('CREATE SCHEMA %I', target_schema);
  END IF;
  IF pg_catalog.to_regnamespace(pg_catalog.quote_ident(fschema)) IS NULL THEN
    EXECUTE pg_catalog.format('CREATE SCHEMA %I', fschema);
  END IF;
  FOR t IN SELECT * FROM recio_migrate.sqlite_tables(server) s WHERE s.kind = 'table' LOOP
    sqlite_table := t.name;
    sqlite_rows := t.row_count;
    run_id := NULL;
    rows_rejected := 0;
    ft := pg_catalog.to_regclass(pg_catalog.format('%I.%I', fschema, t.name));
    IF ft IS NULL THEN
      EXECUTE pg_catalog.format('IMPORT FOREIGN SCHEMA main LIMIT TO (%I) FROM SERVER %I INTO %I OPTIONS (types %L)',
                                t.name, server, fschema, 'observed');
      ft := pg_catalog.format('%I.%I', fschema, t.name)::regclass;
    END IF;
    target := pg_catalog.to_regclass(pg_catalog.format('%I.%I', target_schema, t.name));
    IF target IS NULL THEN
      PERFORM recio_migrate.create_target(ft, pg_catalog.format('%I.%I', target_schema, t.name));
      target := pg_catalog.format('%I.%I', target_schema, t.name)::regclass;
    END IF;
    EXECUTE pg_catalog.format('SELECT count(*) FROM %s', target) INTO n;
    IF n = 0 THEN
      SELECT * INTO m FROM recio_migrate.migrate(ft, target, on_error);
      run_id := m.run_id;
      action := CASE m.status WHEN 'succeeded' THEN 'migrated' ELSE 'failed' END;
      rows_rejected := coalesce(m.rows_rejected, 0);
    ELSIF n = t.row_count THEN
      action := 'skipped: already migrated';
    ELSIF EXISTS (SELECT FROM recio_migrate.runs r
                   WHERE r.target_table = target::text AND r.status = 'succeeded'
                     AND r.rows_read = t.row_count AND r.rows_written = n) THEN
      -- the rows a run wrote, its rejects left out: the rejects still count
      SELECT r.run_id, r.rows_rejected INTO run_id, rows_rejected FROM recio_migrate.runs r
       WHERE r.target_table = target::text AND r.status = 'succeeded'
         AND r.rows_read = t.row_count AND r.rows_written = n
       ORDER BY r.run_id DESC LIMIT 1;
      action := 'skipped: already migrated';
    ELSE
      action := 'refused: target not empty';
      RAISE WARNING 'target % already holds % rows and SQLite table "%" has %: not migrated', target, n, t.name,
        t.row_count USING HINT = 'Empty the target (TRUNCATE) to migrate it again.';
    END IF;
    EXECUTE pg_catalog.format('SELECT count(*) FROM %s', target) INTO target_rows;
    counts_match := target_rows + CASE WHEN action = 'refused: target not empty' THEN 0 ELSE rows_rejected END
                    = sqlite_rows;
    RETURN NEXT;
  END LOOP;
END $$;
COMMENT ON FUNCTION recio_migrate.migrate_server(name, name, text, name) IS
'migrate every table of a recio_sqlite server''s file: import with observed types, create targets, migrate each table as its own run, and check the row counts; a target that already has rows is skipped (same count) or refused';
REVOKE ALL ON FUNCTION recio_migrate.migrate_server(name, name, text, name) FROM PUBLIC;

CREATE VIEW recio_migrate.progress AS
SELECT p.pid, p.relid::regclass AS target, p.param6 AS run_id, p.param1 AS rows_read, p.param3 AS rows_written,
       p.param4 AS rows_rejected, NULLIF(p.param2, -1) AS rows_estimated, a.query_start,
       (p.param3 / NULLIF(extract(epoch FROM pg_catalog.clock_timestamp() - a.query_start), 0))::bigint
         AS rows_per_second
FROM pg_catalog.pg_stat_get_progress_info('COPY') p
JOIN pg_catalog.pg_stat_activity a ON a.pid = p.pid
WHERE p.param5 = 1001;
COMMENT ON VIEW recio_migrate.progress IS
'migration runs in progress in any session (rows read, written, rejected), from the backends'' progress slots';
GRANT SELECT ON recio_migrate.progress TO PUBLIC;


/*
 * ======================================================================
 * Retention: retention_policies, pins, prune(), run_retention(),
 * retention_log, schedule_retention()
 * ======================================================================
 */


/*
 * ======================================================================
 * Bloat: bloat_report(), bloat_snapshot(), bloat_history
 * ======================================================================
 */

-- Thresholds and the auto method's cut-over are settings (placeholders, no
-- need to load the library first), read with their defaults by
-- bloat_report(); see docs/bloat.md:
--   recio_migrate.bloat_auto_exact_max     '128MB'  auto: exact up to this size, approx above
--   recio_migrate.bloat_vacuum_dead_pct    10       advice 'vacuum' from this share of dead bytes
--   recio_migrate.bloat_rewrite_free_pct   30       advice 'rewrite' from this share of excess free space
--   recio_migrate.bloat_reindex_gap_pct    30       advice 'reindex concurrently' when leaf pages are this
--                                                   many points below the index fillfactor
--   recio_migrate.bloat_advice_min_bytes   '1MB'    no advice for less bloat than this

CREATE FUNCTION recio_migrate.bloat_measure(relation regclass, method text DEFAULT 'exact',
    auto_exact_max_bytes bigint DEFAULT 134217728,
    OUT kind text, OUT status text, OUT method_used text, OUT total_bytes bigint, OUT live_bytes bigint,
    OUT dead_bytes bigint, OUT free_bytes bigint, OUT bloat_bytes bigint, OUT live_tuples bigint,
    OUT dead_tuples bigint, OUT pages_read bigint, OUT fillfactor integer, OUT leaf_density float8)
RETURNS record
AS 'MODULE_PATHNAME', 'recio_bloat_measure'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION recio_migrate.bloat_measure(regclass, text, bigint)
IS 'page-level dead, free and bloat figures of one table, TOAST table or btree index (method exact, approx, auto or estimate = size only); skips a relation it cannot lock at once';

CREATE FUNCTION recio_migrate.bloat_estimate(relation regclass, total_bytes bigint,
    OUT live_bytes bigint, OUT dead_bytes bigint, OUT bloat_bytes bigint, OUT trust text, OUT reasons text)
RETURNS record
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
WITH c AS (
    SELECT c.oid, c.relkind, n.nspname, c.relname, c.reltuples,
           coalesce((SELECT o.option_value::int FROM pg_catalog.pg_options_to_table(c.reloptions) o
                     WHERE o.option_name = 'fillfactor'),
                    CASE c.relkind WHEN 'i' THEN 90 ELSE 100 END) AS ff,
           pg_catalog.current_setting('block_size')::int AS bs,
           coalesce(i.indrelid, c.oid) AS stat_rel, i.indkey,
           i.indexprs IS NOT NULL AS has_exprs, a.amname
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid
    LEFT JOIN pg_catalog.pg_am a ON a.oid = c.relam
    WHERE c.oid = relation
), t AS (    -- the table whose statistics apply (the index's table for an index)
    SELECT c.*, tn.nspname AS t_nspname, tc.relname AS t_relname,
           coalesce(s.n_live_tup, 0) AS n_live, coalesce(s.n_dead_tup, 0) AS n_dead,
           coalesce(s.n_mod_since_analyze, 0) AS n_mod,
           greatest(s.last_analyze, s.last_autoanalyze) AS analyzed
    FROM c
    JOIN pg_catalog.pg_class tc ON tc.oid = c.stat_rel
    JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace
    LEFT JOIN pg_catalog.pg_stat_all_tables s ON s.relid = c.stat_rel
), cols AS (  -- the columns that make up a row (or an index entry)
    SELECT a.attname
    FROM t JOIN pg_catalog.pg_attribute a ON a.attrelid = t.stat_rel
    WHERE a.attnum > 0 AND NOT a.attisdropped
      AND (t.relkind <> 'i' OR a.attnum = ANY (t.indkey::int2[]))
), st AS (
    SELECT count(*) AS ncols, count(s.attname) AS nstats,
           coalesce(sum((1 - s.null_frac) * s.avg_width), 0) AS width,
           coalesce(bool_or(s.null_frac > 0), false) AS has_nulls
    FROM t CROSS JOIN cols
    LEFT JOIN pg_catalog.pg_stats s
      ON s.schemaname = t.t_nspname AND s.tablename = t.t_relname AND s.attname = cols.attname
     AND NOT s.inherited
), shape AS (
    SELECT t.*, st.*,
           -- reltuples as VACUUM or ANALYZE last counted (what pg_stats describes);
           -- the activity counter only when the relation was never counted
           CASE WHEN t.reltuples >= 0 THEN t.reltuples ELSE t.n_live END AS nrows,
           CASE WHEN t.relkind = 'i'
                THEN ceil((8 + st.width) / 8) * 8
                ELSE ceil((23 + CASE WHEN st.has_nulls THEN (st.ncols + 7) / 8 ELSE 0 END) / 8.0) * 8 + st.width
           END AS row_bytes
    FROM t, st
), est AS (
    SELECT shape.*, relkind = 't' OR (relkind = 'i' AND amname IS DISTINCT FROM 'btree') AS unmodelled,
           CASE WHEN relkind = 'i'
                THEN (ceil(nrows * (ceil(row_bytes / 8) * 8 + 4) / ((bs - 24 - 16) * ff / 100.0)) * 1.01 + 1) * bs
                ELSE ceil(nrows / least(pg_catalog.floor((bs - 24 - bs * (100 - ff) / 100.0) / (ceil(row_bytes / 8) * 8 + 4)),
                                       (bs - 24) / 28)) * bs
           END AS needed,
           array_remove(ARRAY[
               CASE WHEN relkind = 't' THEN 'TOAST table: no column statistics, dead share from activity counters only' END,
               CASE WHEN relkind = 'i' AND amname <> 'btree' THEN amname || ' index: no estimate' END,
               CASE WHEN relkind <> 't' AND nstats = 0 AND ncols > 0
                         AND NOT pg_catalog.has_table_privilege(stat_rel, 'SELECT')
                    THEN 'pg_stats hidden: SELECT on the table is needed to see its statistics'
                    WHEN relkind <> 't' AND nstats = 0 AND ncols > 0 THEN 'never analyzed' END,
               CASE WHEN relkind <> 't' AND nstats > 0 AND nstats < ncols
                    THEN pg_catalog.format('pg_stats covers %s of %s columns', nstats, ncols) END,
               CASE WHEN has_exprs THEN 'expression index: expression widths unknown' END,
               CASE WHEN relkind <> 't' AND n_mod > 0.1 * greatest(nrows, 1)
                    THEN pg_catalog.format('stale ANALYZE: %s rows changed since', n_mod) END,
               CASE WHEN relkind = 'i' AND amname = 'btree' THEN 'btree deduplication not modelled' END
           ], NULL) AS why
    FROM shape
)
SELECT CASE WHEN unmodelled THEN NULL ELSE (nrows * row_bytes)::bigint END,
       CASE WHEN relkind = 'i' THEN NULL
            WHEN relkind = 't' THEN (total_bytes * n_dead / nullif(n_live + n_dead, 0))::bigint
            ELSE (n_dead * row_bytes)::bigint END,
       CASE WHEN unmodelled OR nstats = 0 THEN NULL ELSE greatest(0, total_bytes - needed)::bigint END,
       CASE WHEN unmodelled OR nstats = 0 THEN 'none'
            WHEN cardinality(why) > 1 OR (relkind <> 'i' AND cardinality(why) > 0) THEN 'low'
            ELSE 'medium' END,
       array_to_string(why || 'statistics-based: often off by 20% or more'::text, '; ')
FROM est
$$;
COMMENT ON FUNCTION recio_migrate.bloat_estimate(regclass, bigint)
IS 'catalog-statistics estimate of live, dead and bloat bytes of a table or btree index of total_bytes, with a trust level and the reasons to doubt it (used by bloat_report method estimate)';

-- bloat_report() is a SQL wrapper because its parameter "method" and its
-- output column "method" share a name, which PL/pgSQL cannot compile.
CREATE FUNCTION recio_migrate.bloat_rows(schema_name name, how text, min_bytes bigint)
RETURNS TABLE(relation regclass, parent regclass, kind text, total_bytes bigint, live_bytes bigint,
    dead_bytes bigint, free_bytes bigint, bloat_bytes bigint, bloat_pct numeric, method_used text,
    last_vacuum timestamptz, last_autovacuum timestamptz, advice text, trust text, detail text)
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    auto_max bigint := pg_catalog.pg_size_bytes(coalesce(nullif(pg_catalog.current_setting('recio_migrate.bloat_auto_exact_max', true), ''), '128MB'));
    vacuum_pct numeric := coalesce(nullif(pg_catalog.current_setting('recio_migrate.bloat_vacuum_dead_pct', true), ''), '10')::numeric;
    rewrite_pct numeric := coalesce(nullif(pg_catalog.current_setting('recio_migrate.bloat_rewrite_free_pct', true), ''), '30')::numeric;
    reindex_gap numeric := coalesce(nullif(pg_catalog.current_setting('recio_migrate.bloat_reindex_gap_pct', true), ''), '30')::numeric;
    advice_min bigint := pg_catalog.pg_size_bytes(coalesce(nullif(pg_catalog.current_setting('recio_migrate.bloat_advice_min_bytes', true), ''), '1MB'));
    bs int := pg_catalog.current_setting('block_size')::int;
    r record;
    m record;
    measure boolean;
    e record;
    excess bigint;
BEGIN
    IF how IS NULL OR how NOT IN ('exact', 'approx', 'auto', 'estimate') THEN
        RAISE EXCEPTION 'invalid bloat method "%"', how
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use exact, approx, auto or estimate.';
    END IF;
    IF schema_name IS NOT NULL AND NOT EXISTS (SELECT FROM pg_catalog.pg_namespace n WHERE n.nspname = schema_name) THEN
        RAISE EXCEPTION 'schema "%" does not exist', schema_name USING ERRCODE = 'invalid_schema_name';
    END IF;
    FOR r IN
        WITH base AS (      -- tables and materialized views of the chosen schemas
            SELECT c.oid, c.reltoastrelid,
                   CASE WHEN c.relispartition THEN (SELECT i.inhparent FROM pg_catalog.pg_inherits i
                                                    WHERE i.inhrelid = c.oid LIMIT 1) END AS parent
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'm')
              AND NOT pg_catalog.pg_is_other_temp_schema(c.relnamespace)
              AND CASE WHEN schema_name IS NULL
                       THEN n.nspname NOT IN ('pg_catalog', 'information_schema')
                       ELSE n.nspname = schema_name END
        ), heaps AS (
            SELECT b.oid, b.parent FROM base b
            UNION ALL
            SELECT reltoastrelid, oid FROM base WHERE reltoastrelid <> 0
        )
        SELECT h.oid, h.parent, h.oid AS stat_rel FROM heaps h
        UNION ALL
        SELECT x.indexrelid, x.indrelid, x.indrelid FROM heaps h JOIN pg_catalog.pg_index x ON x.indrelid = h.oid
        ORDER BY 1
    LOOP
        -- the size first (no page read), so min_bytes costs nothing for small relations
        IF how = 'estimate' OR min_bytes > 0 THEN
            m := recio_migrate.bloat_measure(r.oid::regclass, 'estimate', 0);
            CONTINUE WHEN m.total_bytes < min_bytes;
            measure := how <> 'estimate' AND m.status = 'size only';
        ELSE
            measure := true;
        END IF;
        IF measure THEN
            m := recio_migrate.bloat_measure(r.oid::regclass, how, auto_max);
        END IF;
        relation := r.oid::regclass;
        parent := r.parent::regclass;
        kind := m.kind;
        total_bytes := m.total_bytes;
        method_used := m.method_used;
        last_vacuum := pg_catalog.pg_stat_get_last_vacuum_time(r.stat_rel);
        last_autovacuum := pg_catalog.pg_stat_get_last_autovacuum_time(r.stat_rel);
        live_bytes := NULL; dead_bytes := NULL; free_bytes := NULL; bloat_bytes := NULL;
        trust := NULL; detail := NULL;
        IF m.status = 'measured' THEN
            live_bytes := m.live_bytes; dead_bytes := m.dead_bytes; free_bytes := m.free_bytes;
            bloat_bytes := m.bloat_bytes;
            trust := CASE m.method_used WHEN 'exact' THEN 'exact' ELSE 'high' END;
            detail := CASE WHEN m.method_used = 'approx'
                           THEN pg_catalog.format('read %s of %s pages; the free space of all-visible pages from the free space map',
                                                  m.pages_read, m.total_bytes / bs)
                           ELSE pg_catalog.format('read all %s pages', m.pages_read) END;
        ELSIF m.status = 'size only' THEN
            e := recio_migrate.bloat_estimate(r.oid::regclass, m.total_bytes);
            live_bytes := e.live_bytes; dead_bytes := e.dead_bytes; bloat_bytes := e.bloat_bytes;
            trust := e.trust; detail := e.reasons;
        END IF;
        bloat_pct := round(100.0 * bloat_bytes / nullif(total_bytes, 0), 1);
        excess := bloat_bytes - coalesce(dead_bytes, 0);
        advice := CASE
            WHEN m.status LIKE 'skipped:%' THEN m.status
            WHEN m.status LIKE 'not measured:%' OR (m.status = 'size only' AND bloat_bytes IS NULL AND kind <> 'toast table')
                THEN 'not measured'
            WHEN kind LIKE '%index' AND bloat_bytes >= advice_min
                 AND (m.leaf_density < m.fillfactor - reindex_gap OR bloat_pct >= rewrite_pct)
                THEN 'reindex concurrently'
            WHEN kind NOT LIKE '%index' AND dead_bytes >= advice_min AND 100.0 * dead_bytes / total_bytes >= vacuum_pct
                THEN 'vacuum'
            WHEN kind NOT LIKE '%index' AND excess >= advice_min AND 100.0 * excess / total_bytes >= rewrite_pct
                THEN 'rewrite'
            ELSE 'ok' END;
        detail := concat_ws('; ', CASE advice
            WHEN 'vacuum' THEN pg_catalog.format('%s of dead tuples: VACUUM (SHARE UPDATE EXCLUSIVE lock: reads and writes go on); if this recurs, let autovacuum visit the table sooner (autovacuum_vacuum_scale_factor)',
                                                 pg_catalog.pg_size_pretty(dead_bytes))
            WHEN 'rewrite' THEN pg_catalog.format('%s of free space beyond the fillfactor that VACUUM cannot give back: pg_repack rewrites online (ACCESS EXCLUSIVE only briefly at start and end; needs free disk for a copy of the table and its indexes), VACUUM FULL holds ACCESS EXCLUSIVE for the whole rewrite (blocks reads and writes)',
                                                  pg_catalog.pg_size_pretty(excess))
            WHEN 'reindex concurrently' THEN pg_catalog.format('%s reclaimable%s: REINDEX INDEX CONCURRENTLY (SHARE UPDATE EXCLUSIVE lock: reads and writes go on; needs space for a second copy while it runs)',
                                                               pg_catalog.pg_size_pretty(bloat_bytes),
                                                               CASE WHEN m.leaf_density IS NOT NULL
                                                                    THEN pg_catalog.format(', leaf pages %s%% full against a fillfactor of %s',
                                                                                           round(m.leaf_density::numeric, 1), m.fillfactor) END)
            WHEN 'not measured' THEN CASE WHEN m.status = 'size only'
                                          THEN 'no estimate possible: ANALYZE the table or use method approx'
                                          ELSE pg_catalog.format('%s: only tables, TOAST tables and btree indexes are measured', kind) END
            END, detail);
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION recio_migrate.bloat_rows(name, text, bigint)
IS 'the body of bloat_report(): measures or estimates each relation in turn and gives advice';

CREATE FUNCTION recio_migrate.bloat_report(schema_name name DEFAULT NULL, method text DEFAULT 'auto',
    min_bytes bigint DEFAULT 0)
RETURNS TABLE(relation regclass, parent regclass, kind text, total_bytes bigint, live_bytes bigint,
    dead_bytes bigint, free_bytes bigint, bloat_bytes bigint, bloat_pct numeric, method text,
    last_vacuum timestamptz, last_autovacuum timestamptz, advice text, trust text, detail text)
LANGUAGE sql VOLATILE CALLED ON NULL INPUT PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM recio_migrate.bloat_rows(schema_name, method, min_bytes) $$;
COMMENT ON FUNCTION recio_migrate.bloat_report(name, text, bigint)
IS 'dead, free and bloat bytes with advice for every table, TOAST table and btree index of a schema (all but the system schemas when NULL); method exact, approx, auto or estimate; relations smaller than min_bytes are left out';

CREATE TABLE recio_migrate.bloat_history (
    snapshot_at timestamptz NOT NULL,
    relid oid NOT NULL,
    relation text NOT NULL,
    parent text,
    kind text NOT NULL,
    total_bytes bigint,
    live_bytes bigint,
    dead_bytes bigint,
    free_bytes bigint,
    bloat_bytes bigint,
    bloat_pct numeric,
    method text,
    advice text NOT NULL,
    trust text,
    PRIMARY KEY (snapshot_at, relid)
);
COMMENT ON TABLE recio_migrate.bloat_history IS 'bloat_report() rows stored by bloat_snapshot(), one snapshot per call';
SELECT pg_catalog.pg_extension_config_dump('recio_migrate.bloat_history', '');

CREATE FUNCTION recio_migrate.bloat_snapshot(schema_name name DEFAULT NULL, method text DEFAULT 'auto',
    min_bytes bigint DEFAULT 0, keep interval DEFAULT '90 days')
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    taken timestamptz := pg_catalog.clock_timestamp();
    stored bigint;
BEGIN
    INSERT INTO recio_migrate.bloat_history
    SELECT taken, b.relation::oid, b.relation::text, b.parent::text, b.kind, b.total_bytes, b.live_bytes,
           b.dead_bytes, b.free_bytes, b.bloat_bytes, b.bloat_pct, b.method, b.advice, b.trust
    FROM recio_migrate.bloat_report(schema_name, method, min_bytes) b;
    GET DIAGNOSTICS stored = ROW_COUNT;
    IF keep IS NOT NULL THEN
        DELETE FROM recio_migrate.bloat_history h WHERE h.snapshot_at < taken - keep;
    END IF;
    RETURN stored;
END
$$;
COMMENT ON FUNCTION recio_migrate.bloat_snapshot(name, text, bigint, interval)
IS 'store bloat_report() in bloat_history with one timestamp and drop snapshots older than keep; returns the rows stored; safe to schedule with pg_cron';

REVOKE ALL ON FUNCTION recio_migrate.bloat_measure(regclass, text, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.bloat_estimate(regclass, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.bloat_rows(name, text, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.bloat_report(name, text, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.bloat_snapshot(name, text, bigint, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recio_migrate.bloat_measure(regclass, text, bigint) TO pg_stat_scan_tables;
GRANT EXECUTE ON FUNCTION recio_migrate.bloat_estimate(regclass, bigint) TO pg_stat_scan_tables;
GRANT EXECUTE ON FUNCTION recio_migrate.bloat_rows(name, text, bigint) TO pg_stat_scan_tables;
GRANT EXECUTE ON FUNCTION recio_migrate.bloat_report(name, text, bigint) TO pg_stat_scan_tables;
GRANT EXECUTE ON FUNCTION recio_migrate.bloat_snapshot(name, text, bigint, interval) TO pg_stat_scan_tables;
GRANT SELECT, INSERT, DELETE ON recio_migrate.bloat_history TO pg_stat_scan_tables;

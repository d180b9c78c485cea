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

-- checksum() (0.2.0) builds only qualified SQL, but pin its search_path like every other function
ALTER FUNCTION recio_migrate.checksum(regclass, text[], jsonb) SET search_path = pg_catalog, pg_temp;

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
  typ text;
  unit text;
BEGIN
  -- schema-qualified: this function's search_path is not the caller's
  IF cardinality(parts) <> 2 THEN
    RAISE EXCEPTION 'target name "%" must be schema-qualified', target_name USING ERRCODE = '42602',
      HINT = 'Give schema.table, for example public.trades.';
  END IF;
  qname := pg_catalog.format('%I.%I', parts[1], parts[2]);
  FOR p IN SELECT * FROM recio_migrate.profile(source) LOOP
    typ := p.suggested_type;
    -- migrate() converts epochs with the column's epoch_unit option: another unit would give wrong instants
    IF typ = 'timestamptz' AND p.epoch_unit IS NOT NULL THEN
      unit := COALESCE(
        (SELECT o.option_value FROM pg_catalog.pg_attribute a, pg_catalog.pg_options_to_table(a.attfdwoptions) o
         WHERE a.attrelid = source AND a.attname = p.column_name AND o.option_name = 'epoch_unit'), 's');
      IF unit <> p.epoch_unit THEN
        typ := 'bigint';
        comments := comments || pg_catalog.format('COMMENT ON COLUMN %s.%I IS %L', qname, p.column_name,
          pg_catalog.format('SQLite %s holds epochs in %s but the source''s epoch_unit is %s: kept as bigint '
                            '(set the option epoch_unit %L on the foreign column for timestamptz)',
                            p.sqlite_column, p.epoch_unit, unit, p.epoch_unit));
      END IF;
    END IF;
    cols := cols || pg_catalog.format('%I %s%s', p.column_name, typ,
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
  -- every key column or no key: a narrower key would refuse rows SQLite holds
  IF cardinality(pk) > 0 AND (pg_catalog.array_lower(pk, 1) <> 1 OR pg_catalog.array_position(pk, NULL) IS NOT NULL) THEN
    RAISE NOTICE 'no primary key on %: the source lacks some of the SQLite primary key columns', qname;
    pk_ok := false;
  END IF;
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
 * Retention keeps tables such as price history, fills, orders and settlements
 * to a window (policy), never deleting a pinned row (the whitelist) or a row
 * that is not yet past the cutoff.  prune() works in short batches that each
 * commit, so it must be a procedure; a procedure with a SET clause cannot
 * COMMIT, so the procedures here have none: every name in them is
 * schema-qualified and each batch transaction pins search_path (and the
 * settings that make key text canonical) with set_config(..., true) through
 * retention_settings().
 *
 * A pin names a row by the text of its primary key values (in key column
 * order), written with fixed output settings (TimeZone UTC, ISO dates, full
 * float precision), so the same row always gives the same key text.
 */

CREATE TABLE recio_migrate.retention_policies (
  relation regclass PRIMARY KEY,
  time_column name NOT NULL,
  keep interval NOT NULL CHECK (keep > interval '0'),
  batch_rows integer NOT NULL DEFAULT 10000 CHECK (batch_rows > 0),
  archive_relation regclass,
  time_unit text CHECK (time_unit IN ('s', 'ms', 'us')),
  partition_action text NOT NULL DEFAULT 'drop' CHECK (partition_action IN ('drop', 'detach')),
  lock_timeout interval NOT NULL DEFAULT interval '100 milliseconds'
    CHECK (lock_timeout > interval '0' AND lock_timeout <= interval '1 minute'),
  enabled boolean NOT NULL DEFAULT true,
  updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  updated_by name NOT NULL DEFAULT CURRENT_USER,
  CHECK (archive_relation IS DISTINCT FROM relation)
);
COMMENT ON TABLE recio_migrate.retention_policies
IS 'retention policies: rows of relation whose time_column is older than now() - keep are pruned by run_retention(); write it through set_retention() and drop_retention()';

CREATE TABLE recio_migrate.retention_pins (
  relation regclass NOT NULL,
  key text[] NOT NULL,
  pinned_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  pinned_by name NOT NULL DEFAULT CURRENT_USER,
  note text,
  PRIMARY KEY (relation, key)
);
COMMENT ON TABLE recio_migrate.retention_pins
IS 'pinned rows (the whitelist): a row of relation whose primary key values, as canonical text, equal key is never pruned; write it through pin(), pin_where() and unpin()';

CREATE TABLE recio_migrate.retention_log (
  id bigserial PRIMARY KEY,
  relation regclass,
  relation_name text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
  finished_at timestamptz,
  cutoff timestamptz,
  rows_deleted bigint NOT NULL DEFAULT 0,
  rows_archived bigint NOT NULL DEFAULT 0,
  partitions_dropped integer NOT NULL DEFAULT 0,
  partitions_detached integer NOT NULL DEFAULT 0,
  batches integer NOT NULL DEFAULT 0,
  lock_retries integer NOT NULL DEFAULT 0,
  duration interval GENERATED ALWAYS AS (finished_at - started_at) STORED,
  status text NOT NULL DEFAULT 'running'
    CHECK (status IN ('running', 'succeeded', 'stopped', 'failed', 'aborted', 'skipped')),
  error text,
  error_sqlstate text,
  pid integer NOT NULL DEFAULT pg_catalog.pg_backend_pid()
);
CREATE INDEX ON recio_migrate.retention_log (started_at);
COMMENT ON TABLE recio_migrate.retention_log
IS 'one row per prune of a relation: cutoff, rows deleted and archived, partitions dropped, batches, status (running, succeeded, stopped by the time budget, failed, aborted by a lost session, skipped); kept bounded by its own retention policy';

-- The log's own policy is part of the extension: CREATE EXTENSION makes it,
-- so the dump leaves it out (a change to it is therefore not dumped).
INSERT INTO recio_migrate.retention_policies (relation, time_column, keep)
VALUES ('recio_migrate.retention_log', 'started_at', interval '90 days');
SELECT pg_catalog.pg_extension_config_dump('recio_migrate.retention_policies',
  $$WHERE relation <> 'recio_migrate.retention_log'::pg_catalog.regclass$$);
SELECT pg_catalog.pg_extension_config_dump('recio_migrate.retention_pins', '');
SELECT pg_catalog.pg_extension_config_dump('recio_migrate.retention_log', '');
SELECT pg_catalog.pg_extension_config_dump('recio_migrate.retention_log_id_seq', '');

-- Helpers -----------------------------------------------------------------

-- No SET clause on purpose: it sets the caller's transaction-local settings
-- (a SET clause would undo them when it returns), so every name is qualified.
CREATE FUNCTION recio_migrate.retention_settings(lock_timeout interval DEFAULT NULL)
RETURNS void
LANGUAGE sql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
AS $$
  SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true),
         pg_catalog.set_config('TimeZone', 'UTC', true),
         pg_catalog.set_config('DateStyle', 'ISO, YMD', true),
         pg_catalog.set_config('IntervalStyle', 'postgres', true),
         pg_catalog.set_config('extra_float_digits', '3', true),
         pg_catalog.set_config('bytea_output', 'hex', true),
         pg_catalog.set_config('lock_timeout',
           COALESCE(pg_catalog.ceil(pg_catalog.date_part('epoch', lock_timeout) * 1000)::bigint::text || 'ms',
                               pg_catalog.current_setting('lock_timeout')), true)
$$;
COMMENT ON FUNCTION recio_migrate.retention_settings(interval)
IS 'sets, for the current transaction, the search path and the output settings that make pin keys canonical text (TimeZone UTC, ISO dates, full float precision), and the lock_timeout when given';

CREATE FUNCTION recio_migrate.retention_lock_key(relation regclass)
RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$ SELECT (x'52455400'::bigint << 32) + relation::oid::bigint $$;
COMMENT ON FUNCTION recio_migrate.retention_lock_key(regclass)
IS 'advisory lock key of a relation''s pins and prune batches (relation 0: the run_retention() lock)';

CREATE FUNCTION recio_migrate.retention_pk(relation regclass,
  OUT key_expr text, OUT key_match text, OUT key_canon text, OUT key_columns integer)
RETURNS record
LANGUAGE sql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT 'ARRAY[' || string_agg(format('t.%I::text', a.attname), ', ' ORDER BY k.ord) || ']',
         string_agg(format('t.%I = ($1[%s])::%s', a.attname, k.ord, format_type(a.atttypid, a.atttypmod)),
                    ' AND ' ORDER BY k.ord),
         'ARRAY[' || string_agg(format('(($1[%s])::%s)::text', k.ord, format_type(a.atttypid, a.atttypmod)),
                                ', ' ORDER BY k.ord) || ']',
         count(*)::integer
  FROM pg_index i
  CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
  WHERE i.indrelid = relation AND i.indisprimary
$$;
COMMENT ON FUNCTION recio_migrate.retention_pk(regclass)
IS 'SQL fragments over a relation''s primary key (alias t, key array $1): the row''s key text, the match of a key, the canonical form of a key; key_columns is 0 when there is no primary key';

CREATE FUNCTION recio_migrate.retention_time_kind(relation regclass, time_column name, time_unit text)
RETURNS text
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  kind "char";
  typ regtype;
BEGIN
  SELECT c.relkind INTO kind FROM pg_class c WHERE c.oid = relation;
  IF kind IS NULL OR kind NOT IN ('r', 'p') THEN
    RAISE EXCEPTION 'relation "%" is not a table', relation
      USING ERRCODE = '42809', DETAIL = 'Retention applies to ordinary and partitioned tables.';
  END IF;
  IF time_column IS NULL THEN
    RAISE EXCEPTION 'a time column is required for relation "%"', relation USING ERRCODE = '22004';
  END IF;
  SELECT CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END INTO typ
  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
  WHERE a.attrelid = relation AND a.attname = time_column AND a.attnum > 0 AND NOT a.attisdropped;
  IF typ IS NULL THEN
    RAISE EXCEPTION 'column "%" of relation "%" does not exist', time_column, relation USING ERRCODE = '42703';
  END IF;
  IF typ IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
    IF time_unit IS NOT NULL THEN
      RAISE EXCEPTION 'time_unit "%" applies only to an integer time column', time_unit
        USING ERRCODE = '22023', DETAIL = format('Column "%s" is of type %s.', time_column, typ);
    END IF;
    RETURN CASE typ WHEN 'timestamptz'::regtype THEN 'timestamptz' WHEN 'timestamp'::regtype THEN 'timestamp' ELSE 'date' END;
  END IF;
  IF typ IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) THEN
    IF time_unit IS NULL OR time_unit NOT IN ('s', 'ms', 'us') THEN
      RAISE EXCEPTION 'integer time column "%" needs time_unit ''s'', ''ms'' or ''us'', not %', time_column,
        coalesce(quote_literal(time_unit), 'NULL')
        USING ERRCODE = '22023', HINT = 'The column holds seconds, milliseconds or microseconds since 1970-01-01 00:00 UTC.';
    END IF;
    RETURN 'epoch';
  END IF;
  RAISE EXCEPTION 'column "%" of relation "%" is of type %, not a time', time_column, relation, typ
    USING ERRCODE = '42804',
          HINT = 'Use a date, timestamp or timestamptz column, or an integer epoch column with time_unit.';
END
$$;
COMMENT ON FUNCTION recio_migrate.retention_time_kind(regclass, name, text)
IS 'checks that relation is a table whose time_column is a date, timestamp, timestamptz or an integer epoch with a unit; returns timestamptz, timestamp, date or epoch';

CREATE FUNCTION recio_migrate.retention_archive_columns(relation regclass, archive_relation regclass)
RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  missing text;
  cols text;
BEGIN
  IF relation = archive_relation THEN
    RAISE EXCEPTION 'relation "%" cannot be its own archive', relation USING ERRCODE = '22023';
  END IF;
  IF (SELECT c.relkind FROM pg_class c WHERE c.oid = archive_relation) NOT IN ('r', 'p') THEN
    RAISE EXCEPTION 'archive relation "%" is not a table', archive_relation USING ERRCODE = '42809';
  END IF;
  SELECT string_agg(format('%I %s', s.attname, format_type(s.atttypid, s.atttypmod)), ', ' ORDER BY s.attnum)
  INTO missing
  FROM pg_attribute s
  WHERE s.attrelid = relation AND s.attnum > 0 AND NOT s.attisdropped AND s.attgenerated = ''
    AND NOT EXISTS (SELECT FROM pg_attribute d
                    WHERE d.attrelid = archive_relation AND d.attname = s.attname AND d.attnum > 0
                      AND NOT d.attisdropped AND d.attgenerated = ''
                      AND d.atttypid = s.atttypid AND d.atttypmod = s.atttypmod);
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'archive relation "%" does not match relation "%"', archive_relation, relation
      USING ERRCODE = '42804', DETAIL = format('Columns missing or of another type in the archive: %s.', missing);
  END IF;
  SELECT string_agg(quote_ident(s.attname), ', ' ORDER BY s.attnum) INTO cols
  FROM pg_attribute s
  WHERE s.attrelid = relation AND s.attnum > 0 AND NOT s.attisdropped AND s.attgenerated = '';
  RETURN cols;
END
$$;
COMMENT ON FUNCTION recio_migrate.retention_archive_columns(regclass, regclass)
IS 'checks that archive_relation has every stored column of relation with the same type; returns the quoted column list to move';

-- Policies ----------------------------------------------------------------

CREATE FUNCTION recio_migrate.set_retention(
  relation regclass, time_column name, keep interval, batch_rows integer DEFAULT 10000,
  archive_relation regclass DEFAULT NULL, time_unit text DEFAULT NULL, partition_action text DEFAULT 'drop',
  lock_timeout interval DEFAULT interval '100 milliseconds', enabled boolean DEFAULT true)
RETURNS recio_migrate.retention_policies
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  result recio_migrate.retention_policies;
BEGIN
  IF relation IS NULL THEN
    RAISE EXCEPTION 'relation must not be NULL' USING ERRCODE = '22004';
  END IF;
  PERFORM recio_migrate.retention_time_kind(relation, time_column, time_unit);
  IF keep IS NULL OR keep <= interval '0' THEN
    RAISE EXCEPTION 'keep must be a positive interval, not %', coalesce(keep::text, 'NULL') USING ERRCODE = '22023';
  END IF;
  IF batch_rows IS NULL OR batch_rows < 1 THEN
    RAISE EXCEPTION 'batch_rows must be a positive number, not %', coalesce(batch_rows::text, 'NULL') USING ERRCODE = '22023';
  END IF;
  IF partition_action IS NULL OR partition_action NOT IN ('drop', 'detach') THEN
    RAISE EXCEPTION 'partition_action must be ''drop'' or ''detach'', not %', coalesce(quote_literal(partition_action), 'NULL')
      USING ERRCODE = '22023';
  END IF;
  IF lock_timeout IS NULL OR lock_timeout <= interval '0' OR lock_timeout > interval '1 minute' THEN
    RAISE EXCEPTION 'lock_timeout must lie between 0 and 1 minute, not %', coalesce(lock_timeout::text, 'NULL')
      USING ERRCODE = '22023';
  END IF;
  IF archive_relation IS NOT NULL THEN
    PERFORM recio_migrate.retention_archive_columns(relation, archive_relation);
  END IF;
  INSERT INTO recio_migrate.retention_policies AS p
    (relation, time_column, keep, batch_rows, archive_relation, time_unit, partition_action, lock_timeout, enabled)
  VALUES (set_retention.relation, set_retention.time_column, set_retention.keep, set_retention.batch_rows,
          set_retention.archive_relation, set_retention.time_unit, set_retention.partition_action,
          set_retention.lock_timeout, coalesce(set_retention.enabled, true))
  ON CONFLICT ON CONSTRAINT retention_policies_pkey DO UPDATE
    SET time_column = excluded.time_column, keep = excluded.keep, batch_rows = excluded.batch_rows,
        archive_relation = excluded.archive_relation, time_unit = excluded.time_unit,
        partition_action = excluded.partition_action, lock_timeout = excluded.lock_timeout,
        enabled = excluded.enabled, updated_at = now(), updated_by = CURRENT_USER
  RETURNING p.* INTO result;
  RETURN result;
END
$$;
COMMENT ON FUNCTION recio_migrate.set_retention(regclass, name, interval, integer, regclass, text, text, interval, boolean)
IS 'creates or replaces the retention policy of a table: rows whose time_column is older than now() - keep go (moved into archive_relation when given), batch_rows at a time; checks the column type, the unit of an integer epoch column and the archive''s columns';

CREATE FUNCTION recio_migrate.drop_retention(relation regclass)
RETURNS boolean
LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS $$
  WITH d AS (DELETE FROM recio_migrate.retention_policies p WHERE p.relation = $1 RETURNING 1)
  SELECT count(*) > 0 FROM d
$$;
COMMENT ON FUNCTION recio_migrate.drop_retention(regclass)
IS 'removes the retention policy of a table (its pins stay); true when there was one';

-- Pins ----------------------------------------------------------------------

-- The primary key fragments of a relation that has a primary key, after
-- checking the length of key (when given), or an error.
CREATE FUNCTION recio_migrate.retention_pin_key(relation regclass, key text[])
RETURNS record
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  pk record;
BEGIN
  IF relation IS NULL THEN
    RAISE EXCEPTION 'relation must not be NULL' USING ERRCODE = '22004';
  END IF;
  pk := recio_migrate.retention_pk(relation);
  IF pk.key_columns = 0 THEN
    RAISE EXCEPTION 'relation "%" has no primary key', relation
      USING ERRCODE = '55000', DETAIL = 'A pin names a row by its primary key values.';
  END IF;
  IF key IS NOT NULL AND (cardinality(key) <> pk.key_columns OR array_ndims(key) <> 1) THEN
    RAISE EXCEPTION 'key % has % values, the primary key of "%" has % columns', key, cardinality(key), relation, pk.key_columns
      USING ERRCODE = '22023';
  END IF;
  -- A prune batch holds this lock exclusively from before its snapshot to its
  -- commit: a pin is either seen by the batch or made after it (the lock is
  -- held to the end of the caller's transaction).
  PERFORM pg_advisory_xact_lock_shared(recio_migrate.retention_lock_key(relation));
  RETURN pk;
END
$$;
COMMENT ON FUNCTION recio_migrate.retention_pin_key(regclass, text[])
IS 'the fragments of retention_pk() for a relation, after checking that it has a primary key and that key, when given, has one value per key column; takes the relation''s pin lock shared';

CREATE FUNCTION recio_migrate.pin(relation regclass, key text[], note text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  pk record;
  canon text[];
  found_row boolean;
  added integer;
BEGIN
  IF key IS NULL THEN
    RAISE EXCEPTION 'key must not be NULL' USING ERRCODE = '22004';
  END IF;
  pk := recio_migrate.retention_pin_key(relation, key);
  PERFORM recio_migrate.retention_settings();
  EXECUTE format('SELECT %s, EXISTS (SELECT FROM %s t WHERE %s)', pk.key_canon, relation, pk.key_match)
    INTO canon, found_row USING key;
  IF NOT found_row THEN
    RAISE EXCEPTION 'relation "%" has no row with key %', relation, canon USING ERRCODE = 'P0002';
  END IF;
  INSERT INTO recio_migrate.retention_pins (relation, key, note)
  VALUES (pin.relation, canon, pin.note)
  ON CONFLICT ON CONSTRAINT retention_pins_pkey DO NOTHING;
  GET DIAGNOSTICS added = ROW_COUNT;
  RETURN added > 0;
END
$$;
COMMENT ON FUNCTION recio_migrate.pin(regclass, text[], text)
IS 'pins the row of relation whose primary key values are key (text, in key column order): it survives every prune; false when it was pinned already';

CREATE FUNCTION recio_migrate.pin_where(relation regclass, condition text, note text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  pk record;
  added bigint;
BEGIN
  IF condition IS NULL THEN
    RAISE EXCEPTION 'condition must not be NULL' USING ERRCODE = '22004';
  END IF;
  pk := recio_migrate.retention_pin_key(relation, NULL);
  PERFORM recio_migrate.retention_settings();
  EXECUTE format('INSERT INTO recio_migrate.retention_pins (relation, key, note) SELECT $1, %s, $2 FROM %s t WHERE %s '
                 'ON CONFLICT ON CONSTRAINT retention_pins_pkey DO NOTHING', pk.key_expr, relation, condition)
    USING relation, note;
  GET DIAGNOSTICS added = ROW_COUNT;
  RETURN added;
END
$$;
COMMENT ON FUNCTION recio_migrate.pin_where(regclass, text, text)
IS 'pins every row of relation (alias t) that satisfies condition, an SQL expression run with the caller''s privileges and search_path pg_catalog; returns how many pins were added';

CREATE FUNCTION recio_migrate.unpin(relation regclass, key text[])
RETURNS boolean
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  pk record;
  canon text[];
  removed integer;
BEGIN
  IF key IS NULL THEN
    RAISE EXCEPTION 'key must not be NULL' USING ERRCODE = '22004';
  END IF;
  pk := recio_migrate.retention_pin_key(relation, key);
  PERFORM recio_migrate.retention_settings();
  EXECUTE format('SELECT %s', pk.key_canon) INTO canon USING key;
  DELETE FROM recio_migrate.retention_pins p WHERE p.relation = unpin.relation AND p.key = canon;
  GET DIAGNOSTICS removed = ROW_COUNT;
  RETURN removed > 0;
END
$$;
COMMENT ON FUNCTION recio_migrate.unpin(regclass, text[])
IS 'removes the pin of the row of relation whose primary key values are key; false when there was none';

CREATE FUNCTION recio_migrate.pins(relation regclass)
RETURNS TABLE (key text[], pinned_at timestamptz, pinned_by name, note text)
LANGUAGE sql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT p.key, p.pinned_at, p.pinned_by, p.note FROM recio_migrate.retention_pins p
  WHERE p.relation = $1 ORDER BY p.key
$$;
COMMENT ON FUNCTION recio_migrate.pins(regclass)
IS 'the pinned rows of a relation: their primary key values as canonical text, who pinned them, when and why';

-- Pruning -------------------------------------------------------------------

/*
 * prune_run: the work behind prune() and run_retention().  It records the
 * prune in retention_log (log_id) and never raises for a failure inside the
 * work: the failure is recorded and the caller decides (prune() raises it,
 * run_retention() goes on with the next policy).  A procedure cannot catch an
 * error around a COMMIT, so each batch is its own block with a handler and the
 * COMMIT comes after it.
 *
 * Work items: a plain table is one item, processed in ranges of heap blocks
 * (a TID range scan) so every block is visited once however many rows are
 * pinned or tied on the time column.  A partitioned table whose key is the
 * time column gives one 'drop' item per direct partition lying wholly before
 * the cutoff (its upper bound <= cutoff), and one row item per leaf of the
 * others.  A partition holding a pinned row, or any partition when rows are
 * archived, goes row by row instead.
 */
CREATE PROCEDURE recio_migrate.prune_run(
  relation regclass, time_column name, keep interval, batch_rows integer, dry_run boolean,
  as_of timestamptz, time_budget interval, INOUT log_id bigint)
LANGUAGE plpgsql
AS $$
DECLARE
  pol recio_migrate.retention_policies;
  v_col name;
  v_keep interval;
  v_batch integer;
  v_unit text;
  v_archive regclass;
  v_action text;
  v_lock_timeout interval;
  v_kind text;
  v_cut timestamptz;
  v_cut_ts timestamp;
  v_cut_num numeric;
  v_param text;
  v_deadline timestamptz;
  v_lock_key bigint;
  v_pk record;
  v_archive_cols text;
  v_by_time_range boolean := false;
  v_targets regclass[] := '{}';
  v_modes text[] := '{}';
  v_leaves regclass[];
  v_pinned_inside boolean;
  v_sql_format text;
  v_bound text;
  v_before boolean;
  v_child record;
  v_i integer := 0;
  v_target regclass;
  v_mode text;
  v_pred text;
  v_pins_pred text;
  v_stmt text;
  v_stmt_pins text;
  v_nblocks bigint;
  v_blk bigint;
  v_step bigint;
  v_density float8;
  v_done boolean;
  v_ok boolean;
  v_has_pins boolean;
  v_many_pins boolean;
  v_n bigint;
  v_attempt integer := 0;
  v_count bigint;
  v_status text := 'succeeded';
  v_error text;
  v_sqlstate text;
  c_max_attempts constant integer := 10;
BEGIN
  -- The cutoff, once, in the caller's TimeZone (interval arithmetic over days
  -- and months follows it; a timestamp column holds the caller's local time).
  SELECT * INTO pol FROM recio_migrate.retention_policies p WHERE p.relation = prune_run.relation;
  v_col := coalesce(time_column, pol.time_column);
  v_keep := coalesce(keep, pol.keep);
  v_batch := coalesce(batch_rows, pol.batch_rows, 10000);
  v_unit := pol.time_unit;
  v_archive := pol.archive_relation;
  v_action := coalesce(pol.partition_action, 'drop');
  v_lock_timeout := coalesce(pol.lock_timeout, interval '100 milliseconds');
  IF relation IS NULL THEN
    RAISE EXCEPTION 'relation must not be NULL' USING ERRCODE = '22004';
  END IF;
  IF v_keep IS NULL OR v_col IS NULL THEN
    RAISE EXCEPTION 'relation "%" has no retention policy', relation
      USING ERRCODE = '22023', HINT = 'Give time_column and keep, or create a policy with recio_migrate.set_retention().';
  END IF;
  IF v_keep <= interval '0' THEN
    RAISE EXCEPTION 'keep must be a positive interval, not %', v_keep USING ERRCODE = '22023';
  END IF;
  IF v_batch < 1 THEN
    RAISE EXCEPTION 'batch_rows must be a positive number, not %', v_batch USING ERRCODE = '22023';
  END IF;
  IF v_col IS DISTINCT FROM pol.time_column THEN
    v_unit := NULL;
  END IF;
  v_kind := recio_migrate.retention_time_kind(relation, v_col, v_unit);
  v_cut := coalesce(as_of, pg_catalog.now()) - v_keep;
  v_cut_ts := v_cut AT TIME ZONE pg_catalog.current_setting('TimeZone');
  v_cut_num := pg_catalog.ceil(pg_catalog.date_part('epoch', v_cut)::numeric
                               * CASE v_unit WHEN 'ms' THEN 1000 WHEN 'us' THEN 1000000 ELSE 1 END);
  IF time_budget IS NOT NULL THEN
    v_deadline := pg_catalog.clock_timestamp() + time_budget;
  END IF;
  PERFORM recio_migrate.retention_settings();
  IF v_archive IS NOT NULL THEN
    v_archive_cols := recio_migrate.retention_archive_columns(relation, v_archive);
  END IF;
  v_lock_key := recio_migrate.retention_lock_key(relation);
  -- More pins than rows in a batch: a hash anti-join would hash every pin in
  -- every batch, so the batches probe the pins' primary key row by row instead.
  v_many_pins := (SELECT count(*) > v_batch FROM recio_migrate.retention_pins p WHERE p.relation = prune_run.relation);
  v_pk := recio_migrate.retention_pk(relation);
  -- Pins name rows by their primary key values.  Pins made under a key with
  -- another number of columns match no row and would protect nothing:
  -- refuse rather than delete pinned rows.
  IF v_pk.key_columns > 0 AND EXISTS (SELECT FROM recio_migrate.retention_pins p
                                      WHERE p.relation = prune_run.relation
                                        AND pg_catalog.cardinality(p.key) <> v_pk.key_columns) THEN
    RAISE EXCEPTION 'relation "%" has pins made under another primary key', relation
      USING ERRCODE = '55000',
            DETAIL = pg_catalog.format('Its primary key has %s columns; some pins hold another number of values.',
                                       v_pk.key_columns),
            HINT = 'Restore the primary key the pins were made with, or unpin those rows and pin them again.';
  END IF;
  -- $1 timestamptz, $2 timestamp (also for date), $3 integer epoch
  v_param := CASE v_kind WHEN 'timestamptz' THEN '$1' WHEN 'epoch' THEN '$3' ELSE '$2' END;
  v_pred := format('t.%I < %s', v_col, v_param);
  v_pins_pred := format(' AND NOT EXISTS (SELECT FROM recio_migrate.retention_pins p WHERE p.relation = $6 AND p.key = %s)',
                        coalesce(v_pk.key_expr, 'NULL'));

  -- the work items
  IF (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = relation) = 'p' THEN
    SELECT pt.partstrat = 'r' AND pt.partnatts = 1 AND pt.partattrs[0] = a.attnum INTO v_by_time_range
    FROM pg_catalog.pg_partitioned_table pt
    JOIN pg_catalog.pg_attribute a ON a.attrelid = pt.partrelid AND a.attname = v_col
    WHERE pt.partrelid = relation;
    FOR v_child IN
      SELECT c.oid::regclass AS part, pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS bound
      FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = relation ORDER BY c.oid::regclass::text
    LOOP
      v_before := false;
      v_bound := substring(v_child.bound FROM '\) TO \((.*)\)$');
      IF v_by_time_range AND v_archive IS NULL AND v_bound IS NOT NULL AND v_bound <> 'MAXVALUE' THEN
        -- the bound is the server's own rendering of a constant of the key type
        EXECUTE format('SELECT (%s)::%s <= %s', v_bound,
                       CASE v_kind WHEN 'epoch' THEN 'numeric' ELSE v_kind END, v_param)
          INTO v_before USING v_cut, v_cut_ts, v_cut_num;
      END IF;
      IF v_before THEN
        v_targets := v_targets || v_child.part;
        v_modes := v_modes || 'drop'::text;
      ELSE
        v_leaves := ARRAY(SELECT l.relid FROM pg_catalog.pg_partition_tree(v_child.part) l WHERE l.isleaf);
        v_targets := v_targets || v_leaves;
        v_modes := v_modes || array_fill('rows'::text, ARRAY[cardinality(v_leaves)]);
      END IF;
    END LOOP;
  ELSE
    v_targets := ARRAY[relation];
    v_modes := ARRAY['rows'];
  END IF;

  IF dry_run THEN
    EXECUTE format('SELECT count(*) FROM %s t WHERE %s%s', relation, v_pred,
                   CASE WHEN v_pk.key_columns > 0 THEN v_pins_pred ELSE '' END)
      INTO v_count USING v_cut, v_cut_ts, v_cut_num, NULL::tid, NULL::tid, relation;
    RAISE NOTICE 'dry run: % rows of "%" lie before the cutoff % and are not pinned; % partitions lie wholly before it',
      v_count, relation, v_cut, (SELECT count(*) FROM unnest(v_modes) m WHERE m = 'drop');
    log_id := NULL;
    RETURN;
  END IF;

  -- a log row left 'running' by a session that is gone
  UPDATE recio_migrate.retention_log l SET status = 'aborted', finished_at = pg_catalog.clock_timestamp(),
         error = 'the session running it ended'
  WHERE l.status = 'running' AND NOT EXISTS (SELECT FROM pg_catalog.pg_stat_activity a WHERE a.pid = l.pid);
  INSERT INTO recio_migrate.retention_log (relation, relation_name, cutoff)
  VALUES (relation, relation::text, v_cut) RETURNING id INTO log_id;
  COMMIT;

  <<items>>
  WHILE v_i < cardinality(v_targets) LOOP
    v_i := v_i + 1;
    v_target := v_targets[v_i];
    v_mode := v_modes[v_i];
    -- every COMMIT ends the settings: names are rendered qualified again
    PERFORM recio_migrate.retention_settings();
    IF v_mode = 'rows' THEN
      -- 1 target, 2 predicate, 3 pins predicate, 4 archived columns, 5 archive;
      -- the rows are moved by the statement that deletes them
      v_sql_format := CASE WHEN v_archive IS NULL
        THEN 'DELETE FROM ONLY %1$s t WHERE t.ctid >= $4 AND t.ctid < $5 AND %2$s%3$s'
        ELSE 'WITH d AS (DELETE FROM ONLY %1$s t WHERE t.ctid >= $4 AND t.ctid < $5 AND %2$s%3$s RETURNING %4$s) '
             'INSERT INTO %5$s (%4$s) SELECT %4$s FROM d' END;
      v_stmt := format(v_sql_format, v_target, v_pred, '', v_archive_cols, v_archive);
      v_stmt_pins := format(v_sql_format, v_target, v_pred, v_pins_pred, v_archive_cols, v_archive);
      -- A range of blocks holds about batch_rows rows (live rows per block from
      -- the statistics, or counted in the first blocks of a table never
      -- analyzed), so a batch never locks many more than batch_rows rows.
      SELECT pg_catalog.pg_relation_size(v_target) / pg_catalog.current_setting('block_size')::bigint,
             CASE WHEN c.relpages > 0 AND c.reltuples > 0 THEN c.reltuples / c.relpages END
        INTO v_nblocks, v_density
      FROM pg_catalog.pg_class c WHERE c.oid = v_target;
      IF v_density IS NULL AND v_nblocks > 0 THEN
        EXECUTE format('SELECT count(*) / %s::float8 FROM ONLY %s t WHERE t.ctid < $1', least(v_nblocks, 32), v_target)
          INTO v_density USING format('(%s,0)', least(v_nblocks, 32))::tid;
      END IF;
      v_step := greatest(1, pg_catalog.ceil(v_batch / greatest(v_density, 1)))::bigint;
      v_blk := 0;
    END IF;
    v_done := false;
    WHILE NOT v_done LOOP
      IF v_deadline IS NOT NULL AND pg_catalog.clock_timestamp() >= v_deadline THEN
        v_status := 'stopped';
        v_error := 'time budget exhausted';
        EXIT items;
      END IF;
      IF v_mode = 'rows' AND v_blk >= v_nblocks THEN
        EXIT;
      END IF;
      v_ok := false;
      BEGIN
        PERFORM recio_migrate.retention_settings(v_lock_timeout);
        -- taken before the statement's snapshot: no pin can be made between
        -- the snapshot and the commit (pin() takes it shared)
        PERFORM pg_catalog.pg_advisory_xact_lock(v_lock_key);
        v_has_pins := EXISTS (SELECT FROM recio_migrate.retention_pins p WHERE p.relation = prune_run.relation);
        IF v_has_pins AND v_many_pins THEN
          PERFORM pg_catalog.set_config('enable_hashjoin', 'off', true), pg_catalog.set_config('enable_mergejoin', 'off', true);
        END IF;
        IF v_has_pins AND v_pk.key_columns = 0 THEN
          RAISE EXCEPTION 'relation "%" has pinned rows but no primary key', relation
            USING ERRCODE = '55000', HINT = 'Restore the primary key the pins were made with, or remove the pins.';
        END IF;
        IF v_mode = 'drop' THEN
          v_pinned_inside := false;
          IF v_has_pins THEN
            EXECUTE format('SELECT EXISTS (SELECT FROM %s t WHERE EXISTS (SELECT FROM recio_migrate.retention_pins p '
                           'WHERE p.relation = $1 AND p.key = %s))', v_target, v_pk.key_expr)
              INTO v_pinned_inside USING relation;
          END IF;
          IF NOT v_pinned_inside THEN
            EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', relation, v_target);
            IF v_action = 'drop' THEN
              EXECUTE format('DROP TABLE %s', v_target);
            END IF;
            UPDATE recio_migrate.retention_log l
            SET partitions_dropped = l.partitions_dropped + (v_action = 'drop')::integer,
                partitions_detached = l.partitions_detached + (v_action = 'detach')::integer
            WHERE l.id = log_id;
          END IF;
        ELSE
          EXECUTE CASE WHEN v_has_pins THEN v_stmt_pins ELSE v_stmt END
            USING v_cut, v_cut_ts, v_cut_num, format('(%s,0)', v_blk)::tid, format('(%s,0)', v_blk + v_step)::tid, relation;
          GET DIAGNOSTICS v_n = ROW_COUNT;
          UPDATE recio_migrate.retention_log l
          SET rows_deleted = l.rows_deleted + v_n,
              rows_archived = l.rows_archived + CASE WHEN v_archive IS NULL THEN 0 ELSE v_n END,
              batches = l.batches + 1
          WHERE l.id = log_id;
        END IF;
        v_ok := true;
      EXCEPTION
        WHEN lock_not_available THEN
          v_ok := false;
        WHEN OTHERS THEN
          GET STACKED DIAGNOSTICS v_error = MESSAGE_TEXT, v_sqlstate = RETURNED_SQLSTATE;
          v_status := 'failed';
          EXIT items;
      END;
      IF v_ok THEN
        COMMIT;
        v_attempt := 0;
        IF v_mode = 'drop' THEN
          v_done := true;
          IF v_pinned_inside THEN
            -- a pinned row lives in it: row by row over its leaves instead
            v_leaves := ARRAY(SELECT l.relid FROM pg_catalog.pg_partition_tree(v_target) l WHERE l.isleaf);
            v_targets := v_targets || v_leaves;
            v_modes := v_modes || array_fill('rows'::text, ARRAY[cardinality(v_leaves)]);
          END IF;
        ELSE
          v_blk := v_blk + v_step;
        END IF;
      ELSE
        v_attempt := v_attempt + 1;
        UPDATE recio_migrate.retention_log l SET lock_retries = l.lock_retries + 1 WHERE l.id = log_id;
        COMMIT;
        IF v_attempt >= c_max_attempts THEN
          v_status := 'failed';
          v_sqlstate := '55P03';
          v_error := format('could not lock "%s" within lock_timeout %s in %s attempts', v_target, v_lock_timeout, v_attempt);
          EXIT items;
        END IF;
        PERFORM pg_catalog.pg_sleep(least(2.0, 0.05 * 2 ^ v_attempt));
      END IF;
    END LOOP;
  END LOOP;

  UPDATE recio_migrate.retention_log l
  SET status = v_status, finished_at = pg_catalog.clock_timestamp(), error = v_error, error_sqlstate = v_sqlstate
  WHERE l.id = log_id;
  COMMIT;
END
$$;
COMMENT ON PROCEDURE recio_migrate.prune_run(regclass, name, interval, integer, boolean, timestamptz, interval, bigint)
IS 'the work of prune(): deletes (or archives) the unpinned rows before the cutoff in committed batches and drops partitions wholly before it, records the prune in retention_log (log_id) and leaves a failure there for the caller instead of raising it';

CREATE PROCEDURE recio_migrate.prune(
  relation regclass, time_column name DEFAULT NULL, keep interval DEFAULT NULL, batch_rows integer DEFAULT NULL,
  dry_run boolean DEFAULT false, as_of timestamptz DEFAULT NULL, time_budget interval DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
  log_id bigint;
  entry recio_migrate.retention_log;
BEGIN
  CALL recio_migrate.prune_run(relation, time_column, keep, batch_rows, coalesce(dry_run, false), as_of, time_budget, log_id);
  SELECT * INTO entry FROM recio_migrate.retention_log l WHERE l.id = log_id;
  IF entry.status = 'failed' THEN
    RAISE EXCEPTION '%', entry.error USING ERRCODE = entry.error_sqlstate,
      DETAIL = format('retention_log id %s: %s rows deleted in %s batches before the failure.', entry.id, entry.rows_deleted, entry.batches);
  ELSIF entry.status IS NOT NULL THEN
    RAISE NOTICE '%: % rows deleted (% archived), % partitions dropped, % detached, in % batches; %',
      entry.relation_name, entry.rows_deleted, entry.rows_archived, entry.partitions_dropped, entry.partitions_detached,
      entry.batches, coalesce(entry.error, entry.status);
  END IF;
END
$$;
COMMENT ON PROCEDURE recio_migrate.prune(regclass, name, interval, integer, boolean, timestamptz, interval)
IS 'deletes the unpinned rows of relation older than (as_of or now()) - keep, batch_rows per committed batch, moving them into the policy''s archive when it has one; drops partitions wholly before the cutoff; arguments left NULL come from the relation''s policy; dry_run only counts';

CREATE PROCEDURE recio_migrate.run_retention(time_budget interval DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
  run_key constant bigint := recio_migrate.retention_lock_key(0);
  pol record;
  log_id bigint;
  entry recio_migrate.retention_log;
  deadline timestamptz := pg_catalog.clock_timestamp() + time_budget;
  holder integer;
  policies integer := 0;
  failures text[] := '{}';
  first_sqlstate text;
  v_error text;
  v_sqlstate text;
BEGIN
  -- A session-level lock: it must outlive the batches' commits.  A lock still
  -- held by this very session comes from an earlier call that was cancelled.
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_locks l
                 WHERE l.locktype = 'advisory' AND l.pid = pg_catalog.pg_backend_pid() AND l.granted
                   AND l.objsubid = 1 AND l.classid::bigint = run_key >> 32 AND l.objid::bigint = run_key & 4294967295)
     AND NOT pg_catalog.pg_try_advisory_lock(run_key) THEN
    SELECT l.pid INTO holder FROM pg_catalog.pg_locks l
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
      AND l.classid::bigint = run_key >> 32 AND l.objid::bigint = run_key & 4294967295;
    RAISE NOTICE 'run_retention() is already running (pid %): this run exits', holder;
    RETURN;
  END IF;
  PERFORM recio_migrate.retention_settings();
  FOR pol IN
    SELECT p.relation, p.relation::text AS name, p.time_column, p.time_unit, p.archive_relation,
           EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid = p.relation) AS present
    FROM recio_migrate.retention_policies p WHERE p.enabled
    -- the log's own policy last, so it never removes this run's entries
    ORDER BY p.relation = 'recio_migrate.retention_log'::regclass, p.relation::text
  LOOP
    policies := policies + 1;
    v_error := NULL;
    IF NOT pol.present THEN
      v_error := 'the relation no longer exists';
    ELSIF deadline IS NOT NULL AND pg_catalog.clock_timestamp() >= deadline THEN
      v_error := 'time budget exhausted';
    ELSE
      BEGIN
        PERFORM recio_migrate.retention_time_kind(pol.relation, pol.time_column, pol.time_unit);
        IF pol.archive_relation IS NOT NULL THEN
          PERFORM recio_migrate.retention_archive_columns(pol.relation, pol.archive_relation);
        END IF;
      EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_error = MESSAGE_TEXT, v_sqlstate = RETURNED_SQLSTATE;
        INSERT INTO recio_migrate.retention_log (relation, relation_name, finished_at, status, error, error_sqlstate)
        VALUES (pol.relation, pol.name, pg_catalog.clock_timestamp(), 'failed', v_error, v_sqlstate);
        COMMIT;
        failures := failures || format('%s: %s', pol.name, v_error);
        first_sqlstate := coalesce(first_sqlstate, v_sqlstate);
        CONTINUE;
      END;
    END IF;
    IF v_error IS NOT NULL THEN
      INSERT INTO recio_migrate.retention_log (relation, relation_name, finished_at, status, error)
      VALUES (CASE WHEN pol.present THEN pol.relation END, pol.name, pg_catalog.clock_timestamp(), 'skipped', v_error);
      COMMIT;
      CONTINUE;
    END IF;
    CALL recio_migrate.prune_run(pol.relation, NULL, NULL, NULL, false, NULL,
                                 CASE WHEN deadline IS NOT NULL
                                      THEN greatest(deadline - pg_catalog.clock_timestamp(), interval '0') END, log_id);
    SELECT * INTO entry FROM recio_migrate.retention_log l WHERE l.id = log_id;
    IF entry.status = 'failed' THEN
      failures := failures || format('%s: %s', pol.name, entry.error);
      first_sqlstate := coalesce(first_sqlstate, entry.error_sqlstate);
    END IF;
  END LOOP;
  PERFORM pg_catalog.pg_advisory_unlock(run_key);
  IF cardinality(failures) > 0 THEN
    RAISE EXCEPTION 'retention failed for % of % policies', cardinality(failures), policies
      USING ERRCODE = first_sqlstate, DETAIL = array_to_string(failures, E'\n'),
            HINT = 'See recio_migrate.retention_log.';
  END IF;
END
$$;
COMMENT ON PROCEDURE recio_migrate.run_retention(interval)
IS 'prunes every enabled policy''s relation (the log''s own last), each recorded in retention_log; exits at once with a NOTICE while another run is going; stops between batches when time_budget is spent; raises at the end when a policy failed';

-- pg_cron is optional: these look it up at call time and reach it only
-- through dynamic SQL, so CREATE EXTENSION recio_migrate never needs it.
CREATE FUNCTION recio_migrate.retention_require_pg_cron()
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  cron_db text := current_setting('cron.database_name', true);
BEGIN
  IF EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
    RETURN;
  END IF;
  -- 55000: the request is fine, the server is not set up for it yet
  IF cron_db IS NOT NULL AND cron_db <> current_database() THEN
    RAISE EXCEPTION 'pg_cron runs in database "%", not in "%"', cron_db, current_database()
      USING ERRCODE = '55000',
            HINT = format('In database %s run: SELECT cron.schedule_in_database(%L, %L, %L, %L);', quote_ident(cron_db),
                          'recio_migrate.run_retention', '15 3 * * *', 'CALL recio_migrate.run_retention()', current_database());
  END IF;
  RAISE EXCEPTION 'pg_cron is not installed in database "%"', current_database()
    USING ERRCODE = '55000',
          HINT = format('Install the postgresql-%s-cron package, set shared_preload_libraries = ''pg_cron'' and '
                        'cron.database_name = %L in postgresql.conf, restart the server, then run CREATE EXTENSION pg_cron.',
                        current_setting('server_version_num')::integer / 10000, current_database());
END
$$;
COMMENT ON FUNCTION recio_migrate.retention_require_pg_cron()
IS 'raises SQLSTATE 55000 with the steps to install pg_cron unless the pg_cron extension is installed in this database';

CREATE FUNCTION recio_migrate.schedule_retention(cron_expression text DEFAULT '15 3 * * *', time_budget interval DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  job bigint;
BEGIN
  IF cron_expression IS NULL THEN
    RAISE EXCEPTION 'cron_expression must not be NULL' USING ERRCODE = '22004';
  END IF;
  PERFORM recio_migrate.retention_require_pg_cron();
  EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
    USING 'recio_migrate.run_retention', cron_expression,
          CASE WHEN time_budget IS NULL THEN 'CALL recio_migrate.run_retention()'
               ELSE format('CALL recio_migrate.run_retention(%L)', time_budget) END;
  RETURN job;
END
$$;
COMMENT ON FUNCTION recio_migrate.schedule_retention(text, interval)
IS 'schedules CALL recio_migrate.run_retention() with pg_cron as the job recio_migrate.run_retention (replacing an earlier schedule); returns the pg_cron job id; raises 55000 with install steps when pg_cron is not installed';

CREATE FUNCTION recio_migrate.unschedule_retention()
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  done boolean;
BEGIN
  PERFORM recio_migrate.retention_require_pg_cron();
  EXECUTE 'SELECT EXISTS (SELECT FROM cron.job WHERE jobname = $1 AND username = current_user)' INTO done
    USING 'recio_migrate.run_retention';
  IF done THEN
    EXECUTE 'SELECT cron.unschedule($1)' INTO done USING 'recio_migrate.run_retention';
  END IF;
  RETURN done;
END
$$;
COMMENT ON FUNCTION recio_migrate.unschedule_retention()
IS 'removes the pg_cron job recio_migrate.run_retention; false when there was none';

-- Destructive or settings-changing objects are for the DBA; the listing
-- stays callable (it needs SELECT on retention_pins all the same).
REVOKE ALL ON FUNCTION recio_migrate.retention_settings(interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.set_retention(regclass, name, interval, integer, regclass, text, text, interval, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.drop_retention(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.pin(regclass, text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.pin_where(regclass, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.unpin(regclass, text[]) FROM PUBLIC;
REVOKE ALL ON PROCEDURE recio_migrate.prune_run(regclass, name, interval, integer, boolean, timestamptz, interval, bigint) FROM PUBLIC;
REVOKE ALL ON PROCEDURE recio_migrate.prune(regclass, name, interval, integer, boolean, timestamptz, interval) FROM PUBLIC;
REVOKE ALL ON PROCEDURE recio_migrate.run_retention(interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.schedule_retention(text, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.unschedule_retention() FROM PUBLIC;


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
LANGUAGE sql STABLE STRICT PARALLEL RESTRICTED
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
                ELSE ceil(nrows / greatest(1, least(pg_catalog.floor((bs - 24 - bs * (100 - ff) / 100.0) / (ceil(row_bytes / 8) * 8 + 4)),
                                                    (bs - 24) / 28))) * bs
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
            WHEN kind NOT LIKE '%index' AND dead_bytes >= advice_min AND 100.0 * dead_bytes / nullif(total_bytes, 0) >= vacuum_pct
                THEN 'vacuum'
            WHEN kind NOT LIKE '%index' AND excess >= advice_min AND 100.0 * excess / nullif(total_bytes, 0) >= rewrite_pct
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
            WHEN 'not measured' THEN CASE WHEN m.status = 'size only' AND (kind NOT LIKE '%index' OR kind = 'btree index')
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

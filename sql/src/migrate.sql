/* migrate.sql: profile(), create_target(), migrate(), migrate_server(), the runs and rejects ledgers, the progress view */

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
  cols text[] := '{}'::text[];
  pk text[] := '{}'::text[];
  pk_ok boolean := true;
  stmts text[];
  comments text[] := '{}'::text[];
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

CREATE FUNCTION recio_migrate.move_rows(source regclass, target regclass, run_id bigint, on_error text,
    allow_rounding boolean, OUT rows_read bigint, OUT rows_written bigint, OUT rows_rejected bigint)
RETURNS record
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_move_rows';
COMMENT ON FUNCTION recio_migrate.move_rows(regclass, regclass, bigint, text, boolean) IS
'data path of migrate(): bulk-insert every row of a recio_sqlite foreign table into a table (call migrate() instead)';

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

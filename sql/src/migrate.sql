/* migrate.sql: profile(), create_target(), migrate(), migrate_server(), the runs and rejects ledgers, the progress view */

/*
 * Advisory locks of recio_migrate (documented in the README, "Migration runs"):
 * always the two-int4 form pg_advisory_*(class, object).  class is 0x52430000
 * ("RC") plus a purpose, object names what is locked:
 *   0x52430001 'migrate target'  the target table of migrate()      object: its pg_class OID (as int4)
 *   0x52430002 'migrate schema'  a target or foreign schema of        object: hashtext() of its name
 *                                migrate_server()                             (the schema may not exist yet)
 *   0x52430003 'run_retention'   run_retention()                      object: 0
 * A two-int4 key (objsubid 2 in pg_locks) never meets a bigint key
 * (objsubid 1), such as retention_lock_key()'s pin and batch locks
 * (classid 0x52455400): the purposes cannot collide with each other or with
 * the retention locks, and an OID of one catalog never meets one of another.
 */
CREATE FUNCTION recio_migrate.lock_class(purpose text)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN x'52430000'::integer + CASE purpose WHEN 'migrate target' THEN 1 WHEN 'migrate schema' THEN 2
                                             WHEN 'run_retention' THEN 3 END;
END $$;
COMMENT ON FUNCTION recio_migrate.lock_class(text) IS
'the first key of recio_migrate''s advisory locks pg_advisory_*(class, object) for a purpose: migrate target, migrate schema, run_retention (NULL for any other)';

CREATE FUNCTION recio_migrate.migrate_lock(purpose text, object integer, what text, nowait boolean)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  cls constant integer := recio_migrate.lock_class(purpose);
  holder integer;
  holder_run bigint;
  who text;
BEGIN
  IF cls IS NULL THEN
    RAISE EXCEPTION 'unknown advisory lock purpose "%"', purpose USING ERRCODE = '22023';
  END IF;
  IF pg_catalog.pg_try_advisory_xact_lock(cls, object) THEN
    RETURN;
  END IF;
  SELECT l.pid INTO holder FROM pg_catalog.pg_locks l
  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = cls::oid AND l.objid = object::oid
    AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
  SELECT p.param6 INTO holder_run FROM pg_catalog.pg_stat_get_progress_info('COPY') p
  WHERE p.pid = holder AND p.param5 = 1001;
  who := pg_catalog.format('pid %s', coalesce(holder::text, '?'))
         || CASE WHEN holder_run IS NOT NULL THEN pg_catalog.format(', migration run %s', holder_run) ELSE '' END;
  IF nowait THEN
    RAISE EXCEPTION '% is being migrated by another session (%)', what, who USING ERRCODE = '55P03',
      HINT = 'Wait for that run to end (recio_migrate.progress shows it), or call without nowait to queue behind it.';
  END IF;
  RAISE NOTICE '% is being migrated by another session (%): waiting for it to end', what, who;
  PERFORM pg_catalog.pg_advisory_xact_lock(cls, object);
  -- this transaction's snapshot is older than the other run's commit: its counts would be stale
  IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'could not serialize access to %: another session migrated it since this transaction began', what
      USING ERRCODE = '40001', HINT = 'Retry the transaction.';
  END IF;
END $$;
COMMENT ON FUNCTION recio_migrate.migrate_lock(text, integer, text, boolean) IS
'takes recio_migrate''s advisory lock (lock_class(purpose), object) to the end of the transaction; while another session holds it, waits (NOTICE) or with nowait raises 55P03 naming that session''s pid and run';

CREATE FUNCTION recio_migrate.profile(
    source regclass,
    OUT column_name name, OUT sqlite_column text, OUT declared_type text, OUT declared_not_null boolean,
    OUT primary_key_position integer, OUT row_count bigint, OUT null_count bigint,
    OUT integer_count bigint, OUT real_count bigint, OUT text_count bigint, OUT blob_count bigint,
    OUT min_value text, OUT max_value text, OUT max_decimals integer,
    OUT all_timestamps boolean, OUT timestamp_formats text[], OUT epoch_unit text, OUT all_json boolean,
    OUT suggested_type text, OUT nonconforming bigint, OUT zone_assumed text,
    OUT observed_type text, OUT legacy_format text, OUT type_reason text)
RETURNS SETOF record
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_profile';
COMMENT ON FUNCTION recio_migrate.profile(regclass) IS
'profile every column of a recio_sqlite foreign table in one pass on the SQLite side: storage classes, NULLs, min/max, decimals, timestamp formats, epochs, JSON, and the type that takes every value unchanged and never rounds a later write (type_reason: the rule that chose it, or why the column stays text; legacy_format: the to_char pattern or epoch unit the values are written in; observed_type: numeric(p,s) from the data, advice only)';

CREATE FUNCTION recio_migrate.create_target(source regclass, target_name text, dry_run boolean DEFAULT false,
    numeric_typmod text DEFAULT 'none')
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
  why text;
  unit text;
BEGIN
  IF numeric_typmod NOT IN ('none', 'observed') THEN
    RAISE EXCEPTION 'invalid value for numeric_typmod: "%"', numeric_typmod USING ERRCODE = '22023',
      HINT = 'Expected one of: none, observed.';
  END IF;
  -- schema-qualified: this function's search_path is not the caller's
  IF cardinality(parts) <> 2 THEN
    RAISE EXCEPTION 'target name "%" must be schema-qualified', target_name USING ERRCODE = '42602',
      HINT = 'Give schema.table, for example public.trades.';
  END IF;
  qname := pg_catalog.format('%I.%I', parts[1], parts[2]);
  FOR p IN SELECT * FROM recio_migrate.profile(source) LOOP
    typ := p.suggested_type;
    why := p.type_reason;
    -- numeric(p,s) from the data only when asked for: the legacy writer may write more decimals tomorrow
    IF numeric_typmod = 'observed' AND p.observed_type IS NOT NULL AND p.observed_type <> 'numeric' THEN
      typ := p.observed_type;
      why := pg_catalog.format('%s: numeric_typmod => ''observed'', from the data (at most %s decimal(s) so far): '
                               'a later value with more decimals is rounded', typ, p.max_decimals);
    END IF;
    -- migrate() converts epochs with the column's epoch_unit option: another unit would give wrong instants
    IF typ = 'timestamptz' AND p.epoch_unit IS NOT NULL THEN
      unit := COALESCE(
        (SELECT o.option_value FROM pg_catalog.pg_attribute a, pg_catalog.pg_options_to_table(a.attfdwoptions) o
         WHERE a.attrelid = source AND a.attname = p.column_name AND o.option_name = 'epoch_unit'), 's');
      IF unit <> p.epoch_unit THEN
        typ := 'bigint';
        why := pg_catalog.format('bigint: SQLite %s holds epochs in %s but the source''s epoch_unit is %s '
                                 '(set the option epoch_unit %L on the foreign column for timestamptz)',
                                 p.sqlite_column, p.epoch_unit, unit, p.epoch_unit);
      END IF;
    END IF;
    cols := cols || pg_catalog.format('%I %s%s', p.column_name, typ,
                      CASE WHEN p.declared_not_null AND p.null_count = 0 THEN ' NOT NULL' ELSE '' END);
    IF p.primary_key_position > 0 THEN
      pk[p.primary_key_position] := pg_catalog.format('%I', p.column_name);
      pk_ok := pk_ok AND p.null_count = 0 AND p.nonconforming = 0;
    END IF;
    comments := comments || pg_catalog.format('COMMENT ON COLUMN %s.%I IS %L', qname, p.column_name, why);
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
    stmts := stmts || ARRAY(SELECT c.postgres_sql FROM recio_migrate.apply_schema(source, qname::regclass, 'create') c
                            WHERE c.action <> 'skipped');
  END IF;
  RETURN pg_catalog.array_to_string(stmts, E';\n') || ';';
END $$;
COMMENT ON FUNCTION recio_migrate.create_target(regclass, text, boolean, text) IS
'create a table typed from the profile of a recio_sqlite foreign table (primary key from SQLite, NOT NULL kept where the data has no NULLs) and return its DDL; dry_run returns the DDL only. Types take every value unchanged and never round a later write: REAL and decimal text become numeric without a typmod, which holds the decimal a Python float prints and any longer decimal written later exactly, where double precision would round past 17 digits (numeric_typmod => ''observed'' asks for numeric(p,s) from the data), text stays text unless every value comes back as written; each column''s COMMENT says which rule chose its type';

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
  error text,
  target_rows_before bigint,
  kind text NOT NULL DEFAULT 'migrate' CHECK (kind IN ('migrate', 'sync', 'export')),
  sync_mode text CHECK (sync_mode IN ('append', 'upsert', 'mirror')),
  rows_inserted bigint,
  rows_updated bigint,
  rows_deleted bigint,
  rows_only_in_target bigint
);
COMMENT ON TABLE recio_migrate.runs IS 'ledger of migration runs: one row per migrate() or sync() call (kind), written in the caller''s transaction (a run cancelled, killed or rolled back leaves no row: its start is in the server log)';
COMMENT ON COLUMN recio_migrate.runs.kind IS 'migrate: a migrate() call (rows_read, rows_written); sync: a sync() call (rows_inserted, rows_updated, rows_deleted, rows_only_in_target; rows_written stays NULL)';
COMMENT ON COLUMN recio_migrate.runs.rows_only_in_target IS 'sync: rows the target holds and the source does not (left alone by upsert, deleted by mirror); NULL for append, which does not compare';
COMMENT ON COLUMN recio_migrate.runs.target_rows_before IS 'rows the target held when the run began (a run appends to them); NULL when the caller may not read the target';
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
COMMENT ON TABLE recio_migrate.rejects IS 'values a migration run could not convert: the row was left out (reject) or the value stored as NULL (null); and rows the target refused under on_error reject or null (a constraint, a foreign key, no partition for the row): storage_class row, raw_value the error''s detail, column_name the error''s column or (row), action reject';
SELECT pg_catalog.pg_extension_config_dump('recio_migrate.rejects', '');

CREATE TABLE recio_migrate.legacy_tables (
  run_id bigint PRIMARY KEY REFERENCES recio_migrate.runs ON DELETE CASCADE,
  sqlite_table text NOT NULL,
  create_sql text,
  index_sql text[] NOT NULL,
  trigger_sql text[] NOT NULL,
  sqlite_sequence bigint,
  view_sql text[] NOT NULL
);
COMMENT ON TABLE recio_migrate.legacy_tables IS 'the legacy schema of each migrated table as its file held it when the run began: its CREATE TABLE, CREATE INDEX and CREATE TRIGGER texts, its sqlite_sequence entry and the file''s views; export_sqlite() writes them back';
SELECT pg_catalog.pg_extension_config_dump('recio_migrate.legacy_tables', '');

CREATE FUNCTION recio_migrate.sqlite_table_ddl(source regclass, OUT sqlite_table text,
    OUT create_sql text, OUT index_sql text[], OUT trigger_sql text[], OUT sqlite_sequence bigint,
    OUT view_sql text[])
RETURNS record
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_sqlite_table_ddl';
COMMENT ON FUNCTION recio_migrate.sqlite_table_ddl(regclass) IS
'the legacy schema of a recio_sqlite foreign table''s SQLite table: its name, its CREATE TABLE text, the CREATE INDEX and CREATE TRIGGER texts on it, its sqlite_sequence value (NULL without one), and the file''s CREATE VIEW texts';

CREATE FUNCTION recio_migrate.move_rows(source regclass, target regclass, run_id bigint, on_error text,
    allow_rounding boolean, OUT rows_read bigint, OUT rows_written bigint, OUT rows_rejected bigint)
RETURNS record
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_move_rows';
COMMENT ON FUNCTION recio_migrate.move_rows(regclass, regclass, bigint, text, boolean) IS
'data path of migrate(): move every row of a recio_sqlite foreign table into a table: bulk insert into a plain table, routed to the partitions of a partitioned table, through the executor''s insert path for a table with row triggers or foreign keys (call migrate() instead)';

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
'the tables, views, virtual tables and their shadow tables of a recio_sqlite server''s file (kind table, view, virtual table, shadow table); row_count (count(*) in SQLite) for tables only, NULL for the others (counting a view can run without end or fail)';

CREATE FUNCTION recio_migrate.migrate(source regclass, target regclass, on_error text DEFAULT 'stop',
    allow_rounding boolean DEFAULT false, nowait boolean DEFAULT false,
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
  rows_before bigint;
BEGIN
  IF on_error NOT IN ('stop', 'reject', 'null') THEN
    RAISE EXCEPTION 'invalid value for on_error: "%"', on_error USING ERRCODE = '22023',
      HINT = 'Expected one of: stop, reject, null.';
  END IF;
  -- one run per target at a time, held to the end of the caller's transaction
  -- (the rows are not visible to anybody before it commits)
  PERFORM recio_migrate.migrate_lock('migrate target', target::oid::integer, pg_catalog.format('target %s', target),
                                     nowait);
  IF pg_catalog.has_table_privilege(target, 'SELECT') THEN
    EXECUTE pg_catalog.format('SELECT count(*) FROM %s', target) INTO rows_before;
  END IF;
  IF rows_before > 0 THEN
    RAISE NOTICE 'target % already holds % rows: this run adds to them', target, rows_before
      USING HINT = 'TRUNCATE the target first to migrate it anew; recio_migrate.runs.target_rows_before keeps the count.';
  END IF;
  SELECT * INTO f FROM recio_migrate.source_facts(source);
  INSERT INTO recio_migrate.runs (source_table, sqlite_table, source_path, source_size, source_modified,
                                  source_data_version, target_table, on_error, status, target_rows_before)
  SELECT source::text, (SELECT substr(o, 7) FROM pg_catalog.pg_foreign_table ft,
                          pg_catalog.unnest(ft.ftoptions) o WHERE ft.ftrelid = source AND o LIKE 'table=%'),
         f.path, f.size_bytes, f.modified, f.data_version, target::text, on_error, 'running', rows_before
  RETURNING runs.run_id INTO run_id;
  -- the legacy DDL as the file holds it now: what export_sqlite() writes back
  INSERT INTO recio_migrate.legacy_tables (run_id, sqlite_table, create_sql, index_sql, trigger_sql, sqlite_sequence,
                                           view_sql)
  SELECT migrate.run_id, d.sqlite_table, d.create_sql, d.index_sql, d.trigger_sql, d.sqlite_sequence, d.view_sql
    FROM recio_migrate.sqlite_table_ddl(source) d;
  -- the ledger row goes with the transaction: this line is the trace of a run cancelled or killed
  RAISE LOG 'recio_migrate: migration run % from % into % started (target rows before: %)', run_id, source, target,
    coalesce(rows_before::text, 'not readable');
  BEGIN
    -- the target's changes and the rejects live in this block's subtransaction
    SELECT * INTO m FROM recio_migrate.move_rows(source, target, run_id, on_error, allow_rounding);
    PERFORM recio_migrate.identity_forward(source, target);
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
COMMENT ON FUNCTION recio_migrate.migrate(regclass, regclass, text, boolean, boolean) IS
'move every row of a recio_sqlite foreign table into a table (columns by name; bulk insert, routed to the partitions of a partitioned target, through the executor''s insert path where row triggers or foreign keys must fire), recording the run in recio_migrate.runs and unconvertible values and refused rows in recio_migrate.rejects; a failed run leaves the target unchanged; one run per target at a time (a second waits, or with nowait fails with 55P03)';

CREATE FUNCTION recio_migrate.import_name(sqlite_name text)
RETURNS name
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_import_name';
COMMENT ON FUNCTION recio_migrate.import_name(text) IS
'the PostgreSQL name IMPORT FOREIGN SCHEMA gives a SQLite table or column of that name (a name longer than 63 bytes is shortened with a hash suffix); NULL when it imports none';

CREATE FUNCTION recio_migrate.migrate_server(server name, target_schema name, on_error text DEFAULT 'reject',
    foreign_schema name DEFAULT NULL, nowait boolean DEFAULT false,
    OUT sqlite_table text, OUT target regclass, OUT action text, OUT run_id bigint, OUT sqlite_rows bigint,
    OUT target_rows bigint, OUT rows_rejected bigint, OUT counts_match boolean, OUT schema_skipped integer)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  fschema name := coalesce(foreign_schema, (target_schema || '_sqlite')::name);
  t record;
  pgname name;
  ft regclass;
  m record;
  n bigint;
  sch name;
  prior_run bigint;
  prior_rejected bigint;
  not_tables text;
  pk text;
  pkdef text;
  created regclass;
  -- the rows of the result, returned once every table is loaded and the file's foreign keys and views are
  -- carried (their skipped objects count with the table they belong to)
  r_table text[] := '{}'::text[];
  r_target regclass[] := '{}'::regclass[];
  r_action text[] := '{}'::text[];
  r_run bigint[] := '{}'::bigint[];
  r_sqlite bigint[] := '{}'::bigint[];
  r_rows bigint[] := '{}'::bigint[];
  r_rejected bigint[] := '{}'::bigint[];
  r_match boolean[] := '{}'::boolean[];
  r_source regclass[] := '{}'::regclass[];
  r_noted text[] := '{}'::text[];
  first_note bigint;
  v record;
  noted record;
  view_name text;
BEGIN
  IF server IS NULL OR target_schema IS NULL OR on_error IS NULL OR nowait IS NULL THEN
    RAISE EXCEPTION 'server, target_schema, on_error and nowait must not be NULL' USING ERRCODE = '22004';
  END IF;
  -- (a 63-byte target_schema makes the default foreign schema its own name: "_sqlite" is cut off)
  IF fschema = target_schema THEN
    RAISE EXCEPTION 'the foreign tables cannot go into the target schema %', pg_catalog.quote_ident(target_schema)
      USING ERRCODE = '22023', HINT = 'Give foreign_schema another schema, or a shorter target_schema.';
  END IF;
  -- one call per schema at a time, before a schema is created or a target counted (in name order: no deadlock)
  FOR sch IN SELECT DISTINCT x FROM pg_catalog.unnest(ARRAY[target_schema, fschema]) x
             ORDER BY 1 LOOP
    PERFORM recio_migrate.migrate_lock('migrate schema', pg_catalog.hashtext(sch),
                                       pg_catalog.format('schema %I', sch), nowait);
  END LOOP;
  IF pg_catalog.to_regnamespace(pg_catalog.quote_ident(target_schema)) IS NULL THEN
    EXECUTE pg_catalog.format('CREATE SCHEMA %I', target_schema);
  END IF;
  IF pg_catalog.to_regnamespace(pg_catalog.quote_ident(fschema)) IS NULL THEN
    EXECUTE pg_catalog.format('CREATE SCHEMA %I', fschema);
  END IF;
  SELECT coalesce(max(nt.note_id), 0) INTO first_note FROM recio_migrate.schema_notes nt;
  FOR t IN SELECT * FROM recio_migrate.sqlite_tables(server) LOOP
    IF t.kind NOT IN ('table', 'view') THEN
      not_tables := pg_catalog.concat_ws(', ', not_tables, pg_catalog.format('%s "%s"', t.kind, t.name));
      CONTINUE;
    END IF;
    sqlite_table := t.name;
    sqlite_rows := t.row_count;
    run_id := NULL;
    rows_rejected := 0;
    target := NULL;
    target_rows := NULL;
    counts_match := NULL;
    created := NULL;
    pkdef := NULL;
    -- the name IMPORT gives the table (a long one is shortened): the foreign and the target table carry it
    pgname := recio_migrate.import_name(t.name);
    ft := NULL;
    IF pgname IS NOT NULL THEN
      ft := pg_catalog.to_regclass(pg_catalog.format('%I.%I', fschema, pgname));
      IF ft IS NULL THEN
        -- a view with its declared types: profiling it would run its query (which may never end)
        EXECUTE pg_catalog.format('IMPORT FOREIGN SCHEMA main LIMIT TO (%I) FROM SERVER %I INTO %I OPTIONS (types %L)',
                                  pgname, server, fschema, CASE t.kind WHEN 'view' THEN 'declared' ELSE 'observed' END);
        ft := pg_catalog.to_regclass(pg_catalog.format('%I.%I', fschema, pgname));
      END IF;
    END IF;
    -- a foreign table of that name that reads another SQLite table is not this one's
    IF EXISTS (SELECT FROM pg_catalog.pg_foreign_table f, pg_catalog.unnest(f.ftoptions) o
                WHERE f.ftrelid = ft AND o LIKE 'table=%' AND pg_catalog.lower(o) <> pg_catalog.lower('table=' || t.name)) THEN
      ft := NULL;
    END IF;
    IF t.kind = 'view' THEN
      -- a view is read through its foreign table (IMPORT's WARNING said why when it cannot be imported);
      -- its PostgreSQL view comes after every table
      CONTINUE;
    ELSIF ft IS NULL THEN
      -- IMPORT's WARNING said why (an empty name, more than 1600 columns, a shortened name taken)
      action := 'skipped: cannot be imported';
    ELSE
      target := pg_catalog.to_regclass(pg_catalog.format('%I.%I', target_schema, pgname));
      IF target IS NULL THEN
        PERFORM recio_migrate.create_target(ft, pg_catalog.format('%I.%I', target_schema, pgname));
        target := pg_catalog.format('%I.%I', target_schema, pgname)::regclass;
        -- keys and indexes are built after the bulk load (schema_plan()'s load phase), not row by row
        SELECT c.conname, pg_catalog.pg_get_constraintdef(c.oid) INTO pk, pkdef FROM pg_catalog.pg_constraint c
         WHERE c.conrelid = target AND c.contype = 'p';
        IF pkdef IS NOT NULL THEN
          EXECUTE pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', target, pk);
        END IF;
        created := ft;
      END IF;
      IF (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = target) NOT IN ('r', 'p') THEN
        action := 'refused: target is not a table';
        RAISE WARNING '% is not a table: SQLite table "%" not migrated', target, t.name
          USING HINT = 'Drop or rename it, or migrate into another target_schema.';
      ELSE
        -- a migrate() of this target from elsewhere: wait for it before counting
        PERFORM recio_migrate.migrate_lock('migrate target', target::oid::integer,
                                           pg_catalog.format('target %s', target), nowait);
        EXECUTE pg_catalog.format('SELECT count(*) FROM %s', target) INTO n;
        -- the last run that left the target as it is (its rejects left out: they still count)
        SELECT r.run_id, r.rows_rejected INTO prior_run, prior_rejected FROM recio_migrate.runs r
         WHERE r.target_table = target::text AND r.status = 'succeeded'
           AND r.rows_read = t.row_count AND r.rows_written = n
         ORDER BY r.run_id DESC LIMIT 1;
        IF n = 0 AND prior_run IS NULL THEN
          SELECT * INTO m FROM recio_migrate.migrate(ft, target, on_error, nowait => nowait);
          run_id := m.run_id;
          action := CASE m.status WHEN 'succeeded' THEN 'migrated' ELSE 'failed' END;
          rows_rejected := coalesce(m.rows_rejected, 0);
        ELSIF prior_run IS NOT NULL THEN
          run_id := prior_run;
          rows_rejected := prior_rejected;
          action := 'skipped: already migrated';
        ELSIF n = t.row_count THEN
          action := 'skipped: already migrated';
        ELSE
          action := 'refused: target not empty';
          RAISE WARNING 'target % already holds % rows and SQLite table "%" has %: not migrated', target, n, t.name,
            t.row_count USING HINT = 'Empty the target (TRUNCATE) to migrate it again.';
        END IF;
        EXECUTE pg_catalog.format('SELECT count(*) FROM %s', target) INTO target_rows;
        counts_match := target_rows + CASE WHEN action = 'refused: target not empty' THEN 0 ELSE rows_rejected END
                        = sqlite_rows;
      END IF;
      IF created IS NOT NULL THEN
        -- the create phase ran in create_target(), before the run existed
        UPDATE recio_migrate.schema_notes nt SET run_id = migrate_server.run_id
         WHERE nt.note_id > first_note AND nt.target = migrate_server.target::text AND nt.run_id IS NULL;
        PERFORM FROM recio_migrate.apply_schema(ft, target, 'load', run_id);
        -- the key create_target() chose comes back when the plan carried none
        IF pkdef IS NOT NULL
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint c WHERE c.conrelid = target AND c.contype = 'p')
           AND NOT EXISTS (SELECT FROM recio_migrate.schema_notes nt
                            WHERE nt.note_id > first_note AND nt.target = migrate_server.target::text AND nt.phase = 'load'
                              AND nt.postgres_sql ~* 'PRIMARY KEY') THEN
          PERFORM recio_migrate.note_schema_object(target::text, run_id, 'load', 'primary key', pk, NULL,
            pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I %s', target, pk, pkdef), 'created',
            'the primary key create_target() chose', NULL);
        END IF;
      END IF;
    END IF;
    r_table := r_table || sqlite_table;
    r_target := r_target || target;
    r_action := r_action || action;
    r_run := r_run || run_id;
    r_sqlite := r_sqlite || sqlite_rows;
    r_rows := r_rows || target_rows;
    r_rejected := r_rejected || rows_rejected;
    r_match := r_match || counts_match;
    r_source := r_source || created;
    r_noted := r_noted || target::text;
  END LOOP;
  -- every table of the file is loaded: its foreign keys, then its views
  FOR i IN 1 .. cardinality(r_table) LOOP
    IF r_source[i] IS NOT NULL THEN
      PERFORM FROM recio_migrate.apply_schema(r_source[i], r_target[i], 'file', r_run[i]);
    END IF;
  END LOOP;
  FOR v IN SELECT * FROM recio_migrate.schema_views(server, target_schema) LOOP
    -- a view an earlier call carried (or could not) into this schema is not carried again
    view_name := NULL;
    SELECT nt.target INTO view_name FROM recio_migrate.schema_notes nt
     WHERE nt.phase = 'view' AND (pg_catalog.parse_ident(nt.target))[1] = target_schema
       AND coalesce(nt.properties->>'sqlite_name', nt.object_name) = coalesce(v.properties->>'sqlite_name', v.object_name)
     ORDER BY nt.note_id DESC LIMIT 1;
    IF view_name IS NOT NULL THEN
      r_action := r_action || 'view: already carried'::text;
    ELSE
      view_name := pg_catalog.format('%I.%I', target_schema, v.object_name);
      SELECT * INTO noted FROM recio_migrate.note_schema_object(view_name, NULL, v.phase, v.object_kind,
        v.object_name, v.sqlite_sql, v.postgres_sql, v.action, v.reason, v.properties);
      r_action := r_action || CASE WHEN noted.done <> 'skipped' THEN 'view created' ELSE 'view: foreign table only' END;
    END IF;
    r_table := r_table || coalesce(v.properties->>'sqlite_name', v.object_name);
    r_target := r_target || pg_catalog.to_regclass(view_name);
    r_run := r_run || NULL::bigint;
    r_sqlite := r_sqlite || NULL::bigint;
    r_rows := r_rows || NULL::bigint;
    r_rejected := r_rejected || NULL::bigint;
    r_match := r_match || NULL::boolean;
    r_source := r_source || NULL::regclass;
    r_noted := r_noted || view_name;
  END LOOP;
  FOR i IN 1 .. cardinality(r_table) LOOP
    sqlite_table := r_table[i];
    target := r_target[i];
    action := r_action[i];
    run_id := r_run[i];
    sqlite_rows := r_sqlite[i];
    target_rows := r_rows[i];
    rows_rejected := r_rejected[i];
    counts_match := r_match[i];
    SELECT count(*) FILTER (WHERE nt.action = 'skipped') INTO schema_skipped FROM recio_migrate.schema_notes nt
     WHERE nt.note_id > first_note AND nt.target = r_noted[i];
    RETURN NEXT;
  END LOOP;
  IF not_tables IS NOT NULL THEN
    RAISE WARNING 'not migrated: % (migrate_server() moves tables and imports views)', not_tables
      USING HINT = 'Import it with IMPORT FOREIGN SCHEMA and copy it with INSERT ... SELECT if its rows are wanted.';
  END IF;
END $$;
COMMENT ON FUNCTION recio_migrate.migrate_server(name, name, text, name, boolean) IS
'migrate every table of a recio_sqlite server''s file: import with observed types, create targets, migrate each table as its own run, build its keys and indexes after the load, then the file''s foreign keys and views (schema_plan(); every object in schema_notes, schema_skipped counts the skipped ones), and check the row counts; a target already migrated (the ledger or the count says so) is skipped, one with other rows refused; views are imported as foreign tables, virtual tables left out with a WARNING; one call per schema at a time (a second waits, or with nowait fails with 55P03)';

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

/* recio_migrate 0.3.0 -> 0.4.0: an open schema with deliberate grants, search_path-safe retention */
\echo Use "ALTER EXTENSION recio_migrate UPDATE TO '0.4.0'" to load this file. \quit

/*
 * ======================================================================
 * Wrapper: every function pins its search_path
 * ======================================================================
 */

ALTER FUNCTION recio_migrate.recio_sqlite_handler() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION recio_migrate.recio_sqlite_validator(text[], oid) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION recio_migrate.connections() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION recio_migrate.disconnect(text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION recio_migrate.disconnect_all() SET search_path = pg_catalog, pg_temp;

/*
 * ======================================================================
 * Privileges: USAGE on the schema for PUBLIC (the grants to pg_monitor,
 * pg_stat_scan_tables and PUBLIC were inert without it); the ledgers are
 * readable by pg_monitor
 * ======================================================================
 */

GRANT USAGE ON SCHEMA recio_migrate TO PUBLIC;
GRANT SELECT ON recio_migrate.parity_results TO pg_monitor;
GRANT SELECT ON recio_migrate.retention_policies, recio_migrate.retention_pins, recio_migrate.retention_log TO pg_monitor;

/*
 * ======================================================================
 * Migration runs: create_target() declares its empty arrays typed
 * (plpgsql_check: an unknown literal assigned to text[])
 * ======================================================================
 */

CREATE OR REPLACE FUNCTION recio_migrate.create_target(source regclass, target_name text, dry_run boolean DEFAULT false)
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

/*
 * ======================================================================
 * Migration runs that cannot go wrong under concurrency: one run per
 * target and one migrate_server() per schema at a time (advisory locks of
 * lock_class(), a nowait argument), the target's row count before a run in
 * the ledger, a LOG line at the start of a run; sqlite_tables() counts
 * tables only, migrate_server() skips views and virtual tables with a
 * WARNING and an empty table migrated before
 * ======================================================================
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
REVOKE ALL ON FUNCTION recio_migrate.migrate_lock(text, integer, text, boolean) FROM PUBLIC;

ALTER TABLE recio_migrate.runs ADD COLUMN target_rows_before bigint;
COMMENT ON TABLE recio_migrate.runs IS 'ledger of migration runs: one row per migrate() call, written in the caller''s transaction (a run cancelled, killed or rolled back leaves no row: its start is in the server log)';
COMMENT ON COLUMN recio_migrate.runs.target_rows_before IS 'rows the target held when the run began (a run appends to them); NULL when the caller may not read the target';

COMMENT ON FUNCTION recio_migrate.sqlite_tables(name) IS
'the tables, views, virtual tables and their shadow tables of a recio_sqlite server''s file (kind table, view, virtual table, shadow table); row_count (count(*) in SQLite) for tables only, NULL for the others (counting a view can run without end or fail)';

-- a new argument nowait: a new signature
DROP FUNCTION recio_migrate.migrate_server(name, name, text, name);
DROP FUNCTION recio_migrate.migrate(regclass, regclass, text, boolean);

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
  -- the ledger row goes with the transaction: this line is the trace of a run cancelled or killed
  RAISE LOG 'recio_migrate: migration run % from % into % started (target rows before: %)', run_id, source, target,
    coalesce(rows_before::text, 'not readable');
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
COMMENT ON FUNCTION recio_migrate.migrate(regclass, regclass, text, boolean, boolean) IS
'move every row of a recio_sqlite foreign table into a table (columns by name, bulk insert), recording the run in recio_migrate.runs and unconvertible values in recio_migrate.rejects; a failed run leaves the target unchanged; one run per target at a time (a second waits, or with nowait fails with 55P03)';

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
    OUT target_rows bigint, OUT rows_rejected bigint, OUT counts_match boolean)
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
  FOR t IN SELECT * FROM recio_migrate.sqlite_tables(server) LOOP
    IF t.kind <> 'table' THEN
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
    -- the name IMPORT gives the table (a long one is shortened): the foreign and the target table carry it
    pgname := recio_migrate.import_name(t.name);
    ft := NULL;
    IF pgname IS NOT NULL THEN
      ft := pg_catalog.to_regclass(pg_catalog.format('%I.%I', fschema, pgname));
      IF ft IS NULL THEN
        EXECUTE pg_catalog.format('IMPORT FOREIGN SCHEMA main LIMIT TO (%I) FROM SERVER %I INTO %I OPTIONS (types %L)',
                                  pgname, server, fschema, 'observed');
        ft := pg_catalog.to_regclass(pg_catalog.format('%I.%I', fschema, pgname));
      END IF;
    END IF;
    -- a foreign table of that name that reads another SQLite table is not this one's
    IF EXISTS (SELECT FROM pg_catalog.pg_foreign_table f, pg_catalog.unnest(f.ftoptions) o
                WHERE f.ftrelid = ft AND o LIKE 'table=%' AND pg_catalog.lower(o) <> pg_catalog.lower('table=' || t.name)) THEN
      ft := NULL;
    END IF;
    IF ft IS NULL THEN
      -- IMPORT's WARNING said why (an empty name, more than 1600 columns, a shortened name taken)
      action := 'skipped: cannot be imported';
      RETURN NEXT;
      CONTINUE;
    END IF;
    target := pg_catalog.to_regclass(pg_catalog.format('%I.%I', target_schema, pgname));
    IF target IS NULL THEN
      PERFORM recio_migrate.create_target(ft, pg_catalog.format('%I.%I', target_schema, pgname));
      target := pg_catalog.format('%I.%I', target_schema, pgname)::regclass;
    END IF;
    IF (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = target) NOT IN ('r', 'p') THEN
      action := 'refused: target is not a table';
      RAISE WARNING '% is not a table: SQLite table "%" not migrated', target, t.name
        USING HINT = 'Drop or rename it, or migrate into another target_schema.';
      RETURN NEXT;
      CONTINUE;
    END IF;
    -- a migrate() of this target from elsewhere: wait for it before counting
    PERFORM recio_migrate.migrate_lock('migrate target', target::oid::integer, pg_catalog.format('target %s', target),
                                       nowait);
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
    RETURN NEXT;
  END LOOP;
  IF not_tables IS NOT NULL THEN
    RAISE WARNING 'not migrated: % (migrate_server() moves tables only)', not_tables
      USING HINT = 'Import a view with IMPORT FOREIGN SCHEMA and copy it with INSERT ... SELECT if its rows are wanted.';
  END IF;
END $$;
COMMENT ON FUNCTION recio_migrate.migrate_server(name, name, text, name, boolean) IS
'migrate every table of a recio_sqlite server''s file: import with observed types, create targets, migrate each table as its own run, and check the row counts; a target already migrated (the ledger or the count says so) is skipped, one with other rows refused; views and virtual tables are left out with a WARNING; one call per schema at a time (a second waits, or with nowait fails with 55P03)';
REVOKE ALL ON FUNCTION recio_migrate.migrate(regclass, regclass, text, boolean, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.migrate_server(name, name, text, name, boolean) FROM PUBLIC;

/*
 * ======================================================================
 * Retention: every statement immune to the caller's search_path.  The
 * procedures only call functions that pin it, and commit; the work of
 * prune_run() is split into batch functions carrying a
 * retention_prune_state; retention_pk() and retention_pin_key() return the
 * row type retention_key (retention_pin_key() returned an anonymous record).
 * ======================================================================
 */

-- pin(), pin_where() and unpin() only call these at run time: no dependency
DROP FUNCTION recio_migrate.retention_pin_key(regclass, text[]);
DROP FUNCTION recio_migrate.retention_pk(regclass);

COMMENT ON FUNCTION recio_migrate.retention_lock_key(regclass)
IS 'advisory lock key (the bigint form) of a relation''s pins and prune batches; run_retention() has a lock of its own (lock_class(''run_retention''), 0)';

CREATE TYPE recio_migrate.retention_key AS (key_expr text, key_match text, key_canon text, key_columns integer);
COMMENT ON TYPE recio_migrate.retention_key
IS 'SQL fragments over a relation''s primary key (alias t, key array $1): the row''s key text, the match of a key, the canonical form of a key, and the number of key columns';

CREATE FUNCTION recio_migrate.retention_pk(relation regclass)
RETURNS recio_migrate.retention_key
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

CREATE FUNCTION recio_migrate.retention_pin_key(relation regclass, key text[])
RETURNS recio_migrate.retention_key
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  pk recio_migrate.retention_key;
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

CREATE OR REPLACE FUNCTION recio_migrate.pin(relation regclass, key text[], note text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
  -- the settings that make key texts canonical, for this call only (retention_settings() would
  -- leave them set in the caller's transaction)
  SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres'
  SET extra_float_digits = 3 SET bytea_output = 'hex'
AS $$
DECLARE
  pk recio_migrate.retention_key;
  canon text[];
  found_row boolean;
  added integer;
BEGIN
  IF key IS NULL THEN
    RAISE EXCEPTION 'key must not be NULL' USING ERRCODE = '22004';
  END IF;
  pk := recio_migrate.retention_pin_key(relation, key);
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

CREATE OR REPLACE FUNCTION recio_migrate.pin_where(relation regclass, condition text, note text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
  -- the settings that make key texts canonical, for this call only (retention_settings() would
  -- leave them set in the caller's transaction)
  SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres'
  SET extra_float_digits = 3 SET bytea_output = 'hex'
AS $$
DECLARE
  pk recio_migrate.retention_key;
  added bigint;
BEGIN
  IF condition IS NULL THEN
    RAISE EXCEPTION 'condition must not be NULL' USING ERRCODE = '22004';
  END IF;
  pk := recio_migrate.retention_pin_key(relation, NULL);
  EXECUTE format('INSERT INTO recio_migrate.retention_pins (relation, key, note) SELECT $1, %s, $2 FROM %s t WHERE %s '
                 'ON CONFLICT ON CONSTRAINT retention_pins_pkey DO NOTHING', pk.key_expr, relation, condition)
    USING relation, note;
  GET DIAGNOSTICS added = ROW_COUNT;
  RETURN added;
END
$$;
COMMENT ON FUNCTION recio_migrate.pin_where(regclass, text, text)
IS 'pins every row of relation (alias t) that satisfies condition, an SQL expression run with the caller''s privileges and search_path pg_catalog; returns how many pins were added';

CREATE OR REPLACE FUNCTION recio_migrate.unpin(relation regclass, key text[])
RETURNS boolean
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
  -- the settings that make key texts canonical, for this call only (retention_settings() would
  -- leave them set in the caller's transaction)
  SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres'
  SET extra_float_digits = 3 SET bytea_output = 'hex'
AS $$
DECLARE
  pk recio_migrate.retention_key;
  canon text[];
  removed integer;
BEGIN
  IF key IS NULL THEN
    RAISE EXCEPTION 'key must not be NULL' USING ERRCODE = '22004';
  END IF;
  pk := recio_migrate.retention_pin_key(relation, key);
  EXECUTE format('SELECT %s', pk.key_canon) INTO canon USING key;
  DELETE FROM recio_migrate.retention_pins p WHERE p.relation = unpin.relation AND p.key = canon;
  GET DIAGNOSTICS removed = ROW_COUNT;
  RETURN removed > 0;
END
$$;
COMMENT ON FUNCTION recio_migrate.unpin(regclass, text[])
IS 'removes the pin of the row of relation whose primary key values are key; false when there was none';

CREATE OR REPLACE FUNCTION recio_migrate.retention_settings(lock_timeout interval DEFAULT NULL)
RETURNS void
LANGUAGE sql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT pg_catalog.set_config('TimeZone', 'UTC', true),
         pg_catalog.set_config('DateStyle', 'ISO, YMD', true),
         pg_catalog.set_config('IntervalStyle', 'postgres', true),
         pg_catalog.set_config('extra_float_digits', '3', true),
         pg_catalog.set_config('bytea_output', 'hex', true),
         pg_catalog.set_config('lock_timeout',
           COALESCE(pg_catalog.ceil(pg_catalog.date_part('epoch', lock_timeout) * 1000)::bigint::text || 'ms',
                               pg_catalog.current_setting('lock_timeout')), true)
$$;
COMMENT ON FUNCTION recio_migrate.retention_settings(interval)
IS 'sets, for the current transaction, the output settings that make pin keys canonical text (TimeZone UTC, ISO dates, full float precision), and the lock_timeout when given';

CREATE TYPE recio_migrate.retention_prune_state AS (
  relation regclass,          -- the relation of the policy
  log_id bigint,              -- its retention_log entry (NULL for a dry run)
  finished boolean,           -- no batch left: the log entry holds the outcome
  kind text,                  -- retention_time_kind() of the time column
  cut timestamptz,            -- the cutoff ($1), as timestamp ($2) and as integer epoch ($3)
  cut_ts timestamp,
  cut_num numeric,
  deadline timestamptz,       -- end of the time budget
  batch_rows integer,
  archive regclass,
  archive_cols text,
  partition_action text,
  lock_timeout interval,
  lock_key bigint,
  many_pins boolean,          -- more pins than batch_rows: probe them by index
  key_columns integer,        -- the primary key's columns (0: none)
  key_expr text,              -- a row's key text (retention_pk())
  pred text,                  -- the row is before the cutoff
  pins_pred text,             -- the row is not pinned
  targets regclass[],         -- the work items
  modes text[],               -- 'drop' or 'rows' per item
  item integer,               -- the current item
  item_done boolean,          -- the current item has no batch left
  target regclass,
  mode text,
  stmt text,                  -- a batch of the current rows item, without and with pins
  stmt_pins text,
  nblocks bigint,             -- its heap blocks, the next block, blocks per batch
  blk bigint,
  step bigint,
  attempt integer,            -- lock attempts of the current batch
  pause float8                -- seconds to wait after this batch's commit
);
COMMENT ON TYPE recio_migrate.retention_prune_state
IS 'the state of one prune carried from batch transaction to batch transaction by prune_run()';

CREATE FUNCTION recio_migrate.retention_prune_items(st recio_migrate.retention_prune_state, time_column name)
RETURNS recio_migrate.retention_prune_state
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  by_time_range boolean := false;
  child record;
  leaves regclass[];
  bound text;
  before boolean;
BEGIN
  IF (SELECT c.relkind FROM pg_class c WHERE c.oid = st.relation) <> 'p' THEN
    st.targets := ARRAY[st.relation];
    st.modes := ARRAY['rows'];
    RETURN st;
  END IF;
  st.targets := '{}'::regclass[];
  st.modes := '{}'::text[];
  SELECT pt.partstrat = 'r' AND pt.partnatts = 1 AND pt.partattrs[0] = a.attnum INTO by_time_range
  FROM pg_partitioned_table pt
  JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attname = time_column
  WHERE pt.partrelid = st.relation;
  FOR child IN
    SELECT c.oid::regclass AS part, pg_get_expr(c.relpartbound, c.oid) AS bound
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = st.relation ORDER BY c.oid::regclass::text
  LOOP
    before := false;
    bound := substring(child.bound FROM '\) TO \((.*)\)$');
    IF by_time_range AND st.archive IS NULL AND bound IS NOT NULL AND bound <> 'MAXVALUE' THEN
      -- the bound is the server's own rendering of a constant of the key type
      EXECUTE format('SELECT (%s)::%s <= %s', bound, CASE st.kind WHEN 'epoch' THEN 'numeric' ELSE st.kind END,
                     CASE st.kind WHEN 'timestamptz' THEN '$1' WHEN 'epoch' THEN '$3' ELSE '$2' END)
        INTO before USING st.cut, st.cut_ts, st.cut_num;
    END IF;
    IF before THEN
      st.targets := st.targets || child.part;
      st.modes := st.modes || 'drop'::text;
    ELSE
      leaves := ARRAY(SELECT l.relid FROM pg_partition_tree(child.part) l WHERE l.isleaf);
      st.targets := st.targets || leaves;
      st.modes := st.modes || array_fill('rows'::text, ARRAY[cardinality(leaves)]);
    END IF;
  END LOOP;
  RETURN st;
END
$$;
COMMENT ON FUNCTION recio_migrate.retention_prune_items(recio_migrate.retention_prune_state, name)
IS 'the work items of a prune: the relation itself, or for a partitioned table the partitions wholly before the cutoff (drop) and the leaves of the others (rows)';

CREATE FUNCTION recio_migrate.retention_checked_pk(relation regclass)
RETURNS recio_migrate.retention_key
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  pk recio_migrate.retention_key := recio_migrate.retention_pk(relation);
BEGIN
  -- Pins name rows by their primary key values.  Pins made under a key with
  -- another number of columns match no row and would protect nothing:
  -- refuse rather than delete pinned rows.
  IF pk.key_columns > 0 AND EXISTS (SELECT FROM recio_migrate.retention_pins p
                                    WHERE p.relation = retention_checked_pk.relation
                                      AND cardinality(p.key) <> pk.key_columns) THEN
    RAISE EXCEPTION 'relation "%" has pins made under another primary key', relation
      USING ERRCODE = '55000',
            DETAIL = format('Its primary key has %s columns; some pins hold another number of values.', pk.key_columns),
            HINT = 'Restore the primary key the pins were made with, or unpin those rows and pin them again.';
  END IF;
  RETURN pk;
END
$$;
COMMENT ON FUNCTION recio_migrate.retention_checked_pk(regclass)
IS 'retention_pk() of a relation, after checking that its pins were made under a primary key of the same width (55000 otherwise): prune and run_retention''s check both use it';

CREATE FUNCTION recio_migrate.retention_prune_start(
  relation regclass, time_column name, keep interval, batch_rows integer, dry_run boolean,
  as_of timestamptz, time_budget interval)
RETURNS recio_migrate.retention_prune_state
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  pol recio_migrate.retention_policies;
  st recio_migrate.retention_prune_state;
  col name;
  span interval;
  unit text;
  pk recio_migrate.retention_key;
  dry_count bigint;
BEGIN
  SELECT * INTO pol FROM recio_migrate.retention_policies p WHERE p.relation = retention_prune_start.relation;
  col := coalesce(time_column, pol.time_column);
  span := coalesce(keep, pol.keep);
  st.batch_rows := coalesce(batch_rows, pol.batch_rows, 10000);
  IF relation IS NULL THEN
    RAISE EXCEPTION 'relation must not be NULL' USING ERRCODE = '22004';
  END IF;
  IF span IS NULL OR col IS NULL THEN
    RAISE EXCEPTION 'relation "%" has no retention policy', relation
      USING ERRCODE = '22023', HINT = 'Give time_column and keep, or create a policy with recio_migrate.set_retention().';
  END IF;
  IF span <= interval '0' THEN
    RAISE EXCEPTION 'keep must be a positive interval, not %', span USING ERRCODE = '22023';
  END IF;
  IF st.batch_rows < 1 THEN
    RAISE EXCEPTION 'batch_rows must be a positive number, not %', st.batch_rows USING ERRCODE = '22023';
  END IF;
  unit := CASE WHEN col = pol.time_column THEN pol.time_unit END;
  st.relation := relation;
  st.archive := pol.archive_relation;
  st.partition_action := coalesce(pol.partition_action, 'drop');
  st.lock_timeout := coalesce(pol.lock_timeout, interval '100 milliseconds');
  st.kind := recio_migrate.retention_time_kind(relation, col, unit);
  -- The cutoff, once, in the caller's TimeZone (interval arithmetic over days
  -- and months follows it; a timestamp column holds the caller's local time).
  st.cut := coalesce(as_of, now()) - span;
  st.cut_ts := st.cut AT TIME ZONE current_setting('TimeZone');
  st.cut_num := ceil(date_part('epoch', st.cut)::numeric * CASE unit WHEN 'ms' THEN 1000 WHEN 'us' THEN 1000000 ELSE 1 END);
  st.deadline := clock_timestamp() + time_budget;
  PERFORM recio_migrate.retention_settings();
  IF st.archive IS NOT NULL THEN
    st.archive_cols := recio_migrate.retention_archive_columns(relation, st.archive);
  END IF;
  st.lock_key := recio_migrate.retention_lock_key(relation);
  -- More pins than rows in a batch: a hash anti-join would hash every pin in
  -- every batch, so the batches probe the pins' primary key row by row instead.
  st.many_pins := (SELECT count(*) > st.batch_rows FROM recio_migrate.retention_pins p WHERE p.relation = st.relation);
  pk := recio_migrate.retention_checked_pk(relation);
  st.key_columns := pk.key_columns;
  st.key_expr := pk.key_expr;
  -- $1 timestamptz, $2 timestamp (also for date), $3 integer epoch, $4 and $5 a TID range, $6 the relation
  st.pred := format('t.%I < %s', col, CASE st.kind WHEN 'timestamptz' THEN '$1' WHEN 'epoch' THEN '$3' ELSE '$2' END);
  st.pins_pred := format(' AND NOT EXISTS (SELECT FROM recio_migrate.retention_pins p WHERE p.relation = $6 AND p.key = %s)',
                         coalesce(pk.key_expr, 'NULL'));
  st := recio_migrate.retention_prune_items(st, col);
  st.item := 0;
  st.item_done := true;
  st.attempt := 0;
  st.pause := 0;
  st.finished := coalesce(dry_run, false);
  IF st.finished THEN
    EXECUTE format('SELECT count(*) FROM %s t WHERE %s%s', relation, st.pred,
                   CASE WHEN pk.key_columns > 0 THEN st.pins_pred ELSE '' END)
      INTO dry_count USING st.cut, st.cut_ts, st.cut_num, NULL::tid, NULL::tid, relation;
    RAISE NOTICE 'dry run: % rows of "%" lie before the cutoff % and are not pinned; % partitions lie wholly before it',
      dry_count, relation, st.cut, (SELECT count(*) FROM unnest(st.modes) m WHERE m = 'drop');
    RETURN st;
  END IF;
  -- a log row left 'running' by a prune that no longer runs: its session is
  -- gone, or is this one, or is open but not running a statement (a prune
  -- keeps its session active to its end); a state not shown to this role
  -- (NULL) counts as running
  UPDATE recio_migrate.retention_log l SET status = 'aborted', finished_at = clock_timestamp(),
         error = CASE WHEN l.pid = pg_backend_pid() OR EXISTS (SELECT FROM pg_stat_activity a WHERE a.pid = l.pid)
                      THEN format('cancelled or failed before it finished (pid %s)', l.pid)
                      ELSE 'the session running it ended' END
  WHERE l.status = 'running'
    AND (l.pid = pg_backend_pid()
         OR NOT EXISTS (SELECT FROM pg_stat_activity a WHERE a.pid = l.pid AND (a.state IS NULL OR a.state = 'active')));
  INSERT INTO recio_migrate.retention_log (relation, relation_name, cutoff)
  VALUES (relation, relation::text, st.cut) RETURNING id INTO st.log_id;
  RETURN st;
END
$$;
COMMENT ON FUNCTION recio_migrate.retention_prune_start(regclass, name, interval, integer, boolean, timestamptz, interval)
IS 'the first transaction of prune_run(): checks the arguments against the policy, computes the cutoff and the work items, and opens the retention_log entry (a dry run only counts and finishes)';

CREATE FUNCTION recio_migrate.retention_prune_item(st recio_migrate.retention_prune_state)
RETURNS recio_migrate.retention_prune_state
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  sql_format text;
  density float8;
BEGIN
  st.item := st.item + 1;
  st.target := st.targets[st.item];
  st.mode := st.modes[st.item];
  st.item_done := false;
  IF st.mode = 'drop' THEN
    RETURN st;
  END IF;
  -- 1 target, 2 predicate, 3 pins predicate, 4 archived columns, 5 archive;
  -- the rows are moved by the statement that deletes them
  sql_format := CASE WHEN st.archive IS NULL
    THEN 'DELETE FROM ONLY %1$s t WHERE t.ctid >= $4 AND t.ctid < $5 AND %2$s%3$s'
    ELSE 'WITH d AS (DELETE FROM ONLY %1$s t WHERE t.ctid >= $4 AND t.ctid < $5 AND %2$s%3$s RETURNING %4$s) '
         'INSERT INTO %5$s (%4$s) SELECT %4$s FROM d' END;
  st.stmt := format(sql_format, st.target, st.pred, '', st.archive_cols, st.archive);
  st.stmt_pins := format(sql_format, st.target, st.pred, st.pins_pred, st.archive_cols, st.archive);
  -- A range of blocks holds about batch_rows rows (live rows per block from
  -- the statistics, or counted in the first blocks of a table never
  -- analyzed), so a batch never locks many more than batch_rows rows.
  SELECT pg_relation_size(st.target) / current_setting('block_size')::bigint,
         CASE WHEN c.relpages > 0 AND c.reltuples > 0 THEN c.reltuples / c.relpages END
    INTO st.nblocks, density
  FROM pg_class c WHERE c.oid = st.target;
  IF density IS NULL AND st.nblocks > 0 THEN
    EXECUTE format('SELECT count(*) / %s::float8 FROM ONLY %s t WHERE t.ctid < $1', least(st.nblocks, 32), st.target)
      INTO density USING format('(%s,0)', least(st.nblocks, 32))::tid;
  END IF;
  st.step := greatest(1, ceil(st.batch_rows / greatest(density, 1)))::bigint;
  st.blk := 0;
  st.item_done := st.nblocks = 0;
  RETURN st;
END
$$;
COMMENT ON FUNCTION recio_migrate.retention_prune_item(recio_migrate.retention_prune_state)
IS 'moves a prune to its next work item: for a rows item, the batch statements and the number of heap blocks per batch';

CREATE FUNCTION recio_migrate.retention_prune_partition(st recio_migrate.retention_prune_state, has_pins boolean)
RETURNS recio_migrate.retention_prune_state
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  pinned_inside boolean := false;
  leaves regclass[];
BEGIN
  IF has_pins THEN
    EXECUTE format('SELECT EXISTS (SELECT FROM %s t WHERE EXISTS (SELECT FROM recio_migrate.retention_pins p '
                   'WHERE p.relation = $1 AND p.key = %s))', st.target, st.key_expr)
      INTO pinned_inside USING st.relation;
  END IF;
  IF pinned_inside THEN
    -- a pinned row lives in it: row by row over its leaves instead
    leaves := ARRAY(SELECT l.relid FROM pg_partition_tree(st.target) l WHERE l.isleaf);
    st.targets := st.targets || leaves;
    st.modes := st.modes || array_fill('rows'::text, ARRAY[cardinality(leaves)]);
  ELSE
    EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', st.relation, st.target);
    IF st.partition_action = 'drop' THEN
      EXECUTE format('DROP TABLE %s', st.target);
    END IF;
    UPDATE recio_migrate.retention_log l
    SET partitions_dropped = l.partitions_dropped + (st.partition_action = 'drop')::integer,
        partitions_detached = l.partitions_detached + (st.partition_action = 'detach')::integer
    WHERE l.id = st.log_id;
  END IF;
  st.item_done := true;
  RETURN st;
END
$$;
COMMENT ON FUNCTION recio_migrate.retention_prune_partition(recio_migrate.retention_prune_state, boolean)
IS 'a drop item of a prune: detaches (and drops) a partition wholly before the cutoff, or when it holds a pinned row queues its leaves row by row';

CREATE FUNCTION recio_migrate.retention_prune_rows(st recio_migrate.retention_prune_state, has_pins boolean)
RETURNS recio_migrate.retention_prune_state
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  n bigint;
BEGIN
  EXECUTE CASE WHEN has_pins THEN st.stmt_pins ELSE st.stmt END
    USING st.cut, st.cut_ts, st.cut_num, format('(%s,0)', st.blk)::tid, format('(%s,0)', st.blk + st.step)::tid, st.relation;
  GET DIAGNOSTICS n = ROW_COUNT;
  UPDATE recio_migrate.retention_log l
  SET rows_deleted = l.rows_deleted + n,
      rows_archived = l.rows_archived + CASE WHEN st.archive IS NULL THEN 0 ELSE n END,
      batches = l.batches + 1
  WHERE l.id = st.log_id;
  st.blk := st.blk + st.step;
  st.item_done := st.blk >= st.nblocks;
  RETURN st;
END
$$;
COMMENT ON FUNCTION recio_migrate.retention_prune_rows(recio_migrate.retention_prune_state, boolean)
IS 'one batch of a rows item of a prune: deletes (or archives) the unpinned rows before the cutoff in the next range of heap blocks';

CREATE FUNCTION recio_migrate.retention_prune_finish(st recio_migrate.retention_prune_state, status text,
  error text, error_sqlstate text)
RETURNS recio_migrate.retention_prune_state
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  UPDATE recio_migrate.retention_log l
  SET status = retention_prune_finish.status, finished_at = clock_timestamp(), error = retention_prune_finish.error,
      error_sqlstate = retention_prune_finish.error_sqlstate
  WHERE l.id = st.log_id;
  st.finished := true;
  RETURN st;
END
$$;
COMMENT ON FUNCTION recio_migrate.retention_prune_finish(recio_migrate.retention_prune_state, text, text, text)
IS 'records the outcome of a prune (succeeded, stopped, failed) in its retention_log entry';

CREATE FUNCTION recio_migrate.retention_prune_batch(st recio_migrate.retention_prune_state)
RETURNS recio_migrate.retention_prune_state
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  c_max_attempts constant integer := 10;
  has_pins boolean;
  msg text;
  state text;
BEGIN
  st.pause := 0;
  IF st.deadline IS NOT NULL AND clock_timestamp() >= st.deadline THEN
    RETURN recio_migrate.retention_prune_finish(st, 'stopped', 'time budget exhausted', NULL);
  END IF;
  WHILE st.item_done LOOP
    IF st.item >= cardinality(st.targets) THEN
      RETURN recio_migrate.retention_prune_finish(st, 'succeeded', NULL, NULL);
    END IF;
    st := recio_migrate.retention_prune_item(st);
  END LOOP;
  BEGIN
    PERFORM recio_migrate.retention_settings(st.lock_timeout);
    -- taken before the statement's snapshot: no pin can be made between
    -- the snapshot and the commit (pin() takes it shared)
    PERFORM pg_advisory_xact_lock(st.lock_key);
    has_pins := EXISTS (SELECT FROM recio_migrate.retention_pins p WHERE p.relation = st.relation);
    IF has_pins AND st.many_pins THEN
      PERFORM set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true);
    END IF;
    IF has_pins AND st.key_columns = 0 THEN
      RAISE EXCEPTION 'relation "%" has pinned rows but no primary key', st.relation
        USING ERRCODE = '55000', HINT = 'Restore the primary key the pins were made with, or remove the pins.';
    END IF;
    IF st.mode = 'drop' THEN
      st := recio_migrate.retention_prune_partition(st, has_pins);
    ELSE
      st := recio_migrate.retention_prune_rows(st, has_pins);
    END IF;
  EXCEPTION
    WHEN lock_not_available THEN
      st.attempt := st.attempt + 1;
      UPDATE recio_migrate.retention_log l SET lock_retries = l.lock_retries + 1 WHERE l.id = st.log_id;
      IF st.attempt >= c_max_attempts THEN
        RETURN recio_migrate.retention_prune_finish(st, 'failed',
          format('could not lock "%s" within lock_timeout %s in %s attempts', st.target, st.lock_timeout, st.attempt),
          '55P03');
      END IF;
      st.pause := least(2.0, 0.05 * 2 ^ st.attempt);
      RETURN st;
    WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
      RETURN recio_migrate.retention_prune_finish(st, 'failed', msg, state);
  END;
  st.attempt := 0;
  RETURN st;
END
$$;
COMMENT ON FUNCTION recio_migrate.retention_prune_batch(recio_migrate.retention_prune_state)
IS 'one batch transaction of prune_run(): the next batch of the current work item under lock_timeout; a lock not granted is retried after a pause (at most 10 times), any other failure and the end of the work are recorded in retention_log';

CREATE OR REPLACE PROCEDURE recio_migrate.prune_run(
  relation regclass, time_column name, keep interval, batch_rows integer, dry_run boolean,
  as_of timestamptz, time_budget interval, INOUT log_id bigint)
LANGUAGE plpgsql
AS $$
DECLARE
  st recio_migrate.retention_prune_state;
BEGIN
  st := recio_migrate.retention_prune_start(relation, time_column, keep, batch_rows, dry_run, as_of, time_budget);
  log_id := st.log_id;
  IF st.finished THEN
    RETURN;
  END IF;
  COMMIT;
  WHILE NOT st.finished LOOP
    st := recio_migrate.retention_prune_batch(st);
    COMMIT;
    PERFORM pg_catalog.pg_sleep(st.pause);
  END LOOP;
END
$$;
COMMENT ON PROCEDURE recio_migrate.prune_run(regclass, name, interval, integer, boolean, timestamptz, interval, bigint)
IS 'the work of prune(): deletes (or archives) the unpinned rows before the cutoff in committed batches and drops partitions wholly before it, records the prune in retention_log (log_id) and leaves a failure there for the caller instead of raising it';

CREATE FUNCTION recio_migrate.retention_prune_report(log_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  entry recio_migrate.retention_log;
BEGIN
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
COMMENT ON FUNCTION recio_migrate.retention_prune_report(bigint)
IS 'the end of prune(): raises the failure recorded in a retention_log entry, or reports what the prune did in a NOTICE';

CREATE OR REPLACE PROCEDURE recio_migrate.prune(
  relation regclass, time_column name DEFAULT NULL, keep interval DEFAULT NULL, batch_rows integer DEFAULT NULL,
  dry_run boolean DEFAULT false, as_of timestamptz DEFAULT NULL, time_budget interval DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
  log_id pg_catalog.int8;
BEGIN
  CALL recio_migrate.prune_run(relation, time_column, keep, batch_rows, dry_run, as_of, time_budget, log_id);
  PERFORM recio_migrate.retention_prune_report(log_id);
END
$$;
COMMENT ON PROCEDURE recio_migrate.prune(regclass, name, interval, integer, boolean, timestamptz, interval)
IS 'deletes the unpinned rows of relation older than (as_of or now()) - keep, batch_rows per committed batch, moving them into the policy''s archive when it has one; drops partitions wholly before the cutoff; arguments left NULL come from the relation''s policy; dry_run only counts';

-- run_retention()'s lock is given back on every exit (retention_run_lock_acquire)
CREATE FUNCTION recio_migrate.retention_run_lock_acquire(lock_class integer, lock_object integer)
RETURNS boolean
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_retention_run_lock_acquire';
COMMENT ON FUNCTION recio_migrate.retention_run_lock_acquire(integer, integer)
IS 'takes the session-level advisory lock (lock_class, lock_object) without waiting, to be given back by retention_run_lock_release() or by the abort of any transaction of this session (an error or cancel in a procedure that commits); false when another session holds it';

CREATE FUNCTION recio_migrate.retention_run_lock_release()
RETURNS boolean
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_retention_run_lock_release';
COMMENT ON FUNCTION recio_migrate.retention_run_lock_release()
IS 'gives back the lock of retention_run_lock_acquire(); false when it was not held';

CREATE FUNCTION recio_migrate.retention_run_lock()
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  cls constant integer := recio_migrate.lock_class('run_retention');
  holder integer;
  holder_state text;
  why text;
BEGIN
  -- a session-level lock (it must outlive the batches' commits), given back
  -- on every exit: the end of the run, an error, a cancel
  IF NOT recio_migrate.retention_run_lock_acquire(cls, 0) THEN
    SELECT l.pid, a.state INTO holder, holder_state
    FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = cls::oid AND l.objid = 0
      AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database());
    why := format('run_retention() is already running in pid %s', coalesce(holder::text, '?'))
           || CASE WHEN holder_state = 'idle'
                   THEN ', whose session is idle in no transaction: it holds the lock without running' ELSE '' END;
    -- a distinct outcome, visible in the log and (a WARNING) in pg_cron's job_run_details
    INSERT INTO recio_migrate.retention_log (relation_name, finished_at, status, error)
    VALUES ('run_retention()', clock_timestamp(), 'skipped', why);
    RAISE WARNING '%: this run exits without pruning', why
      USING HINT = CASE WHEN holder_state = 'idle'
                        THEN format('End that session (SELECT pg_terminate_backend(%s)) or run SELECT pg_advisory_unlock(%s, 0) in it.', holder, cls)
                        ELSE 'See recio_migrate.retention_log for the running prune.' END;
    RETURN NULL;
  END IF;
  RETURN coalesce((SELECT max(l.id) FROM recio_migrate.retention_log l), 0);
END
$$;
COMMENT ON FUNCTION recio_migrate.retention_run_lock()
IS 'takes the run_retention() lock and returns the last retention_log id before the run; while another session holds it, logs a skipped entry naming that pid, raises a WARNING and returns NULL';

CREATE FUNCTION recio_migrate.retention_run_policies()
RETURNS regclass[]
LANGUAGE sql STABLE CALLED ON NULL INPUT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
  -- the log's own policy last, so it never removes this run's entries
  SELECT coalesce(array_agg(p.relation ORDER BY p.relation = 'recio_migrate.retention_log'::regclass, p.relation::text), '{}')
  FROM recio_migrate.retention_policies p WHERE p.enabled
$$;
COMMENT ON FUNCTION recio_migrate.retention_run_policies()
IS 'the relations of the enabled retention policies in the order run_retention() prunes them (the log''s own last)';

CREATE FUNCTION recio_migrate.retention_run_check(relation regclass, deadline timestamptz)
RETURNS boolean
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  pol recio_migrate.retention_policies;
  present boolean;
  why text;
  state text;
BEGIN
  SELECT * INTO pol FROM recio_migrate.retention_policies p WHERE p.relation = retention_run_check.relation;
  IF NOT FOUND THEN
    RETURN false;     -- dropped since the run began
  END IF;
  present := EXISTS (SELECT FROM pg_class c WHERE c.oid = relation);
  IF NOT present THEN
    why := 'the relation no longer exists';
  ELSIF deadline IS NOT NULL AND clock_timestamp() >= deadline THEN
    why := 'time budget exhausted';
  ELSE
    BEGIN
      PERFORM recio_migrate.retention_time_kind(pol.relation, pol.time_column, pol.time_unit);
      -- pins made under another key: this policy fails, the run goes on with the next
      PERFORM recio_migrate.retention_checked_pk(pol.relation);
      IF pol.archive_relation IS NOT NULL THEN
        PERFORM recio_migrate.retention_archive_columns(pol.relation, pol.archive_relation);
      END IF;
      RETURN true;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS why = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
      INSERT INTO recio_migrate.retention_log (relation, relation_name, finished_at, status, error, error_sqlstate)
      VALUES (relation, relation::text, clock_timestamp(), 'failed', why, state);
      RETURN false;
    END;
  END IF;
  INSERT INTO recio_migrate.retention_log (relation, relation_name, finished_at, status, error)
  VALUES (CASE WHEN present THEN relation END, relation::text, clock_timestamp(), 'skipped', why);
  RETURN false;
END
$$;
COMMENT ON FUNCTION recio_migrate.retention_run_check(regclass, timestamptz)
IS 'whether run_retention() prunes a policy''s relation now; a relation gone or a spent time budget is logged as skipped, a policy that no longer fits its table as failed';

CREATE FUNCTION recio_migrate.retention_remaining(deadline timestamptz)
RETURNS interval
LANGUAGE sql VOLATILE CALLED ON NULL INPUT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$ SELECT CASE WHEN deadline IS NOT NULL THEN greatest(deadline - clock_timestamp(), interval '0') END $$;
COMMENT ON FUNCTION recio_migrate.retention_remaining(timestamptz)
IS 'the time left until deadline (never negative; NULL without a deadline)';

CREATE FUNCTION recio_migrate.retention_deadline(time_budget interval)
RETURNS timestamptz
LANGUAGE sql VOLATILE CALLED ON NULL INPUT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$ SELECT clock_timestamp() + time_budget $$;
COMMENT ON FUNCTION recio_migrate.retention_deadline(interval)
IS 'the end of a time budget that starts now (NULL without a budget)';

CREATE FUNCTION recio_migrate.retention_run_finish(since bigint, policies regclass[])
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  failures text[];
  first_sqlstate text;
BEGIN
  SELECT array_agg(format('%s: %s', l.relation_name, l.error) ORDER BY l.id),
         (array_agg(l.error_sqlstate ORDER BY l.id) FILTER (WHERE l.error_sqlstate IS NOT NULL))[1]
    INTO failures, first_sqlstate
  FROM recio_migrate.retention_log l
  WHERE l.id > since AND l.pid = pg_backend_pid() AND l.status = 'failed';
  PERFORM recio_migrate.retention_run_lock_release();
  IF cardinality(failures) > 0 THEN
    RAISE EXCEPTION 'retention failed for % of % policies', cardinality(failures), cardinality(policies)
      USING ERRCODE = coalesce(first_sqlstate, 'P0001'), DETAIL = array_to_string(failures, E'\n'),
            HINT = 'See recio_migrate.retention_log.';
  END IF;
END
$$;
COMMENT ON FUNCTION recio_migrate.retention_run_finish(bigint, regclass[])
IS 'the end of run_retention(): releases its lock and raises when a policy failed in this run (the retention_log entries after since)';

CREATE OR REPLACE PROCEDURE recio_migrate.run_retention(time_budget interval DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
  deadline pg_catalog.timestamptz := recio_migrate.retention_deadline(time_budget);
  since pg_catalog.int8;
  policies pg_catalog.regclass[];
  rel pg_catalog.regclass;
  go pg_catalog.bool;
  log_id pg_catalog.int8;
BEGIN
  since := recio_migrate.retention_run_lock();
  IF since IS NULL THEN
    RETURN;
  END IF;
  policies := recio_migrate.retention_run_policies();
  FOREACH rel IN ARRAY policies LOOP
    go := recio_migrate.retention_run_check(rel, deadline);
    COMMIT;
    IF go THEN
      CALL recio_migrate.prune_run(rel, NULL, NULL, NULL, false, NULL, recio_migrate.retention_remaining(deadline), log_id);
    END IF;
  END LOOP;
  PERFORM recio_migrate.retention_run_finish(since, policies);
END
$$;
COMMENT ON PROCEDURE recio_migrate.run_retention(interval)
IS 'prunes every enabled policy''s relation (the log''s own last), each recorded in retention_log; while another run is going, exits at once with a WARNING and a skipped retention_log entry; stops between batches when time_budget is spent; raises at the end when a policy failed; its lock is given back on every exit (an error or a cancel too)';

-- the batch functions are the procedures' work: for the DBA like them
REVOKE ALL ON FUNCTION recio_migrate.retention_prune_items(recio_migrate.retention_prune_state, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_prune_start(regclass, name, interval, integer, boolean, timestamptz, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_prune_item(recio_migrate.retention_prune_state) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_prune_partition(recio_migrate.retention_prune_state, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_prune_rows(recio_migrate.retention_prune_state, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_prune_finish(recio_migrate.retention_prune_state, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_prune_batch(recio_migrate.retention_prune_state) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_prune_report(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_run_lock() FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_run_policies() FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_run_check(regclass, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_run_finish(bigint, regclass[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_run_lock_acquire(integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.retention_run_lock_release() FROM PUBLIC;

-- ==== sync() and sync_server() (issue 12) ====
-- the runs ledger records sync() calls too: kind, the mode and its counts
ALTER TABLE recio_migrate.runs
  ADD COLUMN kind text NOT NULL DEFAULT 'migrate' CHECK (kind IN ('migrate', 'sync', 'export')),
  ADD COLUMN sync_mode text CHECK (sync_mode IN ('append', 'upsert', 'mirror')),
  ADD COLUMN rows_inserted bigint,
  ADD COLUMN rows_updated bigint,
  ADD COLUMN rows_deleted bigint,
  ADD COLUMN rows_only_in_target bigint;
COMMENT ON TABLE recio_migrate.runs IS 'ledger of migration runs: one row per migrate() or sync() call (kind), written in the caller''s transaction (a run cancelled, killed or rolled back leaves no row: its start is in the server log)';
COMMENT ON COLUMN recio_migrate.runs.kind IS 'migrate: a migrate() call (rows_read, rows_written); sync: a sync() call (rows_inserted, rows_updated, rows_deleted, rows_only_in_target; rows_written stays NULL)';
COMMENT ON COLUMN recio_migrate.runs.rows_only_in_target IS 'sync: rows the target holds and the source does not (left alone by upsert, deleted by mirror); NULL for append, which does not compare';

CREATE FUNCTION recio_migrate.move_rows_after(source regclass, target regclass, run_id bigint, on_error text,
    allow_rounding boolean, key_column name, after_key text,
    OUT rows_read bigint, OUT rows_written bigint, OUT rows_rejected bigint)
RETURNS record
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_move_rows';
COMMENT ON FUNCTION recio_migrate.move_rows_after(regclass, regclass, bigint, text, boolean, name, text) IS
'data path of sync()''s append mode: move_rows() over the rows whose key_column (integer or text) is greater than after_key, the bound evaluated by SQLite (call sync() instead)';

/*
 * The key of a parity_diff() row (a jsonb object) as a value of the key
 * column's type, for joining diff rows back to the rows they name.
 * parity_diff writes timestamps with timestamptz_out (a timestamp without
 * time zone taken as UTC), so that is how they are read back.
 */
CREATE FUNCTION recio_migrate.sync_key_match(rel regclass, keys text[], rel_alias text, diff_alias text)
RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  k text;
  typ oid;
  typname text;
  conds text[] := '{}'::text[];
BEGIN
  FOREACH k IN ARRAY keys LOOP
    SELECT a.atttypid, pg_catalog.format_type(a.atttypid, a.atttypmod) INTO typ, typname
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = rel AND a.attname = k AND a.attnum > 0 AND NOT a.attisdropped;
    conds := conds || pg_catalog.format('%I.%I = %s', rel_alias, k,
      CASE typ
        WHEN 'pg_catalog.timestamp'::pg_catalog.regtype THEN
          pg_catalog.format('((%I.key ->> %L)::pg_catalog.timestamptz AT TIME ZONE %L)', diff_alias, k, 'UTC')
        ELSE pg_catalog.format('(%I.key ->> %L)::%s', diff_alias, k, typname)
      END);
  END LOOP;
  RETURN pg_catalog.array_to_string(conds, ' AND ');
END $$;
COMMENT ON FUNCTION recio_migrate.sync_key_match(regclass, text[], text, text) IS
'the join condition "rel_alias.key = the key of the parity_diff() row diff_alias" over sync()''s key columns, each read back in rel''s column type';

CREATE FUNCTION recio_migrate.sync(source regclass, target regclass, mode text DEFAULT 'upsert',
    key_columns text[] DEFAULT NULL, on_error text DEFAULT 'stop',
    OUT run_id bigint, OUT status text, OUT rows_inserted bigint, OUT rows_updated bigint,
    OUT rows_deleted bigint, OUT rows_only_in_target bigint, OUT rows_rejected bigint,
    OUT seconds double precision)
RETURNS record
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  t0 timestamptz := pg_catalog.clock_timestamp();
  keys text[] := key_columns;
  cols text[];
  nonkey text[];
  is_foreign boolean;
  int_keys boolean;
  key_type oid;
  f record;
  m record;
  src text;
  stage name;
  diff name;
  changes name;
  col_list text;
  bound text;
  dup_key text;
  dup_source bigint;
  dup_target bigint;
  read_count bigint;
  n bigint;
  k text;
  seq text;
  mx bigint;
  next_value bigint;
  msg text;
  state text;
BEGIN
  IF source IS NULL OR target IS NULL OR mode IS NULL OR on_error IS NULL THEN
    RAISE EXCEPTION 'source, target, mode and on_error must not be NULL' USING ERRCODE = '22004';
  END IF;
  IF mode NOT IN ('append', 'upsert', 'mirror') THEN
    RAISE EXCEPTION 'invalid value for mode: "%"', mode USING ERRCODE = '22023',
      HINT = 'Expected one of: append, upsert, mirror.';
  END IF;
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
  INSERT INTO recio_migrate.legacy_tables (run_id, sqlite_table, create_sql, index_sql, trigger_sql, sqlite_sequence)
  SELECT migrate.run_id, r.sqlite_table, d.create_sql, d.index_sql, d.trigger_sql, d.sqlite_sequence
    FROM recio_migrate.runs r, recio_migrate.sqlite_table_ddl(source) d WHERE r.run_id = migrate.run_id;
  -- the ledger row goes with the transaction: this line is the trace of a run cancelled or killed
  RAISE LOG 'recio_migrate: migration run % from % into % started (target rows before: %)', run_id, source, target,
    coalesce(rows_before::text, 'not readable');
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
  -- the caller's rights, before any lock
  IF NOT pg_catalog.has_table_privilege(source, 'SELECT') THEN
    RAISE EXCEPTION 'permission denied for table %', source USING ERRCODE = '42501',
      HINT = 'sync() reads the source with the caller''s rights: it needs SELECT on it.';
  END IF;
  IF NOT pg_catalog.has_table_privilege(target, 'SELECT')
     OR NOT pg_catalog.has_table_privilege(target, 'INSERT')
     OR (mode IN ('upsert', 'mirror') AND NOT pg_catalog.has_table_privilege(target, 'UPDATE'))
     OR (mode = 'mirror' AND NOT pg_catalog.has_table_privilege(target, 'DELETE')) THEN
    RAISE EXCEPTION 'permission denied for table %', target USING ERRCODE = '42501',
      HINT = pg_catalog.format('sync(mode => %L) needs %s on the target.', mode,
        CASE mode WHEN 'append' THEN 'SELECT and INSERT' WHEN 'upsert' THEN 'SELECT, INSERT and UPDATE'
                  ELSE 'SELECT, INSERT, UPDATE and DELETE' END);
  END IF;
  -- the key: the target's primary key unless given
  IF keys IS NULL THEN
    SELECT pg_catalog.array_agg(a.attname::text ORDER BY k.ord) INTO keys
      FROM pg_catalog.pg_index i, pg_catalog.unnest(i.indkey) WITH ORDINALITY k(attnum, ord), pg_catalog.pg_attribute a
     WHERE i.indrelid = target AND i.indisprimary AND a.attrelid = target AND a.attnum = k.attnum;
    IF keys IS NULL THEN
      RAISE EXCEPTION 'target % has no primary key', target USING ERRCODE = '42P10',
        HINT = 'Pass key_columns, the columns that identify a row.';
    END IF;
  ELSIF cardinality(keys) = 0 OR pg_catalog.array_position(keys, NULL) IS NOT NULL THEN
    RAISE EXCEPTION 'key_columns must name at least one column and no NULL' USING ERRCODE = '22023';
  END IF;
  -- the columns both relations have, in the target's order
  SELECT pg_catalog.array_agg(a.attname::text ORDER BY a.attnum) INTO cols
    FROM pg_catalog.pg_attribute a
   WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped
     AND EXISTS (SELECT FROM pg_catalog.pg_attribute s WHERE s.attrelid = source AND s.attname = a.attname
                                                          AND s.attnum > 0 AND NOT s.attisdropped);
  FOREACH k IN ARRAY keys LOOP
    IF pg_catalog.array_position(cols, k) IS NULL THEN
      RAISE EXCEPTION 'key column "%" is not a column of both % and %', k, source, target USING ERRCODE = '42703';
    END IF;
  END LOOP;
  SELECT pg_catalog.array_agg(c ORDER BY o) INTO nonkey
    FROM pg_catalog.unnest(cols) WITH ORDINALITY x(c, o) WHERE c <> ALL (keys);
  nonkey := coalesce(nonkey, '{}'::text[]);
  SELECT pg_catalog.string_agg(pg_catalog.format('%I', c), ', ' ORDER BY o) INTO col_list
    FROM pg_catalog.unnest(cols) WITH ORDINALITY x(c, o);
  SELECT a.atttypid INTO key_type FROM pg_catalog.pg_attribute a WHERE a.attrelid = target AND a.attname = keys[1];
  int_keys := cardinality(keys) = 1 AND key_type IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype);
  IF mode = 'append' AND (cardinality(keys) > 1
       OR key_type NOT IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'text'::regtype, 'varchar'::regtype,
                           'bpchar'::regtype)) THEN
    RAISE EXCEPTION 'append needs a single integer or text key; the key of % is (%)', target,
      pg_catalog.array_to_string(keys, ', ') USING ERRCODE = '0A000',
      HINT = 'Use mode => ''upsert'', which compares every row by the key.';
  END IF;
  is_foreign := EXISTS (SELECT FROM pg_catalog.pg_foreign_table ft
                          JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver
                          JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw
                         WHERE ft.ftrelid = source AND w.fdwname = 'recio_sqlite');

  -- one migrate() or sync() per target at a time, to the end of the caller's transaction
  PERFORM recio_migrate.migrate_lock('migrate target', target::oid::integer, pg_catalog.format('target %s', target),
                                     false);
  IF is_foreign THEN
    SELECT * INTO f FROM recio_migrate.source_facts(source);
  ELSE
    SELECT NULL::text AS path, NULL::bigint AS size_bytes, NULL::timestamptz AS modified, NULL::bigint AS data_version
      INTO f;
  END IF;
  INSERT INTO recio_migrate.runs (kind, sync_mode, source_table, sqlite_table, source_path, source_size,
                                  source_modified, source_data_version, target_table, on_error, status)
  SELECT 'sync', mode, source::text, (SELECT substr(o, 7) FROM pg_catalog.pg_foreign_table ft,
                                        pg_catalog.unnest(ft.ftoptions) o WHERE ft.ftrelid = source AND o LIKE 'table=%'),
         f.path, f.size_bytes, f.modified, f.data_version, target::text, on_error, 'running'
  RETURNING runs.run_id INTO run_id;
  RAISE LOG 'recio_migrate: sync run % (%) from % into % started', run_id, mode, source, target;
  BEGIN
    -- the target's changes, the rejects and the work tables live in this block's subtransaction
    IF mode = 'append' THEN
      EXECUTE pg_catalog.format('SELECT max(%I%s)::text FROM %s', keys[1],
                                CASE WHEN int_keys THEN '' ELSE ' COLLATE "C"' END, target) INTO bound;
      IF is_foreign THEN
        IF bound IS NULL THEN
          SELECT * INTO m FROM recio_migrate.move_rows(source, target, run_id, on_error, false);
        ELSE
          SELECT * INTO m FROM recio_migrate.move_rows_after(source, target, run_id, on_error, false, keys[1], bound);
        END IF;
        read_count := m.rows_read;
        rows_inserted := m.rows_written;
        rows_rejected := m.rows_rejected;
      ELSE
        EXECUTE pg_catalog.format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s%s', target, col_list,
                                  col_list, source,
                                  CASE WHEN bound IS NULL THEN ''
                                       ELSE pg_catalog.format(' WHERE %I%s > $1::%s', keys[1],
                                              CASE WHEN int_keys THEN '' ELSE ' COLLATE "C"' END,
                                              pg_catalog.format_type(key_type, NULL)) END)
          USING bound;
        GET DIAGNOSTICS rows_inserted = ROW_COUNT;
        read_count := rows_inserted;
        rows_rejected := 0;
      END IF;
      -- a key the new rows repeat (the target may have no unique index on it)
      EXECUTE pg_catalog.format('SELECT %I::text AS key, count(*) AS n FROM %s%s GROUP BY 1 HAVING count(*) > 1 LIMIT 1',
                                keys[1], target,
                                CASE WHEN bound IS NULL THEN ''
                                     ELSE pg_catalog.format(' WHERE %I%s > $1::%s', keys[1],
                                            CASE WHEN int_keys THEN '' ELSE ' COLLATE "C"' END,
                                            pg_catalog.format_type(key_type, NULL)) END)
        INTO dup_key, dup_source USING bound;
      IF dup_source IS NOT NULL THEN
        RAISE EXCEPTION 'the source has % rows with key % = %', dup_source, keys[1], dup_key USING ERRCODE = '23505',
          HINT = 'sync() never picks one of several rows: remove the duplicates in the source, or sync by another key.';
      END IF;
      rows_updated := 0;
      rows_deleted := 0;
    ELSE
      -- the source's rows as migrate() converts them, or a local source as it is
      IF is_foreign THEN
        stage := pg_catalog.format('recio_sync_stage_%s', run_id);
        EXECUTE pg_catalog.format('CREATE TEMP TABLE %I AS SELECT %s FROM %s WITH NO DATA', stage, col_list, target);
        SELECT * INTO m FROM recio_migrate.move_rows(source, pg_catalog.format('pg_temp.%I', stage)::regclass, run_id,
                                                     on_error, false);
        read_count := m.rows_read;
        rows_rejected := m.rows_rejected;
        src := pg_catalog.format('pg_temp.%I', stage);
      ELSE
        src := source::text;
        rows_rejected := 0;
      END IF;
      -- the differences, by parity's key-ordered merge (checksum narrowing for a single integer key)
      diff := pg_catalog.format('recio_sync_diff_%s', run_id);
      EXECUTE pg_catalog.format(
        'CREATE TEMP TABLE %I AS SELECT DISTINCT ON (d.kind, d.key) d.kind, d.key, d.source_value, d.target_value '
        'FROM recio_migrate.parity_diff(%L::regclass, %L::regclass, %L::text[], %L::text[], NULL, 2147483647, %L) d',
        diff, src, target, keys, cols, CASE WHEN int_keys THEN 'checksum' ELSE 'rows' END);
      EXECUTE pg_catalog.format('SELECT count(*) FILTER (WHERE d.kind = %L) FROM pg_temp.%I d', 'missing', diff)
        INTO n;
      IF NOT is_foreign THEN
        EXECUTE pg_catalog.format('SELECT count(*) FROM %s', source) INTO read_count;
      END IF;
      EXECUTE pg_catalog.format('SELECT d.key::text AS key, d.source_value::bigint AS s, d.target_value::bigint AS t '
                                'FROM pg_temp.%I d WHERE d.kind = %L LIMIT 1', diff, 'duplicate_key')
        INTO dup_key, dup_source, dup_target;
      IF dup_key IS NOT NULL THEN
        RAISE EXCEPTION 'the % has % rows with key %', CASE WHEN dup_source > 1 THEN 'source' ELSE 'target' END,
          greatest(dup_source, dup_target), dup_key USING ERRCODE = '23505',
          HINT = 'sync() never picks one of several rows: remove the duplicates, or sync by another key.';
      END IF;
      EXECUTE pg_catalog.format('SELECT d.key::text AS key FROM pg_temp.%I d WHERE d.kind <> %L '
                                'AND EXISTS (SELECT FROM pg_catalog.jsonb_each(d.key) e WHERE e.value = %L) LIMIT 1',
                                diff, 'extra', 'null') INTO dup_key;
      IF dup_key IS NOT NULL THEN
        RAISE EXCEPTION 'a source row has a NULL key: %', dup_key USING ERRCODE = '23502',
          HINT = 'sync() finds a row by its key: give the row a key in the source, or sync by another key.';
      END IF;
      EXECUTE pg_catalog.format('SELECT count(*) FROM pg_temp.%I d WHERE d.kind = %L', diff, 'extra')
        INTO rows_only_in_target;
      -- the source rows to insert or update, read once
      changes := pg_catalog.format('recio_sync_changes_%s', run_id);
      EXECUTE pg_catalog.format(
        'CREATE TEMP TABLE %I AS SELECT d.kind AS "recio_sync kind", %s FROM %s s JOIN pg_temp.%I d ON %s '
        'WHERE d.kind IN (%L, %L)',
        changes, (SELECT pg_catalog.string_agg(pg_catalog.format('s.%I', c), ', ' ORDER BY o)
                    FROM pg_catalog.unnest(cols) WITH ORDINALITY x(c, o)),
        src, diff, recio_migrate.sync_key_match(src::regclass, keys, 's', 'd'), 'missing', 'mismatch');
      EXECUTE pg_catalog.format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM pg_temp.%I '
                                'WHERE "recio_sync kind" = %L', target, col_list, col_list, changes, 'missing');
      GET DIAGNOSTICS rows_inserted = ROW_COUNT;
      IF rows_inserted <> n THEN
        RAISE EXCEPTION 'sync found % rows to insert into % but inserted %', n, target, rows_inserted
          USING ERRCODE = '55000', HINT = 'A key value does not read back in the key column''s type.';
      END IF;
      rows_updated := 0;
      IF cardinality(nonkey) > 0 THEN
        EXECUTE pg_catalog.format(
          'UPDATE %s t SET (%s) = ROW(%s) FROM pg_temp.%I c WHERE c."recio_sync kind" = %L AND %s',
          target, (SELECT pg_catalog.string_agg(pg_catalog.format('%I', c), ', ' ORDER BY o)
                     FROM pg_catalog.unnest(nonkey) WITH ORDINALITY x(c, o)),
          (SELECT pg_catalog.string_agg(pg_catalog.format('c.%I', c), ', ' ORDER BY o)
             FROM pg_catalog.unnest(nonkey) WITH ORDINALITY x(c, o)),
          changes, 'mismatch',
          (SELECT pg_catalog.string_agg(pg_catalog.format('t.%I = c.%I', c, c), ' AND ') FROM pg_catalog.unnest(keys) c));
        GET DIAGNOSTICS rows_updated = ROW_COUNT;
      END IF;
      rows_deleted := 0;
      IF mode = 'mirror' AND rows_only_in_target > 0 THEN
        IF rows_rejected > 0 THEN
          -- a rejected source row looks like a row only in the target: deleting would lose it
          RAISE WARNING 'sync run %: % rows were rejected, so the % rows only in % are not deleted', run_id,
            rows_rejected, rows_only_in_target, target
            USING HINT = 'Fix the rejected values (recio_migrate.rejects) and sync again.';
        ELSE
          EXECUTE pg_catalog.format('DELETE FROM %s t USING pg_temp.%I d WHERE d.kind = %L AND %s', target, diff,
                                    'extra', recio_migrate.sync_key_match(target, keys, 't', 'd'));
          GET DIAGNOSTICS rows_deleted = ROW_COUNT;
        END IF;
      END IF;
      EXECUTE pg_catalog.format('DROP TABLE pg_temp.%I, pg_temp.%I', diff, changes);
      IF stage IS NOT NULL THEN
        EXECUTE pg_catalog.format('DROP TABLE pg_temp.%I', stage);
      END IF;
    END IF;
    -- an identity (or serial) key column hands out ids past the greatest key, never going back
    FOREACH k IN ARRAY keys LOOP
      seq := pg_catalog.pg_get_serial_sequence(target::text, k);
      CONTINUE WHEN seq IS NULL;
      EXECUTE pg_catalog.format('SELECT max(%I)::bigint FROM %s', k, target) INTO mx;
      EXECUTE pg_catalog.format('SELECT CASE WHEN s.is_called THEN s.last_value + 1 ELSE s.last_value END FROM %s s',
                                seq) INTO next_value;
      IF mx >= next_value THEN
        PERFORM pg_catalog.setval(seq, mx, true);
        RAISE NOTICE 'identity of %.% moved forward: the next value is % (was %)', target, pg_catalog.quote_ident(k),
          mx + 1, next_value;
      END IF;
    END LOOP;
    status := 'succeeded';
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
    status := 'failed';
    read_count := NULL;
    rows_inserted := NULL;
    rows_updated := NULL;
    rows_deleted := NULL;
    rows_only_in_target := NULL;
    rows_rejected := NULL;
    RAISE WARNING 'sync run % from % into % failed: %', run_id, source, target, msg
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

CREATE FUNCTION recio_migrate.export_file(server name, target_schema name, file text)
RETURNS TABLE(sqlite_table text, source regclass, rows_written bigint, seconds double precision, sha256 text)
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_export_file';
COMMENT ON FUNCTION recio_migrate.export_file(name, name, text) IS
'export_sqlite()''s file work: writes the new SQLite file and returns one row per table (use export_sqlite, which keeps the ledger)';

CREATE FUNCTION recio_migrate.export_sqlite(server name, target_schema name, file text)
RETURNS TABLE(sqlite_table text, source regclass, rows_written bigint, sha256 text)
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  e record;
  t0 timestamptz := pg_catalog.clock_timestamp();
BEGIN
  FOR e IN SELECT * FROM recio_migrate.export_file(server, target_schema, file) LOOP
    INSERT INTO recio_migrate.runs (kind, source_table, sqlite_table, source_path, target_table, on_error, status,
                                    started_at, finished_at, rows_read, rows_written, rows_rejected, seconds)
    VALUES ('export', e.source::text, e.sqlite_table, file,
            pg_catalog.format('%s (SQLite file %s)', e.sqlite_table, file), 'stop', 'succeeded',
            t0, pg_catalog.clock_timestamp(), e.rows_written, e.rows_written, 0, e.seconds);
    sqlite_table := e.sqlite_table;
    source := e.source;
    rows_written := e.rows_written;
    sha256 := e.sha256;
    RETURN NEXT;
  END LOOP;
END $$;
COMMENT ON FUNCTION recio_migrate.export_sqlite(name, name, text) IS
'write a NEW SQLite file (an existing path is refused) holding every table of server that was migrated into target_schema: the legacy CREATE TABLE texts recorded by the migration, the rows converted back into each column''s legacy representation, the legacy indexes and triggers, sqlite_sequence past every key handed out; one row per table with the finished file''s sha256, each recorded in recio_migrate.runs (kind export); superuser or pg_write_server_files';

GRANT SELECT ON recio_migrate.legacy_tables TO pg_monitor;
REVOKE ALL ON FUNCTION recio_migrate.export_file(name, name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.export_sqlite(name, name, text) FROM PUBLIC;
     SET finished_at = pg_catalog.clock_timestamp(), rows_read = read_count,
         rows_inserted = sync.rows_inserted, rows_updated = sync.rows_updated, rows_deleted = sync.rows_deleted,
         rows_only_in_target = sync.rows_only_in_target, rows_rejected = sync.rows_rejected,
         seconds = sync.seconds, status = sync.status,
         error = CASE WHEN sync.status = 'failed' THEN state || ': ' || msg END
   WHERE r.run_id = sync.run_id;
END $$;
COMMENT ON FUNCTION recio_migrate.sync(regclass, regclass, text, text[], text) IS
'bring a target up to date with its source by key (default: the target''s primary key), in the caller''s transaction: append inserts the rows past the target''s greatest key (the bound goes to SQLite), upsert inserts missing and updates differing rows (found by parity''s merge) and counts rows only in the target, mirror also deletes those; values converted as migrate() does (on_error, rejects); an identity key moved past the greatest key; recorded in recio_migrate.runs (kind sync); a failed run leaves the target unchanged';

CREATE FUNCTION recio_migrate.sync_server(server name, target_schema name, mode text DEFAULT 'upsert',
    OUT source regclass, OUT target regclass, OUT run_id bigint, OUT status text, OUT rows_inserted bigint,
    OUT rows_updated bigint, OUT rows_deleted bigint, OUT rows_only_in_target bigint, OUT rows_rejected bigint,
    OUT seconds double precision, OUT error text)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  srv oid;
  t record;
  s record;
  msg text;
  state text;
  found_any boolean := false;
BEGIN
  IF server IS NULL OR target_schema IS NULL OR mode IS NULL THEN
    RAISE EXCEPTION 'server, target_schema and mode must not be NULL' USING ERRCODE = '22004';
  END IF;
  SELECT fs.oid INTO srv FROM pg_catalog.pg_foreign_server fs WHERE fs.srvname = server;
  IF srv IS NULL THEN
    RAISE EXCEPTION 'server "%" does not exist', server USING ERRCODE = '42704';
  END IF;
  PERFORM recio_migrate.migrate_lock('migrate schema', pg_catalog.hashtext(target_schema),
                                     pg_catalog.format('schema %I', target_schema), false);
  -- every target of target_schema that a migrate() run filled from a foreign table of this server,
  -- with that run's on_error
  FOR t IN
    SELECT DISTINCT ON (tr.oid) fr.oid::regclass AS src, tr.oid::regclass AS tgt, r.on_error
      FROM recio_migrate.runs r
      JOIN pg_catalog.pg_class tr ON tr.oid = pg_catalog.to_regclass(r.target_table)
      JOIN pg_catalog.pg_class fr ON fr.oid = pg_catalog.to_regclass(r.source_table)
      JOIN pg_catalog.pg_foreign_table ft ON ft.ftrelid = fr.oid
     WHERE r.kind = 'migrate' AND r.status = 'succeeded' AND ft.ftserver = srv
       AND tr.relnamespace = (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = target_schema)
     ORDER BY tr.oid, r.run_id DESC
  LOOP
    found_any := true;
    source := t.src;
    target := t.tgt;
    error := NULL;
    BEGIN
      SELECT * INTO s FROM recio_migrate.sync(t.src, t.tgt, mode, NULL, t.on_error);
      run_id := s.run_id;
      status := s.status;
      rows_inserted := s.rows_inserted;
      rows_updated := s.rows_updated;
      rows_deleted := s.rows_deleted;
      rows_only_in_target := s.rows_only_in_target;
      rows_rejected := s.rows_rejected;
      seconds := s.seconds;
      SELECT r.error INTO error FROM recio_migrate.runs r WHERE r.run_id = s.run_id;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
      run_id := NULL;
      status := 'failed';
      rows_inserted := NULL;
      rows_updated := NULL;
      rows_deleted := NULL;
      rows_only_in_target := NULL;
      rows_rejected := NULL;
      seconds := NULL;
      error := state || ': ' || msg;
      RAISE WARNING 'sync of % from % failed: %', t.tgt, t.src, msg;
    END;
    RETURN NEXT;
  END LOOP;
  IF NOT found_any THEN
    RAISE NOTICE 'no table of server % was migrated into schema %', pg_catalog.quote_ident(server),
      pg_catalog.quote_ident(target_schema) USING HINT = 'Run recio_migrate.migrate_server() first.';
  END IF;
END $$;
COMMENT ON FUNCTION recio_migrate.sync_server(name, name, text) IS
'sync() every table of target_schema that migrate() filled from a foreign table of server (found in recio_migrate.runs), with that run''s on_error, one row per table, each in its own subtransaction: a failing table is reported (status failed, error) and the others go on';

-- sync: writes the target (and the ledgers), like migrate()
REVOKE ALL ON FUNCTION recio_migrate.move_rows_after(regclass, regclass, bigint, text, boolean, name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.sync(regclass, regclass, text, text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.sync_server(name, name, text) FROM PUBLIC;

-- ==== export_sqlite and the legacy DDL ledger (issue 13) ====
CREATE TABLE recio_migrate.legacy_tables (
  run_id bigint PRIMARY KEY REFERENCES recio_migrate.runs ON DELETE CASCADE,
  sqlite_table text NOT NULL,
  create_sql text,
  index_sql text[] NOT NULL,
  trigger_sql text[] NOT NULL,
  sqlite_sequence bigint
);
COMMENT ON TABLE recio_migrate.legacy_tables IS 'the legacy schema of each migrated table as its file held it when the run began: its CREATE TABLE, CREATE INDEX and CREATE TRIGGER texts and its sqlite_sequence entry; export_sqlite() writes them back';
SELECT pg_catalog.pg_extension_config_dump('recio_migrate.legacy_tables', '');

CREATE FUNCTION recio_migrate.sqlite_table_ddl(source regclass,
    OUT create_sql text, OUT index_sql text[], OUT trigger_sql text[], OUT sqlite_sequence bigint)
RETURNS record
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_sqlite_table_ddl';
COMMENT ON FUNCTION recio_migrate.sqlite_table_ddl(regclass) IS
'the legacy schema of a recio_sqlite foreign table''s SQLite table: its CREATE TABLE text, the CREATE INDEX and CREATE TRIGGER texts on it, and its sqlite_sequence value (NULL without one)';

CREATE FUNCTION recio_migrate.export_file(server name, target_schema name, file text)
RETURNS TABLE(sqlite_table text, source regclass, rows_written bigint, seconds double precision, sha256 text)
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_export_file';
COMMENT ON FUNCTION recio_migrate.export_file(name, name, text) IS
'export_sqlite()''s file work: writes the new SQLite file and returns one row per table (use export_sqlite, which keeps the ledger)';

CREATE FUNCTION recio_migrate.export_sqlite(server name, target_schema name, file text)
RETURNS TABLE(sqlite_table text, source regclass, rows_written bigint, sha256 text)
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  e record;
  t0 timestamptz := pg_catalog.clock_timestamp();
BEGIN
  FOR e IN SELECT * FROM recio_migrate.export_file(server, target_schema, file) LOOP
    INSERT INTO recio_migrate.runs (kind, source_table, sqlite_table, source_path, target_table, on_error, status,
                                    started_at, finished_at, rows_read, rows_written, rows_rejected, seconds)
    VALUES ('export', e.source::text, e.sqlite_table, file,
            pg_catalog.format('%s (SQLite file %s)', e.sqlite_table, file), 'stop', 'succeeded',
            t0, pg_catalog.clock_timestamp(), e.rows_written, e.rows_written, 0, e.seconds);
    sqlite_table := e.sqlite_table;
    source := e.source;
    rows_written := e.rows_written;
    sha256 := e.sha256;
    RETURN NEXT;
  END LOOP;
END $$;
COMMENT ON FUNCTION recio_migrate.export_sqlite(name, name, text) IS
'write a NEW SQLite file (an existing path is refused) holding every table of server that was migrated into target_schema: the legacy CREATE TABLE texts recorded by the migration, the rows converted back into each column''s legacy representation, the legacy indexes and triggers, sqlite_sequence past every key handed out; one row per table with the finished file''s sha256, each recorded in recio_migrate.runs (kind export); superuser or pg_write_server_files';

GRANT SELECT ON recio_migrate.legacy_tables TO pg_monitor;
REVOKE ALL ON FUNCTION recio_migrate.export_file(name, name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.export_sqlite(name, name, text) FROM PUBLIC;

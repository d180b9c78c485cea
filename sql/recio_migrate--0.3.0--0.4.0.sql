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

-- ==== types that never round a later write and never change a written text (issue 11) ====
-- profile() gains observed_type, legacy_format and type_reason; create_target() gains numeric_typmod
DROP FUNCTION recio_migrate.create_target(regclass, text, boolean);
DROP FUNCTION recio_migrate.profile(regclass);
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
  END IF;
  RETURN pg_catalog.array_to_string(stmts, E';\n') || ';';
END $$;
COMMENT ON FUNCTION recio_migrate.create_target(regclass, text, boolean, text) IS
'create a table typed from the profile of a recio_sqlite foreign table (primary key from SQLite, NOT NULL kept where the data has no NULLs) and return its DDL; dry_run returns the DDL only. Types take every value unchanged and never round a later write: REAL and decimal text become numeric without a typmod, which holds the decimal a Python float prints and any longer decimal written later exactly, where double precision would round past 17 digits (numeric_typmod => ''observed'' asks for numeric(p,s) from the data), text stays text unless every value comes back as written; each column''s COMMENT says which rule chose its type';

-- ==== cutover-ready targets: schema_plan and the expression translator (issue 11) ====


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

-- ==== cutover-ready targets: the carried schema, schema_notes, check_references (issue 11) ====
-- schema_notes, apply_schema() and its helpers, identity_forward(), check_references() (new: sql/src/carried_schema.sql)
CREATE TABLE recio_migrate.schema_notes (
  note_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id bigint REFERENCES recio_migrate.runs ON DELETE CASCADE,
  target text NOT NULL,
  phase text NOT NULL,
  object_kind text NOT NULL,
  object_name text,
  action text NOT NULL CHECK (action IN ('created', 'translated', 'skipped')),
  sqlite_sql text,
  postgres_sql text,
  reason text,
  properties jsonb,
  noted_by name NOT NULL DEFAULT current_user,
  noted_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
CREATE INDEX ON recio_migrate.schema_notes (target, note_id);
CREATE INDEX ON recio_migrate.schema_notes (run_id);
COMMENT ON TABLE recio_migrate.schema_notes IS
'every object of a SQLite schema carried to a target: created or translated (postgres_sql ran), or skipped (the reason, or the error the statement raised); run_id is the migration run the phase followed (NULL for create_target() alone)';
SELECT pg_catalog.pg_extension_config_dump('recio_migrate.schema_notes', '');
SELECT pg_catalog.pg_extension_config_dump('recio_migrate.schema_notes_note_id_seq', '');

CREATE FUNCTION recio_migrate.quoted_columns(columns text[])
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT pg_catalog.string_agg(pg_catalog.format('%I', c), ', ' ORDER BY o)
      FROM pg_catalog.unnest(columns) WITH ORDINALITY AS u(c, o) $$;
COMMENT ON FUNCTION recio_migrate.quoted_columns(text[]) IS
'column names as a column list, each quoted when needed: a, "B c"';

CREATE FUNCTION recio_migrate.readable_column(rel regclass, column_name text)
RETURNS smallint
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  attnum smallint;
  whole boolean := pg_catalog.has_table_privilege(rel, 'SELECT');
BEGIN
  SELECT a.attnum INTO attnum FROM pg_catalog.pg_attribute a
   WHERE a.attrelid = rel AND a.attname = column_name AND a.attnum > 0 AND NOT a.attisdropped;
  IF attnum IS NULL AND whole THEN
    RAISE EXCEPTION 'column "%" of relation % does not exist', column_name, rel USING ERRCODE = '42703';
  END IF;
  IF attnum IS NULL OR NOT (whole OR pg_catalog.has_column_privilege(rel, attnum, 'SELECT')) THEN
    RAISE EXCEPTION 'permission denied for table %', rel USING ERRCODE = '42501';
  END IF;
  RETURN attnum;
END $$;
COMMENT ON FUNCTION recio_migrate.readable_column(regclass, text) IS
'the number of a column the current user may SELECT (from the whole relation or that column), else 42501 (also for a column that does not exist, unless the whole relation is readable: then 42703); takes no lock';

CREATE FUNCTION recio_migrate.check_references(child regclass, child_columns text[], parent regclass,
    parent_columns text[], add_constraint boolean DEFAULT false)
RETURNS TABLE(orphan_rows bigint, orphan_keys jsonb, constraint_name name)
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  n constant integer := cardinality(child_columns);
  ckeys text[] := '{}'::text[];
  pkeys text[] := '{}'::text[];
  cnums smallint[] := '{}'::smallint[];
  pnums smallint[] := '{}'::smallint[];
  cols text;
  pcols text;
  not_null text;
  joined text;
  con_oid oid;
  con_valid boolean;
BEGIN
  IF n = 0 OR n <> cardinality(parent_columns) THEN
    RAISE EXCEPTION 'child_columns and parent_columns must name the same number of columns, at least one'
      USING ERRCODE = '22023';
  END IF;
  IF pg_catalog.array_position(child_columns, NULL) IS NOT NULL
     OR pg_catalog.array_position(parent_columns, NULL) IS NOT NULL THEN
    RAISE EXCEPTION 'child_columns and parent_columns must not contain NULL' USING ERRCODE = '22004';
  END IF;
  cols := recio_migrate.quoted_columns(child_columns);
  pcols := recio_migrate.quoted_columns(parent_columns);
  -- the caller's rights before any lock (README, "Privileges"): a missing column is refused like a
  -- column the caller may not read, so nothing about a relation the caller may not read shows
  FOR i IN 1 .. n LOOP
    cnums := cnums || recio_migrate.readable_column(child, child_columns[i]);
    pnums := pnums || recio_migrate.readable_column(parent, parent_columns[i]);
  END LOOP;
  IF add_constraint THEN
    IF NOT pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = child), 'USAGE') THEN
      RAISE EXCEPTION 'must be owner of table % to add a foreign key to it', child USING ERRCODE = '42501',
        HINT = 'Ask its owner to call check_references() with add_constraint, or call it without add_constraint to count the orphans.';
    END IF;
    FOR i IN 1 .. n LOOP
      IF NOT pg_catalog.has_column_privilege(parent, pnums[i], 'REFERENCES') THEN
        RAISE EXCEPTION 'permission denied to reference column % of table %',
          pg_catalog.quote_ident(parent_columns[i]), parent USING ERRCODE = '42501',
          HINT = 'A foreign key needs the REFERENCES privilege on the parent''s columns.';
      END IF;
    END LOOP;
    -- the same foreign key already there: reused (validated below when no orphan is left)
    SELECT c.oid, c.conname, c.convalidated INTO con_oid, constraint_name, con_valid
      FROM pg_catalog.pg_constraint c
     WHERE c.conrelid = child AND c.contype = 'f' AND c.confrelid = parent AND c.conkey = cnums
       AND c.confkey = pnums
     ORDER BY c.oid LIMIT 1;
  END IF;
  IF add_constraint AND con_oid IS NULL THEN
    -- NOT VALID first: from here on no new orphan can come in, so the count below is the final one
    EXECUTE pg_catalog.format('ALTER TABLE %s ADD FOREIGN KEY (%s) REFERENCES %s (%s) NOT VALID', child, cols,
                              parent, pcols);
    SELECT c.oid, c.conname, c.convalidated INTO con_oid, constraint_name, con_valid
      FROM pg_catalog.pg_constraint c
     WHERE c.conrelid = child AND c.contype = 'f' AND c.confrelid = parent AND c.conkey = cnums
       AND c.confkey = pnums
     ORDER BY c.oid DESC LIMIT 1;
  END IF;
  FOR i IN 1 .. n LOOP
    ckeys := ckeys || pg_catalog.format('c.%I', child_columns[i]);
    pkeys := pkeys || pg_catalog.format('p.%I = c.%I', parent_columns[i], child_columns[i]);
  END LOOP;
  -- MATCH SIMPLE: a row with a NULL in its key refers to nothing; an anti-join the parent's key index serves
  SELECT pg_catalog.string_agg(k || ' IS NOT NULL', ' AND ') INTO not_null FROM pg_catalog.unnest(ckeys) k;
  joined := pg_catalog.array_to_string(pkeys, ' AND ');
  EXECUTE pg_catalog.format(
    'WITH o AS MATERIALIZED (SELECT %1$s FROM %2$s c WHERE %3$s AND NOT EXISTS (SELECT FROM %4$s p WHERE %5$s)), '
    'k AS (SELECT DISTINCT %6$s FROM o ORDER BY %6$s LIMIT 100) '
    'SELECT (SELECT count(*) FROM o), (SELECT coalesce(pg_catalog.jsonb_agg(%7$s ORDER BY %6$s), %8$L) FROM k)',
    pg_catalog.array_to_string(ckeys, ', '), child, not_null, parent, joined, cols,
    CASE WHEN n = 1 THEN pg_catalog.format('pg_catalog.to_jsonb(%I)', child_columns[1])
         ELSE pg_catalog.format('pg_catalog.jsonb_build_array(%s)', cols) END, '[]')
    INTO orphan_rows, orphan_keys;
  IF con_oid IS NOT NULL AND NOT con_valid THEN
    IF orphan_rows = 0 THEN
      EXECUTE pg_catalog.format('ALTER TABLE %s VALIDATE CONSTRAINT %I', child, constraint_name);
    ELSE
      RAISE NOTICE 'foreign key % on % stays NOT VALID: % rows of % have no parent in %', constraint_name, child,
        orphan_rows, child, parent
        USING HINT = 'Delete or correct the orphan rows, then ALTER TABLE ... VALIDATE CONSTRAINT (or call check_references() again).';
    END IF;
  END IF;
  RETURN NEXT;
END $$;
COMMENT ON FUNCTION recio_migrate.check_references(regclass, text[], regclass, text[], boolean) IS
'count the rows of child whose key (child_columns, none NULL) has no row in parent (parent_columns), listing the first 100 such keys in key order; with add_constraint, add the foreign key (NOT VALID while orphans exist, validated otherwise) and return its name; the caller needs SELECT on both (checked before any lock), and to add the key, ownership of child and REFERENCES on parent';

CREATE FUNCTION recio_migrate.note_schema_object(target text, run_id bigint, phase text, object_kind text,
    object_name text, sqlite_sql text, postgres_sql text, action text, reason text, properties jsonb,
    OUT done text, OUT why text)
RETURNS record
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  msg text;
  state text;
  before oid[];
  fk record;
  orphans record;
BEGIN
  IF target IS NULL OR phase IS NULL OR object_kind IS NULL OR action IS NULL THEN
    RAISE EXCEPTION 'target, phase, object_kind and action must not be NULL' USING ERRCODE = '22004';
  END IF;
  done := action;
  why := reason;
  IF done <> 'skipped' AND postgres_sql IS NOT NULL THEN
    SELECT coalesce(pg_catalog.array_agg(c.oid), '{}') INTO before FROM pg_catalog.pg_constraint c
     WHERE c.conrelid = pg_catalog.to_regclass(target) AND c.contype = 'f';
    -- one object that fails (the data violates a UNIQUE, a CHECK) is noted and never stops the others
    BEGIN
      EXECUTE postgres_sql;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
      done := 'skipped';
      why := pg_catalog.format('%s: %s', state, msg);
      RAISE WARNING '% % of % not created: %', object_kind, coalesce(object_name, '(unnamed)'), target, msg
        USING DETAIL = pg_catalog.format('SQLSTATE %s; statement: %s', state, postgres_sql),
              HINT = 'The migration goes on without it; recio_migrate.schema_notes records it.';
    END;
    -- a foreign key is added NOT VALID and validated here; orphans leave it NOT VALID, counted
    FOR fk IN SELECT c.conname, c.confrelid::regclass AS parent,
                     ARRAY(SELECT a.attname::text FROM pg_catalog.unnest(c.conkey) WITH ORDINALITY k(n, o)
                           JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
                           ORDER BY k.o) AS cols,
                     ARRAY(SELECT a.attname::text FROM pg_catalog.unnest(c.confkey) WITH ORDINALITY k(n, o)
                           JOIN pg_catalog.pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n
                           ORDER BY k.o) AS parent_cols
                FROM pg_catalog.pg_constraint c
               WHERE done <> 'skipped' AND c.conrelid = pg_catalog.to_regclass(target) AND c.contype = 'f'
                 AND NOT c.convalidated
                 AND c.oid <> ALL (before)
               ORDER BY c.conname LOOP
      BEGIN
        EXECUTE pg_catalog.format('ALTER TABLE %s VALIDATE CONSTRAINT %I', target, fk.conname);
        why := pg_catalog.concat_ws('; ', why, 'validated: every row has its parent');
      EXCEPTION WHEN foreign_key_violation THEN
        SELECT * INTO orphans FROM recio_migrate.check_references(pg_catalog.to_regclass(target), fk.cols, fk.parent,
                                                                  fk.parent_cols);
        why := pg_catalog.format('NOT VALID: %s rows have no parent in %s (first keys: %s)', orphans.orphan_rows,
                                 fk.parent, orphans.orphan_keys);
        RAISE NOTICE 'foreign key % of % stays NOT VALID: % rows have no parent in %', fk.conname, target,
          orphans.orphan_rows, fk.parent
          USING DETAIL = pg_catalog.format('First orphan keys: %s.', orphans.orphan_keys),
                HINT = 'Delete or correct the orphan rows, then ALTER TABLE ... VALIDATE CONSTRAINT.';
      END;
    END LOOP;
  ELSIF done = 'skipped' THEN
    RAISE NOTICE '% % of % not carried: %', object_kind, coalesce(object_name, '(unnamed)'), target,
      coalesce(reason, 'no reason given');
  END IF;
  -- create_target() is for everybody; the ledger is written by those who may (as migrate() writes runs)
  IF pg_catalog.has_table_privilege('recio_migrate.schema_notes', 'INSERT') THEN
    INSERT INTO recio_migrate.schema_notes (run_id, target, phase, object_kind, object_name, action, sqlite_sql,
                                            postgres_sql, reason, properties)
    VALUES (run_id, target, phase, object_kind, object_name, done, sqlite_sql, postgres_sql, why, properties);
  END IF;
END $$;
COMMENT ON FUNCTION recio_migrate.note_schema_object(text, bigint, text, text, text, text, text, text, text, jsonb) IS
'carry one object of schema_plan() to a target: run its statement in a subtransaction (an error makes it skipped, with a WARNING), validate a foreign key it adds (orphans leave it NOT VALID, counted, with a NOTICE), NOTICE a skipped object''s reason, and record it in schema_notes when the caller may write it; returns the action taken and its reason';

CREATE FUNCTION recio_migrate.apply_schema(source regclass, target regclass, phase text, run_id bigint DEFAULT NULL,
    OUT object_kind text, OUT object_name text, OUT action text, OUT postgres_sql text, OUT reason text)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r record;
BEGIN
  IF source IS NULL OR target IS NULL OR phase IS NULL THEN
    RAISE EXCEPTION 'source, target and phase must not be NULL' USING ERRCODE = '22004';
  END IF;
  IF phase NOT IN ('create', 'load', 'file', 'view') THEN
    RAISE EXCEPTION 'invalid value for phase: "%"', phase USING ERRCODE = '22023',
      HINT = 'Expected one of: create, load, file, view.';
  END IF;
  FOR r IN SELECT * FROM recio_migrate.schema_plan(source, target) p WHERE p.phase = apply_schema.phase LOOP
    SELECT * INTO action, reason FROM recio_migrate.note_schema_object(target::text, run_id, r.phase, r.object_kind,
      r.object_name, r.sqlite_sql, r.postgres_sql, r.action, r.reason, r.properties);
    object_kind := r.object_kind;
    object_name := r.object_name;
    postgres_sql := r.postgres_sql;
    RETURN NEXT;
  END LOOP;
END $$;
COMMENT ON FUNCTION recio_migrate.apply_schema(regclass, regclass, text, bigint) IS
'carry one phase of schema_plan(source, target) to target (create: right after CREATE TABLE; load: keys, constraints and indexes after the bulk load; file: foreign keys once every table of the file is loaded; view: views), each object noted in schema_notes under run_id; returns each object with the action taken and its reason';

CREATE FUNCTION recio_migrate.identity_forward(source regclass, target regclass)
RETURNS bigint
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  col name;
  seq regclass;
  seen bigint;
  sqlite_seq bigint;
  next_now bigint;
  next_value bigint;
  msg text;
BEGIN
  SELECT a.attname INTO col FROM pg_catalog.pg_attribute a
   WHERE a.attrelid = target AND a.attidentity <> '' AND NOT a.attisdropped ORDER BY a.attnum LIMIT 1;
  IF col IS NULL THEN
    RETURN NULL;
  END IF;
  seq := pg_catalog.pg_get_serial_sequence(target::text, col)::regclass;
  EXECUTE pg_catalog.format('SELECT max(%I)::bigint FROM %s', col, target) INTO seen;
  -- AUTOINCREMENT never hands out an id again, not even one deleted since: its counter may be ahead
  BEGIN
    SELECT max((p.properties->>'sqlite_sequence')::bigint) INTO sqlite_seq
      FROM recio_migrate.schema_plan(source, target) p WHERE p.properties ? 'sqlite_sequence';
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
    RAISE WARNING 'sqlite_sequence of % not read: %', source, msg
      USING HINT = pg_catalog.format('The identity of %s is set past max(%I) only; set it by hand if SQLite''s AUTOINCREMENT counter is ahead.', target, col);
  END;
  next_value := greatest(seen, sqlite_seq) + 1;
  SELECT coalesce(pg_catalog.pg_sequence_last_value(seq) + s.seqincrement, s.seqstart) INTO next_now
    FROM pg_catalog.pg_sequence s WHERE s.seqrelid = seq;
  -- only ever forward: the application may have taken ids since an earlier run
  IF next_value > next_now THEN
    PERFORM pg_catalog.setval(seq, next_value - 1, true);
    RETURN next_value;
  END IF;
  RETURN next_now;
END $$;
COMMENT ON FUNCTION recio_migrate.identity_forward(regclass, regclass) IS
'move the identity of target forward so that its next value is greatest(max(key), SQLite''s sqlite_sequence for the source table) + 1, never backward; returns the next value (NULL when target has no identity column)';

-- create_target() applies schema_plan()'s create phase; migrate() moves the identity forward
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
    stmts := stmts || ARRAY(SELECT c.postgres_sql FROM recio_migrate.apply_schema(source, qname::regclass, 'create') c
                            WHERE c.action <> 'skipped');
  END IF;
  RETURN pg_catalog.array_to_string(stmts, E';\n') || ';';
END $$;
COMMENT ON FUNCTION recio_migrate.create_target(regclass, text, boolean) IS
'create a table typed from the profile of a recio_sqlite foreign table (primary key from SQLite, NOT NULL kept where the data has no NULLs) and return its DDL; dry_run returns the DDL only';


CREATE OR REPLACE FUNCTION recio_migrate.migrate(source regclass, target regclass, on_error text DEFAULT 'stop',
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
'move every row of a recio_sqlite foreign table into a table (columns by name, bulk insert), recording the run in recio_migrate.runs and unconvertible values in recio_migrate.rejects; a failed run leaves the target unchanged; one run per target at a time (a second waits, or with nowait fails with 55P03)';


-- migrate_server(): the load, file and view phases, views imported, and the schema_skipped column (a new OUT signature)
DROP FUNCTION recio_migrate.migrate_server(name, name, text, name, boolean);
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


REVOKE ALL ON FUNCTION recio_migrate.migrate_server(name, name, text, name, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.identity_forward(regclass, regclass) FROM PUBLIC;
GRANT SELECT ON recio_migrate.schema_notes TO pg_monitor;

-- ==== any table as a migrate() target (issue 11) ====
-- move_rows() takes partitioned targets and targets with triggers or foreign keys; refused rows go to rejects
COMMENT ON TABLE recio_migrate.rejects IS 'values a migration run could not convert: the row was left out (reject) or the value stored as NULL (null); and rows the target refused under on_error reject or null (a constraint, a foreign key, no partition for the row): storage_class row, raw_value the error''s detail, column_name the error''s column or (row), action reject';
COMMENT ON FUNCTION recio_migrate.move_rows(regclass, regclass, bigint, text, boolean) IS
'data path of migrate(): move every row of a recio_sqlite foreign table into a table: bulk insert into a plain table, routed to the partitions of a partitioned table, through the executor''s insert path for a table with row triggers or foreign keys (call migrate() instead)';
COMMENT ON FUNCTION recio_migrate.migrate(regclass, regclass, text, boolean, boolean) IS
'move every row of a recio_sqlite foreign table into a table (columns by name; bulk insert, routed to the partitions of a partitioned target, through the executor''s insert path where row triggers or foreign keys must fire), recording the run in recio_migrate.runs and unconvertible values and refused rows in recio_migrate.rejects; a failed run leaves the target unchanged; one run per target at a time (a second waits, or with nowait fails with 55P03)';

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

CREATE FUNCTION recio_migrate.move_rows_keys(source regclass, target regclass, run_id bigint, on_error text,
    allow_rounding boolean, key_columns text[], keys text,
    OUT rows_read bigint, OUT rows_written bigint, OUT rows_rejected bigint)
RETURNS record
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_move_rows';
COMMENT ON FUNCTION recio_migrate.move_rows_keys(regclass, regclass, bigint, text, boolean, text[], text) IS
'data path of sync()''s upsert and mirror modes: move_rows() over the rows whose key (integer or text columns key_columns) is one of keys, a JSON array of key arrays, looked up by SQLite (call sync() instead)';

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
  direct boolean;
  key_list text;
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

  /*
   * upsert and mirror over a foreign source whose columns are declared in the
   * target's types: parity's merge reads the foreign table itself, and only
   * the rows that differ are read again through move_rows (migrate()'s
   * conversion, its refusal to round).  Else the whole source is converted
   * into a work table first.  on_error reject or null needs that: the
   * foreign scan would stop on a bad value.
   */
  direct := is_foreign AND mode <> 'append' AND on_error = 'stop'
    AND NOT EXISTS (SELECT FROM pg_catalog.unnest(keys) c, pg_catalog.pg_attribute a
                     WHERE a.attrelid = target AND a.attname = c
                       AND a.atttypid NOT IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'text'::regtype,
                                              'varchar'::regtype, 'bpchar'::regtype))
    AND NOT EXISTS (SELECT FROM pg_catalog.unnest(cols) c, pg_catalog.pg_attribute a, pg_catalog.pg_attribute t
                     WHERE a.attrelid = source AND a.attname = c AND t.attrelid = target AND t.attname = c
                       AND (a.atttypid, a.atttypmod) IS DISTINCT FROM (t.atttypid, t.atttypmod))
    -- a column or table option on_error other than stop would make the scan skip or blank a bad value
    AND NOT EXISTS (SELECT FROM pg_catalog.pg_foreign_table ft, pg_catalog.unnest(ft.ftoptions) o
                     WHERE ft.ftrelid = source AND o LIKE 'on_error=%' AND o <> 'on_error=stop')
    AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a, pg_catalog.unnest(a.attfdwoptions) o
                     WHERE a.attrelid = source AND o LIKE 'on_error=%' AND o <> 'on_error=stop');

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
      -- a key the new rows repeat, unless a unique index on the key already refused it
      IF NOT EXISTS (SELECT FROM pg_catalog.pg_index i, pg_catalog.pg_attribute a
                      WHERE i.indrelid = target AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
                        AND i.indnkeyatts = 1 AND a.attrelid = target AND a.attnum = i.indkey[0]
                        AND a.attname = keys[1]) THEN
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
      END IF;
      rows_updated := 0;
      rows_deleted := 0;
    ELSE
      -- the source's rows as migrate() converts them, or a local source as it is
      IF direct THEN
        src := source::text;
        rows_rejected := 0;
      ELSIF is_foreign THEN
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
      -- the differences, by parity's key-ordered merge (rows mode: see the README, "sync")
      diff := pg_catalog.format('recio_sync_diff_%s', run_id);
      EXECUTE pg_catalog.format(
        'CREATE TEMP TABLE %I AS SELECT DISTINCT ON (d.kind, d.key) d.kind, d.key, d.source_value, d.target_value '
        'FROM recio_migrate.parity_diff(%L::regclass, %L::regclass, %L::text[], %L::text[], NULL, 2147483647, %L) d',
        diff, src, target, keys, cols, 'rows');
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
      -- direct: only the rows to insert or update leave the file, converted by move_rows
      IF direct THEN
        stage := pg_catalog.format('recio_sync_stage_%s', run_id);
        EXECUTE pg_catalog.format('CREATE TEMP TABLE %I AS SELECT %s FROM %s WITH NO DATA', stage, col_list, target);
        EXECUTE pg_catalog.format('SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(%s))::text '
                                  'FROM pg_temp.%I d WHERE d.kind IN (%L, %L)',
                                  (SELECT pg_catalog.string_agg(pg_catalog.format('d.key -> %L', c), ', ' ORDER BY o)
                                     FROM pg_catalog.unnest(keys) WITH ORDINALITY x(c, o)),
                                  diff, 'missing', 'mismatch') INTO key_list;
        IF key_list IS NOT NULL THEN
          SELECT * INTO m FROM recio_migrate.move_rows_keys(source, pg_catalog.format('pg_temp.%I', stage)::regclass,
                                                            run_id, on_error, false, keys, key_list);
          read_count := m.rows_read;
        ELSE
          read_count := 0;
        END IF;
        src := pg_catalog.format('pg_temp.%I', stage);
      END IF;
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
REVOKE ALL ON FUNCTION recio_migrate.move_rows_keys(regclass, regclass, bigint, text, boolean, text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.sync(regclass, regclass, text, text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.sync_server(name, name, text) FROM PUBLIC;

-- ==== snapshot() and cutover_check() (issue 12) ====


CREATE TABLE recio_migrate.snapshots (
  snapshot_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  server name NOT NULL,
  snapshot_server name NOT NULL,
  source_file text NOT NULL,
  file text NOT NULL,
  bytes bigint NOT NULL,
  pages bigint NOT NULL,
  page_size integer NOT NULL,
  sha256 text NOT NULL,
  data_version bigint NOT NULL,
  source_journal text NOT NULL CHECK (source_journal IN ('wal', 'rollback')),
  taken_at timestamptz NOT NULL,
  taken_by name NOT NULL DEFAULT current_user,
  seconds double precision NOT NULL,
  restarts integer NOT NULL,
  steps integer NOT NULL,
  one_transaction boolean NOT NULL,
  longest_step_ms double precision NOT NULL
);
COMMENT ON TABLE recio_migrate.snapshots IS
'ledger of snapshot(): one row per copy of a legacy file (the copy''s sha256, size and page count, how the copy went: restarts, steps, the longest step, whether it finished inside one WAL read transaction)';
COMMENT ON COLUMN recio_migrate.snapshots.data_version IS
'PRAGMA data_version of the copying connection when the copy ended: SQLite defines it per connection, so it identifies nothing across connections';
SELECT pg_catalog.pg_extension_config_dump('recio_migrate.snapshots', '');
SELECT pg_catalog.pg_extension_config_dump('recio_migrate.snapshots_snapshot_id_seq', '');

CREATE FUNCTION recio_migrate.snapshot_copy(server name, directory text,
    OUT file text, OUT bytes bigint, OUT pages bigint, OUT page_size integer, OUT sha256 text,
    OUT data_version bigint, OUT source_journal text, OUT restarts integer, OUT steps integer,
    OUT one_transaction boolean, OUT longest_step_ms double precision, OUT seconds double precision,
    OUT taken_at timestamptz, OUT source_file text)
RETURNS record
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_snapshot_copy';
COMMENT ON FUNCTION recio_migrate.snapshot_copy(name, text) IS
'file half of snapshot(): copy a recio_sqlite server''s file with SQLite''s online backup API into a new file in directory (call snapshot() instead)';

CREATE FUNCTION recio_migrate.snapshot(server name, directory text)
RETURNS TABLE(snapshot_server name, file text, bytes bigint, sha256 text, data_version bigint, taken_at timestamptz)
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  c record;
  prefix text := server;
  base text;
  snap name;
  n integer := 1;
  opts text[];
BEGIN
  -- the caller creates the snapshot's server: refuse before any file is written
  IF NOT pg_catalog.has_foreign_data_wrapper_privilege('recio_sqlite', 'USAGE') THEN
    RAISE EXCEPTION 'permission denied for foreign-data wrapper recio_sqlite' USING ERRCODE = '42501',
      HINT = 'snapshot() creates a server over the copy as the caller: grant USAGE on the wrapper.';
  END IF;
  SELECT * INTO STRICT c FROM recio_migrate.snapshot_copy(server, directory);
  -- <server>_snap_<UTC time>, the server's part cut to 40 bytes (a name holds 63)
  WHILE pg_catalog.octet_length(prefix) > 40 LOOP
    prefix := pg_catalog.left(prefix, -1);
  END LOOP;
  base := prefix || '_snap_' || pg_catalog.to_char(c.taken_at AT TIME ZONE 'UTC', 'YYYYMMDD"_"HH24MISS');
  snap := base;
  WHILE EXISTS (SELECT FROM pg_catalog.pg_foreign_server s WHERE s.srvname = snap) LOOP
    n := n + 1;
    snap := base || '_' || n;
  END LOOP;
  -- the original's other options (busy_timeout_ms, timezone, ...); never updatable
  SELECT pg_catalog.array_agg(pg_catalog.format('%I %L', o.option_name, o.option_value) ORDER BY o.option_name)
    INTO opts
    FROM pg_catalog.pg_foreign_server s, pg_catalog.pg_options_to_table(s.srvoptions) o
   WHERE s.srvname = server AND o.option_name NOT IN ('database', 'immutable', 'updatable');
  opts := ARRAY[pg_catalog.format('database %L', c.file), pg_catalog.format('immutable %L', 'true')]
          || coalesce(opts, '{}'::text[]);
  EXECUTE pg_catalog.format('CREATE SERVER %I FOREIGN DATA WRAPPER recio_sqlite OPTIONS (%s)', snap,
                            pg_catalog.array_to_string(opts, ', '));
  EXECUTE pg_catalog.format('COMMENT ON SERVER %I IS %L', snap,
                            pg_catalog.format('snapshot of server %I taken %s, sha256 %s', server,
                                              pg_catalog.to_char(c.taken_at AT TIME ZONE 'UTC',
                                                                 'YYYY-MM-DD HH24:MI:SS "UTC"'), c.sha256));
  INSERT INTO recio_migrate.snapshots (server, snapshot_server, source_file, file, bytes, pages, page_size, sha256,
                                       data_version, source_journal, taken_at, seconds, restarts, steps,
                                       one_transaction, longest_step_ms)
  VALUES (server, snap, c.source_file, c.file, c.bytes, c.pages, c.page_size, c.sha256, c.data_version,
          c.source_journal, c.taken_at, c.seconds, c.restarts, c.steps, c.one_transaction, c.longest_step_ms);
  RETURN QUERY SELECT snap, c.file, c.bytes, c.sha256, c.data_version, c.taken_at;
END $$;
COMMENT ON FUNCTION recio_migrate.snapshot(name, text) IS
'a consistent online copy of a recio_sqlite server''s live file (SQLite''s backup API, stepped so the legacy writer waits at most one short step) into a new file in directory, in journal_mode DELETE, fsynced and integrity-checked; records it in recio_migrate.snapshots and creates a server over the copy with immutable ''true''; the file is removed if the transaction rolls back';

CREATE FUNCTION recio_migrate.file_quiet(server name, quiet_seconds integer,
    OUT quiet boolean, OUT samples integer, OUT detail text)
RETURNS record
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_file_quiet';
COMMENT ON FUNCTION recio_migrate.file_quiet(name, integer) IS
'watch a recio_sqlite server''s file for quiet_seconds (a sample every 100 ms): quiet when its size and mtime, its -wal''s, and SQLite''s data_version did not change; detail says what changed, or the facts that held';

CREATE FUNCTION recio_migrate.sqlite_sequence(server name, OUT name text, OUT seq bigint)
RETURNS SETOF record
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'recio_sqlite_sequence';
COMMENT ON FUNCTION recio_migrate.sqlite_sequence(name) IS
'the AUTOINCREMENT counters of a recio_sqlite server''s file (its sqlite_sequence table; no rows when it has none)';

CREATE FUNCTION recio_migrate.cutover_check(server name, target_schema name, quiet_seconds integer DEFAULT 10)
RETURNS TABLE(check_name text, ok boolean, detail text)
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  srv oid;
  fschema name := (target_schema || '_sqlite')::name;
  q record;
  t record;
  ft regclass;
  tgt regclass;
  p record;
  run record;
  rejected bigint;
  nulled bigint;
  idn record;
  next_value bigint;
  called boolean;
  greatest_key bigint;
  legacy_seq bigint;
  seqs jsonb;
  fts oid[];
  found_deps text[];
  policies text[];
  scheduled boolean;
  go boolean := true;
  ledger boolean := pg_catalog.has_table_privilege('recio_migrate.runs', 'SELECT')
                    AND pg_catalog.has_table_privilege('recio_migrate.rejects', 'SELECT');
BEGIN
  IF server IS NULL OR target_schema IS NULL OR quiet_seconds IS NULL THEN
    RAISE EXCEPTION 'server, target_schema and quiet_seconds must not be NULL' USING ERRCODE = '22004';
  END IF;
  SELECT s.oid INTO srv FROM pg_catalog.pg_foreign_server s WHERE s.srvname = server;
  IF srv IS NULL THEN
    RAISE EXCEPTION 'server "%" does not exist', server USING ERRCODE = '42704';
  END IF;
  IF pg_catalog.to_regnamespace(pg_catalog.quote_ident(target_schema)) IS NULL THEN
    RAISE EXCEPTION 'schema "%" does not exist', target_schema USING ERRCODE = '3F000';
  END IF;

  -- 1. the legacy writers have stopped (first: every later check reads the file as it then stays)
  q := recio_migrate.file_quiet(server, quiet_seconds);
  check_name := 'writers stopped';
  ok := q.quiet;
  detail := q.detail;
  go := go AND ok;
  RETURN NEXT;

  SELECT coalesce(pg_catalog.jsonb_object_agg(s.name, s.seq), '{}'::jsonb) INTO seqs
    FROM recio_migrate.sqlite_sequence(server) s;
  SELECT pg_catalog.array_agg(f.ftrelid) INTO fts FROM pg_catalog.pg_foreign_table f WHERE f.ftserver = srv;

  FOR t IN SELECT s.name FROM recio_migrate.sqlite_tables(server) s WHERE s.kind = 'table' ORDER BY s.name LOOP
    -- the foreign table that reads it (migrate_server's own first), and the target migrate_server gives it
    SELECT f.ftrelid::regclass INTO ft
      FROM pg_catalog.pg_foreign_table f JOIN pg_catalog.pg_class c ON c.oid = f.ftrelid,
           pg_catalog.unnest(f.ftoptions) o
     WHERE f.ftserver = srv AND pg_catalog.lower(o) = pg_catalog.lower('table=' || t.name)
     ORDER BY c.relnamespace = pg_catalog.to_regnamespace(pg_catalog.quote_ident(fschema)) DESC, f.ftrelid
     LIMIT 1;
    tgt := pg_catalog.to_regclass(pg_catalog.format('%I.%I', target_schema, recio_migrate.import_name(t.name)));

    -- 2. parity now, rows mode
    check_name := pg_catalog.format('parity %s', t.name);
    ok := false;
    IF tgt IS NULL THEN
      detail := pg_catalog.format('no target table %I.%I', target_schema, recio_migrate.import_name(t.name));
    ELSIF ft IS NULL THEN
      detail := pg_catalog.format('no foreign table of server %I reads SQLite table "%s": import it '
                                  '(IMPORT FOREIGN SCHEMA main LIMIT TO (%I) FROM SERVER %I INTO %I)',
                                  server, t.name, recio_migrate.import_name(t.name), server, fschema);
    ELSE
      BEGIN
        p := recio_migrate.parity(ft, tgt, mode => 'rows');
        ok := p.ok;
        detail := pg_catalog.format('%s: %s rows, %s: %s rows; %s matched, %s missing, %s extra, %s mismatched',
                                    ft, p.source_rows, tgt, p.target_rows, p.matched, p.missing, p.extra,
                                    p.mismatched);
      EXCEPTION WHEN OTHERS THEN
        detail := SQLSTATE || ': ' || SQLERRM;
      END;
    END IF;
    go := go AND ok;
    RETURN NEXT;
    CONTINUE WHEN tgt IS NULL;

    -- 3. no unresolved rejects in the target's latest run (a later clean run resolves them)
    check_name := pg_catalog.format('rejects %s', t.name);
    IF NOT ledger THEN
      ok := false;
      detail := 'recio_migrate.runs and rejects cannot be read by this role (pg_monitor may)';
    ELSE
      SELECT r.run_id, r.status, r.error INTO run FROM recio_migrate.runs r
       WHERE r.target_table = tgt::text ORDER BY r.run_id DESC LIMIT 1;
      IF run.run_id IS NULL THEN
        ok := true;
        detail := pg_catalog.format('no run into %s in recio_migrate.runs', tgt);
      ELSE
        SELECT count(*) FILTER (WHERE j.action = 'reject'), count(*) FILTER (WHERE j.action = 'null')
          INTO rejected, nulled FROM recio_migrate.rejects j WHERE j.run_id = run.run_id;
        ok := run.status = 'succeeded' AND rejected = 0 AND nulled = 0;
        detail := pg_catalog.format('run %s %s: %s rows rejected, %s values stored as NULL', run.run_id, run.status,
                                    rejected, nulled)
                  || CASE WHEN run.status = 'failed' THEN ': ' || run.error ELSE '' END;
      END IF;
    END IF;
    go := go AND ok;
    RETURN NEXT;

    -- 4. every identity hands out ids past the target's greatest and the legacy sqlite_sequence
    legacy_seq := (seqs ->> t.name)::bigint;
    FOR idn IN SELECT a.attname, pg_catalog.pg_get_serial_sequence(tgt::text, a.attname)::regclass AS seq,
                      s.seqincrement
                 FROM pg_catalog.pg_attribute a
                 JOIN pg_catalog.pg_sequence s
                   ON s.seqrelid = pg_catalog.pg_get_serial_sequence(tgt::text, a.attname)::regclass
                WHERE a.attrelid = tgt AND a.attidentity <> '' AND NOT a.attisdropped
                ORDER BY a.attnum LOOP
      check_name := pg_catalog.format('identity %s.%I', tgt, idn.attname);
      ok := false;
      BEGIN
        EXECUTE pg_catalog.format('SELECT last_value, is_called FROM %s', idn.seq) INTO next_value, called;
        next_value := next_value + CASE WHEN called THEN idn.seqincrement ELSE 0 END;
        EXECUTE pg_catalog.format('SELECT max(%I)::bigint FROM %s', idn.attname, tgt) INTO greatest_key;
        ok := next_value > coalesce(greatest_key, 0) AND next_value > coalesce(legacy_seq, 0);
        detail := pg_catalog.format('next value %s; greatest in the target %s; SQLite sqlite_sequence %s',
                                    next_value, coalesce(greatest_key::text, 'none (empty)'),
                                    coalesce(legacy_seq::text, 'none (no AUTOINCREMENT)'));
      EXCEPTION WHEN OTHERS THEN
        detail := SQLSTATE || ': ' || SQLERRM;
      END;
      go := go AND ok;
      RETURN NEXT;
    END LOOP;
  END LOOP;

  -- 5. nothing outside recio_migrate still reads the server's foreign tables
  SELECT pg_catalog.array_agg(d ORDER BY d) INTO found_deps FROM (
    SELECT DISTINCT pg_catalog.format('%s %s reads %s',
             CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'rule on' END,
             r.ev_class::regclass, dep.refobjid::regclass) AS d
      FROM pg_catalog.pg_depend dep
      JOIN pg_catalog.pg_rewrite r ON dep.classid = 'pg_catalog.pg_rewrite'::regclass AND dep.objid = r.oid
      JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
     WHERE dep.refclassid = 'pg_catalog.pg_class'::regclass AND dep.refobjid = ANY (fts)
       AND r.ev_class <> dep.refobjid
       AND c.relnamespace <> 'recio_migrate'::regnamespace
    UNION
    SELECT pg_catalog.format('function %s reads %s', dep.objid::regprocedure, dep.refobjid::regclass)
      FROM pg_catalog.pg_depend dep JOIN pg_catalog.pg_proc f ON dep.classid = 'pg_catalog.pg_proc'::regclass
                                                               AND dep.objid = f.oid
     WHERE dep.refclassid = 'pg_catalog.pg_class'::regclass AND dep.refobjid = ANY (fts)
       AND f.pronamespace <> 'recio_migrate'::regnamespace
    UNION
    -- a function body is text: a name found in it is the best evidence there is (it may be a false alarm)
    SELECT pg_catalog.format('function %s mentions %s in its body', f.oid::regprocedure, c.oid::regclass)
      FROM pg_catalog.pg_proc f
      JOIN pg_catalog.pg_language l ON l.oid = f.prolang AND l.lanname NOT IN ('c', 'internal')
      JOIN pg_catalog.pg_class c ON c.oid = ANY (fts)
     WHERE f.pronamespace NOT IN ('recio_migrate'::regnamespace, 'pg_catalog'::regnamespace,
                                  'information_schema'::regnamespace)
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend e WHERE e.classid = 'pg_catalog.pg_proc'::regclass
                                                            AND e.objid = f.oid AND e.deptype = 'e')
       AND pg_catalog.strpos(pg_catalog.lower(f.prosrc), pg_catalog.lower(c.relname::text)) > 0) x;
  check_name := 'dependencies';
  ok := found_deps IS NULL;
  detail := CASE WHEN ok THEN pg_catalog.format('no view, rule or function outside recio_migrate reads the %s '
                                                'foreign tables of server %I (function bodies searched as text)',
                                                coalesce(pg_catalog.cardinality(fts), 0), server)
                 ELSE pg_catalog.array_to_string(found_deps, '; ') END;
  go := go AND ok;
  RETURN NEXT;

  -- 6. retention (informational): the policies on target_schema's tables and the schedule that runs them
  check_name := 'retention (informational)';
  IF NOT pg_catalog.has_table_privilege('recio_migrate.retention_policies', 'SELECT') THEN
    ok := NULL;
    detail := 'recio_migrate.retention_policies cannot be read by this role (pg_monitor may)';
  ELSE
    SELECT pg_catalog.array_agg(pg_catalog.format('%s keeps %s%s', rp.relation, rp.keep,
                                                  CASE WHEN rp.enabled THEN '' ELSE ' (disabled)' END)
                                ORDER BY rp.relation::text)
      INTO policies FROM recio_migrate.retention_policies rp JOIN pg_catalog.pg_class c ON c.oid = rp.relation
     WHERE c.relnamespace = pg_catalog.to_regnamespace(pg_catalog.quote_ident(target_schema));
    scheduled := NULL;
    IF pg_catalog.to_regclass('cron.job') IS NOT NULL THEN
      BEGIN
        EXECUTE 'SELECT EXISTS (SELECT FROM cron.job WHERE jobname = $1)' INTO scheduled
          USING 'recio_migrate.run_retention';
      EXCEPTION WHEN insufficient_privilege THEN
        scheduled := NULL;
      END;
    END IF;
    ok := policies IS NULL OR coalesce(scheduled, false);
    detail := coalesce(pg_catalog.array_to_string(policies, '; '), 'no retention policy on a table of schema '
                                                                   || pg_catalog.quote_ident(target_schema))
              || '; schedule: ' || CASE WHEN pg_catalog.to_regclass('cron.job') IS NULL THEN 'pg_cron not installed'
                                        WHEN scheduled IS NULL THEN 'cron.job cannot be read by this role'
                                        WHEN scheduled THEN 'pg_cron job recio_migrate.run_retention'
                                        ELSE 'none (recio_migrate.schedule_retention() makes one)' END;
  END IF;
  RETURN NEXT;

  check_name := 'cutover';
  ok := go;
  detail := CASE WHEN go THEN 'every check holds (retention is informational)'
                 ELSE 'a check failed: do not switch' END;
  RETURN NEXT;
END $$;
COMMENT ON FUNCTION recio_migrate.cutover_check(name, name, integer) IS
'the go/no-go list of the switch from a legacy file to its targets in target_schema, each with its evidence: writers stopped (the file, its -wal and data_version unchanged for quiet_seconds), parity now (rows mode) and no unresolved rejects per table, every identity past the target''s greatest key and sqlite_sequence, no view, rule or function outside recio_migrate reading the server''s foreign tables, retention (informational); the last row, cutover, is ok when every other check is';

-- snapshot: writing a file as the PostgreSQL OS user is pg_write_server_files'
-- (snapshot_copy() checks it again, and pg_read_server_files for the server
-- over the copy); cutover_check() and file_quiet() read the legacy file and
-- its side files' metadata: for pg_read_server_files, as pointing a server at
-- a file is
REVOKE ALL ON FUNCTION recio_migrate.snapshot(name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.snapshot_copy(name, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recio_migrate.snapshot(name, text) TO pg_write_server_files;
GRANT EXECUTE ON FUNCTION recio_migrate.snapshot_copy(name, text) TO pg_write_server_files;
GRANT SELECT, INSERT ON recio_migrate.snapshots TO pg_write_server_files;
GRANT SELECT ON recio_migrate.snapshots TO pg_monitor;
REVOKE ALL ON FUNCTION recio_migrate.file_quiet(name, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION recio_migrate.cutover_check(name, name, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recio_migrate.file_quiet(name, integer) TO pg_read_server_files;
GRANT EXECUTE ON FUNCTION recio_migrate.cutover_check(name, name, integer) TO pg_read_server_files;

-- ==== writable foreign tables and legacy write formats (issue 13) ====
-- the options updatable (server, table), batch_size (server, table), format
-- and allow_rounding (column) are validated by recio_sqlite_validator (C)
COMMENT ON FOREIGN DATA WRAPPER recio_sqlite
IS 'access to SQLite database files: reads, and writes in the legacy representation where updatable (options: database, busy_timeout_ms, immutable, updatable, timezone, batch_size)';

-- ==== export_sqlite and the legacy DDL ledger (issue 13) ====
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

-- ==== the final texts of the functions several sections above define (issues 11-13) ====
CREATE OR REPLACE FUNCTION recio_migrate.create_target(source regclass, target_name text, dry_run boolean DEFAULT false,
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

CREATE OR REPLACE FUNCTION recio_migrate.migrate(source regclass, target regclass, on_error text DEFAULT 'stop',
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

CREATE OR REPLACE FUNCTION recio_migrate.migrate_server(server name, target_schema name, on_error text DEFAULT 'reject',
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

-- a section written before numeric_typmod re-created the three-argument create_target()
DROP FUNCTION IF EXISTS recio_migrate.create_target(regclass, text, boolean);

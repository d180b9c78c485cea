/* retention.sql: retention_policies, pins, prune(), run_retention(), retention_log, schedule_retention() */

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

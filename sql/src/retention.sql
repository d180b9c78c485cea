/* retention.sql: retention_policies, pins, prune(), run_retention(), retention_log, schedule_retention() */

/*
 * Retention keeps tables such as price history, fills, orders and settlements
 * to a window (policy), never deleting a pinned row (the whitelist) or a row
 * that is not yet past the cutoff.  prune() works in short batches that each
 * commit, so it must be a procedure; a procedure with a SET clause cannot
 * COMMIT, so the procedures here have none and do nothing but call functions
 * that pin search_path (see prune_run below).  The settings that make key
 * text canonical are set per transaction by retention_settings() in a
 * prune's batches, and by SET clauses of pin(), pin_where() and unpin() for
 * their call only.
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

-- It sets the caller's transaction-local settings: only search_path is in its
-- SET clause (a SET clause undoes its own variables when the function returns;
-- set_config(..., true) of any other lasts to the end of the transaction).
CREATE FUNCTION recio_migrate.retention_settings(lock_timeout interval DEFAULT NULL)
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

CREATE FUNCTION recio_migrate.retention_lock_key(relation regclass)
RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$ SELECT (x'52455400'::bigint << 32) + relation::oid::bigint $$;
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

CREATE FUNCTION recio_migrate.pin(relation regclass, key text[], note text DEFAULT NULL)
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

CREATE FUNCTION recio_migrate.pin_where(relation regclass, condition text, note text DEFAULT NULL)
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

CREATE FUNCTION recio_migrate.unpin(relation regclass, key text[])
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
 * run_retention() goes on with the next policy).
 *
 * The procedures must COMMIT between batches, so they cannot carry a SET
 * clause; their bodies therefore hold no operator and no unqualified name
 * (even an assignment or an IF is an SQL expression evaluated through the
 * caller's search_path, and so is a type name when the body compiles): they
 * only call the functions below, which pin search_path, and commit.  The state of a prune travels between the batch
 * transactions in a retention_prune_state value.
 *
 * Work items: a plain table is one item, processed in ranges of heap blocks
 * (a TID range scan) so every block is visited once however many rows are
 * pinned or tied on the time column.  A partitioned table whose key is the
 * time column gives one 'drop' item per direct partition lying wholly before
 * the cutoff (its upper bound <= cutoff), and one row item per leaf of the
 * others.  A partition holding a pinned row, or any partition when rows are
 * archived, goes row by row instead.
 */
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

CREATE PROCEDURE recio_migrate.prune_run(
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

CREATE PROCEDURE recio_migrate.prune(
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

-- run_retention() ------------------------------------------------------------

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

CREATE PROCEDURE recio_migrate.run_retention(time_budget interval DEFAULT NULL)
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

-- pg_cron is optional: these look it up at call time and reach it only
-- through dynamic SQL, so CREATE EXTENSION recio_migrate never needs it.
CREATE FUNCTION recio_migrate.retention_require_pg_cron()
RETURNS void
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
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
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
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

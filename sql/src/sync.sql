/* sync.sql: sync() and sync_server(): bring migrated targets up to date with their legacy tables (issue 12) */

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

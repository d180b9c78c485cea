/* snapshot.sql: snapshot() of a live legacy file and its ledger; cutover_check(), the go/no-go list of the switch */

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

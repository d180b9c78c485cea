/*
 * carried_schema.sql: what a target carries of its SQLite schema once the rows are in (README, "What the
 * targets carry"): the schema_notes ledger, apply_schema() (runs one phase of schema_plan()'s statements,
 * each in its own subtransaction, and notes every object), identity_forward() (moves an identity past the
 * migrated keys and SQLite's sqlite_sequence), and check_references() (references between tables of
 * different files, which no SQLite file can declare).
 */

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

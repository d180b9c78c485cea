/* bloat.sql: bloat_measure(), bloat_report(), bloat_snapshot(), bloat_history */

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

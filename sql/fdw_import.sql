-- fdw_import: IMPORT FOREIGN SCHEMA, type mapping by SQLite affinity, quoting
CREATE SCHEMA imp;
IMPORT FOREIGN SCHEMA main LIMIT TO (declared) FROM SERVER types_srv INTO imp;
\d imp.declared
CREATE SCHEMA imp_ts;
IMPORT FOREIGN SCHEMA main LIMIT TO (declared) FROM SERVER types_srv INTO imp_ts
  OPTIONS (timestamp_type 'timestamp', import_not_null 'false');
SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute
WHERE attrelid = 'imp_ts.declared'::regclass AND attname IN ('a_date', 'a_datetime', 'a_timestamp', 'a_notnull')
ORDER BY attnum;

-- an object SQLite refuses to describe (a view calling load_extension) is
-- skipped with a WARNING; the rest of the file is imported
CREATE SCHEMA imp_all;
IMPORT FOREIGN SCHEMA main FROM SERVER types_srv INTO imp_all;
SELECT relname FROM pg_class WHERE relnamespace = 'imp_all'::regnamespace ORDER BY 1;
DROP SCHEMA imp_all CASCADE;

-- names that need quoting, views and WITHOUT ROWID tables
CREATE SCHEMA q;
IMPORT FOREIGN SCHEMA main FROM SERVER quoting_srv INTO q;
SELECT c.relname, c.relkind, ft.ftoptions
FROM pg_class c JOIN pg_foreign_table ft ON ft.ftrelid = c.oid
WHERE c.relnamespace = 'q'::regnamespace ORDER BY c.relname COLLATE "C";
\d q."Mixed Case Table"
SELECT * FROM q."Mixed Case Table" ORDER BY "Id";
SELECT * FROM q."it's ""quoted""" ORDER BY id;
SELECT * FROM q.no_rowid ORDER BY k;
SELECT * FROM q.v_lower ORDER BY 1;

-- LIMIT TO and EXCEPT
CREATE SCHEMA q2;
IMPORT FOREIGN SCHEMA main EXCEPT ("Mixed Case Table", lower_only, v_lower) FROM SERVER quoting_srv INTO q2;
SELECT relname FROM pg_class WHERE relnamespace = 'q2'::regnamespace ORDER BY relname COLLATE "C";

-- bad imports
SELECT expect_error($$IMPORT FOREIGN SCHEMA other FROM SERVER quoting_srv INTO q2$$);
SELECT expect_error($$IMPORT FOREIGN SCHEMA main FROM SERVER quoting_srv INTO q2 OPTIONS (timestamp_type 'date')$$);
SELECT expect_error($$IMPORT FOREIGN SCHEMA main FROM SERVER quoting_srv INTO q2 OPTIONS (import_not_null 'sometimes')$$);
SELECT expect_error($$IMPORT FOREIGN SCHEMA main FROM SERVER quoting_srv INTO q2 OPTIONS (types 'guess')$$);
DROP SCHEMA imp, imp_ts, q, q2 CASCADE;

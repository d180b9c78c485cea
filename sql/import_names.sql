-- import_names: SQLite names PostgreSQL cannot take as they are (names.db)
-- do not sink IMPORT FOREIGN SCHEMA: a name longer than 63 bytes is
-- shortened (first bytes on a character boundary, "_", 8 hex digits of a
-- hash of the whole name) with a NOTICE, the table and column_name options
-- keeping the SQLite name; an empty name, more than 1600 columns and a
-- shortened name already taken are skipped with a WARNING.
SELECT create_servers(ARRAY['names']);

CREATE SCHEMA nm;
IMPORT FOREIGN SCHEMA main FROM SERVER names_srv INTO nm;
SELECT c.relname, octet_length(c.relname::text) AS bytes, ft.ftoptions
FROM pg_class c JOIN pg_foreign_table ft ON ft.ftrelid = c.oid
WHERE c.relnamespace = 'nm'::regnamespace ORDER BY c.relname COLLATE "C";
-- columns: PostgreSQL name, SQLite name
SELECT attname, octet_length(attname::text) AS bytes, attfdwoptions FROM pg_attribute
WHERE attrelid = 'nm.long_columns'::regclass AND attnum > 0 ORDER BY attnum;
SELECT count(*) AS columns FROM pg_attribute WHERE attrelid = 'nm.columns_1600'::regclass AND attnum > 0;
-- the foreign tables read their SQLite tables
SELECT * FROM nm.readings_from_the_north_warehouse_loading_dock_sensor_array_no7;
SELECT * FROM nm.readings_from_the_north_warehouse_loading_dock_sensor__8d884b24;
SELECT * FROM nm."prix_éééééééééééééééééééééééé_7e084ee2";
SELECT * FROM nm.long_columns;

-- the empty name, read anyway as the WARNING's HINT says
CREATE FOREIGN TABLE nm.empty_name (id bigint, v text) SERVER names_srv OPTIONS (table '');
SELECT * FROM nm.empty_name ORDER BY id;

-- EXCEPT works beside the empty name (which it cannot name): a long name is
-- excluded by its PostgreSQL name or by its SQLite name (which the parser
-- cuts to 63 bytes, as it cuts every identifier)
CREATE SCHEMA nm_except;
IMPORT FOREIGN SCHEMA main EXCEPT (columns_1600, columns_1601, collide_columns, odd_values, long_columns,
    readings_from_the_north_warehouse_loading_dock_sensor__8d884b24, "prix_ééééééééééééééééééééééééééééééééééé")
  FROM SERVER names_srv INTO nm_except;
SELECT c.relname, ft.ftoptions
FROM pg_class c JOIN pg_foreign_table ft ON ft.ftrelid = c.oid
WHERE c.relnamespace = 'nm_except'::regnamespace ORDER BY c.relname COLLATE "C";

-- LIMIT TO a long SQLite name: the parser keeps its first 63 bytes, which
-- name the tables that start so, unless a table has exactly that name
CREATE SCHEMA nm_limit;
IMPORT FOREIGN SCHEMA main LIMIT TO (plain, columns_1601, "prix_ééééééééééééééééééééééééééééééééééé",
    "readings_from_the_north_warehouse_loading_dock_sensor_array_no7_2024")
  FROM SERVER names_srv INTO nm_limit;
SELECT c.relname, ft.ftoptions
FROM pg_class c JOIN pg_foreign_table ft ON ft.ftrelid = c.oid
WHERE c.relnamespace = 'nm_limit'::regnamespace ORDER BY c.relname COLLATE "C";
-- LIMIT TO the PostgreSQL name: exactly that table
CREATE SCHEMA nm_exact;
IMPORT FOREIGN SCHEMA main LIMIT TO (readings_from_the_north_warehouse_loading_dock_sensor__8d884b24)
  FROM SERVER names_srv INTO nm_exact;
SELECT c.relname, ft.ftoptions
FROM pg_class c JOIN pg_foreign_table ft ON ft.ftrelid = c.oid
WHERE c.relnamespace = 'nm_exact'::regnamespace ORDER BY c.relname COLLATE "C";
SELECT * FROM nm_exact.readings_from_the_north_warehouse_loading_dock_sensor__8d884b24;

-- profile(): TEXT that is not UTF-8 (rows 2 and 3: invalid bytes, a NUL
-- byte) converts to no type but bytea, so it is nonconforming
SELECT column_name, row_count, text_count, min_value, suggested_type, nonconforming
FROM recio_migrate.profile('nm.odd_values');
-- ... and what the scan then refuses: the nonconforming values, no other
CREATE FOREIGN TABLE nm.odd_typed (id bigint, label text, n numeric(12,0)) SERVER names_srv
  OPTIONS (table 'odd_values');
SELECT id, expect_error(format('SELECT label FROM nm.odd_typed WHERE id = %s', id)) AS label,
       expect_error(format('SELECT n FROM nm.odd_typed WHERE id = %s', id)) AS n
FROM generate_series(1, 5) id ORDER BY id;

-- a REAL Infinity in an integer column is out of range, not "fractional"
SELECT expect_error($$SELECT n FROM nm.odd_values WHERE id = 5$$);
CREATE FOREIGN TABLE nm.odd_int (id bigint, n integer) SERVER names_srv OPTIONS (table 'odd_values');
SELECT expect_error($$SELECT n FROM nm.odd_int WHERE id = 5$$);
SELECT id, n FROM nm.odd_int WHERE id < 5 ORDER BY id;

-- import_name(sqlite_name): the name IMPORT gives, for migrate_server()
SELECT s.name, recio_migrate.import_name(s.name),
       to_regclass('nm.' || quote_ident(recio_migrate.import_name(s.name))) AS foreign_table
FROM recio_migrate.sqlite_tables('names_srv') s ORDER BY s.name COLLATE "C";
SELECT recio_migrate.import_name('plain'), recio_migrate.import_name(''), recio_migrate.import_name(repeat('x', 64)),
       recio_migrate.import_name(repeat('x', 63));

-- migrate_server() finds the tables whose names IMPORT shortened, and skips what cannot be imported
SELECT sqlite_table, target, action, sqlite_rows, target_rows, counts_match
FROM recio_migrate.migrate_server('names_srv', 'nm_app') ORDER BY sqlite_table COLLATE "C";
SELECT count(*) AS runs FROM recio_migrate.runs WHERE target_table LIKE 'nm_app.%';
DELETE FROM recio_migrate.rejects WHERE run_id IN (SELECT run_id FROM recio_migrate.runs WHERE target_table LIKE 'nm_app.%');
DELETE FROM recio_migrate.runs WHERE target_table LIKE 'nm_app.%';
DROP SCHEMA nm_app, nm_app_sqlite CASCADE;

DROP SCHEMA nm, nm_except, nm_limit, nm_exact CASCADE;
DROP SERVER names_srv CASCADE;

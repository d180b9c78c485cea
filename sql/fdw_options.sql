-- fdw_options: validation of server, table and column options
\getenv fixtures RECIO_FIXTURES
\set types_db :fixtures '/types.db'

-- server: database is required, absolute, and every value is checked
SELECT expect_error($$CREATE SERVER s1 FOREIGN DATA WRAPPER recio_sqlite$$);
SELECT expect_error($$CREATE SERVER s1 FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database 'relative.db')$$);
SELECT expect_error($$CREATE SERVER s1 FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '/x.db', bogus '1')$$);
SELECT expect_error($$CREATE SERVER s1 FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '/x.db', busy_timeout_ms '-1')$$);
SELECT expect_error($$CREATE SERVER s1 FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '/x.db', busy_timeout_ms 'soon')$$);
SELECT expect_error($$CREATE SERVER s1 FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '/x.db', immutable 'maybe')$$);
SELECT expect_error($$CREATE SERVER s1 FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '/x.db', updatable 'perhaps')$$);
SELECT expect_error($$CREATE SERVER s1 FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '/x.db', timezone 'Mars/Olympus')$$);
SELECT expect_error($$CREATE SERVER s1 FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '/x.db', "table" 't')$$);
CREATE SERVER s_ok FOREIGN DATA WRAPPER recio_sqlite
  OPTIONS (database :'types_db', busy_timeout_ms '250', immutable 'true', updatable 'false', timezone 'America/New_York');
SELECT srvname, array_length(srvoptions, 1) AS n_options FROM pg_foreign_server WHERE srvname = 's_ok';
-- ALTER SERVER sees the resulting option list: database cannot be dropped
SELECT expect_error($$ALTER SERVER s_ok OPTIONS (DROP database)$$);
ALTER SERVER s_ok OPTIONS (SET busy_timeout_ms '5000');

-- user mappings and the wrapper itself take no options
SELECT expect_error($$CREATE USER MAPPING FOR CURRENT_USER SERVER s_ok OPTIONS (password 'x')$$);
SELECT expect_error($$ALTER FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '/x.db')$$);

-- foreign table options
SELECT expect_error($$CREATE FOREIGN TABLE ft_bad (v int) SERVER s_ok OPTIONS (tabel 'vals')$$);
SELECT expect_error($$CREATE FOREIGN TABLE ft_bad (v int OPTIONS (column_name '')) SERVER s_ok$$);
SELECT expect_error($$CREATE FOREIGN TABLE ft_bad (v int) SERVER s_ok OPTIONS (on_error 'skip')$$);
SELECT expect_error($$CREATE FOREIGN TABLE ft_bad (v int) SERVER s_ok OPTIONS (epoch_unit 's')$$);
-- column options
SELECT expect_error($$CREATE FOREIGN TABLE ft_bad (v int OPTIONS (colname 'v')) SERVER s_ok$$);
SELECT expect_error($$CREATE FOREIGN TABLE ft_bad (v timestamptz OPTIONS (epoch_unit 'ns')) SERVER s_ok$$);
SELECT expect_error($$CREATE FOREIGN TABLE ft_bad (v int OPTIONS (on_error 'maybe')) SERVER s_ok$$);
SELECT expect_error($$CREATE FOREIGN TABLE ft_bad (v int OPTIONS (timezone 'nowhere')) SERVER s_ok$$);

CREATE FOREIGN TABLE ft_opts (
  id bigint,
  value text OPTIONS (column_name 'note', on_error 'null'),
  ts timestamptz OPTIONS (column_name 'v', epoch_unit 'ms', timezone 'Europe/Paris')
) SERVER s_ok OPTIONS ("table" 'vals', on_error 'stop', timezone 'UTC');
SELECT attname, attfdwoptions FROM pg_attribute
WHERE attrelid = 'ft_opts'::regclass AND attnum > 0 ORDER BY attnum;
SELECT ftoptions FROM pg_foreign_table WHERE ftrelid = 'ft_opts'::regclass;
-- the table option defaults to the foreign table's name
CREATE FOREIGN TABLE vals (id bigint, note text) SERVER s_ok;
SELECT id, note FROM vals WHERE id = 1;
-- a table or column that does not exist in the file
CREATE FOREIGN TABLE ft_missing (id bigint) SERVER s_ok OPTIONS ("table" 'no_such_table');
SELECT expect_error($$SELECT * FROM ft_missing$$);
CREATE FOREIGN TABLE ft_badcol (id bigint, nope text) SERVER s_ok OPTIONS ("table" 'vals');
SELECT expect_error($$SELECT nope FROM ft_badcol$$);
-- SQLite names are case-insensitive
CREATE FOREIGN TABLE ft_case (ID bigint OPTIONS (column_name 'ID'), NOTE text OPTIONS (column_name 'Note'))
  SERVER s_ok OPTIONS ("table" 'VALS');
SELECT "id", "note" FROM ft_case WHERE "id" = 2;

DROP SERVER s_ok CASCADE;

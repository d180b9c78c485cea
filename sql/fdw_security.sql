-- fdw_security: who may point a server at a file, and what a connection may do
\getenv fixtures RECIO_FIXTURES
\set types_db :fixtures '/types.db'
CREATE ROLE recio_plain;
CREATE ROLE recio_reader IN ROLE pg_read_server_files;
GRANT USAGE ON FOREIGN DATA WRAPPER recio_sqlite TO recio_plain, recio_reader;
GRANT CREATE ON SCHEMA public TO recio_plain, recio_reader;

-- reading a file as the postgres OS user is a privilege
SET ROLE recio_plain;
SELECT expect_error(format('CREATE SERVER s_plain FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database %L)', :'types_db'));
RESET ROLE;

SET ROLE recio_reader;
CREATE SERVER s_reader FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database :'types_db');
CREATE FOREIGN TABLE reader_vals (id bigint, note text) SERVER s_reader OPTIONS ("table" 'vals');
SELECT note FROM reader_vals WHERE id = 1;
RESET ROLE;

-- a server owned by a plain role cannot be re-pointed by it
CREATE SERVER s_owned FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database :'types_db');
ALTER SERVER s_owned OWNER TO recio_plain;
SET ROLE recio_plain;
SELECT expect_error($$ALTER SERVER s_owned OPTIONS (SET database '/etc/passwd')$$);
RESET ROLE;

-- identifiers are quoted, never pasted: a hostile table option is just a name
CREATE FOREIGN TABLE evil_name (x text) SERVER types_srv
  OPTIONS ("table" 'vals"; ATTACH DATABASE ''/tmp/x.db'' AS x; --');
SELECT expect_error($$SELECT * FROM evil_name$$);
CREATE FOREIGN TABLE evil_col (x text OPTIONS (column_name 'note" FROM vals; --')) SERVER types_srv
  OPTIONS ("table" 'vals');
SELECT expect_error($$SELECT * FROM evil_col$$);

-- a view in a hostile file cannot load a library
CREATE FOREIGN TABLE evil_load (x text) SERVER types_srv;
SELECT expect_error($$SELECT * FROM evil_load$$);

DROP FOREIGN TABLE evil_name, evil_col, evil_load;
DROP SERVER s_reader CASCADE;
DROP SERVER s_owned;
REVOKE ALL ON SCHEMA public FROM recio_plain, recio_reader;
REVOKE ALL ON FOREIGN DATA WRAPPER recio_sqlite FROM recio_plain, recio_reader;
DROP ROLE recio_plain, recio_reader;

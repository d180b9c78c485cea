/* recio_migrate 0.1.0 -> 0.2.0: checksum parity, first part */
\echo Use "ALTER EXTENSION recio_migrate UPDATE TO '0.2.0'" to load this file. \quit

CREATE FUNCTION recio_migrate.checksum(
  rel regclass, columns text[] DEFAULT NULL, tolerance jsonb DEFAULT NULL,
  OUT row_count bigint, OUT checksum text)
RETURNS record
AS 'MODULE_PATHNAME', 'recio_checksum'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL RESTRICTED;

COMMENT ON FUNCTION recio_migrate.checksum(regclass, text[], jsonb)
IS 'order-independent 128-bit checksum of a relation over canonical values: equal data in a SQLite table (through recio_sqlite) and its migrated copy give equal checksums although their types differ';

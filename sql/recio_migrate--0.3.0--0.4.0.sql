/* recio_migrate 0.3.0 -> 0.4.0: an open schema with deliberate grants, search_path-safe retention */
\echo Use "ALTER EXTENSION recio_migrate UPDATE TO '0.4.0'" to load this file. \quit

/*
 * ======================================================================
 * Wrapper: every function pins its search_path
 * ======================================================================
 */

ALTER FUNCTION recio_migrate.recio_sqlite_handler() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION recio_migrate.recio_sqlite_validator(text[], oid) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION recio_migrate.connections() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION recio_migrate.disconnect(text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION recio_migrate.disconnect_all() SET search_path = pg_catalog, pg_temp;

/*
 * ======================================================================
 * Privileges: USAGE on the schema for PUBLIC (the grants to pg_monitor,
 * pg_stat_scan_tables and PUBLIC were inert without it); the ledgers are
 * readable by pg_monitor
 * ======================================================================
 */

GRANT USAGE ON SCHEMA recio_migrate TO PUBLIC;
GRANT SELECT ON recio_migrate.parity_results TO pg_monitor;
GRANT SELECT ON recio_migrate.retention_policies, recio_migrate.retention_pins, recio_migrate.retention_log TO pg_monitor;

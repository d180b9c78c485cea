/* recio_migrate 0.2.0 -> 0.3.0: parity, migration runs, retention, bloat */
\echo Use "ALTER EXTENSION recio_migrate UPDATE TO '0.3.0'" to load this file. \quit

/*
 * ======================================================================
 * Parity: parity(), parity_diff(), parity_all(), parity_results
 * ======================================================================
 */


/*
 * ======================================================================
 * Migration runs: profile(), create_target(), migrate(), migrate_server(),
 * runs, rejects
 * ======================================================================
 */


/*
 * ======================================================================
 * Retention: retention_policies, pins, prune(), run_retention(),
 * retention_log, schedule_retention()
 * ======================================================================
 */


/*
 * ======================================================================
 * Bloat: bloat_report(), bloat_snapshot(), bloat_history
 * ======================================================================
 */

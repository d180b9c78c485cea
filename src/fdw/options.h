/*
 * options.h: the wrapper's server, table and column options: validation
 * (the FDW validator) and lookup of the effective values for a relation.
 */
#pragma once

#include "common/error_boundary.h"
#include "sqlite/value_rules.h" /* EpochUnit */

#include <string>
#include <vector>

#include "sqlite/connection_cache.h"

extern "C" {
#include "access/attnum.h"
#include "nodes/pg_list.h"
#include "pgtime.h"
}

namespace recio {

enum class OnError : int { Stop = 0, Null = 1, Ignore = 2 };

struct ServerOptions {
    const char* database; /* absolute path */
    int busy_timeout_ms;
    bool immutable;
    bool updatable;
    const char* timezone; /* zone for zone-less timestamps */
    int batch_size;       /* rows per INSERT statement of a batched insert */
};

struct TableOptions {
    const char* table; /* SQLite table or view name */
    OnError on_error;
    const char* timezone; /* NULL: the server's */
    bool updatable_set;   /* the table's updatable option overrides the server's */
    bool updatable;
    int batch_size; /* 0: the server's */
};

struct ColumnOptions {
    const char* column_name; /* SQLite column name */
    bool on_error_set;
    OnError on_error;
    const char* timezone; /* NULL: the table's or server's */
    EpochUnit epoch_unit;
    bool epoch_unit_set;
    const char* format;  /* legacy text format of a timestamp column (writes), NULL: default */
    bool allow_rounding; /* a numeric no double holds may be written as the nearest double */
};

/* Does the server belong to recio_sqlite (this extension's handler)? */
bool is_recio_server(Oid serverid);
/* Is relid a foreign table of a recio_sqlite server? */
bool is_recio_foreign_table(Oid relid);

ServerOptions server_options(Oid serverid);
TableOptions table_options(Oid relid);
/* attname: the PostgreSQL column name (the default for column_name) */
ColumnOptions column_options(Oid relid, AttrNumber attnum, const char* attname);

/*
 * The zone of a column's zone-less timestamps: its own timezone option;
 * else UTC when its SQLite DEFAULT is CURRENT_TIMESTAMP or datetime('now')
 * (SQLite writes those in UTC whatever zone the rest of the file uses);
 * else the table's, else the server's option.  utc_now_columns lists the
 * SQLite columns of the second kind, and only when the table's zone is not
 * UTC anyway (no look at the file otherwise).
 */
const char* table_zone(const ServerOptions& server, const TableOptions& table);
std::vector<std::string> utc_now_columns(sqlite::Connection& conn, const char* sqlite_table, const char* table_zone);
const char* column_zone(const ColumnOptions& column, const char* table_zone,
                        const std::vector<std::string>& utc_now_columns);

/* Throws if name is not a time zone PostgreSQL knows. */
pg_tz* lookup_timezone(const char* name);

const char* on_error_name(OnError e);

}  // namespace recio

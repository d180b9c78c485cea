/*
 * source.h: a recio_sqlite foreign table as the source of a profile or a
 * migration run: its server, SQLite table, columns (PostgreSQL name, SQLite
 * name, declared type, zone and epoch rules) and the caller's right to read
 * it.  Everything is palloc'd (no C++ object with a destructor is needed
 * across PostgreSQL calls) except the column vector.
 */
#pragma once

#include <vector>

#include "fdw/options.h"

namespace recio {

struct SourceColumn {
    AttrNumber attnum;
    const char* pg_name;
    const char* sqlite_name;
    Oid typid;
    int32 typmod;
    const char* timezone; /* effective zone for zone-less values */
    EpochUnit epoch_unit;
};

struct SourceTable {
    Oid relid;
    Oid serverid;
    const char* relname; /* schema.table, for messages */
    const char* table;   /* SQLite table */
    const char* path;    /* the SQLite file */
    std::vector<SourceColumn> columns;
};

/*
 * Check that relid is a recio_sqlite foreign table the caller may SELECT
 * from, and describe it.  Throws 42501 / 42809 otherwise.
 */
SourceTable source_table(Oid relid);

}  // namespace recio

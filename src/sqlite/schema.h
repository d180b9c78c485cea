/*
 * schema.h: what a SQLite file declares: its tables and views
 * (sqlite_schema) and a table's columns (pragma_table_xinfo).  The one
 * place that reads the file's schema; the wrapper's planner, IMPORT FOREIGN
 * SCHEMA, profiles and migration runs all list objects and columns here.
 */
#pragma once

#include <string>
#include <vector>

#include "sqlite/connection_cache.h"

namespace recio::sqlite {

enum class ObjectKind { Table, View };

struct SchemaObject {
    std::string name;
    ObjectKind kind;
};

struct ColumnInfo {
    std::string name;     /* never empty */
    std::string declared; /* declared type, "" when none */
    bool not_null;
    int pk; /* 1-based position in the primary key, 0 when not part of it */
    std::string default_sql; /* the DEFAULT expression as declared, "" when none */
};

/*
 * Whether a DEFAULT is SQLite's current UTC time (CURRENT_TIMESTAMP or
 * datetime('now'), case-insensitive): such a column holds UTC whatever the
 * zone the reader assumes for the file's other naive timestamps.
 */
bool default_is_utc_now(const std::string& default_sql);

/* The file's tables and views (SQLite's own sqlite_* tables excluded), by name. */
std::vector<SchemaObject> list_objects(Connection& conn);

/*
 * Whether a table or view of that name exists (SQLite names are
 * case-insensitive); *kind receives which.
 */
bool find_object(Connection& conn, const char* name, ObjectKind* kind);

/* The visible columns of a table or view, in declaration order. */
std::vector<ColumnInfo> table_columns(Connection& conn, const char* table);

}  // namespace recio::sqlite

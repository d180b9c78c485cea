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
/* A column as PRAGMA table_xinfo gives it, hidden ones included (schema_plan). */
struct ColumnFacts {
    std::string name;
    std::string declared;
    bool not_null;
    bool has_default;
    std::string default_sql; /* dflt_value: the DEFAULT's text, outer parentheses dropped */
    int pk;
    int hidden; /* 0 plain, 1 hidden (virtual tables), 2/3 generated */
};

struct IndexFacts {
    std::string name;
    bool unique;
    std::string origin; /* "c" CREATE INDEX, "u" UNIQUE constraint, "pk" PRIMARY KEY */
    bool partial;
    std::string sql;    /* sqlite_schema.sql; "" for an automatic index */
};

struct IndexColumn {
    std::string name; /* "" for an expression term */
    bool desc;
    std::string collation;
};

struct ForeignKeyFacts {
    int id;
    std::string parent;
    std::vector<std::string> from, to; /* to: "" when the parent's primary key is meant */
    std::string on_update, on_delete;
};

struct SchemaEntry {
    std::string type, name, table, sql;
};

/* Every row of sqlite_schema (sql "" when NULL), by type and name. */
std::vector<SchemaEntry> schema_entries(Connection& conn);

/* PRAGMA table_xinfo of a table. */
std::vector<ColumnFacts> column_facts(Connection& conn, const char* table);

/* PRAGMA index_list of a table, with each index's CREATE INDEX text. */
std::vector<IndexFacts> index_facts(Connection& conn, const char* table);

/* PRAGMA index_xinfo's key columns of an index, in order. */
std::vector<IndexColumn> index_columns(Connection& conn, const char* index);

/* PRAGMA foreign_key_list of a table, grouped by constraint, by id. */
std::vector<ForeignKeyFacts> foreign_keys(Connection& conn, const char* table);

/* The table's row of sqlite_sequence (AUTOINCREMENT; the name matched as SQLite matches names, ignoring
 * ASCII case): false when none or no such table. */
bool sqlite_sequence(Connection& conn, const char* table, int64* seq);

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

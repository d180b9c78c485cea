/*
 * schema.cpp: listing a SQLite file's objects and a table's columns
 * (see schema.h).
 */
#include "sqlite/schema.h"

#include <cctype>
#include <cstring>

namespace recio::sqlite {

std::vector<SchemaObject> list_objects(Connection& conn)
{
    std::vector<SchemaObject> objects;
    Statement st(conn,
                 "SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') "
                 "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name");
    while (st.step())
        objects.push_back(
            {st.text(0) ? st.text(0) : "", strcmp(st.text(1), "view") == 0 ? ObjectKind::View : ObjectKind::Table});
    return objects;
}

bool find_object(Connection& conn, const char* name, ObjectKind* kind)
{
    Statement st(conn, "SELECT type FROM sqlite_schema WHERE type IN ('table', 'view') AND name = ?1 COLLATE NOCASE");
    st.bind(1, name);
    if (!st.step())
        return false;
    *kind = strcmp(st.text(0), "view") == 0 ? ObjectKind::View : ObjectKind::Table;
    return true;
}

std::vector<ColumnInfo> table_columns(Connection& conn, const char* table)
{
    std::vector<ColumnInfo> columns;
    Statement st(conn, "SELECT name, type, \"notnull\", pk, dflt_value FROM pragma_table_xinfo(?1) WHERE hidden <> 1 ORDER BY cid");
    st.bind(1, table);
    while (st.step()) {
        const char* name = st.text(0);
        const char* declared = st.text(1);
        const char* dflt = st.text(4);
        if (name && *name)
            columns.push_back({name, declared ? declared : "", st.integer(2) != 0, st.integer(3), dflt ? dflt : ""});
    }
    return columns;
}

bool default_is_utc_now(const std::string& default_sql)
{
    std::string s;
    for (char c : default_sql)
        if (!isspace(static_cast<unsigned char>(c)))
            s += static_cast<char>(tolower(static_cast<unsigned char>(c)));
    while (s.size() >= 2 && s.front() == '(' && s.back() == ')')
        s = s.substr(1, s.size() - 2);
    return s == "current_timestamp" || s == "datetime('now')" || s == "datetime(\"now\")";
}

namespace {

std::string text_or_empty(Statement& st, int col)
{
    const char* t = st.text(col);
    return t ? t : "";
}

}  // namespace

std::vector<SchemaEntry> schema_entries(Connection& conn)
{
    std::vector<SchemaEntry> entries;
    Statement st(conn, "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name");
    while (st.step())
        entries.push_back({text_or_empty(st, 0), text_or_empty(st, 1), text_or_empty(st, 2), text_or_empty(st, 3)});
    return entries;
}

std::vector<ColumnFacts> column_facts(Connection& conn, const char* table)
{
    std::vector<ColumnFacts> columns;
    Statement st(conn,
                 "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1) ORDER BY cid");
    st.bind(1, table);
    while (st.step()) {
        bool has_default = sqlite3_column_type(st.handle(), 3) != SQLITE_NULL;
        columns.push_back({text_or_empty(st, 0), text_or_empty(st, 1), st.integer(2) != 0, has_default,
                           text_or_empty(st, 3), st.integer(4), st.integer(5)});
    }
    return columns;
}

std::vector<IndexFacts> index_facts(Connection& conn, const char* table)
{
    std::vector<IndexFacts> indexes;
    Statement st(conn,
                 "SELECT l.name, l.\"unique\", l.origin, l.partial, s.sql FROM pragma_index_list(?1) l "
                 "LEFT JOIN sqlite_schema s ON s.type = 'index' AND s.name = l.name ORDER BY l.name");
    st.bind(1, table);
    while (st.step())
        indexes.push_back(
            {text_or_empty(st, 0), st.integer(1) != 0, text_or_empty(st, 2), st.integer(3) != 0, text_or_empty(st, 4)});
    return indexes;
}

std::vector<IndexColumn> index_columns(Connection& conn, const char* index)
{
    std::vector<IndexColumn> columns;
    Statement st(conn, "SELECT name, \"desc\", coll FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno");
    st.bind(1, index);
    while (st.step())
        columns.push_back({text_or_empty(st, 0), st.integer(1) != 0, text_or_empty(st, 2)});
    return columns;
}

std::vector<ForeignKeyFacts> foreign_keys(Connection& conn, const char* table)
{
    std::vector<ForeignKeyFacts> keys;
    Statement st(conn,
                 "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?1) "
                 "ORDER BY id, seq");
    st.bind(1, table);
    while (st.step()) {
        int id = st.integer(0);
        if (keys.empty() || keys.back().id != id)
            keys.push_back({id, text_or_empty(st, 1), {}, {}, text_or_empty(st, 4), text_or_empty(st, 5)});
        keys.back().from.push_back(text_or_empty(st, 2));
        keys.back().to.push_back(text_or_empty(st, 3));
    }
    return keys;
}

bool sqlite_sequence(Connection& conn, const char* table, int64* seq)
{
    {
        Statement exists(conn, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_sequence'");
        if (!exists.step())
            return false;
    }
    Statement st(conn, "SELECT seq FROM sqlite_sequence WHERE name = ?1 COLLATE NOCASE");
    st.bind(1, table);
    if (!st.step() || sqlite3_column_type(st.handle(), 0) != SQLITE_INTEGER)
        return false;
    *seq = st.int64_value(0);
    return true;
}

}  // namespace recio::sqlite

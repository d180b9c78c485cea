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

}  // namespace recio::sqlite

/*
 * import_schema.cpp: IMPORT FOREIGN SCHEMA main FROM SERVER s INTO local.
 *
 * Every table and view of the file becomes a foreign table whose column
 * types follow SQLite's affinity rules (README: "Type mapping"), each column
 * keeping its SQLite name in the column_name option so quoting and case
 * never get lost.
 */
#include "fdw/import_schema.h"

extern "C" {
#include "commands/defrem.h"
#include "utils/builtins.h"
}

#include <sys/stat.h>

#include <cstring>
#include <string>
#include <vector>

#include "fdw/options.h"
#include "sqlite/affinity.h"
#include "fdw/connection.h"
#include "sqlite/value_profile.h"
#include "sqlite/connection_cache.h"
#include "sqlite/schema.h"
#include "sqlite/value_convert.h"

extern "C" {
#include "mb/pg_wchar.h"
}

namespace recio {
namespace {

struct ImportOptions {
    std::string timestamp_type = "timestamptz";
    bool import_not_null = true;
    bool observed_types = false; /* types 'observed': from a profile of the data */
};

ImportOptions parse_import_options(List* options)
{
    ImportOptions o;
    ListCell* lc;
    foreach (lc, options) {
        auto* def = static_cast<DefElem*>(lfirst(lc));
        const char* value = pg::call([&] { return defGetString(def); });
        if (strcmp(def->defname, "timestamp_type") == 0) {
            if (strcmp(value, "timestamptz") != 0 && strcmp(value, "timestamp") != 0 && strcmp(value, "text") != 0)
                throw Error(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE,
                            format("invalid value for option \"timestamp_type\": \"%s\"", value),
                            "Expected one of: timestamptz, timestamp, text.");
            o.timestamp_type = value;
        } else if (strcmp(def->defname, "import_not_null") == 0) {
            bool b;
            if (!parse_bool(value, &b))
                throw Error(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE,
                            format("invalid value for option \"import_not_null\": \"%s\"", value),
                            "Expected a boolean: true or false.");
            o.import_not_null = b;
        } else if (strcmp(def->defname, "types") == 0) {
            if (strcmp(value, "declared") != 0 && strcmp(value, "observed") != 0)
                throw Error(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE,
                            format("invalid value for option \"types\": \"%s\"", value),
                            "Expected one of: declared, observed.");
            o.observed_types = strcmp(value, "observed") == 0;
        } else {
            throw Error(ERRCODE_FDW_INVALID_OPTION_NAME, format("invalid option \"%s\"", def->defname), {},
                        "Valid options for IMPORT FOREIGN SCHEMA are: timestamp_type, import_not_null, types.");
        }
    }
    return o;
}

std::string upper(const char* s)
{
    std::string t;
    for (; s && *s; s++)
        t += static_cast<char>(toupper(static_cast<unsigned char>(*s)));
    return t;
}

bool contains(const std::string& s, const char* part)
{
    return s.find(part) != std::string::npos;
}

/*
 * Declared SQLite type -> PostgreSQL type.  Date/time declarations are
 * checked first (SQLite gives them NUMERIC affinity), then the affinity rules
 * in SQLite's order: INT, CHAR/CLOB/TEXT, BLOB or none, REAL/FLOA/DOUB, else
 * NUMERIC.
 */
std::string map_type(const char* declared, const ImportOptions& o)
{
    std::string t = upper(declared);
    std::string base = t.substr(0, t.find('('));
    while (!base.empty() && base.back() == ' ')
        base.pop_back();
    if (contains(t, "TIMESTAMP") || contains(t, "DATETIME") || base == "DATE")
        return o.timestamp_type;
    if (base == "TIME")
        return "time";
    if (base == "BOOLEAN" || base == "BOOL")
        return "boolean";
    switch (sqlite::affinity_of(declared)) {
    case sqlite::Affinity::Integer:
        return "bigint";
    case sqlite::Affinity::Text:
        return "text";
    case sqlite::Affinity::Blob:
        return "bytea";
    case sqlite::Affinity::Real:
        return "double precision";
    case sqlite::Affinity::Numeric:
        break;
    }
    return "numeric";
}

std::string quote_pg_ident(const char* name)
{
    return pg::call([&] { return quote_identifier(name); });
}

std::string quote_pg_literal(const char* value)
{
    return pg::call([&] { return quote_literal_cstr(value); });
}

struct Column {
    std::string name, decl;
    bool notnull;
    std::string observed_type; /* types 'observed': the profile's suggestion */
    std::string column_options; /* extra column options the observed type needs */
};

/*
 * types 'observed': each column declared with the type its values fit
 * (migrate/profile.h).  Integer epochs get their epoch_unit; naive
 * timestamps get the server's zone written out as the column's timezone
 * option, so the assumption is visible in the catalog.
 */
void observe_types(sqlite::Connection& conn, const char* table, std::vector<Column>& cols, const char* server_tz)
{
    std::vector<std::string> names;
    for (const Column& c : cols)
        names.push_back(c.name);
    std::vector<ColumnProfile> prof = profile_table(conn, table, names);
    for (size_t i = 0; i < cols.size(); i++) {
        cols[i].observed_type = prof[i].suggested_type;
        if (!prof[i].epoch_unit.empty())
            cols[i].column_options = ", epoch_unit '" + prof[i].epoch_unit + "'";
        else if (prof[i].suggested_type == "timestamptz" && prof[i].n_naive > 0)
            cols[i].column_options = ", timezone " + quote_pg_literal(server_tz);
    }
}

std::vector<Column> read_columns(sqlite::Connection& conn, const char* table)
{
    std::vector<Column> cols;
    for (sqlite::ColumnInfo& c : sqlite::table_columns(conn, table))
        cols.push_back({std::move(c.name), std::move(c.declared), c.not_null});
    return cols;
}

/*
 * A name from the file as a catalog name: valid UTF-8 converted to the
 * server encoding, or false (never invalid bytes in the catalogs).
 */
bool catalog_name(const std::string& utf8, std::string* out)
{
    const char* s = utf8.c_str();
    int len = static_cast<int>(utf8.size());
    if (memchr(s, '\0', utf8.size()) || !pg_verify_mbstr(PG_UTF8, s, len, true))
        return false;
    if (GetDatabaseEncoding() == PG_UTF8 || GetDatabaseEncoding() == PG_SQL_ASCII) {
        *out = utf8;
        return true;
    }
    try {
        *out = pg::call([&] { return pg_any_to_server(s, len, PG_UTF8); });
    } catch (const PgError&) {
        return false; /* not representable in the server encoding */
    }
    return true;
}

void warn_skipped(const std::string& name, const char* why)
{
    std::string printable = shown(name.c_str());
    const char* n = printable.c_str();
    pg::call([&] { ereport(WARNING, (errmsg("skipping SQLite table or view \"%s\": %s", n, why))); });
}

bool wanted(ImportForeignSchemaStmt* stmt, const std::string& name)
{
    if (stmt->list_type == FDW_IMPORT_SCHEMA_ALL)
        return true;
    bool listed = false;
    ListCell* lc;
    foreach (lc, stmt->table_list) {
        RangeVar* rv = static_cast<RangeVar*>(lfirst(lc));
        listed |= name == rv->relname;
    }
    return stmt->list_type == FDW_IMPORT_SCHEMA_LIMIT_TO ? listed : !listed;
}

/*
 * A 0-byte file is a valid empty database to SQLite, so IMPORT would create
 * nothing and say nothing: more often a wrong path or a failed copy.
 */
void warn_if_empty(const char* path)
{
    struct stat st;
    if (stat(path, &st) == 0 && st.st_size == 0)
        pg::call([&] { ereport(WARNING, (errmsg("file \"%s\" is empty (0 bytes): no tables to import", path))); });
}

}  // namespace

List* import_schema(ImportForeignSchemaStmt* stmt, Oid serverid)
{
    if (strcmp(stmt->remote_schema, "main") != 0)
        throw Error(ERRCODE_FDW_SCHEMA_NOT_FOUND,
                    format("schema \"%s\" does not exist in the SQLite file", stmt->remote_schema), {},
                    "A SQLite file has one schema to import: IMPORT FOREIGN SCHEMA main.");
    ImportOptions opts = parse_import_options(stmt->options);
    sqlite::Connection& conn = server_connection(serverid);
    const char* server_tz = server_options(serverid).timezone;
    std::string server = quote_pg_ident(stmt->server_name);
    std::string local_schema = quote_pg_ident(stmt->local_schema);
    warn_if_empty(conn.path);

    List* commands = NIL;
    for (const sqlite::SchemaObject& object : sqlite::list_objects(conn)) {
        const std::string& table = object.name;
        if (!wanted(stmt, table))
            continue;
        std::string pg_table;
        if (!catalog_name(table, &pg_table)) {
            warn_skipped(table, "its name is not valid UTF-8 or not representable in the database encoding");
            continue;
        }
        std::vector<Column> columns;
        try {
            columns = read_columns(conn, table.c_str());
        } catch (const Error& e) {
            /* A view SQLite refuses to compile (a hostile or broken file) must not sink the whole import. */
            std::string printable = shown(table.c_str());
            const char* name = printable.c_str();
            const char* why = e.message().c_str();
            const char* detail = e.detail().c_str();
            pg::call([&] {
                ereport(WARNING, (errmsg("skipping SQLite table or view \"%s\": %s", name, why),
                                  errdetail_internal("%s", detail)));
            });
            continue;
        }
        if (opts.observed_types)
            observe_types(conn, table.c_str(), columns, server_tz);
        std::string sql = "CREATE FOREIGN TABLE " + local_schema + "." + quote_pg_ident(pg_table.c_str()) + " (";
        bool first = true;
        bool names_ok = true;
        for (const Column& c : columns) {
            std::string pg_column;
            names_ok = catalog_name(c.name, &pg_column);
            if (!names_ok)
                break;
            sql += first ? "\n  " : ",\n  ";
            first = false;
            std::string type = opts.observed_types ? c.observed_type : map_type(c.decl.c_str(), opts);
            sql += quote_pg_ident(pg_column.c_str()) + " " + type + " OPTIONS (column_name " +
                   quote_pg_literal(pg_column.c_str()) + c.column_options + ")";
            if (c.notnull && opts.import_not_null)
                sql += " NOT NULL";
        }
        if (!names_ok) {
            warn_skipped(table, "a column name is not valid UTF-8 or not representable in the database encoding");
            continue;
        }
        sql += "\n) SERVER " + server + " OPTIONS (table " + quote_pg_literal(pg_table.c_str()) + ")";
        const char* text = sql.c_str();
        commands = pg::call([&] { return lappend(commands, pstrdup(text)); });
    }
    return commands;
}

}  // namespace recio

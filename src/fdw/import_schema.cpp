/*
 * import_schema.cpp: IMPORT FOREIGN SCHEMA main FROM SERVER s INTO local.
 *
 * Every table and view of the file becomes a foreign table whose column
 * types follow SQLite's affinity rules (README: "Type mapping"), each column
 * keeping its SQLite name in the column_name option so quoting and case
 * never get lost.
 *
 * Names PostgreSQL cannot take as they are do not sink the import: a name
 * longer than NAMEDATALEN - 1 bytes is shortened deterministically and
 * uniquely (pg_name_of) with a NOTICE, the table and column_name options
 * keeping the SQLite name; what PostgreSQL cannot represent at all (an
 * empty table name, more than MaxHeapAttributeNumber columns, a name not
 * valid in the database encoding) is skipped with a WARNING.
 */
#include "fdw/import_schema.h"

extern "C" {
#include "access/htup_details.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
}

#include <sys/stat.h>

#include <cstring>
#include <map>
#include <set>
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
    std::string default_sql; /* the SQLite DEFAULT as declared */
    std::string observed_type; /* types 'observed': the profile's suggestion */
    std::string column_options; /* extra column options the observed type needs */
};

/*
 * types 'observed': each column declared with the type its values fit
 * (sqlite/value_profile.h).  Integer epochs get their epoch_unit; naive
 * timestamps get the server's zone written out as the column's timezone
 * option, so the assumption is visible in the catalog: UTC for a column
 * whose SQLite DEFAULT is CURRENT_TIMESTAMP or datetime('now'), which SQLite
 * writes in UTC.  Text timestamps get the format the legacy writer used
 * (the profile's legacy_format) as the column's format option, so what the
 * wrapper writes back to SQLite, and export_sqlite(), is the legacy text.
 */
void observe_types(sqlite::Connection& conn, const char* table, std::vector<Column>& cols, const char* server_tz)
{
    std::vector<std::string> names;
    std::vector<pg_tz*> zones;
    pg_tz* server_zone = pg_strcasecmp(server_tz, "UTC") == 0 ? nullptr : lookup_timezone(server_tz);
    for (const Column& c : cols) {
        names.push_back(c.name);
        zones.push_back(sqlite::default_is_utc_now(c.default_sql) ? nullptr : server_zone);
    }
    std::vector<ColumnProfile> prof = profile_table(conn, table, names, zones);
    for (size_t i = 0; i < cols.size(); i++) {
        cols[i].observed_type = prof[i].suggested_type;
        if (!prof[i].epoch_unit.empty())
            cols[i].column_options = ", epoch_unit '" + prof[i].epoch_unit + "'";
        else if (prof[i].suggested_type == "timestamptz" && prof[i].n_naive > 0)
            cols[i].column_options =
                ", timezone " + quote_pg_literal(prof[i].utc_default ? "UTC" : server_tz);
        /* the text format the legacy writer used: what a write through the wrapper or an export writes back */
        if (prof[i].epoch_unit.empty() && !prof[i].legacy_format.empty() &&
            (prof[i].suggested_type == "timestamptz" || prof[i].suggested_type == "timestamp"))
            cols[i].column_options += ", format " + quote_pg_literal(prof[i].legacy_format.c_str());
    }
}

std::vector<Column> read_columns(sqlite::Connection& conn, const char* table)
{
    std::vector<Column> cols;
    for (sqlite::ColumnInfo& c : sqlite::table_columns(conn, table))
        cols.push_back({std::move(c.name), std::move(c.declared), c.not_null, std::move(c.default_sql)});
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

constexpr int kMaxNameBytes = NAMEDATALEN - 1;
constexpr int kHashDigits = 8;

/* 32 bits of FNV-1a over the SQLite name: the same on every platform and every run */
uint32 name_hash(const std::string& sqlite_name)
{
    uint64 h = UINT64CONST(14695981039346656037);
    for (unsigned char c : sqlite_name) {
        h ^= c;
        h *= UINT64CONST(1099511628211);
    }
    return static_cast<uint32>(h ^ (h >> 32));
}

/* The longest prefix of a catalog name within max_bytes, cut on a character boundary. */
std::string clipped(const std::string& name, int max_bytes)
{
    const char* s = name.c_str();
    int len = static_cast<int>(name.size());
    int cut = pg::call([&] { return pg_mbcliplen(s, len, max_bytes); });
    return name.substr(0, static_cast<size_t>(cut));
}

/*
 * The PostgreSQL name of a SQLite name (given in the server encoding): the
 * name itself when it fits in NAMEDATALEN - 1 bytes, else its first bytes,
 * "_" and 8 hex digits of a hash of the whole SQLite name, so two names alike
 * in their first 63 bytes stay apart and a file always imports under the
 * same names.
 */
std::string pg_name_of(const std::string& catalog, const std::string& sqlite_name)
{
    if (catalog.size() <= static_cast<size_t>(kMaxNameBytes))
        return catalog;
    char suffix[16];
    snprintf(suffix, sizeof suffix, "_%08x", name_hash(sqlite_name));
    return clipped(catalog, kMaxNameBytes - 1 - kHashDigits) + suffix;
}

const char* object_noun(sqlite::ObjectKind kind)
{
    return kind == sqlite::ObjectKind::View ? "view" : "table";
}

/* name: as the catalogs would hold it (in full: long names may differ only at their end), or shown() */
void warn_skipped(const std::string& name, const char* why, const std::string& hint = {})
{
    const char* n = name.c_str();
    const char* h = hint.c_str();
    pg::call([&] {
        ereport(WARNING, (errmsg("skipping SQLite table or view \"%s\": %s", n, why), *h ? errhint("%s", h) : 0));
    });
}

/* A rename, naming the SQLite name and the PostgreSQL name; where is "" or " in foreign table ..." */
void notice_renamed(const char* what, const std::string& catalog, const std::string& pg_name,
                    const std::string& where = {})
{
    const char* from = catalog.c_str();
    const char* to = pg_name.c_str();
    const char* in = where.c_str();
    pg::call([&] {
        ereport(NOTICE, (errmsg("SQLite %s name \"%s\" is longer than %d bytes: imported as \"%s\"%s", what, from,
                                kMaxNameBytes, to, in)));
    });
}

/*
 * Whether IMPORT's LIMIT TO / EXCEPT list names this table: by its SQLite
 * name, by its PostgreSQL name, or by what the parser made of its long
 * SQLite name (the first 63 bytes) when no table has exactly that name
 * (exact: the SQLite and PostgreSQL names of all the file's tables).  A
 * table LIMIT TO names by its SQLite name but that imports under a
 * shortened name gets that name appended to the list: PostgreSQL keeps only
 * the commands whose table the list names.
 */
bool wanted(ImportForeignSchemaStmt* stmt, const std::string& catalog, const std::string& pg_name,
            const std::set<std::string>& exact)
{
    if (stmt->list_type == FDW_IMPORT_SCHEMA_ALL)
        return true;
    std::string as_parsed = clipped(catalog, kMaxNameBytes);
    bool listed = false, listed_as_pg = false;
    ListCell* lc;
    foreach (lc, stmt->table_list) {
        const char* relname = static_cast<RangeVar*>(lfirst(lc))->relname;
        listed_as_pg |= pg_name == relname;
        listed |= catalog == relname || (as_parsed == relname && exact.count(as_parsed) == 0);
    }
    if (stmt->list_type == FDW_IMPORT_SCHEMA_EXCEPT)
        return !listed && !listed_as_pg;
    if (listed && !listed_as_pg) {
        const char* n = pg_name.c_str();
        stmt->table_list = pg::call([&] { return lappend(stmt->table_list, makeRangeVar(nullptr, pstrdup(n), -1)); });
    }
    return listed || listed_as_pg;
}

struct ImportedColumn {
    std::string pg_name, sqlite_name; /* both in the server encoding */
};

/*
 * The PostgreSQL names of a table's columns, or false after a WARNING when
 * PostgreSQL cannot represent them; renames are NOTICEd by the caller once
 * the table is known to be imported.
 */
bool column_names(const std::string& table, const std::vector<Column>& columns, std::vector<ImportedColumn>* out)
{
    if (columns.size() > static_cast<size_t>(MaxHeapAttributeNumber)) {
        std::string why = format("it has %zu columns, more than the %d a PostgreSQL table can have", columns.size(),
                                 MaxHeapAttributeNumber);
        warn_skipped(table, why.c_str(),
                     "Create a foreign table with the columns you need by hand; "
                     "the column_name option names a SQLite column.");
        return false;
    }
    std::map<std::string, const std::string*> taken;
    for (const Column& c : columns) {
        ImportedColumn ic;
        if (!catalog_name(c.name, &ic.sqlite_name)) {
            warn_skipped(table, "a column name is not valid UTF-8 or not representable in the database encoding");
            return false;
        }
        ic.pg_name = pg_name_of(ic.sqlite_name, c.name);
        out->push_back(std::move(ic));
    }
    for (const ImportedColumn& ic : *out) {
        auto [it, fresh] = taken.emplace(ic.pg_name, &ic.sqlite_name);
        if (!fresh) {
            std::string why = format("columns \"%s\" and \"%s\" would both be named \"%s\" in PostgreSQL",
                                     it->second->c_str(), ic.sqlite_name.c_str(), ic.pg_name.c_str());
            warn_skipped(table, why.c_str());
            return false;
        }
    }
    return true;
}

/* An empty name is no PostgreSQL identifier (and cannot be named in EXCEPT): say how to read it anyway. */
void warn_empty_name(const std::string& server)
{
    warn_skipped("", "PostgreSQL names cannot be empty",
                 format("Read it through a foreign table created by hand: "
                        "CREATE FOREIGN TABLE name (columns) SERVER %s OPTIONS (table '').",
                        server.c_str()));
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

    std::vector<sqlite::SchemaObject> objects = sqlite::list_objects(conn);
    std::set<std::string> exact;
    for (const sqlite::SchemaObject& object : objects) {
        std::string catalog;
        if (!object.name.empty() && catalog_name(object.name, &catalog)) {
            exact.insert(pg_name_of(catalog, object.name));
            exact.insert(std::move(catalog));
        }
    }
    List* commands = NIL;
    std::map<std::string, std::string> taken; /* PostgreSQL name -> SQLite name of the tables imported */
    for (const sqlite::SchemaObject& object : objects) {
        pg::check_for_interrupts();
        const std::string& table = object.name;
        /* no list can name the names skipped here: warned unless LIMIT TO */
        bool unlisted = stmt->list_type != FDW_IMPORT_SCHEMA_LIMIT_TO;
        if (table.empty()) {
            if (unlisted)
                warn_empty_name(server);
            continue;
        }
        std::string catalog;
        if (!catalog_name(table, &catalog)) {
            if (unlisted)
                warn_skipped(shown(table.c_str()),
                             "its name is not valid UTF-8 or not representable in the database encoding");
            continue;
        }
        std::string pg_table = pg_name_of(catalog, table);
        if (!wanted(stmt, catalog, pg_table, exact))
            continue;
        auto other = taken.find(pg_table);
        if (other != taken.end()) {
            std::string why = format("its PostgreSQL name \"%s\" is taken by SQLite table or view \"%s\"",
                                     pg_table.c_str(), other->second.c_str());
            warn_skipped(catalog, why.c_str());
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
        std::vector<ImportedColumn> names;
        if (!column_names(catalog, columns, &names))
            continue;
        if (opts.observed_types)
            observe_types(conn, table.c_str(), columns, server_tz);
        std::string sql = "CREATE FOREIGN TABLE " + local_schema + "." + quote_pg_ident(pg_table.c_str()) + " (";
        for (size_t i = 0; i < columns.size(); i++) {
            const Column& c = columns[i];
            sql += i == 0 ? "\n  " : ",\n  ";
            std::string type = opts.observed_types ? c.observed_type : map_type(c.decl.c_str(), opts);
            sql += quote_pg_ident(names[i].pg_name.c_str()) + " " + type + " OPTIONS (column_name " +
                   quote_pg_literal(names[i].sqlite_name.c_str()) + c.column_options + ")";
            if (c.notnull && opts.import_not_null)
                sql += " NOT NULL";
        }
        sql += "\n) SERVER " + server + " OPTIONS (table " + quote_pg_literal(catalog.c_str()) + ")";
        if (pg_table != catalog)
            notice_renamed(object_noun(object.kind), catalog, pg_table);
        for (const ImportedColumn& ic : names)
            if (ic.pg_name != ic.sqlite_name)
                notice_renamed("column", ic.sqlite_name, ic.pg_name,
                               " in foreign table " + quote_pg_ident(pg_table.c_str()));
        taken.emplace(pg_table, catalog);
        const char* text = sql.c_str();
        commands = pg::call([&] { return lappend(commands, pstrdup(text)); });
    }
    return commands;
}

bool import_name(const std::string& sqlite_name, std::string* pg_name)
{
    std::string catalog;
    if (sqlite_name.empty() || !catalog_name(sqlite_name, &catalog))
        return false;
    *pg_name = pg_name_of(catalog, sqlite_name);
    return true;
}

}  // namespace recio

/*
 * import_name(sqlite_name text) -> name: the PostgreSQL name IMPORT FOREIGN
 * SCHEMA gives a SQLite table or column of that name (given as
 * sqlite_tables() lists it), NULL when it imports none (empty, or not
 * representable in the database encoding).  migrate_server() finds the
 * foreign table and names the target table with it.
 */
RECIO_FUNCTION(recio_import_name)
{
    using namespace recio;
    text* arg = pg::call([&] { return PG_GETARG_TEXT_PP(0); });
    const char* s = VARDATA_ANY(arg);
    int len = static_cast<int>(VARSIZE_ANY_EXHDR(arg));
    const char* utf8 = pg::call([&] { return pg_server_to_any(s, len, PG_UTF8); });
    std::string sqlite_name(utf8, utf8 == s ? static_cast<size_t>(len) : strlen(utf8));
    std::string pg_name;
    if (!import_name(sqlite_name, &pg_name))
        PG_RETURN_NULL();
    const char* n = pg_name.c_str();
    return pg::call([&] {
        Name result = static_cast<Name>(palloc0(NAMEDATALEN));
        namestrcpy(result, n);
        return NameGetDatum(result);
    });
}

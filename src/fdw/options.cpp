/*
 * options.cpp: validation and lookup of recio_sqlite options.
 *
 * The validator sees the complete option list of the object being created
 * or altered, so required options and cross-option rules are checked here,
 * once, and lookups elsewhere can trust what the catalogs hold.
 */
#include "fdw/options.h"

extern "C" {
#include "access/reloptions.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_user_mapping.h"
#include "catalog/pg_foreign_data_wrapper.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "catalog/pg_authid.h"
#include "fmgr.h"
}

#include "sqlite/value_reverse.h"

#include <climits>
#include <cstring>
#include "sqlite/schema.h"

namespace recio {
namespace {

struct OptionSpec {
    const char* name;
    Oid context; /* catalog the option belongs to */
};

const OptionSpec kOptions[] = {
    {"database", ForeignServerRelationId},  {"busy_timeout_ms", ForeignServerRelationId},
    {"immutable", ForeignServerRelationId}, {"updatable", ForeignServerRelationId},
    {"timezone", ForeignServerRelationId},  {"table", ForeignTableRelationId},
    {"on_error", ForeignTableRelationId},   {"timezone", ForeignTableRelationId},
    {"column_name", AttributeRelationId},   {"on_error", AttributeRelationId},
    {"timezone", AttributeRelationId},      {"epoch_unit", AttributeRelationId},
    {"batch_size", ForeignServerRelationId}, {"updatable", ForeignTableRelationId},
    {"batch_size", ForeignTableRelationId},  {"format", AttributeRelationId},
    {"allow_rounding", AttributeRelationId},
};

/* Rows per INSERT statement of a batched insert, at most. */
constexpr int kMaxBatchSize = 10000;

const char* catalog_noun(Oid catalog)
{
    switch (catalog) {
    case ForeignServerRelationId:
        return "server";
    case ForeignTableRelationId:
        return "foreign table";
    case AttributeRelationId:
        return "column";
    case UserMappingRelationId:
        return "user mapping";
    case ForeignDataWrapperRelationId:
        return "foreign-data wrapper";
    default:
        return "object";
    }
}

std::string valid_option_list(Oid catalog)
{
    std::string list;
    for (const auto& o : kOptions) {
        if (o.context != catalog)
            continue;
        if (!list.empty())
            list += ", ";
        list += o.name;
    }
    return list;
}

[[noreturn]] void bad_value(const char* option, const char* value, const char* expected)
{
    throw Error(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE, format("invalid value for option \"%s\": \"%s\"", option, value),
                format("%s", expected));
}

bool parse_bool_option(const char* option, const char* value)
{
    bool result;
    if (!parse_bool(value, &result))
        bad_value(option, value, "Expected a boolean: true or false.");
    return result;
}

int parse_int_option(const char* option, const char* value, int min, int max)
{
    errno = 0;
    char* end = nullptr;
    long v = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || v < min || v > max)
        bad_value(option, value, format("Expected an integer between %d and %d.", min, max).c_str());
    return static_cast<int>(v);
}

OnError parse_on_error(const char* value)
{
    if (strcmp(value, "stop") == 0)
        return OnError::Stop;
    if (strcmp(value, "null") == 0)
        return OnError::Null;
    if (strcmp(value, "ignore") == 0)
        return OnError::Ignore;
    bad_value("on_error", value, "Expected one of: stop, null, ignore.");
}

EpochUnit parse_epoch_unit(const char* value)
{
    if (strcmp(value, "s") == 0)
        return EpochUnit::Seconds;
    if (strcmp(value, "ms") == 0)
        return EpochUnit::Millis;
    if (strcmp(value, "us") == 0)
        return EpochUnit::Micros;
    bad_value("epoch_unit", value, "Expected one of: s, ms, us.");
}

void check_database_path(const char* value)
{
    if (value[0] != '/')
        bad_value("database", value, "The path of the SQLite file must be absolute.");
    if (strchr(value, '\n') || strchr(value, '\r'))
        bad_value("database", value, "The path must not contain line breaks.");
}

/*
 * Reading a file as the PostgreSQL OS user is a privilege: like file_fdw's
 * filename, only superusers and members of pg_read_server_files may set it.
 */
void check_database_privilege()
{
    bool allowed = pg::call([] { return superuser() || has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES); });
    if (!allowed)
        throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied to set option \"database\"",
                    "Only superusers and roles with privileges of the pg_read_server_files role "
                    "may point a recio_sqlite server at a file.");
}

/*
 * Writing a file as the PostgreSQL OS user is a privilege too: making a
 * server or foreign table updatable needs what "database" needs, plus the
 * privileges of pg_write_server_files.
 */
void check_updatable_privilege()
{
    bool allowed = pg::call([] {
        return superuser() || (has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES) &&
                               has_privs_of_role(GetUserId(), ROLE_PG_WRITE_SERVER_FILES));
    });
    if (!allowed)
        throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied to set option \"updatable\"",
                    "Only superusers and roles with privileges of both the pg_read_server_files and "
                    "pg_write_server_files roles may make a recio_sqlite server or foreign table writable.");
}

void validate(List* options, Oid catalog)
{
    bool have_database = false;
    ListCell* cell;
    foreach (cell, options) {
        auto* def = static_cast<DefElem*>(lfirst(cell));
        const char* value = pg::call([&] { return defGetString(def); });
        bool known = false;
        for (const auto& o : kOptions)
            known |= (o.context == catalog && strcmp(o.name, def->defname) == 0);
        if (!known) {
            std::string valid = valid_option_list(catalog);
            throw Error(ERRCODE_FDW_INVALID_OPTION_NAME, format("invalid option \"%s\"", def->defname), {},
                        valid.empty()
                            ? format("There are no valid options for a %s of recio_sqlite.", catalog_noun(catalog))
                            : format("Valid options for a %s are: %s.", catalog_noun(catalog), valid.c_str()));
        }
        const char* name = def->defname;
        if (strcmp(name, "database") == 0) {
            check_database_privilege();
            check_database_path(value);
            have_database = true;
        } else if (strcmp(name, "busy_timeout_ms") == 0) {
            parse_int_option(name, value, 0, INT_MAX);
        } else if (strcmp(name, "immutable") == 0 || strcmp(name, "allow_rounding") == 0) {
            parse_bool_option(name, value);
        } else if (strcmp(name, "updatable") == 0) {
            if (parse_bool_option(name, value))
                check_updatable_privilege();
        } else if (strcmp(name, "batch_size") == 0) {
            parse_int_option(name, value, 1, kMaxBatchSize);
        } else if (strcmp(name, "format") == 0) {
            std::string problem = timestamp_format_problem(value);
            if (!problem.empty())
                bad_value(name, value, format("%s.", problem.c_str()).c_str());
        } else if (strcmp(name, "timezone") == 0) {
            lookup_timezone(value);
        } else if (strcmp(name, "on_error") == 0) {
            parse_on_error(value);
        } else if (strcmp(name, "epoch_unit") == 0) {
            parse_epoch_unit(value);
        } else if (strcmp(name, "column_name") == 0) {
            /* an empty table name is allowed: SQLite has such tables, and IMPORT points here to read them */
            if (value[0] == '\0')
                bad_value(name, value, "The name must not be empty.");
        }
    }
    if (catalog == ForeignServerRelationId && !have_database)
        throw Error(ERRCODE_FDW_OPTION_NAME_NOT_FOUND, "option \"database\" is required for a recio_sqlite server", {},
                    "Give the absolute path of the SQLite file: OPTIONS (database '/path/file.db').");
}

List* options_of(Oid relid, AttrNumber attnum)
{
    return pg::call([&] { return GetForeignColumnOptions(relid, attnum); });
}

}  // namespace

const char* table_zone(const ServerOptions& server, const TableOptions& table)
{
    return table.timezone ? table.timezone : server.timezone;
}

std::vector<std::string> utc_now_columns(sqlite::Connection& conn, const char* sqlite_table, const char* zone)
{
    std::vector<std::string> names;
    if (!zone || pg_strcasecmp(zone, "UTC") == 0)
        return names;
    for (sqlite::ColumnInfo& c : sqlite::table_columns(conn, sqlite_table))
        if (sqlite::default_is_utc_now(c.default_sql))
            names.push_back(std::move(c.name));
    return names;
}

const char* column_zone(const ColumnOptions& column, const char* zone, const std::vector<std::string>& utc_now)
{
    if (column.timezone)
        return column.timezone;
    for (const std::string& name : utc_now)
        if (sqlite3_stricmp(name.c_str(), column.column_name) == 0)
            return "UTC";
    return zone;
}

pg_tz* lookup_timezone(const char* name)
{
    pg_tz* tz = pg::call([&] { return pg_tzset(name); });
    if (!tz)
        bad_value("timezone", name, "Expected a time zone name known to PostgreSQL, such as UTC or America/New_York.");
    return tz;
}

const char* on_error_name(OnError e)
{
    switch (e) {
    case OnError::Stop:
        return "stop";
    case OnError::Null:
        return "null";
    case OnError::Ignore:
        return "ignore";
    }
    return "stop";
}

bool is_recio_server(Oid serverid)
{
    return pg::call([&] {
        ForeignServer* server = GetForeignServer(serverid);
        ForeignDataWrapper* fdw = GetForeignDataWrapper(server->fdwid);
        if (!OidIsValid(fdw->fdwhandler))
            return false;
        char* name = get_func_name(fdw->fdwhandler);
        Oid nsp = get_func_namespace(fdw->fdwhandler);
        return name && strcmp(name, "recio_sqlite_handler") == 0 && nsp == get_namespace_oid("recio_migrate", true);
    });
}

bool is_recio_foreign_table(Oid relid)
{
    if (pg::call([&] { return get_rel_relkind(relid); }) != RELKIND_FOREIGN_TABLE)
        return false;
    return is_recio_server(pg::call([&] { return GetForeignTable(relid)->serverid; }));
}

ServerOptions server_options(Oid serverid)
{
    ServerOptions o{nullptr, 5000, false, false, "UTC", 100};
    ForeignServer* server = pg::call([&] { return GetForeignServer(serverid); });
    ListCell* cell;
    foreach (cell, server->options) {
        auto* def = static_cast<DefElem*>(lfirst(cell));
        const char* value = pg::call([&] { return defGetString(def); });
        if (strcmp(def->defname, "database") == 0)
            o.database = value;
        else if (strcmp(def->defname, "busy_timeout_ms") == 0)
            o.busy_timeout_ms = parse_int_option(def->defname, value, 0, INT_MAX);
        else if (strcmp(def->defname, "immutable") == 0)
            o.immutable = parse_bool_option(def->defname, value);
        else if (strcmp(def->defname, "updatable") == 0)
            o.updatable = parse_bool_option(def->defname, value);
        else if (strcmp(def->defname, "timezone") == 0)
            o.timezone = value;
        else if (strcmp(def->defname, "batch_size") == 0)
            o.batch_size = parse_int_option(def->defname, value, 1, kMaxBatchSize);
    }
    if (!o.database)
        throw Error(ERRCODE_FDW_OPTION_NAME_NOT_FOUND,
                    format("server \"%s\" has no option \"database\"", server->servername));
    return o;
}

TableOptions table_options(Oid relid)
{
    TableOptions o{nullptr, OnError::Stop, nullptr, false, false, 0};
    ForeignTable* table = pg::call([&] { return GetForeignTable(relid); });
    ListCell* cell;
    foreach (cell, table->options) {
        auto* def = static_cast<DefElem*>(lfirst(cell));
        const char* value = pg::call([&] { return defGetString(def); });
        if (strcmp(def->defname, "table") == 0)
            o.table = value;
        else if (strcmp(def->defname, "on_error") == 0)
            o.on_error = parse_on_error(value);
        else if (strcmp(def->defname, "timezone") == 0)
            o.timezone = value;
        else if (strcmp(def->defname, "updatable") == 0) {
            o.updatable_set = true;
            o.updatable = parse_bool_option(def->defname, value);
        } else if (strcmp(def->defname, "batch_size") == 0)
            o.batch_size = parse_int_option(def->defname, value, 1, kMaxBatchSize);
    }
    if (!o.table)
        o.table = pg::call([&] { return get_rel_name(relid); });
    return o;
}

ColumnOptions column_options(Oid relid, AttrNumber attnum, const char* attname)
{
    ColumnOptions o{attname, false, OnError::Stop, nullptr, EpochUnit::Seconds, false, nullptr, false};
    ListCell* cell;
    List* options = options_of(relid, attnum);
    foreach (cell, options) {
        auto* def = static_cast<DefElem*>(lfirst(cell));
        const char* value = pg::call([&] { return defGetString(def); });
        if (strcmp(def->defname, "column_name") == 0)
            o.column_name = value;
        else if (strcmp(def->defname, "on_error") == 0) {
            o.on_error = parse_on_error(value);
            o.on_error_set = true;
        } else if (strcmp(def->defname, "timezone") == 0)
            o.timezone = value;
        else if (strcmp(def->defname, "epoch_unit") == 0) {
            o.epoch_unit = parse_epoch_unit(value);
            o.epoch_unit_set = true;
        } else if (strcmp(def->defname, "format") == 0)
            o.format = value;
        else if (strcmp(def->defname, "allow_rounding") == 0)
            o.allow_rounding = parse_bool_option(def->defname, value);
    }
    return o;
}

}  // namespace recio

RECIO_FUNCTION(recio_sqlite_validator)
{
    Datum options_datum = PG_GETARG_DATUM(0);
    Oid catalog = PG_GETARG_OID(1);
    List* options = recio::pg::call([&] { return untransformRelOptions(options_datum); });
    recio::validate(options, catalog);
    PG_RETURN_VOID();
}

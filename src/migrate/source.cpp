/*
 * source.cpp: source_table(), the checks and facts shared by profile() and
 * the migration core.
 */
#include "migrate/source.h"

extern "C" {
#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

#include <cstring>

#include "fdw/connection.h"

namespace recio {
SourceTable source_table(Oid relid)
{
    SourceTable src{};
    src.relid = relid;
    char relkind = pg::call([&] { return get_rel_relkind(relid); });
    if (relkind == '\0')
        throw Error(ERRCODE_UNDEFINED_TABLE, format("relation with OID %u does not exist", relid));
    src.relname = pg::call([&] {
        return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
    });
    if (relkind != RELKIND_FOREIGN_TABLE)
        throw Error(ERRCODE_WRONG_OBJECT_TYPE, format("%s is not a foreign table", src.relname), {},
                    "Give a foreign table of the recio_sqlite wrapper (IMPORT FOREIGN SCHEMA creates them).");
    if (pg::call([&] { return pg_class_aclcheck(relid, GetUserId(), ACL_SELECT); }) != ACLCHECK_OK)
        throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, format("permission denied for foreign table %s", src.relname));
    src.serverid = pg::call([&] { return GetForeignTable(relid)->serverid; });
    if (!is_recio_server(src.serverid))
        throw Error(ERRCODE_WRONG_OBJECT_TYPE, format("foreign table %s does not belong to recio_sqlite", src.relname));
    ServerOptions sopts = server_options(src.serverid);
    TableOptions topts = table_options(relid);
    src.table = topts.table;
    src.path = sopts.database;
    const char* default_tz = table_zone(sopts, topts);
    std::vector<std::string> utc_now = utc_now_columns(server_connection(src.serverid), src.table, default_tz);

    Relation rel = pg::call([&] { return relation_open(relid, AccessShareLock); });
    TupleDesc desc = RelationGetDescr(rel);
    for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute a = TupleDescAttr(desc, i);
        if (a->attisdropped)
            continue;
        ColumnOptions copts = column_options(relid, a->attnum, NameStr(a->attname));
        /* column_name may be attname itself, in the relcache entry: copied, as it outlives relation_close */
        src.columns.push_back({a->attnum, pg::strdup(NameStr(a->attname)), pg::strdup(copts.column_name), a->atttypid,
                               a->atttypmod, column_zone(copts, default_tz, utc_now), copts.epoch_unit});
    }
    pg::call([&] { relation_close(rel, NoLock); });
    return src;
}

}  // namespace recio

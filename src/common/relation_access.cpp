/*
 * relation_access.cpp: privilege before lock (relation_access.h).  The
 * checks read only the syscache (pg_class, pg_attribute), which needs no
 * relation lock.
 */
#include "common/relation_access.h"

extern "C" {
#include "access/relation.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

namespace recio {
namespace {

[[noreturn]] void no_such_relation(Oid relid)
{
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("relation with OID %u does not exist", relid)));
    pg_unreachable();
}

bool may_select_columns(Oid relid, Oid user, char* const* columns, int ncolumns)
{
    if (!columns)
        return pg_attribute_aclcheck_all(relid, user, ACL_SELECT, ACLMASK_ALL) == ACLCHECK_OK;
    for (int i = 0; i < ncolumns; i++) {
        AttrNumber att = get_attnum(relid, columns[i]);
        if (att <= 0 || pg_attribute_aclcheck(relid, att, user, ACL_SELECT) != ACLCHECK_OK)
            return false;
    }
    return true;
}

}  // namespace

void check_select(Oid relid, char* const* columns, int ncolumns)
{
    char relkind = get_rel_relkind(relid);
    char* relname = get_rel_name(relid);
    if (relkind == '\0' || !relname)
        no_such_relation(relid);
    Oid user = GetUserId();
    if (pg_class_aclcheck(relid, user, ACL_SELECT) == ACLCHECK_OK || may_select_columns(relid, user, columns, ncolumns))
        return;
    aclcheck_error(ACLCHECK_NO_PRIV, get_relkind_objtype(relkind), relname);
}

Relation open_for_select(Oid relid, char* const* columns, int ncolumns, LOCKMODE lockmode)
{
    check_select(relid, columns, ncolumns);
    LockRelationOid(relid, lockmode);
    Relation rel = try_relation_open(relid, NoLock);
    if (!rel) {
        UnlockRelationOid(relid, lockmode);
        no_such_relation(relid);
    }
    return rel;
}

char* qualified_name(Relation rel)
{
    return quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)), RelationGetRelationName(rel));
}

}  // namespace recio

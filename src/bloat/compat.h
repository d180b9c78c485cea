/*
 * compat.h: the few PostgreSQL calls whose names differ between the major
 * versions recio_migrate should build against (13 to 17), each behind one
 * small helper so the page-reading code reads the same on every version.
 */
#pragma once

extern "C" {
#include "postgres.h"
#include "access/nbtree.h"
#include "catalog/pg_authid.h"
#include "storage/bufpage.h"
#include "utils/acl.h"
}

namespace recio {
namespace compat {

/* The predefined role that may read every page of every relation. */
inline Oid stat_scan_tables_role()
{
#if PG_VERSION_NUM >= 140000
    return ROLE_PG_STAT_SCAN_TABLES;
#else
    return DEFAULT_ROLE_STAT_SCAN_TABLES;
#endif
}

/* The btree special space (BTPageGetOpaque arrived in PostgreSQL 15). */
inline BTPageOpaque btree_opaque(Page page)
{
    return reinterpret_cast<BTPageOpaque>(PageGetSpecialPointer(page));
}

}  // namespace compat
}  // namespace recio

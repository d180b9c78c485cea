/*
 * relation_access.h: the caller's right to read a relation given by OID is
 * checked before the relation is locked, in that order.  A function that
 * locked first would let a role that may not read a table queue an
 * AccessShareLock behind an AccessExclusiveLock on it (and so block every
 * later reader), and its errors (a missing column, a type) would describe a
 * table the role may not see.  checksum(), parity() and parity_diff() open
 * their relations through open_for_select.
 *
 * C-style code over PostgreSQL structures, to be run under pg::call: it
 * ereports.
 */
#pragma once

#include "common/error_boundary.h"

extern "C" {
#include "storage/lockdefs.h"
#include "utils/relcache.h"
}

namespace recio {

/*
 * Raise 42P01 when relid names no relation, and 42501 with PostgreSQL's own
 * "permission denied for table x" unless the current user may SELECT from
 * it: from the whole table, or (columns given) from each named column.  A
 * named column that does not exist is refused the same way, so nothing about
 * the relation's columns shows.  Takes no lock.
 */
void check_select(Oid relid, char* const* columns, int ncolumns);

/*
 * check_select, then lock relid in lockmode and open it; 42P01 if it was
 * dropped while the lock was awaited.
 */
Relation open_for_select(Oid relid, char* const* columns, int ncolumns, LOCKMODE lockmode);

/* schema.name, each part quoted when needed: how relations are named in messages and queries. */
char* qualified_name(Relation rel);

}  // namespace recio

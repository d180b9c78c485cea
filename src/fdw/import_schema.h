/*
 * import_schema.h: IMPORT FOREIGN SCHEMA for recio_sqlite (the callback's
 * C++ body; the shim is in module.cpp).
 */
#pragma once

#include "common/error_boundary.h"

extern "C" {
#include "nodes/parsenodes.h"
}

namespace recio {

List* import_schema(ImportForeignSchemaStmt* stmt, Oid serverid);

}  // namespace recio

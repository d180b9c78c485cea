/*
 * import_schema.h: IMPORT FOREIGN SCHEMA for recio_sqlite (the callback's
 * C++ body; the shim is in module.cpp).
 */
#pragma once

#include <string>

#include "common/error_boundary.h"

extern "C" {
#include "nodes/parsenodes.h"
}

namespace recio {

List* import_schema(ImportForeignSchemaStmt* stmt, Oid serverid);

/*
 * The PostgreSQL name IMPORT FOREIGN SCHEMA gives a SQLite name (UTF-8):
 * false when it gives none (empty, or not representable).
 */
bool import_name(const std::string& sqlite_name, std::string* pg_name);

}  // namespace recio

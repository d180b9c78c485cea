/*
 * affinity.h: SQLite's column affinity from a declared type
 * (https://sqlite.org/datatype3.html section 3.1).  One implementation of
 * the rules, used by the planner (what may be pushed down) and by IMPORT
 * FOREIGN SCHEMA (which PostgreSQL type a column gets).
 */
#pragma once

namespace recio::sqlite {

enum class Affinity { Integer, Text, Blob, Real, Numeric };

/* The rules in SQLite's order: INT, CHAR/CLOB/TEXT, BLOB or none, REAL/FLOA/DOUB, else NUMERIC. */
Affinity affinity_of(const char* declared_type);

}  // namespace recio::sqlite

/*
 * affinity.cpp: SQLite's affinity rules for a declared column type (see
 * affinity.h).  Plain C string code: no allocation, nothing that can raise.
 */
#include "sqlite/affinity.h"

#include <sqlite3.h>

#include <cstring>

namespace recio::sqlite {
namespace {

/* Does declared contain part, ignoring ASCII case (as SQLite does)? */
bool contains(const char* declared, const char* part)
{
    size_t n = strlen(part);
    for (const char* p = declared; *p; p++)
        if (sqlite3_strnicmp(p, part, static_cast<int>(n)) == 0)
            return true;
    return false;
}

}  // namespace

Affinity affinity_of(const char* declared_type)
{
    const char* t = declared_type ? declared_type : "";
    if (contains(t, "INT"))
        return Affinity::Integer;
    if (contains(t, "CHAR") || contains(t, "CLOB") || contains(t, "TEXT"))
        return Affinity::Text;
    if (!*t || contains(t, "BLOB"))
        return Affinity::Blob;
    if (contains(t, "REAL") || contains(t, "FLOA") || contains(t, "DOUB"))
        return Affinity::Real;
    return Affinity::Numeric;
}

}  // namespace recio::sqlite

/*
 * row_key.cpp: naming a row of a SQLite result (row_key.h).
 */
#include "sqlite/row_key.h"

#include "sqlite/value_convert.h"

namespace recio::sqlite {

RowKey row_key(sqlite3_stmt* stmt, int key_col, KeyKind kind, int64 row_number)
{
    if (key_col >= 0 && kind != KeyKind::None && sqlite3_column_type(stmt, key_col) != SQLITE_NULL) {
        if (kind == KeyKind::Rowid)
            return RowKey{KeyKind::Rowid, sqlite3_column_int64(stmt, key_col), {}};
        return RowKey{KeyKind::PrimaryKey, 0, shown(reinterpret_cast<const char*>(sqlite3_column_text(stmt, key_col)))};
    }
    return RowKey{KeyKind::None, row_number, {}};
}

std::string row_key_text(const RowKey& key)
{
    switch (key.kind) {
    case KeyKind::Rowid:
        return format("SQLite rowid %lld", static_cast<long long>(key.number));
    case KeyKind::PrimaryKey:
        return format("SQLite primary key (%s)", key.key.c_str());
    default:
        return format("row %lld of the SQLite result", static_cast<long long>(key.number));
    }
}

}  // namespace recio::sqlite

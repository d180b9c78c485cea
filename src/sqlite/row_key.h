/*
 * row_key.h: how a row of a SQLite result is named in messages and in the
 * rejects ledger: by its rowid, by its primary key (WITHOUT ROWID tables),
 * or, for a view, by its position in the result.
 */
#pragma once

#include <sqlite3.h>

#include <string>

#include "common/error_boundary.h"

namespace recio {

enum class KeyKind : int {
    None = 0, /* views: rows are named by their position in the scan */
    Rowid = 1,
    PrimaryKey = 2, /* WITHOUT ROWID tables */
};

namespace sqlite {

struct RowKey {
    KeyKind kind;    /* None also when the row's key is NULL */
    int64 number;    /* the rowid (Rowid) or the row's position, from 1 (None) */
    std::string key; /* the primary key's text, shown safely (PrimaryKey) */
};

/* The key of the current row of stmt: key_col is its result column, or -1 when there is none. */
RowKey row_key(sqlite3_stmt* stmt, int key_col, KeyKind kind, int64 row_number);

/* "SQLite rowid 17", "SQLite primary key (TICKET-9)", "row 5 of the SQLite result" */
std::string row_key_text(const RowKey& key);

}  // namespace sqlite
}  // namespace recio

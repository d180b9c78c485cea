/*
 * deparse.h: what is pushed down to SQLite, and the SQL text sent there.
 *
 * Everything here is plain C-style code over PostgreSQL nodes (StringInfo,
 * List); callers run it under one pg::call so a PostgreSQL error inside is
 * turned into a C++ exception at a single point.  No C++ object with a
 * destructor lives in this code.
 *
 * The shipping rules, and why each exists, are in the README ("Pushdown").
 */
#pragma once

#include "common/error_boundary.h"
#include "sqlite/row_key.h"

extern "C" {
#include "nodes/pathnodes.h"
#include "nodes/primnodes.h"
}

namespace recio {

/* How comparisons on a column may be evaluated by SQLite. */
enum class PushClass : int {
    None = 0,   /* only IS [NOT] NULL */
    Number = 1, /* integer/float8 column over a numeric-affinity SQLite column */
    Text = 2,   /* text column over a TEXT-affinity, BINARY-collation column */
    Never = 3,  /* on_error 'null': NULLs are made locally, nothing is pushed */
};

struct ColumnInfo {
    const char* sqlite_name;
    PushClass push;
    bool indexed; /* leading column of a SQLite index (or the rowid alias) */
};

/* Planner-time facts about one foreign table (RelOptInfo->fdw_private). */
struct RelInfo {
    Oid serverid;
    Oid relid;
    const char* table; /* SQLite table name */
    KeyKind key_kind;
    const char* key_expr; /* SQLite expression naming a row, or NULL */
    int natts;
    ColumnInfo* cols;   /* by attnum - 1 */
    List* remote_conds; /* RestrictInfos SQLite evaluates */
    List* local_conds;  /* RestrictInfos PostgreSQL evaluates */
    double sqlite_rows; /* rows in the SQLite table */
    bool all_conds_remote;
};

/* Can SQLite evaluate expr with PostgreSQL's semantics? */
bool is_shippable(PlannerInfo* root, RelOptInfo* rel, RelInfo* info, Expr* expr);

/* Is this pathkey's expression a column SQLite can order with PostgreSQL's semantics? */
Expr* shippable_sort_expr(PlannerInfo* root, RelOptInfo* rel, RelInfo* info, PathKey* key);

/*
 * Build the SELECT for a scan.  attrs: attnums to fetch (offset by
 * FirstLowInvalidHeapAttributeNumber).  remote_exprs: conditions for SQLite;
 * one that does not deparse is left out of the SQL and returned in *refused,
 * for the caller to evaluate locally (its columns are fetched).  *retrieved:
 * attnums of the result columns in order (0 for the row key).  *params:
 * expressions whose values are bound to ?1..?n at execution.
 */
char* build_select(PlannerInfo* root, RelOptInfo* rel, RelInfo* info, Bitmapset* attrs, List* remote_exprs,
                   List* pathkeys, int64 limit, int64 offset, List** retrieved, List** params, List** refused);

}  // namespace recio

/*
 * sql_ddl.h: the pieces of SQLite's CREATE TABLE, CREATE INDEX and CREATE
 * VIEW text that its PRAGMAs do not give: CHECK constraints (column and
 * table level, named or not), each column's COLLATE and AUTOINCREMENT,
 * named FOREIGN KEY constraints, an index's terms and partial WHERE, and a
 * view's SELECT (the subset schema_plan can translate).  Pure C++ over the
 * tokenizer of sql_expr.h; a construct it does not know is a ParseError the
 * caller reports as a skipped object, never a crash.
 */
#pragma once

#include "sqlite/sql_expr.h"

namespace recio::sqlite {

struct CheckConstraint {
    std::string name;   /* CONSTRAINT name, "" when unnamed */
    std::string column; /* the column of a column constraint, "" for a table constraint */
    std::string sql;    /* the expression's text as written */
    ExprPtr expr;       /* NULL when it did not parse */
    std::string error;  /* why, then */
};

struct ColumnDecl {
    std::string name;
    std::string collation; /* COLLATE name, "" when none */
    bool autoincrement = false;
    bool primary_key_desc = false; /* INTEGER PRIMARY KEY DESC is no rowid alias */
};

struct ForeignKeyDecl {
    std::string name;           /* CONSTRAINT name, "" when unnamed */
    bool deferred = false;      /* DEFERRABLE INITIALLY DEFERRED (checked at COMMIT) */
};

struct TableDecl {
    std::vector<ColumnDecl> columns;
    std::vector<CheckConstraint> checks;
    std::vector<ForeignKeyDecl> foreign_keys; /* in declaration order (PRAGMA foreign_key_list numbers them from the last) */
    bool without_rowid = false;
};

/* CREATE TABLE text.  Throws ParseError. */
TableDecl parse_create_table(const std::string& sql);

struct IndexTerm {
    ExprPtr expr; /* a Column for a plain column (its COLLATE unwrapped into collation) */
    std::string collation;
    bool desc = false;
    std::string sql; /* as written */
};

struct IndexDecl {
    bool unique = false;
    std::vector<IndexTerm> terms;
    ExprPtr where; /* NULL when not partial */
    std::string where_sql;
};

/* CREATE INDEX text.  Throws ParseError. */
IndexDecl parse_create_index(const std::string& sql);

struct SelectItem {
    ExprPtr expr; /* a Star for * or t.* */
    std::string alias;
};

struct FromItem {
    std::string table; /* SQLite table or view */
    std::string alias; /* "" when none */
    std::string join;  /* "" for the first; "JOIN", "LEFT JOIN" or "CROSS JOIN" */
    ExprPtr on;        /* NULL when none */
};

struct OrderItem {
    ExprPtr expr;
    bool desc = false;
    std::string nulls; /* "", "FIRST" or "LAST" */
};

struct SelectDecl {
    bool distinct = false;
    std::vector<SelectItem> items;
    std::vector<FromItem> from;
    ExprPtr where;
    std::vector<ExprPtr> group_by;
    ExprPtr having;
    std::vector<OrderItem> order_by;
    ExprPtr limit;
    ExprPtr offset;
};

struct ViewDecl {
    std::vector<std::string> column_names; /* CREATE VIEW v(a, b): "" list when none */
    SelectDecl select;
};

/* CREATE VIEW text (the SELECT subset: one SELECT, no compound, no WITH, no subquery).  Throws ParseError. */
ViewDecl parse_create_view(const std::string& sql);

}  // namespace recio::sqlite

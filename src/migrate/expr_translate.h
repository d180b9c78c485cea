/*
 * expr_translate.h: SQLite expressions (sqlite/sql_expr.h trees) rewritten
 * as PostgreSQL expressions with the same meaning over the migrated tables,
 * whose column types decide the rules (a CURRENT_TIMESTAMP default on a text
 * column writes SQLite's UTC text; a text comparison is made in COLLATE "C",
 * SQLite's BINARY; LIKE becomes ILIKE over COLLATE "C", which folds ASCII
 * case only, as SQLite's LIKE does).  Whatever cannot be shown to mean the
 * same is refused with a reason (a thrown Untranslatable), never rewritten
 * to something close.  Identifiers and literals are quoted by PostgreSQL's
 * quote_identifier / quote_literal_cstr.
 */
#pragma once

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/error_boundary.h"
#include "sqlite/sql_expr.h"

namespace recio {

/* What a value is in PostgreSQL, for the rules that depend on it. */
enum class PgClass { Int, Float, Numeric, Text, Bool, Bytea, Timestamp, TimestampTz, Date, Time, Other, Null };

struct TargetColumn {
    std::string sqlite_name; /* the column in the file, "" when the target column has none */
    std::string pg_name;
    Oid typid;
    int32 typmod;
    std::string type_sql; /* format_type_with_typemod */
    PgClass cls;
    std::string collation; /* the SQLite column's declared COLLATE, upper case, "" for BINARY */
    char identity = '\0';  /* pg_attribute.attidentity */
};

struct ScopeTable {
    std::string sqlite_name;
    std::string alias;  /* "" when none */
    std::string pg_ref; /* prefix for its columns in the output ("t." or ""), already quoted */
    std::vector<TargetColumn> columns;
    std::string pg_from; /* a view's FROM item: schema.table [AS alias] */
};

class Untranslatable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Translation {
    std::string sql;
    PgClass cls;
    std::set<std::string> notes; /* why the text differs from SQLite's (the 'translated' reason) */
};

PgClass class_of_type(Oid typid);
const char* class_name(PgClass cls);
std::string a_class(PgClass cls);

/* PostgreSQL quoting, under pg::call. */
std::string quote_ident(const std::string& name);
std::string quote_literal(const std::string& text);

/* A value (an index term, a select item); throws Untranslatable. */
Translation translate_value(const sqlite::Expr& e, const std::vector<ScopeTable>& scope);

/* A condition (CHECK, partial index WHERE, view WHERE/ON/HAVING): boolean in PostgreSQL. */
Translation translate_condition(const sqlite::Expr& e, const std::vector<ScopeTable>& scope);

/* An ORDER BY term of a view: SQLite's order (BINARY or NOCASE text, NULLs first ascending). */
Translation translate_order_term(const sqlite::Expr& e, bool desc, const std::string& nulls,
                                 const std::vector<ScopeTable>& scope);

/* A column DEFAULT (dflt_value text) for the target column; throws Untranslatable. */
Translation translate_default(const std::string& sqlite_default, const TargetColumn& column);

/* The target column an index term or constraint names, or NULL. */
const TargetColumn* find_column(const std::vector<TargetColumn>& columns, const std::string& sqlite_name);

}  // namespace recio

/*
 * schema_plan.cpp: recio_migrate.schema_plan(source, target), what of a
 * SQLite table's schema its migrated target should carry, as statements to
 * run: identity, DEFAULTs and NOCASE collations (phase 'create'), PRIMARY
 * KEY, UNIQUE, indexes and CHECKs (phase 'load', after the bulk load),
 * FOREIGN KEYs (phase 'file', NOT VALID, after every table of the file);
 * triggers are listed as skipped.  And translate_sqlite_expression(), the
 * translator for one expression, for tests and for the DBA.  The
 * translation rules are in expr_translate.cpp; names follow PostgreSQL's
 * conventions and are made unique in the target schema.
 */
#include "migrate/expr_translate.h"
#include "migrate/source.h"

extern "C" {
#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_constraint.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "foreign/foreign.h"
#include "catalog/pg_collation.h"
}

#include <cstring>
#include <algorithm>
#include <memory>
#include <set>

#include "fdw/connection.h"
#include "fdw/import_schema.h"
#include "sqlite/schema.h"
#include "sqlite/sql_ddl.h"

namespace recio {
namespace {

struct PlanRow {
    const char* phase;
    const char* kind;
    std::string name;
    std::string sqlite_sql;
    std::string postgres_sql; /* "" when skipped */
    std::string action;
    std::string reason;
    std::string properties; /* JSON object text */
};

std::string json_string(const std::string& s)
{
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            char buf[8];
            snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else
            out += static_cast<char>(c);
    }
    return out + "\"";
}

std::string json_array(const std::vector<std::string>& items)
{
    std::string out = "[";
    for (size_t i = 0; i < items.size(); i++)
        out += (i ? ", " : "") + json_string(items[i]);
    return out + "]";
}

std::string join_notes(const std::set<std::string>& notes)
{
    std::string out;
    for (const std::string& n : notes)
        out += (out.empty() ? "" : "; ") + n;
    return out;
}

bool valid_utf8(const std::string& s)
{
    return pg_verify_mbstr(PG_UTF8, s.c_str(), static_cast<int>(s.size()), true) &&
           memchr(s.data(), 0, s.size()) == nullptr;
}

struct Target {
    Oid relid;
    Oid nsp;
    std::string schema, table, qualified;
    std::vector<TargetColumn> columns;
};

/* SQLite's name of a collation as compared here: upper case, "" for BINARY (the default). */
std::string collation_key(const std::string& name)
{
    std::string out;
    for (char ch : name)
        out += (ch >= 'a' && ch <= 'z') ? static_cast<char>(ch - 32) : ch;
    return out == "BINARY" ? "" : out;
}

/* A table's columns from the catalog; the caller matches them to SQLite columns. */
std::vector<TargetColumn> catalog_columns(Oid relid)
{
    std::vector<TargetColumn> columns;
    Relation rel = pg::call([&] { return relation_open(relid, AccessShareLock); });
    TupleDesc desc = RelationGetDescr(rel);
    for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute a = TupleDescAttr(desc, i);
        if (a->attisdropped)
            continue;
        TargetColumn c;
        c.pg_name = NameStr(a->attname);
        c.typid = a->atttypid;
        c.typmod = a->atttypmod;
        c.type_sql = pg::call([&] { return std::string(format_type_with_typemod(a->atttypid, a->atttypmod)); });
        c.cls = class_of_type(a->atttypid);
        c.identity = a->attidentity;
        columns.push_back(std::move(c));
    }
    pg::call([&] { relation_close(rel, NoLock); });
    return columns;
}

/* Each matched column's declared COLLATE, from the CREATE TABLE. */
void add_collations(std::vector<TargetColumn>& columns, const sqlite::TableDecl& decl)
{
    for (TargetColumn& c : columns)
        for (const sqlite::ColumnDecl& d : decl.columns)
            if (!c.sqlite_name.empty() && sqlite::same_name(d.name, c.sqlite_name))
                c.collation = collation_key(d.collation);
}

/* The target's columns from the catalog, each matched to its SQLite column through the source's column options. */
Target read_target(Oid relid, const SourceTable& src, const sqlite::TableDecl* decl)
{
    Target t;
    t.relid = relid;
    if (pg::call([&] { return get_rel_relkind(relid); }) == '\0')
        throw Error(ERRCODE_UNDEFINED_TABLE, format("relation with OID %u does not exist", relid));
    if (pg::call([&] { return pg_class_aclcheck(relid, GetUserId(), ACL_SELECT); }) != ACLCHECK_OK)
        throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied for the target table");
    t.nsp = pg::call([&] { return get_rel_namespace(relid); });
    t.schema = pg::call([&] { return std::string(get_namespace_name(t.nsp)); });
    t.table = pg::call([&] { return std::string(get_rel_name(relid)); });
    t.qualified = quote_ident(t.schema) + "." + quote_ident(t.table);
    t.columns = catalog_columns(relid);
    for (TargetColumn& c : t.columns)
        for (const SourceColumn& s : src.columns)
            if (c.pg_name == s.pg_name)
                c.sqlite_name = s.sqlite_name;
    if (decl)
        add_collations(t.columns, *decl);
    return t;
}

/* Unique object names in the target schema, PostgreSQL's style (makeObjectName + ChooseRelationName). */
class Names {
public:
    explicit Names(Oid nsp) : nsp_(nsp) {}

    std::string choose(const std::string& base)
    {
        std::string name = clip(base, NAMEDATALEN - 1);
        for (int pass = 1; taken(name); pass++) {
            std::string suffix = std::to_string(pass);
            name = clip(base, NAMEDATALEN - 1 - static_cast<int>(suffix.size())) + suffix;
        }
        used_.insert(name);
        return name;
    }

    /* table_cols_label within 63 bytes, the longer of table and cols shortened first */
    std::string generated(std::string table, std::string cols, const std::string& label)
    {
        auto total = [&] { return table.size() + (cols.empty() ? 0 : cols.size() + 1) + label.size() + 1; };
        while (total() > static_cast<size_t>(NAMEDATALEN - 1)) {
            std::string& longer = table.size() >= cols.size() ? table : cols;
            longer = clip(longer, static_cast<int>(longer.size()) - 1);
        }
        return choose(table + (cols.empty() ? "" : "_" + cols) + "_" + label);
    }

private:
    static std::string clip(const std::string& s, int max)
    {
        if (static_cast<int>(s.size()) <= max)
            return s;
        const char* p = s.c_str();
        int len = static_cast<int>(s.size());
        int cut = pg::call([&] { return pg_mbcliplen(p, len, max); });
        return s.substr(0, static_cast<size_t>(cut));
    }

    bool taken(const std::string& name)
    {
        if (used_.count(name))
            return true;
        const char* n = name.c_str();
        Oid nsp = nsp_;
        return pg::call([&] { return OidIsValid(get_relname_relid(n, nsp)) || ConstraintNameExists(n, nsp); });
    }

    Oid nsp_;
    std::set<std::string> used_;
};

std::string pg_name_for(const std::string& sqlite_name)
{
    std::string out;
    return import_name(sqlite_name, &out) ? out : "";
}

std::string column_list(const std::vector<const TargetColumn*>& cols, bool quoted)
{
    std::string out;
    for (const TargetColumn* c : cols)
        out += (out.empty() ? "" : quoted ? ", " : "_") + (quoted ? quote_ident(c->pg_name) : c->pg_name);
    return out;
}

class Planner {
public:
    Planner(const SourceTable& src, sqlite::Connection& conn, Oid target_relid) : src_(src), conn_(conn)
    {
        const char* table = src.table;
        facts_ = sqlite::column_facts(conn, table);
        for (const sqlite::SchemaEntry& e : sqlite::schema_entries(conn))
            if (e.type == "table" && sqlite::same_name(e.name, table))
                table_sql_ = e.sql;
            else if (e.type == "trigger" && sqlite::same_name(e.table, table))
                triggers_.push_back(e);
        try {
            decl_ = sqlite::parse_create_table(table_sql_);
            decl_ok_ = true;
        } catch (const sqlite::ParseError& e) {
            decl_error_ = e.what();
        }
        target_ = read_target(target_relid, src, decl_ok_ ? &decl_ : nullptr);
        names_ = std::make_unique<Names>(target_.nsp);
        scope_.push_back({table, "", "", target_.columns});
    }

    std::vector<PlanRow> rows;

    void plan()
    {
        identity();
        defaults();
        collations();
        primary_key();
        indexes();
        checks();
        triggers();
        foreign_keys();
    }

private:
    void add(const char* phase, const char* kind, std::string name, std::string sqlite_sql, std::string pg_sql,
             std::string action, std::string reason, std::string props = "{}")
    {
        rows.push_back({phase, kind, std::move(name), std::move(sqlite_sql), std::move(pg_sql), std::move(action),
                        std::move(reason), std::move(props)});
    }

    void skip(const char* phase, const char* kind, std::string name, std::string sqlite_sql, std::string reason,
              std::string props = "{}")
    {
        add(phase, kind, std::move(name), std::move(sqlite_sql), "", "skipped", std::move(reason), std::move(props));
    }

    const TargetColumn* target_column(const std::string& sqlite_name) const
    {
        return find_column(target_.columns, sqlite_name);
    }

    std::string alter() const { return "ALTER TABLE " + target_.qualified; }

    const sqlite::ColumnDecl* decl_column(const std::string& name) const
    {
        if (!decl_ok_)
            return nullptr;
        for (const sqlite::ColumnDecl& d : decl_.columns)
            if (sqlite::same_name(d.name, name))
                return &d;
        return nullptr;
    }

    void identity()
    {
        std::vector<const sqlite::ColumnFacts*> pk;
        for (const sqlite::ColumnFacts& f : facts_)
            if (f.pk > 0)
                pk.push_back(&f);
        if (pk.size() != 1)
            return;
        const sqlite::ColumnFacts& f = *pk[0];
        const sqlite::ColumnDecl* d = decl_column(f.name);
        std::string upper_type;
        for (char c : f.declared)
            upper_type += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
        if (upper_type == "INTEGER" && !decl_ok_) {
            skip("create", "identity", f.name, "", "the CREATE TABLE does not parse (" + decl_error_ +
                 "): whether the key is a rowid alias is not known");
            return;
        }
        if (upper_type != "INTEGER" || decl_.without_rowid || !d || d->primary_key_desc)
            return; /* not a rowid alias: its key is the PRIMARY KEY row's */
        int64 seq = 0;
        bool has_seq = d->autoincrement && sqlite::sqlite_sequence(conn_, src_.table, &seq);
        std::string props = std::string("{\"rowid_alias\": true, \"autoincrement\": ") +
                            (d->autoincrement ? "true" : "false") +
                            ", \"sqlite_sequence\": " + (has_seq ? std::to_string(seq) : "null") + "}";
        std::string sqlite_sql = f.name + " INTEGER PRIMARY KEY" + (d->autoincrement ? " AUTOINCREMENT" : "");
        const TargetColumn* c = target_column(f.name);
        if (!c) {
            skip("create", "identity", f.name, sqlite_sql, "the column has no column in the target", props);
            return;
        }
        if (c->cls != PgClass::Int) {
            skip("create", "identity", f.name, sqlite_sql, "the target column is " + c->type_sql + ", not an integer",
                 props);
            return;
        }
        char identity = c->identity;
        if (identity != '\0') {
            skip("create", "identity", f.name, sqlite_sql, "the target column is an identity already", props);
            return;
        }
        std::string col = quote_ident(c->pg_name);
        add("create", "identity", f.name, sqlite_sql,
            alter() + " ALTER COLUMN " + col + " SET NOT NULL, ALTER COLUMN " + col +
                " ADD GENERATED BY DEFAULT AS IDENTITY",
            "translated",
            d->autoincrement ? "the rowid alias becomes an identity; AUTOINCREMENT never reuses an id: the next value "
                               "must be set past greatest(max(id), sqlite_sequence)"
                             : "the rowid alias becomes an identity; its next value must be set past max(id)",
            props);
        identity_column_ = f.name;
    }

    void defaults()
    {
        for (const sqlite::ColumnFacts& f : facts_) {
            if (!f.has_default || f.hidden != 0)
                continue;
            std::string sqlite_sql = f.default_sql;
            if (!valid_utf8(sqlite_sql)) {
                skip("create", "default", f.name, "", "the DEFAULT text is not valid UTF-8");
                continue;
            }
            const TargetColumn* c = target_column(f.name);
            if (!c) {
                skip("create", "default", f.name, sqlite_sql, "the column has no column in the target");
                continue;
            }
            try {
                Translation t = translate_default(f.default_sql, *c);
                add("create", "default", f.name, sqlite_sql,
                    alter() + " ALTER COLUMN " + quote_ident(c->pg_name) + " SET DEFAULT " + t.sql,
                    t.notes.empty() ? "created" : "translated", join_notes(t.notes));
            } catch (const Untranslatable& e) {
                skip("create", "default", f.name, sqlite_sql, e.what());
            }
        }
    }

    void collations()
    {
        for (const TargetColumn& c : target_.columns) {
            if (c.collation.empty())
                continue;
            std::string sqlite_sql = c.sqlite_name + " COLLATE " + c.collation;
            std::string props = "{\"collation\": " + json_string(c.collation) + "}";
            if (c.collation != "NOCASE") {
                skip("create", "collation", c.sqlite_name, sqlite_sql,
                     "collation " + c.collation + " has no PostgreSQL equivalent", props);
                continue;
            }
            if (c.cls != PgClass::Text) {
                skip("create", "collation", c.sqlite_name, sqlite_sql,
                     "the target column is " + c.type_sql + ", not text", props);
                continue;
            }
            bool have = pg::call([&] {
                Oid nsp = get_namespace_oid("recio_migrate", true);
                return OidIsValid(nsp) &&
                       OidIsValid(GetSysCacheOid3(COLLNAMEENCNSP, Anum_pg_collation_oid, CStringGetDatum("nocase"),
                                                  Int32GetDatum(-1), ObjectIdGetDatum(nsp)));
            });
            if (!have) {
                skip("create", "collation", c.sqlite_name, sqlite_sql,
                     "collation recio_migrate.nocase does not exist (PostgreSQL built without ICU)", props);
                continue;
            }
            add("create", "collation", c.sqlite_name, sqlite_sql,
                alter() + " ALTER COLUMN " + quote_ident(c.pg_name) + " TYPE " + c.type_sql +
                    " COLLATE recio_migrate.nocase",
                "translated",
                "NOCASE as the nondeterministic ICU collation recio_migrate.nocase (und-u-ks-level2): it also folds "
                "non-ASCII case and accents stay distinct, where SQLite's NOCASE folds ASCII only; LIKE on this "
                "column is an error in PostgreSQL 15 (use ILIKE over COLLATE \"C\")",
                props);
        }
    }

    void primary_key()
    {
        std::vector<std::pair<int, const sqlite::ColumnFacts*>> pk;
        for (const sqlite::ColumnFacts& f : facts_)
            if (f.pk > 0)
                pk.push_back({f.pk, &f});
        if (pk.empty())
            return;
        std::sort(pk.begin(), pk.end());
        std::vector<const TargetColumn*> cols;
        std::vector<std::string> names;
        for (auto& p : pk) {
            names.push_back(p.second->name);
            cols.push_back(target_column(p.second->name));
        }
        std::string sqlite_sql = "PRIMARY KEY (" + [&] {
            std::string s;
            for (const std::string& n : names)
                s += (s.empty() ? "" : ", ") + n;
            return s;
        }() + ")";
        std::string props = "{\"columns\": " + json_array(names) + "}";
        for (size_t i = 0; i < cols.size(); i++)
            if (!cols[i]) {
                skip("load", "primary key", target_.table + "_pkey", sqlite_sql,
                     "column \"" + names[i] + "\" has no column in the target", props);
                return;
            }
        Oid relid = target_.relid;
        std::string existing = pg::call([&] {
            Relation rel = relation_open(relid, AccessShareLock);
            Oid pk_index = RelationGetPrimaryKeyIndex(rel);
            std::string n = OidIsValid(pk_index) ? get_rel_name(pk_index) : "";
            relation_close(rel, NoLock);
            return n;
        });
        if (!existing.empty()) {
            skip("load", "primary key", existing, sqlite_sql,
                 "the target already has a primary key (" + existing + ")", props);
            return;
        }
        std::string name = names_->generated(target_.table, "", "pkey");
        /* SQLite lets a PRIMARY KEY column of a rowid table hold NULL unless it is declared NOT NULL */
        bool nullable = false;
        for (auto& p : pk)
            nullable |= !p.second->not_null && !(decl_ok_ && decl_.without_rowid) && identity_column_.empty();
        add("load", "primary key", name, sqlite_sql,
            alter() + " ADD CONSTRAINT " + quote_ident(name) + " PRIMARY KEY (" + column_list(cols, true) + ")",
            "created",
            nullable ? "SQLite lets this key hold NULL (not declared NOT NULL): ADD PRIMARY KEY fails on such rows" : "",
            props);
    }

    /* An index term as PostgreSQL text, with its SQLite collation; throws Untranslatable. */
    std::string index_term(const sqlite::IndexTerm& term, std::set<std::string>& notes, std::string* colname)
    {
        std::string coll = collation_key(term.collation);
        if (coll.empty() && !term.collation.empty())
            coll = "BINARY"; /* given, not defaulted: it overrides the column's */
        std::string sql;
        if (term.expr->kind == sqlite::Expr::Kind::Column) {
            const TargetColumn* c = target_column(term.expr->text);
            if (!c)
                throw Untranslatable("column \"" + term.expr->text + "\" has no column in the target");
            *colname = c->pg_name;
            sql = quote_ident(c->pg_name);
            std::string effective = coll.empty() ? c->collation : coll;
            if (effective == "NOCASE" && c->collation != "NOCASE") {
                if (c->cls != PgClass::Text)
                    throw Untranslatable("NOCASE on a " + c->type_sql + " column");
                sql = "lower(" + sql + " COLLATE \"C\")";
                notes.insert("the NOCASE term as lower(... COLLATE \"C\") (ASCII case folded, as SQLite's NOCASE)");
            } else if (effective == "BINARY" && c->collation == "NOCASE") {
                sql += " COLLATE \"C\"";
            } else if (!effective.empty() && effective != "NOCASE" && effective != "BINARY") {
                throw Untranslatable("collation " + effective + " is not translated");
            } else if (effective == "NOCASE") {
                notes.insert("the NOCASE term uses the column's collation recio_migrate.nocase");
            }
        } else {
            Translation t = translate_value(*term.expr, scope_);
            notes.insert(t.notes.begin(), t.notes.end());
            *colname = "expr";
            if (!coll.empty() && coll != "BINARY")
                throw Untranslatable("collation " + coll + " on an expression term");
            sql = "(" + t.sql + ")";
        }
        if (term.desc)
            sql += " DESC";
        return sql;
    }

    void indexes()
    {
        for (const sqlite::IndexFacts& ix : sqlite::index_facts(conn_, src_.table)) {
            pg::check_for_interrupts();
            if (ix.origin == "pk")
                continue; /* the PRIMARY KEY row (WITHOUT ROWID and composite keys) */
            const char* kind = ix.origin == "u" ? "unique" : "index";
            std::string sqlite_sql = ix.sql;
            if (!valid_utf8(ix.name) || !valid_utf8(sqlite_sql)) {
                skip("load", kind, valid_utf8(ix.name) ? ix.name : "", "", "the index text is not valid UTF-8");
                continue;
            }
            std::vector<sqlite::IndexColumn> auto_columns;
            if (ix.sql.empty()) { /* an automatic index of a UNIQUE constraint: its text from index_xinfo */
                auto_columns = sqlite::index_columns(conn_, ix.name.c_str());
                sqlite_sql = "UNIQUE (";
                for (size_t i = 0; i < auto_columns.size(); i++) {
                    const sqlite::IndexColumn& ic = auto_columns[i];
                    sqlite_sql += (i ? ", " : "") + ic.name +
                                  (collation_key(ic.collation).empty() ? "" : " COLLATE " + ic.collation) +
                                  (ic.desc ? " DESC" : "");
                }
                sqlite_sql += ")";
            }
            try {
                std::set<std::string> notes;
                std::vector<std::string> terms, colnames;
                std::string where;
                bool unique = ix.unique;
                bool plain = true;
                if (ix.sql.empty()) { /* an automatic index of a UNIQUE constraint */
                    for (const sqlite::IndexColumn& ic : auto_columns) {
                        sqlite::IndexTerm term;
                        term.expr = std::make_unique<sqlite::Expr>();
                        term.expr->kind = sqlite::Expr::Kind::Column;
                        term.expr->text = ic.name;
                        const TargetColumn* c = target_column(ic.name);
                        std::string coll = collation_key(ic.collation);
                        if (!c || coll != c->collation || ic.desc)
                            plain = false;
                        term.collation = ic.collation;
                        term.desc = ic.desc;
                        std::string cn;
                        terms.push_back(index_term(term, notes, &cn));
                        colnames.push_back(cn);
                    }

                } else {
                    sqlite::IndexDecl decl;
                    try {
                        decl = sqlite::parse_create_index(ix.sql);
                    } catch (const sqlite::ParseError& e) {
                        throw Untranslatable(std::string("the CREATE INDEX does not parse: ") + e.what());
                    }
                    plain = false;
                    for (const sqlite::IndexTerm& term : decl.terms) {
                        std::string cn;
                        terms.push_back(index_term(term, notes, &cn));
                        colnames.push_back(cn);
                    }
                    if (decl.where) {
                        Translation t = translate_condition(*decl.where, scope_);
                        notes.insert(t.notes.begin(), t.notes.end());
                        where = " WHERE " + t.sql;
                    }
                }
                std::string list;
                for (const std::string& t : terms)
                    list += (list.empty() ? "" : ", ") + t;
                std::string cols;
                for (const std::string& c : colnames)
                    cols += (cols.empty() ? "" : "_") + c;
                std::string props = "{\"sqlite_name\": " + json_string(ix.name) + "}";
                if (ix.origin == "u" && plain) {
                    std::string name = names_->generated(target_.table, cols, "key");
                    add("load", kind, name, sqlite_sql,
                        alter() + " ADD CONSTRAINT " + quote_ident(name) + " UNIQUE (" + list + ")",
                        notes.empty() ? "created" : "translated", join_notes(notes), props);
                    continue;
                }
                std::string name = ix.origin == "u" ? names_->generated(target_.table, cols, "key")
                                                    : names_->choose(pg_name_for(ix.name));
                std::string stmt = std::string(unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ") + quote_ident(name) +
                                   " ON " + target_.qualified + " (" + list + ")" + where;
                if (ix.origin == "u")
                    notes.insert("a UNIQUE constraint whose terms a constraint cannot carry, as a unique index");
                if (name != pg_name_for(ix.name) && ix.origin == "c")
                    notes.insert("renamed: " + pg_name_for(ix.name) + " is taken in schema " + target_.schema);
                add("load", kind, name, sqlite_sql, stmt, notes.empty() ? "created" : "translated", join_notes(notes),
                    props);
            } catch (const Untranslatable& e) {
                skip("load", kind, ix.name, sqlite_sql, e.what(),
                     "{\"sqlite_name\": " + json_string(ix.name) + "}");
            }
        }
    }

    static void referenced_columns(const sqlite::Expr& e, std::set<std::string>& out)
    {
        if (e.kind == sqlite::Expr::Kind::Column)
            out.insert(e.text);
        for (const sqlite::ExprPtr& a : e.args)
            referenced_columns(*a, out);
    }

    void checks()
    {
        if (!decl_ok_) {
            if (table_sql_.find("CHECK") != std::string::npos || table_sql_.find("check") != std::string::npos)
                skip("load", "check", "", "", "the CREATE TABLE does not parse: " + decl_error_);
            return;
        }
        for (const sqlite::CheckConstraint& ck : decl_.checks) {
            pg::check_for_interrupts();
            std::string sqlite_sql = "CHECK (" + ck.sql + ")";
            std::string label = ck.name.empty() ? "" : pg_name_for(ck.name);
            if (!valid_utf8(ck.sql)) {
                skip("load", "check", ck.name, "", "the CHECK text is not valid UTF-8");
                continue;
            }
            if (!ck.expr) {
                skip("load", "check", ck.name, sqlite_sql, "the CHECK does not parse: " + ck.error);
                continue;
            }
            try {
                Translation t = translate_condition(*ck.expr, scope_);
                std::string name;
                if (!label.empty())
                    name = names_->choose(label);
                else {
                    std::set<std::string> cols;
                    referenced_columns(*ck.expr, cols);
                    const TargetColumn* only = cols.size() == 1 ? target_column(*cols.begin()) : nullptr;
                    name = names_->generated(target_.table, only ? only->pg_name : "", "check");
                }
                add("load", "check", name, sqlite_sql,
                    alter() + " ADD CONSTRAINT " + quote_ident(name) + " CHECK " +
                        (t.sql.front() == '(' ? t.sql : "(" + t.sql + ")"),
                    t.notes.empty() ? "created" : "translated", join_notes(t.notes));
            } catch (const Untranslatable& e) {
                skip("load", "check", ck.name, sqlite_sql, e.what());
            }
        }
    }

    void triggers()
    {
        for (const sqlite::SchemaEntry& t : triggers_)
            skip("load", "trigger", t.name, valid_utf8(t.sql) ? t.sql : "",
                 "triggers are not translated (a SQLite trigger body is SQLite statements): rewrite it as a "
                 "PostgreSQL trigger");
    }

    void foreign_keys()
    {
        std::vector<sqlite::ForeignKeyFacts> fks = sqlite::foreign_keys(conn_, src_.table);
        size_t n = fks.size();
        for (const sqlite::ForeignKeyFacts& fk : fks) {
            pg::check_for_interrupts();
            /* PRAGMA foreign_key_list numbers the constraints from the last declared */
            std::string sqlite_name;
            bool deferred = false;
            if (decl_ok_ && decl_.foreign_keys.size() == n && fk.id >= 0 && static_cast<size_t>(fk.id) < n) {
                const sqlite::ForeignKeyDecl& d = decl_.foreign_keys[n - 1 - static_cast<size_t>(fk.id)];
                sqlite_name = d.name;
                deferred = d.deferred;
            }
            std::vector<std::string> to = fk.to;
            if (std::any_of(to.begin(), to.end(), [](const std::string& s) { return s.empty(); })) {
                to.clear();
                std::vector<std::pair<int, std::string>> pk;
                for (const sqlite::ColumnFacts& f : sqlite::column_facts(conn_, fk.parent.c_str()))
                    if (f.pk > 0)
                        pk.push_back({f.pk, f.name});
                std::sort(pk.begin(), pk.end());
                for (auto& p : pk)
                    to.push_back(p.second);
            }
            std::string sqlite_sql = "FOREIGN KEY (";
            for (size_t i = 0; i < fk.from.size(); i++)
                sqlite_sql += (i ? ", " : "") + fk.from[i];
            sqlite_sql += ") REFERENCES " + fk.parent + " (";
            for (size_t i = 0; i < to.size(); i++)
                sqlite_sql += (i ? ", " : "") + to[i];
            sqlite_sql += ")";
            if (fk.on_delete != "NO ACTION")
                sqlite_sql += " ON DELETE " + fk.on_delete;
            if (fk.on_update != "NO ACTION")
                sqlite_sql += " ON UPDATE " + fk.on_update;
            std::string parent = pg_name_for(fk.parent);
            std::vector<std::string> parent_cols;
            for (const std::string& c : to)
                parent_cols.push_back(pg_name_for(c));
            std::vector<const TargetColumn*> cols;
            std::vector<std::string> child_cols;
            std::string missing;
            for (const std::string& f : fk.from) {
                const TargetColumn* c = target_column(f);
                if (!c)
                    missing = f;
                else {
                    cols.push_back(c);
                    child_cols.push_back(c->pg_name);
                }
            }
            std::string props = "{\"parent_table\": " + json_string(parent) +
                                ", \"parent_columns\": " + json_array(parent_cols) +
                                ", \"columns\": " + json_array(child_cols) +
                                ", \"sqlite_parent\": " + json_string(fk.parent) + "}";
            std::string label = sqlite_name.empty() ? "" : pg_name_for(sqlite_name);
            if (!missing.empty() || to.size() != fk.from.size() || parent.empty()) {
                skip("file", "foreign key", sqlite_name, sqlite_sql,
                     !missing.empty() ? "column \"" + missing + "\" has no column in the target"
                                      : "the parent key of " + fk.parent + " is not known",
                     props);
                continue;
            }
            std::string name = label.empty() ? names_->generated(target_.table, column_list(cols, false), "fkey")
                                             : names_->choose(label);
            std::string refs;
            for (const std::string& c : parent_cols)
                refs += (refs.empty() ? "" : ", ") + quote_ident(c);
            std::string stmt = alter() + " ADD CONSTRAINT " + quote_ident(name) + " FOREIGN KEY (" +
                               column_list(cols, true) + ") REFERENCES " + quote_ident(target_.schema) + "." +
                               quote_ident(parent) + " (" + refs + ")";
            for (const std::string* action : {&fk.on_delete, &fk.on_update}) {
                const std::string& a = *action;
                if (a == "CASCADE" || a == "SET NULL" || a == "SET DEFAULT" || a == "RESTRICT")
                    stmt += std::string(action == &fk.on_delete ? " ON DELETE " : " ON UPDATE ") + a;
            }
            if (deferred) {
                stmt += " DEFERRABLE INITIALLY DEFERRED";
                sqlite_sql += " DEFERRABLE INITIALLY DEFERRED";
            }
            stmt += " NOT VALID";
            add("file", "foreign key", name, sqlite_sql, stmt, "created",
                "NOT VALID: rows the legacy file holds are checked by VALIDATE CONSTRAINT (SQLite enforces foreign "
                "keys only under PRAGMA foreign_keys = ON)",
                props);
        }
    }

    const SourceTable& src_;
    sqlite::Connection& conn_;
    std::vector<sqlite::ColumnFacts> facts_;
    std::vector<sqlite::SchemaEntry> triggers_;
    std::string table_sql_;
    sqlite::TableDecl decl_;
    bool decl_ok_ = false;
    std::string decl_error_;
    Target target_;
    std::unique_ptr<Names> names_;
    std::vector<ScopeTable> scope_;
    std::string identity_column_;
};

/*
 * The views of a file as PostgreSQL views over the migrated tables of
 * target_schema (each SQLite table imported under import_name()), for the
 * SELECT subset sql_ddl.h reads; anything else is a skipped row.
 */
class ViewPlanner {
public:
    ViewPlanner(sqlite::Connection& conn, Oid nsp, std::string schema)
        : conn_(conn), nsp_(nsp), schema_(std::move(schema)), names_(nsp)
    {
    }

    std::vector<PlanRow> rows;

    void plan()
    {
        std::vector<sqlite::SchemaEntry> entries = sqlite::schema_entries(conn_);
        for (const sqlite::SchemaEntry& e : entries)
            if (e.type == "view")
                view_names_.insert(e.name);
        for (const sqlite::SchemaEntry& e : entries) {
            pg::check_for_interrupts();
            if (e.type != "view")
                continue;
            if (!valid_utf8(e.name) || !valid_utf8(e.sql)) {
                rows.push_back({"view", "view", valid_utf8(e.name) ? e.name : "", "", "", "skipped",
                                "the view's text is not valid UTF-8", "{}"});
                continue;
            }
            try {
                view(e);
            } catch (const Untranslatable& u) {
                rows.push_back({"view", "view", e.name, e.sql, "", "skipped", u.what(), "{}"});
            }
        }
    }

private:
    ScopeTable scope_table(const sqlite::FromItem& f)
    {
        for (const std::string& v : view_names_)
            if (sqlite::same_name(v, f.table))
                throw Untranslatable("reads view \"" + f.table + "\": views over views are not translated");
        std::string pg = pg_name_for(f.table);
        const char* n = pg.c_str();
        Oid nsp = nsp_;
        Oid relid = pg.empty() ? InvalidOid : pg::call([&] { return get_relname_relid(n, nsp); });
        if (!OidIsValid(relid))
            throw Untranslatable("table \"" + f.table + "\" has no migrated table in schema " + schema_);
        if (pg::call([&] { return pg_class_aclcheck(relid, GetUserId(), ACL_SELECT); }) != ACLCHECK_OK)
            throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, format("permission denied for table %s", n));
        ScopeTable t;
        t.sqlite_name = f.table;
        t.alias = f.alias;
        t.pg_ref = quote_ident(f.alias.empty() ? pg : f.alias) + ".";
        std::vector<sqlite::ColumnFacts> facts = sqlite::column_facts(conn_, f.table.c_str());
        sqlite::TableDecl decl;
        bool decl_ok = false;
        for (const sqlite::SchemaEntry& e : sqlite::schema_entries(conn_))
            if (e.type == "table" && sqlite::same_name(e.name, f.table))
                try {
                    decl = sqlite::parse_create_table(e.sql);
                    decl_ok = true;
                } catch (const sqlite::ParseError&) {
                }
        t.columns = catalog_columns(relid);
        for (TargetColumn& c : t.columns)
            for (const sqlite::ColumnFacts& cf : facts)
                if (pg_name_for(cf.name) == c.pg_name)
                    c.sqlite_name = cf.name;
        if (decl_ok)
            add_collations(t.columns, decl);
        t.pg_from = quote_ident(schema_) + "." + quote_ident(pg) + (f.alias.empty() ? "" : " AS " + quote_ident(f.alias));
        return t;
    }

    static std::string literal_count(const sqlite::Expr* e, const char* what)
    {
        if (!e)
            return "";
        if (e->kind != sqlite::Expr::Kind::Integer || e->text.find_first_not_of("0123456789") != std::string::npos)
            throw Untranslatable(std::string(what) + " other than a non-negative integer literal");
        return e->text;
    }

    void view(const sqlite::SchemaEntry& entry)
    {
        sqlite::ViewDecl v;
        try {
            v = sqlite::parse_create_view(entry.sql);
        } catch (const sqlite::ParseError& e) {
            throw Untranslatable(std::string("the view is outside the translated SELECT subset: ") + e.what());
        }
        const sqlite::SelectDecl& s = v.select;
        std::vector<ScopeTable> scope;
        std::vector<std::string> tables;
        for (const sqlite::FromItem& f : s.from) {
            scope.push_back(scope_table(f));
            tables.push_back(scope.back().pg_from);
        }
        std::set<std::string> notes;
        auto take = [&](Translation t) {
            notes.insert(t.notes.begin(), t.notes.end());
            return t.sql;
        };
        std::string sql = s.distinct ? "SELECT DISTINCT " : "SELECT ";
        for (size_t i = 0; i < s.items.size(); i++) {
            const sqlite::SelectItem& item = s.items[i];
            std::string text;
            if (item.expr->kind == sqlite::Expr::Kind::Star) {
                if (!item.expr->qualifier.empty()) {
                    const ScopeTable* found = nullptr;
                    for (const ScopeTable& t : scope)
                        if (sqlite::same_name(item.expr->qualifier, t.alias.empty() ? t.sqlite_name : t.alias))
                            found = &t;
                    if (!found)
                        throw Untranslatable("unknown table \"" + item.expr->qualifier + "\"");
                    text = found->pg_ref + "*";
                } else
                    text = "*";
            } else {
                text = take(translate_value(*item.expr, scope));
                std::string alias = item.alias;
                if (alias.empty() && item.expr->kind != sqlite::Expr::Kind::Column)
                    alias = entry.sql.substr(item.expr->begin, item.expr->end - item.expr->begin);
                if (!alias.empty())
                    text += " AS " + quote_ident(alias);
            }
            sql += (i ? ", " : "") + text;
        }
        for (size_t i = 0; i < s.from.size(); i++) {
            const sqlite::FromItem& f = s.from[i];
            sql += (i == 0 ? " FROM " : " " + f.join + " ") + scope[i].pg_from;
            if (f.on)
                sql += " ON " + take(translate_condition(*f.on, scope));
        }
        if (s.where)
            sql += " WHERE " + take(translate_condition(*s.where, scope));
        if (!s.group_by.empty()) {
            sql += " GROUP BY ";
            for (size_t i = 0; i < s.group_by.size(); i++) {
                Translation t = translate_value(*s.group_by[i], scope);
                if (t.cls == PgClass::Text && s.group_by[i]->kind == sqlite::Expr::Kind::Column)
                    for (const ScopeTable& st : scope)
                        if (const TargetColumn* c = find_column(st.columns, s.group_by[i]->text))
                            if (!c->collation.empty())
                                throw Untranslatable("GROUP BY a " + c->collation + " column");
                sql += (i ? ", " : "") + take(std::move(t));
            }
        }
        if (s.having)
            sql += " HAVING " + take(translate_condition(*s.having, scope));
        if (!s.order_by.empty()) {
            sql += " ORDER BY ";
            for (size_t i = 0; i < s.order_by.size(); i++)
                sql += (i ? ", " : "") +
                       take(translate_order_term(*s.order_by[i].expr, s.order_by[i].desc, s.order_by[i].nulls, scope));
        }
        std::string limit = literal_count(s.limit.get(), "LIMIT");
        std::string offset = literal_count(s.offset.get(), "OFFSET");
        if (!limit.empty())
            sql += " LIMIT " + limit;
        if (!offset.empty())
            sql += " OFFSET " + offset;
        std::string name = names_.choose(pg_name_for(entry.name));
        std::string cols;
        for (const std::string& c : v.column_names)
            cols += (cols.empty() ? " (" : ", ") + quote_ident(c);
        if (!cols.empty())
            cols += ")";
        if (name != pg_name_for(entry.name))
            notes.insert("renamed: " + pg_name_for(entry.name) + " is taken in schema " + schema_);
        std::string stmt = "CREATE VIEW " + quote_ident(schema_) + "." + quote_ident(name) + cols + " AS " + sql;
        std::vector<std::string> sqlite_tables;
        for (const sqlite::FromItem& f : s.from)
            sqlite_tables.push_back(f.table);
        rows.push_back({"view", "view", name, entry.sql, stmt, notes.empty() ? "created" : "translated",
                        join_notes(notes),
                        "{\"sqlite_name\": " + json_string(entry.name) + ", \"tables\": " + json_array(sqlite_tables) +
                            "}"});
    }

    sqlite::Connection& conn_;
    Oid nsp_;
    std::string schema_;
    Names names_;
    std::set<std::string> view_names_;
};

Datum cstring_text(const std::string& s)
{
    return CStringGetTextDatum(s.c_str());
}

void put_rows(FunctionCallInfo fcinfo, const std::vector<PlanRow>& rows)
{
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (const PlanRow& r : rows) {
        pg::check_for_interrupts();
        pg::call([&] {
            Datum values[8];
            bool nulls[8] = {false, false, r.name.empty(), r.sqlite_sql.empty(), r.postgres_sql.empty(), false,
                             r.reason.empty(), false};
            values[0] = CStringGetTextDatum(r.phase);
            values[1] = CStringGetTextDatum(r.kind);
            values[2] = cstring_text(r.name);
            values[3] = cstring_text(r.sqlite_sql);
            values[4] = cstring_text(r.postgres_sql);
            values[5] = cstring_text(r.action);
            values[6] = cstring_text(r.reason);
            values[7] = DirectFunctionCall1(jsonb_in, CStringGetDatum(r.properties.c_str()));
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        });
    }
}

}  // namespace
}  // namespace recio

/* schema_plan(source regclass, target regclass) RETURNS TABLE(phase, object_kind, object_name, sqlite_sql, postgres_sql, action, reason, properties) */
RECIO_FUNCTION(recio_schema_plan)
{
    using namespace recio;
    SourceTable src = source_table(PG_GETARG_OID(0));
    Oid target = PG_GETARG_OID(1);
    sqlite::Connection& conn = server_connection(src.serverid);
    Planner planner(src, conn, target);
    planner.plan();
    pg::call([&] { InitMaterializedSRF(fcinfo, 0); });
    put_rows(fcinfo, planner.rows);
    return Datum(0);
}

/* translate_sqlite_expression(expression text, target regclass, column_name name) RETURNS TABLE(postgres_sql, action, reason) */
RECIO_FUNCTION(recio_translate_sqlite_expression)
{
    using namespace recio;
    if (PG_ARGISNULL(0)) {
        pg::call([&] { InitMaterializedSRF(fcinfo, 0); });
        return Datum(0);
    }
    const char* arg = pg::call([&] { return static_cast<const char*>(text_to_cstring(PG_GETARG_TEXT_PP(0))); });
    std::string text = arg;
    std::vector<TargetColumn> columns;
    if (!PG_ARGISNULL(1)) {
        Oid relid = PG_GETARG_OID(1);
        if (pg::call([&] { return pg_class_aclcheck(relid, GetUserId(), ACL_SELECT); }) != ACLCHECK_OK)
            throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied for the target table");
        columns = catalog_columns(relid);
        for (TargetColumn& c : columns)
            c.sqlite_name = c.pg_name;
    }
    std::string column = PG_ARGISNULL(2) ? "" : pg::call([&] { return std::string(NameStr(*PG_GETARG_NAME(2))); });
    PlanRow row{"", "", "", text, "", "", "", "{}"};
    try {
        Translation t;
        if (!column.empty()) {
            const TargetColumn* c = find_column(columns, column);
            if (!c)
                throw Error(ERRCODE_UNDEFINED_COLUMN, format("column \"%s\" does not exist", column.c_str()));
            t = translate_default(text, *c);
        } else {
            sqlite::ExprPtr e;
            try {
                e = sqlite::parse_expression(text);
            } catch (const sqlite::ParseError& pe) {
                throw Untranslatable(std::string("does not parse: ") + pe.what());
            }
            std::vector<ScopeTable> scope{{"", "", "", columns}};
            t = translate_value(*e, scope);
        }
        row.postgres_sql = t.sql;
        row.action = t.notes.empty() ? "created" : "translated";
        row.reason = join_notes(t.notes);
    } catch (const Untranslatable& e) {
        row.action = "skipped";
        row.reason = e.what();
    }
    pg::call([&] { InitMaterializedSRF(fcinfo, 0); });
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    pg::call([&] {
        Datum values[3] = {cstring_text(row.postgres_sql), cstring_text(row.action), cstring_text(row.reason)};
        bool nulls[3] = {row.postgres_sql.empty(), false, row.reason.empty()};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    });
    return Datum(0);
}

/* schema_views(server name, target_schema name) RETURNS TABLE(same columns as schema_plan) */
RECIO_FUNCTION(recio_schema_views)
{
    using namespace recio;
    const char* server = pg::call([&] { return pstrdup(NameStr(*PG_GETARG_NAME(0))); });
    const char* schema = pg::call([&] { return pstrdup(NameStr(*PG_GETARG_NAME(1))); });
    Oid serverid = pg::call([&] { return get_foreign_server_oid(server, false); });
    if (pg::call([&] { return pg_foreign_server_aclcheck(serverid, GetUserId(), ACL_USAGE); }) != ACLCHECK_OK)
        throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, format("permission denied for foreign server %s", server));
    Oid nsp = pg::call([&] { return get_namespace_oid(schema, false); });
    sqlite::Connection& conn = server_connection(serverid);
    ViewPlanner planner(conn, nsp, schema);
    planner.plan();
    pg::call([&] { InitMaterializedSRF(fcinfo, 0); });
    put_rows(fcinfo, planner.rows);
    return Datum(0);
}

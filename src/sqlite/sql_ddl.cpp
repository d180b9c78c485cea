/*
 * sql_ddl.cpp: reading CREATE TABLE / INDEX / VIEW text (see sql_ddl.h).
 * CREATE TABLE is read loosely (what the PRAGMAs already give is skipped
 * over by balanced parentheses); the pieces schema_plan translates (CHECK,
 * index terms, WHERE, the view's SELECT) go through the expression parser.
 */
#include "sqlite/sql_ddl.h"

namespace recio::sqlite {
namespace {

/* Position after the ")" that closes the "(" at pos. */
size_t group_end(const ExprParser& p, size_t pos)
{
    int depth = 0;
    for (size_t i = pos;; i++) {
        const Token& t = p.peek(i - p.pos());
        if (t.kind == TokenKind::End)
            throw ParseError("unbalanced parentheses");
        if (t.op("("))
            depth++;
        else if (t.op(")") && --depth == 0)
            return i + 1;
    }
}

void skip_group(ExprParser& p)
{
    p.set_pos(group_end(p, p.pos()));
}

void read_create(ExprParser& p)
{
    p.expect_keyword("CREATE");
    if (!p.accept_keyword("TEMP"))
        p.accept_keyword("TEMPORARY");
}

void read_object_name(ExprParser& p)
{
    if (p.accept_keyword("IF")) {
        p.expect_keyword("NOT");
        p.expect_keyword("EXISTS");
    }
    p.take_name();
    if (p.accept_op("."))
        p.take_name();
}

/* A CHECK ( ... ) at p: its text, and its tree when it parses. */
CheckConstraint read_check(ExprParser& p, std::string name, std::string column)
{
    if (!p.peek().op("("))
        p.fail("expected \"(\" after CHECK");
    size_t open = p.pos();
    size_t close = group_end(p, open);
    CheckConstraint c{std::move(name), std::move(column), p.text(open + 1, close - 1), nullptr, ""};
    try {
        c.expr = parse_expression(c.sql);
    } catch (const ParseError& e) {
        c.error = e.what();
    }
    p.set_pos(close);
    return c;
}

/* [NOT] DEFERRABLE [INITIALLY DEFERRED | IMMEDIATE] at p, if there, applied to the last foreign key. */
bool read_deferrable(ExprParser& p, TableDecl& table)
{
    bool negated = p.peek().is("NOT") && p.peek(1).is("DEFERRABLE");
    if (!negated && !p.peek().is("DEFERRABLE"))
        return false;
    if (negated)
        p.take();
    p.take();
    bool deferred = false;
    if (p.accept_keyword("INITIALLY"))
        deferred = p.accept_keyword("DEFERRED") || (p.accept_keyword("IMMEDIATE") && false);
    if (!table.foreign_keys.empty())
        table.foreign_keys.back().deferred = deferred && !negated;
    return true;
}

bool at_item_end(const ExprParser& p)
{
    return p.peek().op(",") || p.peek().op(")") || p.peek().kind == TokenKind::End;
}

void read_column(ExprParser& p, TableDecl& table)
{
    ColumnDecl col;
    col.name = p.take_name();
    std::string pending;
    while (!at_item_end(p)) {
        if (p.accept_keyword("CONSTRAINT")) {
            pending = p.take_name();
        } else if (p.accept_keyword("CHECK")) {
            table.checks.push_back(read_check(p, pending, col.name));
            pending.clear();
        } else if (p.accept_keyword("COLLATE")) {
            col.collation = p.take_name();
        } else if (p.accept_keyword("PRIMARY")) {
            p.expect_keyword("KEY");
            col.primary_key_desc = p.accept_keyword("DESC");
        } else if (p.accept_keyword("AUTOINCREMENT")) {
            col.autoincrement = true;
        } else if (p.accept_keyword("REFERENCES")) {
            table.foreign_keys.push_back({pending, false});
            pending.clear();
        } else if (read_deferrable(p, table)) {
        } else if (p.accept_keyword("DEFAULT")) {
            if (p.peek().op("("))
                skip_group(p);
            else {
                if (p.peek().op("-") || p.peek().op("+"))
                    p.take();
                p.take();
            }
        } else if (p.peek().op("(")) {
            skip_group(p);
        } else {
            p.take();
        }
    }
    table.columns.push_back(std::move(col));
}

void read_table_constraint(ExprParser& p, TableDecl& table)
{
    std::string name;
    if (p.accept_keyword("CONSTRAINT"))
        name = p.take_name();
    if (p.accept_keyword("CHECK"))
        table.checks.push_back(read_check(p, name, ""));
    else if (p.peek().is("FOREIGN"))
        table.foreign_keys.push_back({name, false});
    while (!at_item_end(p)) {
        if (read_deferrable(p, table))
            continue;
        if (p.peek().op("("))
            skip_group(p);
        else
            p.take();
    }
}

bool starts_table_constraint(const ExprParser& p)
{
    const Token& t = p.peek();
    return t.is("CONSTRAINT") || t.is("PRIMARY") || t.is("UNIQUE") || t.is("CHECK") || t.is("FOREIGN");
}

void expect_end(ExprParser& p)
{
    p.accept_op(";");
    if (p.peek().kind != TokenKind::End)
        p.fail("unexpected text");
}

/* Words that end a select item or a FROM item instead of naming it. */
bool clause_word(const Token& t)
{
    for (const char* k : {"FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "UNION", "INTERSECT",
                          "EXCEPT", "WINDOW", "JOIN", "LEFT", "RIGHT", "FULL", "INNER", "CROSS", "NATURAL", "ON",
                          "USING", "AS", "INDEXED", "NOT"})
        if (t.is(k))
            return true;
    return false;
}

std::string read_alias(ExprParser& p)
{
    if (p.accept_keyword("AS"))
        return p.take_name();
    const Token& t = p.peek();
    if ((t.kind == TokenKind::Ident && !clause_word(t)) || t.kind == TokenKind::QuotedIdent ||
        t.kind == TokenKind::String)
        return p.take_name();
    return "";
}

FromItem read_from_item(ExprParser& p, std::string join)
{
    if (p.peek().op("("))
        p.fail("subquery in FROM not supported");
    FromItem f;
    f.join = std::move(join);
    f.table = p.take_name();
    if (p.accept_op(".")) {
        std::string schema = f.table;
        f.table = p.take_name();
        if (!same_name(schema, "main"))
            p.fail("a table of another schema");
    }
    if (p.peek().op("("))
        p.fail("table-valued function not supported");
    f.alias = read_alias(p);
    if (p.peek().is("INDEXED") || (p.peek().is("NOT") && p.peek(1).is("INDEXED")))
        p.fail("INDEXED BY not supported");
    return f;
}

std::vector<ExprPtr> read_expression_list(ExprParser& p)
{
    std::vector<ExprPtr> list;
    do
        list.push_back(p.parse_expression());
    while (p.accept_op(","));
    return list;
}

SelectDecl read_select(ExprParser& p)
{
    SelectDecl s;
    if (p.peek().is("WITH"))
        p.fail("WITH not supported");
    if (p.peek().is("VALUES"))
        p.fail("VALUES not supported");
    p.expect_keyword("SELECT");
    if (p.accept_keyword("DISTINCT"))
        s.distinct = true;
    else
        p.accept_keyword("ALL");
    do {
        SelectItem item;
        item.expr = p.parse_expression();
        if (item.expr->kind != Expr::Kind::Star)
            item.alias = read_alias(p);
        s.items.push_back(std::move(item));
    } while (p.accept_op(","));
    if (p.accept_keyword("FROM")) {
        s.from.push_back(read_from_item(p, ""));
        for (;;) {
            std::string join;
            if (p.accept_op(","))
                join = "CROSS JOIN";
            else if (p.accept_keyword("JOIN"))
                join = "JOIN";
            else if (p.accept_keyword("INNER")) {
                p.expect_keyword("JOIN");
                join = "JOIN";
            } else if (p.accept_keyword("LEFT")) {
                p.accept_keyword("OUTER");
                p.expect_keyword("JOIN");
                join = "LEFT JOIN";
            } else if (p.accept_keyword("CROSS")) {
                p.expect_keyword("JOIN");
                join = "CROSS JOIN";
            } else if (p.peek().is("NATURAL") || p.peek().is("RIGHT") || p.peek().is("FULL")) {
                p.fail("this join not supported");
            } else
                break;
            FromItem f = read_from_item(p, join);
            if (p.accept_keyword("ON")) {
                f.on = p.parse_expression();
                if (f.join == "CROSS JOIN")
                    f.join = "JOIN";
            } else if (p.peek().is("USING"))
                p.fail("USING not supported");
            s.from.push_back(std::move(f));
        }
    }
    if (p.accept_keyword("WHERE"))
        s.where = p.parse_expression();
    if (p.accept_keyword("GROUP")) {
        p.expect_keyword("BY");
        s.group_by = read_expression_list(p);
    }
    if (p.accept_keyword("HAVING"))
        s.having = p.parse_expression();
    if (p.peek().is("WINDOW"))
        p.fail("WINDOW not supported");
    if (p.peek().is("UNION") || p.peek().is("INTERSECT") || p.peek().is("EXCEPT"))
        p.fail("compound SELECT not supported");
    if (p.accept_keyword("ORDER")) {
        p.expect_keyword("BY");
        do {
            OrderItem o;
            o.expr = p.parse_expression();
            if (p.accept_keyword("DESC"))
                o.desc = true;
            else
                p.accept_keyword("ASC");
            if (p.accept_keyword("NULLS")) {
                if (p.accept_keyword("FIRST"))
                    o.nulls = "FIRST";
                else {
                    p.expect_keyword("LAST");
                    o.nulls = "LAST";
                }
            }
            s.order_by.push_back(std::move(o));
        } while (p.accept_op(","));
    }
    if (p.accept_keyword("LIMIT")) {
        s.limit = p.parse_expression();
        if (p.accept_keyword("OFFSET"))
            s.offset = p.parse_expression();
        else if (p.accept_op(",")) { /* LIMIT offset, count */
            s.offset = std::move(s.limit);
            s.limit = p.parse_expression();
        }
    }
    return s;
}

}  // namespace

TableDecl parse_create_table(const std::string& sql)
{
    std::vector<Token> tokens = tokenize(sql);
    ExprParser p(sql, tokens);
    TableDecl table;
    read_create(p);
    p.expect_keyword("TABLE");
    read_object_name(p);
    if (p.peek().is("AS"))
        p.fail("CREATE TABLE AS not supported");
    p.expect_op("(");
    do {
        if (starts_table_constraint(p))
            read_table_constraint(p, table);
        else
            read_column(p, table);
    } while (p.accept_op(","));
    p.expect_op(")");
    while (!p.at_end()) {
        if (p.accept_keyword("WITHOUT")) {
            p.expect_keyword("ROWID");
            table.without_rowid = true;
        } else if (!p.accept_keyword("STRICT") && !p.accept_op(","))
            p.fail("unexpected text");
    }
    return table;
}

IndexDecl parse_create_index(const std::string& sql)
{
    std::vector<Token> tokens = tokenize(sql);
    ExprParser p(sql, tokens);
    IndexDecl index;
    p.expect_keyword("CREATE");
    index.unique = p.accept_keyword("UNIQUE");
    p.expect_keyword("INDEX");
    read_object_name(p);
    p.expect_keyword("ON");
    p.take_name();
    p.expect_op("(");
    do {
        IndexTerm term;
        size_t from = p.pos();
        term.expr = p.parse_expression();
        if (term.expr->kind == Expr::Kind::Collate) {
            term.collation = term.expr->text;
            ExprPtr inner = std::move(term.expr->args[0]);
            term.expr = std::move(inner);
        }
        if (p.accept_keyword("DESC"))
            term.desc = true;
        else
            p.accept_keyword("ASC");
        term.sql = p.text(from, p.pos());
        index.terms.push_back(std::move(term));
    } while (p.accept_op(","));
    p.expect_op(")");
    if (p.accept_keyword("WHERE")) {
        size_t from = p.pos();
        index.where = p.parse_expression();
        index.where_sql = p.text(from, p.pos());
    }
    expect_end(p);
    return index;
}

ViewDecl parse_create_view(const std::string& sql)
{
    std::vector<Token> tokens = tokenize(sql);
    ExprParser p(sql, tokens);
    ViewDecl view;
    read_create(p);
    p.expect_keyword("VIEW");
    read_object_name(p);
    if (p.accept_op("(")) {
        do
            view.column_names.push_back(p.take_name());
        while (p.accept_op(","));
        p.expect_op(")");
    }
    p.expect_keyword("AS");
    view.select = read_select(p);
    expect_end(p);
    return view;
}

}  // namespace recio::sqlite

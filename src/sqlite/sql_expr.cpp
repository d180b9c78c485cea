/*
 * sql_expr.cpp: SQLite's tokenizer and expression parser (see sql_expr.h).
 * The grammar and its precedence follow https://sqlite.org/lang_expr.html:
 * OR < AND < NOT < (= == != <> IS IN LIKE GLOB BETWEEN ISNULL NOTNULL) <
 * (< <= > >=) < (& | << >>) < (+ -) < (* / %) < (|| -> ->>) < unary and
 * COLLATE.
 */
#include "sqlite/sql_expr.h"

#include <algorithm>
#include <cstring>

namespace recio::sqlite {
namespace {

/* Hostile input: a statement longer than this many tokens is refused. */
constexpr size_t kMaxTokens = 1000000;

char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

bool ident_char(unsigned char c)
{
    return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

bool digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

bool hex_digit(unsigned char c)
{
    return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A quoted run from s[i] (the opening quote) to its closing quote; a doubled closing quote is one character. */
size_t quoted(const std::string& s, size_t i, char close, bool doubling, std::string* value)
{
    for (size_t j = i + 1; j < s.size(); j++) {
        if (s[j] != close) {
            *value += s[j];
            continue;
        }
        if (doubling && j + 1 < s.size() && s[j + 1] == close) {
            *value += close;
            j++;
            continue;
        }
        return j + 1;
    }
    throw ParseError("unterminated quoted text");
}

size_t number(const std::string& s, size_t i, TokenKind* kind)
{
    size_t j = i;
    *kind = TokenKind::Integer;
    if (s[j] == '0' && j + 1 < s.size() && (s[j + 1] == 'x' || s[j + 1] == 'X')) {
        j += 2;
        size_t start = j;
        while (j < s.size() && hex_digit(s[j]))
            j++;
        if (j == start)
            throw ParseError("malformed hexadecimal number");
    } else {
        while (j < s.size() && digit(s[j]))
            j++;
        if (j < s.size() && s[j] == '.') {
            *kind = TokenKind::Float;
            j++;
            while (j < s.size() && digit(s[j]))
                j++;
        }
        if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
            size_t k = j + 1;
            if (k < s.size() && (s[k] == '+' || s[k] == '-'))
                k++;
            if (k >= s.size() || !digit(s[k]))
                throw ParseError("malformed number");
            while (k < s.size() && digit(s[k]))
                k++;
            j = k;
            *kind = TokenKind::Float;
        }
    }
    if (j < s.size() && ident_char(s[j]))
        throw ParseError("malformed number");
    return j;
}

const char* const kOps3[] = {"->>"};
const char* const kOps2[] = {"||", "==", "!=", "<>", "<=", ">=", "<<", ">>", "->"};
const char kOps1[] = "(),.;+-*/%<>=&|~";

}  // namespace

bool Token::is(const char* keyword) const
{
    if (kind != TokenKind::Ident || text.size() != strlen(keyword))
        return false;
    for (size_t i = 0; i < text.size(); i++)
        if (ascii_lower(text[i]) != ascii_lower(keyword[i]))
            return false;
    return true;
}

bool same_name(const std::string& a, const std::string& b)
{
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); i++)
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return false;
    return true;
}

std::vector<Token> tokenize(const std::string& s)
{
    std::vector<Token> out;
    size_t i = 0;
    while (i < s.size()) {
        if (out.size() >= kMaxTokens)
            throw ParseError("SQL text too long");
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            i++;
            continue;
        }
        if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
            size_t nl = s.find('\n', i);
            i = nl == std::string::npos ? s.size() : nl + 1;
            continue;
        }
        if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
            size_t close = s.find("*/", i + 2);
            i = close == std::string::npos ? s.size() : close + 2; /* SQLite ends an open comment at the end */
            continue;
        }
        Token t{TokenKind::End, "", i, i};
        if ((c == 'x' || c == 'X') && i + 1 < s.size() && s[i + 1] == '\'') {
            std::string hex;
            size_t j = quoted(s, i + 1, '\'', false, &hex);
            if (hex.size() % 2 != 0)
                throw ParseError("malformed blob literal");
            for (char h : hex)
                if (!hex_digit(static_cast<unsigned char>(h)))
                    throw ParseError("malformed blob literal");
            t = {TokenKind::Blob, hex, i, j};
        } else if (ident_start(c)) {
            size_t j = i;
            while (j < s.size() && ident_char(static_cast<unsigned char>(s[j])))
                j++;
            t = {TokenKind::Ident, s.substr(i, j - i), i, j};
        } else if (c == '"' || c == '`') {
            std::string v;
            size_t j = quoted(s, i, static_cast<char>(c), true, &v);
            t = {TokenKind::QuotedIdent, v, i, j};
        } else if (c == '[') {
            std::string v;
            size_t j = quoted(s, i, ']', false, &v);
            t = {TokenKind::QuotedIdent, v, i, j};
        } else if (c == '\'') {
            std::string v;
            size_t j = quoted(s, i, '\'', true, &v);
            t = {TokenKind::String, v, i, j};
        } else if (digit(c) || (c == '.' && i + 1 < s.size() && digit(static_cast<unsigned char>(s[i + 1])))) {
            TokenKind kind;
            size_t j = number(s, i, &kind);
            t = {kind, s.substr(i, j - i), i, j};
        } else {
            for (const char* op : kOps3)
                if (s.compare(i, 3, op) == 0)
                    t = {TokenKind::Op, op, i, i + 3};
            if (t.kind == TokenKind::End)
                for (const char* op : kOps2)
                    if (s.compare(i, 2, op) == 0)
                        t = {TokenKind::Op, op, i, i + 2};
            if (t.kind == TokenKind::End) {
                if (c == 0 || !strchr(kOps1, c))
                    throw ParseError(c >= 0x20 && c < 0x7f ? std::string("unexpected character \"") +
                                                                 static_cast<char>(c) + "\""
                                                           : "unexpected byte in SQL text");
                t = {TokenKind::Op, std::string(1, static_cast<char>(c)), i, i + 1};
            }
        }
        i = t.end;
        out.push_back(std::move(t));
    }
    out.push_back({TokenKind::End, "", s.size(), s.size()});
    return out;
}

const Token& ExprParser::peek(size_t ahead) const
{
    size_t i = pos_ + ahead;
    return i < tokens_.size() ? tokens_[i] : tokens_.back();
}

const Token& ExprParser::take()
{
    const Token& t = peek();
    if (t.kind != TokenKind::End)
        pos_++;
    return t;
}

bool ExprParser::accept_keyword(const char* keyword)
{
    if (!peek().is(keyword))
        return false;
    pos_++;
    return true;
}

bool ExprParser::accept_op(const char* symbol)
{
    if (!peek().op(symbol))
        return false;
    pos_++;
    return true;
}

void ExprParser::expect_keyword(const char* keyword)
{
    if (!accept_keyword(keyword))
        fail(std::string("expected ") + keyword);
}

void ExprParser::expect_op(const char* symbol)
{
    if (!accept_op(symbol))
        fail(std::string("expected \"") + symbol + "\"");
}

std::string ExprParser::take_name()
{
    const Token& t = peek();
    if (t.kind != TokenKind::Ident && t.kind != TokenKind::QuotedIdent && t.kind != TokenKind::String)
        fail("expected a name");
    pos_++;
    return t.text;
}

std::string ExprParser::text(size_t from, size_t to) const
{
    if (from >= to || from >= tokens_.size())
        return "";
    size_t b = tokens_[from].begin;
    size_t e = tokens_[std::min(to, tokens_.size()) - 1].end;
    return source_.substr(b, e - b);
}

void ExprParser::fail(const std::string& what) const
{
    const Token& t = peek();
    if (t.kind == TokenKind::End)
        throw ParseError(what + " at end of text");
    std::string near = t.kind == TokenKind::String ? "'" + t.text + "'" : t.text;
    if (near.size() > 40)
        near = near.substr(0, 40) + "...";
    throw ParseError(what + " near \"" + near + "\"");
}

void ExprParser::adopt(ExprPtr& parent, ExprPtr child)
{
    /* a long chain (1+1+...+1) is built without recursion, but walking and freeing it recurses */
    if (child->height + 1 > kMaxHeight)
        fail("expression nested too deeply");
    parent->height = std::max(parent->height, child->height + 1);
    parent->args.push_back(std::move(child));
}

ExprPtr ExprParser::make(Expr::Kind kind, std::string text, size_t begin)
{
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->text = std::move(text);
    e->begin = begin;
    e->end = pos_ > 0 ? tokens_[std::min(pos_, tokens_.size()) - 1].end : begin;
    return e;
}

ExprPtr ExprParser::binary(const std::string& op, ExprPtr lhs, ExprPtr rhs)
{
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::Binary;
    e->text = op;
    e->begin = lhs->begin;
    e->end = rhs->end;
    adopt(e, std::move(lhs));
    adopt(e, std::move(rhs));
    return e;
}

namespace {

/* Counts one level of nesting for as long as it lives. */
class Nesting {
public:
    Nesting(int& depth, const ExprParser& p) : depth_(depth)
    {
        if (++depth_ > kMaxDepth)
            p.fail("expression nested too deeply");
    }
    ~Nesting() { depth_--; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;

private:
    int& depth_;
};

enum Level { kOr = 1, kAnd, kNot, kEquality, kRelational, kBitwise, kAdditive, kMultiplicative, kConcat, kUnary };

const char* binary_op(const Token& t, int level)
{
    switch (level) {
    case kOr:
        return t.is("OR") ? "OR" : nullptr;
    case kAnd:
        return t.is("AND") ? "AND" : nullptr;
    case kRelational:
        for (const char* op : {"<", "<=", ">", ">="})
            if (t.op(op))
                return op;
        return nullptr;
    case kBitwise:
        for (const char* op : {"&", "|", "<<", ">>"})
            if (t.op(op))
                return op;
        return nullptr;
    case kAdditive:
        return t.op("+") ? "+" : t.op("-") ? "-" : nullptr;
    case kMultiplicative:
        return t.op("*") ? "*" : t.op("/") ? "/" : t.op("%") ? "%" : nullptr;
    case kConcat:
        return t.op("||") ? "||" : t.op("->") ? "->" : t.op("->>") ? "->>" : nullptr;
    default:
        return nullptr;
    }
}

}  // namespace

ExprPtr ExprParser::parse_expression()
{
    return parse_level(kOr);
}

ExprPtr ExprParser::parse_only()
{
    ExprPtr e = parse_expression();
    accept_op(";");
    if (peek().kind != TokenKind::End)
        fail("unexpected text after the expression");
    return e;
}

ExprPtr ExprParser::parse_level(int level)
{
    if (level == kNot) {
        if (peek().is("NOT")) {
            Nesting n(depth_, *this);
            size_t begin = take().begin;
            ExprPtr arg = parse_level(kNot);
            ExprPtr e = make(Expr::Kind::Unary, "NOT", begin);
            adopt(e, std::move(arg));
            return e;
        }
        return parse_level(kEquality);
    }
    if (level == kUnary)
        return parse_unary();
    ExprPtr lhs = parse_level(level + 1);
    for (;;) {
        if (level == kEquality) {
            size_t before = pos_;
            lhs = parse_comparison_tail(std::move(lhs));
            if (pos_ == before)
                return lhs;
            continue;
        }
        const char* op = binary_op(peek(), level);
        if (!op)
            return lhs;
        take();
        ExprPtr rhs = parse_level(level + 1);
        lhs = binary(op, std::move(lhs), std::move(rhs));
    }
}

/* One equality-level operator after lhs, or lhs itself when none follows. */
ExprPtr ExprParser::parse_comparison_tail(ExprPtr lhs)
{
    const Token& t = peek();
    size_t begin = lhs->begin;
    auto wrap = [&](Expr::Kind kind, const char* text, bool negated) {
        ExprPtr e = make(kind, text, begin);
        e->begin = begin;
        e->negated = negated;
        adopt(e, std::move(lhs));
        return e;
    };
    for (const char* op : {"=", "==", "!=", "<>"})
        if (t.op(op)) {
            take();
            ExprPtr rhs = parse_level(kRelational);
            return binary(strcmp(op, "==") == 0 ? "=" : strcmp(op, "!=") == 0 ? "<>" : op, std::move(lhs),
                          std::move(rhs));
        }
    if (t.is("ISNULL") || t.is("NOTNULL")) {
        bool neg = t.is("NOTNULL");
        take();
        return wrap(Expr::Kind::IsNull, "", neg);
    }
    if (t.is("IS")) {
        take();
        bool neg = accept_keyword("NOT");
        if (accept_keyword("NULL"))
            return wrap(Expr::Kind::IsNull, "", neg);
        if (accept_keyword("DISTINCT")) {
            expect_keyword("FROM");
            neg = !neg; /* IS DISTINCT FROM is IS NOT */
        }
        ExprPtr rhs = parse_level(kRelational);
        return binary(neg ? "IS NOT" : "IS", std::move(lhs), std::move(rhs));
    }
    bool neg = false;
    if (t.is("NOT")) {
        const Token& n = peek(1);
        if (n.is("NULL")) {
            take();
            take();
            return wrap(Expr::Kind::IsNull, "", true);
        }
        if (!(n.is("IN") || n.is("LIKE") || n.is("GLOB") || n.is("REGEXP") || n.is("MATCH") || n.is("BETWEEN")))
            return lhs;
        take();
        neg = true;
    }
    const Token& k = peek();
    if (k.is("IN")) {
        take();
        expect_op("(");
        ExprPtr e = wrap(Expr::Kind::In, "", neg);
        if (peek().is("SELECT") || peek().is("WITH"))
            fail("subquery");
        if (!peek().op(")"))
            do {
                Nesting n(depth_, *this);
                adopt(e, parse_expression());
            } while (accept_op(","));
        expect_op(")");
        e->end = tokens_[pos_ - 1].end;
        return e;
    }
    if (k.is("BETWEEN")) {
        take();
        ExprPtr e = wrap(Expr::Kind::Between, "", neg);
        adopt(e, parse_level(kRelational));
        expect_keyword("AND");
        adopt(e, parse_level(kRelational));
        e->end = e->args.back()->end;
        return e;
    }
    for (const char* op : {"LIKE", "GLOB", "REGEXP", "MATCH"})
        if (k.is(op)) {
            take();
            ExprPtr e = wrap(Expr::Kind::Like, op, neg);
            adopt(e, parse_level(kRelational));
            if (accept_keyword("ESCAPE"))
                adopt(e, parse_level(kRelational));
            e->end = e->args.back()->end;
            return e;
        }
    if (neg)
        fail("syntax error");
    return lhs;
}

ExprPtr ExprParser::parse_unary()
{
    const Token& t = peek();
    if (t.op("-") || t.op("+") || t.op("~")) {
        Nesting n(depth_, *this);
        size_t begin = take().begin;
        std::string op = tokens_[pos_ - 1].text;
        ExprPtr arg = parse_unary();
        ExprPtr e = make(Expr::Kind::Unary, op, begin);
        adopt(e, std::move(arg));
        return e;
    }
    ExprPtr e = parse_primary();
    while (peek().is("COLLATE")) {
        take();
        std::string name = take_name();
        ExprPtr c = make(Expr::Kind::Collate, name, e->begin);
        adopt(c, std::move(e));
        e = std::move(c);
    }
    return e;
}

ExprPtr ExprParser::parse_primary()
{
    Nesting n(depth_, *this);
    const Token& t = peek();
    size_t begin = t.begin;
    switch (t.kind) {
    case TokenKind::End:
        fail("expected an expression");
    case TokenKind::Integer:
        take();
        return make(Expr::Kind::Integer, t.text, begin);
    case TokenKind::Float:
        take();
        return make(Expr::Kind::Float, t.text, begin);
    case TokenKind::String:
        take();
        return make(Expr::Kind::String, t.text, begin);
    case TokenKind::Blob:
        take();
        return make(Expr::Kind::Blob, t.text, begin);
    case TokenKind::QuotedIdent:
    case TokenKind::Ident: {
        if (t.kind == TokenKind::Ident) {
            if (t.is("NULL")) {
                take();
                return make(Expr::Kind::Null, "NULL", begin);
            }
            if (t.is("TRUE") || t.is("FALSE")) {
                bool v = t.is("TRUE");
                take();
                return make(Expr::Kind::Bool, v ? "1" : "0", begin);
            }
            if (t.is("CURRENT_TIME") || t.is("CURRENT_DATE") || t.is("CURRENT_TIMESTAMP")) {
                std::string k = t.is("CURRENT_TIME") ? "CURRENT_TIME" : t.is("CURRENT_DATE") ? "CURRENT_DATE" : "CURRENT_TIMESTAMP";
                take();
                return make(Expr::Kind::CurrentTime, k, begin);
            }
            if (t.is("CAST")) {
                take();
                expect_op("(");
                ExprPtr arg = parse_expression();
                expect_keyword("AS");
                size_t from = pos_;
                while (peek().kind == TokenKind::Ident || peek().kind == TokenKind::QuotedIdent)
                    take();
                if (accept_op("(")) {
                    while (!peek().op(")") && peek().kind != TokenKind::End)
                        take();
                    expect_op(")");
                }
                if (from == pos_)
                    fail("expected a type name");
                std::string type = text(from, pos_);
                expect_op(")");
                ExprPtr e = make(Expr::Kind::Cast, type, begin);
                adopt(e, std::move(arg));
                return e;
            }
            if (t.is("CASE") || t.is("EXISTS") || t.is("SELECT") || t.is("RAISE"))
                fail(std::string(t.is("CASE") ? "CASE expression" : "subquery or RAISE") + " not supported");
        }
        std::string name = take().text;
        if (peek().op("(") && t.kind == TokenKind::Ident)
            return parse_function(name, begin);
        if (accept_op(".")) {
            if (accept_op("*")) {
                ExprPtr e = make(Expr::Kind::Star, "*", begin);
                e->qualifier = name;
                return e;
            }
            std::string second = take_name();
            if (accept_op(".")) /* schema.table.column: the schema is the file's own main */
                name = second, second = take_name();
            ExprPtr e = make(Expr::Kind::Column, second, begin);
            e->qualifier = name;
            return e;
        }
        return make(Expr::Kind::Column, name, begin);
    }
    case TokenKind::Op:
        if (t.op("(")) {
            take();
            if (peek().is("SELECT") || peek().is("WITH") || peek().is("VALUES"))
                fail("subquery not supported");
            ExprPtr e = parse_expression();
            if (peek().op(","))
                fail("row value not supported");
            expect_op(")");
            e->begin = begin;
            e->end = tokens_[pos_ - 1].end;
            return e;
        }
        if (t.op("*")) {
            take();
            return make(Expr::Kind::Star, "*", begin);
        }
        fail("expected an expression");
    }
    fail("expected an expression");
}

ExprPtr ExprParser::parse_function(const std::string& name, size_t begin)
{
    std::string lower;
    for (char c : name)
        lower += ascii_lower(c);
    expect_op("(");
    ExprPtr e = make(Expr::Kind::Function, lower, begin);
    if (accept_keyword("DISTINCT"))
        e->distinct = true;
    if (!peek().op(")"))
        do {
            if (peek().op("*") && peek(1).op(")")) {
                size_t b = take().begin;
                adopt(e, make(Expr::Kind::Star, "*", b));
                break;
            }
            adopt(e, parse_expression());
        } while (accept_op(","));
    if (peek().is("ORDER"))
        fail("ordered aggregate not supported");
    expect_op(")");
    if (peek().is("FILTER") || peek().is("OVER"))
        fail("window or filtered aggregate not supported");
    e->end = tokens_[pos_ - 1].end;
    return e;
}

ExprPtr parse_expression(const std::string& text)
{
    std::vector<Token> tokens = tokenize(text);
    ExprParser p(text, tokens);
    return p.parse_only();
}

}  // namespace recio::sqlite

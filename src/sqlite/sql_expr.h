/*
 * sql_expr.h: SQLite's SQL as tokens and expressions.  A tokenizer that
 * takes any bytes (comments, the four identifier quotings, '' escapes,
 * X'..' blobs; an unknown byte, a NUL or an unterminated quote is an error
 * token, never a crash), and a precedence-climbing parser of SQLite's
 * expression grammar into a small tree.  Nesting is limited (kMaxDepth), so
 * a hostile 100,000-deep expression is a parse error, not a stack overflow.
 * Pure C++: no PostgreSQL call, every failure is a thrown ParseError.
 */
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace recio::sqlite {

enum class TokenKind {
    End,
    Ident,       /* bare word: a name or a keyword */
    QuotedIdent, /* "x", `x` or [x]: always a name */
    String,      /* 'x': text holds the value ('' undone) */
    Blob,        /* X'0aff': text holds the hex digits */
    Integer,     /* text as written (decimal or 0x hex) */
    Float,       /* text as written */
    Op,          /* punctuation and operators: ( ) , . ; + - * / % || == = != <> < <= > >= << >> & | ~ -> ->> */
};

struct Token {
    TokenKind kind;
    std::string text;
    size_t begin, end; /* byte offsets in the source */
    bool is(const char* keyword) const; /* a bare word equal to keyword, ASCII case-insensitively */
    bool op(const char* symbol) const { return kind == TokenKind::Op && text == symbol; }
};

class ParseError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/* The tokens of sql (comments and white space dropped), ending with one End token.  Throws ParseError. */
std::vector<Token> tokenize(const std::string& sql);

/* SQLite's ASCII-only case-insensitive comparison of names. */
bool same_name(const std::string& a, const std::string& b);

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
    enum class Kind {
        Null,
        Integer,     /* text: the literal as written */
        Float,       /* text: the literal as written */
        String,      /* text: the value */
        Blob,        /* text: hex digits */
        Bool,        /* text: "1" or "0" (TRUE / FALSE) */
        CurrentTime, /* text: CURRENT_TIME, CURRENT_DATE or CURRENT_TIMESTAMP */
        Column,      /* text: the name; qualifier: the table or alias, "" when none */
        Star,        /* * in count(*) or a select list; qualifier as for Column */
        Unary,       /* text: "-", "+", "~" or "NOT"; args[0] */
        Binary,      /* text: the operator (upper case for words: AND, OR, IS, IS NOT); args[0], args[1] */
        Function,    /* text: the name, lower case; args; distinct */
        Cast,        /* text: the type name as written; args[0] */
        Collate,     /* text: the collation name; args[0] */
        In,          /* args[0] IN (args[1..]); negated */
        Between,     /* args[0] BETWEEN args[1] AND args[2]; negated */
        IsNull,      /* args[0] IS NULL; negated: IS NOT NULL / NOTNULL */
        Like,        /* text: LIKE, GLOB, REGEXP or MATCH; args[0] op args[1] [ESCAPE args[2]]; negated */
    };
    Kind kind;
    std::string text;
    std::string qualifier;
    bool negated = false;
    bool distinct = false;
    std::vector<ExprPtr> args;
    size_t begin = 0, end = 0; /* source bytes it came from */
    int height = 1;            /* levels of the tree below and including this node */
};

/* Nesting limit of parenthesised, unary and call expressions, and of the tree's height. */
constexpr int kMaxDepth = 200;
constexpr int kMaxHeight = 1000;

/*
 * A parser over tokens[pos..].  parse_expression() reads one expression and
 * leaves pos on the first token after it; callers that parse statements
 * (sql_ddl.cpp) use the token helpers to read the surrounding grammar.
 */
class ExprParser {
public:
    ExprParser(const std::string& source, const std::vector<Token>& tokens, size_t pos = 0)
        : source_(source), tokens_(tokens), pos_(pos)
    {
    }
    ExprPtr parse_expression();
    /* a whole input that is one expression (a trailing ';' or nothing else) */
    ExprPtr parse_only();

    const Token& peek(size_t ahead = 0) const;
    const Token& take();
    bool accept_keyword(const char* keyword);
    bool accept_op(const char* symbol);
    void expect_keyword(const char* keyword);
    void expect_op(const char* symbol);
    /* a name: a bare word or a quoted identifier (or, as SQLite allows, a string) */
    std::string take_name();
    bool at_end() const { return peek().kind == TokenKind::End || peek().op(";"); }
    size_t pos() const { return pos_; }
    void set_pos(size_t pos) { pos_ = pos; }
    /* the source text of tokens [from, to) */
    std::string text(size_t from, size_t to) const;
    [[noreturn]] void fail(const std::string& what) const;

private:
    ExprPtr parse_level(int level);
    ExprPtr parse_comparison_tail(ExprPtr lhs);
    ExprPtr parse_unary();
    ExprPtr parse_primary();
    ExprPtr parse_function(const std::string& name, size_t begin);
    void adopt(ExprPtr& parent, ExprPtr child);
    ExprPtr make(Expr::Kind kind, std::string text, size_t begin);
    ExprPtr binary(const std::string& op, ExprPtr lhs, ExprPtr rhs);

    const std::string& source_;
    const std::vector<Token>& tokens_;
    size_t pos_;
    int depth_ = 0;
};

/* Parse text as one SQLite expression.  Throws ParseError. */
ExprPtr parse_expression(const std::string& text);

}  // namespace recio::sqlite

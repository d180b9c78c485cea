/*
 * expr_translate.cpp: the translation rules of expr_translate.h.  Each rule
 * says why SQLite and PostgreSQL agree; anything else is Untranslatable.
 */
#include "migrate/expr_translate.h"

extern "C" {
#include "catalog/pg_type_d.h"
#include "utils/builtins.h"
}

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace recio {

using sqlite::Expr;
using K = sqlite::Expr::Kind;

PgClass class_of_type(Oid typid)
{
    switch (typid) {
    case INT2OID:
    case INT4OID:
    case INT8OID:
        return PgClass::Int;
    case FLOAT8OID:
        return PgClass::Float;
    case NUMERICOID:
        return PgClass::Numeric;
    case TEXTOID:
    case VARCHAROID:
        return PgClass::Text;
    case BOOLOID:
        return PgClass::Bool;
    case BYTEAOID:
        return PgClass::Bytea;
    case TIMESTAMPOID:
        return PgClass::Timestamp;
    case TIMESTAMPTZOID:
        return PgClass::TimestampTz;
    case DATEOID:
        return PgClass::Date;
    case TIMEOID:
        return PgClass::Time;
    default:
        return PgClass::Other;
    }
}

/* "an integer", "a text": the class with its article, for reasons */
std::string a_class(PgClass cls)
{
    return std::string(cls == PgClass::Int ? "an " : "a ") + class_name(cls);
}

const char* class_name(PgClass cls)
{
    switch (cls) {
    case PgClass::Int:
        return "integer";
    case PgClass::Float:
        return "double precision";
    case PgClass::Numeric:
        return "numeric";
    case PgClass::Text:
        return "text";
    case PgClass::Bool:
        return "boolean";
    case PgClass::Bytea:
        return "bytea";
    case PgClass::Timestamp:
        return "timestamp";
    case PgClass::TimestampTz:
        return "timestamptz";
    case PgClass::Date:
        return "date";
    case PgClass::Time:
        return "time";
    case PgClass::Null:
        return "NULL";
    default:
        return "other";
    }
}

std::string quote_ident(const std::string& name)
{
    const char* n = name.c_str();
    return pg::call([&] { return std::string(quote_identifier(n)); });
}

std::string quote_literal(const std::string& text)
{
    const char* t = text.c_str();
    return pg::call([&] { return std::string(quote_literal_cstr(t)); });
}

const TargetColumn* find_column(const std::vector<TargetColumn>& columns, const std::string& sqlite_name)
{
    for (const TargetColumn& c : columns)
        if (!c.sqlite_name.empty() && sqlite::same_name(c.sqlite_name, sqlite_name))
            return &c;
    return nullptr;
}

namespace {

enum class Lit { None, Int, Float, String, Null };

struct Val {
    std::string sql;
    PgClass cls;
    Lit lit = Lit::None;
    std::string value;        /* a literal's value: decimal digits, or the string */
    std::string collation;    /* SQLite collation of the operand, upper case, "" none */
    bool explicit_collation = false;
};

std::string upper(const std::string& s)
{
    std::string out;
    for (char c : s)
        out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    return out;
}

[[noreturn]] void refuse(const std::string& why)
{
    throw Untranslatable(why);
}

/* A SQLite integer literal (decimal or hex) as decimal digits; false when it does not fit in 64 bits. */
bool integer_literal(const std::string& text, bool negative, std::string* out)
{
    errno = 0;
    char* end = nullptr;
    if (text.size() > 2 && (text[1] == 'x' || text[1] == 'X')) {
        unsigned long long u = strtoull(text.c_str() + 2, &end, 16);
        if (errno != 0 || text.size() > 18)
            return false;
        long long v = static_cast<long long>(u); /* SQLite reads hex as a 64-bit two's complement */
        if (negative) {
            if (v == LLONG_MIN)
                return false;
            v = -v;
        }
        *out = std::to_string(v);
        return true;
    }
    std::string digits = (negative ? "-" : "") + text;
    long long v = strtoll(digits.c_str(), &end, 10);
    if (errno != 0 || *end)
        return false; /* beyond 64 bits SQLite reads it as a REAL */
    *out = std::to_string(v);
    return true;
}

/* Significant digits of a decimal literal: up to 15 round-trip through a double unchanged. */
int significant_digits(const std::string& text)
{
    int n = 0;
    bool leading = true;
    int zeros = 0;
    for (char c : text) {
        if (c == 'e' || c == 'E')
            break;
        if (c < '0' || c > '9')
            continue;
        if (leading && c == '0')
            continue;
        leading = false;
        if (c == '0')
            zeros++;
        else {
            n += zeros + 1;
            zeros = 0;
        }
    }
    return n;
}

bool is_numeric(PgClass c)
{
    return c == PgClass::Int || c == PgClass::Float || c == PgClass::Numeric;
}

class Translator {
public:
    explicit Translator(const std::vector<ScopeTable>& scope) : scope_(scope) {}
    std::set<std::string> notes;

    Val value(const Expr& e);
    std::string condition(const Expr& e);

private:
    const std::vector<ScopeTable>& scope_;

    Val column(const Expr& e);
    Val literal(const Expr& e, bool negative);
    Val unary(const Expr& e);
    Val binary(const Expr& e);
    Val arithmetic(const std::string& op, Val l, Val r, const Expr& e);
    Val function(const Expr& e);
    Val cast(const Expr& e);
    std::string compare(const std::string& op, const Val& l, const Val& r);
    std::string in_list(const Expr& e);
    std::string between(const Expr& e);
    std::string like(const Expr& e);
    std::string truth(const Val& v);
    void comparable(const Val& l, const Val& r);
    std::string collation_of(const Val& l, const Val& r);
    std::string operand(const Val& v, const Val& other);
};

Val Translator::column(const Expr& e)
{
    const TargetColumn* found = nullptr;
    const ScopeTable* table = nullptr;
    for (const ScopeTable& t : scope_) {
        if (!e.qualifier.empty() && !sqlite::same_name(e.qualifier, t.alias.empty() ? t.sqlite_name : t.alias) &&
            !(t.alias.empty() && sqlite::same_name(e.qualifier, t.sqlite_name)))
            continue;
        const TargetColumn* c = find_column(t.columns, e.text);
        if (!c)
            continue;
        if (found)
            refuse("column \"" + e.text + "\" is ambiguous");
        found = c;
        table = &t;
    }
    if (!found) {
        if (sqlite::same_name(e.text, "rowid") || sqlite::same_name(e.text, "oid") ||
            sqlite::same_name(e.text, "_rowid_"))
            refuse("the rowid is not a column of the target");
        refuse("column \"" + e.text + "\" has no column in the target");
    }
    if (found->cls == PgClass::Other)
        refuse("column \"" + e.text + "\" has type " + found->type_sql + " in the target, which the translator does not handle");
    Val v{table->pg_ref + quote_ident(found->pg_name), found->cls};
    v.collation = found->collation;
    return v;
}

Val Translator::literal(const Expr& e, bool negative)
{
    switch (e.kind) {
    case K::Integer: {
        Val v{"", PgClass::Int, Lit::Int};
        if (!integer_literal(e.text, negative, &v.value))
            refuse("integer literal " + e.text + " is beyond 64 bits (a REAL in SQLite)");
        v.sql = v.value[0] == '-' ? "(" + v.value + ")" : v.value;
        return v;
    }
    case K::Float: {
        if (significant_digits(e.text) > 15)
            refuse("real literal " + e.text + " has more than 15 significant digits");
        Val v{"", PgClass::Float, Lit::Float};
        v.value = (negative ? "-" : "") + e.text;
        if (v.value.find('.') == 0 || v.value.find("-.") == 0)
            v.value.insert(v.value[0] == '-' ? 1 : 0, "0");
        v.sql = negative ? "(" + v.value + ")" : v.value;
        return v;
    }
    default:
        refuse("not a number");
    }
}

Val Translator::value(const Expr& e)
{
    pg::check_for_interrupts();
    switch (e.kind) {
    case K::Null:
        return Val{"NULL", PgClass::Null, Lit::Null};
    case K::Integer:
    case K::Float:
        return literal(e, false);
    case K::Bool: {
        Val v{e.text, PgClass::Int, Lit::Int};
        v.value = e.text;
        return v;
    }
    case K::String: {
        Val v{quote_literal(e.text), PgClass::Text, Lit::String};
        v.value = e.text;
        return v;
    }
    case K::Blob:
        return Val{"'\\x" + e.text + "'::bytea", PgClass::Bytea};
    case K::Column:
        return column(e);
    case K::Collate: {
        Val v = value(*e.args[0]);
        v.collation = upper(e.text);
        v.explicit_collation = true;
        return v;
    }
    case K::Unary:
        return unary(e);
    case K::Binary:
        return binary(e);
    case K::Function:
        return function(e);
    case K::Cast:
        return cast(e);
    case K::In:
        return Val{in_list(e), PgClass::Bool};
    case K::Between:
        return Val{between(e), PgClass::Bool};
    case K::Like:
        return Val{like(e), PgClass::Bool};
    case K::IsNull: {
        Val v = value(*e.args[0]);
        return Val{"(" + v.sql + (e.negated ? " IS NOT NULL)" : " IS NULL)"), PgClass::Bool};
    }
    case K::CurrentTime:
        refuse(e.text + " outside a DEFAULT is not translated");
    case K::Star:
        refuse("* is not a value");
    }
    refuse("unknown expression");
}

std::string Translator::truth(const Val& v)
{
    switch (v.cls) {
    case PgClass::Bool:
        return v.sql;
    case PgClass::Null:
        return "NULL::boolean";
    case PgClass::Int:
        if (v.lit == Lit::Int)
            return v.value == "0" ? "false" : "true";
        notes.insert("an integer used as a condition is compared with 0, as SQLite's truth test does");
        return "(" + v.sql + " <> 0)";
    default:
        refuse(a_class(v.cls) + " value used as a condition (SQLite tests it as a number)");
    }
}

std::string Translator::condition(const Expr& e)
{
    return truth(value(e));
}

Val Translator::unary(const Expr& e)
{
    const Expr& arg = *e.args[0];
    if (e.text == "NOT")
        return Val{"(NOT " + condition(arg) + ")", PgClass::Bool};
    if (e.text == "-" && (arg.kind == K::Integer || arg.kind == K::Float))
        return literal(arg, true);
    if (e.text == "+")
        return value(arg);
    if (e.text == "~")
        refuse("bitwise ~ is not translated");
    Val v = value(arg);
    if (!is_numeric(v.cls))
        refuse("unary minus on " + a_class(v.cls) + " value");
    if (v.cls == PgClass::Int)
        notes.insert("integer overflow is an error in PostgreSQL where SQLite switches to REAL");
    return Val{"(- " + v.sql + ")", v.cls};
}

/* The PostgreSQL text of one side of a comparison, in the collation SQLite would use. */
std::string Translator::collation_of(const Val& l, const Val& r)
{
    if (l.explicit_collation)
        return l.collation;
    if (r.explicit_collation)
        return r.collation;
    if (!l.collation.empty())
        return l.collation;
    return r.collation;
}

void Translator::comparable(const Val& l, const Val& r)
{
    if (l.cls == PgClass::Null || r.cls == PgClass::Null)
        return;
    if (is_numeric(l.cls) && is_numeric(r.cls))
        return;
    if (l.cls == r.cls && l.cls != PgClass::Other)
        return;
    if ((l.cls == PgClass::Bool && r.lit == Lit::Int && (r.value == "0" || r.value == "1")) ||
        (r.cls == PgClass::Bool && l.lit == Lit::Int && (l.value == "0" || l.value == "1")))
        return;
    refuse("compares " + a_class(l.cls) + " with " + a_class(r.cls) +
           " value, which SQLite's type affinity rules compare differently");
}

std::string Translator::operand(const Val& v, const Val& other)
{
    if (other.cls == PgClass::Bool && v.lit == Lit::Int) {
        notes.insert("0 and 1 compared with a boolean column are false and true");
        return v.value == "0" ? "false" : "true";
    }
    return v.sql;
}

std::string Translator::compare(const std::string& op, const Val& l, const Val& r)
{
    comparable(l, r);
    std::string ls = operand(l, r), rs = operand(r, l);
    bool text = l.cls == PgClass::Text || r.cls == PgClass::Text;
    std::string pgop = op == "IS" ? "IS NOT DISTINCT FROM" : op == "IS NOT" ? "IS DISTINCT FROM" : op;
    if (text) {
        std::string coll = collation_of(l, r);
        if (coll == "NOCASE") {
            notes.insert("NOCASE comparison as lower(... COLLATE \"C\"): ASCII case folded only, as SQLite's NOCASE");
            return "(lower(" + ls + " COLLATE \"C\") " + pgop + " lower(" + rs + " COLLATE \"C\"))";
        }
        if (!coll.empty() && coll != "BINARY")
            refuse("collation " + coll + " is not translated");
        bool ordering = op == "<" || op == "<=" || op == ">" || op == ">=";
        if (ordering || !l.collation.empty() || !r.collation.empty()) {
            notes.insert("text compared in COLLATE \"C\" (byte order, as SQLite's BINARY)");
            return "(" + ls + " COLLATE \"C\" " + pgop + " " + rs + ")";
        }
    }
    return "(" + ls + " " + pgop + " " + rs + ")";
}

std::string Translator::in_list(const Expr& e)
{
    Val l = value(*e.args[0]);
    std::string items;
    bool nocase = false;
    std::vector<Val> vals;
    for (size_t i = 1; i < e.args.size(); i++) {
        Val r = value(*e.args[i]);
        comparable(l, r);
        if (l.cls == PgClass::Text || r.cls == PgClass::Text) {
            std::string coll = collation_of(l, r);
            if (coll == "NOCASE")
                nocase = true;
            else if (!coll.empty() && coll != "BINARY")
                refuse("collation " + coll + " is not translated");
        }
        vals.push_back(std::move(r));
    }
    if (vals.empty())
        return e.negated ? "true" : "false"; /* SQLite's x IN () */
    for (const Val& r : vals) {
        if (!items.empty())
            items += ", ";
        items += nocase ? "lower(" + operand(r, l) + " COLLATE \"C\")" : operand(r, l);
    }
    std::string ls = l.sql;
    if (nocase) {
        notes.insert("NOCASE comparison as lower(... COLLATE \"C\"): ASCII case folded only, as SQLite's NOCASE");
        ls = "lower(" + ls + " COLLATE \"C\")";
    } else if (l.cls == PgClass::Text && !l.collation.empty()) {
        notes.insert("text compared in COLLATE \"C\" (byte order, as SQLite's BINARY)");
        ls += " COLLATE \"C\"";
    }
    return "(" + ls + (e.negated ? " NOT IN (" : " IN (") + items + "))";
}

std::string Translator::between(const Expr& e)
{
    Val x = value(*e.args[0]);
    Val lo = value(*e.args[1]);
    Val hi = value(*e.args[2]);
    /* x BETWEEN lo AND hi is x >= lo AND x <= hi in both, with x's collation */
    std::string a = compare(">=", x, lo), b = compare("<=", x, hi);
    return e.negated ? "(NOT (" + a + " AND " + b + "))" : "(" + a + " AND " + b + ")";
}

std::string glob_to_like(const std::string& glob)
{
    std::string out;
    for (char c : glob) {
        if (c == '*')
            out += '%';
        else if (c == '?')
            out += '_';
        else if (c == '[')
            refuse("GLOB character classes are not translated");
        else {
            if (c == '%' || c == '_' || c == '\\')
                out += '\\';
            out += c;
        }
    }
    return out;
}

std::string Translator::like(const Expr& e)
{
    Val l = value(*e.args[0]);
    if (l.cls != PgClass::Text && l.cls != PgClass::Null)
        refuse(e.text + " on " + a_class(l.cls) + " value (SQLite matches its text)");
    if (e.text == "GLOB") {
        const Expr& pat = *e.args[1];
        if (pat.kind != K::String || e.args.size() > 2)
            refuse("GLOB with a pattern that is not a literal");
        notes.insert("GLOB as LIKE over COLLATE \"C\" (case-sensitive, as GLOB)");
        return "(" + l.sql + " COLLATE \"C\" " + (e.negated ? "NOT LIKE " : "LIKE ") +
               quote_literal(glob_to_like(pat.text)) + " ESCAPE '\\')";
    }
    if (e.text != "LIKE")
        refuse(e.text + " needs an application-defined function in SQLite");
    Val p = value(*e.args[1]);
    if (p.cls != PgClass::Text && p.cls != PgClass::Null)
        refuse("LIKE with a pattern that is not text");
    std::string escape = "''";
    if (e.args.size() > 2) {
        const Expr& esc = *e.args[2];
        if (esc.kind != K::String || esc.text.size() != 1)
            refuse("LIKE ... ESCAPE with other than one ASCII character");
        escape = quote_literal(esc.text);
    }
    notes.insert("LIKE as ILIKE over COLLATE \"C\": SQLite's LIKE folds ASCII case only, and so does ILIKE in the "
                 "\"C\" collation (plain ILIKE would fold non-ASCII letters too; LIKE on a nondeterministic "
                 "collation is an error in PostgreSQL 15); no escape character unless ESCAPE is given, as in SQLite");
    return "(" + l.sql + " COLLATE \"C\" " + (e.negated ? "NOT ILIKE " : "ILIKE ") + p.sql + " ESCAPE " + escape +
           ")";
}

/* A non-zero integer literal other than -1: division and remainder by it agree, and never raise. */
bool safe_divisor(const Val& v)
{
    return v.lit == Lit::Int && v.value != "0" && v.value != "-1";
}

Val Translator::arithmetic(const std::string& op, Val l, Val r, const Expr& e)
{
    if (l.cls == PgClass::Null && r.cls == PgClass::Null)
        return Val{"NULL", PgClass::Null, Lit::Null};
    if ((l.cls == PgClass::Null && is_numeric(r.cls)) || (r.cls == PgClass::Null && is_numeric(l.cls)))
        return Val{"(" + l.sql + " " + op + " " + r.sql + ")", l.cls == PgClass::Null ? r.cls : l.cls};
    if (!is_numeric(l.cls) || !is_numeric(r.cls))
        refuse("arithmetic on " + a_class(is_numeric(l.cls) ? r.cls : l.cls) +
               " value (SQLite converts text to numbers)");
    if (l.cls == PgClass::Numeric || r.cls == PgClass::Numeric)
        refuse("arithmetic on a numeric column: PostgreSQL's numeric is exact, SQLite's REAL arithmetic is binary "
               "floating point");
    bool real = l.cls == PgClass::Float || r.cls == PgClass::Float;
    if (op == "/" || op == "%") {
        if (!safe_divisor(r))
            refuse(std::string(op == "/" ? "division" : "remainder") +
                   " by other than a non-zero integer literal (SQLite gives NULL where PostgreSQL raises)");
        if (op == "%" && real)
            refuse("% on a real value (SQLite takes the integer parts)");
    }
    if (real) {
        /* a literal like 1.5 is numeric in PostgreSQL: made a double so the arithmetic is SQLite's */
        if (l.lit == Lit::Float)
            l.sql = l.value + "::double precision";
        if (r.lit == Lit::Float)
            r.sql = r.value + "::double precision";
        if (l.lit == Lit::Int && r.cls == PgClass::Float && op == "/")
            l.sql = l.value + "::double precision";
        notes.insert("REAL arithmetic in double precision, as SQLite's");
    } else if (op == "+" || op == "-" || op == "*") {
        notes.insert("integer overflow is an error in PostgreSQL where SQLite switches to REAL");
    }
    (void)e;
    return Val{"(" + l.sql + " " + op + " " + r.sql + ")", real ? PgClass::Float : PgClass::Int};
}

Val Translator::binary(const Expr& e)
{
    const std::string& op = e.text;
    if (op == "AND" || op == "OR")
        return Val{"(" + condition(*e.args[0]) + " " + op + " " + condition(*e.args[1]) + ")", PgClass::Bool};
    Val l = value(*e.args[0]);
    Val r = value(*e.args[1]);
    if (op == "=" || op == "<>" || op == "<" || op == "<=" || op == ">" || op == ">=" || op == "IS" ||
        op == "IS NOT")
        return Val{compare(op, l, r), PgClass::Bool};
    if (op == "+" || op == "-" || op == "*" || op == "/" || op == "%")
        return arithmetic(op, std::move(l), std::move(r), e);
    if (op == "||") {
        for (const Val* v : {&l, &r})
            if (v->cls != PgClass::Text && v->cls != PgClass::Int && v->cls != PgClass::Null)
                refuse("|| on " + a_class(v->cls) + " value (SQLite's text of it may differ)");
        std::string ls = l.cls == PgClass::Text ? l.sql : l.sql + "::text";
        std::string rs = r.cls == PgClass::Text ? r.sql : r.sql + "::text";
        return Val{"(" + ls + " || " + rs + ")", PgClass::Text};
    }
    refuse("operator " + op + " is not translated");
}

void arity(const Expr& e, size_t lo, size_t hi)
{
    if (e.args.size() < lo || e.args.size() > hi)
        refuse("function " + e.text + "() with " + std::to_string(e.args.size()) + " arguments");
}

Val Translator::function(const Expr& e)
{
    const std::string& f = e.text;
    if (e.distinct)
        refuse("DISTINCT in " + f + "() is not translated");
    if (f == "lower" || f == "upper") {
        arity(e, 1, 1);
        Val v = value(*e.args[0]);
        if (v.cls != PgClass::Text && v.cls != PgClass::Null)
            refuse(f + "() of " + a_class(v.cls) + " value");
        notes.insert(f + "() over COLLATE \"C\": ASCII letters only, as SQLite's");
        return Val{f + "(" + v.sql + " COLLATE \"C\")", PgClass::Text};
    }
    if (f == "length") {
        arity(e, 1, 1);
        Val v = value(*e.args[0]);
        if (v.cls != PgClass::Text && v.cls != PgClass::Bytea && v.cls != PgClass::Null)
            refuse("length() of " + a_class(v.cls) + " value (SQLite counts the characters of its text)");
        return Val{"length(" + v.sql + ")", PgClass::Int};
    }
    if (f == "substr" || f == "substring") {
        arity(e, 2, 3);
        Val v = value(*e.args[0]);
        if (v.cls != PgClass::Text && v.cls != PgClass::Bytea)
            refuse("substr() of " + a_class(v.cls) + " value");
        Val start = value(*e.args[1]);
        if (start.lit != Lit::Int || start.value[0] == '-' || start.value == "0")
            refuse("substr() with a start that is not a positive integer literal (SQLite counts a negative start "
                   "from the end)");
        std::string sql = "substr(" + v.sql + ", " + start.sql;
        if (e.args.size() == 3) {
            Val len = value(*e.args[2]);
            if (len.lit != Lit::Int || len.value[0] == '-')
                refuse("substr() with a length that is not a non-negative integer literal");
            sql += ", " + len.sql;
        }
        return Val{sql + ")", v.cls};
    }
    if (f == "abs") {
        arity(e, 1, 1);
        Val v = value(*e.args[0]);
        if (!is_numeric(v.cls))
            refuse("abs() of " + a_class(v.cls) + " value");
        return Val{"abs(" + v.sql + ")", v.cls};
    }
    if (f == "coalesce" || f == "ifnull") {
        arity(e, 2, f == "ifnull" ? 2 : 100);
        std::vector<Val> vals;
        PgClass cls = PgClass::Null;
        for (const sqlite::ExprPtr& a : e.args) {
            vals.push_back(value(*a));
            PgClass c = vals.back().cls;
            if (c == PgClass::Null)
                continue;
            if (cls != PgClass::Null && c != cls)
                refuse(f + "() of " + a_class(cls) + " and " + a_class(c) +
                       " value (PostgreSQL converts them to one type)");
            cls = c;
        }
        std::string sql = "coalesce(";
        for (size_t i = 0; i < vals.size(); i++)
            sql += (i ? ", " : "") + vals[i].sql;
        if (f == "ifnull")
            notes.insert("ifnull() as coalesce()");
        return Val{sql + ")", cls};
    }
    if (f == "count" || f == "min" || f == "max" || f == "sum") {
        if (e.args.size() == 1 && e.args[0]->kind == K::Star) {
            if (f != "count")
                refuse(f + "(*)");
            return Val{"count(*)", PgClass::Int};
        }
        arity(e, 1, 1);
        Val v = value(*e.args[0]);
        if (f == "count")
            return Val{"count(" + v.sql + ")", PgClass::Int};
        if (f == "sum") {
            if (v.cls != PgClass::Int)
                refuse("sum() of " + a_class(v.cls) + " value (SQLite sums reals in its own order)");
            notes.insert("sum() of integers is numeric in PostgreSQL (the same value)");
            return Val{"sum(" + v.sql + ")", PgClass::Numeric};
        }
        if (v.cls == PgClass::Text) {
            if (!v.collation.empty() && v.collation != "BINARY")
                refuse(f + "() of a " + v.collation + " column");
            notes.insert("text compared in COLLATE \"C\" (byte order, as SQLite's BINARY)");
            return Val{f + "(" + v.sql + " COLLATE \"C\")", v.cls};
        }
        if (!is_numeric(v.cls) && v.cls != PgClass::Date && v.cls != PgClass::Timestamp &&
            v.cls != PgClass::TimestampTz)
            refuse(f + "() of " + a_class(v.cls) + " value");
        return Val{f + "(" + v.sql + ")", v.cls};
    }
    refuse("function " + f + "() has no translation");
}

Val Translator::cast(const Expr& e)
{
    Val v = value(*e.args[0]);
    std::string t = upper(e.text);
    bool to_int = t.find("INT") != std::string::npos;
    bool to_text = !to_int && (t.find("CHAR") != std::string::npos || t.find("CLOB") != std::string::npos ||
                               t.find("TEXT") != std::string::npos);
    bool to_real = !to_int && !to_text &&
                   (t.find("REAL") != std::string::npos || t.find("FLOA") != std::string::npos ||
                    t.find("DOUB") != std::string::npos);
    if (to_int && v.cls == PgClass::Int)
        return v;
    if (to_text && v.cls == PgClass::Text)
        return v;
    if (to_text && v.cls == PgClass::Int)
        return Val{"(" + v.sql + ")::text", PgClass::Text};
    if (to_real && (v.cls == PgClass::Float || v.cls == PgClass::Int))
        return Val{"(" + v.sql + ")::double precision", PgClass::Float};
    refuse("CAST of " + a_class(v.cls) + " value AS " + e.text + " (SQLite's CAST rules differ)");
}

Translation finish(Translator& t, std::string sql, PgClass cls)
{
    return Translation{std::move(sql), cls, std::move(t.notes)};
}

/* --- defaults --------------------------------------------------------------------------------- */

/* SQLite's strftime format as a to_char format (literal text in double quotes); refuses what has no equivalent. */
std::string to_char_format(const std::string& fmt)
{
    std::string out, lit;
    auto flush = [&] {
        if (lit.empty())
            return;
        out += '"';
        for (char c : lit) {
            if (c == '"' || c == '\\')
                out += '\\';
            out += c;
        }
        out += '"';
        lit.clear();
    };
    for (size_t i = 0; i < fmt.size(); i++) {
        if (fmt[i] != '%') {
            lit += fmt[i];
            continue;
        }
        if (++i >= fmt.size())
            refuse("strftime format ends in %");
        const char* part = nullptr;
        switch (fmt[i]) {
        case 'Y': part = "YYYY"; break;
        case 'm': part = "MM"; break;
        case 'd': part = "DD"; break;
        case 'H': part = "HH24"; break;
        case 'M': part = "MI"; break;
        case 'S': part = "SS"; break;
        case 'f': part = "SS.MS"; break;
        case 'j': part = "DDD"; break;
        case '%': lit += '%'; continue;
        default:
            refuse(std::string("strftime format %") + fmt[i] + " is not translated");
        }
        flush();
        out += part;
    }
    flush();
    return out;
}

const char* const kUtcNow = "(statement_timestamp() AT TIME ZONE 'UTC')";
const char* const kNowNote =
    "SQLite takes 'now' once per statement, in UTC, to the second: statement_timestamp() in UTC";

/* The 'now' kind of a default: CURRENT_* or datetime/date/time/strftime(..., 'now'); "" when not one. */
std::string now_kind(const Expr& e, std::string* format)
{
    if (e.kind == K::CurrentTime)
        return e.text == "CURRENT_TIME" ? "time" : e.text == "CURRENT_DATE" ? "date" : "datetime";
    if (e.kind != K::Function)
        return "";
    const std::string& f = e.text;
    size_t first = f == "strftime" ? 1 : 0;
    if ((f != "datetime" && f != "date" && f != "time" && f != "strftime") || e.args.size() != first + 1)
        return "";
    const Expr& arg = *e.args[first];
    if (arg.kind != K::String || !sqlite::same_name(arg.text, "now"))
        return "";
    if (f == "strftime") {
        if (e.args[0]->kind != K::String)
            return "";
        *format = e.args[0]->text;
    }
    return f;
}

bool integral_text(const std::string& s)
{
    size_t i = s[0] == '-' ? 1 : 0;
    if (i >= s.size() || (s[i] == '0' && s.size() > i + 1))
        return false;
    for (; i < s.size(); i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

bool decimal_text(const std::string& s)
{
    size_t dot = s.find('.');
    if (dot == std::string::npos)
        return integral_text(s);
    std::string ip = s.substr(0, dot), fp = s.substr(dot + 1);
    if (fp.empty() || (!ip.empty() && ip != "-" && !integral_text(ip)) || ip.empty())
        return false;
    for (char c : fp)
        if (c < '0' || c > '9')
            return false;
    return fp.back() != '0';
}

/* Does a decimal (no exponent) fit the integer type's range? */
bool fits_integer(const std::string& digits, Oid typid)
{
    errno = 0;
    char* end = nullptr;
    long long v = strtoll(digits.c_str(), &end, 10);
    if (errno != 0 || *end)
        return false;
    if (typid == INT2OID)
        return v >= -32768 && v <= 32767;
    if (typid == INT4OID)
        return v >= INT32_MIN && v <= INT32_MAX;
    return true;
}

/* Does a plain decimal fit numeric(p, s) without rounding? */
bool fits_numeric(const std::string& dec, int32 typmod)
{
    if (typmod < 0)
        return true;
    int precision = ((typmod - VARHDRSZ) >> 16) & 0xffff;
    int scale = (((typmod - VARHDRSZ) & 0x7ff) ^ 1024) - 1024;
    std::string d = dec[0] == '-' ? dec.substr(1) : dec;
    size_t dot = d.find('.');
    std::string ip = dot == std::string::npos ? d : d.substr(0, dot);
    std::string fp = dot == std::string::npos ? "" : d.substr(dot + 1);
    while (!fp.empty() && fp.back() == '0')
        fp.pop_back();
    size_t lead = ip.find_first_not_of('0');
    int int_digits = lead == std::string::npos ? 0 : static_cast<int>(ip.size() - lead);
    return static_cast<int>(fp.size()) <= scale && int_digits <= precision - scale;
}

size_t utf8_chars(const std::string& s)
{
    size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xc0) != 0x80)
            n++;
    return n;
}

/* Does the text fit a varchar(n) target without being cut? */
bool fits_text(const std::string& s, const TargetColumn& c)
{
    return !(c.typid == VARCHAROID && c.typmod > VARHDRSZ && utf8_chars(s) > static_cast<size_t>(c.typmod - VARHDRSZ));
}

Translation made(std::string sql, const char* note = nullptr)
{
    Translation t{std::move(sql), PgClass::Other, {}};
    if (note)
        t.notes.insert(note);
    return t;
}

Translation default_now(const std::string& kind, const std::string& format, const TargetColumn& c)
{
    std::string now = kUtcNow;
    if (c.cls == PgClass::Text) {
        std::string f = kind == "datetime" ? "YYYY-MM-DD HH24:MI:SS"
                        : kind == "date"   ? "YYYY-MM-DD"
                        : kind == "time"   ? "HH24:MI:SS"
                                           : to_char_format(format);
        return made("to_char(" + now + ", " + quote_literal(f) + ")",
                    "SQLite writes this text in UTC: to_char() of statement_timestamp() in UTC, in SQLite's format");
    }
    if (kind == "datetime" && c.cls == PgClass::TimestampTz)
        return made("date_trunc('second', statement_timestamp())", kNowNote);
    if (kind == "datetime" && c.cls == PgClass::Timestamp)
        return made("date_trunc('second', " + now + ")", kNowNote);
    if (kind == "date" && c.cls == PgClass::Date)
        return made("(" + now + ")::date", kNowNote);
    if (kind == "time" && c.cls == PgClass::Time)
        return made("(date_trunc('second', " + now + "))::time", kNowNote);
    refuse("a " + (kind == "strftime" ? std::string("strftime()") : kind) + " default on a column of type " + c.type_sql +
           " has no exact translation");
}

}  // namespace

Translation translate_value(const Expr& e, const std::vector<ScopeTable>& scope)
{
    Translator t(scope);
    Val v = t.value(e);
    return finish(t, v.sql, v.cls);
}

Translation translate_condition(const Expr& e, const std::vector<ScopeTable>& scope)
{
    Translator t(scope);
    std::string sql = t.condition(e);
    return finish(t, sql, PgClass::Bool);
}

Translation translate_order_term(const Expr& e, bool desc, const std::string& nulls,
                                 const std::vector<ScopeTable>& scope)
{
    Translator t(scope);
    Val v = t.value(e);
    std::string sql = v.sql;
    if (v.cls == PgClass::Text) {
        if (v.collation == "NOCASE") {
            sql = "lower(" + sql + " COLLATE \"C\")";
            t.notes.insert("NOCASE order as lower(... COLLATE \"C\")");
        } else if (!v.collation.empty() && v.collation != "BINARY") {
            refuse("ORDER BY in collation " + v.collation);
        } else {
            sql += " COLLATE \"C\"";
            t.notes.insert("text ordered in COLLATE \"C\" (byte order, as SQLite's BINARY)");
        }
    }
    if (desc)
        sql += " DESC";
    std::string n = nulls.empty() ? (desc ? "LAST" : "FIRST") : nulls;
    if (nulls.empty())
        t.notes.insert("NULLs sort first ascending in SQLite: NULLS FIRST / LAST written out");
    sql += " NULLS " + n;
    return finish(t, sql, v.cls);
}

Translation translate_default(const std::string& sqlite_default, const TargetColumn& c)
{
    sqlite::ExprPtr parsed;
    try {
        parsed = sqlite::parse_expression(sqlite_default);
    } catch (const sqlite::ParseError& e) {
        refuse(std::string("the DEFAULT does not parse: ") + e.what());
    }
    const Expr* e = parsed.get();
    bool negative = false;
    if (e->kind == K::Unary && (e->text == "-" || e->text == "+") &&
        (e->args[0]->kind == K::Integer || e->args[0]->kind == K::Float)) {
        negative = e->text == "-";
        e = e->args[0].get();
    }
    std::string format;
    std::string now = now_kind(*e, &format);
    if (!now.empty())
        return default_now(now, format, c);
    std::string what = "DEFAULT " + sqlite_default;
    switch (e->kind) {
    case K::Null:
        return made("NULL");
    case K::Bool:
    case K::Integer: {
        std::string digits;
        if (e->kind == K::Bool)
            digits = e->text;
        else if (!integer_literal(e->text, negative, &digits))
            refuse(what + " is beyond 64 bits");
        switch (c.cls) {
        case PgClass::Int:
            if (!fits_integer(digits, c.typid))
                refuse(what + " does not fit in " + c.type_sql);
            return e->kind == K::Bool ? made(digits, "TRUE / FALSE are 1 / 0 in SQLite") : made(digits);
        case PgClass::Numeric:
            if (!fits_numeric(digits, c.typmod))
                refuse(what + " does not fit in " + c.type_sql);
            return made(digits);
        case PgClass::Float:
            return made(digits);
        case PgClass::Bool:
            if (digits != "0" && digits != "1")
                refuse(what + " is not 0 or 1 on a boolean column");
            return e->kind == K::Bool ? made(digits == "1" ? "true" : "false")
                                      : made(digits == "1" ? "true" : "false", "1 / 0 on a boolean column are true / false");
        case PgClass::Text:
            if (!fits_text(digits, c))
                refuse(what + " is longer than " + c.type_sql);
            return made(quote_literal(digits), "SQLite stores the number's text in a text column");
        default:
            refuse(what + " on a column of type " + c.type_sql + " has no exact translation");
        }
    }
    case K::Float: {
        if (significant_digits(e->text) > 15)
            refuse(what + " has more than 15 significant digits");
        std::string v = (negative ? "-" : "") + e->text;
        if (v.find('.') == 0 || v.find("-.") == 0)
            v.insert(v[0] == '-' ? 1 : 0, "0");
        bool plain = v.find_first_of("eE") == std::string::npos;
        switch (c.cls) {
        case PgClass::Float:
            return made(v);
        case PgClass::Numeric:
            if (!plain || !fits_numeric(v, c.typmod))
                refuse(what + " does not fit in " + c.type_sql + " exactly");
            return made(v);
        case PgClass::Int: {
            size_t dot = v.find('.');
            if (!plain || dot == std::string::npos || v.find_first_not_of('0', dot + 1) != std::string::npos)
                refuse(what + " is not a whole number for an integer column");
            std::string whole = v.substr(0, dot);
            if (whole.empty() || whole == "-" || whole == "-0")
                whole = "0";
            if (!fits_integer(whole, c.typid))
                refuse(what + " does not fit in " + c.type_sql);
            return made(whole, "a whole REAL default is stored as an integer");
        }
        default:
            refuse(what + " on a column of type " + c.type_sql + " (SQLite's text of a REAL differs)");
        }
    }
    case K::String: {
        const std::string& s = e->text;
        switch (c.cls) {
        case PgClass::Text:
            if (!fits_text(s, c))
                refuse(what + " is longer than " + c.type_sql);
            return made(quote_literal(s));
        case PgClass::Int:
            if (!integral_text(s) || !fits_integer(s, c.typid))
                refuse(what + " does not convert to " + c.type_sql + " exactly");
            return made(s, "SQLite's numeric affinity stores this text as the number");
        case PgClass::Numeric:
        case PgClass::Float:
            if (!decimal_text(s) || significant_digits(s) > 15 || (c.cls == PgClass::Numeric && !fits_numeric(s, c.typmod)))
                refuse(what + " does not convert to " + c.type_sql + " exactly");
            return made(s, "SQLite's numeric affinity stores this text as the number");
        case PgClass::Bool:
            if (s != "0" && s != "1")
                refuse(what + " does not convert to boolean exactly");
            return made(s == "1" ? "true" : "false", "'1' / '0' on a boolean column are true / false");
        default:
            refuse(what + " on a column of type " + c.type_sql + " has no exact translation");
        }
    }
    case K::Blob:
        if (c.cls != PgClass::Bytea)
            refuse(what + " on a column of type " + c.type_sql);
        return made("'\\x" + e->text + "'::bytea");
    default:
        refuse(what + ": only literals and the current date/time are translated as defaults");
    }
}

}  // namespace recio

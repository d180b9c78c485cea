/*
 * sql_text.cpp: SQLite quoting of identifiers and string literals (see
 * sql_text.h).  The rule lives once, in quote_into; the entry points differ
 * only in where the characters go.
 */
#include "sqlite/sql_text.h"

namespace recio::sqlite {
namespace {

/* quote + text with every quote doubled + quote, one character at a time into put */
template <typename Put>
void quote_into(const char* text, char quote, Put put)
{
    put(quote);
    for (const char* p = text; *p; p++) {
        if (*p == quote)
            put(quote);
        put(*p);
    }
    put(quote);
}

}  // namespace

std::string quote_ident(const char* name)
{
    std::string out;
    quote_into(name, '"', [&](char c) { out += c; });
    return out;
}

std::string quote_literal(const char* text)
{
    std::string out;
    quote_into(text, '\'', [&](char c) { out += c; });
    return out;
}

void append_quoted_ident(StringInfo buf, const char* name)
{
    quote_into(name, '"', [&](char c) { appendStringInfoChar(buf, c); });
}

void append_quoted_literal(StringInfo buf, const char* text)
{
    quote_into(text, '\'', [&](char c) { appendStringInfoChar(buf, c); });
}

}  // namespace recio::sqlite

/*
 * sql_text.h: how names and strings are written into SQLite SQL text.  One
 * quoting rule (the quote character doubled inside the quotes), used by the
 * deparser (into a StringInfo, under pg::call) and by the C++ callers that
 * build statements in std::string.
 */
#pragma once

extern "C" {
#include "postgres.h"
#include "lib/stringinfo.h"
}

#include <string>

namespace recio::sqlite {

/* "name" with embedded double quotes doubled: a SQLite identifier. */
std::string quote_ident(const char* name);
std::string quote_literal(const char* text);

/*
 * The same into a StringInfo, and 'text' with embedded single quotes doubled:
 * a SQLite string literal.  These call appendStringInfo*: run them under
 * pg::call (the deparser does).
 */
void append_quoted_ident(StringInfo buf, const char* name);
void append_quoted_literal(StringInfo buf, const char* text);

}  // namespace recio::sqlite

/*
 * error_boundary.cpp: the out-of-line half of the C++/PostgreSQL error
 * boundary (see error_boundary.h for the rule).
 */
#include "common/error_boundary.h"

extern "C" {
#include "utils/memutils.h"
}

#include <cstdarg>
#include <cstring>

namespace recio {

std::string format(const char* fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return std::string();
    if (static_cast<size_t>(n) < sizeof buf)
        return std::string(buf, static_cast<size_t>(n));
    std::string out(static_cast<size_t>(n) + 1, '\0');
    va_start(ap, fmt);
    vsnprintf(&out[0], out.size(), fmt, ap);
    va_end(ap);
    out.resize(static_cast<size_t>(n));
    return out;
}

namespace detail {

static void copy_text(char* dst, size_t cap, const char* src) noexcept
{
    if (!src) {
        dst[0] = '\0';
        return;
    }
    size_t n = strlen(src);
    if (n >= cap) {
        /* Cut on a UTF-8 character boundary so the message stays valid. */
        n = cap - 1;
        while (n > 0 && (static_cast<unsigned char>(src[n]) & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void capture(PendingError& out, const Error& e) noexcept
{
    out.sqlstate = e.sqlstate();
    out.where = e.where();
    copy_text(out.message, sizeof out.message, e.message().c_str());
    copy_text(out.detail, sizeof out.detail, e.detail().c_str());
    copy_text(out.hint, sizeof out.hint, e.hint().c_str());
    copy_text(out.context, sizeof out.context, e.context.c_str());
}

void capture(PendingError& out, int sqlstate, const char* message, SourceLocation where) noexcept
{
    out.sqlstate = sqlstate;
    out.where = where;
    copy_text(out.message, sizeof out.message, message);
    out.detail[0] = out.hint[0] = out.context[0] = '\0';
}

/* ereport(ERROR) with the location where the error was raised, not this one */
void raise(const PendingError& e)
{
    if (errstart(ERROR, TEXTDOMAIN)) {
        errcode(e.sqlstate);
        errmsg_internal("%s", e.message);
        if (e.detail[0])
            errdetail_internal("%s", e.detail);
        if (e.hint[0])
            errhint("%s", e.hint);
        if (e.context[0])
            errcontext("%s", e.context);
        errfinish(e.where.file, e.where.line, e.where.func);
    }
    pg_unreachable();
}

void rethrow_pg(ErrorData* data)
{
    ReThrowError(data);
}

}  // namespace detail

namespace pg {

void* alloc(Size size)
{
    if (!AllocSizeIsValid(size))
        throw Error(ERRCODE_PROGRAM_LIMIT_EXCEEDED, format("value of %zu bytes exceeds the maximum of %zu bytes", size,
                                                           static_cast<size_t>(MaxAllocSize)));
    void* p = palloc_extended(size, MCXT_ALLOC_NO_OOM);
    if (!p)
        throw std::bad_alloc();
    return p;
}

void* alloc_zero(Size size)
{
    void* p = alloc(size);
    memset(p, 0, size);
    return p;
}

char* strdup(const char* s)
{
    size_t n = strlen(s) + 1;
    char* p = static_cast<char*>(alloc(n));
    memcpy(p, s, n);
    return p;
}

}  // namespace pg
}  // namespace recio

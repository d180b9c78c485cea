/*
 * error_boundary.h: the one rule that keeps the server alive.
 *
 * PostgreSQL reports errors with ereport(), which longjmp()s; C++ unwinds
 * with exceptions.  Mixed carelessly, an exception escapes into C (undefined
 * behaviour, usually a crashed backend and a cluster restart) or a longjmp
 * skips C++ destructors (leaked statements, leaked memory).  recio_migrate
 * uses exactly two crossings:
 *
 *  - Outer guard, recio::guarded(fn): every extern "C" function PostgreSQL
 *    calls is a one-line shim into guarded().  It runs the C++ body inside
 *    try, catches everything, copies the message into trivially destructible
 *    storage, leaves the catch block, and only then calls ereport() with a
 *    real SQLSTATE.  An error that came from PostgreSQL (recio::PgError) is
 *    re-thrown unchanged, with its SQLSTATE, detail, hint and context.
 *
 *  - Inner guard, recio::pg::call(fn): C++ code that calls a PostgreSQL
 *    function which may ereport() does so through pg::call, which sets its own
 *    sigsetjmp point, restores the error-context stack and memory context,
 *    copies the ErrorData and throws recio::PgError.  The lambda passed to
 *    pg::call must not own objects with destructors: a longjmp out of it
 *    would skip them.
 *
 * A small, documented set of PostgreSQL calls that cannot ereport (e.g.
 * palloc_extended with MCXT_ALLOC_NO_OOM after a size check, pg_verify_mbstr
 * with noError) is made directly, for speed on the per-row path.
 */
#pragma once

extern "C" {
#include "postgres.h"
#include "miscadmin.h"
#include "utils/elog.h"
}

#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

namespace recio {

/*
 * Where an error was raised, for the server log's LOCATION line.  The
 * defaults are evaluated at the call site (GCC and Clang builtins; C++17 has
 * no std::source_location), so `throw Error(...)` records the line of the
 * throw, and a helper that builds an Error for its callers takes a
 * SourceLocation parameter defaulted the same way and passes it on.
 */
struct SourceLocation {
    const char* file;
    int line;
    const char* func;
    static constexpr SourceLocation here(const char* file = __builtin_FILE(), int line = __builtin_LINE(),
                                         const char* func = __builtin_FUNCTION()) noexcept
    {
        return SourceLocation{file, line, func};
    }
};

/* An error raised by recio_migrate's own C++ code. */
class Error : public std::exception {
public:
    Error(int sqlstate, std::string message, std::string detail = {}, std::string hint = {},
          SourceLocation where = SourceLocation::here())
        : sqlstate_(sqlstate),
          message_(std::move(message)),
          detail_(std::move(detail)),
          hint_(std::move(hint)),
          where_(where)
    {
    }
    const char* what() const noexcept override { return message_.c_str(); }
    int sqlstate() const { return sqlstate_; }
    const std::string& message() const { return message_; }
    const std::string& detail() const { return detail_; }
    const std::string& hint() const { return hint_; }
    const SourceLocation& where() const { return where_; }
    std::string context;

private:
    int sqlstate_;
    std::string message_;
    std::string detail_;
    std::string hint_;
    SourceLocation where_;
};

/* An error raised by PostgreSQL inside pg::call; owns a copied ErrorData. */
class PgError : public std::exception {
public:
    explicit PgError(ErrorData* data) : data_(data) {}
    const char* what() const noexcept override { return data_->message ? data_->message : "error"; }
    ErrorData* data() const { return data_; }
    int sqlstate() const { return data_->sqlerrcode; }

private:
    ErrorData* data_; /* palloc'd in the caller's memory context */
};

/* printf-style helper for building messages in C++. */
std::string format(const char* fmt, ...) pg_attribute_printf(1, 2);

namespace detail {

/* Plain storage for an error on its way out of a catch block. */
struct PendingError {
    int sqlstate;
    SourceLocation where; /* string literals: valid after the catch block */
    char message[1024];
    char detail[2048];
    char hint[512];
    char context[1024];
};

void capture(PendingError& out, const Error& e) noexcept;
void capture(PendingError& out, int sqlstate, const char* message,
             SourceLocation where = SourceLocation::here()) noexcept;
[[noreturn]] void raise(const PendingError& e);
[[noreturn]] void rethrow_pg(ErrorData* data);

}  // namespace detail

namespace detail {

/* Run fn; on any exception fill pending (or pg_error) and return false. */
template <typename Fn>
bool run_catching(Fn&& fn, PendingError& pending, ErrorData*& pg_error) noexcept
{
    try {
        fn();
        return true;
    } catch (const PgError& e) {
        pg_error = e.data();
    } catch (const Error& e) {
        capture(pending, e);
    } catch (const std::bad_alloc&) {
        capture(pending, ERRCODE_OUT_OF_MEMORY, "out of memory");
    } catch (const std::exception& e) {
        capture(pending, ERRCODE_INTERNAL_ERROR, e.what());
    } catch (...) {
        capture(pending, ERRCODE_INTERNAL_ERROR, "unexpected C++ exception");
    }
    return false;
}

}  // namespace detail

/*
 * Outer guard.  Returns fn()'s result, or raises a PostgreSQL ERROR.  Never
 * lets a C++ exception escape: the ERROR is raised after every catch block
 * has been left.
 */
template <typename Fn>
auto guarded(Fn&& fn) noexcept -> decltype(fn())
{
    using R = decltype(fn());
    detail::PendingError pending;
    ErrorData* pg_error = nullptr;
    if constexpr (std::is_void_v<R>) {
        if (detail::run_catching(fn, pending, pg_error))
            return;
    } else {
        R result{};
        if (detail::run_catching([&] { result = fn(); }, pending, pg_error))
            return result;
    }
    if (pg_error)
        detail::rethrow_pg(pg_error);
    detail::raise(pending);
}

namespace pg {

/*
 * Inner guard: run fn (which calls PostgreSQL) and turn a PostgreSQL ERROR
 * into a thrown PgError.  fn must not own objects with destructors.
 */
template <typename Fn>
auto call(Fn&& fn) -> decltype(fn())
{
    using R = decltype(fn());
    MemoryContext volatile saved_cxt = CurrentMemoryContext;
    ErrorContextCallback* volatile saved_ctx_stack = error_context_stack;
    sigjmp_buf* volatile saved_jmp = PG_exception_stack;
    sigjmp_buf local_jmp;
    /* fn may also throw (pg::alloc, a nested pg::call): never leave our jump point installed */
    if constexpr (std::is_void_v<R>) {
        if (sigsetjmp(local_jmp, 0) == 0) {
            PG_exception_stack = &local_jmp;
            try {
                fn();
            } catch (...) {
                PG_exception_stack = saved_jmp;
                throw;
            }
            PG_exception_stack = saved_jmp;
            return;
        }
    } else {
        if (sigsetjmp(local_jmp, 0) == 0) {
            PG_exception_stack = &local_jmp;
            try {
                R result = fn();
                PG_exception_stack = saved_jmp;
                return result;
            } catch (...) {
                PG_exception_stack = saved_jmp;
                throw;
            }
        }
    }
    PG_exception_stack = saved_jmp;
    error_context_stack = saved_ctx_stack;
    MemoryContextSwitchTo(saved_cxt);
    ErrorData* data = CopyErrorData();
    FlushErrorState();
    throw PgError(data);
}

/* CHECK_FOR_INTERRUPTS() from C++: cheap test, guarded slow path. */
inline void check_for_interrupts()
{
    if (unlikely(INTERRUPTS_PENDING_CONDITION()))
        call([] { ProcessInterrupts(); });
}

/* palloc that throws std::bad_alloc instead of longjmp'ing. */
void* alloc(Size size);
void* alloc_zero(Size size);
char* strdup(const char* s);

}  // namespace pg

}  // namespace recio

/*
 * Declare an extern "C" SQL-callable function whose body is C++ run under
 * the outer guard:  RECIO_FUNCTION(recio_foo) { ... return datum; }
 */
#define RECIO_FUNCTION(name)                                                   \
    static Datum name##_impl(FunctionCallInfo fcinfo);                         \
    extern "C" {                                                               \
    PGDLLEXPORT Datum name(PG_FUNCTION_ARGS);                                  \
    PG_FUNCTION_INFO_V1(name);                                                 \
    }                                                                          \
    Datum name(PG_FUNCTION_ARGS)                                               \
    {                                                                          \
        return recio::guarded([&]() -> Datum { return name##_impl(fcinfo); }); \
    }                                                                          \
    static Datum name##_impl(FunctionCallInfo fcinfo)

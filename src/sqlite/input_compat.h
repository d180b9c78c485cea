/*
 * input_compat.h: the version-specific calls of value conversion, behind
 * small helpers so the rest of value_convert.cpp reads the same on every
 * PostgreSQL major version.
 *
 *  - soft_input(): a type input function whose ERROR the caller carries on
 *    from.  PostgreSQL 15 has no soft input errors, so the call runs in an
 *    internal subtransaction that is rolled back on failure, as PL/pgSQL's
 *    exception blocks do (locks, buffer pins, memory and interrupt holdoff of
 *    the failed function are released by the rollback).  16 and later report
 *    a data error through an ErrorSaveContext (InputFunctionCallSafe); an
 *    input function that still raises hard then stops the statement.
 *  - in_subtransaction(): any PostgreSQL call whose ERROR is carried on from
 *    (domain constraints, which may run user functions).
 *  - adjust_timestamp_typmod(): rounding to a timestamp precision without
 *    raising on overflow.
 */
#pragma once

#include "common/error_boundary.h"

extern "C" {
#include "access/xact.h"
#include "fmgr.h"
#include "utils/datetime.h"
#include "utils/resowner.h"
#if PG_VERSION_NUM >= 160000
#include "nodes/miscnodes.h"
#endif
}

namespace recio {
namespace compat {

/*
 * Run fn (PostgreSQL calls only: no objects with destructors) in an internal
 * subtransaction.  On success the subtransaction is released and nullptr
 * returned; on an ERROR it is rolled back and the error, copied into the
 * caller's memory context, returned.  The caller's memory context and
 * resource owner are current again either way, so what fn allocated there
 * (the converted value) survives, and so do the caller's own contexts,
 * statements and SPI connections, which were made outside it.  A C++
 * exception from fn rolls back too and is re-thrown.
 */
template <typename Fn>
ErrorData* in_subtransaction(Fn&& fn)
{
    MemoryContext cxt = CurrentMemoryContext;
    ResourceOwner owner = CurrentResourceOwner;
    auto restore = [&] {
        MemoryContextSwitchTo(cxt);
        CurrentResourceOwner = owner;
    };
    /* PostgreSQL 15 starts no subtransaction in parallel mode (a plan with a Gather, force_parallel_mode) */
    if (IsInParallelMode())
        throw Error(ERRCODE_FEATURE_NOT_SUPPORTED,
                    "a value that needs its type's input function cannot be checked under on_error in a parallel "
                    "query",
                    "Handling its error needs a subtransaction, which PostgreSQL does not start in parallel mode.",
                    "Run the query with max_parallel_workers_per_gather = 0 and force_parallel_mode = off, or set "
                    "on_error to 'stop'.");
    pg::call([] { BeginInternalSubTransaction(NULL); });
    MemoryContextSwitchTo(cxt); /* fn's allocations belong to the caller, not to the subtransaction */
    ErrorData* failed = nullptr;
    try {
        pg::call(fn);
    } catch (const PgError& e) {
        failed = e.data(); /* copied by pg::call in cxt, before the rollback */
    } catch (...) {
        pg::call([] { RollbackAndReleaseCurrentSubTransaction(); });
        restore();
        throw;
    }
    if (failed)
        pg::call([] { RollbackAndReleaseCurrentSubTransaction(); });
    else
        pg::call([] { ReleaseCurrentSubTransaction(); });
    restore();
    return failed;
}

/* InputFunctionCall whose ERROR is returned instead of raised (see the file comment). */
inline ErrorData* soft_input(FmgrInfo* input, char* text, Oid ioparam, int32 typmod, Datum* out)
{
#if PG_VERSION_NUM >= 160000
    ErrorSaveContext escontext = {T_ErrorSaveContext};
    escontext.details_wanted = true;
    bool ok = pg::call(
        [&] { return InputFunctionCallSafe(input, text, ioparam, typmod, reinterpret_cast<Node*>(&escontext), out); });
    return ok ? nullptr : escontext.error_data;
#else
    return in_subtransaction([&] { *out = InputFunctionCall(input, text, ioparam, typmod); });
#endif
}

/* Round *time to typmod's precision; false when the result is out of range. */
inline bool adjust_timestamp_typmod(Timestamp* time, int32 typmod)
{
#if PG_VERSION_NUM >= 160000
    ErrorSaveContext escontext = {T_ErrorSaveContext};
    return pg::call([&] { return AdjustTimestampForTypmod(time, typmod, reinterpret_cast<Node*>(&escontext)); });
#else
    bool error = false;
    pg::call([&] { AdjustTimestampForTypmodError(time, typmod, &error); });
    return !error;
#endif
}

}  // namespace compat
}  // namespace recio

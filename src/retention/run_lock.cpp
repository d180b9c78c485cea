/*
 * run_lock.cpp: the lock of run_retention(), a session-level advisory lock
 * that is given back when a transaction of its session aborts.
 *
 * run_retention() commits between batches, so its lock cannot be a
 * transaction lock; and a PL/pgSQL procedure that commits cannot catch an
 * error or a cancel to unlock.  A plain session lock therefore outlived a
 * cancelled run for the rest of its session, and every later run (pg_cron's
 * included) found it taken.  This lock is released by the end of the run, by
 * an abort of any top-level transaction of the session while it is held (an
 * error, a cancel, a statement timeout, a ROLLBACK), and by the end of the
 * session.  It is the two-int4 advisory lock (class, object) of
 * recio_migrate's key space (lock_class() in the SQL), so pg_locks shows it
 * as any other advisory lock.
 */
#include "common/error_boundary.h"

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
#include "storage/lock.h"
}

namespace recio {
namespace {

LOCKTAG held_tag;
bool held = false;
bool callback_registered = false;

/* never raises: it runs inside AbortTransaction */
void release_held()
{
    if (!held)
        return;
    held = false;
    if (LockHeldByMe(&held_tag, ExclusiveLock))
        LockRelease(&held_tag, ExclusiveLock, true);
}

void on_xact_event(XactEvent event, void*)
{
    if (event == XACT_EVENT_ABORT)
        release_held();
}

}  // namespace
}  // namespace recio

/* retention_run_lock_acquire(lock_class integer, lock_object integer): true when this session now holds it */
RECIO_FUNCTION(recio_retention_run_lock_acquire)
{
    using namespace recio;
    uint32 cls = static_cast<uint32>(PG_GETARG_INT32(0));
    uint32 obj = static_cast<uint32>(PG_GETARG_INT32(1));
    /* pg_advisory_unlock(cls, obj), pg_advisory_unlock_all() or DISCARD ALL may have given it back */
    if (held && !LockHeldByMe(&held_tag, ExclusiveLock))
        held = false;
    if (held)
        return BoolGetDatum(held_tag.locktag_field2 == cls && held_tag.locktag_field3 == obj);
    if (!callback_registered) {
        pg::call([] { RegisterXactCallback(on_xact_event, nullptr); });
        callback_registered = true;
    }
    LOCKTAG tag;
    SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, cls, obj, 2);
    LockAcquireResult r = pg::call([&] { return LockAcquire(&tag, ExclusiveLock, true, true); });
    if (r == LOCKACQUIRE_NOT_AVAIL)
        return BoolGetDatum(false);
    held_tag = tag;
    held = true;
    return BoolGetDatum(true);
}

/* retention_run_lock_release(): gives the lock back; false when it was not held */
RECIO_FUNCTION(recio_retention_run_lock_release)
{
    using namespace recio;
    bool was_held = held;
    pg::call([] { release_held(); });
    return BoolGetDatum(was_held);
}

/*
 * readonly_vfs.cpp: the VFS shim of readonly_vfs.h.  Only xOpen and xDelete
 * differ from the default VFS; the sqlite3_file objects are the default
 * VFS's own (same size, same io methods), so locking, shared memory and
 * SQLite's handling of POSIX advisory locks stay exactly as SQLite has them.
 */
#include "sqlite/readonly_vfs.h"

#include <sqlite3.h>

namespace recio::sqlite {
namespace {

sqlite3_vfs* g_base = nullptr; /* the default VFS, which does the work */
sqlite3_vfs g_vfs;             /* ours; registered once per backend */
bool g_registered = false;

constexpr int kNamedFiles =
    SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_WAL | SQLITE_OPEN_SUPER_JOURNAL;

/*
 * A file next to the legacy file (or the file itself): read-only, never
 * created.  SQLite opens a missing -wal with READWRITE|CREATE even on a
 * read-only connection; here it fails with SQLITE_CANTOPEN instead, which
 * the connection cache turns into a clear error.  The -wal is then marked
 * read-only (pOutFlags), so SQLite reads it through its read-only WAL path.
 */
int ro_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags)
{
    if (name && (flags & kNamedFiles)) {
        flags &= ~(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXCLUSIVE | SQLITE_OPEN_DELETEONCLOSE);
        flags |= SQLITE_OPEN_READONLY;
    }
    return g_base->xOpen(g_base, name, file, flags, out_flags);
}

/*
 * A read-only connection deletes a -wal it finds next to a 0-byte main file
 * (a stale leftover to SQLite).  It belongs to the legacy writer: keep it.
 */
int ro_delete(sqlite3_vfs*, const char*, int)
{
    return SQLITE_OK;
}

int ro_access(sqlite3_vfs*, const char* name, int flags, int* out)
{
    return g_base->xAccess(g_base, name, flags, out);
}

int ro_full_pathname(sqlite3_vfs*, const char* name, int n, char* out)
{
    return g_base->xFullPathname(g_base, name, n, out);
}

void* ro_dl_open(sqlite3_vfs*, const char*)
{
    return nullptr; /* load_extension is disabled on every connection; never load code */
}

void ro_dl_error(sqlite3_vfs*, int n, char* msg)
{
    sqlite3_snprintf(n, msg, "loading extensions is disabled");
}

void (*ro_dl_sym(sqlite3_vfs*, void*, const char*))(void)
{
    return nullptr;
}

void ro_dl_close(sqlite3_vfs*, void*) {}

int ro_randomness(sqlite3_vfs*, int n, char* out)
{
    return g_base->xRandomness(g_base, n, out);
}

int ro_sleep(sqlite3_vfs*, int us)
{
    return g_base->xSleep(g_base, us);
}

int ro_current_time(sqlite3_vfs*, double* out)
{
    return g_base->xCurrentTime(g_base, out);
}

int ro_get_last_error(sqlite3_vfs*, int n, char* out)
{
    return g_base->xGetLastError ? g_base->xGetLastError(g_base, n, out) : 0;
}

int ro_current_time_int64(sqlite3_vfs*, sqlite3_int64* out)
{
    return g_base->xCurrentTimeInt64(g_base, out);
}

}  // namespace

const char* readonly_vfs_name()
{
    if (g_registered)
        return g_vfs.zName;
    g_base = sqlite3_vfs_find(nullptr);
    if (!g_base || g_base->iVersion < 2)
        return nullptr;
    g_vfs = sqlite3_vfs{};
    g_vfs.iVersion = 2; /* no system-call overrides (version 3) are offered */
    g_vfs.szOsFile = g_base->szOsFile;
    g_vfs.mxPathname = g_base->mxPathname;
    g_vfs.zName = "recio_readonly";
    g_vfs.xOpen = ro_open;
    g_vfs.xDelete = ro_delete;
    g_vfs.xAccess = ro_access;
    g_vfs.xFullPathname = ro_full_pathname;
    g_vfs.xDlOpen = ro_dl_open;
    g_vfs.xDlError = ro_dl_error;
    g_vfs.xDlSym = ro_dl_sym;
    g_vfs.xDlClose = ro_dl_close;
    g_vfs.xRandomness = ro_randomness;
    g_vfs.xSleep = ro_sleep;
    g_vfs.xCurrentTime = ro_current_time;
    g_vfs.xGetLastError = ro_get_last_error;
    g_vfs.xCurrentTimeInt64 = ro_current_time_int64;
    if (sqlite3_vfs_register(&g_vfs, 0) != SQLITE_OK)
        return nullptr;
    g_registered = true;
    return g_vfs.zName;
}

}  // namespace recio::sqlite

/*
 * backup.cpp: the stepped online copy of backup.h.  No C++ object with a
 * destructor lives across a PostgreSQL call that may longjmp: the only
 * PostgreSQL calls (interrupt checks) go through pg::call, and both SQLite
 * handles are closed by the catch block below on every failure.
 */
#include "sqlite/backup.h"

extern "C" {
#include "utils/timestamp.h"
}

#include <algorithm>
#include <cstring>
#include <string>

#include "sqlite/value_convert.h"

namespace recio::sqlite {
namespace {

constexpr int kInitialStepPages = 256; /* 1 MB of 4 kB pages: well under a millisecond from the page cache */
constexpr int kMaxStepMs = 20;         /* rollback journal: the longest a grown step may hold SHARED */
constexpr int kMaxRestarts = 8;
constexpr int kMaxSteppingSeconds = 30;
constexpr long kPauseUs = 1000; /* between steps: the writer's window for its lock */

double ms_since(TimestampTz t)
{
    return static_cast<double>(GetCurrentTimestamp() - t) / 1000.0;
}

/*
 * A cancel (QueryCancelPending) raises through pg::check_for_interrupts; a
 * terminate (ProcDiePending) would exit the process from inside
 * ProcessInterrupts without unwinding, so it is thrown first as an error:
 * the caller's cleanup runs, and the next CHECK_FOR_INTERRUPTS ends the
 * backend.
 */
void check_interrupts()
{
    if (ProcDiePending)
        throw Error(ERRCODE_ADMIN_SHUTDOWN, "terminating connection due to administrator command");
    pg::check_for_interrupts();
}

[[noreturn]] void raise_write_error(sqlite3* dest, int rc, const char* dest_path)
{
    std::string detail = format("SQLite said: %s.", shown(sqlite3_errmsg(dest)).c_str());
    if (int sys = sqlite3_system_errno(dest))
        detail = format("SQLite said: %s: %s.", shown(sqlite3_errmsg(dest)).c_str(), strerror(sys));
    if ((rc & 0xff) == SQLITE_FULL)
        throw Error(ERRCODE_DISK_FULL, format("could not write snapshot file \"%s\": disk full", dest_path), detail,
                    "Free space in the directory's file system, or snapshot into another directory.");
    if ((rc & 0xff) == SQLITE_NOMEM)
        throw Error(ERRCODE_OUT_OF_MEMORY, "out of memory in SQLite", detail);
    throw Error(ERRCODE_IO_ERROR, format("could not write snapshot file \"%s\"", dest_path), detail);
}

/* Is rc about the copy (the destination), not the legacy file? */
bool destination_failed(sqlite3* dest, int rc)
{
    int primary = rc & 0xff;
    if (primary == SQLITE_FULL)
        return true;
    if (primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN || primary == SQLITE_IOERR)
        return (sqlite3_errcode(dest) & 0xff) == primary;
    return false;
}

[[noreturn]] void raise_step_error(Connection& src, sqlite3* dest, int rc, const char* dest_path)
{
    if (destination_failed(dest, rc))
        raise_write_error(dest, rc, dest_path);
    raise_error(src, rc, nullptr);
}

/* One row, one column of a statement on the copy (a pragma): its text. */
std::string query_dest(sqlite3* dest, const char* sql, const char* dest_path)
{
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v2(dest, sql, -1, &st, nullptr);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        raise_write_error(dest, rc, dest_path);
    }
    const char* text = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    std::string value = text ? text : "";
    sqlite3_finalize(st);
    return value;
}

struct Stepper {
    Connection& src;
    sqlite3* dest;
    sqlite3_backup* backup;
    const char* dest_path;
    BackupStats& stats;
    int step_pages = kInitialStepPages;
    double best_ms_per_page = 0; /* the fastest step's rate: a slow step waited for the CPU, not for pages */

    /* A WAL reader blocks nobody: finish the copy inside one read transaction. */
    void hold_read_transaction()
    {
        int rc = sqlite3_exec(src.db, "BEGIN DEFERRED; SELECT 1 FROM sqlite_schema LIMIT 1", nullptr, nullptr, nullptr);
        if (rc != SQLITE_OK)
            raise_error(src, rc, "BEGIN DEFERRED");
        src.xact_open = true;
        stats.one_transaction = true;
    }

    /* Rollback journal: copy more per step, as long as a step stays within kMaxStepMs. */
    void grow_step(int total_pages)
    {
        int budget = best_ms_per_page > 0 ? static_cast<int>(kMaxStepMs / best_ms_per_page) : total_pages;
        int grown = step_pages >= total_pages / 4 ? total_pages : step_pages * 4;
        step_pages = std::max(kInitialStepPages, std::min(grown, budget));
    }

    void on_restart(int total_pages, TimestampTz started)
    {
        stats.restarts++;
        bool out_of_time = ms_since(started) > kMaxSteppingSeconds * 1000.0;
        if (stats.source_wal) {
            if (!stats.one_transaction && (stats.restarts >= kMaxRestarts || out_of_time))
                hold_read_transaction();
            return;
        }
        if (stats.restarts >= kMaxRestarts || out_of_time)
            throw Error(ERRCODE_OBJECT_IN_USE,
                        format("could not copy SQLite database file \"%s\": its writer committed during each of %d "
                               "attempts",
                               src.path, stats.restarts),
                        format("The file is in rollback-journal mode, where a reader blocks the writer's commit; "
                               "the copy holds the file's lock for at most %d ms at a time and the writer changed "
                               "the file between the steps of every attempt (%d pages).",
                               kMaxStepMs, total_pages),
                        "Take the snapshot when the legacy application writes less, or pause its writers for the "
                        "copy.");
        grow_step(total_pages);
    }

    void run()
    {
        TimestampTz started = GetCurrentTimestamp();
        int copied_before = 0;
        for (;;) {
            check_interrupts();
            TimestampTz t = GetCurrentTimestamp();
            int rc = sqlite3_backup_step(backup, step_pages);
            double ms = ms_since(t);
            stats.steps++;
            stats.longest_step_ms = std::max(stats.longest_step_ms, ms);
            if (rc == SQLITE_DONE)
                return;
            if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
                check_interrupts(); /* the busy handler gave up for a cancel */
                raise_error(src, rc, nullptr);
            }
            if (rc != SQLITE_OK)
                raise_step_error(src, dest, rc, dest_path);
            int total = sqlite3_backup_pagecount(backup);
            int copied = total - sqlite3_backup_remaining(backup);
            double rate = ms / step_pages;
            if (best_ms_per_page == 0 || rate < best_ms_per_page)
                best_ms_per_page = rate;
            /* a restart copies from page 1 again: fewer pages done than before the step */
            if (copied_before > 0 && copied <= copied_before)
                on_restart(total, started);
            copied_before = copied;
            if (!stats.one_transaction)
                pg_usleep(kPauseUs);
        }
    }
};

}  // namespace

BackupStats backup_into(const FileSpec& source, const char* dest_path)
{
    BackupStats stats{};
    Connection src;
    memset(&src, 0, sizeof src);
    sqlite3* dest = nullptr;
    sqlite3_backup* backup = nullptr;
    try {
        open_private(src, source);
        stats.source_wal = in_wal_mode(src);
        int rc = sqlite3_open_v2(dest_path, &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
        if (rc != SQLITE_OK)
            raise_write_error(dest, rc, dest_path);
        sqlite3_extended_result_codes(dest, 1);
        sqlite3_db_config(dest, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
        sqlite3_db_config(dest, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, nullptr);
        sqlite3_db_config(dest, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
        /*
         * The copy's write transaction spans every step; with a journal its
         * cache spills would fsync the journal inside a step (seconds on a
         * busy disk, while the source's lock is held).  A partial copy is
         * removed anyway, and the finished one is fsynced by the caller.
         */
        rc = sqlite3_exec(dest, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", nullptr, nullptr, nullptr);
        if (rc != SQLITE_OK)
            raise_write_error(dest, rc, dest_path);
        backup = sqlite3_backup_init(dest, "main", src.db, "main");
        if (!backup)
            raise_write_error(dest, sqlite3_errcode(dest), dest_path);
        Stepper stepper{src, dest, backup, dest_path, stats};
        stepper.run();
        rc = sqlite3_backup_finish(backup);
        backup = nullptr;
        if (rc != SQLITE_OK)
            raise_step_error(src, dest, rc, dest_path);
        {
            Statement dv(src, "PRAGMA data_version");
            stats.data_version = dv.step() ? dv.int64_value(0) : 0;
        }
        if (src.xact_open) {
            sqlite3_exec(src.db, "COMMIT", nullptr, nullptr, nullptr);
            src.xact_open = false;
        }
        close_private(src);

        /* the copy of a WAL file says WAL in its header: a snapshot is one self-contained file */
        std::string mode = query_dest(dest, "PRAGMA journal_mode=DELETE", dest_path);
        if (mode != "delete")
            throw Error(ERRCODE_IO_ERROR, format("could not switch snapshot file \"%s\" to journal_mode DELETE",
                                                 dest_path),
                        format("SQLite left it in journal_mode %s.", shown(mode.c_str()).c_str()));
        std::string check = query_dest(dest, "PRAGMA integrity_check(1)", dest_path);
        if (check != "ok")
            throw Error(ERRCODE_DATA_CORRUPTED, format("snapshot file \"%s\" failed its integrity check", dest_path),
                        format("PRAGMA integrity_check said: %s.", shown(check.c_str()).c_str()));
        stats.pages = std::stoll(query_dest(dest, "PRAGMA page_count", dest_path));
        stats.page_size = std::stoi(query_dest(dest, "PRAGMA page_size", dest_path));
        rc = sqlite3_close(dest);
        dest = nullptr;
        if (rc != SQLITE_OK)
            throw Error(ERRCODE_IO_ERROR, format("could not close snapshot file \"%s\"", dest_path));
    } catch (...) {
        if (backup)
            sqlite3_backup_finish(backup);
        if (dest)
            sqlite3_close_v2(dest);
        close_private(src);
        throw;
    }
    return stats;
}

}  // namespace recio::sqlite

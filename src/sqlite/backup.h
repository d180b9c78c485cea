/*
 * backup.h: an online copy of a live legacy file with SQLite's backup API,
 * for snapshot().  The source is read through a private read-only
 * connection (connection_cache.h: the read-only file layer, nothing created
 * next to the legacy file); the copy is written into a file the caller has
 * already created (empty, exclusively), so nothing is ever overwritten.
 *
 * The copy is stepped: a few hundred pages per sqlite3_backup_step, each
 * step one short read transaction on the source, with a pause between
 * steps, so a writer waits at most one step for its lock.  A commit by
 * another connection between two steps restarts the copy (the API's rule
 * for changes made outside the copying connection); the copy therefore
 * always holds the file as of one commit.  The restarts are bounded:
 *   - WAL mode: after kMaxRestarts restarts (or kMaxStepping seconds) the
 *     rest of the copy runs inside one read transaction on the source; a
 *     WAL reader does not block the writer, so the copy then completes as of
 *     that transaction's snapshot;
 *   - rollback-journal mode: a reader's SHARED lock blocks the writer's
 *     commit, so the copy never holds one for long; after each restart the
 *     step grows (at most what kMaxStepMs allows at the measured rate), and
 *     when the whole file cannot be copied between two of the writer's
 *     commits within those bounds the copy fails with 55006.
 */
#pragma once

#include "sqlite/connection_cache.h"

namespace recio::sqlite {

struct BackupStats {
    int64 pages;            /* PRAGMA page_count of the copy */
    int page_size;          /* bytes */
    int restarts;           /* copies restarted by a writer's commit */
    int steps;              /* sqlite3_backup_step calls */
    bool source_wal;        /* the source is in WAL mode */
    bool one_transaction;   /* finished inside one read transaction on the source (WAL) */
    double longest_step_ms; /* the longest the copy held the source's lock at once */
    int64 data_version;     /* PRAGMA data_version of the copying connection when the copy ended */
};

/*
 * Copy source into dest_path (an existing empty file), then switch the copy
 * to journal_mode=DELETE and check it (PRAGMA integrity_check, page_count).
 * Throws with a SQLSTATE on failure (the caller removes dest_path): 53100
 * disk full, 58030 write error, 55P03 source locked beyond its busy
 * timeout, 55006 too many restarts, 57014 cancel, XX001 a copy that fails
 * its check.  Both connections are closed on every path.
 */
BackupStats backup_into(const FileSpec& source, const char* dest_path);

}  // namespace recio::sqlite

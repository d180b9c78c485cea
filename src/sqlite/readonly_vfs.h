/*
 * readonly_vfs.h: the SQLite VFS every legacy file is opened through.  A
 * thin shim over the default (unix) VFS that never creates, writes or
 * deletes anything next to a legacy file: the main file, its -journal and
 * its -wal are opened read-only and only if they already exist (SQLite's own
 * read-only connections still create a missing -wal), and xDelete removes
 * nothing.  Together with the readonly_shm=1 URI parameter (the -shm is
 * opened O_RDONLY, never created) a WAL-mode file whose writer is running
 * is read through SQLite's read-only WAL path, and a WAL-mode file with no
 * -wal fails to open (SQLITE_CANTOPEN) instead of getting side files owned
 * by the PostgreSQL OS user that would lock its legacy writer out.
 *
 * Temporary files SQLite makes for sorts (no name, deleted on close, in the
 * system temp directory) pass through unchanged.  No PostgreSQL calls here.
 */
#pragma once

namespace recio::sqlite {

/* The name to pass to sqlite3_open_v2 (the VFS is registered on the first call; NULL on failure). */
const char* readonly_vfs_name();

}  // namespace recio::sqlite

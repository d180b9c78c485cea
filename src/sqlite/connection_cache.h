/*
 * connection_cache.h: one read-only SQLite connection per foreign server per
 * backend, cached for the life of the backend and reused, closed when the
 * server is altered or dropped.  Every connection is locked down (no ATTACH,
 * no load_extension, no writes) and holds one SQLite read transaction for
 * the length of the PostgreSQL transaction, so every scan of a file within
 * one PostgreSQL transaction sees the same snapshot.
 */
#pragma once

#include <sqlite3.h>

#include <string>
#include <vector>

#include "common/error_boundary.h"

namespace recio::sqlite {

struct Connection {
    Oid serverid; /* hash key: must be first */
    sqlite3* db;
    const char* path; /* in the cache's memory context */
    int busy_timeout_ms;
    uint32 server_hash;    /* syscache hash of the server, for invalidation */
    bool invalidated;      /* server altered or dropped: reopen when idle */
    bool xact_open;        /* a SQLite read transaction is open */
    int64 busy_started_us; /* when the current wait for a lock began */
    int readers;           /* statements owned by running scans (see own_statement) */
    uint32 generation;     /* bumped on every open: a late release of an old statement is ignored */
    uint64 file_dev;       /* st_dev and st_ino of the file when opened: a file renamed into */
    uint64 file_ino;       /* place (rsync, restore) is reopened, never read stale */
    /* write connections only (writer_for): the write transaction that follows PostgreSQL's */
    bool writable;          /* opened read-write: a writer, never a reader */
    bool write_xact;        /* BEGIN IMMEDIATE done, not yet committed or rolled back */
    int write_depth;        /* 1 in the top transaction, n when savepoints s2..sn are open */
    bool write_broken;      /* a savepoint could not be rolled back: the transaction must not commit */
    const char* write_table; /* set while a writing statement is prepared: the one table it may write */
    /* planner row estimates, valid while PRAGMA data_version stays estimates_version */
    int64 estimates_version;
    int n_estimates;
    int max_estimates;
    struct RowEstimate* estimates; /* in the cache's memory context */
};

struct RowEstimate {
    char* table;
    double rows;
};

/*
 * What to open: a plain description of a file, which the caller derives
 * from wherever it keeps it (the wrapper: the foreign server's options).
 */
struct FileSpec {
    const char* path; /* absolute */
    int busy_timeout_ms;
    bool immutable; /* no writer will change the file: no locks taken */
    bool writable;  /* a write connection (writer_for): opened read-write, never created */
};
using DescribeFile = FileSpec (*)(Oid serverid);

/*
 * The connection cached for serverid, opened (on the file describe(serverid)
 * names) or reused, inside the read transaction.  When the read transaction
 * begins, the path is checked against the file the connection has open: a
 * file replaced since (another inode at the path) is reopened, or, while a
 * running scan still reads the old one, refused with 55000.
 */
Connection& connection_for(Oid serverid, DescribeFile describe);

/*
 * A connection of the caller's own, outside the cache: opened through the
 * same read-only file layer and locked down the same way (busy handler,
 * authorizer), but with no read transaction: the caller begins and ends
 * them (snapshot()'s online backup reads in short steps).  conn must be
 * zeroed; close it with close_private on every path.
 */
void open_private(Connection& conn, const FileSpec& file);
void close_private(Connection& conn);

/* Does the file's header say WAL mode (read through SQLite's own handle)? */
bool in_wal_mode(Connection& conn);

/*
 * The write connection of serverid, opened read-write (describe(serverid)
 * must say writable) on first use and cached beside the read connection.
 * Only the wrapper's modify path asks for it, and only for a foreign table
 * that is updatable: a read-only server's file is never opened for writing.
 * Its statements run under an authorizer that allows writes only to the
 * table named while a statement is prepared (prepare_write).
 */
Connection& writer_for(Oid serverid, DescribeFile describe);

/* The server's write connection when it holds a write transaction now, else NULL (scans then read through it). */
Connection* active_writer(Oid serverid);

/*
 * Make sure the write connection holds the write transaction, with
 * savepoints s2..s<level> for PostgreSQL's subtransaction nesting level.
 * The write transaction is begun with BEGIN IMMEDIATE (the server's busy
 * timeout applies: a locked file gives 55P03).  The read connection's
 * snapshot of the same file is ended first when no statement reads it, so
 * the writer's commit never waits on this backend's own reader.
 */
void begin_write(Connection& writer, Connection* reader, int level);

/* COMMIT the write transaction; throws (the PostgreSQL transaction then aborts and rolls it back). */
void commit_write(Connection& writer);

/* RELEASE savepoint s<level> if it is open (subtransaction commit); throws on failure. */
void release_savepoint(Connection& writer, int level);

/* ROLLBACK TO and RELEASE s<level> if open (subtransaction abort).  Never raises. */
void rollback_savepoint(Connection& writer, int level) noexcept;

/* ROLLBACK the write transaction if one is open.  Never raises. */
void rollback_write(Connection& writer) noexcept;

/* Prepare a writing statement that may write only table (and sqlite_sequence); throws. */
sqlite3_stmt* prepare_write(Connection& writer, const char* sql, const char* table);

/* Every write connection of this backend that holds a write transaction. */
std::vector<Connection*> writing_connections();

/*
 * The SQL functions no connection of ours may call, whatever a file's schema
 * holds (loading code, the file-reading and file-writing shell functions):
 * for the authorizers of the wrapper's connections and of export_sqlite()'s.
 */
bool forbidden_function(const char* name);

/* Every open cached connection of this backend. */
std::vector<Connection*> open_connections();

/* The open cached connection of a server, or NULL. */
Connection* cached_connection(Oid serverid);

/* Close a cached connection unless a running statement reads it (a WARNING then); true if closed. */
bool close_if_idle(Connection& conn);

/* Does the server's cached connection hold a read transaction (a snapshot) now? */
bool snapshot_held(Oid serverid);

/*
 * End the connection's read transaction unless a statement is reading: for
 * the planner, when planning began it (a plan needs no snapshot, and a held
 * one would block the file's writers until the PostgreSQL transaction ends).
 */
void release_snapshot(Connection& conn);

/*
 * Row estimates cached on the connection for the planner.  A lookup first
 * reads PRAGMA data_version: when another connection committed to the file
 * since the estimates were made, they are all dropped.
 */
bool cached_row_estimate(Connection& conn, const char* table, double* rows);
void cache_row_estimate(Connection& conn, const char* table, double rows);

/* Map a SQLite failure to a recio::Error with a proper SQLSTATE, and throw it. */
[[noreturn]] void raise_error(Connection& conn, int rc, const char* sql);

/*
 * Prepare a statement; throws on failure.  Planning, scans and migrations
 * prepare their statements here or in try_prepare, which log each one at
 * DEBUG1 (what the wrapper sends to a file, for a test or an operator).
 */
sqlite3_stmt* prepare(Connection& conn, const char* sql);

/* Prepare a statement that may legitimately fail (an optional table); NULL then. */
sqlite3_stmt* try_prepare(Connection& conn, const char* sql);

/* sqlite3_step that maps errors (including a cancel) to exceptions. */
bool step_row(Connection& conn, sqlite3_stmt* stmt, const char* sql);

/*
 * A scan's statement: counted as a reader of the connection (which is not
 * closed under it) and finalized when the memory context is reset or
 * deleted, whether the query ended or failed.
 */
void own_statement(Connection& conn, sqlite3_stmt* stmt, MemoryContext cxt);

/*
 * A short-lived statement (planning, IMPORT) finalized when it goes out of
 * scope, thrown or not.  Only for code with no PostgreSQL call that can
 * longjmp while it lives (PostgreSQL calls go through pg::call).
 */
class Statement {
public:
    Statement(Connection& conn, const char* sql) : conn_(conn), sql_(sql), stmt_(prepare(conn, sql)) {}
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    void bind(int i, const char* text) { sqlite3_bind_text(stmt_, i, text, -1, SQLITE_TRANSIENT); }
    bool step() { return step_row(conn_, stmt_, sql_); }
    const char* text(int col) { return reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col)); }
    int integer(int col) { return sqlite3_column_int(stmt_, col); }
    int64 int64_value(int col) { return sqlite3_column_int64(stmt_, col); }
    sqlite3_stmt* handle() { return stmt_; }

private:
    Connection& conn_;
    const char* sql_;
    sqlite3_stmt* stmt_;
};

}  // namespace recio::sqlite

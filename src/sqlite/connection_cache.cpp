/*
 * connection_cache.cpp: the per-backend cache of SQLite connections, their
 * lock-down, the busy and progress handlers that keep a backend responsive
 * to cancels, the transaction-long read snapshot, and the mapping of SQLite
 * result codes to SQLSTATEs.
 */
#include "sqlite/connection_cache.h"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_foreign_server.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
}

#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <optional>

#include "sqlite/readonly_vfs.h"
#include "sqlite/value_convert.h"

namespace recio::sqlite {

bool forbidden_function(const char* name)
{
    return name && (sqlite3_stricmp(name, "load_extension") == 0 || sqlite3_stricmp(name, "fts3_tokenizer") == 0 ||
                    sqlite3_stricmp(name, "readfile") == 0 || sqlite3_stricmp(name, "writefile") == 0);
}

namespace {

HTAB* g_connections = nullptr; /* Oid -> Connection, in g_cache_cxt */
HTAB* g_writers = nullptr;     /* Oid -> Connection (writable), in g_cache_cxt */

MemoryContext g_cache_cxt = nullptr;

bool is_sequence_table(const char* name)
{
    return name && sqlite3_stricmp(name, "sqlite_sequence") == 0;
}

/*
 * Authorizer: read connections only ever read.  SELECT over tables, views
 * and eponymous pragma functions, and BEGIN/COMMIT/ROLLBACK of the read
 * transaction; everything else (ATTACH, writes, temp objects, assignments
 * through PRAGMA, load_extension) is denied whatever a table option holds.
 * A write connection also allows, while prepare_write compiles a statement
 * for one table, INSERT/UPDATE/DELETE on that table and on sqlite_sequence
 * (AUTOINCREMENT's bookkeeping), and SAVEPOINT/RELEASE; schema changes,
 * ATTACH and writing PRAGMAs stay denied.
 */
int authorizer(void* arg, int action, const char* arg1, const char* arg2, const char*, const char*)
{
    const auto* conn = static_cast<const Connection*>(arg);
    const char* target = conn->writable ? conn->write_table : nullptr;
    switch (action) {
    case SQLITE_INSERT:
    case SQLITE_DELETE:
        return target && arg1 && (sqlite3_stricmp(arg1, target) == 0 || is_sequence_table(arg1)) ? SQLITE_OK
                                                                                                  : SQLITE_DENY;
    case SQLITE_SAVEPOINT:
        return conn->writable ? SQLITE_OK : SQLITE_DENY;
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_TRANSACTION:
        return SQLITE_OK; /* BEGIN / COMMIT / ROLLBACK: the file is read-only anyway */
    case SQLITE_UPDATE:
        /*
         * Compiling a table-valued pragma (pragma_table_xinfo) makes SQLite
         * check UPDATE on sqlite_master columns internally; no statement of
         * ours writes, the file is opened read-only, and defensive mode
         * forbids writing the schema table in any case.
         */
        if (target && arg1 && (sqlite3_stricmp(arg1, target) == 0 || is_sequence_table(arg1)))
            return SQLITE_OK;
        return arg1 && (sqlite3_stricmp(arg1, "sqlite_master") == 0 || sqlite3_stricmp(arg1, "sqlite_schema") == 0)
                   ? SQLITE_OK
                   : SQLITE_DENY;
    case SQLITE_FUNCTION:
        return forbidden_function(arg2) ? SQLITE_DENY : SQLITE_OK;
    case SQLITE_PRAGMA:
        /* Only the read-only introspection pragmas, never an assignment. */
        if (arg2 == nullptr && arg1 &&
            (sqlite3_stricmp(arg1, "table_info") == 0 || sqlite3_stricmp(arg1, "table_xinfo") == 0 ||
             sqlite3_stricmp(arg1, "index_list") == 0 || sqlite3_stricmp(arg1, "index_info") == 0 ||
             sqlite3_stricmp(arg1, "schema_version") == 0 || sqlite3_stricmp(arg1, "data_version") == 0 ||
             sqlite3_stricmp(arg1, "page_count") == 0 || sqlite3_stricmp(arg1, "page_size") == 0))
            return SQLITE_OK;
        /*
         * Table-valued forms carry the table name in arg2.  index_xinfo and
         * foreign_key_list only read the schema: schema_plan() needs an
         * index's sort order and collation, and a table's foreign keys.
         */
        if (arg1 && (sqlite3_stricmp(arg1, "table_info") == 0 || sqlite3_stricmp(arg1, "table_xinfo") == 0 ||
                     sqlite3_stricmp(arg1, "index_list") == 0 || sqlite3_stricmp(arg1, "index_info") == 0 ||
                     sqlite3_stricmp(arg1, "index_xinfo") == 0 || sqlite3_stricmp(arg1, "foreign_key_list") == 0))
            return SQLITE_OK;
        return SQLITE_DENY;
    default:
        return SQLITE_DENY;
    }
}

/* The server wants a cancel or a shutdown: stop SQLite's VM. */
bool cancel_requested()
{
    return QueryCancelPending || ProcDiePending;
}

int progress_handler(void*)
{
    return cancel_requested() ? 1 : 0;
}

/*
 * Busy handler: like sqlite3_busy_timeout, but wakes every 2 ms to notice a
 * cancel, so a locked file never makes a backend deaf to pg_cancel_backend.
 */
int busy_handler(void* arg, int count)
{
    auto* conn = static_cast<Connection*>(arg);
    int64 now = GetCurrentTimestamp();
    if (count == 0)
        conn->busy_started_us = now;
    if (cancel_requested())
        return 0;
    if (now - conn->busy_started_us >= static_cast<int64>(conn->busy_timeout_ms) * 1000)
        return 0;
    pg_usleep(2000L);
    return 1;
}

void reset_statements(sqlite3* db)
{
    for (sqlite3_stmt* s = sqlite3_next_stmt(db, nullptr); s; s = sqlite3_next_stmt(db, s))
        sqlite3_reset(s);
}

void end_read_transaction(Connection& conn)
{
    if (!conn.xact_open)
        return;
    reset_statements(conn.db);
    if (conn.write_xact) {
        /* never committed here: a write transaction commits only in commit_write, at PRE_COMMIT */
        sqlite3_exec(conn.db, "ROLLBACK", nullptr, nullptr, nullptr);
        conn.write_xact = false;
        conn.write_depth = 0;
        conn.write_broken = false;
        conn.xact_open = false;
        return;
    }
    /* A read transaction has nothing to commit; ROLLBACK cannot fail on it. */
    if (sqlite3_exec(conn.db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
        sqlite3_exec(conn.db, "ROLLBACK", nullptr, nullptr, nullptr);
    conn.xact_open = false;
}

void forget_estimates(Connection& conn)
{
    for (int i = 0; i < conn.n_estimates; i++)
        pfree(conn.estimates[i].table);
    conn.n_estimates = 0;
}

void close_connection(Connection& conn)
{
    end_read_transaction(conn);
    /* close_v2: statements still owned by a dying executor finalize later. */
    sqlite3_close_v2(conn.db);
    conn.db = nullptr;
}

/* Transaction end: release the snapshot; close what was invalidated. Never raises. */
void xact_callback(XactEvent event, void*)
{
    switch (event) {
    case XACT_EVENT_COMMIT:
    case XACT_EVENT_PARALLEL_COMMIT:
    case XACT_EVENT_ABORT:
    case XACT_EVENT_PARALLEL_ABORT:
    case XACT_EVENT_PREPARE:
        break;
    default:
        return;
    }
    for (HTAB* table : {g_connections, g_writers}) {
        HASH_SEQ_STATUS scan;
        hash_seq_init(&scan, table);
        while (auto* conn = static_cast<Connection*>(hash_seq_search(&scan))) {
            if (!conn->db)
                continue;
            end_read_transaction(*conn);
            if (conn->invalidated)
                close_connection(*conn);
        }
    }
}

void server_changed(Datum, int, uint32 hashvalue)
{
    for (HTAB* table : {g_connections, g_writers}) {
        HASH_SEQ_STATUS scan;
        hash_seq_init(&scan, table);
        while (auto* conn = static_cast<Connection*>(hash_seq_search(&scan)))
            if (hashvalue == 0 || conn->server_hash == hashvalue)
                conn->invalidated = true;
    }
}

void init_cache()
{
    pg::call([] {
        g_cache_cxt = AllocSetContextCreate(TopMemoryContext, "recio_sqlite connections", ALLOCSET_SMALL_SIZES);
        HASHCTL ctl;
        memset(&ctl, 0, sizeof ctl);
        ctl.keysize = sizeof(Oid);
        ctl.entrysize = sizeof(Connection);
        ctl.hcxt = g_cache_cxt;
        g_connections = hash_create("recio_sqlite connections", 8, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
        g_writers = hash_create("recio_sqlite write connections", 8, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
        RegisterXactCallback(xact_callback, nullptr);
        CacheRegisterSyscacheCallback(FOREIGNSERVEROID, server_changed, 0);
    });
}

/*
 * file:<path>?mode=ro&readonly_shm=1 (or &immutable=1), with the path
 * percent-encoded.  readonly_shm: an existing -shm is opened O_RDONLY and a
 * missing one is never created (SQLite's read-only WAL access); immutable
 * files take no locks and open no side file at all.
 */
std::string make_uri(const char* path, bool immutable, bool writable)
{
    std::string uri = "file:";
    for (const char* p = path; *p; p++) {
        unsigned char c = static_cast<unsigned char>(*p);
        if (c == '%' || c == '?' || c == '#' || c < 0x21 || c >= 0x7f)
            uri += format("%%%02X", c);
        else
            uri += static_cast<char>(c);
    }
    if (!writable)
        uri += immutable ? "?mode=ro&immutable=1" : "?mode=ro&readonly_shm=1";
    return uri;
}

[[noreturn]] void raise_unopenable(const char* path, const char* why)
{
    throw Error(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION,
                format("could not open SQLite database file \"%s\": %s", path, why), {},
                "Check the server's \"database\" option and that the file is readable by the PostgreSQL OS user.");
}

/*
 * The file exists, is a regular file and is readable; its identity is
 * returned for the replaced-file check.  access() rather than a probe
 * open(): closing any descriptor of a file drops every POSIX lock this
 * process holds on it, SQLite's included.
 */
struct stat check_file(const char* path, bool writable)
{
    struct stat st;
    if (stat(path, &st) != 0)
        raise_unopenable(path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        raise_unopenable(path, "not a regular file");
    if (access(path, writable ? R_OK | W_OK : R_OK) != 0)
        raise_unopenable(path, strerror(errno));
    return st;
}

/* Has another file been renamed into place since the connection opened? */
bool file_replaced(const Connection& conn)
{
    struct stat st;
    if (stat(conn.path, &st) != 0)
        return false; /* gone or unreachable: the open file is still read, as before */
    return static_cast<uint64>(st.st_dev) != conn.file_dev || static_cast<uint64>(st.st_ino) != conn.file_ino;
}

/*
 * The journal mode from the file's header, read through SQLite's own handle
 * of the main file (no descriptor of ours): byte 19, the write version, is 2
 * in WAL mode; SQLite's btree opens the -wal on the same test.
 */
bool header_says_wal(sqlite3* db)
{
    sqlite3_file* file = nullptr;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || !file || !file->pMethods)
        return false;
    unsigned char header[20];
    if (file->pMethods->xRead(file, header, sizeof header, 0) != SQLITE_OK)
        return false;
    return header[19] == 2;
}

bool side_file_exists(const char* path, const char* suffix)
{
    return access(format("%s%s", path, suffix).c_str(), F_OK) == 0;
}

/*
 * A WAL-mode file without its -wal or -shm (no writer has it open) cannot be
 * read without creating them, and files created by the PostgreSQL OS user
 * lock the legacy writer out (SQLITE_READONLY on its every commit); the
 * read-only VFS refused to create them.  55000 (object not in prerequisite
 * state): nothing is wrong with the file or the server, the file is in a
 * state the wrapper will not read it in, and a retry works once a writer has
 * it open; not 55P03, which retry logic treats as a short-lived lock.
 */
std::optional<Error> wal_refusal(const Connection& conn)
{
    if (!header_says_wal(conn.db))
        return std::nullopt;
    bool wal = side_file_exists(conn.path, "-wal");
    bool shm = side_file_exists(conn.path, "-shm");
    if (wal && shm)
        return std::nullopt;
    std::string missing = !wal && !shm ? format("\"%s-wal\" and \"%s-shm\"", conn.path, conn.path)
                                       : format("\"%s%s\"", conn.path, wal ? "-shm" : "-wal");
    return Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                 format("SQLite database file \"%s\" is in WAL mode and no writer has it open", conn.path),
                 format("Reading it would create %s next to it, owned by the PostgreSQL OS user, which would lock "
                        "the legacy writer out; recio_sqlite creates no file next to a legacy file.",
                        missing.c_str()),
                 "Set the server option immutable 'true' while no writer uses the file, or copy it.");
}

void open_connection(Connection& conn, Oid serverid, const FileSpec& file)
{
    struct stat st = check_file(file.path, file.writable);
    /* a write connection is SQLite's own read-write open (never created); readers go through the read-only VFS */
    const char* vfs = file.writable ? nullptr : readonly_vfs_name();
    if (!vfs && !file.writable)
        throw Error(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION,
                    format("could not open SQLite database file \"%s\"", file.path),
                    "SQLite's read-only file layer could not be set up.");
    const char* old_path = conn.path;
    conn.path = pg::call([&] { return MemoryContextStrdup(g_cache_cxt, file.path); });
    if (old_path)
        pfree(const_cast<char*>(old_path));
    conn.generation++;
    conn.readers = 0;
    conn.busy_timeout_ms = file.busy_timeout_ms;
    conn.server_hash = pg::call([&] { return GetSysCacheHashValue1(FOREIGNSERVEROID, ObjectIdGetDatum(serverid)); });
    conn.invalidated = false;
    conn.xact_open = false;
    conn.writable = file.writable;
    conn.write_xact = false;
    conn.write_depth = 0;
    conn.write_broken = false;
    conn.write_table = nullptr;
    conn.file_dev = static_cast<uint64>(st.st_dev);
    conn.file_ino = static_cast<uint64>(st.st_ino);
    forget_estimates(conn);

    std::string uri = make_uri(file.path, file.immutable, file.writable);
    sqlite3* db = nullptr;
    int flags = (file.writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(uri.c_str(), &db, flags, vfs);
    if (rc != SQLITE_OK) {
        std::string msg = shown(db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        int err = db ? sqlite3_system_errno(db) : 0;
        sqlite3_close_v2(db);
        if (err != 0)
            raise_unopenable(file.path, strerror(err));
        throw Error(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION,
                    format("could not open SQLite database file \"%s\"", file.path),
                    format("SQLite said: %s.", msg.c_str()));
    }
    conn.db = db;
    sqlite3_extended_result_codes(db, 1);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, nullptr);
    /*
     * A double-quoted name that matches no column must be an error, not a
     * string literal: our queries quote every identifier this way.  Legacy
     * DDL (DQS_DDL) keeps SQLite's lenient default so old schemas still load.
     */
    sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, nullptr);
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
    sqlite3_busy_handler(db, busy_handler, &conn);
    sqlite3_progress_handler(db, 1000, progress_handler, nullptr);
    if (file.writable) {
        /*
         * No cache spill: a spill needs the EXCLUSIVE lock in rollback-journal
         * mode, which this backend's own reader of the file (an INSERT ...
         * SELECT from another of its tables) would hold off; the pages stay
         * in memory until the commit, when the reader has ended.
         */
        sqlite3_exec(db, "PRAGMA cache_spill = false", nullptr, nullptr, nullptr);
    }
    sqlite3_set_authorizer(db, authorizer, &conn);

    /* Reading the schema is what tells a SQLite file from anything else. */
    sqlite3_stmt* probe = nullptr;
    const char* probe_sql = "SELECT 1 FROM sqlite_schema LIMIT 1";
    rc = sqlite3_prepare_v2(db, probe_sql, -1, &probe, nullptr);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(probe);
    sqlite3_finalize(probe);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        /* raise_error needs the connection open for errmsg; close after. */
        Error err(0, "");
        try {
            raise_error(conn, rc, nullptr);
        } catch (Error& e) {
            err = e;
        } catch (...) {
            close_connection(conn);
            throw;
        }
        close_connection(conn);
        throw err;
    }
}

void begin_read_transaction(Connection& conn)
{
    if (conn.xact_open)
        return;
    int rc = sqlite3_exec(conn.db, "BEGIN DEFERRED", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK)
        raise_error(conn, rc, "BEGIN DEFERRED");
    conn.xact_open = true;
}

struct OwnedStatement {
    MemoryContextCallback callback;
    sqlite3_stmt* stmt;
    Connection* conn;
    uint32 generation;
};

void release_statement(void* arg)
{
    auto* owned = static_cast<OwnedStatement*>(arg);
    sqlite3_finalize(owned->stmt); /* also fine on a closed (zombie) connection */
    if (owned->conn->generation == owned->generation && owned->conn->readers > 0)
        owned->conn->readers--;
}

}  // namespace

namespace {

/* The cache entry of serverid in table, created empty; closed if it must be reopened (server changed, file replaced). */
Connection& cache_entry(HTAB* table, Oid serverid)
{
    pg::call([] { AcceptInvalidationMessages(); });
    bool found = false;
    auto* conn = static_cast<Connection*>(pg::call([&] { return hash_search(table, &serverid, HASH_ENTER, &found); }));
    if (!found) {
        conn->db = nullptr;
        conn->path = nullptr;
        conn->readers = 0;
        conn->generation = 0;
        conn->estimates_version = -1;
        conn->n_estimates = 0;
        conn->max_estimates = 0;
        conn->estimates = nullptr;
        conn->writable = false;
        conn->write_xact = false;
        conn->write_depth = 0;
        conn->write_broken = false;
        conn->write_table = nullptr;
    }
    if (conn->db && conn->invalidated && conn->readers == 0 && !conn->xact_open)
        close_connection(*conn);
    if (conn->db && !conn->xact_open && file_replaced(*conn)) {
        if (conn->readers > 0)
            throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                        format("SQLite database file \"%s\" was replaced while a query reads the old file", conn->path),
                        "Another file was renamed into place since the connection opened it.",
                        "Close the cursors that read the file, then retry.");
        close_connection(*conn);
    }
    return *conn;
}

}  // namespace

Connection& connection_for(Oid serverid, DescribeFile describe)
{
    if (!g_connections)
        init_cache();
    Connection& conn = cache_entry(g_connections, serverid);
    if (!conn.db)
        open_connection(conn, serverid, describe(serverid));
    begin_read_transaction(conn);
    return conn;
}

Connection& writer_for(Oid serverid, DescribeFile describe)
{
    if (!g_connections)
        init_cache();
    Connection& conn = cache_entry(g_writers, serverid);
    if (!conn.db) {
        FileSpec spec = describe(serverid);
        if (!spec.writable)
            throw Error(ERRCODE_INTERNAL_ERROR, "a write connection was asked for a file described as read-only");
        open_connection(conn, serverid, spec);
    }
    return conn;
}

Connection* active_writer(Oid serverid)
{
    if (!g_writers)
        return nullptr;
    auto* conn = static_cast<Connection*>(hash_search(g_writers, &serverid, HASH_FIND, nullptr));
    return conn && conn->db && conn->write_xact ? conn : nullptr;
}

namespace {

void exec_write(Connection& conn, const char* sql)
{
    int rc = sqlite3_exec(conn.db, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK)
        raise_error(conn, rc, sql);
}

bool statement_running(sqlite3* db)
{
    for (sqlite3_stmt* s = sqlite3_next_stmt(db, nullptr); s; s = sqlite3_next_stmt(db, s))
        if (sqlite3_stmt_busy(s))
            return true;
    return false;
}

}  // namespace

void begin_write(Connection& writer, Connection* reader, int level)
{
    if (writer.write_broken)
        throw Error(ERRCODE_IN_FAILED_SQL_TRANSACTION,
                    format("the SQLite transaction on file \"%s\" could not follow a subtransaction's rollback",
                           writer.path),
                    {}, "Roll the PostgreSQL transaction back.");
    if (!writer.write_xact) {
        if (reader && reader->db && reader->xact_open && !statement_running(reader->db))
            end_read_transaction(*reader);
        exec_write(writer, "BEGIN IMMEDIATE");
        writer.xact_open = true;
        writer.write_xact = true;
        writer.write_depth = 1;
    }
    while (writer.write_depth < level) {
        std::string sql = format("SAVEPOINT s%d", writer.write_depth + 1);
        exec_write(writer, sql.c_str());
        writer.write_depth++;
    }
}

void commit_write(Connection& writer)
{
    if (!writer.write_xact)
        return;
    if (writer.write_broken)
        throw Error(ERRCODE_IN_FAILED_SQL_TRANSACTION,
                    format("the SQLite transaction on file \"%s\" could not follow a subtransaction's rollback",
                           writer.path),
                    "Its changes are rolled back with the PostgreSQL transaction.");
    reset_statements(writer.db);
    exec_write(writer, "COMMIT");
    writer.write_xact = false;
    writer.xact_open = false;
    writer.write_depth = 0;
}

void release_savepoint(Connection& writer, int level)
{
    if (!writer.write_xact || writer.write_depth < level || level < 2)
        return;
    std::string sql = format("RELEASE s%d", level);
    exec_write(writer, sql.c_str());
    writer.write_depth = level - 1;
}

void rollback_savepoint(Connection& writer, int level) noexcept
{
    if (!writer.write_xact || writer.write_depth < level || level < 2)
        return;
    reset_statements(writer.db);
    char sql[64];
    snprintf(sql, sizeof sql, "ROLLBACK TO s%d; RELEASE s%d", level, level);
    if (sqlite3_exec(writer.db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
        writer.write_broken = true;
    writer.write_depth = level - 1;
}

void rollback_write(Connection& writer) noexcept
{
    if (writer.db && writer.write_xact)
        end_read_transaction(writer);
}

sqlite3_stmt* prepare_write(Connection& writer, const char* sql, const char* table)
{
    writer.write_table = table;
    sqlite3_stmt* stmt = nullptr;
    try {
        stmt = prepare(writer, sql);
    } catch (...) {
        writer.write_table = nullptr;
        throw;
    }
    writer.write_table = nullptr;
    return stmt;
}

std::vector<Connection*> writing_connections()
{
    std::vector<Connection*> out;
    if (!g_writers)
        return out;
    HASH_SEQ_STATUS scan;
    hash_seq_init(&scan, g_writers);
    while (auto* conn = static_cast<Connection*>(hash_seq_search(&scan)))
        if (conn->db && conn->write_xact)
            out.push_back(conn);
    return out;
}

namespace {

Error refused(const Connection& conn, const std::string& detail)
{
    if (conn.writable)
        return Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "statement refused on a recio_sqlite write connection", detail,
                     "recio_sqlite writes only the rows of the foreign table's own SQLite table: ATTACH, "
                     "load_extension, schema changes and writing pragmas are not allowed.");
    return Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "statement refused on a read-only recio_sqlite connection", detail,
                 "recio_sqlite connections only read: ATTACH, load_extension and writes are not allowed.");
}

}  // namespace


void open_private(Connection& conn, const FileSpec& file)
{
    if (!g_connections)
        init_cache();
    open_connection(conn, InvalidOid, file);
}

void close_private(Connection& conn)
{
    if (conn.db)
        close_connection(conn);
    if (conn.path)
        pfree(const_cast<char*>(conn.path));
    conn.path = nullptr;
}

bool in_wal_mode(Connection& conn)
{
    return header_says_wal(conn.db);
}

void raise_error(Connection& conn, int rc, const char* sql)
{
    int primary = rc & 0xff;
    /* SQLite's message may quote schema text from the file: sanitize it */
    const char* msg = conn.db ? sqlite3_errmsg(conn.db) : sqlite3_errstr(rc);
    std::string detail = format("SQLite said: %s.", shown(msg).c_str());
    Error err(ERRCODE_FDW_ERROR, format("SQLite error on file \"%s\"", conn.path), detail);
    switch (primary) {
    case SQLITE_INTERRUPT:
        pg::check_for_interrupts();
        err = Error(ERRCODE_QUERY_CANCELED, "canceling statement due to user request");
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        if (cancel_requested())
            pg::check_for_interrupts();
        err = Error(ERRCODE_LOCK_NOT_AVAILABLE, format("SQLite database file \"%s\" is locked", conn.path), detail,
                    format("Another process held a lock on the file for longer than busy_timeout_ms (%d ms). "
                           "Retry later, raise busy_timeout_ms, or read a snapshot copy with immutable 'true'.",
                           conn.busy_timeout_ms));
        break;
    case SQLITE_NOTADB:
        err = Error(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION,
                    format("file \"%s\" is not a SQLite database", conn.path), detail);
        break;
    case SQLITE_CORRUPT:
        err = Error(ERRCODE_FDW_ERROR, format("SQLite database file \"%s\" is corrupt", conn.path), detail,
                    "Restore the file from a backup or recover it with the sqlite3 CLI's .recover command.");
        break;
    case SQLITE_IOERR:
        err = Error(ERRCODE_FDW_ERROR, format("could not read SQLite database file \"%s\"", conn.path), detail,
                    "The file may be truncated or on a failing device.");
        break;
    case SQLITE_CANTOPEN:
        if (std::optional<Error> refusal = conn.db ? wal_refusal(conn) : std::nullopt) {
            err = *refusal;
            break;
        }
        if (int sys = conn.db ? sqlite3_system_errno(conn.db) : 0)
            detail = format("SQLite said: %s: %s.", shown(msg).c_str(), strerror(sys));
        err = Error(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION,
                    format("could not open SQLite database file \"%s\"", conn.path), detail,
                    "Check that the file, its -wal and -shm files are readable by the PostgreSQL OS user.");
        break;
    case SQLITE_READONLY:
        if (conn.writable) {
            err = Error(ERRCODE_IO_ERROR, format("could not write SQLite database file \"%s\"", conn.path), detail,
                        "The file and its directory (for the -journal or -wal file) must be writable by the "
                        "PostgreSQL OS user.");
            break;
        }
        /*
         * A read would have to write: a hot journal to roll back (a writer
         * died mid-transaction), or a WAL index to rebuild.  Never done on a
         * legacy file: 55000, the file's state, as for WAL files above.
         */
        if (rc == SQLITE_READONLY_ROLLBACK)
            err = Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                        format("SQLite database file \"%s\" has a hot journal to roll back", conn.path),
                        format("A writer stopped in the middle of a transaction and left \"%s-journal\"; reading "
                               "the file needs that transaction rolled back, which a read-only connection "
                               "never does.",
                               conn.path),
                        "Open the file once with its legacy application or the sqlite3 command-line tool, as "
                        "the file's owner: that rolls the journal back.");
        else
            err = Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                        format("SQLite database file \"%s\" cannot be read without writing to it", conn.path), detail,
                        "Retry while the legacy writer runs, or set the server option immutable 'true' while no "
                        "writer uses the file.");
        break;
    case SQLITE_NOMEM:
        err = Error(ERRCODE_OUT_OF_MEMORY, "out of memory in SQLite", detail);
        break;
    case SQLITE_TOOBIG:
        err = Error(ERRCODE_PROGRAM_LIMIT_EXCEEDED, "SQLite value too large", detail);
        break;
    case SQLITE_AUTH:
        err = refused(conn, detail);
        break;
    case SQLITE_CONSTRAINT:
        err = Error(rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_ROWID
                        ? ERRCODE_UNIQUE_VIOLATION
                    : rc == SQLITE_CONSTRAINT_NOTNULL    ? ERRCODE_NOT_NULL_VIOLATION
                    : rc == SQLITE_CONSTRAINT_FOREIGNKEY ? ERRCODE_FOREIGN_KEY_VIOLATION
                    : rc == SQLITE_CONSTRAINT_CHECK      ? ERRCODE_CHECK_VIOLATION
                                                         : ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION,
                    format("SQLite constraint violated in file \"%s\"", conn.path), detail);
        break;
    case SQLITE_ERROR:
        if (strncmp(msg, "no such table", 13) == 0)
            err = Error(ERRCODE_FDW_TABLE_NOT_FOUND, format("SQLite table not found in file \"%s\"", conn.path), detail,
                        "Check the foreign table's \"table\" option.");
        else if (strncmp(msg, "no such column", 14) == 0)
            err = Error(ERRCODE_FDW_COLUMN_NAME_NOT_FOUND, format("SQLite column not found in file \"%s\"", conn.path),
                        detail, "Check the foreign table's column names and \"column_name\" options.");
        else if (strstr(msg, "not authorized") || strstr(msg, "unsafe use of"))
            err = refused(conn, detail);
        break;
    default:
        break;
    }
    if (sql)
        err.context = format("SQLite query: %s", sql);
    throw err;
}

namespace {

void log_statement(const char* sql)
{
    if (message_level_is_interesting(DEBUG1))
        pg::call([&] { ereport(DEBUG1, (errmsg_internal("recio_sqlite query: %s", sql))); });
}

}  // namespace

bool snapshot_held(Oid serverid)
{
    if (!g_connections)
        return false;
    auto* conn = static_cast<Connection*>(hash_search(g_connections, &serverid, HASH_FIND, nullptr));
    return conn && conn->db && conn->xact_open;
}

void release_snapshot(Connection& conn)
{
    if (conn.db && conn.readers == 0 && !conn.write_xact)
        end_read_transaction(conn);
}

bool cached_row_estimate(Connection& conn, const char* table, double* rows)
{
    int64 version;
    {
        Statement st(conn, "PRAGMA data_version");
        if (!st.step())
            return false;
        version = st.int64_value(0);
    }
    if (version != conn.estimates_version) {
        forget_estimates(conn);
        conn.estimates_version = version;
        return false;
    }
    for (int i = 0; i < conn.n_estimates; i++) {
        if (sqlite3_stricmp(conn.estimates[i].table, table) == 0) {
            *rows = conn.estimates[i].rows;
            return true;
        }
    }
    return false;
}

void cache_row_estimate(Connection& conn, const char* table, double rows)
{
    pg::call([&] {
        if (conn.n_estimates == conn.max_estimates) {
            int n = conn.max_estimates ? conn.max_estimates * 2 : 8;
            Size size = sizeof(RowEstimate) * n;
            conn.estimates = static_cast<RowEstimate*>(conn.estimates ? repalloc(conn.estimates, size)
                                                                      : MemoryContextAlloc(g_cache_cxt, size));
            conn.max_estimates = n;
        }
        conn.estimates[conn.n_estimates].table = MemoryContextStrdup(g_cache_cxt, table);
        conn.estimates[conn.n_estimates].rows = rows;
        conn.n_estimates++;
    });
}

sqlite3_stmt* try_prepare(Connection& conn, const char* sql)
{
    log_statement(sql);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(conn.db, sql, -1, &stmt, nullptr) != SQLITE_OK) {
        sqlite3_finalize(stmt);
        return nullptr;
    }
    return stmt;
}

sqlite3_stmt* prepare(Connection& conn, const char* sql)
{
    log_statement(sql);
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(conn.db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(stmt);
        raise_error(conn, rc, sql);
    }
    return stmt;
}

bool step_row(Connection& conn, sqlite3_stmt* stmt, const char* sql)
{
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    raise_error(conn, rc, sql);
}

void own_statement(Connection& conn, sqlite3_stmt* stmt, MemoryContext cxt)
{
    auto* owned = static_cast<OwnedStatement*>(
        pg::call([&] { return MemoryContextAllocZero(cxt, sizeof(OwnedStatement)); }));
    owned->stmt = stmt;
    owned->conn = &conn;
    owned->generation = conn.generation;
    owned->callback.func = release_statement;
    owned->callback.arg = owned;
    MemoryContextRegisterResetCallback(cxt, &owned->callback);
    conn.readers++;
}

std::vector<Connection*> open_connections()
{
    std::vector<Connection*> open;
    if (!g_connections)
        return open;
    for (HTAB* table : {g_connections, g_writers}) {
        HASH_SEQ_STATUS scan;
        hash_seq_init(&scan, table);
        while (auto* conn = static_cast<Connection*>(hash_seq_search(&scan)))
            if (conn->db)
                open.push_back(conn);
    }
    return open;
}

Connection* cached_connection(Oid serverid)
{
    if (!g_connections)
        return nullptr;
    auto* conn = static_cast<Connection*>(hash_search(g_connections, &serverid, HASH_FIND, nullptr));
    return conn && conn->db ? conn : nullptr;
}

bool close_if_idle(Connection& conn)
{
    if (!conn.db)
        return false;
    if (conn.write_xact)
        return false; /* committed or rolled back with the PostgreSQL transaction */
    if (conn.readers > 0) {
        const char* path = conn.path;
        pg::call([&] {
            ereport(WARNING, (errmsg("cannot close the connection to \"%s\" while a query is reading it", path)));
        });
        return false;
    }
    close_connection(conn);
    return true;
}

}  // namespace recio::sqlite

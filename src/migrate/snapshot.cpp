/*
 * snapshot.cpp: recio_migrate.snapshot_copy(server, directory), the file
 * half of snapshot(): the caller's rights, the directory, a new file created
 * exclusively under a name derived from the server's name and the
 * transaction's start time, the online copy (sqlite/backup.h), fsync, and
 * the copy's size and sha256.  snapshot() (sql/src/snapshot.sql) records
 * the ledger row and creates the foreign server over the copy.
 *
 * Every PostgreSQL call goes through pg::call, so a cancel or an error
 * unwinds as a C++ exception: the catch block in recio_snapshot_copy
 * removes the partial file on every path.  A file is not transactional: a
 * finished copy is remembered until its transaction ends, and removed when
 * the transaction (or the subtransaction that made it) aborts, so a
 * snapshot rolled back leaves no file without its ledger row and server.
 */
#include "common/error_boundary.h"
#include "common/file_digest.h"

extern "C" {
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
}

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

#include "fdw/options.h"
#include "sqlite/backup.h"

namespace recio {
namespace {

constexpr int kMaxNameTries = 100;

bool has_role(Oid role)
{
    return pg::call([&] { return superuser() || has_privs_of_role(GetUserId(), role); });
}

/*
 * Writing a file as the PostgreSQL OS user needs pg_write_server_files; the
 * server over the copy names a file, which needs pg_read_server_files (the
 * wrapper's rule for the database option); reading the source needs USAGE
 * on its server, as every read through the wrapper does.  All are checked
 * before anything is written.
 */
void check_rights(Oid serverid, const char* server)
{
    if (pg::call([&] { return pg_foreign_server_aclcheck(serverid, GetUserId(), ACL_USAGE); }) != ACLCHECK_OK)
        throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, format("permission denied for foreign server %s", server));
    if (!has_role(ROLE_PG_WRITE_SERVER_FILES))
        throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied to write a snapshot file",
                    "Only superusers and roles with privileges of the pg_write_server_files role may write files "
                    "as the PostgreSQL OS user.");
    if (!has_role(ROLE_PG_READ_SERVER_FILES))
        throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied to create a server over a snapshot file",
                    "The snapshot's server names a file, which only superusers and roles with privileges of the "
                    "pg_read_server_files role may do.");
}

/* The directory, absolute, without trailing slashes; checked to exist and be writable. */
std::string checked_directory(const char* given)
{
    std::string dir = given;
    if (dir.empty() || dir[0] != '/')
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, format("snapshot directory \"%s\" is not an absolute path", given));
    if (dir.find('\n') != std::string::npos || dir.find('\r') != std::string::npos)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "snapshot directory must not contain line breaks");
    while (dir.size() > 1 && dir.back() == '/')
        dir.pop_back();
    /* room for the file name (at most 64 + 24 bytes) and a side file's suffix */
    if (dir.size() > MAXPGPATH - 128)
        throw Error(ERRCODE_NAME_TOO_LONG, format("snapshot directory path is too long (%zu bytes, at most %d)",
                                                  dir.size(), MAXPGPATH - 128));
    struct stat st;
    if (stat(dir.c_str(), &st) != 0) {
        int err = errno;
        if (err == ENOENT)
            throw Error(ERRCODE_UNDEFINED_FILE, format("snapshot directory \"%s\" does not exist", dir.c_str()));
        if (err == EACCES)
            throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
                        format("could not access snapshot directory \"%s\": %s", dir.c_str(), strerror(err)));
        throw Error(ERRCODE_IO_ERROR, format("could not access snapshot directory \"%s\": %s", dir.c_str(), strerror(err)));
    }
    if (!S_ISDIR(st.st_mode))
        throw Error(ERRCODE_WRONG_OBJECT_TYPE, format("\"%s\" is not a directory", dir.c_str()));
    if (access(dir.c_str(), W_OK | X_OK) != 0) {
        int err = errno;
        throw Error(err == EACCES ? ERRCODE_INSUFFICIENT_PRIVILEGE : ERRCODE_IO_ERROR,
                    format("could not write into snapshot directory \"%s\": %s", dir.c_str(), strerror(err)),
                    {}, "The PostgreSQL OS user must be able to create files in it.");
    }
    return dir;
}

/*
 * <server>-<UTC time of the transaction's start>: the server name with
 * every byte but [A-Za-z0-9_-] replaced by '_' (no '/', no "..", no
 * hidden file), cut to 64 bytes.
 */
std::string file_stem(const char* server)
{
    std::string stem;
    for (const char* p = server; *p && stem.size() < 64; p++) {
        unsigned char c = static_cast<unsigned char>(*p);
        stem += (isascii(c) && (isalnum(c) || c == '_' || c == '-')) ? static_cast<char>(c) : '_';
    }
    if (stem.empty() || stem[0] == '-')
        stem.insert(0, "s");
    time_t t = static_cast<time_t>(
        pg::call([] { return timestamptz_to_time_t(GetCurrentTransactionStartTimestamp()); }));
    struct tm tm;
    gmtime_r(&t, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y%m%dT%H%M%SZ", &tm);
    return stem + "-" + when;
}

bool side_file_exists(const std::string& path)
{
    return access((path + "-journal").c_str(), F_OK) == 0 || access((path + "-wal").c_str(), F_OK) == 0 ||
           access((path + "-shm").c_str(), F_OK) == 0;
}

/*
 * A new, empty file: <stem>.db, or <stem>-2.db, ... when that name is
 * taken (O_EXCL: an existing file is never opened, let alone overwritten;
 * a name with a side file next to it is passed over too, so the copy
 * never meets a journal it did not write).
 */
std::string create_new_file(const std::string& dir, const std::string& stem)
{
    for (int i = 1; i <= kMaxNameTries; i++) {
        pg::check_for_interrupts();
        std::string path = dir + "/" + stem + (i == 1 ? "" : format("-%d", i)) + ".db";
        if (side_file_exists(path))
            continue;
        int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            close(fd);
            return path;
        }
        int err = errno;
        if (err == EEXIST)
            continue;
        if (err == ENOSPC || err == EDQUOT)
            throw Error(ERRCODE_DISK_FULL, format("could not create snapshot file \"%s\": %s", path.c_str(), strerror(err)));
        throw Error(err == EACCES ? ERRCODE_INSUFFICIENT_PRIVILEGE : ERRCODE_IO_ERROR,
                    format("could not create snapshot file \"%s\": %s", path.c_str(), strerror(err)));
    }
    throw Error(ERRCODE_DUPLICATE_FILE, format("could not create a snapshot file in \"%s\"", dir.c_str()),
                format("\"%s.db\" and %d variants of that name already exist.", stem.c_str(), kMaxNameTries - 1));
}

void remove_partial(const char* path)
{
    unlink(path);
    for (const char* suffix : {"-journal", "-wal", "-shm"}) {
        char side[MAXPGPATH + 16];
        snprintf(side, sizeof side, "%s%s", path, suffix);
        unlink(side);
    }
}

/* Files made in this transaction, removed if it aborts (in TopMemoryContext). */
struct MadeFile {
    MadeFile* next;
    SubTransactionId subid;
    char path[FLEXIBLE_ARRAY_MEMBER];
};
MadeFile* g_made = nullptr;
bool g_callbacks = false;

/* Never raises: unlink and pfree only. */
void forget_or_remove(bool remove, SubTransactionId subid, SubTransactionId parent)
{
    for (MadeFile** p = &g_made; *p;) {
        MadeFile* f = *p;
        if (subid != InvalidSubTransactionId && f->subid != subid) {
            p = &f->next;
            continue;
        }
        if (!remove && subid != InvalidSubTransactionId) {
            f->subid = parent; /* subtransaction committed: the file now belongs to its parent */
            p = &f->next;
            continue;
        }
        if (remove)
            remove_partial(f->path);
        *p = f->next;
        pfree(f);
    }
}

void xact_callback(XactEvent event, void*)
{
    if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
        forget_or_remove(true, InvalidSubTransactionId, InvalidSubTransactionId);
    else if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PREPARE)
        forget_or_remove(false, InvalidSubTransactionId, InvalidSubTransactionId);
}

void subxact_callback(SubXactEvent event, SubTransactionId subid, SubTransactionId parent, void*)
{
    if (event == SUBXACT_EVENT_ABORT_SUB)
        forget_or_remove(true, subid, parent);
    else if (event == SUBXACT_EVENT_COMMIT_SUB)
        forget_or_remove(false, subid, parent);
}

void remember_made_file(const std::string& path)
{
    pg::call([&] {
        if (!g_callbacks) {
            RegisterXactCallback(xact_callback, nullptr);
            RegisterSubXactCallback(subxact_callback, nullptr);
            g_callbacks = true;
        }
        auto* f = static_cast<MadeFile*>(MemoryContextAlloc(TopMemoryContext, offsetof(MadeFile, path) + path.size() + 1));
        memcpy(f->path, path.c_str(), path.size() + 1);
        f->subid = GetCurrentSubTransactionId();
        f->next = g_made;
        g_made = f;
    });
}

}  // namespace
}  // namespace recio

/*
 * snapshot_copy(server name, directory text, OUT file, OUT bytes, OUT pages,
 * OUT page_size, OUT sha256, OUT data_version, OUT source_journal,
 * OUT restarts, OUT steps, OUT one_transaction, OUT longest_step_ms,
 * OUT seconds)
 */
RECIO_FUNCTION(recio_snapshot_copy)
{
    using namespace recio;
    const char* server = pg::call([&] { return pstrdup(NameStr(*PG_GETARG_NAME(0))); });
    const char* directory = pg::call([&] { return text_to_cstring(PG_GETARG_TEXT_PP(1)); });
    Oid serverid = pg::call([&] { return get_foreign_server_oid(server, false); });
    bool ours = pg::call([&] {
        ForeignServer* s = GetForeignServer(serverid);
        return strcmp(GetForeignDataWrapper(s->fdwid)->fdwname, "recio_sqlite") == 0;
    });
    if (!ours)
        throw Error(ERRCODE_WRONG_OBJECT_TYPE, format("foreign server \"%s\" is not a recio_sqlite server", server));
    check_rights(serverid, server);
    ServerOptions opts = server_options(serverid);
    std::string dir = checked_directory(directory);
    TupleDesc desc;
    if (pg::call([&] { return get_call_result_type(fcinfo, nullptr, &desc); }) != TYPEFUNC_COMPOSITE)
        throw Error(ERRCODE_FEATURE_NOT_SUPPORTED, "function returning record called in context that cannot accept it");

    TimestampTz started = GetCurrentTimestamp();
    std::string path = create_new_file(dir, file_stem(server));
    sqlite::BackupStats stats;
    FileDigest digest;
    try {
        stats = sqlite::backup_into(sqlite::FileSpec{opts.database, opts.busy_timeout_ms, opts.immutable}, path.c_str());
        fsync_path(path, false, "snapshot file");
        fsync_path(dir, true, "snapshot file");
        digest = digest_file(path, "snapshot file");
        remember_made_file(path);
    } catch (...) {
        remove_partial(path.c_str());
        throw;
    }
    double seconds = static_cast<double>(GetCurrentTimestamp() - started) / 1e6;
    return pg::call([&] {
        Datum values[14];
        bool nulls[14] = {};
        values[0] = CStringGetTextDatum(path.c_str());
        values[1] = Int64GetDatum(digest.bytes);
        values[2] = Int64GetDatum(stats.pages);
        values[3] = Int32GetDatum(stats.page_size);
        values[4] = CStringGetTextDatum(digest.sha256.c_str());
        values[5] = Int64GetDatum(stats.data_version);
        values[6] = CStringGetTextDatum(stats.source_wal ? "wal" : "rollback");
        values[7] = Int32GetDatum(stats.restarts);
        values[8] = Int32GetDatum(stats.steps);
        values[9] = BoolGetDatum(stats.one_transaction);
        values[10] = Float8GetDatum(stats.longest_step_ms);
        values[11] = Float8GetDatum(seconds);
        values[12] = TimestampTzGetDatum(started);
        values[13] = CStringGetTextDatum(opts.database);
        return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls));
    });
}

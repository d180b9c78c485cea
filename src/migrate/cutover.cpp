/*
 * cutover.cpp: the facts cutover_check() reads from a legacy file that no
 * SQL query can give: recio_migrate.file_quiet(server, seconds), whether
 * the file, its -wal and its data_version stayed unchanged for a while, and
 * recio_migrate.sqlite_sequence(server), the AUTOINCREMENT counters.
 */
#include "fdw/connection.h"

extern "C" {
#include "access/htup_details.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"
}

#include <sys/stat.h>

#include <cstring>
#include <string>

#include "fdw/options.h"

namespace recio {
namespace {

constexpr long kSampleMs = 100;

Oid usable_server(FunctionCallInfo fcinfo, const char** name_out)
{
    const char* name = pg::call([&] { return pstrdup(NameStr(*PG_GETARG_NAME(0))); });
    Oid serverid = pg::call([&] { return get_foreign_server_oid(name, false); });
    if (pg::call([&] { return pg_foreign_server_aclcheck(serverid, GetUserId(), ACL_USAGE); }) != ACLCHECK_OK)
        throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, format("permission denied for foreign server %s", name));
    *name_out = name;
    return serverid;
}

struct FileState {
    bool exists;
    int64 size;
    struct timespec mtime;
};

FileState file_state(const std::string& path)
{
    struct stat st;
    if (stat(path.c_str(), &st) != 0)
        return FileState{false, 0, {0, 0}};
    return FileState{true, static_cast<int64>(st.st_size), st.st_mtim};
}

bool same(const FileState& a, const FileState& b)
{
    return a.exists == b.exists && a.size == b.size && a.mtime.tv_sec == b.mtime.tv_sec &&
           a.mtime.tv_nsec == b.mtime.tv_nsec;
}

/* "absent" or "<size> bytes, mtime <UTC time to the microsecond>" */
std::string shown_state(const FileState& s)
{
    if (!s.exists)
        return "absent";
    struct tm tm;
    gmtime_r(&s.mtime.tv_sec, &tm);
    char when[40];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    return format("%lld bytes, mtime %s.%06ld UTC", static_cast<long long>(s.size), when, s.mtime.tv_nsec / 1000);
}

struct Sample {
    FileState main;
    FileState wal;
    int64 data_version; /* -1: not read */
};

/*
 * PRAGMA data_version on the private connection: one short read
 * transaction, so the legacy writer is held up for microseconds at most.
 * Only its changes between two reads on the same connection mean anything.
 */
int64 read_data_version(sqlite::Connection& conn)
{
    if (!conn.db)
        return -1;
    sqlite::Statement st(conn, "PRAGMA data_version");
    return st.step() ? st.int64_value(0) : -1;
}

Sample take_sample(sqlite::Connection& conn, const std::string& path)
{
    Sample s{file_state(path), file_state(path + "-wal"), 0};
    s.data_version = read_data_version(conn);
    return s;
}

/* What differs between two samples, or "" */
std::string change(const Sample& a, const Sample& b)
{
    std::string out;
    if (!same(a.main, b.main))
        out = format("file: %s -> %s", shown_state(a.main).c_str(), shown_state(b.main).c_str());
    if (!same(a.wal, b.wal))
        out += format("%s-wal: %s -> %s", out.empty() ? "" : "; ", shown_state(a.wal).c_str(),
                      shown_state(b.wal).c_str());
    if (a.data_version != b.data_version)
        out += format("%sdata_version %lld -> %lld", out.empty() ? "" : "; ", static_cast<long long>(a.data_version),
                      static_cast<long long>(b.data_version));
    return out;
}

void wait_sample_interval()
{
    pg::call([] {
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, kSampleMs, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    });
    pg::check_for_interrupts();
}

struct QuietResult {
    bool quiet;
    int samples;
    std::string detail;
};

QuietResult watch(sqlite::Connection& conn, const std::string& path, int seconds, const char* no_version)
{
    Sample first = take_sample(conn, path);
    TimestampTz start = GetCurrentTimestamp();
    TimestampTz end = start + static_cast<int64>(seconds) * USECS_PER_SEC;
    int samples = 1;
    while (GetCurrentTimestamp() < end) {
        wait_sample_interval();
        Sample now = take_sample(conn, path);
        samples++;
        std::string what = change(first, now);
        if (!what.empty())
            return QuietResult{false, samples,
                               format("changed after %.1f s: %s", (GetCurrentTimestamp() - start) / 1e6, what.c_str())};
    }
    std::string version = first.data_version >= 0
                              ? format("data_version %lld", static_cast<long long>(first.data_version))
                              : format("data_version not read (%s)", no_version);
    return QuietResult{true, samples,
                       format("unchanged for %d s (%d samples): file %s; -wal %s; %s", seconds, samples,
                              shown_state(first.main).c_str(), shown_state(first.wal).c_str(), version.c_str())};
}

}  // namespace
}  // namespace recio

/* file_quiet(server name, quiet_seconds integer, OUT quiet boolean, OUT samples integer, OUT detail text) */
RECIO_FUNCTION(recio_file_quiet)
{
    using namespace recio;
    const char* name;
    Oid serverid = usable_server(fcinfo, &name);
    int seconds = PG_GETARG_INT32(1);
    if (seconds < 0 || seconds > 3600)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, format("quiet_seconds must be between 0 and 3600, not %d", seconds));
    ServerOptions opts = server_options(serverid);
    std::string path = opts.database;
    sqlite::Connection conn;
    memset(&conn, 0, sizeof conn);
    const char* no_version = "";
    QuietResult result;
    try {
        if (opts.immutable)
            no_version = "the server is immutable: SQLite sees no change on it";
        else {
            try {
                sqlite::open_private(conn, sqlite::FileSpec{opts.database, opts.busy_timeout_ms, false});
            } catch (const Error& e) {
                /* a WAL file no writer has open (55000) or a file gone: the file's own facts still tell */
                if (e.sqlstate() != ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE &&
                    e.sqlstate() != ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION)
                    throw;
                no_version = "the file could not be opened: no writer has this WAL-mode file open, or it is gone";
                sqlite::close_private(conn);
            }
        }
        result = watch(conn, path, seconds, no_version);
    } catch (...) {
        sqlite::close_private(conn);
        throw;
    }
    sqlite::close_private(conn);
    TupleDesc desc;
    if (pg::call([&] { return get_call_result_type(fcinfo, nullptr, &desc); }) != TYPEFUNC_COMPOSITE)
        throw Error(ERRCODE_FEATURE_NOT_SUPPORTED, "function returning record called in context that cannot accept it");
    return pg::call([&] {
        Datum values[3] = {BoolGetDatum(result.quiet), Int32GetDatum(result.samples),
                           CStringGetTextDatum(result.detail.c_str())};
        bool nulls[3] = {false, false, false};
        return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls));
    });
}

/* sqlite_sequence(server name, OUT name text, OUT seq bigint): no rows when the file has no AUTOINCREMENT table */
RECIO_FUNCTION(recio_sqlite_sequence)
{
    using namespace recio;
    const char* name;
    Oid serverid = usable_server(fcinfo, &name);
    pg::call([&] { InitMaterializedSRF(fcinfo, 0); });
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    sqlite::Connection& conn = server_connection(serverid);
    const char* sql = "SELECT name, seq FROM sqlite_sequence WHERE typeof(name) = 'text' ORDER BY name";
    sqlite3_stmt* st = sqlite::try_prepare(conn, sql);
    if (!st)
        return Datum(0);
    sqlite::own_statement(conn, st, CurrentMemoryContext);
    while (sqlite::step_row(conn, st, sql)) {
        pg::check_for_interrupts();
        const char* t = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        if (!t || !pg_verify_mbstr(PG_UTF8, t, static_cast<int>(strlen(t)), true))
            continue;
        bool seq_null = sqlite3_column_type(st, 1) != SQLITE_INTEGER;
        int64 seq = sqlite3_column_int64(st, 1);
        pg::call([&] {
            Datum values[2] = {CStringGetTextDatum(t), Int64GetDatum(seq)};
            bool nulls[2] = {false, seq_null};
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        });
    }
    return Datum(0);
}

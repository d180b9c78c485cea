/*
 * export.cpp: recio_migrate.export_file(), the file half of export_sqlite()
 * (which keeps the ledger).  It writes a NEW SQLite file holding every table
 * of a server that was migrated into a schema, as the legacy application
 * knows it: the legacy CREATE TABLE text the migration recorded
 * (recio_migrate.legacy_tables), the rows of the PostgreSQL tables converted
 * back into the legacy representation of each column (value_reverse.h: the
 * same conversion the writable wrapper uses), then the legacy indexes and
 * triggers, and sqlite_sequence past every key the file or PostgreSQL ever
 * handed out.
 *
 * The path must not exist: it is created exclusively (O_EXCL), and removed
 * again when anything fails or the statement is cancelled (a memory context
 * callback in the transaction's context, run on abort), so a failed export
 * never leaves a half-written file that looks like a legacy file.  All tables
 * are read in one snapshot (the statement's).
 */
#include "migrate/source.h"

extern "C" {
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "access/relation.h"
#include "utils/timestamp.h"
}

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/file_digest.h"
#include "common/relation_access.h"
#include "fdw/modify.h"
#include "fdw/options.h"
#include "sqlite/affinity.h"
#include "sqlite/connection_cache.h"
#include "sqlite/sql_text.h"
#include "sqlite/value_reverse.h"

namespace recio {
namespace {

constexpr int kFetchRows = 1000;

/* One table to write, as the ledger recorded it. */
struct ExportTable {
    std::string sqlite_table;
    Oid source; /* the recio_sqlite foreign table it was migrated from */
    Oid target; /* the PostgreSQL table that holds its rows now */
    std::string create_sql;
    std::vector<std::string> index_sql;
    std::vector<std::string> trigger_sql;
    std::vector<std::string> view_sql; /* the file's views when this table was migrated */
    bool has_sequence;
    int64 sequence; /* sqlite_sequence.seq in the legacy file when it was migrated */
};

/*
 * The file being written.  Lives in a memory context under the
 * transaction's: if the export fails (or the transaction aborts before the
 * file is complete), the callback closes the connection and removes the file.
 */
struct NewFile {
    sqlite3* db;
    char* path;
    bool complete;
    MemoryContextCallback callback;
};

void discard_unfinished(void* arg)
{
    auto* f = static_cast<NewFile*>(arg);
    if (f->db)
        sqlite3_close_v2(f->db);
    f->db = nullptr;
    if (!f->complete && f->path)
        unlink(f->path); /* nothing to do about a failure here: the abort path never raises */
}

/*
 * Authorizer of the export connection: the legacy DDL texts and our own
 * inserts, nothing else (no ATTACH, no load_extension, no file functions,
 * no PRAGMA assignments but the ones this file sets before installing it).
 */
int export_authorizer(void*, int action, const char* arg1, const char* arg2, const char*, const char*)
{
    switch (action) {
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_INDEX:
    case SQLITE_REINDEX: /* CREATE INDEX fills the new index */
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_CREATE_VIEW:
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_READ:
    case SQLITE_SELECT:
    case SQLITE_TRANSACTION:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_FUNCTION:
        return sqlite::forbidden_function(arg2) ? SQLITE_DENY : SQLITE_OK;
    case SQLITE_PRAGMA:
        /* the introspection the export reads back (table_xinfo of a table: arg2), never an assignment */
        return arg1 && sqlite3_stricmp(arg1, "table_xinfo") == 0 ? SQLITE_OK : SQLITE_DENY;
    default:
        return SQLITE_DENY;
    }
}

[[noreturn]] void raise_file_error(NewFile& f, int rc, const std::string& what)
{
    int code = rc == SQLITE_FULL ? ERRCODE_DISK_FULL : rc == SQLITE_CONSTRAINT ? ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION
                                                                                : ERRCODE_FDW_ERROR;
    throw Error(code, format("could not write SQLite file \"%s\"", f.path),
                format("%s: %s", what.c_str(), f.db ? sqlite3_errmsg(f.db) : sqlite3_errstr(rc)));
}

/* Run one statement of ours or of the ledger on the new file; a text holding more than one statement is refused. */
void execute(NewFile& f, const std::string& sql)
{
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(f.db, sql.c_str(), static_cast<int>(sql.size()), &stmt, &tail);
    if (rc != SQLITE_OK)
        raise_file_error(f, rc, sql);
    while (tail && (*tail == ' ' || *tail == '\n' || *tail == '\t' || *tail == '\r' || *tail == ';'))
        tail++;
    if (tail && *tail) {
        sqlite3_finalize(stmt);
        throw Error(ERRCODE_DATA_CORRUPTED, format("the recorded legacy DDL holds more than one statement"),
                    format("Text: %s", sql.c_str()));
    }
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
        raise_file_error(f, rc, sql);
}

NewFile& create_file(const char* path)
{
    NewFile* f = pg::call([&] {
        MemoryContext cxt = AllocSetContextCreate(CurTransactionContext, "recio export", ALLOCSET_SMALL_SIZES);
        auto* nf = static_cast<NewFile*>(MemoryContextAllocZero(cxt, sizeof(NewFile)));
        nf->path = MemoryContextStrdup(cxt, path);
        nf->callback.func = discard_unfinished;
        nf->callback.arg = nf;
        MemoryContextRegisterResetCallback(cxt, &nf->callback);
        return nf;
    });
    f->complete = true; /* nothing to remove until the file is ours */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        int code = e == EEXIST ? ERRCODE_DUPLICATE_FILE : e == ENOENT ? ERRCODE_UNDEFINED_FILE
                               : e == EACCES                          ? ERRCODE_INSUFFICIENT_PRIVILEGE
                                                                      : ERRCODE_IO_ERROR;
        throw Error(code, format("could not create file \"%s\": %s", path, strerror(e)),
                    e == EEXIST ? "export_sqlite() writes a new file and never overwrites one." : "");
    }
    close(fd);
    f->complete = false;
    int rc = sqlite3_open_v2(path, &f->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK)
        raise_file_error(*f, rc, "open");
    sqlite3_extended_result_codes(f->db, 1);
    /* a new file nobody else opens: no journal while it is filled (a failure removes the file) */
    execute(*f, "PRAGMA journal_mode = OFF");
    execute(*f, "PRAGMA synchronous = OFF");
    execute(*f, "PRAGMA cache_size = -65536"); /* 64 MB: the legacy indexes are built after the rows */
    sqlite3_set_authorizer(f->db, export_authorizer, nullptr);
    return *f;
}

std::vector<std::string> text_array(Datum d)
{
    std::vector<std::string> out;
    Datum* elems;
    bool* nulls;
    int n;
    pg::call([&] {
        deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
    });
    for (int i = 0; i < n; i++)
        if (!nulls[i])
            out.emplace_back(pg::call([&] { return TextDatumGetCString(elems[i]); }));
    return out;
}

/* The tables the ledger says were migrated from server into target_schema, each from its latest successful run. */
std::vector<ExportTable> tables_to_export(const char* server, const char* target_schema)
{
    static const char* query =
        "SELECT DISTINCT ON (pg_catalog.lower(l.sqlite_table)) l.sqlite_table, ft.ftrelid, t.oid, l.create_sql, "
        "       l.index_sql, l.trigger_sql, l.sqlite_sequence, l.view_sql "
        "FROM recio_migrate.runs r "
        "JOIN recio_migrate.legacy_tables l ON l.run_id = r.run_id "
        "JOIN pg_catalog.pg_foreign_table ft ON ft.ftrelid = pg_catalog.to_regclass(r.source_table) "
        "JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver "
        "JOIN pg_catalog.pg_class t ON t.oid = pg_catalog.to_regclass(r.target_table) "
        "WHERE s.srvname = $1 AND t.relnamespace = $2 AND r.status = 'succeeded' AND l.create_sql IS NOT NULL "
        "ORDER BY pg_catalog.lower(l.sqlite_table), r.run_id DESC";
    std::vector<ExportTable> tables;
    Oid nsp = pg::call([&] { return get_namespace_oid(target_schema, false); });
    int n = pg::call([&] {
        Oid types[2] = {NAMEOID, OIDOID};
        Datum values[2] = {CStringGetDatum(server), ObjectIdGetDatum(nsp)};
        if (SPI_execute_with_args(query, 2, types, values, nullptr, true, 0) != SPI_OK_SELECT)
            elog(ERROR, "export_sqlite: reading the ledger failed");
        return static_cast<int>(SPI_processed);
    });
    for (int i = 0; i < n; i++) {
        ExportTable t{};
        bool isnull[8];
        Datum v[8];
        pg::call([&] {
            for (int c = 0; c < 8; c++)
                v[c] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, c + 1, &isnull[c]);
        });
        t.sqlite_table = pg::call([&] { return TextDatumGetCString(v[0]); });
        t.source = DatumGetObjectId(v[1]);
        t.target = DatumGetObjectId(v[2]);
        t.create_sql = pg::call([&] { return TextDatumGetCString(v[3]); });
        t.index_sql = text_array(v[4]);
        t.trigger_sql = text_array(v[5]);
        t.has_sequence = !isnull[6];
        t.sequence = isnull[6] ? 0 : DatumGetInt64(v[6]);
        t.view_sql = text_array(v[7]);
        tables.push_back(std::move(t));
    }
    return tables;
}

/* The columns of the new file's table (its legacy CREATE TABLE), for their affinities. */
std::vector<sqlite::ColumnInfo> file_columns(NewFile& f, const std::string& table)
{
    std::string q = "SELECT name, type, \"notnull\", pk FROM pragma_table_xinfo(" +
                    sqlite::quote_literal(table.c_str()) + ") WHERE hidden = 0";
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(f.db, q.c_str(), -1, &stmt, nullptr);
    if (rc != SQLITE_OK)
        raise_file_error(f, rc, q);
    std::vector<sqlite::ColumnInfo> cols;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const unsigned char* name = sqlite3_column_text(stmt, 0);
        const unsigned char* type = sqlite3_column_text(stmt, 1);
        cols.push_back({name ? reinterpret_cast<const char*>(name) : "", type ? reinterpret_cast<const char*>(type) : "",
                        sqlite3_column_int(stmt, 2) != 0, sqlite3_column_int(stmt, 3)});
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
        raise_file_error(f, rc, q);
    return cols;
}

struct Written {
    int64 rows;
    int64 max_key; /* greatest rowid-alias key written, for sqlite_sequence */
};

/*
 * Write the rows of t.target into the new file's t.sqlite_table, each column
 * converted back into its legacy representation.
 */
Written write_rows(NewFile& f, const ExportTable& t)
{
    SourceTable src = source_table(t.source);
    /* the target columns the source feeds, by name; a column the application added has no legacy place */
    std::vector<const SourceColumn*> cols;
    std::string select = "SELECT ";
    std::string insert = "INSERT INTO " + sqlite::quote_ident(t.sqlite_table.c_str()) + " (";
    std::string params;
    for (const SourceColumn& c : src.columns) {
        AttrNumber att = pg::call([&] { return get_attnum(t.target, c.pg_name); });
        if (att == InvalidAttrNumber)
            continue;
        select += std::string(cols.empty() ? "" : ", ") + pg::call([&] { return quote_identifier(c.pg_name); });
        insert += std::string(cols.empty() ? "" : ", ") + sqlite::quote_ident(c.sqlite_name);
        params += std::string(cols.empty() ? "?" : ", ?");
        cols.push_back(&c);
    }
    std::string target_name = pg::call([&] {
        return quote_qualified_identifier(get_namespace_name(get_rel_namespace(t.target)), get_rel_name(t.target));
    });
    if (cols.empty())
        throw Error(ERRCODE_UNDEFINED_COLUMN,
                    format("table %s has no column of the legacy table \"%s\"", target_name.c_str(),
                           t.sqlite_table.c_str()));
    select += " FROM " + target_name;
    insert += ") VALUES (" + params + ")";

    /* each column written as the legacy column wants it (the source's options, the legacy declared type) */
    std::vector<sqlite::ColumnInfo> legacy_cols = file_columns(f, t.sqlite_table);
    ServerOptions sopts = server_options(src.serverid);
    TableOptions topts = table_options(t.source);
    const char* default_tz = topts.timezone ? topts.timezone : sopts.timezone;
    std::vector<ReverseConverter> convs(cols.size());
    Relation srel = pg::call([&] { return relation_open(t.source, AccessShareLock); });
    try {
        for (size_t i = 0; i < cols.size(); i++) {
            Form_pg_attribute att = TupleDescAttr(RelationGetDescr(srel), cols[i]->attnum - 1);
            LegacyColumn legacy = legacy_column(t.source, att, legacy_cols, default_tz, src.relname);
            Oid typid = pg::call([&] { return get_atttype(t.target, get_attnum(t.target, cols[i]->pg_name)); });
            plan_reverse(convs[i], typid, legacy);
        }
    } catch (...) {
        pg::call([&] { relation_close(srel, AccessShareLock); });
        throw;
    }
    pg::call([&] { relation_close(srel, NoLock); });

    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(f.db, insert.c_str(), -1, &stmt, nullptr);
    if (rc != SQLITE_OK)
        raise_file_error(f, rc, insert);
    Written w{0, 0};
    Portal portal = pg::call([&] {
        SPIPlanPtr plan = SPI_prepare(select.c_str(), 0, nullptr);
        if (!plan)
            elog(ERROR, "export_sqlite: could not read %s", select.c_str());
        return SPI_cursor_open(nullptr, plan, nullptr, nullptr, true);
    });
    /* a batch's rows deformed in one PostgreSQL call, then bound and stepped with no PostgreSQL call between */
    size_t ncols = cols.size();
    std::vector<Datum> values(ncols * kFetchRows);
    std::unique_ptr<bool[]> nulls(new bool[ncols * kFetchRows]);
    MemoryContext batch_cxt =
        pg::call([] { return AllocSetContextCreate(CurrentMemoryContext, "recio export batch", ALLOCSET_DEFAULT_SIZES); });
    try {
        for (;;) {
            uint64 n = pg::call([&] {
                SPI_cursor_fetch(portal, true, kFetchRows);
                for (uint64 r = 0; r < SPI_processed; r++)
                    heap_deform_tuple(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, &values[r * ncols],
                                      &nulls[r * ncols]);
                return SPI_processed;
            });
            if (n == 0)
                break;
            pg::check_for_interrupts();
            /* what the conversions allocate lives for one batch */
            MemoryContext outer = MemoryContextSwitchTo(batch_cxt);
            try {
                for (uint64 r = 0; r < n; r++) {
                    for (size_t i = 0; i < ncols; i++)
                        bind_legacy(convs[i], stmt, static_cast<int>(i) + 1, values[r * ncols + i],
                                    nulls[r * ncols + i]);
                    rc = sqlite3_step(stmt);
                    if (rc != SQLITE_DONE)
                        raise_file_error(f, rc, insert);
                    sqlite3_reset(stmt);
                    w.rows++;
                }
            } catch (...) {
                MemoryContextSwitchTo(outer);
                throw;
            }
            MemoryContextSwitchTo(outer);
            pg::call([&] {
                MemoryContextReset(batch_cxt);
                SPI_freetuptable(SPI_tuptable);
            });
        }
    } catch (...) {
        sqlite3_finalize(stmt);
        throw;
    }
    sqlite3_finalize(stmt);
    pg::call([&] { SPI_cursor_close(portal); });
    return w;
}

/* The greatest value the target's identity columns have handed out (0: none yet, or no identity). */
int64 identity_last_value(Oid target)
{
    static const char* query =
        "SELECT pg_catalog.max(pg_catalog.pg_sequence_last_value(pg_catalog.pg_get_serial_sequence("
        "$1::pg_catalog.regclass::pg_catalog.text, a.attname)::pg_catalog.regclass)) "
        "FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1 AND a.attidentity <> '' AND NOT a.attisdropped";
    return pg::call([&] {
        Oid types[1] = {OIDOID};
        Datum values[1] = {ObjectIdGetDatum(target)};
        if (SPI_execute_with_args(query, 1, types, values, nullptr, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
            elog(ERROR, "export_sqlite: reading the identity of a target failed");
        bool isnull;
        Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
        return isnull ? int64(0) : DatumGetInt64(d);
    });
}

/*
 * sqlite_sequence past every key SQLite or PostgreSQL handed out: the
 * legacy value, the greatest key now in the file (SQLite maintains that one
 * while rows are inserted), and the identity's last value in PostgreSQL.
 */
void set_sequence(NewFile& f, const ExportTable& t)
{
    std::string has = "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_sequence'";
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(f.db, has.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
        raise_file_error(f, sqlite3_errcode(f.db), has);
    bool exists = sqlite3_step(stmt) == SQLITE_ROW;
    sqlite3_finalize(stmt);
    if (!exists)
        return; /* no AUTOINCREMENT table in the file */
    int64 floor = t.has_sequence ? t.sequence : 0;
    int64 identity = identity_last_value(t.target);
    if (identity > floor)
        floor = identity;
    std::string name = sqlite::quote_literal(t.sqlite_table.c_str());
    execute(f, "INSERT INTO sqlite_sequence (name, seq) SELECT " + name + ", 0 WHERE NOT EXISTS "
               "(SELECT 1 FROM sqlite_sequence WHERE name = " + name + ") AND EXISTS "
               "(SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = " + name + " AND sql LIKE '%AUTOINCREMENT%')");
    execute(f, "UPDATE sqlite_sequence SET seq = max(seq, " + std::to_string(floor) + ") WHERE name = " + name);
}

}  // namespace
}  // namespace recio

/*
 * export_file(server name, target_schema name, file text): write the new
 * file; one row per table (sqlite_table, source: the PostgreSQL table read,
 * rows_written, seconds, sha256 of the finished file).
 */
RECIO_FUNCTION(recio_export_file)
{
    using namespace recio;
    if (!pg::call([] { return superuser() || has_privs_of_role(GetUserId(), ROLE_PG_WRITE_SERVER_FILES); }))
        throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied to write a SQLite file",
                    "Only roles with privileges of the \"pg_write_server_files\" role may export to a file.");
    const char* server = pg::call([&] { return pg::strdup(NameStr(*PG_GETARG_NAME(0))); });
    const char* target_schema = pg::call([&] { return pg::strdup(NameStr(*PG_GETARG_NAME(1))); });
    const char* path = pg::call([&] { return text_to_cstring(PG_GETARG_TEXT_PP(2)); });
    if (path[0] != '/')
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, format("file \"%s\" is not an absolute path", path));
    pg::call([&] { InitMaterializedSRF(fcinfo, 0); });
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);

    pg::call([] {
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
    });
    std::vector<ExportTable> tables = tables_to_export(server, target_schema);
    if (tables.empty())
        throw Error(ERRCODE_NO_DATA_FOUND,
                    format("no table of server \"%s\" was migrated into schema \"%s\"", server, target_schema),
                    {}, "export_sqlite() writes the tables recio_migrate.runs records as migrated by migrate_server().");
    for (const ExportTable& t : tables)
        pg::call([&] { check_select(t.target, nullptr, 0); });

    NewFile& f = create_file(path);
    struct Result {
        std::string table;
        Oid target;
        int64 rows;
        double seconds;
    };
    std::vector<Result> results;
    execute(f, "BEGIN");
    for (const ExportTable& t : tables) {
        TimestampTz t0 = GetCurrentTimestamp();
        execute(f, t.create_sql);
        Written w = write_rows(f, t);
        for (const std::string& s : t.index_sql)
            execute(f, s);
        set_sequence(f, t);
        long secs;
        int usecs;
        TimestampDifference(t0, GetCurrentTimestamp(), &secs, &usecs);
        results.push_back({t.sqlite_table, t.target, w.rows, secs + usecs / 1e6});
    }
    /* the legacy triggers last: they must not fire while the rows go in */
    for (const ExportTable& t : tables)
        for (const std::string& s : t.trigger_sql)
            execute(f, s);
    /* the file's views, each once (every table's run recorded them all; SQLite resolves a view's tables when read) */
    std::set<std::string> views;
    for (const ExportTable& t : tables)
        for (const std::string& s : t.view_sql)
            if (views.insert(s).second)
                execute(f, s);
    execute(f, "COMMIT");
    sqlite3_set_authorizer(f.db, nullptr, nullptr);
    execute(f, "PRAGMA journal_mode = DELETE");
    int rc = sqlite3_close_v2(f.db);
    f.db = nullptr;
    if (rc != SQLITE_OK)
        raise_file_error(f, rc, "close");
    /* durable, the directory entry too, before the file is reported */
    std::string file = path;
    size_t slash = file.rfind('/');
    fsync_path(file, false, "exported file");
    fsync_path(slash == 0 ? std::string("/") : file.substr(0, slash), true, "exported file");
    std::string sha = digest_file(file, "exported file").sha256;
    f.complete = true;
    pg::call([] { SPI_finish(); });
    for (const Result& r : results)
        pg::call([&] {
            Datum values[5] = {CStringGetTextDatum(r.table.c_str()), ObjectIdGetDatum(r.target), Int64GetDatum(r.rows),
                               Float8GetDatum(r.seconds), CStringGetTextDatum(sha.c_str())};
            bool nulls[5] = {false, false, false, false, false};
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        });
    return Datum(0);
}

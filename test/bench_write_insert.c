/*
 * bench_write_insert.c: the physical reference (b) of test/bench_write.sh,
 * the speed limit of writing price_log rows into a SQLite file through the
 * C API with nothing else around.
 *
 *     cc -O2 -o bench_write_insert test/bench_write_insert.c -lsqlite3
 *     bench_write_insert DB ROWS
 *
 * DB must hold an empty price_log (id INTEGER PRIMARY KEY, timestamp TEXT,
 * price REAL, volume REAL).  One transaction (BEGIN IMMEDIATE .. COMMIT) of
 * ROWS executions of one prepared INSERT, each row's timestamp formatted as
 * the legacy writer's 'YYYY-MM-DDTHH:MM:SS' text (what the wrapper writes for
 * the same rows), with the wrapper's write-connection setting cache_spill off.  Prints "rows seconds" (CLOCK_MONOTONIC, BEGIN to COMMIT).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int fail(sqlite3* db, const char* what)
{
    fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
    sqlite3_close(db);
    return 1;
}

int main(int argc, char** argv)
{
    sqlite3* db = NULL;
    sqlite3_stmt* stmt = NULL;
    long long rows, i;
    double t0, t1;
    const time_t base = 1735689600; /* 2025-01-01 00:00:00 UTC */

    if (argc != 3) {
        fprintf(stderr, "usage: %s DB ROWS\n", argv[0]);
        return 2;
    }
    rows = atoll(argv[2]);
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        return fail(db, argv[1]);
    /* as the wrapper's write connection: no page-cache spill before the commit */
    if (sqlite3_exec(db, "PRAGMA cache_spill = false", NULL, NULL, NULL) != SQLITE_OK)
        return fail(db, "cache_spill");
    t0 = now();
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return fail(db, "begin");
    if (sqlite3_prepare_v2(db, "INSERT INTO price_log (id, timestamp, price, volume) VALUES (?1, ?2, ?3, ?4)", -1,
                           &stmt, NULL) != SQLITE_OK)
        return fail(db, "prepare");
    for (i = 1; i <= rows; i++) {
        char ts[32];
        struct tm tm;
        time_t t = base + (time_t) i;
        int n;
        gmtime_r(&t, &tm);
        n = snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
        sqlite3_bind_int64(stmt, 1, i);
        sqlite3_bind_text(stmt, 2, ts, n, SQLITE_TRANSIENT);
        sqlite3_bind_double(stmt, 3, (double) i * 0.25);
        sqlite3_bind_double(stmt, 4, (double) (i % 1000));
        if (sqlite3_step(stmt) != SQLITE_DONE)
            return fail(db, "insert");
        sqlite3_reset(stmt);
    }
    sqlite3_finalize(stmt);
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return fail(db, "commit");
    t1 = now();
    sqlite3_close(db);
    printf("%lld %.6f\n", rows, t1 - t0);
    return 0;
}

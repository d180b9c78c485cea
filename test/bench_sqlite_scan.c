/*
 * bench_sqlite_scan.c: reference (1) of test/bench.sh, the speed limit of a
 * full scan of price_log through the SQLite C API with nothing else around.
 *
 *     cc -O2 -o bench_sqlite_scan test/bench_sqlite_scan.c -lsqlite3
 *     bench_sqlite_scan DB
 *
 * Opens DB read-only, steps through SELECT id, timestamp, price, volume FROM
 * price_log reading every column of every row the way a foreign scan must
 * (integer, text pointer + byte length, two doubles) and folds them into a
 * checksum so the compiler cannot drop the reads.  Prints "rows seconds" on
 * stdout (CLOCK_MONOTONIC, from prepare to finalize) and the checksum on
 * stderr.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int main(int argc, char** argv)
{
    sqlite3* db = NULL;
    sqlite3_stmt* stmt = NULL;
    const char* sql = "SELECT id, timestamp, price, volume FROM price_log";
    long long rows = 0;
    uint64_t isum = 0;
    double fsum = 0.0;
    double t0, t1;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: %s DB\n", argv[0]);
        return 2;
    }
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return 1;
    }

    t0 = now();
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        fprintf(stderr, "prepare: %s\n", sqlite3_errmsg(db));
        sqlite3_close(db);
        return 1;
    }
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        sqlite3_int64 id = sqlite3_column_int64(stmt, 0);
        const unsigned char* ts = sqlite3_column_text(stmt, 1);
        int ts_len = sqlite3_column_bytes(stmt, 1);
        double price = sqlite3_column_double(stmt, 2);
        double volume = sqlite3_column_double(stmt, 3);

        isum += (uint64_t) id + (uint64_t) ts_len;
        if (ts && ts_len > 0)
            isum += ts[ts_len - 1];   /* touch the text itself, not just its length */
        fsum += price + volume;
        rows++;
    }
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "step: %s\n", sqlite3_errmsg(db));
        sqlite3_finalize(stmt);
        sqlite3_close(db);
        return 1;
    }
    sqlite3_finalize(stmt);
    t1 = now();
    sqlite3_close(db);

    printf("%lld %.6f\n", rows, t1 - t0);
    fprintf(stderr, "checksum %llu %.6f\n", (unsigned long long) isum, fsum);
    return 0;
}

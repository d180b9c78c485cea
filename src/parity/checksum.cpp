/*
 * checksum.cpp: recio_migrate.checksum(): an order-independent 128-bit
 * checksum of a relation over canonical values (canonical.h, the README).
 * The relation is read through an SPI cursor, so foreign tables (read by
 * recio_sqlite) and local tables go the same way and the caller's privileges
 * apply; rows go straight from the executor's slot into the hash
 * (row_cursor.h).  The row loop is C-style code run under one pg::call.
 */
#include "parity/checksum.h"

#include "common/relation_access.h"
#include "parity/row_cursor.h"

extern "C" {
#include "access/relation.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

#include <cstring>

namespace recio {

constexpr uint64 kSeedHi = UINT64CONST(0x9e3779b97f4a7c15);
constexpr uint64 kSeedLo = UINT64CONST(0xc2b2ae3d27d4eb4f);

void add_row(ChecksumResult* r, const char* data, int len)
{
    auto* bytes = reinterpret_cast<const unsigned char*>(data);
    uint64 hi = hash_bytes_extended(bytes, len, kSeedHi);
    uint64 lo = hash_bytes_extended(bytes, len, kSeedLo);
    r->sum += (static_cast<unsigned __int128>(hi) << 64) | lo;
    r->rows++;
}

char* checksum_text(const ChecksumResult& r)
{
    return psprintf("%016llx%016llx", static_cast<unsigned long long>(r.sum >> 64),
                    static_cast<unsigned long long>(static_cast<uint64>(r.sum)));
}

namespace {

struct HashState {
    const ColumnPlan* cols;
    int ncols;
    ChecksumResult* result;
    StringInfoData buf;
    MemoryContext row_cxt;
};

void hash_slot(void* arg, TupleTableSlot* slot)
{
    HashState* h = static_cast<HashState*>(arg);
    CHECK_FOR_INTERRUPTS();
    slot_getallattrs(slot);
    MemoryContext old = MemoryContextSwitchTo(h->row_cxt);
    resetStringInfo(&h->buf);
    for (int c = 0; c < h->ncols; c++)
        append_value(&h->buf, h->cols[c], slot->tts_values[c], slot->tts_isnull[c], true);
    MemoryContextSwitchTo(old);
    add_row(h->result, h->buf.data, h->buf.len);
    MemoryContextReset(h->row_cxt);
}

/* The names in a text[] of columns; NULLs refused. */
char** column_names(ArrayType* columns, int* count)
{
    Datum* names;
    bool* nulls;
    deconstruct_array(columns, TEXTOID, -1, false, TYPALIGN_INT, &names, &nulls, count);
    char** out = static_cast<char**>(palloc(sizeof(char*) * (*count + 1)));
    for (int i = 0; i < *count; i++) {
        if (nulls[i])
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("column names must not be NULL")));
        out[i] = TextDatumGetCString(names[i]);
    }
    return out;
}

/*
 * The columns to hash, sorted by name, and the SELECT that reads them.  The
 * caller's right to read them is checked before the relation is locked
 * (relation_access.h).
 */
ColumnPlan* plan_columns(Oid relid, ArrayType* columns, Jsonb* tolerance, int* ncols, StringInfo query)
{
    int count = 0;
    char** names = columns ? column_names(columns, &count) : nullptr;
    Relation rel = open_for_select(relid, names, count, AccessShareLock);
    TupleDesc desc = RelationGetDescr(rel);
    ColumnPlan* cols = static_cast<ColumnPlan*>(palloc0(sizeof(ColumnPlan) * (Max(desc->natts, count) + 1)));
    int n = 0;
    if (names) {
        for (int i = 0; i < count; i++) {
            AttrNumber att = get_attnum(relid, names[i]);
            if (att <= 0)
                ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                                errmsg("column \"%s\" of relation \"%s\" does not exist", names[i],
                                       RelationGetRelationName(rel))));
            cols[n].name = names[i];
            cols[n].typid = TupleDescAttr(desc, att - 1)->atttypid;
            n++;
        }
    } else {
        for (int i = 0; i < desc->natts; i++) {
            Form_pg_attribute a = TupleDescAttr(desc, i);
            if (a->attisdropped)
                continue;
            cols[n].name = pstrdup(NameStr(a->attname));
            cols[n].typid = a->atttypid;
            n++;
        }
    }
    if (n == 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("no columns to checksum")));
    sort_by_name(cols, n);
    for (int i = 1; i < n; i++)
        if (strcmp(cols[i - 1].name, cols[i].name) == 0)
            ereport(ERROR, (errcode(ERRCODE_DUPLICATE_COLUMN), errmsg("column \"%s\" is listed twice", cols[i].name)));
    appendStringInfoString(query, "SELECT ");
    for (int i = 0; i < n; i++) {
        plan_column(&cols[i], tolerance);
        appendStringInfo(query, "%s%s", i ? ", " : "", quote_identifier(cols[i].name));
    }
    check_tolerance_keys(tolerance, cols, n);
    appendStringInfo(query, " FROM %s", qualified_name(rel));
    relation_close(rel, NoLock); /* keep the lock: the columns' types must not change before the read */
    *ncols = n;
    return cols;
}

}  // namespace

void checksum_query(const char* query, const ColumnPlan* cols, int ncols, ChecksumResult* out)
{
    checksum_plan(prepare_rows(query, 0, false), nullptr, cols, ncols, out);
}

void checksum_plan(SPIPlanPtr plan, const int64* args, const ColumnPlan* cols, int ncols, ChecksumResult* out)
{
    HashState h{cols, ncols, out, {}, nullptr};
    initStringInfo(&h.buf);
    h.row_cxt = AllocSetContextCreate(CurrentMemoryContext, "recio checksum row", ALLOCSET_SMALL_SIZES);
    RowCursor* cursor = open_row_cursor(plan, args, hash_slot, &h);
    fetch_rows(cursor, FETCH_ALL);
    close_row_cursor(cursor);
    MemoryContextDelete(h.row_cxt);
    pfree(h.buf.data);
}

ChecksumResult relation_checksum(Oid relid, ArrayType* columns, Jsonb* tolerance)
{
    ChecksumResult result{0, 0};
    pg::call([&] {
        StringInfoData query;
        initStringInfo(&query);
        int ncols = 0;
        ColumnPlan* cols = plan_columns(relid, columns, tolerance, &ncols, &query);
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
        checksum_query(query.data, cols, ncols, &result);
        SPI_finish();
    });
    return result;
}

}  // namespace recio

RECIO_FUNCTION(recio_checksum)
{
    Oid relid = PG_GETARG_OID(0);
    ArrayType* columns = PG_ARGISNULL(1) ? nullptr : recio::pg::call([&] { return PG_GETARG_ARRAYTYPE_P(1); });
    Jsonb* tolerance = PG_ARGISNULL(2) ? nullptr : recio::pg::call([&] { return PG_GETARG_JSONB_P(2); });
    recio::ChecksumResult r = recio::relation_checksum(relid, columns, tolerance);
    return recio::pg::call([&] {
        TupleDesc desc;
        if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "checksum must return a composite type");
        desc = BlessTupleDesc(desc);
        Datum values[2];
        bool nulls[2] = {false, false};
        values[0] = Int64GetDatum(r.rows);
        values[1] = CStringGetTextDatum(recio::checksum_text(r));
        return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
    });
}

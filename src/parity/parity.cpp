/*
 * parity.cpp: recio_migrate.parity() and parity_diff(): is a migrated table
 * equal to its legacy source, and which rows differ.
 *
 *  - rows mode: both relations are read once, ordered by the key (the
 *    ORDER BY goes to SQLite through recio_sqlite's pushdown, and to an
 *    index on the PostgreSQL side), and merged.  Each row is canonicalized
 *    (canonical.h) as it leaves the executor; the key is encoded so that
 *    memcmp order is the ORDER BY order, and each side's order is checked as
 *    it arrives, so a collation mismatch is an error, never a wrong answer.
 *    Only one batch of rows per side and the current key's rows are in
 *    memory: memory stays flat whatever the table size.
 *  - checksum mode: per-range checksums of both sides (one pass), then
 *    bisection of the ranges whose checksums differ (as data-diff does),
 *    and a row-by-row merge only of small differing ranges.  Ranges need a
 *    single integer key; other keys fall back to the rows-mode merge.
 *
 * Across declared types: when a recio_sqlite foreign source has a column
 * whose type parity cannot compare with the target's (text timestamps,
 * a text key against an integer key, ...), the source is read through the
 * wrapper (read_as.h) with every column converted into its target column's
 * type, the conversion migrate() makes; a value that does not convert keeps
 * its legacy text (canonical 'R', a mismatch).  Those rows come in no
 * useful order (SQLite would order the raw values), so the source side's
 * canonical rows are sorted here by their encoded key (a tuplesort, which
 * spills to disk past work_mem) before the merge.
 *
 * Rows with equal keys are a group; a group of more than one row on either
 * side is reported as duplicate_key, and its rows are paired: equal rows
 * match, the rest pair up in order as mismatches, and what is left over is
 * missing or extra.  So source_rows = matched + mismatched + missing and
 * target_rows = matched + mismatched + extra, always.
 *
 * The work is C-style code under one pg::call per SQL call.
 */
#include "common/relation_access.h"
#include "fdw/options.h"
#include "parity/checksum.h"
#include "parity/row_cursor.h"

extern "C" {
#include "access/relation.h"
#include "access/genam.h"
#include "access/table.h"
#include "catalog/index.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/tuplesort.h"
#include "utils/tuplestore.h"
}

#include <algorithm>
#include <cstring>

namespace recio {
namespace {

constexpr int kBatchRows = 2000;           /* rows fetched per side per round trip, at most */
constexpr int kBatchBytes = 8 * 1024 * 1024; /* ... and about this many bytes of canonical rows */
/*
 * Checksum mode: a range with at most leaf_rows rows per side is merged row
 * by row (merging costs about what checksumming does, so narrowing a range
 * further only pays when it is much larger); larger ranges are split into
 * kSplit parts, the first level into about one part per leaf_rows keys.
 */
int leaf_rows = 65536; /* recio_migrate.parity_range_rows */
constexpr int kSplit = 16;
constexpr int kMaxFirstSplit = 1024;

enum class Mode { Rows, Checksum };

/* What both sides are read as. */
struct ParityPlan {
    char* rel_name[2]; /* quoted, qualified: source, target */
    int nkeys;
    ColumnPlan* keys[2];
    int ncols;
    ColumnPlan* cols[2]; /* compared columns, in name order */
    bool has_tolerance;
    /* the source read through the wrapper in the target's types: keys, then columns */
    Oid source;
    ReadAsColumn* read_as; /* NULL: read with SQL like the target */
};

struct Counts {
    int64 source_rows, target_rows, matched, missing, extra, mismatched;
    bool duplicates;
    ChecksumResult sum[2];
};

/* Where parity_diff's rows go (store == nullptr: count only). */
struct DiffSink {
    Tuplestorestate* store;
    TupleDesc desc;
    int64 max_rows;
    int64 emitted;
    bool full() const { return store && emitted >= max_rows; }
};

/* Rows of one side with the same key, copied out of the batches. */
struct Group {
    StringInfoData data;
    int* offs;
    int n, cap;
};

/* One side of the merge: a cursor, its current batch and its checksum. */
struct Side {
    const ParityPlan* plan;
    int which; /* 0 source, 1 target */
    RowCursor* cursor;
    bool done;
    StringInfoData arena; /* records: uint32 keylen, key, uint32 rowlen, row */
    int* offs;
    int nrec, pos;
    StringInfoData prev_key;
    bool have_prev;
    StringInfoData key, row, hashrow;
    MemoryContext row_cxt;
    ChecksumResult* sum; /* the reported checksum (tolerance buckets) */
    long fetch_count;    /* rows per fetch, smaller for wide rows */
    /* checksum mode: hash the rows (exact canonical form, key included) instead of keeping them */
    ChecksumResult* exact;
    bool duplicates; /* two rows with one key were seen */
    /* a read_as source: its canonical rows sorted by key before the merge reads them */
    Tuplesortstate* sort;
    TupleTableSlot* sort_in;  /* virtual (key bytea, row bytea) */
    TupleTableSlot* sort_out; /* minimal tuples out of the sort */
};

struct Merge {
    const ParityPlan* plan;
    Side side[2];
    Group group[2];
    StringInfoData key;
    Counts* counts;
    DiffSink* sink;
    MemoryContext group_cxt;
};

const char* side_name(int which)
{
    return which == 0 ? "source" : "target";
}

int compare_keys(const char* a, uint32 alen, const char* b, uint32 blen)
{
    int c = memcmp(a, b, Min(alen, blen));
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* ---- planning ------------------------------------------------------------ */

/* The column named name of rel as a plan (typid set), or an error. */
ColumnPlan column_of(Relation rel, const char* name, int which)
{
    AttrNumber att = get_attnum(RelationGetRelid(rel), name);
    if (att <= 0)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                        errmsg("column \"%s\" does not exist in %s relation %s", name, side_name(which),
                               qualified_name(rel))));
    ColumnPlan c{};
    c.name = pstrdup(name);
    c.typid = TupleDescAttr(RelationGetDescr(rel), att - 1)->atttypid;
    c.typmod = TupleDescAttr(RelationGetDescr(rel), att - 1)->atttypmod;
    return c;
}

/* Names from a text[] argument: no NULLs, no duplicates. */
char** names_of(ArrayType* array, int* count, const char* what)
{
    Datum* datums;
    bool* nulls;
    deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &datums, &nulls, count);
    if (*count == 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s must not be empty", what)));
    char** names = static_cast<char**>(palloc(sizeof(char*) * *count));
    for (int i = 0; i < *count; i++) {
        if (nulls[i])
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not contain NULL", what)));
        names[i] = TextDatumGetCString(datums[i]);
        for (int j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0)
                ereport(ERROR, (errcode(ERRCODE_DUPLICATE_COLUMN),
                                errmsg("column \"%s\" is listed twice in %s", names[i], what)));
    }
    return names;
}

/* The target's primary key columns (the default key). */
char** primary_key_of(Relation rel, int* count)
{
    Oid index = RelationGetPrimaryKeyIndex(rel);
    if (!OidIsValid(index))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("target relation %s has no primary key", qualified_name(rel)),
                        errhint("Pass key_columns, the columns that identify a row.")));
    Relation idx = index_open(index, AccessShareLock);
    int n = idx->rd_index->indnkeyatts;
    char** names = static_cast<char**>(palloc(sizeof(char*) * n));
    for (int i = 0; i < n; i++)
        names[i] = get_attname(RelationGetRelid(rel), idx->rd_index->indkey.values[i], false);
    index_close(idx, AccessShareLock);
    *count = n;
    return names;
}

/* Every column the two relations share by name. */
char** shared_columns(Relation src, Relation tgt, int* count)
{
    TupleDesc d = RelationGetDescr(src);
    char** names = static_cast<char**>(palloc(sizeof(char*) * (d->natts + 1)));
    int n = 0;
    for (int i = 0; i < d->natts; i++) {
        Form_pg_attribute a = TupleDescAttr(d, i);
        if (!a->attisdropped && get_attnum(RelationGetRelid(tgt), NameStr(a->attname)) > 0)
            names[n++] = pstrdup(NameStr(a->attname));
    }
    if (n == 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s and %s have no column name in common", qualified_name(src), qualified_name(tgt)),
                        errhint("Pass columns, or rename the target's columns after the source's.")));
    *count = n;
    return names;
}

void check_comparable(const ColumnPlan& s, const ColumnPlan& t, bool key)
{
    if (key && (!key_supported(s.canon) || !key_supported(t.canon)))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("key column \"%s\" has type %s, which parity cannot order by", s.name,
                               format_type_be(key_supported(s.canon) ? t.typid : s.typid)),
                        errhint("Key columns may be integers, text, date, time, timestamps, uuid or boolean.")));
    /* key classes have one encoding each (numbers: integers only), so equal tags suffice */
    if (!comparable(s.canon, t.canon))
        ereport(ERROR,
                (errcode(ERRCODE_DATATYPE_MISMATCH),
                 errmsg("column \"%s\" cannot be compared: it is %s in the source and %s in the target", s.name,
                        format_type_be(s.typid), format_type_be(t.typid)),
                 errhint("Declare the foreign table's column with the target's type (recio_sqlite converts the "
                         "legacy values), or leave the column out of columns.")));
}

/*
 * The columns whose SELECT privilege lets the caller run parity: keys and
 * compared columns when both are given, else (nullptr) every column.
 */
char** named_columns(char** keys, int nkeys, char** cols, int ncols, int* count)
{
    if (!keys || !cols)
        return nullptr;
    char** all = static_cast<char**>(palloc(sizeof(char*) * (nkeys + ncols)));
    memcpy(all, keys, sizeof(char*) * nkeys);
    memcpy(all + nkeys, cols, sizeof(char*) * ncols);
    *count = nkeys + ncols;
    return all;
}

/* Some key or column pair has classes parity cannot compare as read (42804 for a local source). */
bool needs_conversion(const ParityPlan* p)
{
    for (int i = 0; i < p->nkeys; i++)
        if (!comparable(p->keys[0][i].canon, p->keys[1][i].canon))
            return true;
    for (int i = 0; i < p->ncols; i++)
        if (!comparable(p->cols[0][i].canon, p->cols[1][i].canon))
            return true;
    return false;
}

/* Read the source column s in the type of the target column t. */
void read_in_target_type(ParityPlan* p, int index, ColumnPlan* s, const ColumnPlan& t, Jsonb* tolerance)
{
    s->typid = t.typid;
    s->typmod = t.typmod;
    plan_column(s, tolerance);
    p->read_as[index] = {get_attnum(p->source, s->name), {t.typid, t.typmod}};
}

/*
 * A recio_sqlite source whose columns parity cannot compare as declared is
 * read with every column converted into the target's type (see the top).
 */
void plan_read_as(ParityPlan* p, Jsonb* tolerance)
{
    if (!needs_conversion(p) || !is_recio_foreign_table(p->source))
        return;
    p->read_as = static_cast<ReadAsColumn*>(palloc0(sizeof(ReadAsColumn) * (p->nkeys + p->ncols)));
    for (int i = 0; i < p->nkeys; i++)
        read_in_target_type(p, i, &p->keys[0][i], p->keys[1][i], nullptr);
    p->has_tolerance = false;
    for (int i = 0; i < p->ncols; i++) {
        read_in_target_type(p, p->nkeys + i, &p->cols[0][i], p->cols[1][i], tolerance);
        p->has_tolerance |= p->cols[0][i].tolerance != 0 || p->cols[1][i].tolerance != 0;
    }
}

ParityPlan* plan_parity(Oid source, Oid target, ArrayType* key_columns, ArrayType* columns, Jsonb* tolerance)
{
    int nkeys = 0, ncols = 0, nnamed = 0;
    char** keys = key_columns ? names_of(key_columns, &nkeys, "key_columns") : nullptr;
    char** cols = columns ? names_of(columns, &ncols, "columns") : nullptr;
    char** named = named_columns(keys, nkeys, cols, ncols, &nnamed);
    /* both relations' privileges are checked before either is locked */
    check_select(source, named, nnamed);
    check_select(target, named, nnamed);
    Relation rel[2] = {open_for_select(source, named, nnamed, AccessShareLock),
                       open_for_select(target, named, nnamed, AccessShareLock)};
    ParityPlan* p = static_cast<ParityPlan*>(palloc0(sizeof(ParityPlan)));
    p->source = source;
    for (int w = 0; w < 2; w++)
        p->rel_name[w] = qualified_name(rel[w]);
    if (!keys)
        keys = primary_key_of(rel[1], &nkeys);
    if (!cols)
        cols = shared_columns(rel[0], rel[1], &ncols);
    p->nkeys = nkeys;
    p->ncols = ncols;
    for (int w = 0; w < 2; w++) {
        p->keys[w] = static_cast<ColumnPlan*>(palloc0(sizeof(ColumnPlan) * nkeys));
        p->cols[w] = static_cast<ColumnPlan*>(palloc0(sizeof(ColumnPlan) * ncols));
        for (int i = 0; i < nkeys; i++) {
            p->keys[w][i] = column_of(rel[w], keys[i], w);
            plan_column(&p->keys[w][i], nullptr);
        }
        for (int i = 0; i < ncols; i++) {
            p->cols[w][i] = column_of(rel[w], cols[i], w);
            plan_column(&p->cols[w][i], tolerance);
            p->has_tolerance |= p->cols[w][i].tolerance != 0;
        }
        sort_by_name(p->cols[w], ncols);
    }
    plan_read_as(p, tolerance);
    for (int i = 0; i < nkeys; i++)
        check_comparable(p->keys[0][i], p->keys[1][i], true);
    for (int i = 0; i < ncols; i++)
        check_comparable(p->cols[0][i], p->cols[1][i], false);
    check_tolerance_keys(tolerance, p->cols[1], ncols);
    /* keep the locks until the end of the transaction: the types just planned must not change before the reads */
    relation_close(rel[0], NoLock);
    relation_close(rel[1], NoLock);
    return p;
}

/* SELECT keys, columns FROM rel [WHERE where] [ORDER BY keys] */
char* side_query(const ParityPlan* p, int which, const char* where, bool with_keys)
{
    StringInfoData q;
    initStringInfo(&q);
    appendStringInfoString(&q, "SELECT ");
    bool first = true;
    if (with_keys)
        for (int i = 0; i < p->nkeys; i++, first = false)
            appendStringInfo(&q, "%s%s", first ? "" : ", ", quote_identifier(p->keys[which][i].name));
    for (int i = 0; i < p->ncols; i++, first = false)
        appendStringInfo(&q, "%s%s", first ? "" : ", ", quote_identifier(p->cols[which][i].name));
    appendStringInfo(&q, " FROM %s", p->rel_name[which]);
    if (where)
        appendStringInfo(&q, " WHERE %s", where);
    if (with_keys)
        for (int i = 0; i < p->nkeys; i++) {
            const ColumnPlan& k = p->keys[which][i];
            bool text = k.canon == Canon::Text || k.canon == Canon::Bpchar;
            appendStringInfo(&q, "%s%s%s NULLS LAST", i ? ", " : " ORDER BY ", quote_identifier(k.name),
                             text ? " COLLATE \"C\"" : "");
        }
    return q.data;
}

/* ---- reading one side ------------------------------------------------------ */

/* Value i of the slot (keys first) into buf: its legacy text when it did not convert, else its canonical form. */
void append_slot_value(const Side* s, StringInfo buf, TupleTableSlot* slot, int i, bool bucketed)
{
    const ParityPlan* p = s->plan;
    const char* const* raw = s->which == 0 && p->read_as ? cursor_raw(s->cursor) : nullptr;
    if (raw && raw[i])
        append_raw_value(buf, raw[i]);
    else
        append_value(buf, p->cols[s->which][i - p->nkeys], slot->tts_values[i], slot->tts_isnull[i], bucketed);
}

void append_slot_key(const Side* s, StringInfo buf, TupleTableSlot* slot, int i)
{
    const ParityPlan* p = s->plan;
    const char* const* raw = s->which == 0 && p->read_as ? cursor_raw(s->cursor) : nullptr;
    if (raw && raw[i])
        append_raw_key(buf, raw[i]);
    else
        append_key(buf, p->keys[s->which][i], slot->tts_values[i], slot->tts_isnull[i]);
}

void side_record(Side* s);
void sort_put(Side* s);

void side_slot(void* arg, TupleTableSlot* slot)
{
    Side* s = static_cast<Side*>(arg);
    const ParityPlan* p = s->plan;
    CHECK_FOR_INTERRUPTS();
    slot_getallattrs(slot);
    MemoryContext old = MemoryContextSwitchTo(s->row_cxt);
    resetStringInfo(&s->key);
    resetStringInfo(&s->row);
    for (int i = 0; i < p->nkeys; i++)
        append_slot_key(s, &s->key, slot, i);
    for (int i = 0; i < p->ncols; i++)
        append_slot_value(s, &s->row, slot, p->nkeys + i, false);
    if (p->has_tolerance) {
        resetStringInfo(&s->hashrow);
        for (int i = 0; i < p->ncols; i++)
            append_slot_value(s, &s->hashrow, slot, p->nkeys + i, true);
        add_row(s->sum, s->hashrow.data, s->hashrow.len);
    } else {
        add_row(s->sum, s->row.data, s->row.len);
    }
    if (s->sort)
        sort_put(s);
    MemoryContextSwitchTo(old);
    MemoryContextReset(s->row_cxt);
    if (!s->sort)
        side_record(s);
}

/* The row in s->key and s->row, in key order: checked, then kept in the batch (or hashed). */
void side_record(Side* s)
{
    int order = s->have_prev ? compare_keys(s->key.data, s->key.len, s->prev_key.data, s->prev_key.len) : 1;
    s->duplicates |= order == 0;
    if (order < 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("the %s rows did not arrive in key order", side_name(s->which)),
                        errdetail("The merge compares keys byte for byte (text in the \"C\" collation); the "
                                  "relation %s returned them in another order.",
                                  s->plan->rel_name[s->which]),
                        errhint("A legacy key column holding values of mixed storage classes (numbers and text) "
                                "cannot be ordered consistently; use mode => 'checksum' or another key.")));
    resetStringInfo(&s->prev_key);
    appendBinaryStringInfo(&s->prev_key, s->key.data, s->key.len);
    s->have_prev = true;
    if (s->exact) {
        /* the key is part of what a range's checksum compares: a moved key is a difference */
        appendBinaryStringInfo(&s->key, s->row.data, s->row.len);
        add_row(s->exact, s->key.data, s->key.len);
        return;
    }
    uint32 klen = s->key.len, rlen = s->row.len;
    s->offs[s->nrec++] = s->arena.len;
    appendBinaryStringInfo(&s->arena, reinterpret_cast<const char*>(&klen), sizeof klen);
    appendBinaryStringInfo(&s->arena, s->key.data, klen);
    appendBinaryStringInfo(&s->arena, reinterpret_cast<const char*>(&rlen), sizeof rlen);
    appendBinaryStringInfo(&s->arena, s->row.data, rlen);
}

/* bytea of len bytes at data, in the current memory context */
Datum bytes_datum(const char* data, int len)
{
    bytea* b = static_cast<bytea*>(palloc(VARHDRSZ + len));
    SET_VARSIZE(b, VARHDRSZ + len);
    memcpy(VARDATA(b), data, len);
    return PointerGetDatum(b);
}

/* Into the sort: the current row (in the row context) as (key, row). */
void sort_put(Side* s)
{
    TupleTableSlot* in = s->sort_in;
    ExecClearTuple(in);
    in->tts_values[0] = bytes_datum(s->key.data, s->key.len);
    in->tts_values[1] = bytes_datum(s->row.data, s->row.len);
    in->tts_isnull[0] = in->tts_isnull[1] = false;
    ExecStoreVirtualTuple(in);
    tuplesort_puttupleslot(s->sort, in);
}

/* Up to count sorted rows into the batch; how many. */
uint64 sort_fetch(Side* s, long count)
{
    uint64 n = 0;
    for (; n < static_cast<uint64>(count); n++) {
        CHECK_FOR_INTERRUPTS();
        if (!tuplesort_gettupleslot(s->sort, true, false, s->sort_out, nullptr))
            break;
        slot_getallattrs(s->sort_out);
        StringInfo parts[2] = {&s->key, &s->row};
        for (int i = 0; i < 2; i++) {
            struct varlena* v =
                pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(s->sort_out->tts_values[i])));
            resetStringInfo(parts[i]);
            appendBinaryStringInfo(parts[i], VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
        }
        side_record(s);
    }
    return n;
}

/*
 * A read_as source: read it whole into a sort by encoded key (bytea order
 * is memcmp order, the merge's), so the merge then reads it in key order.
 */
void side_open_sorted(Side* s)
{
    TupleDesc desc = CreateTemplateTupleDesc(2);
    TupleDescInitEntry(desc, 1, "key", BYTEAOID, -1, 0);
    TupleDescInitEntry(desc, 2, "row", BYTEAOID, -1, 0);
    AttrNumber att = 1;
    Oid op = ByteaLessOperator, collation = InvalidOid;
    bool nulls_first = false;
    s->sort = tuplesort_begin_heap(desc, 1, &att, &op, &collation, &nulls_first, work_mem, nullptr, TUPLESORT_NONE);
    s->sort_in = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);
    s->sort_out = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
    Relation rel = relation_open(s->plan->source, NoLock);
    const ParityPlan* p = s->plan;
    s->cursor = open_read_as_cursor(rel, p->read_as, p->nkeys + p->ncols, side_slot, s);
    relation_close(rel, NoLock);
    fetch_rows(s->cursor, FETCH_ALL);
    close_row_cursor(s->cursor);
    s->cursor = nullptr;
    tuplesort_performsort(s->sort);
}

void side_open(Side* s, const ParityPlan* p, int which, SPIPlanPtr plan, const int64* args, ChecksumResult* sum,
               ChecksumResult* exact)
{
    memset(s, 0, sizeof *s);
    s->plan = p;
    s->which = which;
    s->sum = sum;
    s->exact = exact;
    s->fetch_count = kBatchRows;
    initStringInfo(&s->arena);
    initStringInfo(&s->prev_key);
    initStringInfo(&s->key);
    initStringInfo(&s->row);
    initStringInfo(&s->hashrow);
    s->offs = static_cast<int*>(palloc(sizeof(int) * kBatchRows));
    s->row_cxt = AllocSetContextCreate(CurrentMemoryContext, "recio parity row", ALLOCSET_SMALL_SIZES);
    if (which == 0 && p->read_as)
        side_open_sorted(s);
    else
        s->cursor = open_row_cursor(plan, args, side_slot, s);
}

void side_close(Side* s)
{
    if (s->cursor)
        close_row_cursor(s->cursor);
    if (s->sort) {
        tuplesort_end(s->sort);
        ExecDropSingleTupleTableSlot(s->sort_in);
        ExecDropSingleTupleTableSlot(s->sort_out);
    }
    MemoryContextDelete(s->row_cxt);
}

/* The side's current record, fetching a batch when needed; false at the end. */
bool side_head(Side* s, const char** key, uint32* klen)
{
    if (s->pos == s->nrec) {
        if (s->done)
            return false;
        resetStringInfo(&s->arena);
        s->nrec = s->pos = 0;
        if ((s->sort ? sort_fetch(s, s->fetch_count) : fetch_rows(s->cursor, s->fetch_count)) == 0) {
            s->done = true;
            return false;
        }
        /* wide rows: fetch fewer at a time, so a batch stays near kBatchBytes */
        if (s->arena.len > kBatchBytes)
            s->fetch_count = Max(1, s->fetch_count / 2);
        else if (s->arena.len < kBatchBytes / 4 && s->fetch_count < kBatchRows)
            s->fetch_count = Min(static_cast<long>(kBatchRows), s->fetch_count * 2);
    }
    const char* rec = s->arena.data + s->offs[s->pos];
    memcpy(klen, rec, sizeof *klen);
    *key = rec + sizeof *klen;
    return true;
}

/* Move the side's records with this key into g. */
void take_group(Side* s, const StringInfoData& key, Group* g)
{
    const char* k;
    uint32 klen;
    g->n = 0;
    resetStringInfo(&g->data);
    while (side_head(s, &k, &klen) && compare_keys(k, klen, key.data, key.len) == 0) {
        const char* rec = k + klen;
        uint32 rlen;
        memcpy(&rlen, rec, sizeof rlen);
        if (g->n == g->cap) {
            g->cap = g->cap ? g->cap * 2 : 8;
            g->offs = static_cast<int*>(g->offs ? repalloc(g->offs, sizeof(int) * g->cap) : palloc(sizeof(int) * g->cap));
        }
        g->offs[g->n++] = g->data.len;
        appendBinaryStringInfo(&g->data, rec, sizeof rlen + rlen);
        s->pos++;
    }
}

const char* group_row(const Group& g, int i, uint32* len)
{
    const char* rec = g.data.data + g.offs[i];
    memcpy(len, rec, sizeof *len);
    return rec + sizeof *len;
}

/* ---- comparing ------------------------------------------------------------ */

/* Rows a (source) and b (target) are equal, numbers within their tolerance. */
bool rows_equal(const ParityPlan* p, const char* a, uint32 alen, const char* b, uint32 blen)
{
    if (alen == blen && memcmp(a, b, alen) == 0)
        return true;
    if (!p->has_tolerance)
        return false;
    for (int i = 0; i < p->ncols; i++) {
        int la = canonical_length(a), lb = canonical_length(b);
        if (values_differ(a, la, b, lb, p->cols[1][i].tolerance))
            return false;
        a += la;
        b += lb;
    }
    return true;
}

Datum key_jsonb(const Merge* m)
{
    StringInfoData json;
    initStringInfo(&json);
    appendStringInfoChar(&json, '{');
    const char* k = m->key.data;
    for (int i = 0; i < m->plan->nkeys; i++) {
        if (i)
            appendStringInfoString(&json, ", ");
        escape_json(&json, m->plan->keys[1][i].name);
        appendStringInfoString(&json, ": ");
        append_key_json(&json, m->plan->keys[1][i], &k);
    }
    appendStringInfoChar(&json, '}');
    return DirectFunctionCall1(jsonb_in, CStringGetDatum(json.data));
}

void emit(Merge* m, const char* kind, const char* column, const char* source_value, const char* target_value)
{
    DiffSink* sink = m->sink;
    if (!sink->store || sink->full())
        return;
    Datum values[5];
    bool nulls[5] = {false, false, column == nullptr, source_value == nullptr, target_value == nullptr};
    values[0] = key_jsonb(m);
    values[1] = CStringGetTextDatum(kind);
    values[2] = column ? CStringGetTextDatum(column) : 0;
    values[3] = source_value ? CStringGetTextDatum(source_value) : 0;
    values[4] = target_value ? CStringGetTextDatum(target_value) : 0;
    tuplestore_putvalues(sink->store, sink->desc, values, nulls);
    sink->emitted++;
}

/* One diff row per column in which a and b differ beyond the tolerance. */
void emit_mismatch(Merge* m, const char* a, const char* b)
{
    const ParityPlan* p = m->plan;
    for (int i = 0; i < p->ncols; i++) {
        int la = canonical_length(a), lb = canonical_length(b);
        if (values_differ(a, la, b, lb, p->cols[1][i].tolerance))
            emit(m, "mismatch", p->cols[1][i].name, canonical_display(a), canonical_display(b));
        a += la;
        b += lb;
    }
}

/* One row of a group, by its canonical bytes (or their tolerance buckets) and its place in the group. */
struct RowRef {
    const char* data;
    int off; /* of the buckets in their arena, which may move while it grows */
    uint32 len;
    int index;
};

bool row_ref_less(const RowRef& a, const RowRef& b)
{
    int c = compare_keys(a.data, a.len, b.data, b.len);
    return c != 0 ? c < 0 : a.index < b.index;
}

/* What the rows of a group are sorted and matched by. */
enum class SortForm { Exact, Buckets, ShiftedBuckets };

/* Every this many steps of a loop over a group's rows, check for interrupts. */
constexpr int kInterruptEvery = 1024;

/*
 * The rows of g not yet paired, sorted by their canonical bytes or (kept in
 * arena) their tolerance buckets, ties in group order.
 */
RowRef* unpaired_rows(const ParityPlan* p, const Group& g, const bool* paired, SortForm form, StringInfo arena,
                      int* count)
{
    RowRef* refs = static_cast<RowRef*>(palloc(sizeof(RowRef) * (g.n + 1)));
    int n = 0;
    for (int i = 0; i < g.n; i++) {
        if (i % kInterruptEvery == 0)
            CHECK_FOR_INTERRUPTS();
        if (paired[i])
            continue;
        uint32 len;
        const char* row = group_row(g, i, &len);
        if (form != SortForm::Exact) {
            int off = arena->len;
            append_row_buckets(arena, p->cols[1], p->ncols, row, form == SortForm::ShiftedBuckets);
            refs[n] = {nullptr, off, static_cast<uint32>(arena->len - off), i};
        } else {
            refs[n] = {row, 0, len, i};
        }
        n++;
    }
    if (form != SortForm::Exact)
        for (int i = 0; i < n; i++)
            refs[i].data = arena->data + refs[i].off;
    std::sort(refs, refs + n, row_ref_less);
    *count = n;
    return refs;
}

/*
 * Pair the unpaired rows of both groups whose sort forms are equal, the
 * k-th source row of a form with the k-th target row, when they are equal
 * rows (within the tolerance): O(n log n) for any group.
 */
void match_equal(Merge* m, bool* paired_s, bool* paired_t, SortForm form)
{
    const ParityPlan* p = m->plan;
    const Group& gs = m->group[0];
    const Group& gt = m->group[1];
    StringInfoData arena[2];
    initStringInfo(&arena[0]);
    initStringInfo(&arena[1]);
    int ns, nt;
    RowRef* s = unpaired_rows(p, gs, paired_s, form, &arena[0], &ns);
    RowRef* t = unpaired_rows(p, gt, paired_t, form, &arena[1], &nt);
    int i = 0, j = 0;
    for (int step = 0; i < ns && j < nt; step++) {
        if (step % kInterruptEvery == 0)
            CHECK_FOR_INTERRUPTS();
        int c = compare_keys(s[i].data, s[i].len, t[j].data, t[j].len);
        if (c == 0) {
            uint32 la, lb;
            const char* a = group_row(gs, s[i].index, &la);
            const char* b = group_row(gt, t[j].index, &lb);
            if (form == SortForm::Exact || rows_equal(p, a, la, b, lb)) {
                paired_s[s[i].index] = paired_t[t[j].index] = true;
                m->counts->matched++;
            }
        }
        if (c <= 0)
            i++;
        if (c >= 0)
            j++;
    }
    pfree(s);
    pfree(t);
    pfree(arena[0].data);
    pfree(arena[1].data);
}

/*
 * The rows of one key on both sides.  Equal rows match: first rows with
 * equal canonical bytes, then (with a tolerance) rows that share tolerance
 * buckets and are within the tolerance.  The rest pair up in group order,
 * each pair a match if within the tolerance, else a mismatch; what is left
 * is missing or extra.  Without a tolerance this pairs exactly as matching
 * every row with the first equal one would, at O(n log n) for a key
 * repeated any number of times.
 */
void compare_groups(Merge* m)
{
    const ParityPlan* p = m->plan;
    Group& gs = m->group[0];
    Group& gt = m->group[1];
    Counts* c = m->counts;
    c->source_rows += gs.n;
    c->target_rows += gt.n;
    if (gs.n > 1 || gt.n > 1) {
        c->duplicates = true;
        emit(m, "duplicate_key", nullptr, psprintf("%d", gs.n), psprintf("%d", gt.n));
    }
    bool* paired_t = static_cast<bool*>(palloc0(sizeof(bool) * (gt.n + 1)));
    bool* paired_s = static_cast<bool*>(palloc0(sizeof(bool) * (gs.n + 1)));
    uint32 la, lb;
    /* one row per side (the common case) needs no sorting: the pairing below compares it */
    if (gs.n > 1 || gt.n > 1) {
        match_equal(m, paired_s, paired_t, SortForm::Exact);
        if (p->has_tolerance) {
            match_equal(m, paired_s, paired_t, SortForm::Buckets);
            match_equal(m, paired_s, paired_t, SortForm::ShiftedBuckets);
        }
    }
    int j = 0;
    for (int i = 0; i < gs.n; i++) {
        if (i % kInterruptEvery == 0)
            CHECK_FOR_INTERRUPTS();
        if (paired_s[i])
            continue;
        while (j < gt.n && paired_t[j])
            j++;
        const char* a = group_row(gs, i, &la);
        if (j < gt.n) {
            paired_t[j] = true;
            const char* b = group_row(gt, j, &lb);
            if (rows_equal(p, a, la, b, lb)) {
                c->matched++;
            } else {
                c->mismatched++;
                emit_mismatch(m, a, b);
            }
        } else {
            c->missing++;
            emit(m, "missing", nullptr, nullptr, nullptr);
        }
    }
    for (j = 0; j < gt.n; j++) {
        if (j % kInterruptEvery == 0)
            CHECK_FOR_INTERRUPTS();
        if (!paired_t[j]) {
            c->extra++;
            emit(m, "extra", nullptr, nullptr, nullptr);
        }
    }
}

/* Merge both sides' rows (plans from rows_plan, with args) and add to the counts. */
void merge(const ParityPlan* p, SPIPlanPtr* plans, const int64* args, Counts* counts, DiffSink* sink,
           ChecksumResult* sums)
{
    MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "recio parity merge", ALLOCSET_DEFAULT_SIZES);
    MemoryContext old = MemoryContextSwitchTo(cxt);
    Merge m{};
    m.plan = p;
    m.counts = counts;
    m.sink = sink;
    initStringInfo(&m.key);
    for (int w = 0; w < 2; w++) {
        side_open(&m.side[w], p, w, plans[w], args, &sums[w], nullptr);
        initStringInfo(&m.group[w].data);
    }
    m.group_cxt = AllocSetContextCreate(cxt, "recio parity group", ALLOCSET_SMALL_SIZES);
    for (;;) {
        const char* k[2];
        uint32 klen[2];
        bool has[2] = {side_head(&m.side[0], &k[0], &klen[0]), side_head(&m.side[1], &k[1], &klen[1])};
        if (!has[0] && !has[1])
            break;
        int from = !has[0] ? 1 : !has[1] ? 0 : compare_keys(k[0], klen[0], k[1], klen[1]) <= 0 ? 0 : 1;
        resetStringInfo(&m.key);
        appendBinaryStringInfo(&m.key, k[from], klen[from]);
        for (int w = 0; w < 2; w++)
            take_group(&m.side[w], m.key, &m.group[w]);
        MemoryContextSwitchTo(m.group_cxt);
        compare_groups(&m);
        MemoryContextSwitchTo(cxt);
        MemoryContextReset(m.group_cxt);
        if (sink->full())
            break;
    }
    for (int w = 0; w < 2; w++)
        side_close(&m.side[w]);
    MemoryContextSwitchTo(old);
    MemoryContextDelete(cxt);
}

/* ---- checksum mode ------------------------------------------------------------ */

/* Both sides' plans over one kind of key range: rows in key order. */
struct RangePlans {
    SPIPlanPtr rows[2];
};

/*
 * A range's sums.  exact (key and exact canonical row, so a value moved to
 * another key or a difference within the tolerance shows) decides whether
 * the range agrees; reported (the checksum() form) adds up to the
 * checksums parity returns.  A key seen twice on a side makes the range
 * disagree, so its duplicates are merged and reported as rows mode would.
 */
struct RangeSums {
    ChecksumResult reported[2];
    ChecksumResult exact[2];
    bool duplicates;
    bool same() const
    {
        return !duplicates && exact[0].rows == exact[1].rows && exact[0].sum == exact[1].sum;
    }
};

struct Bisect {
    const ParityPlan* p;
    Counts* counts;
    DiffSink* sink;
    RangePlans between; /* key BETWEEN $1 AND $2 */
};

/* The first non-NULL key of a side in the given direction, or false when there is none. */
bool key_bound(const ParityPlan* p, int which, bool last, int64* out)
{
    const char* key = quote_identifier(p->keys[which][0].name);
    char* q = psprintf("SELECT %s::int8 FROM %s WHERE %s IS NOT NULL ORDER BY %s %s LIMIT 1", key, p->rel_name[which],
                       key, key, last ? "DESC" : "ASC");
    if (SPI_execute(q, true, 1) != SPI_OK_SELECT)
        elog(ERROR, "could not read the key range of %s", p->rel_name[which]);
    if (SPI_processed == 0)
        return false;
    bool isnull;
    *out = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    return true;
}

RangePlans prepare_range(const ParityPlan* p, const char* where, int nargs)
{
    RangePlans r;
    for (int w = 0; w < 2; w++)
        r.rows[w] = prepare_rows(side_query(p, w, where, true), nargs, true);
    return r;
}

/* Sums of both sides over a range: one key-ordered read of each, hashed as the rows arrive. */
RangeSums range_sums(const Bisect& b, const RangePlans& r, const int64* args)
{
    RangeSums out{};
    MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "recio parity range", ALLOCSET_DEFAULT_SIZES);
    MemoryContext old = MemoryContextSwitchTo(cxt);
    for (int w = 0; w < 2; w++) {
        Side side;
        side_open(&side, b.p, w, r.rows[w], args, &out.reported[w], &out.exact[w]);
        fetch_rows(side.cursor, FETCH_ALL);
        out.duplicates |= side.duplicates;
        side_close(&side);
    }
    MemoryContextSwitchTo(old);
    MemoryContextDelete(cxt);
    return out;
}

/* Merge a range and add the outcome to the counts (not to the row totals). */
void merge_range(const Bisect& b, const RangePlans& r, const int64* args)
{
    Counts leaf{};
    ChecksumResult unused[2] = {{0, 0}, {0, 0}};
    merge(b.p, const_cast<SPIPlanPtr*>(r.rows), args, &leaf, b.sink, unused);
    b.counts->matched += leaf.matched;
    b.counts->missing += leaf.missing;
    b.counts->extra += leaf.extra;
    b.counts->mismatched += leaf.mismatched;
    b.counts->duplicates |= leaf.duplicates;
}

void narrow(const Bisect& b, int64 lo, int64 hi, const RangeSums& sums);

/*
 * Check parts of [lo, hi] on both sides; parts that agree count as matched,
 * the others are narrowed.  totals (the first level only) receives the
 * reported sums of the parts: the whole range's checksums.
 */
void split(const Bisect& b, int64 lo, int64 hi, int parts, ChecksumResult* totals)
{
    __int128 width = (static_cast<__int128>(hi) - lo + 1 + parts - 1) / parts;
    for (__int128 start = lo; start <= hi; start += width) {
        if (b.sink->full())
            return;
        int64 range[2] = {static_cast<int64>(start),
                          static_cast<int64>(Min(static_cast<__int128>(hi), start + width - 1))};
        RangeSums part = range_sums(b, b.between, range);
        if (totals)
            for (int w = 0; w < 2; w++) {
                totals[w].rows += part.reported[w].rows;
                totals[w].sum += part.reported[w].sum;
            }
        if (part.same())
            b.counts->matched += part.exact[0].rows;
        else
            narrow(b, range[0], range[1], part);
    }
}

/* A range that disagrees: merge it when small, else split it further. */
void narrow(const Bisect& b, int64 lo, int64 hi, const RangeSums& sums)
{
    int64 range[2] = {lo, hi};
    if (Max(sums.exact[0].rows, sums.exact[1].rows) <= leaf_rows || lo == hi)
        merge_range(b, b.between, range);
    else
        split(b, lo, hi, kSplit, nullptr);
}

/* Checksum mode over a single integer key; counts rows and checksums as rows mode does. */
void bisect(const ParityPlan* p, Counts* counts, DiffSink* sink)
{
    const char* key = quote_identifier(p->keys[1][0].name);
    Bisect b{p, counts, sink, prepare_range(p, psprintf("%s BETWEEN $1 AND $2", key), 2)};
    int64 lo = PG_INT64_MAX, hi = PG_INT64_MIN;
    for (int w = 0; w < 2; w++) {
        int64 v;
        if (key_bound(p, w, false, &v))
            lo = Min(lo, v);
        if (key_bound(p, w, true, &v))
            hi = Max(hi, v);
    }
    /* the parts of the key range give the totals; then the NULL keys */
    if (lo <= hi) {
        __int128 keys = static_cast<__int128>(hi) - lo + 1;
        int parts = static_cast<int>(
            Max(static_cast<__int128>(kSplit), Min(keys / leaf_rows, static_cast<__int128>(kMaxFirstSplit))));
        split(b, lo, hi, parts, counts->sum);
    }
    RangePlans null_keys = prepare_range(p, psprintf("%s IS NULL", key), 0);
    RangeSums nulls = range_sums(b, null_keys, nullptr);
    for (int w = 0; w < 2; w++) {
        counts->sum[w].rows += nulls.reported[w].rows;
        counts->sum[w].sum += nulls.reported[w].sum;
    }
    if (nulls.same())
        counts->matched += nulls.exact[0].rows;
    else
        merge_range(b, null_keys, nullptr);
    counts->source_rows = counts->sum[0].rows;
    counts->target_rows = counts->sum[1].rows;
}

Mode mode_of(text* mode)
{
    char* s = text_to_cstring(mode);
    if (strcmp(s, "rows") == 0)
        return Mode::Rows;
    if (strcmp(s, "checksum") == 0)
        return Mode::Checksum;
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unknown parity mode \"%s\"", s),
                    errhint("The modes are 'rows' and 'checksum'.")));
    return Mode::Rows;
}

/* Run parity in the given mode; C-style, under pg::call. */
void run_parity(Oid source, Oid target, ArrayType* keys, ArrayType* columns, Jsonb* tolerance, Mode mode,
                Counts* counts, DiffSink* sink)
{
    ParityPlan* p = plan_parity(source, target, keys, columns, tolerance);
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    bool ranges = p->nkeys == 1 && p->keys[0][0].canon == Canon::Int && p->keys[1][0].canon == Canon::Int;
    if (mode == Mode::Checksum && ranges && !p->read_as) {
        bisect(p, counts, sink);
    } else {
        if (mode == Mode::Checksum && p->read_as)
            ereport(NOTICE, (errmsg("checksum mode cannot narrow key ranges of a source read through a type "
                                    "conversion; comparing row by row instead")));
        else if (mode == Mode::Checksum)
            ereport(NOTICE, (errmsg("checksum mode narrows differences by ranges of a single integer key; "
                                    "comparing row by row instead")));
        SPIPlanPtr plans[2] = {p->read_as ? nullptr : prepare_rows(side_query(p, 0, nullptr, true), 0, true),
                               prepare_rows(side_query(p, 1, nullptr, true), 0, true)};
        merge(p, plans, nullptr, counts, sink, counts->sum);
    }
    SPI_finish();
}

struct Args {
    Oid source, target;
    ArrayType* keys;
    ArrayType* columns;
    Jsonb* tolerance;
    Mode mode;
};

Args parity_args(FunctionCallInfo fcinfo, int mode_arg)
{
    return pg::call([&] {
        if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("source and target must not be NULL")));
        if (PG_ARGISNULL(mode_arg))
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("mode must not be NULL")));
        Args a{PG_GETARG_OID(0),
               PG_GETARG_OID(1),
               PG_ARGISNULL(2) ? nullptr : PG_GETARG_ARRAYTYPE_P(2),
               PG_ARGISNULL(3) ? nullptr : PG_GETARG_ARRAYTYPE_P(3),
               PG_ARGISNULL(4) ? nullptr : PG_GETARG_JSONB_P(4),
               mode_of(PG_GETARG_TEXT_PP(mode_arg))};
        return a;
    });
}

}  // namespace

void define_parity_settings()
{
    DefineCustomIntVariable("recio_migrate.parity_range_rows",
                            "Rows per side up to which parity's checksum mode merges a key range row by row.",
                            "Larger ranges whose checksums differ are split into 16 parts and checked again.",
                            &leaf_rows, 65536, 16, INT_MAX, PGC_USERSET, 0, nullptr, nullptr, nullptr);
}

}  // namespace recio

RECIO_FUNCTION(recio_parity)
{
    recio::Args a = recio::parity_args(fcinfo, 5);
    return recio::pg::call([&] {
        recio::Counts c{};
        recio::DiffSink sink{nullptr, nullptr, 0, 0};
        recio::run_parity(a.source, a.target, a.keys, a.columns, a.tolerance, a.mode, &c, &sink);
        TupleDesc desc;
        if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "parity must return a composite type");
        desc = BlessTupleDesc(desc);
        Datum values[9] = {Int64GetDatum(c.source_rows),
                           Int64GetDatum(c.target_rows),
                           Int64GetDatum(c.matched),
                           Int64GetDatum(c.missing),
                           Int64GetDatum(c.extra),
                           Int64GetDatum(c.mismatched),
                           CStringGetTextDatum(recio::checksum_text(c.sum[0])),
                           CStringGetTextDatum(recio::checksum_text(c.sum[1])),
                           BoolGetDatum(c.missing == 0 && c.extra == 0 && c.mismatched == 0 && !c.duplicates)};
        bool nulls[9] = {};
        return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
    });
}

RECIO_FUNCTION(recio_parity_diff)
{
    recio::Args a = recio::parity_args(fcinfo, 6);
    recio::pg::call([&] {
        if (PG_ARGISNULL(5) || PG_GETARG_INT32(5) <= 0)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("max_rows must be a positive number")));
        ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
        if (!rsinfo || !IsA(rsinfo, ReturnSetInfo) || !(rsinfo->allowedModes & SFRM_Materialize))
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("parity_diff must be called in a context that accepts a set")));
        TupleDesc desc;
        if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "parity_diff must return a composite type");
        MemoryContext old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
        recio::DiffSink sink{tuplestore_begin_heap(true, false, work_mem), CreateTupleDescCopy(desc),
                             PG_GETARG_INT32(5), 0};
        MemoryContextSwitchTo(old);
        rsinfo->returnMode = SFRM_Materialize;
        rsinfo->setResult = sink.store;
        rsinfo->setDesc = sink.desc;
        recio::Counts c{};
        recio::run_parity(a.source, a.target, a.keys, a.columns, a.tolerance, a.mode, &c, &sink);
    });
    return static_cast<Datum>(0);
}

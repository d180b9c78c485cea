/*
 * page_scan.cpp: reading the pages of one relation for bloat_measure().
 *
 * C-style code over PostgreSQL structures, run by measure.cpp under one
 * pg::call (nothing here owns an object with a destructor).  Every page is
 * read through a BAS_BULKREAD ring so that a scan of a large relation does
 * not push the working set out of shared buffers, and held only under a
 * share content lock: nothing is pruned, hinted beyond what any reader
 * does, or written.
 *
 * Heap tuples are classified like pgstattuple does (visible to a dirty
 * snapshot = live), so exact figures agree with it.  The approximate mode
 * skips all-visible pages (no dead tuples by definition), takes their free
 * space from the free space map, and learns how much of their used space is
 * tuple data from an even sample of them that it does read.
 */
#include "bloat/bloat.h"
#include "bloat/compat.h"

extern "C" {
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/visibilitymap.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/freespace.h"
#include "utils/snapmgr.h"
}

#include <algorithm>
#include <cmath>

namespace recio {
namespace bloat {
namespace {

/* all-visible pages read in approx mode to learn their tuple density */
constexpr BlockNumber kApproxSamplePages = 64;

/* Sums over the pages read in full. */
struct PageSums {
    int64 pages;
    int64 used;      /* BLCKSZ - page header - free: tuples, line pointers, padding */
    int64 free;
    int64 live_bytes;
    int64 live_tuples;
    int64 live_footprint; /* MAXALIGN(t_len) + line pointer of live tuples */
    int64 dead_bytes;
    int64 dead_tuples;
};

void add(PageSums* to, const PageSums& from)
{
    to->pages += from.pages;
    to->used += from.used;
    to->free += from.free;
    to->live_bytes += from.live_bytes;
    to->live_tuples += from.live_tuples;
    to->live_footprint += from.live_footprint;
    to->dead_bytes += from.dead_bytes;
    to->dead_tuples += from.dead_tuples;
}

constexpr int64 kPageSpace = BLCKSZ - SizeOfPageHeaderData;

/* Read one heap page in full and add it to sums. */
void read_heap_page(Relation rel, BlockNumber blk, BufferAccessStrategy strategy, PageSums* sums)
{
    Buffer buf = ReadBufferExtended(rel, MAIN_FORKNUM, blk, RBM_NORMAL, strategy);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    sums->pages++;
    if (PageIsNew(page)) {
        /* extended but never initialised (a crash mid-extension): all of it is free */
        sums->free += kPageSpace;
        UnlockReleaseBuffer(buf);
        return;
    }
    Size free = PageGetHeapFreeSpace(page);
    sums->free += free;
    sums->used += kPageSpace - free;
    SnapshotData dirty;
    InitDirtySnapshot(dirty);
    OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
    for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off)) {
        ItemId item = PageGetItemId(page, off);
        if (!ItemIdIsNormal(item))
            continue;
        HeapTupleData tuple;
        tuple.t_data = reinterpret_cast<HeapTupleHeader>(PageGetItem(page, item));
        tuple.t_len = ItemIdGetLength(item);
        tuple.t_tableOid = RelationGetRelid(rel);
        ItemPointerSet(&tuple.t_self, blk, off);
        if (HeapTupleSatisfiesVisibility(&tuple, &dirty, buf)) {
            sums->live_bytes += tuple.t_len;
            sums->live_tuples++;
            sums->live_footprint += MAXALIGN(tuple.t_len) + sizeof(ItemIdData);
        } else {
            sums->dead_bytes += tuple.t_len;
            sums->dead_tuples++;
        }
    }
    UnlockReleaseBuffer(buf);
}

/*
 * Space the live tuples would need if the table were rewritten at its
 * fillfactor: whole tuples per page, so the unusable tail of each page and
 * the fillfactor reserve are not bloat.
 */
int64 needed_bytes(int64 live_tuples, int64 live_footprint, int fillfactor)
{
    if (live_tuples <= 0)
        return 0;
    double avg = static_cast<double>(live_footprint) / live_tuples;
    double usable = kPageSpace - static_cast<double>(BLCKSZ) * (100 - fillfactor) / 100;
    double per_page = std::floor(usable / std::max(avg, 1.0));
    per_page = std::min(std::max(per_page, 1.0), static_cast<double>(MaxHeapTuplesPerPage));
    return static_cast<int64>(std::ceil(live_tuples / per_page)) * BLCKSZ;
}

}  // namespace

void measure_heap(Relation rel, bool approx, Measurement* out)
{
    BlockNumber nblocks = RelationGetNumberOfBlocks(rel);
    BufferAccessStrategy strategy = GetAccessStrategy(BAS_BULKREAD);
    Buffer vmbuf = InvalidBuffer;
    PageSums read = {};           /* every page read in full */
    PageSums sample = {};         /* the all-visible pages among them */
    int64 skipped_pages = 0;
    int64 skipped_free = 0;
    BlockNumber step = std::max<BlockNumber>(1, nblocks / kApproxSamplePages);
    for (BlockNumber blk = 0; blk < nblocks; blk++) {
        CHECK_FOR_INTERRUPTS();
        bool all_visible = approx && VM_ALL_VISIBLE(rel, blk, &vmbuf);
        if (all_visible && blk % step != 0) {
            skipped_pages++;
            skipped_free += GetRecordedFreeSpace(rel, blk);
            continue;
        }
        PageSums page = {};
        read_heap_page(rel, blk, strategy, &page);
        add(&read, page);
        if (all_visible)
            add(&sample, page);
    }
    if (BufferIsValid(vmbuf))
        ReleaseBuffer(vmbuf);
    FreeAccessStrategy(strategy);

    out->fillfactor = RelationGetFillFactor(rel, HEAP_DEFAULT_FILLFACTOR);
    out->total_bytes = static_cast<int64>(nblocks) * BLCKSZ;
    out->pages_read = read.pages;
    out->live_bytes = read.live_bytes;
    out->live_tuples = read.live_tuples;
    out->dead_bytes = read.dead_bytes;
    out->dead_tuples = read.dead_tuples;
    out->free_bytes = read.free + skipped_free;
    int64 footprint = read.live_footprint;
    int64 unsplit_used = 0; /* skipped used space whose make-up is unknown */
    if (skipped_pages > 0) {
        /*
         * Skipped all-visible pages hold only live tuples: their used space
         * is split into tuple data and overhead (line pointers, padding) in
         * the proportions of the sampled all-visible pages, or of all pages
         * read when none was sampled.
         */
        const PageSums& shape = sample.used > 0 ? sample : read;
        double used = static_cast<double>(skipped_pages * kPageSpace - skipped_free);
        if (shape.used > 0) {
            double data_share = static_cast<double>(shape.live_bytes + shape.dead_bytes) / shape.used;
            double tuples_per_byte = static_cast<double>(shape.live_tuples + shape.dead_tuples) / shape.used;
            double footprint_per_byte = static_cast<double>(shape.live_footprint) / std::max<int64>(shape.live_bytes, 1);
            out->live_bytes += static_cast<int64>(used * data_share);
            out->live_tuples += static_cast<int64>(used * tuples_per_byte);
            footprint += static_cast<int64>(used * data_share * footprint_per_byte);
        } else {
            out->live_bytes += static_cast<int64>(used);
            unsplit_used = static_cast<int64>(used);
        }
    }
    int64 needed = needed_bytes(out->live_tuples, footprint, out->fillfactor) + unsplit_used;
    out->bloat_bytes = std::max<int64>(0, out->total_bytes - needed);
    out->leaf_density = -1;
}

void measure_btree(Relation rel, Measurement* out)
{
    BlockNumber nblocks = RelationGetNumberOfBlocks(rel);
    BufferAccessStrategy strategy = GetAccessStrategy(BAS_BULKREAD);
    int64 leaf_pages = 0, reusable_pages = 0, leaf_capacity = 0, leaf_free = 0;
    int64 items = 0, dead_items = 0, dead_item_bytes = 0;
    /* block 0 is the metapage */
    for (BlockNumber blk = 1; blk < nblocks; blk++) {
        CHECK_FOR_INTERRUPTS();
        Buffer buf = ReadBufferExtended(rel, MAIN_FORKNUM, blk, RBM_NORMAL, strategy);
        LockBuffer(buf, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buf);
        /* a new (all-zero) page has no special space to look at */
        BTPageOpaque opaque = PageIsNew(page) ? nullptr : compat::btree_opaque(page);
        if (!opaque || P_IGNORE(opaque)) {
            reusable_pages++; /* deleted, half-dead or never initialised */
        } else if (P_ISLEAF(opaque)) {
            leaf_pages++;
            leaf_capacity += reinterpret_cast<PageHeader>(page)->pd_special - SizeOfPageHeaderData;
            leaf_free += PageGetExactFreeSpace(page);
            OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
            for (OffsetNumber off = P_FIRSTDATAKEY(opaque); off <= maxoff; off = OffsetNumberNext(off)) {
                ItemId item = PageGetItemId(page, off);
                if (ItemIdIsDead(item)) {
                    dead_items++;
                    dead_item_bytes += ItemIdGetLength(item) + sizeof(ItemIdData);
                } else {
                    items++;
                }
            }
        }
        UnlockReleaseBuffer(buf);
    }
    FreeAccessStrategy(strategy);

    out->fillfactor = BTGetFillFactor(rel);
    out->total_bytes = static_cast<int64>(nblocks) * BLCKSZ;
    out->pages_read = nblocks > 0 ? nblocks - 1 : 0;
    out->dead_bytes = dead_item_bytes;
    out->dead_tuples = dead_items;
    out->live_tuples = items;
    out->live_bytes = leaf_capacity - leaf_free - dead_item_bytes;
    out->free_bytes = leaf_free + reusable_pages * BLCKSZ;
    out->leaf_density = leaf_capacity > 0 ? 100.0 * (leaf_capacity - leaf_free) / leaf_capacity : 0;
    /* leaf space below the fillfactor, dead items and reusable pages; the internal pages are not bloat */
    int64 reserve = leaf_capacity * (100 - out->fillfactor) / 100;
    out->bloat_bytes = std::max<int64>(0, leaf_free - reserve) + dead_item_bytes + reusable_pages * BLCKSZ;
}

}  // namespace bloat
}  // namespace recio

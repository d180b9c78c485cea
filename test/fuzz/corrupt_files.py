#!/usr/bin/env python3
"""Corrupt SQLite files for test/integration/corrupt_fuzz.sh, by page arithmetic (no dbstat).

    python3 test/fuzz/corrupt_files.py OUTDIR SCALE

writes OUTDIR/base.db (1 KiB pages: a table `ticks` with an index, so b-tree interior table and
index pages; a table `blobs` whose rows overflow into chains; deleted rows, so freelist trunk and
leaf pages) and, from it, corrupt copies named <kind>_<n>.db:

  interior_table / interior_index   a b-tree interior page (type 0x05 / 0x02) with its child
                                    pointers, cell count, cell offsets or right-most pointer
                                    clobbered, or its type byte changed
  leaf                              a leaf page (0x0d / 0x0a) with a clobbered cell area
  overflow                          an overflow page whose next-page pointer loops to itself, points
                                    back up the chain, to page 1, past the end or to 0, or whose
                                    content is clobbered
  freelist                          the freelist trunk: next-trunk loop, leaf count huge, leaf pages
                                    past the end or pointing at live pages; header freelist fields
  truncated                         the file cut at every page boundary (and a few mid-page cuts)
  pagecount                         the header claiming a larger page count (offset 28), with the
                                    version-valid-for number (offset 92) matching so SQLite trusts it
  random                            SCALE x 12 copies with 1-64 random bytes overwritten

Deterministic (fixed seed).  SCALE 1 is the test command's run (about 200 files), `make fuzz`
passes a larger one (thousands).  Prints the number of files per kind.
"""

import os
import random
import sqlite3
import struct
import sys

SEED = 20261201


def make_base(path):
    if os.path.exists(path):
        os.unlink(path)
    db = sqlite3.connect(path)
    db.execute("PRAGMA page_size=1024")
    db.execute("PRAGMA auto_vacuum=NONE")
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute("CREATE TABLE ticks (id INTEGER PRIMARY KEY, sym TEXT, px REAL, qty INTEGER, note TEXT)")
    db.execute("CREATE INDEX ticks_sym ON ticks (sym)")
    db.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, payload BLOB, body TEXT)")
    rng = random.Random(SEED)
    db.executemany("INSERT INTO ticks VALUES (?, ?, ?, ?, ?)",
                   [(i, "S%d" % rng.randrange(40), round(rng.uniform(1, 1000), 2), rng.randrange(1, 500),
                     "note %d %s" % (i, "x" * rng.randrange(0, 10))) for i in range(1, 1201)])
    db.executemany("INSERT INTO blobs VALUES (?, ?, ?)",
                   [(i, bytes(rng.randrange(256) for _ in range(rng.choice([100, 2500, 6000]))),
                     "body %d " % i * rng.choice([1, 200])) for i in range(1, 13)])
    db.commit()
    db.execute("DELETE FROM ticks WHERE id % 7 = 0 OR id BETWEEN 500 AND 700")
    db.execute("DELETE FROM blobs WHERE id % 5 = 0")
    db.commit()
    db.close()
    return open(path, "rb").read()


def u32(data, off):
    return struct.unpack(">I", data[off:off + 4])[0]


def put32(data, off, v):
    data[off:off + 4] = struct.pack(">I", v & 0xFFFFFFFF)


def classify(data):
    """page number -> kind, from the b-tree pages, the overflow chains and the freelist"""
    psize = struct.unpack(">H", data[16:18])[0]
    psize = 65536 if psize == 1 else psize
    npages = len(data) // psize
    kinds = {}
    free = set()
    trunk = u32(data, 32)
    trunks = []
    while trunk and trunk not in free and trunk <= npages:
        free.add(trunk)
        trunks.append(trunk)
        base = (trunk - 1) * psize
        for k in range(u32(data, base + 4)):
            free.add(u32(data, base + 8 + 4 * k))
        trunk = u32(data, base)
    for p in range(1, npages + 1):
        if p in free:
            continue
        hdr = (p - 1) * psize + (100 if p == 1 else 0)
        kinds[p] = {0x05: "interior_table", 0x02: "interior_index", 0x0d: "leaf", 0x0a: "leaf"}.get(data[hdr])
    # pages that are no b-tree page and not free: overflow pages (the file has no pointer map)
    overflow = [p for p, k in kinds.items() if k is None]
    return psize, npages, kinds, overflow, trunks


def mutate_btree(rng, data, psize, page):
    d = bytearray(data)
    base = (page - 1) * psize
    hdr = base + (100 if page == 1 else 0)
    interior = d[hdr] in (0x05, 0x02)
    ncells = struct.unpack(">H", d[hdr + 3:hdr + 5])[0]
    cells = hdr + (12 if interior else 8)
    r = rng.randrange(8)
    if r == 0:        # type byte
        d[hdr] = rng.choice([0x00, 0x02, 0x05, 0x0a, 0x0d, 0xff])
    elif r == 1:      # cell count
        d[hdr + 3:hdr + 5] = struct.pack(">H", rng.choice([0, 1, 0xffff, ncells + 1, psize]))
    elif r == 2 and interior:   # right-most child pointer
        put32(d, hdr + 8, rng.choice([0, 1, page, len(data) // psize + rng.randrange(1, 1000), 0xffffffff]))
    elif r == 3 and interior and ncells:   # a child pointer of a cell
        off = struct.unpack(">H", d[cells + 2 * rng.randrange(ncells):][:2])[0]
        if base + off + 4 <= len(d):
            put32(d, base + off, rng.choice([0, 1, page, len(data) // psize + 7, rng.getrandbits(32)]))
    elif r == 4 and ncells:    # a cell offset
        k = cells + 2 * rng.randrange(ncells)
        d[k:k + 2] = struct.pack(">H", rng.choice([0, 1, psize - 1, psize, 0xffff, rng.randrange(psize)]))
    elif r == 5:      # first freeblock / fragmented bytes / cell content start
        k = hdr + rng.choice([1, 5, 7])
        d[k:k + 2] = struct.pack(">H", rng.getrandbits(16))[: 1 if k == hdr + 7 else 2] + \
            (b"" if k != hdr + 7 else d[k + 1:k + 2])
    elif r == 6:      # zeroed page
        d[base + (100 if page == 1 else 0):base + psize] = bytes(psize - (100 if page == 1 else 0))
    else:             # clobbered bytes inside the page
        for _ in range(rng.choice([1, 4, 16])):
            d[base + rng.randrange(100 if page == 1 else 0, psize)] = rng.randrange(256)
    return d


def mutate_overflow(rng, data, psize, page, chain_pages):
    d = bytearray(data)
    base = (page - 1) * psize
    r = rng.randrange(6)
    if r == 0:
        put32(d, base, page)                       # loops to itself
    elif r == 1:
        put32(d, base, rng.choice(chain_pages))    # back to another overflow page
    elif r == 2:
        put32(d, base, 1)
    elif r == 3:
        put32(d, base, len(data) // psize + rng.randrange(1, 100000))
    elif r == 4:
        put32(d, base, 0)                          # chain ends too early
    else:
        for _ in range(16):
            d[base + rng.randrange(4, psize)] = rng.randrange(256)
    return d


def mutate_freelist(rng, data, psize, trunks, live):
    d = bytearray(data)
    npages = len(data) // psize
    r = rng.randrange(6)
    trunk = rng.choice(trunks) if trunks else None
    if r == 0 and trunk:
        put32(d, (trunk - 1) * psize, trunk)                      # next trunk: itself
    elif r == 1 and trunk:
        put32(d, (trunk - 1) * psize + 4, rng.choice([0xffffffff, psize, psize // 4 - 1]))   # leaf count
    elif r == 2 and trunk:
        put32(d, (trunk - 1) * psize + 8, rng.choice([npages + 5, 0, 1] + live[:5]))   # a leaf page
    elif r == 3:
        put32(d, 32, rng.choice([0, 1, npages + 3] + live[:5]))   # first trunk page
    elif r == 4:
        put32(d, 36, rng.choice([0, 1, 0xffffffff, npages * 2]))  # free page count
    else:
        put32(d, (trunk or 2) * psize - 4, rng.getrandbits(32))
    return d


def main():
    out, scale = sys.argv[1], int(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    data = make_base(os.path.join(out, "base.db"))
    psize, npages, kinds, overflow, trunks = classify(data)
    rng = random.Random(SEED)
    files = []

    def emit(kind, d):
        files.append((kind, bytes(d)))

    for kind in ("interior_table", "interior_index", "leaf"):
        pages = sorted(p for p, k in kinds.items() if k == kind)
        if not pages:
            sys.exit("base.db has no %s page: the fixture is too small" % kind)
        for n in range(scale * (12 if kind != "leaf" else 8)):
            emit(kind, mutate_btree(rng, data, psize, pages[n % len(pages)] if n < len(pages) else rng.choice(pages)))
    if not overflow or not trunks:
        sys.exit("base.db has no overflow or freelist pages: the fixture is too small")
    for n in range(scale * 15):
        emit("overflow", mutate_overflow(rng, data, psize, rng.choice(overflow), overflow))
    live = sorted(p for p, k in kinds.items() if k)
    for n in range(scale * 15):
        emit("freelist", mutate_freelist(rng, data, psize, trunks, live))
    for p in range(1, npages):                   # every page boundary
        emit("truncated", data[:p * psize])
    for _ in range(scale * 5):
        emit("truncated", data[:rng.randrange(1, len(data))])
    for claim in [npages + 1, npages + 10, npages * 2, 0x7fffffff, 0xffffffff] + \
            [rng.randrange(npages + 1, 10 ** 6) for _ in range(scale * 5)]:
        d = bytearray(data)
        put32(d, 28, claim)
        put32(d, 92, u32(d, 24))   # version-valid-for = change counter: SQLite trusts the size in the header
        emit("pagecount", d)
        d = bytearray(d) + bytes(psize * rng.randrange(1, 4))   # and a file with some zero pages added
        emit("pagecount", d)
    for n in range(scale * 12):
        d = bytearray(data)
        for _ in range(rng.choice([1, 4, 16, 64])):
            d[rng.randrange(100 if n % 3 else 0, len(d))] = rng.randrange(256)
        emit("random", d)
    counts = {}
    for i, (kind, d) in enumerate(files):
        with open(os.path.join(out, "%s_%05d.db" % (kind, i)), "wb") as f:
            f.write(d)
        counts[kind] = counts.get(kind, 0) + 1
    print("base.db: %d pages of %d bytes: %s interior table, %s interior index, %d overflow, %d freelist trunk"
          % (npages, psize, sum(k == "interior_table" for k in kinds.values()),
             sum(k == "interior_index" for k in kinds.values()), len(overflow), len(trunks)))
    print(" ".join("%s %d" % kv for kv in sorted(counts.items())))


if __name__ == "__main__":
    main()

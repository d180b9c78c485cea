#!/usr/bin/env python3
"""Generate the legacy REC.IO SQLite fixture files used by the regression tests.

    python3 test/make_fixtures.py OUTDIR
    python3 test/make_fixtures.py --bench-rows N OUTDIR

The default run writes, into OUTDIR (created if missing, files overwritten):

  trades.db             trades            500 rows  (AUTOINCREMENT, TAB-indented
                                                      quoted DDL, 2 ALTER-added
                                                      columns, mixed storage classes,
                                                      DEFAULT 'open' and 'manual')
  active_trades.db      active_trades      40 rows  (duplicate trade_id, TEXT in REAL,
                                                      DEFAULT 'BTC' and CURRENT_TIMESTAMP)
  btc_price_history.db  price_log       20000 rows  (index + ANALYZE -> sqlite_stat1)
  fills.db              fills            2000 rows
  orders.db             orders           1000 rows  (WITHOUT ROWID)
  settlements.db        settlements       300 rows  (+ view settlements_by_result)
  positions.db          positions         150 rows
  quoting.db            identifiers that need quoting (3 rows per table/view)
  names.db              names PostgreSQL cannot take as they are: an empty
                        table name, names longer than 63 bytes (alike in their
                        first 63), 1600 and 1601 columns; odd_values: TEXT that
                        is not UTF-8 and a REAL Infinity in an INTEGER column
  not_sqlite.db         4096 bytes of text, not a database
  truncated.db          btc_price_history.db cut after its first 2 pages
  corrupt.db            btc_price_history.db with clobbered b-tree pages: it
                        opens, but a full scan of price_log is SQLITE_CORRUPT

--bench-rows N additionally writes bench_price_log.db (price_log, N rows) and
bench_price_log.csv (id,timestamp,price,volume; same values and text).

Everything is deterministic: fixed random seeds, fixed base timestamps (the
current time is never used), rollback journal (journal_mode=DELETE) and a fixed
insertion order, so two runs with the same SQLite library produce byte-for-byte
identical files.  The planted row-level quirks are listed in QUIRKS below.
At the end one line per table is printed: "file<TAB>table<TAB>row count".
"""

import argparse
import json
import os
import random
import sqlite3
import sys
import uuid
from datetime import datetime, timedelta
from urllib.request import pathname2url

SEED = 20250714

# Row-level quirks planted on purpose (tests may rely on these exact ids).
QUIRKS = {
    "trades.buy_price=0.30000000000000004 (0.1+0.2)": [7, 77],
    "trades.buy_price=0.47000000000000003": [8, 288],
    "trades test rows (ticker 'TEST-...', entry_method 'test')": [13, 250, 497],
    "trades.ticket_id integer 0": "id % 50 == 0, plus the test rows",
    "trades.fees integer 0": "id % 40 == 0, plus the test rows",
    "trades.id 1 ticket_id / created_at":
        "'TICKET-0scflj61g-1752500712252' / '2025-07-14T09:45:12'",
    "trades.created_at NULL": "id % 37 == 0 (ids 37, 74, ..., 481)",
    "trades.momentum/volatility NULL": "ids 1..5",
    "trades.entry_method NULL": "ids 1..20",
    "trades.status": "ids 486..500 open (NULL sell_price/pnl/closed_at/win_loss)",
    "trades.notes": {21: "ünïcødé ✓ 日本", 22: "🚀📈 to the moon", 23: "line1\nline2\ttabbed",
                     24: "", 25: "it's \"quoted\"", 26: "back\\slash C:\\rec\\io",
                     27: "100% sure_thing"},
    "active_trades duplicate trade_id": 486,
    "active_trades.price = 'n/a' (TEXT)": 17,
    "active_trades.current_pnl NULL": 3,
    "btc price_log.momentum NULL": "ids 1..60",
    "fills placeholder created_time '1969-12-31T23:59:59Z' (ts -1000)":
        "row inserted 1000th (rowid 1000)",
    "trades.pnl stored as integer (INTEGER affinity, integral value)": [54, 219, 410, 426],
    "settlements ticker settled twice": "rows 150 and 151 (rowid) share a ticker",
    "corrupt.db": "pages 4, 5, 6 (price_log leaves) overwritten with ff 00 ...; "
                  "count(*) still answers 20000 from the timestamp index",
}

EPOCH = datetime(1970, 1, 1)
NY_TO_UTC = timedelta(hours=4)          # all fixture dates are in July (EDT)
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN",
          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------

def epoch_ms(dt):
    d = dt - EPOCH
    return d.days * 86400000 + d.seconds * 1000 + d.microseconds // 1000


def kalshi_ticker(exp_local, strike):
    """KXBTCD-25JUL1410-T118249.99 (expiry hour in New York time)."""
    return "KXBTCD-%02d%s%02d%02d-T%d.99" % (
        exp_local.year % 100, MONTHS[exp_local.month - 1], exp_local.day,
        exp_local.hour, strike - 1)


def iso_z(dt, digits):
    """UTC ISO text with 'Z' and 0..6 fraction digits (truncated)."""
    s = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        s += "." + ("%06d" % dt.microsecond)[:digits]
    return s + "Z"


def det_uuid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def remove_db(path):
    for suffix in ("", "-journal", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def new_db(path):
    remove_db(path)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=DELETE")
    return con


def ro_connect(path):
    uri = "file:" + pathname2url(os.path.abspath(path)) + "?mode=ro"
    return sqlite3.connect(uri, uri=True, isolation_level=None)


def qi(name):
    return '"' + name.replace('"', '""') + '"'


# ----------------------------------------------------------------------------
# trades.db
# ----------------------------------------------------------------------------

TRADES_DDL = (
    'CREATE TABLE "trades" (\n'
    '\t"id"\tINTEGER PRIMARY KEY AUTOINCREMENT,\n'
    '\t"date"\tTEXT,\n'
    '\t"time"\tTEXT,\n'
    '\t"strike"\tTEXT,\n'
    '\t"side"\tTEXT,\n'
    '\t"buy_price"\tREAL,\n'
    '\t"position"\tINTEGER,\n'
    '\t"status"\tTEXT DEFAULT \'open\',\n'
    '\t"closed_at"\tTEXT,\n'
    '\t"contract"\tTEXT,\n'
    '\t"sell_price"\tREAL,\n'
    '\t"pnl"\tINTEGER,\n'
    '\t"fees"\tINTEGER,\n'
    '\t"symbol_open"\tREAL,\n'
    '\t"symbol_close"\tREAL,\n'
    '\t"momentum"\tREAL,\n'
    '\t"volatility"\tREAL,\n'
    '\t"prob"\tREAL,\n'
    '\t"win_loss"\tTEXT,\n'
    '\t"ticker"\tTEXT,\n'
    '\t"ticket_id"\tINTEGER,\n'
    '\t"entry_method"\tTEXT DEFAULT \'manual\',\n'
    '\t"close_method"\tTEXT\n'
    ')'
)

TRADE_COLS = ["id", "date", "time", "strike", "side", "buy_price", "position",
              "status", "closed_at", "contract", "sell_price", "pnl", "fees",
              "symbol_open", "symbol_close", "momentum", "volatility", "prob",
              "win_loss", "ticker", "ticket_id", "entry_method", "close_method"]

TEST_TRADE_IDS = (13, 250, 497)
NOTES = QUIRKS["trades.notes"]


def gen_trades():
    rng = random.Random(SEED + 1)
    rows, extra = [], []          # extra: (notes, created_at, id) for UPDATE
    t = datetime(2025, 7, 14, 9, 45, 12)
    btc = 118250.37
    for i in range(1, 501):
        if i > 1:
            t += timedelta(seconds=rng.randint(240, 900))
            btc = round(btc + rng.uniform(-180.0, 180.0), 2)
        exp = (t + timedelta(hours=1)).replace(minute=0, second=0)
        strike = int(round(btc / 250.0)) * 250 + rng.choice((-500, -250, 0, 250, 500))
        side = rng.choice(("yes", "no"))
        buy_cents = rng.randint(50, 98)
        buy = buy_cents / 100
        if i in (7, 77):
            buy = 0.1 + 0.2                       # 0.30000000000000004
            buy_cents = 30
        elif i in (8, 288):
            buy = float("0.47000000000000003")
            buy_cents = 47
        position = rng.randint(1, 10)
        momentum = round(rng.uniform(-0.5, 0.5), 4)
        volatility = round(rng.uniform(0.05, 0.6), 4)
        prob = round(rng.uniform(80.0, 99.9), 1)
        fee_cents = -(-7 * position * buy_cents * (100 - buy_cents) // 10000)
        fees = fee_cents / 100
        if i % 40 == 0 or i in TEST_TRADE_IDS:
            fees = 0                              # integer 0
        if i > 485:
            status = "open"
        else:
            status = "expired" if rng.random() < 0.3 else "closed"
        entry_method = None if i <= 20 else rng.choice(("auto", "auto", "auto", "manual"))
        sell = closed_at = pnl = win_loss = sym_close = close_method = None
        if status == "closed":
            sell = rng.randint(1, 99) / 100
            span = int((exp - t).total_seconds())
            closed_at = (t + timedelta(seconds=rng.randint(30, max(31, span - 1)))).strftime("%H:%M:%S")
            sym_close = round(btc + rng.uniform(-150.0, 150.0), 2)
            close_method = rng.choice(("auto_stop", "auto_stop", "manual", "take_profit"))
        elif status == "expired":
            sell = rng.choice((1.0, 1.0, 1.0, 0.0))
            closed_at = exp.strftime("%H:%M:%S")
            sym_close = round(btc + rng.uniform(-150.0, 150.0), 2)
            close_method = "expired"
        if sell is not None:
            pnl = round((sell - buy) * position - fees, 2)
            win_loss = "W" if pnl > 0 else "L"
        ticker = kalshi_ticker(exp, strike)
        epoch_s = epoch_ms(t + NY_TO_UTC) // 1000
        if i == 1:
            ticket = "TICKET-0scflj61g-1752500712252"
        else:
            ticket = "TICKET-%s-%d" % ("".join(rng.choice(B36) for _ in range(9)),
                                      epoch_s * 1000 + rng.randint(0, 999))
        if i % 50 == 0:
            ticket = 0
        if i <= 5:
            momentum = volatility = None
        notes = NOTES.get(i)
        if i in TEST_TRADE_IDS:
            ticker = "TEST-" + ticker
            ticket = 0
            entry_method = "test"
            notes = "test trade - ignore"
        created_at = None if i % 37 == 0 else t.strftime("%Y-%m-%dT%H:%M:%S")
        hour12 = exp.hour % 12 or 12
        contract = "BTC %d%s" % (hour12, "am" if exp.hour < 12 else "pm")
        rows.append((i, t.strftime("%Y-%m-%d"), t.strftime("%H:%M:%S"),
                     "${:,}".format(strike), side, buy, position, status,
                     closed_at, contract, sell, pnl, fees, btc, sym_close,
                     momentum, volatility, prob, win_loss, ticker, ticket,
                     entry_method, close_method))
        extra.append((notes, created_at, i))
    return rows, extra


def write_trades(outdir):
    con = new_db(os.path.join(outdir, "trades.db"))
    con.execute(TRADES_DDL)
    rows, extra = gen_trades()
    con.execute("BEGIN")
    con.executemany('INSERT INTO "trades" (%s) VALUES (%s)' % (
        ", ".join(qi(c) for c in TRADE_COLS), ", ".join("?" * len(TRADE_COLS))), rows)
    con.execute("COMMIT")
    # Columns added later by a migration of the legacy system.
    con.execute('ALTER TABLE "trades" ADD COLUMN "notes" TEXT')
    con.execute('ALTER TABLE "trades" ADD COLUMN "created_at" TEXT')
    con.execute("BEGIN")
    con.executemany('UPDATE "trades" SET "notes" = ?, "created_at" = ? WHERE "id" = ?',
                    [e for e in extra if e[0] is not None or e[1] is not None])
    con.execute("COMMIT")
    con.close()
    return rows


# ----------------------------------------------------------------------------
# active_trades.db
# ----------------------------------------------------------------------------

def write_active_trades(outdir, trade_rows):
    con = new_db(os.path.join(outdir, "active_trades.db"))
    con.execute(
        "CREATE TABLE active_trades (\n"
        "    id INTEGER PRIMARY KEY,\n"
        "    trade_id INTEGER NOT NULL,\n"
        "    ticket_id TEXT,\n"
        "    symbol TEXT DEFAULT 'BTC',\n"
        "    side TEXT,\n"
        "    quantity INTEGER,\n"
        "    price REAL,\n"
        "    status TEXT,\n"
        "    current_pnl REAL,\n"
        "    last_updated TIMESTAMP DEFAULT CURRENT_TIMESTAMP,\n"
        "    entry_time TEXT,\n"
        "    fees REAL\n"
        ")")
    rng = random.Random(SEED + 2)
    trade_ids = list(range(461, 498))              # 37 distinct ids
    for pos in (4, 11, 32):                        # -> 486 at ids 5, 12, 28, 33
        trade_ids.insert(pos, 486)
    by_id = {r[0]: r for r in trade_rows}
    rows = []
    for aid, tid in enumerate(trade_ids, start=1):
        tr = by_id[tid]
        t_local = datetime.strptime(tr[1] + " " + tr[2], "%Y-%m-%d %H:%M:%S")
        upd = t_local + NY_TO_UTC + timedelta(seconds=rng.randint(5, 3000))
        price = tr[5]
        if aid == 17:
            price = "n/a"
        pnl = round(rng.uniform(-5.0, 5.0), 2)
        if aid == 3:
            pnl = None
        ticket = tr[20] if isinstance(tr[20], str) else None
        rows.append((aid, tid, ticket, "BTC", tr[4], tr[6], price,
                     rng.choice(("active", "active", "monitoring", "closing")),
                     pnl, upd.strftime("%Y-%m-%d %H:%M:%S"), tr[2],
                     tr[12] if isinstance(tr[12], float) else 0.0))
    con.execute("BEGIN")
    con.executemany("INSERT INTO active_trades VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    con.execute("COMMIT")
    con.close()


# ----------------------------------------------------------------------------
# btc_price_history.db
# ----------------------------------------------------------------------------

def write_btc(outdir):
    path = os.path.join(outdir, "btc_price_history.db")
    con = new_db(path)
    con.execute("CREATE TABLE price_log (\n"
                "    id INTEGER PRIMARY KEY,\n"
                "    timestamp TEXT,\n"
                "    price REAL,\n"
                "    volume REAL,\n"
                "    momentum REAL\n"
                ")")
    rng = random.Random(SEED + 3)
    t0 = datetime(2025, 7, 14, 0, 0, 0)
    p = 118250.37
    hist = []
    rows = []
    for i in range(20000):
        if i:
            p = round(p + rng.uniform(-12.0, 12.0) + (118250.0 - p) * 0.0005, 2)
        hist.append(p)
        mom = round((p - hist[i - 60]) / hist[i - 60] * 100.0, 6) if i >= 60 else None
        ts = (t0 + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S")
        rows.append((i + 1, ts, p, round(rng.uniform(0.0, 5.0), 4), mom))
    con.execute("BEGIN")
    con.executemany("INSERT INTO price_log VALUES (?,?,?,?,?)", rows)
    con.execute("COMMIT")
    con.execute("CREATE INDEX idx_price_log_timestamp ON price_log(timestamp)")
    con.execute("ANALYZE")
    con.close()
    return path


# ----------------------------------------------------------------------------
# orders.db / fills.db
# ----------------------------------------------------------------------------

def gen_orders():
    rng = random.Random(SEED + 4)
    t = datetime(2025, 7, 14, 13, 40, 3, 117250)      # UTC
    orders = []
    for _ in range(1000):
        t += timedelta(microseconds=rng.randint(5_000_000, 400_000_000))
        exp_local = (t - NY_TO_UTC + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
        strike = 118000 + 250 * rng.randint(-8, 8)
        ticker = kalshi_ticker(exp_local, strike)
        oid = det_uuid(rng)
        coid = det_uuid(rng) if rng.random() < 0.9 else None
        status = rng.choice(("executed", "executed", "executed", "canceled", "resting"))
        side = rng.choice(("yes", "no"))
        otype = "market" if rng.random() < 0.15 else "limit"
        yes_price = rng.randint(1, 99)
        count = rng.randint(1, 20)
        remaining = 0 if status == "executed" else rng.randint(1, count)
        expiration = None
        if rng.random() < 0.3:
            expiration = iso_z(exp_local + NY_TO_UTC, 0)
        created = iso_z(t, 6)
        last_upd = epoch_ms(t) + rng.randint(0, 90_000)
        raw = {"order_id": oid, "client_order_id": coid, "ticker": ticker,
               "status": status, "side": side, "action": "buy", "type": otype,
               "yes_price": yes_price, "no_price": 100 - yes_price,
               "remaining_count": remaining, "initial_count": count,
               "created_time": created, "expiration_time": expiration,
               "last_update_time": last_upd}
        orders.append({"row": (oid, coid, ticker, status, side, otype, yes_price,
                               100 - yes_price, remaining, created, expiration,
                               last_upd, json.dumps(raw, ensure_ascii=False)),
                       "t": t, "ticker": ticker, "count": count, "status": status,
                       "side": side, "yes_price": yes_price})
    return orders


def write_orders(outdir, orders):
    con = new_db(os.path.join(outdir, "orders.db"))
    con.execute("CREATE TABLE orders (\n"
                "    order_id TEXT PRIMARY KEY,\n"
                "    client_order_id TEXT,\n"
                "    ticker TEXT,\n"
                "    status TEXT,\n"
                "    side TEXT,\n"
                "    type TEXT,\n"
                "    yes_price INTEGER,\n"
                "    no_price INTEGER,\n"
                "    remaining_count INTEGER,\n"
                "    created_time TEXT,\n"
                "    expiration_time TEXT,\n"
                "    last_update_time INTEGER,\n"
                "    raw_json TEXT\n"
                ") WITHOUT ROWID")
    con.execute("BEGIN")
    con.executemany("INSERT INTO orders VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [o["row"] for o in orders])
    con.execute("COMMIT")
    con.close()


def write_fills(outdir, orders):
    rng = random.Random(SEED + 5)
    filled = [o for o in orders if o["status"] != "resting"]
    fills = []
    for _ in range(2000):
        o = rng.choice(filled)
        t = o["t"] + timedelta(microseconds=rng.randint(1000, 120_000_000))
        digits = rng.choice((0, 1, 2, 3, 3, 3, 4, 5, 6, 6))
        keep = 10 ** (6 - digits)
        t = t.replace(microsecond=t.microsecond // keep * keep)
        fills.append((t, digits, o, det_uuid(rng), det_uuid(rng),
                      rng.choice(("buy", "buy", "sell")), rng.randint(1, o["count"]),
                      rng.random() < 0.6))
    fills.sort(key=lambda f: (f[0], f[3]))
    rows = []
    for n, (t, digits, o, fill_id, trade_id, action, count, taker) in enumerate(fills, 1):
        created, ts = iso_z(t, digits), epoch_ms(t)
        if n == 1000:                              # placeholder instant
            created, ts = "1969-12-31T23:59:59Z", -1000
        yes_price = o["yes_price"]
        no_price = 100 - yes_price
        price = (yes_price if o["side"] == "yes" else no_price) / 100
        raw = {"action": action, "count": count, "created_time": created,
               "fill_id": fill_id, "is_taker": taker, "no_price": no_price,
               "order_id": o["row"][0], "side": o["side"], "ticker": o["ticker"],
               "trade_id": trade_id, "yes_price": yes_price}
        rows.append((fill_id, o["row"][0], o["ticker"], o["side"], action, count,
                     yes_price, no_price, price, 1 if taker else 0, created, ts,
                     json.dumps(raw)))
    con = new_db(os.path.join(outdir, "fills.db"))
    con.execute("CREATE TABLE fills (\n"
                "    fill_id TEXT PRIMARY KEY,\n"
                "    order_id TEXT,\n"
                "    ticker TEXT,\n"
                "    side TEXT,\n"
                "    action TEXT,\n"
                "    count INTEGER,\n"
                "    yes_price INTEGER,\n"
                "    no_price INTEGER,\n"
                "    price REAL,\n"
                "    is_taker INTEGER,\n"
                "    created_time TEXT,\n"
                "    ts INTEGER,\n"
                "    raw_json TEXT\n"
                ")")
    con.execute("BEGIN")
    con.executemany("INSERT INTO fills VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    con.execute("COMMIT")
    con.close()


# ----------------------------------------------------------------------------
# settlements.db / positions.db
# ----------------------------------------------------------------------------

def write_settlements(outdir):
    rng = random.Random(SEED + 6)
    con = new_db(os.path.join(outdir, "settlements.db"))
    con.execute("CREATE TABLE settlements (\n"
                "    ticker TEXT,\n"
                "    market_result TEXT,\n"
                "    yes_count INTEGER,\n"
                "    no_count INTEGER,\n"
                "    revenue INTEGER,\n"
                "    settled_time TEXT,\n"
                "    yes_total_cost REAL,\n"
                "    no_total_cost INTEGER,\n"
                "    PRIMARY KEY (ticker, settled_time)\n"
                ")")
    con.execute("CREATE VIEW settlements_by_result AS\n"
                "SELECT market_result, count(*) AS n, sum(revenue) AS revenue\n"
                "FROM settlements GROUP BY market_result")
    rows = []
    exp = datetime(2025, 7, 10, 0, 0, 0)          # New York local expiry hour
    for n in range(1, 301):
        if n == 151:                               # same market settled twice
            ticker = rows[-1][0]
            settled = exp + NY_TO_UTC + timedelta(minutes=47, seconds=rng.randint(0, 59))
        else:
            exp += timedelta(hours=1)
            ticker = kalshi_ticker(exp, 118000 + 250 * rng.randint(-8, 8))
            settled = exp + NY_TO_UTC + timedelta(minutes=rng.randint(1, 9),
                                                  seconds=rng.randint(0, 59))
        result = rng.choice(("yes", "no"))
        yes_count = rng.choice((0, 0, rng.randint(1, 30)))
        no_count = rng.choice((0, rng.randint(1, 30))) if yes_count else rng.randint(1, 30)
        revenue = 100 * (yes_count if result == "yes" else no_count)
        yes_cost = rng.randint(1, 99) * yes_count
        no_cost = rng.randint(1, 99) * no_count
        rows.append((ticker, result, yes_count, no_count, revenue,
                     iso_z(settled, 0), float(yes_cost), no_cost))
    con.execute("BEGIN")
    con.executemany("INSERT INTO settlements VALUES (?,?,?,?,?,?,?,?)", rows)
    con.execute("COMMIT")
    con.close()


def write_positions(outdir):
    rng = random.Random(SEED + 7)
    con = new_db(os.path.join(outdir, "positions.db"))
    con.execute("CREATE TABLE positions (\n"
                "    ticker TEXT PRIMARY KEY,\n"
                "    position INTEGER,\n"
                "    market_exposure INTEGER,\n"
                "    realized_pnl INTEGER,\n"
                "    total_traded INTEGER,\n"
                "    resting_orders_count INTEGER,\n"
                "    fees_paid REAL,\n"
                "    last_updated_ts TEXT\n"
                ")")
    rows = []
    exp = datetime(2025, 7, 14, 9, 0, 0)
    for _ in range(150):
        exp += timedelta(hours=1)
        ticker = kalshi_ticker(exp, 118000 + 250 * rng.randint(-8, 8))
        pos = rng.choice((0, 0, 0, rng.randint(-20, 20)))
        price = rng.randint(1, 99)
        traded = rng.randint(0, 5000)
        upd = exp + NY_TO_UTC - timedelta(seconds=rng.randint(0, 3599),
                                          microseconds=rng.randint(0, 999999))
        rows.append((ticker, pos, abs(pos) * price, rng.randint(-2000, 2000), traded,
                     rng.choice((0, 0, 0, 1, 2)), round(traded * 0.0007, 2),
                     iso_z(upd, 6)))
    con.execute("BEGIN")
    con.executemany("INSERT INTO positions VALUES (?,?,?,?,?,?,?,?)", rows)
    con.execute("COMMIT")
    con.close()


# ----------------------------------------------------------------------------
# hostile / edge files
# ----------------------------------------------------------------------------

def write_quoting(outdir):
    con = new_db(os.path.join(outdir, "quoting.db"))
    con.execute('CREATE TABLE "Mixed Case Table" (\n'
                '    "Id" INTEGER PRIMARY KEY,\n'
                '    "select" TEXT,\n'
                '    "Weird ""Col""" REAL,\n'
                '    "CamelCase" INTEGER\n'
                ')')
    con.execute('CREATE TABLE "it\'s ""quoted""" (\n'
                '    id INTEGER PRIMARY KEY,\n'
                '    label TEXT,\n'
                '    "col with space" INTEGER\n'
                ')')
    con.execute("CREATE TABLE lower_only (id INTEGER PRIMARY KEY, name TEXT, amount REAL)")
    con.execute("CREATE TABLE no_rowid (k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID")
    con.execute("CREATE VIEW v_lower AS SELECT id, name, amount FROM lower_only")
    con.execute("BEGIN")
    con.executemany('INSERT INTO "Mixed Case Table" VALUES (?,?,?,?)',
                    [(1, "from", 1.5, 10), (2, "where", None, 20), (3, "group by", -0.25, 30)])
    con.executemany('INSERT INTO "it\'s ""quoted""" VALUES (?,?,?)',
                    [(1, "O'Brien", 1), (2, 'say "hi"', 2), (3, "back\\slash", None)])
    con.executemany("INSERT INTO lower_only VALUES (?,?,?)",
                    [(1, "alpha", 1.25), (2, "beta", None), (3, "gamma", -3.5)])
    con.executemany("INSERT INTO no_rowid VALUES (?,?)", [("a", 1), ("b", 2), ("c", 3)])
    con.execute("COMMIT")
    con.close()


# 63 bytes: as long as a PostgreSQL name can be
NAME63 = "readings_from_the_north_warehouse_loading_dock_sensor_array_no7"
COLUMN63 = "price_of_the_contract_when_the_exchange_published_the_last_tick"
assert len(NAME63.encode()) == 63 and len(COLUMN63.encode()) == 63


def pg_name_of(name):
    """IMPORT's PostgreSQL name of a SQLite name longer than 63 bytes (src/fdw/import_schema.cpp)."""
    h = 14695981039346656037
    for c in name.encode():
        h = ((h ^ c) * 1099511628211) % 2 ** 64
    prefix = name.encode()[:54].decode(errors="ignore")
    return "%s_%08x" % (prefix, (h ^ (h >> 32)) % 2 ** 32)


def write_names(outdir):
    con = new_db(os.path.join(outdir, "names.db"))
    con.execute('CREATE TABLE "" (id INTEGER PRIMARY KEY, v TEXT)')
    con.execute("CREATE TABLE plain (id INTEGER PRIMARY KEY, v TEXT)")
    for name in (NAME63, NAME63 + "_2024", NAME63 + "_2025", "prix_" + "\u00e9" * 35):
        con.execute("CREATE TABLE %s (id INTEGER PRIMARY KEY, v TEXT)" % qi(name))
    con.execute("CREATE TABLE long_columns (id INTEGER PRIMARY KEY, %s REAL, %s REAL, %s TEXT)"
                % (qi(COLUMN63 + "_open"), qi(COLUMN63 + "_close"), qi(COLUMN63)))
    # names that are already what a long name is shortened to
    con.execute("CREATE TABLE collide_columns (%s REAL, %s REAL)"
                % (qi(COLUMN63 + "_open"), qi(pg_name_of(COLUMN63 + "_open"))))
    con.execute("CREATE TABLE %s (id INTEGER PRIMARY KEY)" % qi(pg_name_of(NAME63 + "_2025")))
    for n in (1600, 1601):
        con.execute("CREATE TABLE columns_%d (%s)" % (n, ", ".join("c%d INTEGER" % i for i in range(1, n + 1))))
    con.execute("CREATE TABLE odd_values (id INTEGER PRIMARY KEY, label TEXT, n INTEGER)")
    con.execute("BEGIN")
    con.executemany('INSERT INTO "" VALUES (?,?)', [(1, "empty"), (2, "name")])
    con.executemany("INSERT INTO plain VALUES (?,?)", [(1, "a"), (2, "b")])
    for i, name in enumerate((NAME63, NAME63 + "_2024", NAME63 + "_2025", "prix_" + "\u00e9" * 35)):
        con.execute("INSERT INTO %s VALUES (?,?)" % qi(name), (1, "table %d" % i))
    con.execute("INSERT INTO long_columns VALUES (1, 1.25, 1.5, 'x')")
    con.execute("INSERT INTO odd_values VALUES (1, 'ok', 1), (2, CAST(x'41c328' AS TEXT), 2), "
                "(3, CAST(x'610062' AS TEXT), 3), (4, 'fine', 4), (5, 'inf', 9e999)")
    con.execute("COMMIT")
    con.close()


def write_not_sqlite(outdir):
    path = os.path.join(outdir, "not_sqlite.db")
    remove_db(path)
    line = b"this is not a database\n"
    with open(path, "wb") as f:
        f.write((line * (4096 // len(line) + 1))[:4096])


def page_size_of(data):
    ps = int.from_bytes(data[16:18], "big")
    return 65536 if ps == 1 else ps


def write_truncated(outdir, src):
    with open(src, "rb") as f:
        data = f.read()
    path = os.path.join(outdir, "truncated.db")
    remove_db(path)
    with open(path, "wb") as f:
        f.write(data[:2 * page_size_of(data)])


def full_scan(path):
    con = ro_connect(path)
    try:
        return con.execute("SELECT count(*), sum(price) FROM price_log").fetchone()
    finally:
        con.close()


def write_corrupt(outdir, src):
    with open(src, "rb") as f:
        orig = f.read()
    ps = page_size_of(orig)
    npages = len(orig) // ps
    path = os.path.join(outdir, "corrupt.db")
    pattern = (b"\xff\x00" * (ps // 2))[:ps]
    # Candidate page sets (1-based page numbers), tried in a fixed order.
    for first in range(4, npages - 2, 3):
        pages = (first, first + 1, first + 2)
        data = bytearray(orig)
        for p in pages:
            data[(p - 1) * ps:p * ps] = pattern
        remove_db(path)
        with open(path, "wb") as f:
            f.write(bytes(data))
        try:
            # the schema must stay readable ...
            con = ro_connect(path)
            con.execute("SELECT count(*) FROM sqlite_schema").fetchone()
            con.close()
        except sqlite3.DatabaseError:
            continue
        try:
            full_scan(path)
        except sqlite3.DatabaseError as e:      # ... but the full scan must fail
            if "malformed" in str(e):
                return pages
    remove_db(path)
    sys.exit("make_fixtures: could not produce a corrupt.db that fails with 'malformed'")


# ----------------------------------------------------------------------------
# bench mode
# ----------------------------------------------------------------------------

def write_bench(outdir, n):
    db_path = os.path.join(outdir, "bench_price_log.db")
    csv_path = os.path.join(outdir, "bench_price_log.csv")
    remove_db(db_path)
    rng = random.Random(SEED + 100)
    r = rng.random
    days = [(datetime(2024, 1, 1) + timedelta(days=d)).strftime("%Y-%m-%d ")
            for d in range(n // 86400 + 1)]
    tods = ["%02d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60) for s in range(86400)]

    with open(csv_path, "w", encoding="ascii", newline="\n") as csv:
        def rows():
            buf = []
            p = 40000.0
            for i in range(n):
                p += (r() - 0.5) * 20.0 + (40000.0 - p) * 0.001
                ps = "%.2f" % p
                vs = "%.6f" % (r() * 3.0)
                ts = days[i // 86400] + tods[i % 86400]
                buf.append("%d,%s,%s,%s\n" % (i + 1, ts, ps, vs))
                if len(buf) >= 100000:
                    csv.writelines(buf)
                    buf.clear()
                yield (i + 1, ts, float(ps), float(vs))
            csv.writelines(buf)

        con = sqlite3.connect(db_path, isolation_level=None)
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA cache_size=-65536")
        con.execute("CREATE TABLE price_log (\n"
                    "    id INTEGER PRIMARY KEY,\n"
                    "    timestamp TEXT,\n"
                    "    price REAL,\n"
                    "    volume REAL\n"
                    ")")
        con.execute("BEGIN")
        con.executemany("INSERT INTO price_log VALUES (?,?,?,?)", rows())
        con.execute("COMMIT")
        con.execute("PRAGMA journal_mode=DELETE")
        con.close()


# ----------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------

def count_line(outdir, fname, table, sql=None):
    path = os.path.join(outdir, fname)
    try:
        con = ro_connect(path)
        try:
            res = con.execute(sql or "SELECT count(*) FROM " + qi(table)).fetchone()[0]
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        res = "ERROR: %s" % e
    print("%s\t%s\t%s" % (fname, table, res))


def write_sql_fixtures(outdir):
    """Small hand-written fixtures: test/fixtures/NAME.sql -> OUTDIR/NAME.db."""
    srcdir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
    for name in sorted(os.listdir(srcdir)):
        if not name.endswith(".sql"):
            continue
        path = os.path.join(outdir, name[:-4] + ".db")
        if os.path.exists(path):
            os.remove(path)
        con = sqlite3.connect(path)
        with open(os.path.join(srcdir, name), encoding="utf-8") as f:
            con.executescript(f.read())
        con.commit()
        con.close()


def main():
    ap = argparse.ArgumentParser(description="Generate deterministic REC.IO SQLite fixtures.")
    ap.add_argument("outdir")
    ap.add_argument("--bench-rows", type=int, default=0, metavar="N",
                    help="also write bench_price_log.db/.csv with N rows")
    args = ap.parse_args()
    if args.bench_rows < 0:
        ap.error("--bench-rows must be >= 0")
    outdir = args.outdir
    os.makedirs(outdir, exist_ok=True)

    trade_rows = write_trades(outdir)
    write_active_trades(outdir, trade_rows)
    btc = write_btc(outdir)
    orders = gen_orders()
    write_orders(outdir, orders)
    write_fills(outdir, orders)
    write_settlements(outdir)
    write_positions(outdir)
    write_quoting(outdir)
    write_names(outdir)
    write_not_sqlite(outdir)
    write_truncated(outdir, btc)
    write_corrupt(outdir, btc)
    write_sql_fixtures(outdir)
    if args.bench_rows:
        write_bench(outdir, args.bench_rows)

    for fname, table in (("trades.db", "trades"),
                         ("active_trades.db", "active_trades"),
                         ("btc_price_history.db", "price_log"),
                         ("btc_price_history.db", "sqlite_stat1"),
                         ("fills.db", "fills"),
                         ("orders.db", "orders"),
                         ("settlements.db", "settlements"),
                         ("settlements.db", "settlements_by_result"),
                         ("positions.db", "positions"),
                         ("quoting.db", "Mixed Case Table"),
                         ("quoting.db", 'it\'s "quoted"'),
                         ("quoting.db", "lower_only"),
                         ("quoting.db", "no_rowid"),
                         ("quoting.db", "v_lower"),
                         ("names.db", ""),
                         ("names.db", "odd_values"),
                         ("not_sqlite.db", "price_log"),
                         ("truncated.db", "price_log")):
        count_line(outdir, fname, table)
    count_line(outdir, "corrupt.db", "price_log",
               "SELECT count(*), sum(price) FROM price_log")
    if args.bench_rows:
        count_line(outdir, "bench_price_log.db", "price_log")
        with open(os.path.join(outdir, "bench_price_log.csv"), "rb") as f:
            print("bench_price_log.csv\t-\t%d" % sum(1 for _ in f))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Differential test data: one SQLite table per converter of the wrapper.

    python3 test/differential/gen_values.py --list           the converters (TSV, see below)
    python3 test/differential/gen_values.py OUT.db N NAME    N values of converter NAME

Each table holds rows (id, v, oracle, ok): v is the value in its legacy
storage class (INTEGER, REAL or TEXT; the column has no declared type, so
SQLite keeps the class it was given), oracle the text PostgreSQL's own input
function parses (for a REAL: Python's repr(), the shortest round-trip
decimal), ok 1 when the plain oracle expression is expected to succeed, 0
when PostgreSQL is expected to refuse it (then the comparison evaluates the
oracle inside an exception block, which is only done on those few rows).  ok
only picks the way the oracle is evaluated: the expected value always comes
from PostgreSQL.

--list prints one line per converter: table, foreign column type, column
options ("-": none), oracle expression ({o} stands for the oracle text,
{zoned} for 1 when a timestamp text carries a zone).  The edge cases come
first in every table, then deterministic random values (fixed seed).
Where PostgreSQL's behaviour is deliberately not the wrapper's (documented
in the README's type mapping), the oracle expression encodes the rule.
"""

import math
import os
import re
import random
import sqlite3
import struct
import datetime
import sys
from decimal import Context, Decimal, ROUND_HALF_UP

SEED = 20261201
SPACE = " \t\n\r\f\v"
DEC = Context(prec=1000, Emax=10 ** 6, Emin=-10 ** 6)


def f64(bits):
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def shortest(d):
    """The shortest decimal that reads back as d, as PostgreSQL prints it: Python's repr() without
    the ".0" it adds to integral values (which would give a numeric one more display digit)"""
    r = repr(d)
    return r[:-2] if r.endswith(".0") else r


def positional(d):
    """shortest(d) without an exponent (interval input takes none), to 9 decimals (it takes at most a
    few hundred digits; below a nanosecond nothing can change the microsecond)"""
    if not math.isfinite(d):
        return shortest(d)
    return format(Decimal(repr(d)).quantize(Decimal("1e-9"), context=DEC).normalize(DEC), "f")


def float_edges():
    e = [0.0, -0.0, 5e-324, -5e-324, f64(0x000FFFFFFFFFFFFF), 2.2250738585072014e-308, 1.7976931348623157e308,
         -1.7976931348623157e308, math.inf, -math.inf, 2.0 ** 53 - 1, 2.0 ** 53, 2.0 ** 53 + 2, -(2.0 ** 53),
         2.0 ** 63, -(2.0 ** 63), 2.0 ** 62, 9.223372036854775e18, 2.0 ** 31, 2.0 ** 31 - 1, -(2.0 ** 31),
         -(2.0 ** 31) - 1, 32767.0, 32768.0, -32768.0, -32769.0, 0.1, 0.2, 0.1 + 0.2, 0.47000000000000003,
         118250.37, 1e15, 1e15 - 1, 1e15 + 1, 1e16, 999999999999999.9, 123456789012345.6, 1e-7, 1e-5, 3.7, -3.7,
         0.5, -0.5, 1.5, 2.5, 3.4028234663852886e38, 3.4028235677973366e38, 3.40282357e38, 3.5e38, 1e-45,
         1.401298464324817e-45, 7e-46, 7.006492321624085e-46, 1e-46, 1.1754943508222875e-38]
    # 9.999...5 rounding boundaries at 0..9 decimals, both signs, and their neighbours
    for k in range(10):
        for digits in range(1, 9):
            s = "9" * digits + "." + "9" * k + "5" if k else "9" * digits + ".5"
            d = float(s)
            e += [d, -d, math.nextafter(d, math.inf), math.nextafter(d, -math.inf)]
        for base in ("0.", "1.", "12.", "99999999."):
            s = base + "0" * k + "5"
            e += [float(s), -float(s)]
    return e


def random_double(rng):
    kind = rng.randrange(6)
    if kind == 0:    # any bit pattern but NaN (SQLite stores NaN as NULL)
        d = f64(rng.getrandbits(64))
        return d if not math.isnan(d) else 1.0
    if kind == 1:    # a price with 1-6 decimals
        return round(rng.uniform(-1e6, 1e6), rng.randrange(1, 7))
    if kind == 2:    # near a half at the 4th decimal
        return (rng.randrange(-10 ** 9, 10 ** 9) + 0.5) / 10 ** rng.randrange(0, 6)
    if kind == 3:    # integral
        return float(rng.randrange(-2 ** 64, 2 ** 64) >> rng.randrange(0, 64))
    if kind == 4:
        return rng.uniform(-1, 1) * 10.0 ** rng.randrange(-30, 30)
    return math.nextafter(float(rng.randrange(-10 ** 8, 10 ** 8)) / 10 ** rng.randrange(0, 5),
                          rng.choice([math.inf, -math.inf]))


def int_edges():
    e = [0, 1, -1]
    for b in (15, 31, 53, 62, 63):
        e += [2 ** b - 1, 2 ** b, 2 ** b + 1, -(2 ** b), -(2 ** b) - 1, -(2 ** b) + 1]
    return [v for v in e if -2 ** 63 <= v < 2 ** 63]


def random_int(rng, bits=64):
    """mostly within a bits-wide integer (every magnitude), one in eight anywhere in int64: the values
    PostgreSQL refuses are evaluated one by one in an exception block, so they stay a small share"""
    if bits < 64 and rng.randrange(8) == 0:
        bits = 64
    return rng.randrange(-2 ** (bits - 1), 2 ** (bits - 1)) >> rng.randrange(0, bits)


# ---- converters --------------------------------------------------------------------------------

def in_range(v, bits):
    return -2 ** (bits - 1) <= v < 2 ** (bits - 1)


def int_from_integer(bits):
    def gen(rng, n):
        vals = int_edges() + [random_int(rng, bits) for _ in range(n)]
        return [(v, str(v), in_range(v, bits)) for v in vals[:n]]
    return gen


def int_text_variants(rng, v):
    s = str(v)
    r = rng.randrange(24)
    if r == 0:
        s = rng.choice(SPACE) + s + rng.choice(SPACE)
    elif r == 1:
        s = ("+" if v >= 0 else "-") + "0" * rng.randrange(1, 5) + str(abs(v))
    elif r == 2:
        s = s + rng.choice([".0", "e3", "x", " 1", ".", "_1"])
    elif r == 3:
        s = rng.choice(["", " ", "+", "-", "--1", "+-1", "0x10", "1 2", "١٢", "12\u00a0", "abc", "- 1", "1e3"])
    return s


def int_text_ok(s, bits):
    t = s.strip(SPACE)
    body = t[1:] if t[:1] in "+-" else t
    return body.isascii() and body.isdigit() and in_range(int(t), bits)


def int_from_text(bits):
    def gen(rng, n):
        vals = [str(v) for v in int_edges()] + [" 12", "12 ", "+0", "-0", "007", "\t-5\n",
                                                "9223372036854775808", "-9223372036854775809",
                                                "99999999999999999999999"]
        while len(vals) < n:
            vals.append(int_text_variants(rng, random_int(rng, bits)))
        return [(s, s, int_text_ok(s, bits)) for s in vals[:n]]
    return gen


def int_from_real(bits):
    def gen(rng, n):
        vals = float_edges() + [random_double(rng) if rng.randrange(2) else float(random_int(rng, bits))
                                for _ in range(n)]
        out = []
        for d in vals[:n]:
            ok = math.isfinite(d) and (d != math.floor(d) or in_range(int(d), bits))
            out.append((d, shortest(d), ok))
        return out
    return gen


def float8_from_integer(rng, n):
    vals = int_edges() + [random_int(rng) for _ in range(n)]
    # float8 -> int8 of a value this close to 2^63 raises: evaluate those in the exception block
    return [(v, str(v), abs(v) < 2 ** 63 - 1024) for v in vals[:n]]


FLOAT_TEXT_EDGES = ["0", "-0", "0e0", ".5", "5.", "-.5e-3", " 1.5 ", "\t2\n", "1e308", "1.7976931348623157e308",
                    "1.7976931348623159e308", "1e309", "-1e309", "4.9e-324", "2.4703282292062328e-324",
                    "2.4703282292062327e-324", "1e-400", "2.2250738585072011e-308", "inf", "-Infinity", "NaN",
                    "nan", "0x10", "1e", "1e+", "+.e1", ".", "", " ", "1_0", "1,5", "1.5.5", "e5", "+-1",
                    "0.1000000000000000055511151231257827", "9007199254740993", "123456789012345678901234567890",
                    "1" + "0" * 400, "0." + "0" * 400 + "1"]


DECIMAL_SYNTAX = re.compile(r"^[ \t\n\r\f\v]*[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?[ \t\n\r\f\v]*$")


def float_text_ok(s):
    """False when the decimal-syntax oracle would raise: float8in's out-of-range errors."""
    if not DECIMAL_SYNTAX.match(s):
        return True
    d = float(s.strip(SPACE))
    mantissa = s.strip(SPACE).lower().split("e")[0]
    return math.isfinite(d) and not (d == 0.0 and any(c in "123456789" for c in mantissa))


def float8_from_text(rng, n):
    vals = list(FLOAT_TEXT_EDGES) + [repr(d) for d in float_edges() if math.isfinite(d)]
    while len(vals) < n:
        r = rng.randrange(4)
        d = random_double(rng)
        if not math.isfinite(d):
            d = 1.0
        if r == 0:
            s = "%.*e" % (rng.randrange(0, 25), d)
        elif r == 1:
            s = "%.*f" % (rng.randrange(0, 12), d) if abs(d) < 1e30 else repr(d)
        elif r == 2:
            s = rng.choice(SPACE) + repr(d) + rng.choice(SPACE)
        else:
            s = repr(d)
        vals.append(s)
    return [(s, s, float_text_ok(s)) for s in vals[:n]]


def float4_from_real(rng, n):
    vals = float_edges() + [random_double(rng) for _ in range(n)]
    out = []
    for d in vals[:n]:
        try:
            f = struct.unpack("<f", struct.pack("<f", d))[0]
            ok = not (f == 0.0 and d != 0.0)
        except OverflowError:
            ok = not math.isfinite(d)
        out.append((d, shortest(d), ok))
    return out


def numeric_fits(d, p, s):
    if not math.isfinite(d):
        return False
    return decimal_fits(Decimal(repr(d)), p, s)


def decimal_fits(dv, p, s):
    """numeric(p,s)'s test: the value rounded half away from zero to s digits has at most p - s before the point"""
    if abs(dv) >= Decimal(10) ** (p - s + 1):
        return False
    q = dv.quantize(Decimal(1).scaleb(-s), rounding=ROUND_HALF_UP, context=DEC)
    return abs(q) < Decimal(10) ** (p - s)


def numeric_from_real(p, s):
    def gen(rng, n):
        def value():   # mostly within the column's range
            d = random_double(rng)
            if p is None or rng.randrange(8) == 0 or not math.isfinite(d) or d == 0:
                return d
            return math.copysign(math.fmod(abs(d), 10.0 ** (p - s)), d) if abs(d) >= 1 else d
        vals = float_edges() + [value() for _ in range(n)]
        out = []
        for d in vals[:n]:
            ok = math.isfinite(d) and (p is None or numeric_fits(d, p, s))
            out.append((d, shortest(d), ok))
        return out
    return gen


def numeric_from_integer(p, s):
    def gen(rng, n):
        vals = int_edges() + [10 ** k for k in range(19)] + [-(10 ** k) for k in range(19)] + \
            [random_int(rng) for _ in range(n)]
        return [(v, str(v), abs(v) < 10 ** (p - s)) for v in vals[:n]]
    return gen


def numeric_from_text(p, s):
    def gen(rng, n):
        vals = [" 1.23456 ", "1e3", "-0.00005", "0.00005", "99999999.99995", "NaN", "abc", "1,5", "",
                "Infinity", "1e-400"]
        while len(vals) < n:
            d = random_double(rng)
            vals.append(repr(d) if rng.randrange(2) else "%.*f" % (rng.randrange(0, 9), d if abs(d) < 1e20 else 1.5))
        out = []
        for t in vals[:n]:
            try:
                dv = Decimal(t.strip(SPACE))
                ok = dv.is_finite() and decimal_fits(dv, p, s)
            except Exception:
                ok = False
            out.append((t, t, ok))
        return out
    return gen


# ---- dates and times ---------------------------------------------------------------------------

DST = [  # (date, hours) around the changes of America/New_York and Europe/Berlin
    ("2025-03-09", (1, 2, 3)), ("2025-11-02", (0, 1, 2)), ("2025-03-30", (1, 2, 3)), ("2025-10-26", (1, 2, 3)),
    ("1970-04-26", (1, 2, 3)), ("2007-03-11", (1, 2, 3)), ("1945-09-30", (0, 1, 2)), ("2037-11-01", (0, 1, 2)),
    ("2100-03-14", (1, 2, 3))]
LEAP_DAYS = ["2000-02-29", "2024-02-29", "1900-02-29", "2100-02-29", "2023-02-29", "1600-02-29", "2025-02-30",
             "2025-04-31", "2025-13-01", "2025-00-10", "2025-01-00", "0001-01-01", "9999-12-31", "0000-06-15",
             "1582-10-10", "1969-12-31", "1970-01-01"]
FRACTIONS = ["5", "05", "999", "9999995", "0000005", "0000015", "0000025", "00000049", "000000500", "4999995",
             "123456789", "999999999", "000001", "9999994", "0000004"]


def random_date(rng):
    y = rng.choice([rng.randrange(1, 10000), rng.randrange(1900, 2101), rng.randrange(1960, 2040)])
    m = rng.randrange(1, 13)
    d = rng.randrange(1, 32) if rng.randrange(20) == 0 else rng.randrange(1, 29)
    return "%04d-%02d-%02d" % (y, m, d)


def random_time(rng, seconds=None, frac_digits=None):
    h, mi, s = rng.randrange(24), rng.randrange(60), rng.randrange(60)
    if rng.randrange(50) == 0:
        h, mi, s = rng.choice([(24, 0, 0), (23, 59, 60), (23, 60, 0), (25, 0, 0), (12, 30, 61)])
    t = "%02d:%02d" % (h, mi)
    if seconds is None:
        seconds = rng.randrange(4) != 0
    if seconds:
        t += ":%02d" % s
        if frac_digits is None:
            frac_digits = rng.choice([0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
        if frac_digits:
            t += "." + "".join(rng.choice("0123456789") for _ in range(frac_digits))
    return t


def random_zone(rng):
    r = rng.randrange(10)
    if r < 4:
        return ""
    sign = rng.choice("+-")
    hh, mm = rng.choice([rng.randrange(0, 15), 15, 14]), rng.choice([0, 0, 30, 45, rng.randrange(60)])
    z = rng.choice(["Z", "z", "%s%02d" % (sign, hh), "%s%02d%02d" % (sign, hh, mm), "%s%02d:%02d" % (sign, hh, mm)])
    return (" " if rng.randrange(4) == 0 else "") + z


def timestamp_texts(rng, n):
    vals = []
    for day, hours in DST:
        for h in hours:
            for mi in (0, 30, 59):
                for z in ("", "Z", "+01", "-05:00"):
                    vals.append("%s %02d:%02d:00%s" % (day, h, mi, z))
    for day in LEAP_DAYS:
        vals += [day, day + " 12:00", day + "T23:59:59.999999", day + " 00:00:00+14"]
    for f in FRACTIONS:
        vals += ["2025-07-14 09:45:12." + f, "2025-12-31 23:59:59." + f, "2024-02-28T23:59:59." + f + "Z"]
    vals += ["2025-07-14", "2025-07-14 09:45", "2025-07-14T09:45:12", "2025-07-14t09:45:12",
             "2025-07-14 24:00:00", "2025-07-14 23:59:60", "2025-07-14 09:45:12.", "2025-07-14 09:45:12.1234567890",
             "2025-07-14 09:45:12+16", "2025-07-14 09:45:12+15:59", "2025-07-14 09:45:12 +0530",
             "14/07/2025", "2025-7-14", "2025-07-14  09:45", "2025-07-14 9:45", "2025-07-14 09:45:12 Z",
             "2025-07-14 09:45:12-00", "2025-07-14 09:45:12+05:3", "2025-07-14 09:45:12+5", " 2025-07-14",
             "2025-07-14 ", "2025-07-14 09:45:12Z ", "", "2025-07-14 09:45:12 UTC", "2025-07-14 09:45:12+0000",
             "2025-07-14T09:45Z", "2025-07-14 09:45+02", "2025-07-14 09:45:12.5+02:00"]
    while len(vals) < n:
        vals.append(random_date(rng) + rng.choice([" ", "T", " ", "T", "t", ""]) * 1 + random_time(rng) +
                    random_zone(rng) if rng.randrange(8) else random_date(rng))
    return vals[:n]


TIMESTAMP_SYNTAX = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?"
                              r"( ?(?:[Zz]|[+-](\d{2})(?::?(\d{2}))?))?)?$")


def classify_timestamp(s, date_only=False):
    """(ok, zoned): ok when the text is in the wrapper's documented formats, so the plain oracle
    cast can evaluate it (PostgreSQL accepts more; those go to the exception-block oracle)."""
    m = TIMESTAMP_SYNTAX.match(s)
    if not m:
        return False, False
    y, mo, d, hh, mi, ss, zone, zh, zm = m.groups()
    try:
        datetime.date(int(y), int(mo), int(d))
    except ValueError:
        return False, False
    if date_only and hh is not None:
        return False, False
    if hh is not None and (int(hh) > 23 or int(mi) > 59 or int(ss or 0) > 59):
        return False, False
    if zh is not None and (int(zh) > 15 or int(zm or 0) > 59):
        return False, False
    return True, zone is not None


def timestamp_gen(rng, n):
    return [(s, s, classify_timestamp(s)[0]) for s in timestamp_texts(rng, n)]


def date_gen(rng, n):
    vals = list(LEAP_DAYS) + ["2025-07-14 00:00", "2025-07-14T00:00:00", "2025-7-1", " 2025-07-14", "20250714", ""]
    while len(vals) < n:
        vals.append(random_date(rng))
    return [(s, s, classify_timestamp(s, date_only=True)[0]) for s in vals[:n]]


def time_gen(rng, n):
    vals = ["00:00", "23:59", "24:00", "24:00:00", "24:00:00.000001", "23:59:59.9999995", "23:59:60", "12:60",
            "7:05", "07:05:3", "07:05:03.", "07:05:03+02", "07:05:03Z", "", "25:00"]
    vals += ["12:34:56." + f for f in FRACTIONS]
    while len(vals) < n:
        vals.append(random_time(rng))
    return [(s, s, classify_timestamp("2000-01-01 " + s)[0] and not classify_timestamp("2000-01-01 " + s)[1])
            for s in vals[:n]]


# ---- epochs ------------------------------------------------------------------------------------

def epoch_integer(per_second):
    """INTEGER epochs: PostgreSQL's whole timestamp range (4714 BC .. 294276 AD), both ends, and
    one in eight anywhere in int64"""
    first, end = -210866803200 * per_second, 9224318016000 * per_second   # seconds since 1970

    def gen(rng, n):
        vals = int_edges() + [0, 1700000000 * per_second, -62135596800 * per_second, first, first - 1,
                              end - 1, end]
        vals = [v for v in vals if -2 ** 63 <= v < 2 ** 63]
        while len(vals) < n:
            r = rng.randrange(8)
            if r == 0:
                vals.append(random_int(rng))
            elif r < 4:
                vals.append(rng.randrange(first, min(end, 2 ** 63)))
            else:
                vals.append(rng.randrange(0, 2000000000) * per_second + rng.randrange(per_second))
        return [(v, str(v), -210000000000 * per_second < v < 9224000000000 * per_second) for v in vals[:n]]
    return gen


def epoch_real_seconds(rng, n):
    """REAL epochs in seconds.  Random values with a fraction stay below 2^32 s (2106), where a double
    still holds every microsecond of its decimal; beyond that only integral values (exact)."""
    vals = [0.0, -0.0, 1e-6, 4e-7, 1.6e-6, 1700000000.5, 1700000000.123456, 1700000000.0000004, -1.4e-6,
            -62135596800.0, -210866803200.0, -210866803201.0, 9224318015999.0, 9224318016000.0, 1e15, 1e20,
            math.inf, -math.inf, 5e-324, 4294967295.999999, -4294967295.999999]
    while len(vals) < n:
        r = rng.randrange(3)
        if r == 0:
            vals.append(rng.randrange(0, 2000000000) + rng.randrange(10 ** 6) / 1e6)
        elif r == 1:
            vals.append(rng.randrange(-2 ** 32 + 1, 2 ** 32 - 1) + rng.randrange(10 ** 3) / 1e3)
        else:
            vals.append(float(rng.randrange(-2 * 10 ** 11, 2 * 10 ** 11)))
    return [(d, positional(d), math.isfinite(d) and abs(d) < 2e11) for d in vals[:n]]


def epoch_real_millis(rng, n):
    vals = [0.0, 1.5, 0.0004, 1700000000000.5, 1700000000123.456, -0.0016, -62135596800000.0]
    while len(vals) < n:
        vals.append(rng.randrange(-2 ** 32 * 1000, 2 ** 32 * 1000) + rng.randrange(10 ** 3) / 1e3)
    return [(d, positional(d), True) for d in vals[:n]]


# Documented (README, Type mapping): only these texts are timestamps; PostgreSQL reads many more
# ("2025-7-14", "12:00:00.", 10 fraction digits, "24:00:00", a leap second ":60", "... UTC"), the wrapper
# refuses them on purpose.  Field values (the day of the month) are left to PostgreSQL.
HMS = "([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,9})?)?"
TS_SYNTAX = "^[0-9]{4}-[0-9]{2}-[0-9]{2}([ Tt]%s( ?([Zz]|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?))?)?$" % HMS


def documented(syntax, cast):
    return "CASE WHEN {o} ~ '%s' THEN %s END" % (syntax, cast)


ZONED_TS = documented(TS_SYNTAX, "CASE WHEN {zoned} = 1 THEN {o}::timestamptz "
                                 "ELSE ({o}::timestamp AT TIME ZONE '%s') END")
ZONED_TS_LOCAL = documented(TS_SYNTAX, "CASE WHEN {zoned} = 1 THEN ({o}::timestamptz AT TIME ZONE '%s') "
                                       "ELSE {o}::timestamp END")
# INTEGER epochs: whole days plus the rest (one interval cannot hold the whole timestamp range)
EPOCH_INTEGER = "'epoch'::timestamptz + make_interval(days => ({o}::int8 / %s)::int) + (({o}::int8 %% %s) || ' %s')::interval"
# Epochs: the instant the writer meant, the decimal (repr) read exactly through interval input; a
# non-finite REAL is refused (documented), where to_timestamp() would give +-infinity.
EPOCH = "CASE WHEN {o} NOT IN ('inf', '-inf') THEN 'epoch'::timestamptz + ({o} || ' %s')::interval END"

# name, generator, column type, column options, oracle expression ({o}: the oracle text, {zoned}: 1 when it
# carries a zone)
CONVERTERS = [
    ("int2_integer", int_from_integer(16), "smallint", "", "{o}::int2"),
    ("int4_integer", int_from_integer(32), "integer", "", "{o}::int4"),
    ("int8_integer", int_from_integer(64), "bigint", "", "{o}::int8"),
    ("int4_text", int_from_text(32), "integer", "", "{o}::int4"),
    ("int8_text", int_from_text(64), "bigint", "", "{o}::int8"),
    # documented: a REAL with a fraction is refused, never rounded (PostgreSQL's float8 -> int cast rounds)
    ("int2_real", int_from_real(16), "smallint", "",
     "CASE WHEN {o}::float8 = trunc({o}::float8) THEN {o}::float8::int2 END"),
    ("int4_real", int_from_real(32), "integer", "",
     "CASE WHEN {o}::float8 = trunc({o}::float8) THEN {o}::float8::int4 END"),
    ("int8_real", int_from_real(64), "bigint", "",
     "CASE WHEN {o}::float8 = trunc({o}::float8) THEN {o}::float8::int8 END"),
    # documented: an INTEGER that double precision cannot hold exactly is refused (PostgreSQL rounds)
    ("float8_integer", float8_from_integer, "double precision", "",
     "CASE WHEN {o}::int8::float8::int8 = {o}::int8 THEN {o}::int8::float8 END"),
    # documented: decimal syntax only (float8in also takes inf, NaN and, through strtod, hex)
    ("float8_text", float8_from_text, "double precision", "",
     "CASE WHEN {o} ~ '^[[:space:]]*[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?[[:space:]]*$' "
     "THEN {o}::float8 END"),
    ("float4_real", float4_from_real, "real", "", "{o}::float8::float4"),
    # a REAL's shortest round-trip decimal as float8out prints it (documented; Python's repr() may pick
    # a shorter decimal on a rounding tie: 6.878114764690002e+16 vs float8out's 6.8781147646900016e+16)
    ("numeric_real", numeric_from_real(None, None), "numeric", "", "{o}::float8::text::numeric"),
    ("numeric_real_12_4", numeric_from_real(12, 4), "numeric(12,4)", "", "{o}::float8::text::numeric(12,4)"),
    ("numeric_real_18_8", numeric_from_real(18, 8), "numeric(18,8)", "", "{o}::float8::text::numeric(18,8)"),
    ("numeric_real_10_0", numeric_from_real(10, 0), "numeric(10,0)", "", "{o}::float8::text::numeric(10,0)"),
    ("numeric_real_34_17", numeric_from_real(34, 17), "numeric(34,17)", "", "{o}::float8::text::numeric(34,17)"),
    ("numeric_real_5_m2", numeric_from_real(5, -2), "numeric(5,-2)", "", "{o}::float8::text::numeric(5,-2)"),
    ("numeric_integer_12_4", numeric_from_integer(12, 4), "numeric(12,4)", "", "{o}::numeric(12,4)"),
    ("numeric_integer_19_0", numeric_from_integer(19, 0), "numeric(19,0)", "", "{o}::numeric(19,0)"),
    ("numeric_text_12_4", numeric_from_text(12, 4), "numeric(12,4)", "", "{o}::numeric(12,4)"),
    ("timestamptz_text_ny", timestamp_gen, "timestamptz", "timezone 'America/New_York'",
     ZONED_TS % "America/New_York"),
    ("timestamptz_text_utc", timestamp_gen, "timestamptz", "", ZONED_TS % "UTC"),
    ("timestamptz3_text_ny", timestamp_gen, "timestamptz(3)", "timezone 'America/New_York'",
     "(" + ZONED_TS % "America/New_York" + ")::timestamptz(3)"),
    ("timestamp_text_berlin", timestamp_gen, "timestamp", "timezone 'Europe/Berlin'",
     ZONED_TS_LOCAL % "Europe/Berlin"),
    ("date_text", date_gen, "date", "", documented("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "{o}::date")),
    ("time_text", time_gen, "time", "", documented("^" + HMS + "$", "{o}::time")),
    ("epoch_s_integer", epoch_integer(1), "timestamptz", "epoch_unit 's'",
     EPOCH_INTEGER % (86400, 86400, "seconds")),
    ("epoch_ms_integer", epoch_integer(1000), "timestamptz", "epoch_unit 'ms'",
     EPOCH_INTEGER % (86400000, 86400000, "milliseconds")),
    ("epoch_us_integer", epoch_integer(1000000), "timestamptz", "epoch_unit 'us'",
     EPOCH_INTEGER % (86400000000, 86400000000, "microseconds")),
    ("epoch_s_real", epoch_real_seconds, "timestamptz", "epoch_unit 's'", EPOCH % "seconds"),
    ("epoch_ms_real", epoch_real_millis, "timestamptz", "epoch_unit 'ms'",
     EPOCH % "milliseconds"),
    ("epoch_s_real_ts_ny", epoch_real_seconds, "timestamp", "epoch_unit 's', timezone 'America/New_York'",
     "(" + EPOCH % "seconds" + ") AT TIME ZONE 'America/New_York'"),
]


def main():
    if sys.argv[1:] == ["--list"]:
        for name, _, coltype, opts, oracle in CONVERTERS:
            print("\t".join([name, coltype, opts or "-", oracle]))
        return
    out, n, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    _, gen, coltype, _, _ = next(c for c in CONVERTERS if c[0] == name)
    rows = gen(random.Random("%s/%s" % (SEED, name)), n)
    if os.path.exists(out):
        os.unlink(out)
    db = sqlite3.connect(out)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("CREATE TABLE %s (id INTEGER PRIMARY KEY, v, oracle TEXT, ok INTEGER, zoned INTEGER)" % name)
    zoned = (lambda o: int(classify_timestamp(o)[1])) if "_text" in name and coltype.startswith("timestamp") \
        else (lambda o: 0)
    db.executemany("INSERT INTO %s VALUES (?, ?, ?, ?, ?)" % name,
                   ((i, v, o, int(bool(ok)), zoned(o)) for i, (v, o, ok) in enumerate(rows, 1)))
    db.commit()
    db.close()


if __name__ == "__main__":
    main()

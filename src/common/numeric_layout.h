/*
 * numeric_layout.h: the on-disk layout of PostgreSQL's numeric (numeric.c
 * keeps its macros private).  The layout is part of the stable on-disk format
 * that pg_upgrade preserves, so reading and writing it directly is safe
 * across major versions; value_convert.cpp builds short numerics from SQLite
 * values with it and parity/canonical.cpp reads digits without numeric_out.
 *
 * A numeric varlena holds a uint16 header, then (long format only) an int16
 * weight, then base-10000 digits, most significant first:
 *   value = sum(digit[i] * 10000^(weight - i)).
 */
#pragma once

extern "C" {
#include "postgres.h"
}

namespace recio::numeric_layout {

using Digit = int16;
constexpr int kNbase = 10000;
constexpr uint16 kSignMask = 0xC000;
constexpr uint16 kPos = 0x0000;
constexpr uint16 kNeg = 0x4000;
constexpr uint16 kShort = 0x8000;
constexpr uint16 kSpecial = 0xC000;
constexpr uint16 kExtSignMask = 0xF000; /* special values: NaN, +Inf, -Inf */
constexpr uint16 kNaN = 0xC000;
constexpr uint16 kPinf = 0xD000;
constexpr uint16 kNinf = 0xF000;
constexpr uint16 kShortSign = 0x2000;
constexpr int kShortDscaleShift = 7;
constexpr int kShortDscaleMax = 0x3F;
constexpr uint16 kShortWeightSign = 0x0040;
constexpr uint16 kShortWeightMask = 0x003F;

}  // namespace recio::numeric_layout

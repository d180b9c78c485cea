/*
 * powers_of_ten.h: 10^k as exact integers and exact doubles, for the
 * decimal arithmetic of value conversion and value profiles (one table, not
 * one per file).
 */
#pragma once

extern "C" {
#include "c.h"
}

namespace recio {

/* 10^0 .. 10^18: every power of ten an int64 holds */
inline constexpr int64 kPow10[] = {1LL,
                                   10LL,
                                   100LL,
                                   1000LL,
                                   10000LL,
                                   100000LL,
                                   1000000LL,
                                   10000000LL,
                                   100000000LL,
                                   1000000000LL,
                                   10000000000LL,
                                   100000000000LL,
                                   1000000000000LL,
                                   10000000000000LL,
                                   100000000000000LL,
                                   1000000000000000LL,
                                   10000000000000000LL,
                                   100000000000000000LL,
                                   1000000000000000000LL};

/* 10^0 .. 10^15: the powers of ten that are exact doubles below 2^53 with room to spare */
inline constexpr double kPow10Double[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                          1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

}  // namespace recio

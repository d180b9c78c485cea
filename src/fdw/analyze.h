/*
 * analyze.h: ANALYZE on a recio_sqlite foreign table (the callback's C++
 * body; the shim is in module.cpp).
 */
#pragma once

#include "common/error_boundary.h"

extern "C" {
#include "foreign/fdwapi.h"
}

namespace recio {

bool analyze_table(Relation relation, AcquireSampleRowsFunc* func, BlockNumber* totalpages);

}  // namespace recio

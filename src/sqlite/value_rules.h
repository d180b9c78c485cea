/*
 * value_rules.h: the plain description of how a column's SQLite values are
 * read (epoch unit, zone, whether the caller handles a value that does not
 * convert).  The wrapper's options (fdw/options.h) and a migration run's
 * arguments resolve to it; the SQLite side needs nothing else of theirs.
 */
#pragma once

extern "C" {
#include "postgres.h"
#include "pgtime.h"
}

namespace recio {

enum class EpochUnit : int { Seconds = 0, Millis = 1, Micros = 2 };

struct ValueRules {
    EpochUnit epoch_unit;
    const char* tz_name; /* zone for zone-less timestamps; NULL: UTC */
    pg_tz* tz;           /* that zone, already resolved; NULL: UTC */
    /*
     * The caller turns a value that does not convert into a NULL or a
     * skipped row (on_error other than stop): type input functions and
     * domain checks then run where their ERROR can be rolled back.
     */
    bool errors_handled;
};

}  // namespace recio

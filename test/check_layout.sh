#!/usr/bin/env bash
# The folders under src/ depend one way (README "Layout"): common <- sqlite
# <- fdw <- migrate; parity, retention and bloat on common (and sqlite); src/module.cpp
# above all.  parity may also include fdw/: it reads a foreign source through
# the wrapper's own conversion into the target's types (fdw/read_as.h), and
# fdw includes nothing of parity's.  Fails on an include that points the wrong way.
set -euo pipefail
cd "$(dirname "$0")/../src"
allowed() {
    case $1 in
    common) echo "common" ;;
    sqlite) echo "common sqlite" ;;
    fdw) echo "common sqlite fdw" ;;
    migrate) echo "common sqlite fdw migrate" ;;
    parity) echo "common sqlite fdw parity" ;;
    bloat) echo "common bloat" ;;
    retention) echo "common retention" ;;
    *) echo "" ;;
    esac
}
bad=0
for dir in */; do
    dir=${dir%/}
    ok=" $(allowed "$dir") "
    [ "$ok" != "  " ] || { echo "src/$dir: a folder the layout does not know (add it to test/check_layout.sh)"; bad=1; continue; }
    while IFS=: read -r file _ inc; do
        target=$(sed -E 's/.*#include "([^/"]+)\/.*/\1/' <<<"$inc")
        [ -d "$target" ] || continue
        case $ok in *" $target "*) ;; *) echo "src/$file includes $target/: $dir/ may include only$(allowed "$dir" | sed 's/^/ /')"; bad=1 ;; esac
    done < <(grep -n '#include "[a-z_]*/' "$dir"/*.h "$dir"/*.cpp 2>/dev/null | sed -E 's/^([^:]+):([0-9]+):/\1:\2:/')
done
[ "$bad" = 0 ] && echo "layout: every include points down the one-way folder order"
exit $bad

#!/usr/bin/env bash
# `make fuzz`: the long versions of the differential converter test and the
# corrupt-file fuzzing, on a throwaway cluster like the test command's (same
# install lock, same helpers).  RECIO_DIFF_N values per converter (default
# 1000000), RECIO_FUZZ_SCALE corrupt-file multiplier (default 40: about 6,000
# files).  Exits non-zero on any disagreement, internal error, hang or crash.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/test/lib.sh"
serialize_installs "$@"

ensure_packages
build_and_install "$ROOT"
WORK=$(make_workdir)
trap 'stop_cluster; [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT
gen_fixtures "$WORK/fixtures"
export RECIO_FIXTURES=$WORK/fixtures RECIO_WORK=$WORK
export RECIO_DIFF_N=${RECIO_DIFF_N:-1000000} RECIO_FUZZ_SCALE=${RECIO_FUZZ_SCALE:-40}
start_cluster "$WORK"
failed=0
for t in differential.sh corrupt_fuzz.sh; do
    echo "fuzz: $t"
    start=$(date +%s)
    bash "$ROOT/test/integration/$t" || { echo "FAILED: $t"; failed=$((failed + 1)); }
    echo "($t: $(( $(date +%s) - start )) s)"
done
crashes=$(crashed_backends "$WORK/postgres.log")
[ -z "$crashes" ] || { echo "backend crash in the server log:"; echo "$crashes"; failed=$((failed + 1)); }
echo "$failed failed"
[ "$failed" = 0 ]

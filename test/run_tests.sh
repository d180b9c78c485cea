#!/usr/bin/env bash
# The test command (README, .ci/run): install what is missing, build and
# install the extension, generate the legacy fixtures, start a throwaway
# cluster, run pg_regress and the integration tests, stop the cluster, and
# exit non-zero on any failure or any crashed backend.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
serialize_installs "$@"

ensure_packages
make -C "$ROOT" -s check-version
bash "$ROOT/test/check_layout.sh"
build_and_install "$ROOT"

# Every regression input must be listed in the Makefile's REGRESS.
listed=$(make -C "$ROOT" -s -f Makefile -f - print-regress <<<'print-regress: ; @echo $(REGRESS)')
for f in "$ROOT"/sql/*.sql; do
    name=$(basename "$f" .sql)
    case "$name" in recio_migrate--*) continue ;; esac
    case " $listed " in *" $name "*) ;; *) echo "sql/$name.sql is not listed in REGRESS"; exit 1 ;; esac
done

# A developer may run a part of the suite while working on it (CI and the
# README's command run all of it): RECIO_REGRESS="name ..." runs only those
# pg_regress files (after setup), RECIO_INTEGRATION="name.sh ..." only those
# integration tests; "none" runs none of that kind.
regress=$listed
[ -z "${RECIO_REGRESS:-}" ] || regress="setup ${RECIO_REGRESS/none/}"
[ "${RECIO_REGRESS:-}" != none ] || regress=""
integration=$(cd "$ROOT/test/integration" && ls *.sh | grep -vx common.sh)
[ -z "${RECIO_INTEGRATION:-}" ] || integration=${RECIO_INTEGRATION/none/}
if [ -n "${RECIO_REGRESS:-}${RECIO_INTEGRATION:-}" ]; then
    echo "partial run (RECIO_REGRESS/RECIO_INTEGRATION set): not the whole suite"
fi

WORK=$(make_workdir)
trap 'stop_cluster; [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT
gen_fixtures "$WORK/fixtures"
export RECIO_FIXTURES=$WORK/fixtures RECIO_WORK=$WORK
# snapshot() writes its copies here (as the cluster's OS user), never beside the fixtures
mkdir -p "$WORK/snapshots" && { [ "$(id -u)" != 0 ] || chown postgres:postgres "$WORK/snapshots"; }
export RECIO_SNAPSHOTS=$WORK/snapshots
start_cluster "$WORK"
# the legacy files must never be written: fingerprint them before and after
fingerprint() { (cd "$RECIO_FIXTURES" && sha256sum -- * && stat -c '%n %s %Y' -- *); }
before=$(fingerprint)

passed=0
failed=0
if [ -z "$regress" ]; then
    :
elif $PGBIN/../lib/pgxs/src/test/regress/pg_regress --inputdir="$ROOT" \
        --outputdir="$WORK/regress" --dbname=recio_regress --load-extension=recio_migrate $regress; then
    passed=$((passed + $(echo $regress | wc -w)))
else
    n=$(grep -c "^not ok\|FAILED\|failed (ignored)" "$WORK/regress/regression.out" 2>/dev/null || true)
    failed=$((failed + ${n:-1}))
    passed=$((passed + $(echo $regress | wc -w) - ${n:-1}))
    cat "$WORK/regress/regression.diffs" || true
    mkdir -p "$ROOT/results" && cp "$WORK/regress/regression.diffs" "$ROOT/results/" 2>/dev/null || true
fi

for name in $integration; do
    echo "integration: $name"
    if bash "$ROOT/test/integration/$name"; then passed=$((passed + 1)); else echo "FAILED: $name"; failed=$((failed + 1)); fi
done

if [ "$(fingerprint)" != "$before" ]; then
    echo "FAILED: a legacy fixture file changed during the tests"
    diff <(echo "$before") <(fingerprint) || true
    failed=$((failed + 1))
else
    echo "legacy fixture files unchanged: $(ls "$RECIO_FIXTURES" | wc -l) files"
    passed=$((passed + 1))
fi

crashes=$(crashed_backends "$WORK/postgres.log")
if [ -n "$crashes" ]; then
    echo "backend crash in the server log:"
    echo "$crashes"
    failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

# common.sh: sourced by each integration test. The test command exports
# PGHOST/PGPORT/PGUSER (the throwaway cluster), RECIO_FIXTURES and RECIO_WORK.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
: "${RECIO_FIXTURES:?run from test/run_tests.sh}"
: "${RECIO_WORK:?run from test/run_tests.sh}"

# it_db NAME: a fresh database with the extension; sets PGDATABASE
it_db() {
    export PGDATABASE=$1
    dropdb --if-exists "$1" >/dev/null 2>&1 || true
    createdb "$1"
    psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION recio_migrate"
}

q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

fail() { echo "FAIL: $*" >&2; exit 1; }

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

#!/usr/bin/env bash
# An ERROR raised from recio_migrate's C++ code reports, in its LOCATION,
# the file, line and function where it was raised (not the error boundary).
. "$(dirname "$0")/common.sh"
it_db recio_it_location
loc() { psql -X -q -v VERBOSITY=verbose "$@" 2>&1 | grep -m1 '^LOCATION:' || true; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# check WHAT LOCATION_LINE: the location is a line of one of our own source
# files, never the error boundary that turns the C++ error into an ERROR
check() {
    local file=${2##*, }
    file=${file%%:*}
    case "$2" in
    *error_boundary*) fail "$1: the location names the error boundary: $2" ;;
    "LOCATION:  "*", "*.cpp:[0-9]*) ;;
    *) fail "$1: no location: '$2'" ;;
    esac
    [ -n "$(find "$ROOT/src" -name "$file")" ] || fail "$1: $file is not one of ours"
    echo "$1: $2"
}
check "invalid option" "$(loc -c "CREATE SERVER s FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$RECIO_FIXTURES/trades.db', busy_timeout_ms 'x')")"
q -c "CREATE SERVER trades FOREIGN DATA WRAPPER recio_sqlite OPTIONS (database '$RECIO_FIXTURES/trades.db')" \
  -c "CREATE FOREIGN TABLE trades_demo (id bigint, fees bigint) SERVER trades OPTIONS (\"table\" 'trades')"
check "value that does not convert" "$(loc -c "SELECT sum(fees) FROM trades_demo")"
check "bad argument" "$(loc -c "SELECT * FROM recio_migrate.parity('trades_demo', 'trades_demo', mode => 'nonsense')")"

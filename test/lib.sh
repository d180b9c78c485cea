# test/lib.sh: shared shell helpers for the test command, the demo and the
# benchmark: install what is missing, build and install the extension, and
# run a throwaway PostgreSQL cluster on a private port and socket directory
# (as the postgres OS user when run as root: PostgreSQL refuses to run as root).
# Source it; it defines functions and sets PGBIN.

PG_MAJOR=${PG_MAJOR:-15}
# RECIO_PGBIN: the bin directory of a private copy of the PostgreSQL installation (cp -a of
# /usr/lib/postgresql/N, /usr/share/postgresql/N and /usr/include/postgresql under one root: pg_config finds
# its directories relative to itself); a run then builds, installs and runs there, under a lock of its own
PGBIN=${RECIO_PGBIN:-/usr/lib/postgresql/$PG_MAJOR/bin}
RECIO_PACKAGES="postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR postgresql-$PG_MAJOR-cron postgresql-$PG_MAJOR-plpgsql-check postgresql-contrib libsqlite3-dev sqlite3 python3 make g++"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_packages() {
    local missing=""
    for p in $RECIO_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        echo "installing:$missing"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        # Installing postgresql-15 would make postgresql-common create and
        # start a "main" cluster of its own on port 5432.  Suppress that for
        # this one install only: the setting is written to a file of ours
        # under createcluster.d and removed again right after apt-get, so the
        # machine's configuration is left as it was.
        local conf=/etc/postgresql-common/createcluster.d/recio-migrate-install.conf
        as_root mkdir -p /etc/postgresql-common/createcluster.d
        echo "create_main_cluster = false" | as_root tee "$conf" >/dev/null
        local rc=0
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null || rc=$?
        as_root rm -f "$conf"
        [ "$rc" = 0 ] || { echo "apt-get install failed ($rc)"; return "$rc"; }
    fi
    # an earlier version of this script left its setting behind: take it away
    [ ! -f /etc/postgresql-common/createcluster.d/recio.conf ] || as_root rm -f /etc/postgresql-common/createcluster.d/recio.conf
}

# serialize_installs: one PostgreSQL installation directory serves every
# checkout on this machine, so two test, demo or bench runs from different
# checkouts must not install over each other while a cluster uses the
# library.  Re-executes the calling script under an exclusive lock.  flock -o
# holds the lock in flock's own process only: a background process a test
# leaves behind (a killed test's writer) cannot keep the lock after the run.
serialize_installs() {
    if [ -z "${RECIO_INSTALL_LOCKED:-}" ]; then
        local lock=/tmp/recio_migrate.install.lock
        [ -z "${RECIO_PGBIN:-}" ] || lock=$RECIO_PGBIN/../recio_migrate.install.lock
        exec env RECIO_INSTALL_LOCKED=1 flock -o "$lock" bash "$0" "$@"
    fi
}

build_and_install() {
    make -C "$1" -s -j2 PG_CONFIG=$PGBIN/../bin/pg_config >/dev/null 2>&1 || make -C "$1" -j2
    as_root make -C "$1" -s install PG_CONFIG=$PGBIN/pg_config >/dev/null
}

# as_pg: run a command as the cluster's OS user, from / (the checkout may be
# a directory that user cannot enter; every path handed over is absolute)
as_pg() {
    if [ "$(id -u)" = 0 ]; then (cd / && exec runuser -u postgres -- "$@"); else "$@"; fi
}

# make_workdir VAR: a fresh directory the cluster user can read and write
make_workdir() {
    local d
    d=$(mktemp -d "${TMPDIR:-/tmp}/recio.XXXXXX")
    chmod 755 "$d"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$d"
    echo "$d"
}

# gen_fixtures OUTDIR [--bench-rows N]: the legacy files, generated as the
# invoking user (the checkout may be private to it) and handed to the
# cluster's OS user, who must be able to read them.
gen_fixtures() {
    local out=$1
    shift
    python3 "$(dirname "${BASH_SOURCE[0]}")/make_fixtures.py" "$@" "$out" >/dev/null
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$out"
    chmod -R a+rX "$out"
}

free_port() {
    local p
    for p in $(seq 54400 54499); do
        if ! (echo >/dev/tcp/127.0.0.1/$p) 2>/dev/null && [ ! -e "/tmp/.s.PGSQL.$p" ]; then
            echo $p
            return
        fi
    done
    echo 54499
}

# start_cluster WORKDIR [extra postgres -c settings...]; sets PGHOST PGPORT PGUSER PGDATA_DIR
start_cluster() {
    local work=$1
    shift
    PGDATA_DIR=$work/pgdata
    export PGHOST=$work/sock PGPORT=$(free_port) PGUSER=postgres PGDATABASE=postgres
    as_pg mkdir -p "$PGHOST"
    as_pg $PGBIN/initdb -D "$PGDATA_DIR" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$work/initdb.log" 2>&1
    local opts="-c listen_addresses='' -c unix_socket_directories='$PGHOST' -c port=$PGPORT -c fsync=off"
    opts="$opts -c synchronous_commit=off -c full_page_writes=off -c max_wal_size=4GB"
    for o in "$@"; do opts="$opts -c $o"; done
    as_pg $PGBIN/pg_ctl -D "$PGDATA_DIR" -o "$opts" -l "$work/postgres.log" -w -t 60 start >/dev/null
}

stop_cluster() {
    [ -n "${PGDATA_DIR:-}" ] && [ -d "$PGDATA_DIR" ] && as_pg $PGBIN/pg_ctl -D "$PGDATA_DIR" -m fast -w stop >/dev/null 2>&1 || true
}

# crashed_backends LOG: lines that show a backend died
crashed_backends() {
    grep -E "terminated by signal|server process .* was terminated|PANIC" "$1" || true
}

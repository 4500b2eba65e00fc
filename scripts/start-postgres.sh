#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster for the tracker's database tests.
#
#   eval "$(scripts/start-postgres.sh)"          # start; sets TRACKER_TEST_POSTGRES_URL and TRACKER_PG_DIR
#   TRACKER_TEST_DATABASE=postgres python -m pytest -m db
#   scripts/start-postgres.sh --stop "$TRACKER_PG_DIR"   # stop it and delete its files
#
# The cluster lives in a new directory under /tmp (or $TRACKER_PG_PARENT), listens on 127.0.0.1 only,
# on a free port, with trust authentication (no password) and durability switched off: it is for
# tests, never for data.
# It has a database `tracker_test` owned by the superuser `postgres`.
#
# Run as root (CI), the server runs as the `postgres` OS user through `runuser`; run as another user,
# it runs as that user. stdout carries only the `export` lines, so `eval "$(...)"` is safe; progress
# and errors go to stderr.
set -euo pipefail

DB_NAME=tracker_test
DB_SUPERUSER=postgres

log() { printf 'start-postgres: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

pg_bindir() {
    local dir
    # shellcheck disable=SC2012  # fixed, plain paths; sort -V picks the newest major version
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]] \
        || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)"
    printf '%s\n' "$dir"
}

# Run a command as the OS user that owns the cluster.
as_owner() {
    if [[ $EUID -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

stop_cluster() {
    local dir=$1 bin
    [[ -n "$dir" ]] || die "--stop needs the directory printed as TRACKER_PG_DIR"
    if [[ ! -d "$dir" ]]; then
        log "nothing to stop: $dir does not exist"
        return 0
    fi
    [[ -f "$dir/.tracker-test-cluster" ]] || die "$dir was not made by this script; not touching it"
    bin=$(pg_bindir)
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null 2>&1 \
            || log "warning: pg_ctl stop failed (see $dir/server.log)"
    fi
    rm -rf -- "$dir"
    log "stopped and removed $dir"
}

cleanup_failed_start() {
    local rc=$1 dir=$2
    [[ $rc -ne 0 ]] || return 0
    if [[ -f "$dir/server.log" ]]; then
        log "server log:"
        tail -n 30 "$dir/server.log" >&2
    fi
    stop_cluster "$dir" || true
}

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

start_cluster() {
    local bin dir port attempt started=0
    bin=$(pg_bindir)
    if [[ $EUID -eq 0 ]]; then
        id -u postgres >/dev/null 2>&1 || die "no 'postgres' OS user (it comes with the postgresql package)"
    fi

    # Not $TMPDIR: the postgres OS user must be able to reach the directory.
    dir=$(mktemp -d "${TRACKER_PG_PARENT:-/tmp}/tracker-pg.XXXXXX")
    touch "$dir/.tracker-test-cluster"
    # From here on, a failure removes what was made so far.
    trap 'cleanup_failed_start $? "$dir"' EXIT
    if [[ $EUID -eq 0 ]]; then chown postgres: "$dir"; fi
    chmod 700 "$dir"

    log "initdb in $dir/data ($("$bin/postgres" --version))"
    as_owner "$bin/initdb" -D "$dir/data" -U "$DB_SUPERUSER" --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; die "initdb failed"; }

    # A port found free can be taken before the server binds it: try a few.
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null 2>&1; then
            started=1
            break
        fi
        log "start on port $port failed (attempt $attempt), retrying"
    done
    [[ $started -eq 1 ]] || die "could not start the server"

    "$bin/createdb" -h 127.0.0.1 -p "$port" -U "$DB_SUPERUSER" "$DB_NAME" || die "createdb $DB_NAME failed"

    trap - EXIT
    log "PostgreSQL listening on 127.0.0.1:$port, database $DB_NAME"
    log "stop it with: $0 --stop $dir"
    printf 'export TRACKER_TEST_POSTGRES_URL=%q\n' \
        "postgresql+psycopg://$DB_SUPERUSER@127.0.0.1:$port/$DB_NAME"
    printf 'export TRACKER_PG_DIR=%q\n' "$dir"
}

case "${1:-}" in
    "") start_cluster ;;
    --stop) stop_cluster "${2:-}" ;;
    -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) die "unknown argument: $1 (use --stop DIR or --help)" ;;
esac

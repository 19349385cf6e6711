#!/bin/sh
# recon-entrypoint — the container image's entry point (deploy/Dockerfile).
#
#   recon-entrypoint broker  [recon-broker options]   the broker
#   recon-entrypoint worker  [recon-worker options]   a worker
#   recon-entrypoint web     [recon-web options]      the finance web page
#   recon-entrypoint migrate [recon db migrate options]  create/upgrade the schema, exit
#   recon-entrypoint run     [recon run options]      start a run (CronJob: run ... --wait)
#   recon-entrypoint cli     [recon arguments]        any recon command (also: recon)
#   recon-entrypoint help                             this text
#
# Before broker, worker, migrate and run it waits until recon's PostgreSQL
# (RECON_DATABASE_URL) accepts connections, for RECON_ENTRYPOINT_WAIT
# seconds (default 60; 0: do not wait); then exit 3 if it never did. With
# RECON_ENTRYPOINT_MIGRATE=1, broker first runs `recon db migrate` (safe with
# several replicas: migrations take an advisory lock). The program is then
# exec'd, so it receives SIGTERM directly (PID 1 is tini in the image).
# Exit codes: the program's own; 2 for an unknown command; 3 when the
# database never came up or a program is missing from the image.
set -eu

usage() {
    sed -n '3,10p' "$0" | sed 's/^# \{0,1\}//'
}

die() { # die CODE MESSAGE
    echo "recon-entrypoint: $2" >&2
    exit "$1"
}

need() { # need PROGRAM — fail clearly when the image lacks it
    command -v "$1" >/dev/null 2>&1 || die 3 "$1 is not in this image (PATH=$PATH)"
}

log() {
    echo "recon-entrypoint: $*" >&2
}

wait_for_database() {
    limit=${RECON_ENTRYPOINT_WAIT:-60}
    case $limit in
    '' | *[!0-9]*) die 2 "RECON_ENTRYPOINT_WAIT must be a number of seconds, not '$limit'" ;;
    esac
    [ "$limit" -eq 0 ] && return 0
    need recon
    waited=0
    # `recon db status` exits 3 only when a database cannot be reached
    # (1 means reachable but not migrated yet: that is fine here).
    while :; do
        rc=0
        recon db status >/dev/null 2>&1 || rc=$?
        [ "$rc" -ne 3 ] && return 0
        [ "$waited" -ge "$limit" ] &&
            die 3 "PostgreSQL not reachable after ${limit}s (RECON_DATABASE_URL); last error: $(recon db status 2>&1 | head -1)"
        [ "$waited" -eq 0 ] && log "waiting for PostgreSQL (up to ${limit}s)"
        sleep 1
        waited=$((waited + 1))
    done
}

command=${1:-help}
[ $# -gt 0 ] && shift

case $command in
broker)
    need recon-broker
    wait_for_database
    if [ "${RECON_ENTRYPOINT_MIGRATE:-0}" = 1 ]; then
        log "migrating the schema before starting the broker"
        recon db migrate || die 3 "recon db migrate failed"
    fi
    exec recon-broker "$@"
    ;;
worker)
    need recon-worker
    wait_for_database
    exec recon-worker "$@"
    ;;
web)
    need recon-web
    # Listen on every interface unless told otherwise.
    if [ -z "${RECON_WEB_LISTEN:-}" ]; then
        set -- --listen 0.0.0.0:8080 "$@"
    fi
    exec recon-web "$@"
    ;;
migrate)
    need recon
    wait_for_database
    exec recon db migrate "$@"
    ;;
run)
    need recon
    wait_for_database
    exec recon run "$@"
    ;;
cli | recon)
    need recon
    exec recon "$@"
    ;;
help | -h | --help)
    usage
    ;;
*)
    usage >&2
    die 2 "unknown command '$command'"
    ;;
esac

#!/usr/bin/env bash
# test_entrypoint.sh — deploy/entrypoint.sh run directly, as the image runs
# it, with the build tree's binaries on PATH, against the sandbox
# PostgreSQL and Redis: command dispatch and exit codes, waiting for the
# database (and giving up), migrate, RECON_ENTRYPOINT_MIGRATE, exec (the
# daemon keeps the entrypoint's PID, so SIGTERM reaches it and it exits 0),
# a whole run through it, and the Kubernetes CronJob's script.
# argv: SOURCE_ROOT RECON RECON_BROKER RECON_WORKER RECON_GEN
set -u
root=$1 RECON=$2 BROKER=$3 WORKER=$4 GEN=$5
work=$(mktemp -d /tmp/recon-entrypoint-test.XXXXXX)
dbs=()
pids=()
. "$(dirname "$0")/lib.sh"
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    drop_dbs
    rm -rf "$work"
}
trap cleanup EXIT
: "${RECON_DATABASE_URL:?run under recon sandbox (./dev test does)}"

# The image's layout: every program on PATH under its installed name.
mkdir -p "$work/bin"
ln -s "$RECON" "$work/bin/recon"
ln -s "$BROKER" "$work/bin/recon-broker"
ln -s "$WORKER" "$work/bin/recon-worker"
ln -s "$root/deploy/entrypoint.sh" "$work/bin/recon-entrypoint"
export PATH="$work/bin:/usr/local/bin:/usr/bin:/bin"
EP=recon-entrypoint
sandbox_url=$RECON_DATABASE_URL

http() { # http PORT PATH — sets status
    local resp
    status=0
    exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    printf 'GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' "$2" >&3
    resp=$(cat <&3); exec 3<&-
    status=$(head -1 <<<"$resp" | cut -d' ' -f2)
}
port_of() { # port_of LOG — the port of the first http.listening line
    local p i
    for i in $(seq 100); do
        p=$(grep -o 'http.listening.* port=[0-9]*' "$1" 2>/dev/null | head -1 | grep -o '[0-9]*$')
        [ -n "$p" ] && { echo "$p"; return; }
        sleep 0.1
    done
}

# ---- dispatch ------------------------------------------------------------------
run $EP help
check "help exits 0" test $rc -eq 0
check "help lists every command" bash -c 'for c in broker worker web migrate run cli; do grep -q "recon-entrypoint $c" <<<"$1" || exit 1; done' _ "$out"
run $EP
check "no command prints help" has "$out" "recon-entrypoint broker"
run $EP frobnicate
check "an unknown command exits 2" test $rc -eq 2
check "and says which" has "$err" "unknown command 'frobnicate'"
run $EP web
check "web without recon-web in the image exits 3" test $rc -eq 3
check "and says so" has "$err" "recon-web is not in this image"
run $EP cli config
check "cli runs any recon command" has "$out" "broker_http = 127.0.0.1:9464"
run env RECON_ENTRYPOINT_WAIT=soon $EP worker
check "a bad RECON_ENTRYPOINT_WAIT exits 2" test $rc -eq 2

# ---- waiting for the database ------------------------------------------------------
mkdir -p "$work/nopg"
start=$(date +%s)
run env RECON_DATABASE_URL="postgresql://recon@/recon?host=$work/nopg" RECON_ENTRYPOINT_WAIT=2 $EP worker
check "an unreachable database: exit 3" test $rc -eq 3
check "after the wait, naming the setting" has "$err" "PostgreSQL not reachable after 2s (RECON_DATABASE_URL)"
check "it waited about 2 s" test $(( $(date +%s) - start )) -ge 2
# The database "appears" after 2 s: a socket link into the sandbox's.
sock=$(sed -n 's/.*host=\([^&]*\).*/\1/p' <<<"$sandbox_url")
mkdir -p "$work/laterpg"
(sleep 2; ln -s "$sock/.s.PGSQL.5432" "$work/laterpg/.s.PGSQL.5432") &
start=$(date +%s)
run env RECON_DATABASE_URL="postgresql://recon@/recon?host=$work/laterpg" RECON_ENTRYPOINT_WAIT=30 $EP migrate
check "migrate waits for the database, then runs" test $rc -eq 0
check "it waited for it" has "$err" "waiting for PostgreSQL"

# ---- migrate ---------------------------------------------------------------------------
psql -q "$sandbox_url" -c "CREATE DATABASE ep_$$" >/dev/null; dbs+=("ep_$$")
export RECON_DATABASE_URL="${sandbox_url/\/recon\?//ep_$$?}"
url=$RECON_DATABASE_URL
run $EP migrate --reference
check "migrate --reference on an empty database exits 0" test $rc -eq 0
check "the schema is current" recon db status
run $EP migrate
check "migrate again changes nothing" has "$out" "0 applied now"

# ---- a cluster through the entrypoint ------------------------------------------------------
$GEN --orders 3000 --seed 3 --out "$work/g" >/dev/null || { echo "FAIL generator"; exit 1; }
for s in processor ledger fulfillment; do
    $EP cli import $s --format canonical "$work/g/$s.csv" >/dev/null 2>&1
done
check "imports through 'cli'" test "$(q 'SELECT count(*) FROM recon.imports')" -eq 3
meta() { grep -o "\"$1\": *\"[^\"]*\"" "$work/g/meta.json" | cut -d'"' -f4; }

# broker with RECON_ENTRYPOINT_MIGRATE=1 on a database that has no schema yet
psql -q "$sandbox_url" -c "CREATE DATABASE ep2_$$" >/dev/null; dbs+=("ep2_$$")
fresh="${sandbox_url/\/recon\?//ep2_$$?}"
export RECON_BROKER_ENDPOINT="ipc://$work/broker.sock" RECON_BROKER_HTTP=127.0.0.1:0 \
       RECON_WORKER_HTTP=127.0.0.1:0 RECON_HEARTBEAT=200ms
RECON_DATABASE_URL="$fresh" RECON_ENTRYPOINT_MIGRATE=1 $EP broker 2>"$work/broker.log" & bpid=$!; pids+=($bpid)
bport=$(port_of "$work/broker.log")
check "the broker is up on its HTTP port" test -n "$bport"
check "exec: the entrypoint's PID is now recon-broker" \
    test "$(readlink -f /proc/$bpid/exe)" = "$(readlink -f "$BROKER")"
check "RECON_ENTRYPOINT_MIGRATE=1 migrated first" has "$(cat "$work/broker.log")" "migrating the schema"
url=$fresh
check "the fresh database has the schema" test "$(q "SELECT count(*) FROM recon.schema_migrations")" -ge 1
for i in $(seq 50); do http "$bport" /readyz; [ "$status" = 200 ] && break; sleep 0.1; done
check "broker /readyz 200" test "$status" = 200
kill -TERM $bpid; wait $bpid; s=$?
check "SIGTERM through the entrypoint: the broker exits 0" test $s -eq 0
pids=()

# now the real one: broker + 2 workers on the imported data, a run --wait
url=$RECON_DATABASE_URL
$EP broker 2>"$work/broker2.log" & pids+=($!)
for i in 1 2; do $EP worker --id "ep$i" 2>"$work/worker$i.log" & pids+=($!); done
wport=$(port_of "$work/worker1.log")
check "worker /metrics through the entrypoint" test -n "$wport"
check "exec: the worker's PID is recon-worker" \
    test "$(readlink -f /proc/${pids[1]}/exe)" = "$(readlink -f "$WORKER")"
run timeout 120 $EP run --from "$(meta from)" --to "$(meta to)" --as-of "$(meta as_of)" --shards 3 --wait
check "run --wait through the entrypoint exits 1 (mismatches open)" test $rc -eq 1
check "the run succeeded" test "$(q "SELECT state FROM recon.runs ORDER BY run_id DESC LIMIT 1")" = succeeded

# the Kubernetes CronJob's own script (yesterday's window: nothing to do)
here=$root/tests/deploy
if [ ! -d "$here/node_modules" ]; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >/dev/null 2>&1
fi
script=$(node "$here/validate.js" cron-script "$root/deploy/k8s/cronjob.yaml")
check "the CronJob script was extracted" has "$script" "recon-entrypoint run"
run timeout 120 sh -c "$script"
check "the CronJob script exits 0 (run over yesterday, then mapped exit codes)" test $rc -eq 0
check "and left a succeeded run" test "$(q "SELECT count(*) FROM recon.runs WHERE state = 'succeeded'")" -eq 2
# a window with open mismatches exits 1 from recon run, which the script maps to 0
mapped=$(sed "s|\$(date -u -d yesterday +%F)|$(meta from)|; s|\$(date -u +%F)|$(meta to)|" <<<"$script")
run timeout 120 sh -c "$mapped"
check "CronJob script: 'mismatches open' (1) is reported as success" test $rc -eq 0
check "with a line saying so" has "$out" "mismatches are open"

kill -TERM "${pids[@]}"
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
pids=()
check "SIGTERM: broker and workers exit 0" test $bad -eq 0

summary entrypoint

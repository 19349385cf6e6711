#!/usr/bin/env bash
# test_valgrind.sh — the daemons' whole life under valgrind memcheck:
# recon-broker and a recon-worker start, reconcile a small run, and stop
# on SIGTERM; each must exit 0 with no memory errors and no definite
# leaks (valgrind's --error-exitcode turns any into a failure). Skipped
# (exit 77) in the sanitizer build, where ASan does this job.
#
#   test_valgrind.sh RECON BROKER WORKER GEN
set -u
RECON=$1 BROKER=$2 WORKER=$3 GEN=$4
work=$(mktemp -d /tmp/recon-valgrind.XXXXXX)
dbs=()
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    drop_dbs; rm -rf "$work"
}
trap cleanup EXIT
. "$(dirname "$0")/lib.sh"
: "${RECON_DATABASE_URL:?run under recon sandbox (./dev test does)}"
command -v valgrind >/dev/null || { echo "valgrind not installed"; exit 77; }
if ldd "$BROKER" | grep -q libasan; then echo "sanitizer build: ASan checks leaks here"; exit 77; fi

newdb "vg_$$"
export RECON_DATABASE_URL="$url" RECON_BROKER_ENDPOINT="ipc://$work/broker.sock"
export RECON_BROKER_HTTP=127.0.0.1:0 RECON_BATCH_SIZE=100 RECON_JOB_LEASE=120s
$GEN --orders 400 --seed 9 --out "$work/g" >/dev/null
$RECON import processor --format canonical "$work/g/processor.csv" >/dev/null
$RECON import ledger --format canonical "$work/g/ledger.csv" >/dev/null
$RECON import fulfillment --format canonical "$work/g/fulfillment.csv" >/dev/null
VG=(valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite
    --error-exitcode=99 --track-fds=no)
"${VG[@]}" --log-file="$work/broker.vg" "$BROKER" 2>"$work/broker.log" & pids+=($!); bpid=$!
"${VG[@]}" --log-file="$work/worker.vg" "$WORKER" --id vg1 2>"$work/worker.log" & pids+=($!); wpid=$!
meta() { grep -o "\"$1\": *\"[^\"]*\"" "$work/g/meta.json" | cut -d'"' -f4; }
run timeout 600 $RECON run --from "$(meta from)" --to "$(meta to)" --as-of "$(meta as_of)" --shards 2 --wait
check "a run under valgrind finishes (exit 1: mismatches open)" test $rc -eq 1
check "its queue is the expected size" test "$(q "SELECT count(*) > 50 FROM recon.mismatches")" = t
kill -TERM "$wpid"; wait "$wpid"; wrc=$?
kill -TERM "$bpid"; wait "$bpid"; brc=$?
pids=()
check "worker: exit 0 under valgrind, no errors, no definite leaks (rc $wrc)" test $wrc -eq 0
check "broker: exit 0 under valgrind, no errors, no definite leaks (rc $brc)" test $brc -eq 0
[ $wrc -eq 0 ] || cat "$work/worker.vg"
[ $brc -eq 0 ] || cat "$work/broker.vg"
summary valgrind

#!/usr/bin/env bash
# test_frame_storm.sh — a live recon-broker under a storm of random and
# malformed frames (tests/integration/frame_storm.c) from several DEALER
# sockets: first on its own, then during a real run with a real worker.
# The broker must stay up, answer /livez and /readyz, count what it
# dropped, and the run must end with exactly the generator's ground truth.
# The storm's seed is printed; RECON_TEST_SEED=S replays it.
#
#   test_frame_storm.sh RECON BROKER WORKER GEN FRAME_STORM
set -u
RECON=$1 BROKER=$2 WORKER=$3 GEN=$4 STORM=$5
work=$(mktemp -d /tmp/recon-storm.XXXXXX)
dbs=()
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    drop_dbs
    if [ "${RECON_TEST_KEEP:-}" = 1 ]; then echo "logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
. "$(dirname "$0")/lib.sh"
: "${RECON_DATABASE_URL:?run under recon sandbox (./dev test does)}"

seed=${RECON_TEST_SEED:-$(( $(date +%s%N) % 1000000007 ))}
echo "seed $seed (replay: RECON_TEST_SEED=$seed meson test frame_storm)"

metric() { awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }' <<<"$1"; }
meta() { grep -o "\"$1\": *\"[^\"]*\"" "$work/g/meta.json" | cut -d'"' -f4; }

newdb "storm_$$"
export RECON_DATABASE_URL="$url" RECON_BROKER_ENDPOINT="ipc://$work/broker.sock"
export RECON_BROKER_HTTP=127.0.0.1:0 RECON_LOG_FORMAT=json RECON_HEARTBEAT=200ms RECON_LIVENESS=3
export RECON_JOB_LEASE=10s RECON_BATCH_SIZE=200 RECON_RETRY_BASE=100ms
$GEN --orders 3000 --seed 21 --out "$work/g" >/dev/null
for s in processor ledger fulfillment; do
    $RECON import $s --format canonical "$work/g/$s.csv" >/dev/null
done
tail -n +2 "$work/g/truth.csv" | awk -F, '{ n = split($2, k, "|"); for (i = 1; i <= n; i++) print $1 "," k[i] }' \
    | grep -vE ',(in_sync|refunded_in_full|cancelled_clean|awaiting_fulfillment|awaiting_ledger|awaiting_processor)$' \
    | LC_ALL=C sort >"$work/expected"

"$BROKER" 2>"$work/broker.log" & bpid=$!; pids+=($bpid)
bport=$(port_of "$work/broker.log")
check "broker reports its HTTP port" test -n "$bport"
for i in $(seq 50); do http "$bport" /readyz; [ "$status" = 200 ] && break; sleep 0.1; done

# ---- 1: the storm alone -----------------------------------------------------
run timeout 120 "$STORM" "$RECON_BROKER_ENDPOINT" --seed "$seed" --messages 6000 --sockets 4
echo "$out" | sed 's/^/    /'
check "storm 1 delivered its messages (rc $rc)" test $rc -eq 0
check "storm 1 covered every kind of bad message" test "$(grep -c 'frame_storm: *[1-9][0-9]* ' <<<"$out")" -ge 10
check "broker still running after storm 1" kill -0 $bpid
http "$bport" /livez;  check "/livez 200 after storm 1" test "$status" = 200
http "$bport" /readyz; check "/readyz 200 after storm 1" test "$status" = 200
http "$bport" /metrics
malformed=$(metric "$body" recon_broker_messages_malformed_total)
bad=$(grep -o '[0-9]* malformed by construction' <<<"$out" | cut -d' ' -f1)
echo "    broker counted $malformed malformed messages of $bad sent malformed by construction"
# Not all: a frame over ZMQ_MAXMSGSIZE makes zmq drop that connection and
# what was queued on it, by design.
check "the broker counted what it dropped (at least half)" test "${malformed%.*}" -ge $((bad / 2))
check "malformed messages logged, one line each" test "$(grep -c '"event":"message.malformed"' "$work/broker.log")" -eq "${malformed%.*}"

# ---- 2: a real run with a storm at the same time ----------------------------
"$WORKER" --id storm-real 2>"$work/worker.log" & wpid=$!; pids+=($wpid)
$RECON run --from "$(meta from)" --to "$(meta to)" --as-of "$(meta as_of)" --shards 4 --wait \
    >"$work/run.out" 2>"$work/run.err" & rpid=$!
run timeout 120 "$STORM" "$RECON_BROKER_ENDPOINT" --seed $((seed + 1)) --messages 4000 --sockets 3 --no-ready
echo "$out" | sed 's/^/    /'
check "storm 2 (during the run) delivered its messages (rc $rc)" test $rc -eq 0
timeout 240 tail --pid=$rpid -f /dev/null; wait $rpid; runrc=$?
check "the run ends with its queue (exit 1: mismatches open; got $runrc)" test $runrc -eq 1
q "SELECT order_id || ',' || kind FROM recon.mismatches WHERE status = 'open'" | LC_ALL=C sort >"$work/got"
check "open queue equals ground truth ($(wc -l <"$work/expected") items)" cmp -s "$work/got" "$work/expected"
check "no (order, kind) twice" test "$(q "SELECT count(*) - count(DISTINCT (order_id, kind)) FROM recon.mismatches")" -eq 0
check "every job succeeded" test "$(q "SELECT count(*) FROM recon.jobs WHERE state <> 'succeeded'")" -eq 0
check "broker still running after storm 2" kill -0 $bpid
http "$bport" /livez;  check "/livez 200 after storm 2" test "$status" = 200

kill -TERM $wpid; wait $wpid; wrc=$?
kill -TERM $bpid; wait $bpid; brc=$?
pids=()
check "worker exits 0 on SIGTERM (rc $wrc)" test $wrc -eq 0
check "broker exits 0 on SIGTERM after both storms (rc $brc)" test $brc -eq 0
if [ $fail -gt 0 ]; then
    echo "--- broker log (last 20 lines)"; tail -20 "$work/broker.log"
    echo "--- worker log (last 20 lines)"; tail -20 "$work/worker.log"
    echo "--- run"; cat "$work/run.out" "$work/run.err"
fi
summary frame_storm

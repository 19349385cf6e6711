#!/usr/bin/env bash
# test_ops.sh — the operations endpoints during a real run: recon-broker and
# two recon-workers over ZeroMQ (HTTP on ports the kernel picks, JSON logs),
# generator data imported by the CLI, a run with --wait. Then the broker's
# /metrics must agree with the database and the run's own results (orders
# reconciled, mismatches opened by kind, jobs by state, the job-duration
# histogram, import rows), the workers' /metrics with the run, every scrape
# must pass `promtool check metrics`, job log lines must carry run_id,
# job_id and worker_id, and SIGTERM must stop every process with exit 0.
set -u
RECON=$1 WORKER=$2 BROKER=$3 GEN=$4
work=$(mktemp -d /tmp/recon-ops-test.XXXXXX)
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
command -v promtool >/dev/null || { echo "FAIL promtool missing (apt-get install prometheus)"; exit 1; }

# metric TEXT NAME — the value of one exact series (labels included)
metric() { awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) print "missing" }' <<<"$1"; }
# msum TEXT REGEX — the sum of every series whose name{labels} matches
msum() { awk -v r="$2" '$1 ~ r { s += $2 } END { printf "%d\n", s }' <<<"$1"; }
meta() { grep -o "\"$1\": *\"[^\"]*\"" "$G/meta.json" | cut -d'"' -f4; }

$GEN --orders 20000 --seed 11 --out "$work/g" >/dev/null || { echo "FAIL generator"; exit 1; }
G=$work/g
FROM=$(meta from) TO=$(meta to) AS_OF=$(meta as_of)
newdb "ops_$$"
export RECON_DATABASE_URL="$url"
imported=0
for s in processor ledger fulfillment; do
    out=$($RECON import $s --format canonical "$G/$s.csv" 2>&1)
    n=$(grep -o '[0-9,]* imported' <<<"$out" | tr -d ', imported')
    echo "$s: $n imported (CLI)"
    [ $s = processor ] && imported=$n
done
check "processor rows imported" test "$imported" -gt 0

export RECON_BROKER_ENDPOINT="ipc://$work/broker.sock" RECON_BROKER_HTTP=127.0.0.1:0 \
       RECON_WORKER_HTTP=127.0.0.1:0 RECON_HEARTBEAT=200ms RECON_BATCH_SIZE=500
$BROKER --log-format json 2>"$work/broker.log" & pids+=($!); bpid=$!
for i in 1 2; do
    $WORKER --id "w$i" --log-format json 2>"$work/worker$i.log" & pids+=($!)
done
bport=$(port_of "$work/broker.log" 1)
wport1=$(port_of "$work/worker1.log" 1) wport2=$(port_of "$work/worker2.log" 1)
check "broker and workers report their HTTP ports" test -n "$bport" -a -n "$wport1" -a -n "$wport2"

for i in $(seq 50); do http "$bport" /readyz; [ "$status" = 200 ] && break; sleep 0.1; done
check "broker /readyz 200 with PostgreSQL up" test "$status" = 200
http "$bport" /livez;   check "broker /livez 200" test "$status" = 200
http "$bport" /healthz; check "broker /healthz 200" test "$status" = 200
http "$bport" /nothing; check "unknown path 404" test "$status" = 404
for p in "$wport1" "$wport2"; do
    for i in $(seq 50); do http "$p" /readyz; [ "$status" = 200 ] && break; sleep 0.1; done
    check "worker :$p /readyz 200 once the broker answers" test "$status" = 200
    http "$p" /livez; check "worker :$p /livez 200" test "$status" = 200
done

timeout 300 $RECON run --from "$FROM" --to "$TO" --as-of "$AS_OF" --shards 4 --wait >"$work/run.out" 2>&1
rc=$?
check "run --wait exits 1 (mismatches open)" test $rc -eq 1
run=$(q "SELECT max(run_id) FROM recon.runs")
orders_done=$(q "SELECT sum(orders_done) FROM recon.jobs WHERE run_id = $run")
check "the run reconciled every order" test "$orders_done" -eq 20000

# The database-derived values are cached for 5 s: poll until they show the end.
for i in $(seq 100); do
    http "$bport" /metrics; m=$body
    [ "$(metric "$m" 'recon_jobs{state="succeeded"}')" = 4 ] && break
    sleep 0.2
done
printf '%s\n' "$m" >"$work/broker.metrics"
check "broker /metrics passes promtool check metrics" promtool check metrics <"$work/broker.metrics"
check "jobs by state: all 4 succeeded" test "$(metric "$m" 'recon_jobs{state="succeeded"}')" = 4
for s in pending running dead cancelled; do
    check "jobs by state: none $s" test "$(metric "$m" "recon_jobs{state=\"$s\"}")" = 0
done
check "orders reconciled total == the run's orders_done" \
    test "$(metric "$m" recon_orders_reconciled_total)" = "$orders_done"
check "histogram count == jobs" test "$(metric "$m" recon_job_duration_seconds_count)" = 4
check "histogram +Inf bucket == count" \
    test "$(metric "$m" 'recon_job_duration_seconds_bucket{le="+Inf"}')" = 4
check "jobs dispatched == jobs succeeded == 4" \
    test "$(metric "$m" recon_jobs_dispatched_total)$(metric "$m" recon_jobs_succeeded_total)" = 44
check "no retries, rescues, dead jobs, expired heartbeats" \
    test "$(msum "$m" '^recon_(jobs_(retried|rescued|dead)|heartbeats_expired)_total$')" = 0
check "queue latency 0 after the run" test "$(metric "$m" recon_queue_latency_seconds)" = 0
check "no waiting jobs after the run" test "$(metric "$m" recon_queue_waiting_jobs)" = 0
check "runs by state: the run succeeded" test "$(metric "$m" 'recon_runs{state="succeeded"}')" = 1
check "last successful run's time is set" test "$(metric "$m" recon_run_last_success_timestamp_seconds | cut -d. -f1)" -gt 1000000000
check "workers by state: 2 idle" test "$(metric "$m" 'recon_workers{state="idle"}')" = 2

# mismatches opened, by kind, equal the rows in recon.mismatches
kinds=$(q "SELECT kind || ' ' || count(*) FROM recon.mismatches GROUP BY kind ORDER BY kind")
check "the run opened mismatches of several kinds" test "$(wc -l <<<"$kinds")" -ge 5
# Workers analyze a young queue as it doubles (reconciler.c): without that
# a first run planned every batch against the whole queue by hash.
check "the workers analyzed the growing queue" test "$(q "SELECT count(*) FROM pg_stat_user_tables WHERE relid = 'recon.mismatches'::regclass AND last_analyze IS NOT NULL")" -eq 1
bad=0
while read -r kind n; do
    got=$(msum "$m" "^recon_mismatches_opened_total[{]kind=\"$kind\",")
    [ "$got" = "$n" ] || { echo "  $kind: metrics $got, table $n"; bad=1; }
done <<<"$kinds"
check "mismatches opened by kind == rows in recon.mismatches" test $bad -eq 0
check "severity labels agree with the table" \
    test "$(msum "$m" '^recon_mismatches_opened_total[{].*severity="critical"')" = \
         "$(q "SELECT count(*) FROM recon.mismatches WHERE severity = 'critical'")"
check "unresolved open items == open rows" \
    test "$(msum "$m" '^recon_mismatches_unresolved[{]status="open"')" = \
         "$(q "SELECT count(*) FROM recon.mismatches WHERE status = 'open'")"
check "nothing auto-resolved in a first run" \
    test "$(msum "$m" '^recon_mismatches_auto_resolved_total')" = 0
check "import rows (processor, imported) == what the CLI printed" \
    test "$(metric "$m" 'recon_import_rows_total{source="processor",outcome="imported"}')" = "$imported"
check "three files imported" test "$(msum "$m" '^recon_import_files_total')" = 3
check "no run id, job id or order id in any label" \
    bash -c '! grep -E "(run_id|job_id|order_id|worker_id)=" "$1"' _ "$work/broker.metrics"

# the workers' own metrics
total=0 done_jobs=0
for p in "$wport1" "$wport2"; do
    http "$p" /metrics; w=$body
    printf '%s\n' "$w" >"$work/worker.$p.metrics"
    check "worker :$p /metrics passes promtool" promtool check metrics <"$work/worker.$p.metrics"
    check "worker :$p idle after the run" test "$(metric "$w" recon_worker_busy)" = 0
    # every batch but a job's last (which clears the checkpoint) is mirrored
    check "worker :$p wrote a checkpoint per batch (Redis up)" \
        test "$(( $(metric "$w" recon_worker_checkpoint_writes_total) + $(metric "$w" 'recon_worker_jobs_total{outcome="done"}') ))" = "$(metric "$w" recon_worker_batches_total)"
    check "worker :$p no Redis errors" test "$(metric "$w" recon_worker_redis_errors_total)" = 0
    total=$((total + $(metric "$w" recon_worker_orders_processed_total)))
    done_jobs=$((done_jobs + $(metric "$w" 'recon_worker_jobs_total{outcome="done"}')))
done
check "workers' orders processed add up to the run's" test "$total" -eq "$orders_done"
check "workers' done jobs add up to 4" test "$done_jobs" -eq 4

# structured logs: job lines carry run_id, job_id, worker_id as JSON fields
has_ids() { grep "\"event\":\"$2\"" "$1" | grep "\"run_id\":\"$run\"" | grep '"job_id":"' | grep -c '"worker_id":"w'; }
check "broker job.dispatched lines carry run_id, job_id, worker_id" test "$(has_ids "$work/broker.log" job.dispatched)" -eq 4
check "broker job.done lines carry run_id, job_id, worker_id" test "$(has_ids "$work/broker.log" job.done)" -eq 4
check "worker job.started lines carry them too" test "$(( $(has_ids "$work/worker1.log" job.started) + $(has_ids "$work/worker2.log" job.started) ))" -eq 4

kill -TERM "${pids[@]}"
for p in "${pids[@]}"; do wait "$p"; s=$?; [ $s -eq 0 ] || { echo "  process $p exited $s"; fail=$((fail + 1)); }; done
pids=()
check "broker logged its stop" grep -q '"event":"broker.stopped"' "$work/broker.log"

# ---- SIGTERM during a job in --run mode: hand back at a batch boundary ------------
export RECON_BATCH_SIZE=20
run2=$($RECON run --from "$FROM" --to "$TO" --as-of "$AS_OF" --shards 1)
$WORKER --run "$run2" --id term 2>"$work/term.log" & tpid=$!; pids+=($tpid)
for i in $(seq 300); do
    [ "$(q "SELECT orders_done FROM recon.jobs WHERE run_id = $run2")" -gt 0 ] && break
    sleep 0.05
done
kill -TERM $tpid; wait $tpid; s=$?; pids=()
check "worker --run: SIGTERM mid-job exits 0" test $s -eq 0
check "the job is handed back (pending)" test "$(q "SELECT state FROM recon.jobs WHERE run_id = $run2")" = pending
check "without spending an attempt" test "$(q "SELECT failures FROM recon.jobs WHERE run_id = $run2")" -eq 0
left=$(q "SELECT orders_done FROM recon.jobs WHERE run_id = $run2")
check "its checkpoint is kept (stopped mid-job: $left of 20000)" test "$left" -gt 0 -a "$left" -lt 20000
RECON_BATCH_SIZE=2000 $WORKER --run "$run2" 2>/dev/null
check "another --run resumes it to the end" test "$(q "SELECT state || ' ' || orders_done FROM recon.jobs WHERE run_id = $run2")" = "succeeded 20000"

summary ops

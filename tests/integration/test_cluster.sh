#!/usr/bin/env bash
# test_cluster.sh — runs end to end against the sandbox PostgreSQL: the
# generator's files imported, a run reconciled (by recon-worker --run, and
# by recon-broker + 2 workers over ZeroMQ), and the mismatch queue compared
# with the generator's ground truth: exactly the flagged (order, kind)
# pairs, nothing more, nothing less; a second run changes nothing.
set -u
RECON=$1 WORKER=$2 BROKER=$3 GEN=$4
work=$(mktemp -d /tmp/recon-cluster-test.XXXXXX)
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
load() {
    RECON_DATABASE_URL="$url" $RECON import processor --format canonical "$G/processor.csv" >/dev/null &&
    RECON_DATABASE_URL="$url" $RECON import ledger --format canonical "$G/ledger.csv" >/dev/null &&
    RECON_DATABASE_URL="$url" $RECON import fulfillment --format canonical "$G/fulfillment.csv" >/dev/null
}
queue() { q "SELECT order_id || ',' || kind FROM recon.mismatches WHERE status = 'open'" | LC_ALL=C sort; }
meta() { grep -o "\"$1\": *\"[^\"]*\"" "$G/meta.json" | cut -d'"' -f4; }

$GEN --orders 20000 --seed 5 --out "$work/g" >/dev/null || { echo "FAIL generator"; exit 1; }
G=$work/g
FROM=$(meta from) TO=$(meta to) AS_OF=$(meta as_of)
# expected: every flagged kind of every order, one line each
tail -n +2 "$G/truth.csv" | awk -F, '{ n = split($2, k, "|"); for (i = 1; i <= n; i++) print $1 "," k[i] }' |
    grep -vE ',(in_sync|refunded_in_full|cancelled_clean|awaiting_fulfillment|awaiting_ledger|awaiting_processor)$' |
    LC_ALL=C sort >"$work/expected"
check "truth has flagged orders" test "$(wc -l <"$work/expected")" -gt 1000

# ---- direct mode: no broker ------------------------------------------------
newdb "cl_a_$$"; A=$url
load || { echo "FAIL load"; exit 1; }
run=$(RECON_DATABASE_URL="$A" $RECON run --from "$FROM" --to "$TO" --as-of "$AS_OF" --shards 3)
check "run prints its id" test "$run" -gt 0
check "three jobs planned" test "$(q "SELECT count(*) FROM recon.jobs WHERE run_id = $run")" -eq 3
RECON_READ_STRATEGY=lookup RECON_DATABASE_URL="$A" RECON_REDIS_URL="$RECON_REDIS_URL" $WORKER --run "$run" 2>"$work/w.log"
check "worker --run exits 0 (lookup reads)" test $? -eq 0
check "run succeeded" test "$(q "SELECT state FROM recon.runs WHERE run_id = $run")" = succeeded
check "every order reconciled once" test "$(q "SELECT sum(orders_done) FROM recon.jobs WHERE run_id = $run")" -eq 20000
queue >"$work/got"
check "queue equals ground truth exactly" cmp -s "$work/expected" "$work/got"
[ -s "$work/got" ] && ! cmp -s "$work/expected" "$work/got" && diff "$work/expected" "$work/got" | head -5
check "one 'opened' history entry per mismatch" test "$(q "SELECT count(*) FROM recon.mismatch_history WHERE action = 'opened'")" -eq "$(wc -l <"$work/expected")"
check "sentences stored" test "$(q "SELECT count(*) FROM recon.mismatches WHERE summary = '' OR next_step = ''")" -eq 0
check "evidence has all three sources" test "$(q "SELECT count(*) FROM recon.mismatches WHERE NOT (evidence ? 'processor' AND evidence ? 'ledger' AND evidence ? 'fulfillment')")" -eq 0
hist=$(q "SELECT count(*) FROM recon.mismatch_history")
run2=$(RECON_DATABASE_URL="$A" $RECON run --from "$FROM" --to "$TO" --as-of "$AS_OF" --shards 2)
RECON_READ_STRATEGY=stream RECON_DATABASE_URL="$A" RECON_REDIS_URL="$RECON_REDIS_URL" $WORKER --run "$run2" 2>/dev/null
queue >"$work/got2"
check "second run (stream reads): same queue" cmp -s "$work/expected" "$work/got2"
check "second run: no new history (identical facts and sentences)" test "$(q "SELECT count(*) FROM recon.mismatch_history")" -eq "$hist"
check "second run: every order once" test "$(q "SELECT sum(orders_done) FROM recon.jobs WHERE run_id = $run2")" -eq 20000
check "second run saw every open item" test "$(q "SELECT count(*) FROM recon.mismatches WHERE status = 'open' AND last_seen_run <> $run2")" -eq 0
# A narrow window: both ways of reading pick the same orders and change nothing.
DAY2=$(date -u -d "$FROM + 1 day" +%Y-%m-%dT%H:%M:%SZ)
for how in lookup stream; do
    r=$(RECON_DATABASE_URL="$A" $RECON run --from "$FROM" --to "$DAY2" --as-of "$AS_OF" --shards 2)
    RECON_READ_STRATEGY=$how RECON_DATABASE_URL="$A" RECON_REDIS_URL="$RECON_REDIS_URL" $WORKER --run "$r" 2>/dev/null
    eval "narrow_$how=\$(q \"SELECT sum(orders_done) FROM recon.jobs WHERE run_id = $r\")"
done
check "narrow window: stream and lookup reconcile the same orders" test "$narrow_stream" -eq "$narrow_lookup"
check "narrow window: fewer orders than the whole window" test "$narrow_stream" -lt 20000 -a "$narrow_stream" -gt 0
check "narrow window: no new history" test "$(q "SELECT count(*) FROM recon.mismatch_history")" -eq "$hist"

# late data: the missing ledger entries arrive; the next run auto-resolves
q "SELECT ledger.post_order_entry('late_' || m.order_id, m.order_id, 'charge', (e->>'amount_minor')::bigint, e->>'currency', '$TO'::timestamptz - interval '1 hour')
     FROM recon.mismatches m, jsonb_array_elements(m.evidence->'processor') e
    WHERE m.kind = 'missing_in_ledger' AND m.status = 'open' AND e->>'kind' = 'charge' AND e->>'status' = 'succeeded'" >/dev/null
late=$(q "SELECT count(*) FROM recon.mismatches WHERE kind = 'missing_in_ledger' AND status = 'open'")
run3=$(RECON_DATABASE_URL="$A" $RECON run --from "$FROM" --to "$TO" --as-of "$AS_OF" --shards 2)
RECON_DATABASE_URL="$A" RECON_REDIS_URL="$RECON_REDIS_URL" $WORKER --run "$run3" 2>/dev/null
check "late ledger entries auto-resolve" test "$(q "SELECT count(*) FROM recon.mismatches WHERE kind = 'missing_in_ledger' AND resolution = 'auto_resolved'")" -ge 1
check "auto-resolution is in the history with a reason" test "$(q "SELECT count(*) FROM recon.mismatch_history WHERE action = 'auto_resolved' AND actor = 'recon' AND note <> '' AND run_id = $run3")" -ge 1
check "late data counted" test "$late" -ge 1

# a human resolves an item; new facts reopen it
mid=$(q "SELECT mismatch_id FROM recon.mismatches WHERE kind = 'overcharged' AND status = 'open' LIMIT 1")
q "UPDATE recon.mismatches SET status = 'resolved', resolution = 'refunded', resolved_at = now() WHERE mismatch_id = $mid;
   INSERT INTO recon.mismatch_history (mismatch_id, actor, action, from_status, to_status) VALUES ($mid, 'alice', 'resolved', 'open', 'resolved')" >/dev/null
run4=$(RECON_DATABASE_URL="$A" $RECON run --from "$FROM" --to "$TO" --as-of "$AS_OF" --shards 1)
RECON_DATABASE_URL="$A" $WORKER --run "$run4" 2>/dev/null
check "human resolution stands while facts are unchanged" test "$(q "SELECT status FROM recon.mismatches WHERE mismatch_id = $mid")" = resolved
oid=$(q "SELECT order_id FROM recon.mismatches WHERE mismatch_id = $mid")
q "INSERT INTO recon.processor_events (processor, txn_id, order_id, kind, status, amount_minor, currency, occurred_at)
   SELECT 'canonical', 'late_capture', order_id, 'charge', 'succeeded', 1, currency, '$TO'::timestamptz - interval '1 hour' FROM recon.mismatches WHERE mismatch_id = $mid" >/dev/null
run5=$(RECON_DATABASE_URL="$A" $RECON run --from "$FROM" --to "$TO" --as-of "$AS_OF" --shards 1)
RECON_DATABASE_URL="$A" $WORKER --run "$run5" 2>/dev/null
check "new facts reopen a human-resolved item" test "$(q "SELECT status FROM recon.mismatches WHERE mismatch_id = $mid")" = open
check "reopening is in the history" test "$(q "SELECT count(*) FROM recon.mismatch_history WHERE mismatch_id = $mid AND action = 'reopened' AND actor = 'recon'")" -eq 1

# new facts on a claimed item: the claim stays, the facts and the history change
q "UPDATE recon.mismatches SET status = 'in_review', assignee = 'alice' WHERE mismatch_id = $mid" >/dev/null
hash5=$(q "SELECT facts_hash FROM recon.mismatches WHERE mismatch_id = $mid")
q "INSERT INTO recon.processor_events (processor, txn_id, order_id, kind, status, amount_minor, currency, occurred_at)
   SELECT 'canonical', 'late_capture_2', order_id, 'charge', 'succeeded', 2, currency, '$TO'::timestamptz - interval '1 hour' FROM recon.mismatches WHERE mismatch_id = $mid" >/dev/null
# and an item recon resolved, still flagged: recon reopens it (same facts)
mid2=$(q "SELECT mismatch_id FROM recon.mismatches WHERE status = 'open' AND mismatch_id <> $mid ORDER BY mismatch_id LIMIT 1")
q "UPDATE recon.mismatches SET status = 'resolved', resolution = 'auto_resolved', resolved_at = now() WHERE mismatch_id = $mid2" >/dev/null
run7=$(RECON_DATABASE_URL="$A" $RECON run --from "$FROM" --to "$TO" --as-of "$AS_OF" --shards 1)
RECON_DATABASE_URL="$A" $WORKER --run "$run7" 2>/dev/null
check "new facts keep a claimed item claimed" test "$(q "SELECT status || ':' || assignee FROM recon.mismatches WHERE mismatch_id = $mid")" = "in_review:alice"
check "new facts replace the old ones" test "$(q "SELECT facts_hash <> '$hash5' AND last_seen_run = $run7 AND evidence::text LIKE '%late_capture_2%' FROM recon.mismatches WHERE mismatch_id = $mid")" = t
check "new facts are in the history" test "$(q "SELECT count(*) FROM recon.mismatch_history WHERE mismatch_id = $mid AND action = 'updated' AND actor = 'recon' AND from_status = 'in_review' AND note LIKE 'New facts: %' AND run_id = $run7")" -eq 1
check "an auto-resolved item flagged again reopens" test "$(q "SELECT status || ':' || coalesce(resolution, '-') || ':' || last_seen_run FROM recon.mismatches WHERE mismatch_id = $mid2")" = "open:-:$run7"
check "and says so in the history" test "$(q "SELECT count(*) FROM recon.mismatch_history WHERE mismatch_id = $mid2 AND action = 'reopened' AND note LIKE 'Flagged again (was resolved as auto_resolved)%' AND run_id = $run7")" -eq 1
check "only those two items changed" test "$(q "SELECT count(*) FROM recon.mismatch_history WHERE run_id = $run7")" -eq 2

# ---- the ledger in a database of its own (read through its own URL) --------
newdb "cl_l_$$"; L=$url
newdb "cl_p_$$"; P=$url
RECON_DATABASE_URL="$P" $RECON import processor --format canonical "$G/processor.csv" >/dev/null
RECON_DATABASE_URL="$P" $RECON import fulfillment --format canonical "$G/fulfillment.csv" >/dev/null
RECON_DATABASE_URL="$P" RECON_LEDGER_DATABASE_URL="$L" $RECON import ledger --format canonical "$G/ledger.csv" >/dev/null
url=$L
check "ledger rows went to the ledger database" test "$(q 'SELECT count(*) FROM ledger.journal_entries')" -eq "$(($(wc -l <"$G/ledger.csv") - 1))"
url=$P
check "and not to recon's" test "$(q 'SELECT count(*) FROM ledger.journal_entries')" -eq 0
run6=$(RECON_DATABASE_URL="$P" $RECON run --from "$FROM" --to "$TO" --as-of "$AS_OF" --shards 2)
RECON_DATABASE_URL="$P" RECON_LEDGER_DATABASE_URL="$L" $WORKER --run "$run6" 2>/dev/null
queue >"$work/got_sep"
check "separate ledger database: queue equals ground truth" cmp -s "$work/expected" "$work/got_sep"

# ---- broker + 2 workers over ZeroMQ --------------------------------------
newdb "cl_b_$$"; B=$url
load || { echo "FAIL load"; exit 1; }
export RECON_BROKER_ENDPOINT="ipc://$work/broker.sock"
export RECON_BROKER_HTTP=127.0.0.1:0 # never the default port: other tests may run
RECON_DATABASE_URL="$B" $BROKER 2>"$work/broker.log" & pids+=($!); bpid=$!
for i in 1 2; do
    RECON_DATABASE_URL="$B" $WORKER --id "w$i" 2>"$work/worker$i.log" & pids+=($!)
done
wpids=("${pids[@]:1}")
RECON_DATABASE_URL="$B" timeout 300 $RECON run --from "$FROM" --to "$TO" --as-of "$AS_OF" --shards 4 --wait >"$work/run.out" 2>"$work/run.err"
rc=$?
check "run --wait exits 1 when mismatches are open" test $rc -eq 1
check "run --wait prints a summary" grep -q "succeeded: 20,000 orders reconciled" "$work/run.out"
url=$B; queue >"$work/got3"
check "broker+workers: queue equals ground truth" cmp -s "$work/expected" "$work/got3"
check "every job reported done to the broker" test "$(grep -c job.done "$work/broker.log")" -eq 4
check "both workers worked" test "$(grep -l 'job.started' "$work"/worker*.log | wc -l)" -eq 2
RECON_DATABASE_URL="$B" timeout 60 $RECON run --from 2020-01-01 --to 2020-01-02 --as-of 2020-01-03 --shards 2 --wait >/dev/null 2>&1
check "run --wait exits 0 when nothing is flagged" test $? -eq 0
kill -TERM "${pids[@]}"
for p in "${pids[@]}"; do wait "$p"; s=$?; [ $s -eq 0 ] || echo "process $p exited $s"; done
check "broker and workers stop cleanly on SIGTERM" grep -q broker.stopped "$work/broker.log"
pids=()

summary cluster

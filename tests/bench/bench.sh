#!/usr/bin/env bash
# bench.sh — recon against the cost of reading the data and against the SQL
# a team would write instead, side by side on the same generated data, in
# one invocation, under a throw-away sandbox. Prints a table of times and
# ratios (machines are noisy: only the ratios mean anything).
#
#   recon sandbox -- tests/bench/bench.sh BUILD_DIR [ORDERS...]
#   (./dev bench [ORDERS...] does exactly that; default 1000000)
set -euo pipefail
B=$1; shift
ORDERS=("${@:-1000000}")
RECON=$B/cli/recon WORKER=$B/worker/recon-worker BROKER=$B/broker/recon-broker GEN=$B/tests/gen/recon-gen
: "${RECON_DATABASE_URL:?run under recon sandbox}"
work=$(mktemp -d /tmp/recon-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
q() { psql -At "$url" -c "$1"; }
newdb() {
    psql -q "$RECON_DATABASE_URL" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
    url="${RECON_DATABASE_URL/\/recon\?//$1?}"
    RECON_DATABASE_URL="$url" $RECON db migrate --reference >/dev/null 2>&1
}
meta() { grep -o "\"$1\": *\"[^\"]*\"" "$G/meta.json" | cut -d'"' -f4; }

# One run of recon with N workers and S shards on a fresh queue; sets
# t_run, rss_kb, correct.
recon_run() {
    local n=$1 shards=$2
    q "TRUNCATE recon.mismatch_history, recon.mismatches, recon.jobs, recon.runs CASCADE" >/dev/null
    export RECON_BROKER_ENDPOINT="ipc://$work/broker.sock"
    RECON_DATABASE_URL="$url" $BROKER 2>>"$work/broker.log" & pids+=($!)
    local wp=()
    for i in $(seq 1 "$n"); do
        RECON_DATABASE_URL="$url" $WORKER --id "b$i" 2>>"$work/worker.log" & wp+=($!); pids+=($!)
    done
    sleep 0.5
    local t0; t0=$(now)
    RECON_DATABASE_URL="$url" $RECON run --from "$FROM" --to "$TO" --as-of "$AS_OF" --shards "$shards" --wait >/dev/null 2>&1 || true
    t_run=$(secs "$t0" "$(now)")
    rss_kb=0
    for p in "${wp[@]}"; do
        local r; r=$(awk '/VmHWM/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
        [ "${r:-0}" -gt "$rss_kb" ] && rss_kb=$r
    done
    kill "${wp[@]}" "${pids[0]}" 2>/dev/null || true
    for p in "${wp[@]}" "${pids[0]}"; do wait "$p" 2>/dev/null || true; done
    pids=()
    q "SELECT order_id || ',' || kind FROM recon.mismatches WHERE status = 'open'" | LC_ALL=C sort >"$work/got"
    if cmp -s "$work/got" "$work/expected"; then correct=yes; else correct=NO; fi
}

# The SQL a team would write instead: aggregate each source per order, FULL
# OUTER JOIN, classify the main kinds into a table (no grace windows, no
# offsets, no sentences: a lower bound for what recon does).
SQL_BASELINE="
DROP TABLE IF EXISTS sql_result;
CREATE TABLE sql_result AS
WITH p AS (SELECT order_id,
                  sum(amount_minor) FILTER (WHERE kind = 'charge' AND status = 'succeeded') AS captured,
                  count(*) FILTER (WHERE kind = 'charge' AND status = 'succeeded') AS captures,
                  sum(amount_minor) FILTER (WHERE kind = 'refund' AND status = 'succeeded') AS refunded,
                  count(*) FILTER (WHERE kind = 'dispute') - count(*) FILTER (WHERE kind = 'dispute_reversal') AS disputes,
                  min(currency) AS currency, max(currency) AS currency2
             FROM recon.processor_events GROUP BY order_id),
     l AS (SELECT order_id,
                  sum(amount_minor) FILTER (WHERE kind = 'charge') AS charged,
                  sum(amount_minor) FILTER (WHERE kind = 'refund') AS refunded,
                  min(currency) AS currency
             FROM ledger.ledger_order_entries GROUP BY order_id),
     f AS (SELECT order_id, status FROM fulfillment.fulfillment_orders)
SELECT coalesce(p.order_id, l.order_id, f.order_id) AS order_id,
       CASE WHEN p.currency <> l.currency OR p.currency <> p.currency2 THEN 'currency_mismatch'
            WHEN p.captures >= 2 AND p.captured > l.charged THEN 'duplicate_charge'
            WHEN p.captured > l.charged THEN 'overcharged'
            WHEN p.captured < l.charged THEN 'undercharged'
            WHEN p.captured > 0 AND l.charged IS NULL THEN 'missing_in_ledger'
            WHEN l.charged > 0 AND coalesce(p.captured, 0) = 0 THEN 'missing_at_processor'
            WHEN coalesce(p.refunded, 0) <> coalesce(l.refunded, 0) THEN 'refund_mismatch'
            WHEN p.disputes > 0 THEN 'dispute_open'
            WHEN p.captured > coalesce(p.refunded, 0) AND f.status IN ('pending', 'in_progress', 'on_hold') THEN 'charged_not_delivered'
            WHEN p.captured > coalesce(p.refunded, 0) AND f.status = 'cancelled' THEN 'charged_after_cancel'
            WHEN coalesce(p.captured, 0) = 0 AND f.status IN ('shipped', 'delivered') THEN 'delivered_not_charged'
            ELSE 'in_sync' END AS state
  FROM p FULL OUTER JOIN l USING (order_id) FULL OUTER JOIN f USING (order_id);"

# The planner settings of recon's stream cursors (common/reconciler.c): no
# index scans or merge joins in key order, no JIT. The floor and the
# baseline are timed with PostgreSQL's defaults and again with these, and
# recon is held against the faster of each: a floor that is slow only
# because of a plan recon avoids would flatter it.
STREAM_PLAN="SET jit = off; SET enable_indexscan = off; SET enable_bitmapscan = off; SET enable_mergejoin = off"

READ_FLOOR=(
  "COPY (SELECT order_id, txn_id, payment_ref, kind, status, amount_minor, currency, occurred_at FROM recon.processor_events ORDER BY order_id COLLATE \"C\") TO STDOUT"
  "COPY (SELECT order_id, entry_id, kind, amount_minor, currency, recorded_at FROM ledger.ledger_order_entries ORDER BY order_id COLLATE \"C\") TO STDOUT"
  "COPY (SELECT order_id, status, updated_at, shipped_at FROM fulfillment.fulfillment_orders ORDER BY order_id COLLATE \"C\") TO STDOUT")

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(psql -At "$RECON_DATABASE_URL" -c 'SHOW server_version') (fsync off, throw-away cluster)"
printf '\n%-10s %-47s %10s %9s\n' orders measurement seconds ratio
for n in "${ORDERS[@]}"; do
    G=$work/g$n
    $GEN --orders "$n" --seed 1 --out "$G" >/dev/null
    FROM=$(meta from) TO=$(meta to) AS_OF=$(meta as_of)
    tail -n +2 "$G/truth.csv" | awk -F, '{ n = split($2, k, "|"); for (i = 1; i <= n; i++) print $1 "," k[i] }' |
        grep -vE ',(in_sync|refunded_in_full|cancelled_clean|awaiting_fulfillment|awaiting_ledger|awaiting_processor)$' |
        LC_ALL=C sort >"$work/expected"

    # the same report merged into a table that already holds events (the
    # other processors'): the path of every import after a first load
    newdb "bench_${n}_merge"
    RECON_DATABASE_URL="$url" $RECON import processor --format adyen "$G/adyen.csv" >/dev/null
    RECON_DATABASE_URL="$url" $RECON import processor --format canonical --processor other "$G/processor_other.csv" >/dev/null
    q "VACUUM ANALYZE recon.processor_events" >/dev/null
    t0=$(now); RECON_DATABASE_URL="$url" $RECON import processor --format stripe "$G/stripe.csv" >/dev/null; t_merge=$(secs "$t0" "$(now)")
    psql -q "$RECON_DATABASE_URL" -c "DROP DATABASE bench_${n}_merge WITH (FORCE)" >/dev/null

    # import: a raw COPY of the Stripe report into an untyped table vs recon
    # import into the empty table (a first load: keys built after the rows)
    newdb "bench_$n"
    cols=$(head -1 "$G/stripe.csv" | tr ',' '\n' | awk '{ printf "%sc%d text", (NR > 1 ? ", " : ""), NR }')
    q "CREATE TABLE raw_stripe ($cols)" >/dev/null
    t0=$(now); q "\\copy raw_stripe FROM '$G/stripe.csv' CSV HEADER" >/dev/null; t_copy=$(secs "$t0" "$(now)")
    # the same raw COPY into a table that also has the two keys recon keeps
    # (unique transaction id: idempotent re-imports; order id in byte order:
    # the workers' sorted reads) — what any importer keeping them pays
    idcol=$(head -1 "$G/stripe.csv" | tr ',' '\n' | grep -n -x 'balance_transaction_id' | cut -d: -f1)
    ordcol=$(head -1 "$G/stripe.csv" | tr ',' '\n' | grep -n -x 'payment_metadata\[order_id\]' | cut -d: -f1)
    q "CREATE TABLE raw_stripe_keyed ($cols); CREATE UNIQUE INDEX ON raw_stripe_keyed (c$idcol);
       CREATE INDEX ON raw_stripe_keyed (c$ordcol COLLATE \"C\")" >/dev/null
    t0=$(now); q "\\copy raw_stripe_keyed FROM '$G/stripe.csv' CSV HEADER" >/dev/null; t_keyed=$(secs "$t0" "$(now)")
    q "DROP TABLE raw_stripe, raw_stripe_keyed" >/dev/null
    t0=$(now); RECON_DATABASE_URL="$url" $RECON import processor --format stripe "$G/stripe.csv" >/dev/null; t_imp=$(secs "$t0" "$(now)")
    RECON_DATABASE_URL="$url" $RECON import processor --format adyen "$G/adyen.csv" >/dev/null
    RECON_DATABASE_URL="$url" $RECON import processor --format canonical --processor other "$G/processor_other.csv" >/dev/null
    RECON_DATABASE_URL="$url" $RECON import ledger --format canonical "$G/ledger.csv" >/dev/null
    RECON_DATABASE_URL="$url" $RECON import fulfillment --format canonical "$G/fulfillment.csv" >/dev/null
    q "VACUUM ANALYZE" >/dev/null

    t0=$(now); for s in "${READ_FLOOR[@]}"; do psql -At "$url" -c "$s" >/dev/null; done; t_floor=$(secs "$t0" "$(now)")
    t0=$(now); psql -q "$url" -c "$SQL_BASELINE" >/dev/null; t_sql=$(secs "$t0" "$(now)")
    t0=$(now); for s in "${READ_FLOOR[@]}"; do psql -At "$url" -c "$STREAM_PLAN" -c "$s" >/dev/null; done; t_floor_s=$(secs "$t0" "$(now)")
    t0=$(now); psql -q "$url" -c "$STREAM_PLAN" -c "$SQL_BASELINE" >/dev/null; t_sql_s=$(secs "$t0" "$(now)")
    t_floor_min=$(awk -v a="$t_floor" -v b="$t_floor_s" 'BEGIN { print (a < b ? a : b) }')
    t_sql_min=$(awk -v a="$t_sql" -v b="$t_sql_s" 'BEGIN { print (a < b ? a : b) }')
    # as many shards as workers (docs/OPERATIONS.md, "How many shards"),
    # and the default of 4 with 2 workers
    recon_run 1 1; t_r1=$t_run; ok1=$correct; rss1=$rss_kb
    recon_run 2 2; t_r2=$t_run; ok2=$correct; rss2=$rss_kb
    recon_run 2 4; t_r24=$t_run; ok24=$correct

    printf '%-10s %-47s %10s %9s\n' "$n" "raw COPY of stripe.csv (untyped table)" "$t_copy" "1.00"
    printf '%-10s %-47s %10s %9s\n' "$n" "raw COPY, same table + recon's two keys" "$t_keyed" "$(ratio "$t_copy" "$t_keyed")x speed"
    printf '%-10s %-47s %10s %9s\n' "$n" "recon import --format stripe, first load" "$t_imp" "$(ratio "$t_copy" "$t_imp")x speed"
    printf '%-10s %-47s %10s %9s\n' "$n" "recon import, merged into a table of events" "$t_merge" "$(ratio "$t_copy" "$t_merge")x speed"
    printf '%-10s %-47s %10s %9s\n' "$n" "  merged import / keyed raw COPY (speed)" "" "$(ratio "$t_keyed" "$t_merge")x"
    printf '%-10s %-47s %10s %9s\n' "$n" "read floor: 3 sources sorted, COPY TO STDOUT" "$t_floor" "1.00"
    printf '%-10s %-47s %10s %9s\n' "$n" "read floor, recon's plan settings" "$t_floor_s" "$(ratio "$t_floor_s" "$t_floor")"
    printf '%-10s %-47s %10s %9s\n' "$n" "SQL baseline: FULL OUTER JOIN classify" "$t_sql" "$(ratio "$t_sql" "$t_floor")"
    printf '%-10s %-47s %10s %9s\n' "$n" "SQL baseline, recon's plan settings" "$t_sql_s" "$(ratio "$t_sql_s" "$t_floor")"
    printf '%-10s %-47s %10s %9s\n' "$n" "recon run, 1 worker, 1 shard (correct: $ok1)" "$t_r1" "$(ratio "$t_r1" "$t_floor")"
    printf '%-10s %-47s %10s %9s\n' "$n" "recon run, 2 workers, 2 shards (correct: $ok2)" "$t_r2" "$(ratio "$t_r2" "$t_floor")"
    printf '%-10s %-47s %10s %9s\n' "$n" "recon run, 2 workers, 4 shards (correct: $ok24)" "$t_r24" "$(ratio "$t_r24" "$t_floor")"
    printf '%-10s %-47s %10s %9s\n' "$n" "  recon 2 workers / SQL baseline" "" "$(ratio "$t_r2" "$t_sql")"
    printf '%-10s %-47s %10s %9s\n' "$n" "  recon 2 workers / faster read floor" "" "$(ratio "$t_r2" "$t_floor_min")"
    printf '%-10s %-47s %10s %9s\n' "$n" "  recon 2 workers / faster SQL baseline" "" "$(ratio "$t_r2" "$t_sql_min")"
    printf '%-10s %-47s %10s %9s\n' "$n" "  worker peak RSS (MiB), 1 / 2 workers" "" "$((rss1 / 1024)) / $((rss2 / 1024))"
    # A/B rows in the same invocation (RECON_TEST_BENCH_BATCHES="5000 10000"):
    # 2 workers with other batch sizes, then 1 worker again (is the first
    # run after an import slower?).
    if [ -n "${RECON_TEST_BENCH_BATCHES:-}" ]; then
        for b in $RECON_TEST_BENCH_BATCHES; do
            RECON_BATCH_SIZE=$b recon_run 2 2
            printf '%-10s %-47s %10s %9s\n' "$n" "recon run, 2 workers, batch $b (correct: $correct)" "$t_run" "$(ratio "$t_run" "$t_floor")"
            printf '%-10s %-47s %10s %9s\n' "$n" "  worker peak RSS (MiB), batch $b" "" "$((rss_kb / 1024))"
        done
        recon_run 1 1
        printf '%-10s %-47s %10s %9s\n' "$n" "recon run, 1 worker, again (correct: $correct)" "$t_run" "$(ratio "$t_run" "$t_floor")"
    fi
    psql -q "$RECON_DATABASE_URL" -c "DROP DATABASE bench_$n WITH (FORCE)" >/dev/null
done

#!/usr/bin/env bash
# test_queue.sh — `recon queue` for real: a real run fills the queue from
# generated data (recon-worker --run), then every subcommand runs against
# the sandbox PostgreSQL: ordering and paging totals checked against SQL,
# filters, every action and every refused transition, two reviewers
# resolving the same item at once (exactly one wins, history consistent),
# a snooze that ends by itself, JSON and CSV output, export.
#
#   test_queue.sh RECON WORKER GEN
set -u
RECON=$1 WORKER=$2 GEN=$3
work=$(mktemp -d /tmp/recon-queue-test.XXXXXX)
dbs=()
cleanup() { drop_dbs; rm -rf "$work"; }
trap cleanup EXIT
. "$(dirname "$0")/lib.sh"
: "${RECON_DATABASE_URL:?run under recon sandbox (./dev test does)}"

newdb "queue_$$"
export RECON_DATABASE_URL="$url"
fill_queue 3000 11
open=$(q "SELECT count(*) FROM recon.mismatches WHERE status = 'open'")
check "the run filled the queue" test "$open" -gt 100

R() { run $RECON queue "$@"; }

# ---- help and usage ---------------------------------------------------------
R --help;                        check "queue --help exits 0" test $rc -eq 0
for s in list show claim resolve snooze note reopen export; do check "help names $s" has "$out" "recon queue $s"; done
R list --help;                   check "queue list --help exits 0" test $rc -eq 0
R frob;                          check "unknown subcommand exits 2" test $rc -eq 2
R list --status nope;            check "bad --status exits 2" test $rc -eq 2
check "bad --status is named" has "$err" "status 'nope'"
R list --severity urgent;        check "bad --severity exits 2" test $rc -eq 2
R list --page 0;                 check "page 0 exits 2" test $rc -eq 2
R list --page-size 501;          check "page size over 500 exits 2" test $rc -eq 2
R list --older-than soon;        check "bad --older-than exits 2" test $rc -eq 2
R show abc;                      check "show with a bad id exits 2" test $rc -eq 2
R show 99999999;                 check "show of an unknown id exits 1" test $rc -eq 1

# ---- list: order, paging, totals --------------------------------------------
R list --page-size 25
check "list exits 0" test $rc -eq 0
pages=$(( (open + 24) / 25 ))
check "list says page 1 of N, total" has "$out" "page 1 of $pages, $open items"
R list --format json --page-size 25 --page 2
check "json list exits 0" test $rc -eq 0
jq_ids=$(grep -o '"mismatch_id": [0-9]*' <<<"$out" | awk '{ print $2 }' | tr '\n' ' ')
sql_ids=$(q "SELECT mismatch_id FROM recon.mismatches WHERE status IN ('open','in_review')
             ORDER BY severity, recon.minor_to_major(amount_minor, currency) DESC, opened_at, mismatch_id
             LIMIT 25 OFFSET 25" | tr '\n' ' ')
check "page 2 is rows 26-50 worst first (severity, money in major units, age)" test "$jq_ids" = "$sql_ids"
check "json has the total" has "$out" "\"total\": $open"
check "json has the page count" has "$out" "\"pages\": $pages"
crit=$(q "SELECT count(*) FROM recon.mismatches WHERE status = 'open' AND severity = 'critical'")
R list --severity critical --format json
check "severity filter total" has "$out" "\"total\": $crit"
usd=$(q "SELECT count(*) || ' ' || sum(amount_minor) FROM recon.mismatches WHERE status = 'open' AND currency = 'USD' AND severity = 'high'")
R list --currency usd --format json --page-size 1
check "currency filter is case-insensitive, totals per severity+currency" \
    grep -qE "\"severity\": \"high\",[[:space:]]*\"currency\": \"USD\",[[:space:]]*\"count\": ${usd% *},[[:space:]]*\"amount_minor\": ${usd#* }" <<<"$(tr -d '\n' <<<"$out" | sed 's/  */ /g')"
kind=duplicate_charge
nk=$(q "SELECT count(*) FROM recon.mismatches WHERE status = 'open' AND kind = '$kind'")
R list --kind $kind --format csv --page-size 500
check "csv list has a header and one line per item" test "$(wc -l <<<"$out")" -eq $((nk + 1))
some=$(q "SELECT order_id FROM recon.mismatches ORDER BY mismatch_id LIMIT 1")
R list --search "${some:4:6}" --format json
check "search by part of an order id finds it" has "$out" "\"order_id\": \"$some\""
R list --older-than 3650d
check "older-than 10 years finds nothing" has "$out" "0 items"

# ---- show ------------------------------------------------------------------
id=$(q "SELECT mismatch_id FROM recon.mismatches WHERE status = 'open' AND kind = 'charged_not_delivered' ORDER BY mismatch_id LIMIT 1")
R show "$id"
check "show exits 0" test $rc -eq 0
check "show has the sentence" has "$out" "$(q "SELECT summary FROM recon.mismatches WHERE mismatch_id = $id")"
check "show has the next step" has "$out" "Next: "
check "show puts the three sources side by side" has "$out" "PROCESSOR"
check "show lists the processor charge" grep -q "charge succeeded" <<<"$out"
check "show has the history (opened by recon)" grep -qE "recon +opened" <<<"$out"
R show "$id" --format json
check "show json has evidence and history" bash -c "grep -q '\"evidence\"' <<<'$out' && grep -q '\"history\"' <<<'$out'"

# ---- actions and transitions ------------------------------------------------
R claim "$id" --actor alice;     check "claim exits 0" test $rc -eq 0
check "claimed: in_review, assigned" test "$(q "SELECT status || ' ' || assignee FROM recon.mismatches WHERE mismatch_id = $id")" = "in_review alice"
R claim "$id" --actor bob;       check "claim of an item in review exits 1" test $rc -eq 1
check "the refusal says who has it" has "$err" "in review by alice"
R note "$id" "Called the warehouse" --actor alice; check "note exits 0" test $rc -eq 0
R snooze "$id" --until 2h --actor alice;           check "snooze exits 0" test $rc -eq 0
check "snoozed about 2 hours" test "$(q "SELECT snoozed_until BETWEEN now() + interval '119 minutes' AND now() + interval '121 minutes' FROM recon.mismatches WHERE mismatch_id = $id")" = t
R snooze "$id" --until 2001-01-01 --actor alice;   check "snooze into the past exits 2" test $rc -eq 2
R resolve "$id" --resolution auto_resolved --actor alice; check "people cannot auto_resolve" test $rc -eq 2
R resolve "$id" --actor alice;   check "resolve needs --resolution" test $rc -eq 2
R resolve "$id" --resolution shipped --note "tracking 1Z999" --actor alice
check "resolve exits 0" test $rc -eq 0
check "resolved as shipped" test "$(q "SELECT status || ' ' || resolution FROM recon.mismatches WHERE mismatch_id = $id")" = "resolved shipped"
R resolve "$id" --resolution refunded --actor bob
check "resolving a resolved item exits 1" test $rc -eq 1
check "the refusal names the resolver" has "$err" "last changed by alice"
R reopen "$id" --note "customer says not received" --actor bob; check "reopen exits 0" test $rc -eq 0
R claim "$id" --actor recon;     check "actor 'recon' is refused" test $rc -eq 2
R claim "$id" --actor carol --expect in_review; check "--expect a status it is not: exits 1" test $rc -eq 1
hist=$(q "SELECT string_agg(action || ':' || actor || ':' || coalesce(from_status,'') || '>' || coalesce(to_status,''), ' ' ORDER BY at, history_id) FROM recon.mismatch_history WHERE mismatch_id = $id")
check "history is every change in order" test "$hist" = "opened:recon:>open claimed:alice:open>in_review note:alice:in_review>in_review snoozed:alice:in_review>snoozed resolved:alice:snoozed>resolved reopened:bob:resolved>open"
check "history notes kept" test "$(q "SELECT note FROM recon.mismatch_history WHERE mismatch_id = $id AND action = 'resolved'")" = "shipped: tracking 1Z999"
R show "$id"
check "show has the human history" grep -qE "alice +resolved" <<<"$out"

# ---- two reviewers at once --------------------------------------------------
for i in $(seq 1 10); do
    cid=$(q "SELECT mismatch_id FROM recon.mismatches WHERE status = 'open' ORDER BY mismatch_id OFFSET $((i * 3)) LIMIT 1")
    $RECON queue resolve "$cid" --resolution written_off --actor alice >"$work/a.out" 2>&1 & pa=$!
    $RECON queue resolve "$cid" --resolution refunded --actor bob >"$work/b.out" 2>&1 & pb=$!
    wait $pa; ra=$?; wait $pb; rb=$?
    wins=$(( (ra == 0) + (rb == 0) ))
    [ $wins -eq 1 ] || break
    [ $((ra + rb)) -eq 1 ] || break
    n=$(q "SELECT count(*) FROM recon.mismatch_history WHERE mismatch_id = $cid AND action = 'resolved'")
    [ "$n" = 1 ] || break
    res=$(q "SELECT resolution FROM recon.mismatches WHERE mismatch_id = $cid")
    winner=$([ $ra -eq 0 ] && echo written_off || echo refunded)
    [ "$res" = "$winner" ] || break
done
check "concurrent resolves: exactly one wins, one history entry, row agrees (10 rounds)" test "$i$wins" = 101
check "the loser is told who won" grep -q "last changed by" "$work/a.out" "$work/b.out"

# ---- a snooze ends by itself ------------------------------------------------
sid=$(q "SELECT mismatch_id FROM recon.mismatches WHERE status = 'open' ORDER BY mismatch_id DESC LIMIT 1")
R snooze "$sid" --until 2s --actor alice
check "short snooze exits 0" test $rc -eq 0
R list --status snoozed --format json
check "listed as snoozed" has "$out" "\"mismatch_id\": $sid"
sleep 2.5
R list --status open --search "$(q "SELECT order_id FROM recon.mismatches WHERE mismatch_id = $sid")" --format json
check "after its time it is open again" has "$out" "\"mismatch_id\": $sid"
check "the snooze's end is in the history, by recon" test "$(q "SELECT actor || ' ' || to_status FROM recon.mismatch_history WHERE mismatch_id = $sid AND action = 'snooze_ended'")" = "recon open"

# ---- export -----------------------------------------------------------------
R export --status all
check "export exits 0" test $rc -eq 0
total=$(q "SELECT count(*) FROM recon.mismatches")
check "export has every item and a header" test "$(grep -c '^[0-9]' <<<"$out")" -eq "$total"
check "export header" test "$(head -1 <<<"$out")" = "mismatch_id,order_id,kind,severity,status,resolution,amount_minor,currency,amount,opened_at,assignee,summary,next_step"
check "export amounts use the currency's exponent" grep -qE ',JPY,[0-9]+,' <<<"$out"
# Text from outside cannot become a spreadsheet formula.
q "UPDATE recon.mismatches SET order_id = '=HYPERLINK(\"x\")' WHERE mismatch_id = $sid" >/dev/null
R export --status all --search HYPERLINK
check "a formula-like order id is exported as text" has "$out" "'=HYPERLINK"
R export --format json;          check "export only does csv" test $rc -eq 2

summary queue

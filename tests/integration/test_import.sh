#!/usr/bin/env bash
# test_import.sh — `recon import` for real: generated Stripe, Adyen and
# canonical files into a fresh database under the sandbox, idempotence,
# equivalence of the report formats with the canonical file, and every
# kind of bad row kept with file, line, field and reason.
set -u
RECON=$1
GEN=$2
work=$(mktemp -d /tmp/recon-import-test.XXXXXX)
dbs=()
. "$(dirname "$0")/lib.sh"
trap 'drop_dbs; rm -rf "$work"' EXIT
: "${RECON_DATABASE_URL:?run under recon sandbox (./dev test does)}"
rows() { echo $(($(wc -l <"$1") - 1)); }

$GEN --orders 20000 --seed 11 --out "$work/g" >/dev/null || { echo "FAIL generator"; exit 1; }
G=$work/g

# ---- canonical files into one database ------------------------------------
newdb "imp_a_$$"; A=$url
run env RECON_DATABASE_URL="$A" $RECON import processor --format canonical "$G/processor.csv"
check "canonical processor import exits 0" test $rc -eq 0
check "all canonical rows imported" test "$(q 'SELECT count(*) FROM recon.processor_events')" -eq "$(rows "$G/processor.csv")"
check "counts printed" has "$out" "$(rows "$G/processor.csv") rows: $(rows "$G/processor.csv") imported, 0 updated, 0 duplicate, 0 skipped, 0 rejected"
run env RECON_DATABASE_URL="$A" $RECON import processor --format canonical "$G/processor.csv"
check "re-import exits 0" test $rc -eq 0
check "re-import is all duplicates" has "$out" "0 imported, 0 updated, $(rows "$G/processor.csv") duplicate"
check "re-import changed nothing" test "$(q 'SELECT count(*) FROM recon.processor_events')" -eq "$(rows "$G/processor.csv")"

run env RECON_DATABASE_URL="$A" $RECON import ledger --format canonical "$G/ledger.csv"
check "ledger import exits 0" test $rc -eq 0
check "ledger rows booked" test "$(q 'SELECT count(*) FROM ledger.ledger_order_entries')" -eq "$(rows "$G/ledger.csv")"
fsum=$(tail -n +2 "$G/ledger.csv" | awk -F, '{s += $4} END {print s}')
check "ledger amounts round-trip" test "$(q 'SELECT sum(amount_minor) FROM ledger.ledger_order_entries')" = "$fsum"
check "books balance" test "$(q 'SELECT sum(debit_minor) - sum(credit_minor) FROM ledger.postings')" -eq 0
run env RECON_DATABASE_URL="$A" $RECON import ledger --format canonical "$G/ledger.csv"
check "ledger re-import all duplicates" has "$out" "0 imported, 0 updated, $(rows "$G/ledger.csv") duplicate"

run env RECON_DATABASE_URL="$A" $RECON import fulfillment --format canonical "$G/fulfillment.csv"
check "fulfillment import exits 0" test $rc -eq 0
check "fulfillment rows stored" test "$(q 'SELECT count(*) FROM fulfillment.fulfillment_orders')" -eq "$(rows "$G/fulfillment.csv")"
run env RECON_DATABASE_URL="$A" $RECON import fulfillment --format canonical "$G/fulfillment.csv"
# The planner needs statistics for a run right after an import (without
# them a run read each batch by sequential scan, 11x slower at 200k).
check "sizeable imports leave statistics for the planner" test "$(q "SELECT count(*) FROM pg_stat_user_tables WHERE relid IN ('recon.processor_events'::regclass, 'ledger.journal_entries'::regclass, 'ledger.postings'::regclass, 'fulfillment.orders'::regclass) AND last_analyze IS NOT NULL")" -eq 4
check "fulfillment re-import changes nothing" has "$out" "0 imported, 0 updated, $(rows "$G/fulfillment.csv") duplicate"

# ---- the same money through the Stripe and Adyen reports -----------------
newdb "imp_b_$$"; B=$url
run env RECON_DATABASE_URL="$B" $RECON import processor --format stripe "$G/stripe.csv"
check "stripe import exits 0" test $rc -eq 0
check "stripe fees and payouts skipped by category" grep -qE "skipped \\(.*fee [0-9]+.*payout [0-9]+|skipped \\(.*payout [0-9]+.*fee [0-9]+" <<<"$out"
run env RECON_DATABASE_URL="$B" $RECON import processor --format adyen "$G/adyen.csv"
check "adyen import exits 0" test $rc -eq 0
run env RECON_DATABASE_URL="$B" $RECON import processor --format canonical --processor other "$G/processor_other.csv"
check "other import exits 0" test $rc -eq 0
# Two imports of the same report at once: one stores the events, the other
# waits for it and finds them all there (no error, nothing twice).
newdb "imp_par_$$"; P=$url
RECON_DATABASE_URL="$P" $RECON import processor --format stripe "$G/stripe.csv" >"$work/c1" 2>&1 & c1=$!
RECON_DATABASE_URL="$P" $RECON import processor --format stripe "$G/stripe.csv" >"$work/c2" 2>&1 & c2=$!
wait $c1; r1=$?; wait $c2; r2=$?
check "two imports of one file at once both exit 0 ($r1 $r2)" test "$r1$r2" = 00
n_p=$(q 'SELECT count(*) FROM recon.processor_events')
url=$B; n_b=$(q "SELECT count(*) FROM recon.processor_events WHERE processor = 'stripe'")
check "... and store each event once ($n_p of $n_b)" test "$n_p" -eq "$n_b"
check "... one imported them, the other found duplicates" bash -c "cat '$work/c1' '$work/c2' | grep -c ' 0 imported, 0 updated, $n_b duplicate' | grep -qx 1"
money="SELECT order_id, kind, sum(amount_minor), min(currency), min(occurred_at), count(*)
         FROM recon.processor_events WHERE status = 'succeeded'
        GROUP BY 1, 2 ORDER BY order_id COLLATE \"C\", kind"
url=$A; q "$money" >"$work/a.txt"
url=$B; q "$money" >"$work/b.txt"
check "stripe+adyen+other equal canonical, order by order" cmp -s "$work/a.txt" "$work/b.txt"
check "equivalence compared real data" test "$(wc -l <"$work/a.txt")" -gt 20000

# ---- first load: keys built after the rows, same result as a merge -------
# Into an empty table the rows are COPYed straight in and the keys built
# after (common/import.c). A file repeating transaction ids — once with the
# same facts (a duplicate), once with others (a reject) — must come out
# exactly as it does merged into a table that already holds an event.
cat >"$work/rep.csv" <<'CSV'
txn_id,order_id,payment_ref,kind,status,amount_minor,currency,occurred_at
r1,ord_r1,ch_r1,charge,succeeded,100,USD,2026-11-03T10:00:00Z
r2,ord_r2,ch_r2,charge,succeeded,200,USD,2026-11-03T10:01:00Z
r1,ord_r1,ch_r1,charge,succeeded,100,USD,2026-11-03T10:00:00Z
r2,ord_r2,ch_r2,charge,succeeded,250,USD,2026-11-03T10:01:00Z
r3,ord_r3,ch_r3,refund,succeeded,50,EUR,2026-11-03T10:02:00Z
CSV
printf 'txn_id,order_id,payment_ref,kind,status,amount_minor,currency,occurred_at\nz0,ord_z0,,charge,succeeded,1,USD,2026-11-01T00:00:00Z\n' >"$work/z0.csv"
keys="SELECT string_agg(indexdef, ' ' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'recon' AND tablename = 'processor_events'"
stored="SELECT string_agg(txn_id || ':' || amount_minor || currency || ':' || source_line, ' ' ORDER BY txn_id) FROM recon.processor_events WHERE txn_id LIKE 'r%'"
kept="SELECT string_agg(line || ':' || field || ':' || reason, ' | ' ORDER BY line) FROM recon.import_rejects"
newdb "imp_fl_$$"; FL=$url
keys_before=$(q "$keys")
run env RECON_DATABASE_URL="$FL" $RECON import processor --format canonical "$work/rep.csv"
fl_rc=$rc fl_out=$out fl_err=$err
check "a first load says so" has "$fl_out" "first load)"
check "a first load rebuilds every key as it was" test "$(q "$keys")" = "$keys_before"
check "... the primary key is a constraint again" test "$(q "SELECT contype FROM pg_constraint WHERE conrelid = 'recon.processor_events'::regclass AND conname = 'processor_events_pkey'")" = p
fl_stored=$(q "$stored") fl_kept=$(q "$kept")
newdb "imp_mg_$$"; MG=$url
RECON_DATABASE_URL="$MG" $RECON import processor --format canonical "$work/z0.csv" >/dev/null 2>&1
run env RECON_DATABASE_URL="$MG" $RECON import processor --format canonical "$work/rep.csv"
check "into a table holding a row the import merges" bash -c '! grep -qF "first load" <<<"$1"' _ "$out"
check "repeats: first load and merge exit alike ($fl_rc $rc)" test "$fl_rc" = "$rc" -a "$rc" = 1
check "repeats: the same counts" test "${fl_out%% (import*}" = "${out%% (import*}"
check "... which are right" has "$out" "5 rows: 3 imported, 0 updated, 1 duplicate, 0 skipped, 1 rejected"
check "repeats: the same rows stored" test "$fl_stored" = "$(q "$stored")"
check "... the first line of each" test "$fl_stored" = "r1:100USD:2 r2:200USD:3 r3:50EUR:6"
check "repeats: the same reject kept" test "$fl_kept" = "$(q "$kept")"
check "... naming line and field" test "$fl_kept" = "5:txn_id:transaction r2 appears earlier in this file with different values"
check "... with the line's facts as read" test "$(q "SELECT raw FROM recon.import_rejects")" = "r2,ord_r2,charge,succeeded,250,USD,2026-11-03 10:01:00+00"
check "repeats: the same message" test "$fl_err" = "$err"
url=$FL
run env RECON_DATABASE_URL="$FL" $RECON import processor --format canonical "$work/rep.csv"
check "after a first load a re-import merges: all duplicates" has "$out" "5 rows: 0 imported, 0 updated, 4 duplicate"
# A first load needs the table to itself at once: a reader holding it
# (a worker's read, here psql) makes the import merge instead of waiting.
newdb "imp_lk_$$"; LK=$url
psql -q "$LK" -c "BEGIN" -c "LOCK TABLE recon.processor_events IN ACCESS SHARE MODE" -c "SELECT pg_sleep(30)" >/dev/null 2>&1 & holder=$!
for _ in $(seq 100); do
    [ "$(q "SELECT count(*) FROM pg_locks WHERE relation = 'recon.processor_events'::regclass AND granted")" -gt 0 ] && break
    sleep 0.1
done
run env RECON_DATABASE_URL="$LK" $RECON import processor --format canonical "$work/rep.csv"
q "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE relation = 'recon.processor_events'::regclass AND pid <> pg_backend_pid()" >/dev/null
wait $holder 2>/dev/null
check "a reader holding the table: the import merges, does not wait" bash -c '[ "$1" = 1 ] && ! grep -qF "first load" <<<"$2" && grep -qF "3 imported" <<<"$2"' _ "$rc" "$out"

# ---- bad rows: kept, named, the good ones imported ------------------------
newdb "imp_c_$$"; C=$url
printf '\xef\xbb\xbf' >"$work/bad.csv"
cat >>"$work/bad.csv" <<'CSV'
balance_transaction_id,created_utc,reporting_category,gross,currency,customer_facing_amount,customer_facing_currency,charge_id,payment_metadata[order_id],description
txn_ok1,2026-11-03 14:22:01,charge,42.00,usd,42.00,usd,ch_1,ord_1,"fine, with a comma"
txn_bad_amount,2026-11-03 14:22:01,charge,42.001,usd,42.001,usd,ch_2,ord_2,too precise
txn_bad_currency,2026-11-03 14:22:01,charge,42.00,usd,42.00,dollars,ch_3,ord_3,
txn_bad_date,2026-13-03 14:22:01,charge,42.00,usd,42.00,usd,ch_4,ord_4,
txn_no_order,2026-11-03 14:22:01,charge,42.00,usd,42.00,usd,ch_5,,
txn_fee,2026-11-03 14:22:01,fee,-0.30,usd,,,,,stripe fee
txn_new_kind,2026-11-03 14:22:01,climate_contribution,-0.10,usd,,,,,
txn_jpy,2026-11-03 14:22:01,charge,30.00,usd,4200,jpy,ch_6,ord_6,"multi
line"
txn_jpy_bad,2026-11-03 14:22:01,charge,30.00,usd,4200.5,jpy,ch_7,ord_7,
txn_ok2,2026-11-03 14:22:01,refund,-10.00,usd,-10.00,usd,ch_1,ord_1,
txn_quote,2026-11-03 14:22:01,charge,1.00,usd,1.00,usd,ch_8,ord_8,"unterminated
txn_ok3,2026-11-04 00:00:00,charge,5.00,eur,5.00,eur,ch_9,ord_9,after the stray quote
CSV
printf 'txn_utf8,2026-11-03 14:22:01,charge,1.00,usd,1.00,usd,ch_10,ord_\xff,bad bytes\r\n' >>"$work/bad.csv"
run env RECON_DATABASE_URL="$C" $RECON import processor --format stripe "$work/bad.csv"
check "bad rows make the import exit 1" test $rc -eq 1
check "precision reject names line and field" has "$err" "$work/bad.csv:3: customer_facing_amount: '42.001'"
check "precision reason is plain" has "$err" "USD, 2 decimal places"
check "currency reject" has "$err" "$work/bad.csv:4: customer_facing_currency: 'dollars' is not an ISO 4217 currency code"
check "date reject" has "$err" "$work/bad.csv:5: created_utc: '2026-13-03 14:22:01' is not an ISO 8601 date-time"
check "missing order id reject" has "$err" "$work/bad.csv:6: payment_metadata[order_id]: order money (charge) with no order id"
check "zero-decimal currency reject" has "$err" "$work/bad.csv:11: customer_facing_amount: '4200.5'"
check "unterminated quote reject" has "$err" "$work/bad.csv:13: "
check "invalid UTF-8 reject" has "$err" "$work/bad.csv:15: "
check "good rows imported" test "$(q "SELECT string_agg(txn_id || ':' || amount_minor || currency, ' ' ORDER BY txn_id) FROM recon.processor_events")" = "txn_jpy:4200JPY txn_ok1:4200USD txn_ok2:1000USD txn_ok3:500EUR"
check "fee and unknown category skipped, counted" has "$out" "skipped (fee 1, climate_contribution 1)"
check "rejects kept with line and field" test "$(q "SELECT string_agg(line || ':' || coalesce(field, '-'), ' ' ORDER BY line) FROM recon.import_rejects")" = "3:customer_facing_amount 4:customer_facing_currency 5:created_utc 6:payment_metadata[order_id] 11:customer_facing_amount 13:- 15:-"
check "raw row kept for review" test "$(q "SELECT raw FROM recon.import_rejects WHERE line = 3")" = "txn_bad_amount,2026-11-03 14:22:01,charge,42.001,usd,42.001,usd,ch_2,ord_2,too precise"
check "invalid bytes kept visibly" has "$(q "SELECT raw FROM recon.import_rejects WHERE line = 15")" 'ord_\xFF'
check "import row records counts" test "$(q 'SELECT rows_imported, rows_rejected, rows_skipped FROM recon.imports')" = "4|7|2"

# conflicting re-import of a transaction id is rejected, not overwritten
sed 's/^txn_ok1,\(.*\),42.00,usd,42.00,usd/txn_ok1,\1,43.00,usd,43.00,usd/' "$work/bad.csv" | head -3 >"$work/conflict.csv"
run env RECON_DATABASE_URL="$C" $RECON import processor --format stripe "$work/conflict.csv"
check "conflict exits 1" test $rc -eq 1
check "conflict explained" has "$err" "transaction txn_ok1 was already imported"
check "stored value unchanged" test "$(q "SELECT amount_minor FROM recon.processor_events WHERE txn_id = 'txn_ok1'")" -eq 4200

# a pending event that settles moves on (canonical)
printf 'txn_id,order_id,payment_ref,kind,status,amount_minor,currency,occurred_at\np1,ord_p,ch_p,charge,pending,100,USD,2026-11-03T10:00:00Z\n' >"$work/p1.csv"
printf 'txn_id,order_id,payment_ref,kind,status,amount_minor,currency,occurred_at\np1,ord_p,ch_p,charge,succeeded,100,USD,2026-11-03T11:00:00Z\n' >"$work/p2.csv"
run env RECON_DATABASE_URL="$C" $RECON import processor --format canonical "$work/p1.csv" "$work/p2.csv"
check "pending then settled" has "$out" "p2.csv: 1 rows: 0 imported, 1 updated"
check "status moved on" test "$(q "SELECT status FROM recon.processor_events WHERE txn_id = 'p1'")" = succeeded

# Adyen: decimal comma and time zones
cat >"$work/adyen.csv" <<'CSV'
Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method,Creation Date,TimeZone,Type,Modification Reference,Gross Currency,Gross Debit (GC),Gross Credit (GC)
Co,Shop,PSP1,ord_a1,visa,2026-11-03 15:22:01,CET,Settled,PSP1,EUR,,"42,50"
Co,Shop,PSP1,ord_a1,visa,2026-11-04 09:00:00,UTC+2,Refunded,MOD1,EUR,"2,50",
Co,Shop,,,,2026-11-04 09:00:00,CET,Fee,,EUR,"0,12",
Co,Shop,PSP2,ord_a2,visa,2026-11-04 09:00:00,IST,Settled,PSP2,EUR,,"1,00"
Co,Shop,PSP3,ord_a3,visa,2026-11-04 09:00:00,CET,Settled,PSP3,KWD,,"1,2345"
CSV
run env RECON_DATABASE_URL="$C" $RECON import processor --format adyen --decimal-mark , "$work/adyen.csv"
check "adyen with bad rows exits 1" test $rc -eq 1
check "CET converted to UTC" test "$(q "SELECT occurred_at FROM recon.processor_events WHERE txn_id = 'PSP1'")" = "2026-11-03 14:22:01+00"
check "UTC+2 converted" test "$(q "SELECT occurred_at FROM recon.processor_events WHERE txn_id = 'MOD1'")" = "2026-11-04 07:00:00+00"
check "decimal comma amounts" test "$(q "SELECT string_agg(kind || amount_minor, ' ' ORDER BY txn_id) FROM recon.processor_events WHERE processor = 'adyen'")" = "refund250 charge4250"
check "ambiguous zone rejected" has "$err" "adyen.csv:5: TimeZone: 'IST' is not a time zone recon can place unambiguously"
check "three-decimal precision rejected" has "$err" "adyen.csv:6: Gross Credit (GC): '1,2345'"

# wrong format, missing file
run env RECON_DATABASE_URL="$C" $RECON import processor --format stripe "$G/adyen.csv"
check "wrong format exits 1" test $rc -eq 1
check "wrong format names the missing column" has "$err" "adyen.csv:1: balance_transaction_id: the header has no column 'balance_transaction_id' (is --format stripe right for this file?)"
run env RECON_DATABASE_URL="$C" $RECON import processor --format stripe "$work/nope.csv"
check "missing file exits 3" test $rc -eq 3
check "missing file named" has "$err" "nope.csv: No such file or directory"
run $RECON import processor --format paypal x.csv
check "unknown format exits 2" test $rc -eq 2

# Shopify fulfillment export
cat >"$work/shopify.csv" <<'CSV'
Name,Email,Financial Status,Fulfillment Status,Fulfilled at,Created at,Cancelled at,Lineitem name
#1001,a@example.com,paid,fulfilled,2026-11-03 14:22:01 +0100,2026-11-02 10:00:00 +0100,,Mug
#1001,,,,,,,Spoon
#1002,b@example.com,refunded,unfulfilled,,2026-11-02 10:00:00 +0100,2026-11-02 12:00:00 +0100,Hat
#1003,c@example.com,paid,partial,,2026-11-02 10:00:00 +0100,,Hat
CSV
run env RECON_DATABASE_URL="$C" $RECON import fulfillment --format shopify "$work/shopify.csv"
check "shopify import exits 0" test $rc -eq 0
check "shopify line items skipped" has "$out" "skipped (line_item 1)"
check "shopify statuses mapped" test "$(q "SELECT string_agg(order_id || ':' || status, ' ' ORDER BY order_id) FROM fulfillment.orders")" = "#1001:shipped #1002:cancelled #1003:in_progress"
check "shopify shipped_at in UTC" test "$(q "SELECT shipped_at FROM fulfillment.orders WHERE order_id = '#1001'")" = "2026-11-03 13:22:01+00"

# Found by fuzz_import: a time PostgreSQL cannot store (year 0, or an Adyen
# zone carrying 9999-12-31 into year 10000) aborted the whole import with a
# raw COPY error; a DEL byte or a cut UTF-8 character reached the message.
printf 'txn_id,order_id,payment_ref,kind,status,amount_minor,currency,occurred_at\nty1,oy1,,charge,succeeded,100,USD,2026-11-01T10:00:00Z\nty2,oy2,,charge,succeeded,100,USD,0000-06-01T00:00:00Z\nty3,oy3,,charge,succeeded,100,USD,0001-01-01T00:30:00+01:00\nty4,oy4,,charge,succeeded,100,USD,20\x7f6-11-01\nty5,oy5,,charge,succeeded,100,USD,ééééééééééééééééééééé\n' >"$work/years.csv"
run env RECON_DATABASE_URL="$C" $RECON import processor --format canonical "$work/years.csv"
check "year 0 rows are rejected, not a failed import (exit 1)" test $rc -eq 1
check "the good row of that file is imported" has "$out" "5 rows: 1 imported"
check "year 0 reject names line and field" has "$err" "years.csv:3: occurred_at: '0000-06-01T00:00:00Z' is not an ISO 8601 date-time"
check "an offset into year 0 is rejected" has "$err" "years.csv:4: occurred_at: '0001-01-01T00:30:00+01:00'"
check "DEL shown as ? in the reason" has "$err" "years.csv:5: occurred_at: '20?6-11-01'"
check "a long field is cut on a character boundary" has "$err" "years.csv:6: occurred_at: 'éééééééééééééééééééé…'"
cat >"$work/adyen_end.csv" <<'CSV'
Merchant Reference,Psp Reference,Type,Creation Date,TimeZone,Gross Currency,Gross Debit (GC),Gross Credit (GC)
oz1,pz1,Settled,9999-12-31 23:00:00,EST,USD,,1.00
CSV
run env RECON_DATABASE_URL="$C" $RECON import processor --format adyen "$work/adyen_end.csv"
check "an Adyen zone carrying the time past 9999 is a reject (exit 1)" test $rc -eq 1
check "that reject names line and field" has "$err" "adyen_end.csv:2: Creation Date: out of range in time zone EST"

summary import

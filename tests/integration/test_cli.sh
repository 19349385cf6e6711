#!/usr/bin/env bash
# test_cli.sh — the recon and recon-gen command lines, run for real against
# the sandbox PostgreSQL (RECON_DATABASE_URL): exit codes, messages that
# name where a bad value came from, idempotent migrations, JSON logs,
# deterministic generation and a demo that cleans up after itself.
set -u
RECON=$1
GEN=$2
work=$(mktemp -d /tmp/recon-cli-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"

: "${RECON_DATABASE_URL:?run under recon sandbox (./dev test does)}"

# --help everywhere, exit 0, usage on stdout
for args in "--help" "db --help" "db migrate --help" "db status --help" "demo --help" \
            "sandbox --help" "config --help"; do
    run $RECON $args
    check "recon $args" test $rc -eq 0 -a -n "$out"
    check "recon $args prints usage" has "$out" "usage: recon"
done
run $RECON --version;          check "--version" has "$out" "recon 0."
run $RECON;                    check "no command exits 2" test $rc -eq 2
run $RECON frobnicate;         check "unknown command exits 2" test $rc -eq 2
check "unknown command named" has "$err" "unknown command 'frobnicate'"
run $RECON db migrate --only nope; check "unknown set exits 2" test $rc -eq 2

# configuration errors name their source and exit 2
run env RECON_GRACE_LEDGER=soon $RECON config
check "bad env value exits 2" test $rc -eq 2
check "bad env value names variable" has "$err" "RECON_GRACE_LEDGER: invalid value 'soon'"
run env RECON_DATABSE_URL=x $RECON config
check "typo in env var is an error" has "$err" "unknown setting 'RECON_DATABSE_URL'"
printf 'log_format = json\ngrace_cancel = 1.5h\n' >"$work/recon.conf"
run $RECON --config "$work/recon.conf" config
check "bad config file exits 2" test $rc -eq 2
check "bad config file names file:line" has "$err" "$work/recon.conf:2: invalid value '1.5h'"
printf 'grace_cancel = 12h\n' >"$work/ok.conf"
run env RECON_CONFIG="$work/ok.conf" RECON_GRACE_LEDGER=6h $RECON config
check "config shows file source" has "$out" "grace_cancel = 12h  # $work/ok.conf:1"
check "config shows env source" has "$out" "grace_ledger = 6h  # RECON_GRACE_LEDGER"
run $RECON --log-format yaml config
check "bad --log-format exits 2" test $rc -eq 2

# migrations on a fresh database
db="cli_$$"
psql -q "$RECON_DATABASE_URL" -c "CREATE DATABASE $db" >/dev/null
url="${RECON_DATABASE_URL/\/recon\?//$db?}"
run env RECON_DATABASE_URL="$url" $RECON db status
check "status on empty db exits 1" test $rc -eq 1
check "status says behind" has "$out" "behind"
run env RECON_DATABASE_URL="$url" $RECON --log-format json db migrate --reference
check "migrate exits 0" test $rc -eq 0
check "migrate reports version" grep -qE "^recon +version [0-9]+ \(([0-9]+) applied now\)" <<<"$out"
check "json log line per migration" test "$(grep -c '^{"ts":.*"event":"migrate.applied"' <<<"$err")" -ge 3
check "only json on stderr" test "$(grep -vc '^{"ts":' <<<"$err")" -eq 0
run env RECON_DATABASE_URL="$url" $RECON db migrate --reference
check "second migrate exits 0" test $rc -eq 0
check "second migrate applies nothing" test "$(grep -c '(0 applied now)' <<<"$out")" -eq 3
check "second migrate logs nothing" test -z "$err"
run env RECON_DATABASE_URL="$url" $RECON db status
check "status after migrate exits 0" test $rc -eq 0
psql -q "$RECON_DATABASE_URL" -c "DROP DATABASE $db WITH (FORCE)" >/dev/null

run env RECON_DATABASE_URL="postgresql:///x?host=/nonexistent" $RECON db migrate
check "unreachable db exits 3" test $rc -eq 3
check "unreachable db explained" has "$err" "cannot connect to PostgreSQL"

# the generator: help, argument errors, determinism, every label present
run $GEN --help;               check "recon-gen --help" test $rc -eq 0 -a -n "$out"
run $GEN --orders x --seed 1 --out "$work/g"; check "recon-gen bad --orders exits 2" test $rc -eq 2
run $GEN --orders 3000 --seed 7 --out "$work/g1"; check "recon-gen runs" test $rc -eq 0
run $GEN --orders 3000 --seed 7 --out "$work/g2"
same=1
for f in "$work"/g1/*; do cmp -s "$f" "$work/g2/$(basename "$f")" || same=0; done
check "recon-gen is deterministic" test $same -eq 1
run $GEN --orders 3000 --seed 8 --out "$work/g3"
check "another seed differs" test "$(cmp -s "$work/g1/truth.csv" "$work/g3/truth.csv"; echo $?)" -ne 0
labels=$(tail -n +2 "$work/g1/truth.csv" | cut -d, -f2 | tr '|' '\n' | sort -u | tr '\n' ' ')
for l in in_sync refunded_in_full cancelled_clean awaiting_fulfillment awaiting_ledger \
         awaiting_processor duplicate_charge overcharged charged_after_cancel \
         charged_not_delivered dispute_open undercharged delivered_not_charged \
         refunded_but_shipped missing_in_ledger missing_at_processor refund_not_in_ledger \
         refund_not_at_processor currency_mismatch; do
    check "truth has $l" has " $labels" " $l "
done
check "truth has one line per order" test "$(($(wc -l <"$work/g1/truth.csv") - 1))" -eq 3000

# the demo runs the whole loop in its own sandbox and leaves nothing behind
run $RECON demo --orders 2000 --no-serve   # step 9 (the web page until Ctrl-C) is test_readme.sh's
check "demo exits 0" test $rc -eq 0
check "demo imports through the importers" has "$out" "stripe.csv"
check "demo prints the queue" has "$out" "The mismatch queue:"
check "demo prints the five worst with sentences" has "$out" "The five worst:"
check "demo finishes cleanly" has "$out" "everything it started has stopped"
demo_dir=$(grep -o '/[^ ]*recon-sandbox-[A-Za-z0-9]*' <<<"$out" | head -1)
check "demo named its sandbox" test -n "$demo_dir"
check "demo removed its sandbox" test ! -e "$demo_dir"
# No pgrep (procps is not in the base image): scan /proc for a server still
# using the directory; "dat[a]" keeps the pattern from matching grep itself.
check "demo stopped its servers" test -z "$(grep -lE "$demo_dir/(pg/dat[a]|redis/redis[.]soc[k])" /proc/[0-9]*/cmdline 2>/dev/null || true)"

summary cli

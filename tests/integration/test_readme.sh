#!/usr/bin/env bash
# test_readme.sh — every command in README.md's ```sh blocks, run as written
# (with the build's binaries first on PATH) against the sandbox PostgreSQL,
# so the README cannot rot. Each command must match one rule below; a
# command no rule knows fails the test, so a new README command needs a new
# rule. The few that cannot run here (Docker, Kubernetes, the test command
# itself) are checked as far as this machine allows and say why.
#
#   test_readme.sh SRC_ROOT BUILD_DIR
set -u
SRC=$1
B=$2
RECON=$B/cli/recon
GEN=$B/tests/gen/recon-gen
work=$(mktemp -d /tmp/recon-readme-test.XXXXXX)
dbs=()
cluster=()
cleanup() {
    for p in "${cluster[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${cluster[@]}"; do wait "$p" 2>/dev/null; done
    drop_dbs
    rm -rf "$work"
}
trap cleanup EXIT
. "$(dirname "$0")/lib.sh"
: "${RECON_DATABASE_URL:?run under recon sandbox (./dev test does)}"
sandbox_url=$RECON_DATABASE_URL

export PATH="$B/cli:$B/broker:$B/worker:$B/web:$PATH"

# --- the README's commands -------------------------------------------------
# Lines of ```sh blocks; comments and blank lines dropped, trailing
# "# comment" stripped, backslash continuations joined.
mapfile -t cmds < <(awk '
    /^```sh[ \t]*$/ { inblock = 1; next }
    /^```/          { inblock = 0; next }
    !inblock        { next }
    { line = $0 }
    line ~ /^[ \t]*#/ || line ~ /^[ \t]*$/ { next }
    { sub(/[ \t]+#[^"\x27]*$/, "", line); sub(/[ \t]+$/, "", line) }
    line ~ /\\$/ { sub(/\\$/, "", line); held = held line; next }
    { print held line; held = "" }' "$SRC/README.md")
check "README has commands" test ${#cmds[@]} -ge 10

# Every command is claimed by exactly one rule; a rule is a regex and the
# step that exercises it. Unclaimed commands fail.
declare -A claimed=()
claim() { # claim REGEX — the README commands it covers (sets matched[])
    matched=()
    local c
    for c in "${cmds[@]}"; do
        if [[ $c =~ $1 ]]; then matched+=("$c"); claimed[$c]=1; fi
    done
    [ ${#matched[@]} -gt 0 ]
}
one() { # one REGEX — exactly one README command; sets cmd
    claim "$1" && [ ${#matched[@]} -eq 1 ] && cmd=${matched[0]}
}
readme_run() { # readme_run CMD — as written, in $work/files; sets rc out err
    (cd "$work/files" && bash -c "$1") >"$work/out" 2>"$work/err"; rc=$?
    out=$(cat "$work/out"); err=$(cat "$work/err")
}

# --- data the commands name ------------------------------------------------
newdb "readme_$$"
export RECON_DATABASE_URL="$url"
export RECON_BROKER_ENDPOINT="ipc://$work/broker.sock"
export RECON_BROKER_HTTP=off RECON_BATCH_SIZE=500
mkdir -p "$work/files"
# Four days up to today: the README's "yesterday to today" run has data.
from=$(date -u -d '4 days ago' +%F)
$GEN --orders 3000 --seed 7 --from "$from" --days 4 --out "$work/gen" >/dev/null
cp "$work/gen/stripe.csv" "$work/files/balance_change_from_activity.csv"
cp "$work/gen/processor_other.csv" "$work/files/events.csv"
cp "$work/gen/ledger.csv" "$work/files/entries.csv"
# Adyen with a decimal comma, the way a European account exports it.
awk -F, -v OFS=, 'NR > 1 { for (i = 1; i <= NF; i++)
                               if ($i ~ /^-?[0-9]+\.[0-9]+$/) { sub(/\./, ",", $i); $i = "\"" $i "\"" } }
                  { print }' "$work/gen/adyen.csv" >"$work/files/settlement_detail_report.csv"
# Shopify's orders export for the fulfillment file.
awk -F, 'NR == 1 { print "Name,Fulfillment Status,Fulfilled at,Cancelled at,Created at"; next }
         { st = $2 == "shipped" || $2 == "delivered" ? "fulfilled" : ($2 == "cancelled" ? "unfulfilled" : "unfulfilled")
           print $1 "," st "," ($2 == "shipped" || $2 == "delivered" ? $4 : "") "," ($2 == "cancelled" ? $3 : "") "," $3 }' \
    "$work/gen/fulfillment.csv" >"$work/files/orders_export.csv"

# --- finance ---------------------------------------------------------------
if one '^recon states$'; then
    readme_run "$cmd"
    check "README: $cmd" test $rc -eq 0
    for k in charged_not_delivered duplicate_charge overcharged refund_not_in_ledger \
             currency_mismatch in_sync awaiting_fulfillment; do
        check "recon states names $k" has "$out" "$k"
    done
else check "README shows recon states" false; fi

if claim '^recon import '; then
    for cmd in "${matched[@]}"; do
        readme_run "$cmd"
        check "README: $cmd (exit 0)" test $rc -eq 0
        check "README: $cmd imported rows" grep -qE '[1-9][0-9]* imported' <<<"$out$err"
    done
    check "imports filled the processor events" test "$(q 'SELECT count(*) > 1000 FROM recon.processor_events')" = t
else check "README shows recon import" false; fi

# --- SREs and schedulers: a local cluster, runs, cancel --------------------
if one '^recon-broker & recon-worker'; then
    # As written, in this shell, so their PIDs are ours to stop.
    pushd "$work/files" >/dev/null
    eval "$cmd" 2>>"$work/cluster.log"
    mapfile -t cluster < <(jobs -p)
    popd >/dev/null
    check "README: $cmd starts 3 processes" test ${#cluster[@]} -eq 3
else check "README shows a local cluster" false; fi

# The README's run ids are 42 and up, its mismatch ids 1042 and up: start
# the sequences there.
q "SELECT setval('recon.runs_run_id_seq', 40)" >/dev/null
q "SELECT setval('recon.mismatches_mismatch_id_seq', 1000)" >/dev/null
if one '^recon run --from 2026-11-01 --to 2026-11-08'; then
    # The generated window is the last four days; the README's dates are
    # an example, so the same command runs over the data's own window.
    to=$(date -u +%F)
    readme_run "${cmd/--from 2026-11-01 --to 2026-11-08/--from $from --to $to}"
    check "README: recon run --wait exits 1 (mismatches open)" test $rc -eq 1
    check "run 41 succeeded" test "$(q 'SELECT state FROM recon.runs WHERE run_id = 41')" = succeeded
    check "run 41 flagged mismatches" test "$(q 'SELECT count(*) > 0 FROM recon.mismatches')" = t
else check "README shows recon run --wait" false; fi

# Finance's queue commands, in the README's order, on what run 41 found.
if claim '^recon queue '; then
    for cmd in "${matched[@]}"; do
        readme_run "$cmd"
        check "README: $cmd (exit 0)" test $rc -eq 0
    done
    check "1042 went claimed, resolved, reopened" test "$(q "SELECT string_agg(action, ',' ORDER BY history_id) FROM recon.mismatch_history WHERE mismatch_id = 1042")" = "opened,claimed,resolved,reopened"
    check "1043 is snoozed with a note" test "$(q "SELECT status FROM recon.mismatches WHERE mismatch_id = 1043")" = snoozed
    check "queue.csv has every item" test "$(grep -c '^[0-9]' "$work/files/queue.csv")" -eq "$(q 'SELECT count(*) FROM recon.mismatches')"
else check "README shows recon queue" false; fi

# Users and the web page: the password arrives on standard input, as the
# README says; recon-web as written (on a free port: RECON_WEB_LISTEN).
if claim '^recon users add '; then
    for cmd in "${matched[@]}"; do
        readme_run "echo 'a long demo password' | $cmd"
        check "README: $cmd (exit 0)" test $rc -eq 0
    done
else check "README shows recon users add" false; fi
if one '^recon-web$'; then
    (cd "$work/files" && RECON_WEB_LISTEN=127.0.0.1:0 exec $cmd --log-format json) 2>"$work/web.log" &
    webpid=$!
    for _ in $(seq 1 50); do grep -q web.listening "$work/web.log" && break; sleep 0.1; done
    port=$(grep -o '"port":"[0-9]*"' "$work/web.log" | grep -o '[0-9]*')
    tok=$(curl -s -c "$work/jar" "http://127.0.0.1:$port/login" | grep -o 'name="csrf" value="[0-9a-f]*"' | cut -d'"' -f4)
    code=$(curl -s -o /dev/null -w '%{http_code}' -c "$work/jar" -b "$work/jar" -d "csrf=$tok&user=alice&password=a+long+demo+password" "http://127.0.0.1:$port/login")
    check "README: recon-web serves and alice signs in" test "$code" = 303
    check "README: alice sees run 41's queue" bash -c "curl -s -b '$work/jar' http://127.0.0.1:$port/ | grep -q 'Page 1 of'"
    kill "$webpid"; wait "$webpid"
    check "recon-web exits 0 on SIGTERM" test $? -eq 0
else check "README shows recon-web" false; fi

# Workers stop (SIGTERM, as an SRE scales down); the broker stays, so the
# scheduler's run waits — and is the one the README shows and cancels.
if [ ${#cluster[@]} -eq 3 ]; then
    kill -TERM "${cluster[1]}" "${cluster[2]}"
    wait "${cluster[1]}"; w1=$?; wait "${cluster[2]}"; w2=$?
    check "workers exit 0 on SIGTERM" test "$w1$w2" = 00
fi
if one '^recon run --from "\$\(date -u -d yesterday'; then
    (cd "$work/files" && bash -c "$cmd") >"$work/cron.out" 2>&1 &
    cronpid=$!
    for _ in $(seq 1 100); do
        [ "$(q 'SELECT count(*) FROM recon.runs WHERE run_id = 42')" = 1 ] && break; sleep 0.1
    done
    check "the cron command created run 42" test "$(q 'SELECT count(*) FROM recon.runs WHERE run_id = 42')" = 1
else check "README shows the cron command" false; fi

if one '^recon runs list$'; then
    readme_run "$cmd"
    check "README: $cmd" test $rc -eq 0
    check "runs list shows both runs" grep -qE '^ *41 .*succeeded' <<<"$out"
    check "runs list shows run 42" grep -qE '^ *42 ' <<<"$out"
else check "README shows recon runs list" false; fi
if one '^recon runs show 42$'; then
    readme_run "$cmd"
    check "README: $cmd" test $rc -eq 0
    check "runs show lists the jobs" has "$out" "pending"
else check "README shows recon runs show" false; fi
if one '^recon runs cancel 42$'; then
    readme_run "$cmd"
    check "README: $cmd" test $rc -eq 0
    check "cancel says so" has "$out" "run 42 cancelled"
    wait "$cronpid"; crc=$?
    check "the cron command's --wait exits 3 when its run is cancelled" test $crc -eq 3
else check "README shows recon runs cancel"  false; fi

# --- what cannot run here --------------------------------------------------
# No Docker daemon or Kubernetes cluster on CI machines: every file these
# commands name must exist and be one tests/deploy validates offline
# (docker-compose config, the Kubernetes schema, dockerfile-utils).
if claim '^(COMPOSE_PROJECT_NAME=[^ ]+ POSTGRES_PASSWORD=[^ ]+ )?(docker|kubectl) '; then
    for cmd in "${matched[@]}"; do
        files=$(grep -oE '(-f|--filename) [^ ]+' <<<"$cmd" | awk '{ print $2 }')
        for f in $files; do
            check "README: $cmd names $f, which exists" test -f "$SRC/$f"
            case $f in
            deploy/k8s/*.yaml)   # test_deploy validates deploy/k8s/*.yaml against the schema
                check "README: $f is validated by tests/deploy" grep -qF 'k8s=(deploy/k8s/*.yaml' "$SRC/tests/deploy/test_deploy.sh" ;;
            deploy/compose.yaml) # the parse step of `docker compose up`, for real
                check "README: $f parses (docker-compose config)" \
                    bash -c "cd '$SRC' && POSTGRES_PASSWORD=x docker-compose -f $f config -q" ;;
            *)  check "README: $f is validated by tests/deploy" \
                    grep -qF "$f" "$SRC/tests/deploy/test_deploy.sh" ;;
            esac
        done
        [ -z "$files" ] && check "README: $cmd (a scale/wait verb on what the files define)" \
            grep -qE 'recon-worker|recon-migrate|worker' <<<"$cmd"
    done
fi
# The test command itself and the build steps it is made of: ./dev test
# runs them (this test is one of its suites), .ci/run runs ./dev test.
if claim '^(\./dev test|meson setup build && ninja -C build|build/cli/recon sandbox -- meson test)'; then
    check ".ci/run runs ./dev test" grep -qx '.*\./dev test.*' "$SRC/.ci/run"
    check "./dev test builds with meson setup + ninja" grep -q 'meson setup "$dir"' "$SRC/dev"
    check "./dev test runs meson test under recon sandbox" grep -q 'recon" sandbox -- meson test' "$SRC/dev"
fi
# ./dev demo: the demo itself, small, as the README's first command does it.
if one '^\./dev demo$'; then
    for p in "${cluster[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    cluster=()
    # As the README says: it runs, then serves recon-web until Ctrl-C.
    (cd "$SRC" && exec env -u RECON_DATABASE_URL -u RECON_REDIS_URL -u RECON_BROKER_ENDPOINT \
         -u RECON_BROKER_HTTP -u RECON_BATCH_SIZE $cmd --orders 2000 </dev/null >"$work/demo.out" 2>"$work/demo.err") &
    demopid=$!
    for _ in $(seq 1 300); do grep -q '^      password ' "$work/demo.out" && break; sleep 0.5; done
    out=$(cat "$work/demo.out")
    check "demo prints the queue summary" has "$out" "worst"
    check "demo shows the next night" has "$out" "next night"
    demourl=$(grep -o 'http://127.0.0.1:[0-9]*/' "$work/demo.out" | head -1)
    demopw=$(awk '$1 == "password" { print $2 }' "$work/demo.out")
    check "demo prints the web page's address and credentials" test -n "$demourl" -a -n "$demopw"
    demotok=$(curl -s -c "$work/demo.jar" "${demourl}login" | grep -o 'name="csrf" value="[0-9a-f]*"' | cut -d'"' -f4)
    code=$(curl -s -o /dev/null -w '%{http_code}' -c "$work/demo.jar" -b "$work/demo.jar" \
           --data-urlencode "csrf=$demotok" --data-urlencode user=demo \
           --data-urlencode "password=$demopw" "${demourl}login")
    check "the demo credentials sign in" test "$code" = 303
    check "the demo's web page shows the queue" bash -c "curl -s -b '$work/demo.jar' '$demourl' | grep -q 'Page 1 of'"
    # Ctrl-C: ./dev execs recon, so the signal reaches the demo itself.
    pkill -INT -P "$demopid" -x recon 2>/dev/null || kill -INT "$demopid"
    kill -INT "$demopid" 2>/dev/null
    wait "$demopid"; drc=$?
    check "README: ./dev demo exits 0 on Ctrl-C" test $drc -eq 0
    check "demo says everything stopped" grep -q "everything it started has stopped" "$work/demo.out"
    check "the demo's web page is gone" bash -c "! curl -s -m 2 '$demourl' >/dev/null"
fi

# ./dev bench = an optimised build + tests/bench/bench.sh under a sandbox;
# the script itself runs here, on this build, small, and must find recon's
# queue equal to the ground truth.
if one '^\./dev bench$'; then
    check "./dev bench runs tests/bench/bench.sh" grep -q 'tests/bench/bench.sh build-release' "$SRC/dev"
    run env -u RECON_BROKER_ENDPOINT RECON_DATABASE_URL="$sandbox_url" "$SRC/tests/bench/bench.sh" "$B" 3000
    check "bench.sh exits 0" test $rc -eq 0
    check "bench prints the read floor" has "$out" "read floor"
    check "bench prints floor and baseline also with recon's plan settings, and recon against the faster" test "$(grep -c "recon's plan settings\|/ faster" <<<"$out")" -eq 4
    check "bench: recon is correct with 1 worker, 2 workers on 2 and on 4 shards" test "$(grep -c 'correct: yes' <<<"$out")" -eq 3
    check "bench prints the keyed raw COPY and the merged import against it" test "$(grep -c 'keyed raw COPY\|recon.s two keys' <<<"$out")" -eq 2
    check "bench prints the first load and the merged import" test "$(grep -c 'first load\|merged into a table' <<<"$out")" -eq 2
fi

# ./dev chaos = the normal build + tests/chaos/chaos (the chaos suite of
# ./dev test runs the soak itself); here a tiny soak with the README's
# flags proves the command line and the checker's verdict.
if one '^\./dev chaos'; then
    check "./dev chaos runs tests/chaos/chaos" grep -q 'build/tests/chaos/chaos build/cli/recon' "$SRC/dev"
    flags=$(sed 's/^\.\/dev chaos//' <<<"$cmd")
    # shellcheck disable=SC2086 # the README's flags, split as the shell would
    run "$B/tests/chaos/chaos" "$B/cli/recon" "$B/broker/recon-broker" "$B/worker/recon-worker" \
        "$B/tests/gen/recon-gen" "$B/tests/chaos/chaos_proxy" $flags --seconds 5 --orders 1000
    check "chaos soak (1000 orders, 5 s) passes (rc $rc)" test $rc -eq 0
    check "chaos prints its seed and the faults survived" \
        bash -c 'grep -q "^chaos: seed [0-9]" <<<"$1" && grep -q "in all; traffic faults" <<<"$1"' _ "$out"
fi

for c in "${cmds[@]}"; do
    check "README command exercised by a rule: $c" test -n "${claimed[$c]:-}"
done
summary readme

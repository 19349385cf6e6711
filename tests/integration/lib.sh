# lib.sh — helpers the integration test scripts share (sourced, not run).
# Expects $work (a scratch directory) and, for newdb, $RECON and an array
# dbs=() that the script's cleanup drops.
pass=0
fail=0

check() { # check NAME COMMAND... — one counted test
    local name=$1; shift
    if "$@"; then pass=$((pass + 1)); echo "ok   $name"
    else fail=$((fail + 1)); echo "FAIL $name"; fi
}
run() { # run COMMAND... — sets rc, out, err
    "$@" >"$work/out" 2>"$work/err"; rc=$?
    out=$(cat "$work/out"); err=$(cat "$work/err")
}
has() { grep -qF -- "$2" <<<"$1"; }
newdb() { # newdb NAME — a fresh migrated database on the sandbox server; sets url
    psql -q "$RECON_DATABASE_URL" -c "CREATE DATABASE $1" >/dev/null; dbs+=("$1")
    url="${RECON_DATABASE_URL/\/recon\?//$1?}"
    RECON_DATABASE_URL="$url" $RECON db migrate --reference >/dev/null 2>&1
}
drop_dbs() {
    for d in "${dbs[@]}"; do
        psql -q "$RECON_DATABASE_URL" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1
    done
}
q() { psql -At "$url" -c "$1"; }
summary() { # summary NAME — the closing line, and the exit status
    echo "$1: $pass passed, $fail failed"
    [ $fail -eq 0 ]
}
fill_queue() { # fill_queue ORDERS SEED — generate, import, run (recon-worker --run) into $url
    local g="$work/g"
    $GEN --orders "$1" --seed "$2" --out "$g" >/dev/null
    $RECON import processor --format canonical "$g/processor.csv" >/dev/null
    $RECON import ledger --format canonical "$g/ledger.csv" >/dev/null
    $RECON import fulfillment --format canonical "$g/fulfillment.csv" >/dev/null
    local m from to as_of
    m() { grep -o "\"$1\": *\"[^\"]*\"" "$g/meta.json" | cut -d'"' -f4; }
    from=$(m from) to=$(m to) as_of=$(m as_of)
    run_id=$($RECON run --from "$from" --to "$to" --as-of "$as_of" --shards 2 2>/dev/null)
    RECON_BROKER_HTTP=off $WORKER --run "$run_id" >/dev/null 2>&1
}

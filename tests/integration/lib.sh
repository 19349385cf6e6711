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
# http PORT PATH — GET over bash's /dev/tcp (no client needed); sets status, body
http() {
    local resp
    status=0 body=
    exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    printf 'GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' "$2" >&3
    resp=$(cat <&3); exec 3<&-
    status=$(head -1 <<<"$resp" | cut -d' ' -f2)
    body=$(sed '1,/^\r$/d' <<<"$resp")
}
port_of() { # port_of LOG [N] — the port of the Nth (1st) http.listening line (JSON log)
    local p i
    for i in $(seq 100); do
        p=$(grep '"event":"http.listening"' "$1" | sed -n "${2:-1}p" | grep -o '"port":"[0-9]*"' | grep -o '[0-9]*')
        [ -n "$p" ] && { echo "$p"; return; }
        sleep 0.1
    done
}

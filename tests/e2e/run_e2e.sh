#!/usr/bin/env bash
# run_e2e.sh — sets up a queue from a real run, two users and a running
# recon-web, then e2e.js in Debian's headless chromium (playwright-core
# from npm; never a downloaded browser).
#
#   run_e2e.sh RECON WORKER GEN WEB   (under recon sandbox; E2E_SHOTS=DIR for screenshots)
set -u
RECON=$1 WORKER=$2 GEN=$3 WEB=$4
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/recon-e2e.XXXXXX)
db="e2e_$$"
webpid=
cleanup() {
    [ -n "$webpid" ] && kill "$webpid" 2>/dev/null && wait "$webpid" 2>/dev/null
    psql -q "$RECON_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
: "${RECON_DATABASE_URL:?run under recon sandbox (./dev test does)}"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "FAIL no chromium (apt-get install chromium)"; exit 1; }
(cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) \
    >"$work/npm.log" 2>&1 || { cat "$work/npm.log"; echo "FAIL npm ci in tests/e2e"; exit 1; }

psql -q "$RECON_DATABASE_URL" -c "CREATE DATABASE $db" >/dev/null
export RECON_DATABASE_URL="${RECON_DATABASE_URL/\/recon\?//$db?}"
$RECON db migrate --reference >/dev/null 2>&1
$GEN --orders 3000 --seed 3 --out "$work/g" >/dev/null
$RECON import processor --format stripe "$work/g/stripe.csv" >/dev/null
$RECON import processor --format adyen "$work/g/adyen.csv" >/dev/null
$RECON import processor --format canonical --processor other "$work/g/processor_other.csv" >/dev/null
$RECON import ledger --format canonical "$work/g/ledger.csv" >/dev/null
$RECON import fulfillment --format canonical "$work/g/fulfillment.csv" >/dev/null
meta() { grep -o "\"$1\": *\"[^\"]*\"" "$work/g/meta.json" | cut -d'"' -f4; }
for shards in 2 3; do   # two runs, so the chart has bars
    run_id=$($RECON run --from "$(meta from)" --to "$(meta to)" --as-of "$(meta as_of)" --shards $shards 2>/dev/null)
    RECON_BROKER_HTTP=off $WORKER --run "$run_id" >/dev/null 2>&1
done
xid=$(psql -At "$RECON_DATABASE_URL" -c "SELECT min(mismatch_id) FROM recon.mismatches")
psql -q "$RECON_DATABASE_URL" -c "UPDATE recon.mismatches SET order_id = '<script>alert(1)</script>\"onmouseover=\"x' WHERE mismatch_id = $xid"
echo 'correct horse battery' | $RECON users add alice --role reviewer >/dev/null
echo 'viewer password 1' | $RECON users add vic --role viewer >/dev/null

$WEB --listen 127.0.0.1:0 --log-format json 2>"$work/web.log" & webpid=$!
for _ in $(seq 1 50); do grep -q web.listening "$work/web.log" && break; sleep 0.1; done
port=$(grep -o '"port":"[0-9]*"' "$work/web.log" | grep -o '[0-9]*')
[ -n "$port" ] || { cat "$work/web.log"; echo "FAIL recon-web did not start"; exit 1; }
node "$here/e2e.js" "http://127.0.0.1:$port"

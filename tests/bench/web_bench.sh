#!/usr/bin/env bash
# web_bench.sh — recon-web and `recon queue list` with N mismatches in the
# queue (default 1,000,000, made by SQL): server time (time to first byte
# on loopback, best of 5) of the first page, filtered pages and a deep page.
# Target (issue #6): first page and a filtered page under 100 ms.
#
#   recon sandbox -- tests/bench/web_bench.sh BUILD_DIR [N]
set -euo pipefail
B=$1; N=${2:-1000000}
RECON=$B/cli/recon WEB=$B/web/recon-web
: "${RECON_DATABASE_URL:?run under recon sandbox}"
work=$(mktemp -d /tmp/recon-webbench.XXXXXX)
webpid=
db=webbench_$$
cleanup() { [ -n "$webpid" ] && kill "$webpid" 2>/dev/null; psql -q "$RECON_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
psql -q "$RECON_DATABASE_URL" -c "CREATE DATABASE $db" >/dev/null
export RECON_DATABASE_URL="${RECON_DATABASE_URL/\/recon\?//$db?}"
$RECON db migrate >/dev/null 2>&1
psql -q -v ON_ERROR_STOP=1 "$RECON_DATABASE_URL" <<SQL
INSERT INTO recon.mismatches (order_id, kind, severity, status, amount_minor, currency, summary,
                              next_step, evidence, facts_hash, opened_at)
SELECT 'ord_' || lpad(g::text, 9, '0'),
       (ARRAY['duplicate_charge','overcharged','charged_not_delivered','missing_in_ledger',
              'refund_not_in_ledger','dispute_open','currency_mismatch'])[1 + g % 7],
       (ARRAY['critical','high','medium','medium'])[1 + g % 4],
       CASE WHEN g % 10 = 0 THEN 'in_review' ELSE 'open' END,
       (g::bigint * 7919) % 500000 + 1,
       (ARRAY['USD','EUR','GBP','JPY','SEK','KWD','CLP','BHD'])[1 + (g / 7) % 8],
       'Charged twice for order ord_' || g || '; the ledger expects one charge.',
       'Refund the duplicate charge.', '{"processor":[],"ledger":[],"fulfillment":null}', 'h',
       now() - (g % 4000) * interval '1 hour'
  FROM generate_series(1, $N) g;
VACUUM ANALYZE recon.mismatches;
SQL
echo 'a long bench password' | $RECON users add bench --role reviewer >/dev/null
$WEB --listen 127.0.0.1:0 --log-format json 2>"$work/web.log" & webpid=$!
for _ in $(seq 1 50); do grep -q web.listening "$work/web.log" && break; sleep 0.1; done
port=$(grep -o '"port":"[0-9]*"' "$work/web.log" | grep -o '[0-9]*')
base="http://127.0.0.1:$port"
tok=$(curl -s -c "$work/jar" "$base/login" | grep -o 'name="csrf" value="[0-9a-f]*"' | cut -d'"' -f4)
curl -s -o /dev/null -c "$work/jar" -b "$work/jar" -d "csrf=$tok&user=bench&password=a+long+bench+password" "$base/login"
best() { # best of 5 time-to-first-byte, ms
    for _ in 1 2 3 4 5; do curl -s -o /dev/null -b "$work/jar" -w '%{time_starttransfer}\n' "$base$1"; done |
        sort -n | head -1 | awk '{ printf "%.1f", $1 * 1000 }'
}
cli() { # best of 3 wall time of recon queue list, ms
    for _ in 1 2 3; do
        s=$(date +%s%N); $RECON queue list "$@" >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 ))
    done | sort -n | head -1
}
printf '%-52s %10s\n' "with $N mismatches in the queue" "ms"
printf '%-52s %10s\n' "web: first page (summary, chart, page 1 of 25)" "$(best /)"
printf '%-52s %10s\n' "web: filtered (severity + currency)" "$(best '/?severity=critical&currency=EUR')"
printf '%-52s %10s\n' "web: filtered (kind)" "$(best '/?kind=dispute_open')"
printf '%-52s %10s\n' "web: older than 100 days" "$(best '/?age=100d')"
printf '%-52s %10s\n' "web: order id search" "$(best '/?q=000123&status=all')"
printf '%-52s %10s\n' "web: page 2000 (deep page)" "$(best '/?page=2000')"
printf '%-52s %10s\n' "web: detail page" "$(best /m/500000)"
printf '%-52s %10s\n' "cli: recon queue list (process + connect + query)" "$(cli)"
printf '%-52s %10s\n' "cli: recon queue list --severity high --currency JPY" "$(cli --severity high --currency JPY)"

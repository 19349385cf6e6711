#!/usr/bin/env bash
# test_web.sh — recon-web for real, over HTTP with curl, against the
# sandbox PostgreSQL and a queue a real run filled: sign-in (and the
# cookie's flags), the queue with filters and paging, the detail page,
# actions writing the same history as the CLI, CSRF refused, a viewer
# refused, two reviewers at once, an order id with markup shown as text,
# security headers, `recon users`.
#
#   test_web.sh RECON WORKER GEN WEB
set -u
RECON=$1 WORKER=$2 GEN=$3 WEB=$4
work=$(mktemp -d /tmp/recon-web-test.XXXXXX)
dbs=()
webpid=
cleanup() {
    [ -n "$webpid" ] && kill "$webpid" 2>/dev/null && wait "$webpid" 2>/dev/null
    drop_dbs; rm -rf "$work"
}
trap cleanup EXIT
. "$(dirname "$0")/lib.sh"
: "${RECON_DATABASE_URL:?run under recon sandbox (./dev test does)}"

newdb "web_$$"
export RECON_DATABASE_URL="$url"
fill_queue 2000 5
# An order id with markup in it: it must be shown as text everywhere.
xss='<script>alert(1)</script>"onmouseover="x'
xid=$(q "SELECT mismatch_id FROM recon.mismatches ORDER BY mismatch_id LIMIT 1")
q "UPDATE recon.mismatches SET order_id = '$xss' WHERE mismatch_id = $xid" >/dev/null

# ---- users ------------------------------------------------------------------
echo 'correct horse battery' | $RECON users add alice --role reviewer >/dev/null
check "users add reviewer" test $? -eq 0
echo 'correct horse staple' | $RECON users add bob --role reviewer >/dev/null
echo 'viewer password 1' | $RECON users add vic --role viewer >/dev/null
run bash -c "echo 'short' | $RECON users add eve --role viewer"
check "a short password is refused (exit 2)" test $rc -eq 2
run bash -c "echo 'long enough pass' | $RECON users add alice --role viewer"
check "a second alice is refused (exit 1)" test $rc -eq 1
run bash -c "echo 'long enough pass' | $RECON users add recon --role viewer"
check "the name recon is refused" test $rc -eq 2
run $RECON users list
check "users list shows roles" grep -qE '^alice +reviewer +enabled' <<<"$out"
check "passwords are stored as Argon2id" test "$(q "SELECT count(*) FROM recon.users WHERE password_hash LIKE '\$argon2id\$%'")" = 3

# ---- the server -------------------------------------------------------------
$WEB --listen 127.0.0.1:0 --log-format json 2>"$work/web.log" & webpid=$!
for _ in $(seq 1 50); do grep -q web.listening "$work/web.log" && break; sleep 0.1; done
port=$(grep -o '"port":"[0-9]*"' "$work/web.log" | grep -o '[0-9]*')
check "recon-web listens" test -n "$port"
base="http://127.0.0.1:$port"
C() { curl -s -o "$work/body" -D "$work/hdr" -w '%{http_code}' "$@"; }
# The sign-in form carries a token that must match its cookie (login CSRF).
form_token() { # form_token JAR — GET /login with JAR, print the form's token
    curl -s -c "$1" -b "$1" "$base/login" | grep -o 'name="csrf" value="[0-9a-f]*"' | cut -d'"' -f4
}
try_login() { # try_login USER PASSWORD — the status of a sign-in with a fresh form
    local jar=$work/try.jar t
    rm -f "$jar"; t=$(form_token "$jar")
    curl -s -o "$work/body" -w '%{http_code}' -c "$jar" -b "$jar" --data-urlencode "csrf=$t" \
        --data-urlencode "user=$1" --data-urlencode "password=$2" "$base/login"
}
body() { cat "$work/body"; }

check "livez" test "$(curl -s "$base/livez")" = ok
check "signed out: / redirects to /login" test "$(C "$base/")" = 303
check "the sign-in page" test "$(C "$base/login")" = 200
check "sign-in page has labelled fields" grep -q '<label for="password">' "$work/body"
check "CSP header" grep -qi "^Content-Security-Policy: default-src 'none'" "$work/hdr"
check "nosniff header" grep -qi "^X-Content-Type-Options: nosniff" "$work/hdr"
check "wrong password: 401" test "$(try_login alice nope)" = 401
check "wrong password says so" grep -q "Wrong user name or password" "$work/body"
check "a sign-in POST without the form's token is refused (login CSRF): 403" \
    test "$(C -d 'user=alice&password=correct+horse+battery' "$base/login")" = 403
check "… and starts no session" bash -c "! grep -qi '^Set-Cookie: recon_session=[0-9a-f]' '$work/hdr'"
rm -f "$work/other.jar"; othertok=$(form_token "$work/other.jar")
check "another browser's sign-in token is refused: 403" \
    test "$(C -c "$work/x.jar" -d "csrf=$othertok&user=alice&password=correct+horse+battery" "$base/login")" = 403
check "unknown user: the same 401" test "$(try_login mallory nope)" = 401

login() { # login USER PASSWORD JAR
    rm -f "$3"; local t; t=$(form_token "$3")
    curl -s -o /dev/null -D "$work/login.hdr" -c "$3" -b "$3" -d "csrf=$t&user=$1&password=$2" "$base/login"
}
login alice 'correct+horse+battery' "$work/alice"
check "sign-in sets an HttpOnly SameSite=Strict cookie with expiry" \
    grep -qiE '^Set-Cookie: recon_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200' "$work/login.hdr"
check "session stored hashed, not as the token" \
    test "$(q "SELECT count(*) FROM recon.sessions WHERE token_sha256 = '$(grep -o 'recon_session=[0-9a-f]*' "$work/login.hdr" | cut -d= -f2)'")" = 0
login bob 'correct+horse+staple' "$work/bob"
login vic 'viewer+password+1' "$work/vic"

# ---- the queue page ---------------------------------------------------------
open=$(q "SELECT count(*) FROM recon.mismatches WHERE status IN ('open','in_review')")
pages=$(( (open + 24) / 25 ))
check "queue page" test "$(C -b "$work/alice" "$base/")" = 200
check "paging with totals" grep -q "Page 1 of $pages, $open items" "$work/body"
check "summary header: open count" grep -q "<h2>$open open</h2>" "$work/body"
check "chart of the last runs" grep -q '<svg class="chart"' "$work/body"
check "worst first: the first row is critical" \
    test "$(grep -o 'class="sev [a-z]*">[a-z]*</span></td><td>' "$work/body" | head -1 | grep -o '>[a-z]*<' | head -1)" = ">critical<"
C -b "$work/alice" "$base/?q=script&status=all" >/dev/null
check "markup in an order id is escaped" grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;&quot;onmouseover=&quot;x' "$work/body"
check "no raw script tag anywhere" test "$(grep -c '<script' "$work/body")" -eq 0
C -b "$work/alice" "$base/" >/dev/null
crit=$(q "SELECT count(*) FROM recon.mismatches WHERE status IN ('open','in_review') AND severity = 'critical'")
C -b "$work/alice" "$base/?severity=critical" >/dev/null
check "severity filter" grep -q "$crit items" "$work/body"
check "page 2 link keeps the filter" grep -q 'href="/?page=2&amp;severity=critical"' "$work/body" || [ "$crit" -le 25 ]
cur=$(q "SELECT count(*) FROM recon.mismatches WHERE status IN ('open','in_review') AND currency = 'JPY'")
C -b "$work/alice" "$base/?currency=jpy&status=" >/dev/null
check "currency filter" grep -q "$cur items" "$work/body"
check "bad age filter: 400 with a message" test "$(C -b "$work/alice" "$base/?age=soon")" = 400
check "page 2" test "$(C -b "$work/alice" "$base/?page=2")" = 200
check "page 2 of N" grep -q "Page 2 of $pages" "$work/body"
some=$(q "SELECT order_id FROM recon.mismatches WHERE mismatch_id = $((xid + 1))")
C -b "$work/alice" "$base/?q=${some:4:6}&status=all" >/dev/null
check "search by order id" grep -qF "$some" "$work/body"

# ---- the detail page --------------------------------------------------------
id=$(q "SELECT mismatch_id FROM recon.mismatches WHERE kind = 'charged_not_delivered' AND status = 'open' ORDER BY mismatch_id LIMIT 1")
check "detail page" test "$(C -b "$work/alice" "$base/m/$id")" = 200
check "detail: the sentence" grep -qF "$(q "SELECT replace(replace(summary, '&', '&amp;'), '''', '&#39;') FROM recon.mismatches WHERE mismatch_id = $id")" "$work/body"
check "detail: three sources" bash -c "grep -q 'Payment processor' '$work/body' && grep -q '<h3>Ledger' '$work/body' && grep -q '<h3>Fulfillment' '$work/body'"
check "detail: history by recon" grep -q '<td>recon</td><td>opened</td>' "$work/body"
check "detail: action forms carry the CSRF token" grep -q 'name="csrf" value="[0-9a-f]\{64\}"' "$work/body"
csrf=$(grep -o 'name="csrf" value="[0-9a-f]*"' "$work/body" | head -1 | grep -o '[0-9a-f]\{64\}')
check "XSS order id on its detail page is text" bash -c "curl -s -b '$work/alice' '$base/m/$xid' | grep -qF '&lt;script&gt;'"
check "unknown mismatch: 404" test "$(C -b "$work/alice" "$base/m/999999")" = 404

# ---- actions ----------------------------------------------------------------
check "POST without CSRF token: 403" test "$(C -b "$work/alice" -d 'expect=open' "$base/m/$id/claim")" = 403
# A wrong token differs from the real one in its first digit (always: a
# substitution like ${csrf//a/b} is a no-op for a token without an 'a').
if [ "${csrf:0:1}" = 0 ]; then wrong=1${csrf:1}; else wrong=0${csrf:1}; fi
check "POST with a wrong CSRF token: 403" test "$(C -b "$work/alice" -d "csrf=$wrong" "$base/m/$id/claim")" = 403
check "nothing changed" test "$(q "SELECT status FROM recon.mismatches WHERE mismatch_id = $id")" = open
check "claim: 303 back to the item" test "$(C -b "$work/alice" -d "csrf=$csrf&expect=open" "$base/m/$id/claim")" = 303
check "claimed by alice" test "$(q "SELECT status || ' ' || assignee FROM recon.mismatches WHERE mismatch_id = $id")" = "in_review alice"
check "note" test "$(C -b "$work/alice" --data-urlencode "csrf=$csrf" --data-urlencode 'note=Called the <b>warehouse</b>' "$base/m/$id/note")" = 303
vcsrf=$(curl -s -b "$work/vic" "$base/m/$id" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | grep -o '[0-9a-f]\{64\}')
check "a viewer sees no action forms" bash -c "! curl -s -b '$work/vic' '$base/m/$id' | grep -q 'action=\"/m/$id/resolve\"'"
check "a viewer cannot resolve: 403" test "$(C -b "$work/vic" -d "csrf=$vcsrf&resolution=written_off" "$base/m/$id/resolve")" = 403
check "a viewer cannot use another's CSRF token" test "$(C -b "$work/vic" -d "csrf=$csrf&resolution=written_off" "$base/m/$id/resolve")" = 403
bcsrf=$(curl -s -b "$work/bob" "$base/m/$id" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | grep -o '[0-9a-f]\{64\}')
# Alice and Bob both resolve from the page they see (expect in_review).
C -b "$work/alice" -d "csrf=$csrf&expect=in_review&resolution=shipped&note=tracking+1Z" "$base/m/$id/resolve" >"$work/a.code" & pa=$!
C -b "$work/bob" -d "csrf=$bcsrf&expect=in_review&resolution=refunded" "$base/m/$id/resolve" >"$work/b.code" & pb=$!
wait $pa $pb
codes="$(cat "$work/a.code") $(cat "$work/b.code")"
check "two reviewers at once: one 303, one 409 ($codes)" bash -c "[ '$codes' = '303 409' ] || [ '$codes' = '409 303' ]"
check "one resolved entry in the history" test "$(q "SELECT count(*) FROM recon.mismatch_history WHERE mismatch_id = $id AND action = 'resolved'")" = 1
C -b "$work/bob" -d "csrf=$bcsrf&expect=in_review&resolution=refunded" "$base/m/$id/resolve" >/dev/null
check "the loser is told who changed it" grep -q "last changed by" "$work/body"
check "snooze then reopen" bash -c "
    [ \$(curl -s -o /dev/null -w '%{http_code}' -b '$work/alice' -d 'csrf=$csrf&expect=resolved' '$base/m/$id/reopen') = 303 ] &&
    [ \$(curl -s -o /dev/null -w '%{http_code}' -b '$work/alice' -d 'csrf=$csrf&until=2d' '$base/m/$id/snooze') = 303 ]"
check "snooze with a bad time: 400" test "$(C -b "$work/alice" -d "csrf=$csrf&until=someday" "$base/m/$id/snooze")" = 400
hist=$(q "SELECT string_agg(action || ':' || actor, ' ' ORDER BY at, history_id) FROM recon.mismatch_history WHERE mismatch_id = $id")
check "web actions are history entries like the CLI's" grep -qE '^opened:recon claimed:alice note:alice resolved:(alice|bob) reopened:alice snoozed:alice$' <<<"$hist"
check "the CLI shows the web's history" bash -c "$RECON queue show $id | grep -q 'Called the <b>warehouse</b>'"
C -b "$work/alice" "$base/m/$id" >/dev/null
check "a note with markup is shown as text" grep -qF 'Called the &lt;b&gt;warehouse&lt;/b&gt;' "$work/body"

# ---- sign-out, expiry, disable ----------------------------------------------
check "sign out" test "$(C -b "$work/bob" -d "csrf=$bcsrf" "$base/logout")" = 303
check "signed out: the old cookie no longer works" test "$(C -b "$work/bob" "$base/")" = 303
q "UPDATE recon.sessions SET expires_at = now() - interval '1 second' WHERE user_name = 'vic'" >/dev/null
check "an expired session is signed out" test "$(C -b "$work/vic" "$base/")" = 303
$RECON users disable alice >/dev/null
check "a disabled user is signed out at once" test "$(C -b "$work/alice" "$base/")" = 303
check "a disabled user cannot sign in" test "$(try_login alice 'correct horse battery')" = 401
check "malformed form: 400" test "$(C -d 'user=%zz' "$base/login")" = 400
check "unknown method: 405" test "$(C -X DELETE "$base/")" = 405
# Found by fuzz_web_http: invalid UTF-8 reached PostgreSQL and came back as
# "Database unavailable" (503); a NUL in a body was cut off, not refused.
check "invalid UTF-8 in a filter: 400, not a database error" test "$(C "$base/?q=%FF%FE")" = 400
check "the 400 says why" grep -q "not valid UTF-8" "$work/body"
check "invalid UTF-8 in a form: 400" test "$(C -d 'user=%C0%AF' "$base/login")" = 400
check "a NUL byte in a body: 400" test "$(printf 'user=a\0b&password=x' | C --data-binary @- "$base/login")" = 400

# ---- trusted-proxy mode -----------------------------------------------------
kill "$webpid"; wait "$webpid"; wrc=$?; webpid=
check "SIGTERM: exit 0" test $wrc -eq 0
RECON_WEB_TRUSTED_HEADER=X-Remote-User $WEB --listen 127.0.0.1:0 --log-format json 2>"$work/web2.log" & webpid=$!
for _ in $(seq 1 50); do grep -q web.listening "$work/web2.log" && break; sleep 0.1; done
port=$(grep -o '"port":"[0-9]*"' "$work/web2.log" | grep -o '[0-9]*')
check "trusted header names the user" test "$(curl -s -o "$work/body" -w '%{http_code}' -H 'X-Remote-User: bob' "http://127.0.0.1:$port/")" = 200
check "trusted header: signed in as bob" grep -q '<span>bob (reviewer)</span>' "$work/body"
check "trusted header: unknown user is not signed in" test "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Remote-User: mallory' "http://127.0.0.1:$port/")" = 303
# A second replica behind the same load balancer: a form the first one
# rendered must be accepted by the second (the CSRF key is shared through
# recon.web_secrets, not made per process).
RECON_WEB_TRUSTED_HEADER=X-Remote-User $WEB --listen 127.0.0.1:0 --log-format json 2>"$work/web3.log" & web3pid=$!
for _ in $(seq 1 50); do grep -q web.listening "$work/web3.log" && break; sleep 0.1; done
port3=$(grep -o '"port":"[0-9]*"' "$work/web3.log" | grep -o '[0-9]*')
pcsrf=$(curl -s -H 'X-Remote-User: bob' "http://127.0.0.1:$port/m/$xid" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | cut -d'"' -f4)
check "trusted header: a form from replica 1 is accepted by replica 2" \
    test "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Remote-User: bob' -d "csrf=$pcsrf&note=from+replica+2" "http://127.0.0.1:$port3/m/$xid/note")" = 303
check "trusted header: the note is in the history as bob" \
    test "$(q "SELECT count(*) FROM recon.mismatch_history WHERE mismatch_id = $xid AND actor = 'bob' AND note = 'from replica 2'")" = 1
check "trusted header: a wrong token is still refused by replica 2" \
    test "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Remote-User: bob' -d "csrf=$(tr 0-9a-f 1-9a-f0 <<<"$pcsrf")&note=x" "http://127.0.0.1:$port3/m/$xid/note")" = 403
kill "$web3pid"; wait "$web3pid" 2>/dev/null

summary web

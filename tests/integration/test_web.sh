#!/bin/bash
# ra-web, the subscriber's website, against the real daemons, over HTTPS on the loopback
# with a test CA: start-up refusals (a fixed verification code without --insecure-test,
# plain HTTP off the loopback), the headers and cookie of every answer, CSRF, the pages in
# headless Chromium (tests/integration/web_browser.py: login, three wrong passwords lock,
# suspend one certificate, change the password, the card page, logout; a screenshot per
# step in $BUILD/test-logs/web/), the CRL showing the one certificate on hold, ra-self's
# suspend with --cert and --reason, the JSON API (bearer token, one answer for unknown
# account and wrong password, the public status look-up), the per-source rate limit, and
# no clear password in any log or in the ledger.
. "$(dirname "$0")/lib.sh"
ra_deploy 2
printf 'notifier:\n  templates_dir: %s/config/templates\n' "$RA_TOP" >> "$RA_CONFIG"
# Wrong passwords from one source make it wait (the back office's slow-down): a long first
# wait, so that the check below never depends on how fast the machine is, after 8 free
# ones (the browser makes 5 from the loopback).
sed -i '/^accounts:/a\  source_wait_s: 600\n  source_free_failures: 8' "$RA_CONFIG"
ra-ctl down >/dev/null 2>&1; ra-ctl up --workers 2 >/dev/null || { fail "ra-ctl up"; exit 1; }
SHOTS=$BUILD/test-logs/web
rm -rf "$SHOTS"; mkdir -p "$SHOTS"

# --- two subscribers with certificates and passwords read off their sheets ----------------
register_forms clerk01 clerk02 sup01 "$RA_TOP"/config/examples/reg-05.yaml "$RA_TOP"/config/examples/reg-06.yaml || fail "registration"
for o in 1 2; do
	make_csr s$o; make_csr e$o
	ra-ctl request-certs $o --sign-csr "$T/s$o.csr" --enc-csr "$T/e$o.csr" --officer op01 --passphrase-file "$OPASS" >/dev/null || fail "certificates of order $o"
done
LOCK=$(sql "$DEP/ra.db" "SELECT a.id FROM accounts a JOIN orders o ON o.subscriber_id = a.subscriber_id WHERE o.id = 1")
MAIN=$(sql "$DEP/ra.db" "SELECT a.id FROM accounts a JOIN orders o ON o.subscriber_id = a.subscriber_id WHERE o.id = 2")
mkdir -m 700 "$T/secrets"
password_from_reset "$LOCK" P-0001 "$T/secrets/pw-lock" && password_from_reset "$MAIN" P-0002 "$T/secrets/pw-main" \
	&& ok "two subscribers' passwords read off their counter sheets" || fail "password sheets"
printf 'Web-Changed-Pass7\n' > "$T/secrets/pw-new"
printf 'K7M2Q\n' > "$T/secrets/code"
chmod 600 "$T/secrets"/*

# --- a test CA and the website's TLS certificate for 127.0.0.1 ------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/testca.key" -out "$T/testca.pem" -days 2 \
	-subj "/CN=ra-web test CA" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/web.key" -out "$T/web.csr" -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$T/web.ext"
openssl x509 -req -in "$T/web.csr" -CA "$T/testca.pem" -CAkey "$T/testca.key" -CAcreateserial -days 2 \
	-extfile "$T/web.ext" -out "$T/web.pem" 2>/dev/null
SPKI=$(openssl x509 -in "$T/web.pem" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=https://127.0.0.1:$PORT
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/api.token"; chmod 600 "$T/api.token"
TOKEN=$(cat "$T/api.token")
cp "$RA_CONFIG" "$T/base.yaml"
# web_config RATE BURST: the deployment's config with ra-web's section.
web_config() {
	cp "$T/base.yaml" "$RA_CONFIG"
	printf 'web:\n  trusted_proxy: 127.0.0.1\n  listen: 127.0.0.1:%s\n  tls_cert: %s\n  tls_key: %s\n  test_code: %s\n  api_token_file: %s\n  rate_per_minute: %s\n  rate_burst: %s\n  wait_ms: 20000\n' \
		"$PORT" "$T/web.pem" "$T/web.key" "$(cat "$T/secrets/code")" "$T/api.token" "$1" "$2" >> "$RA_CONFIG"
}
WEB_PID=
start_web() {
	ra-web --insecure-test >>"$DEP/log/ra-web.log" 2>&1 &
	WEB_PID=$!
	track $WEB_PID
	wait_for 10 curl -s --cacert "$T/testca.pem" -o /dev/null "$BASE/login"
}
stop_web() { kill "$WEB_PID" 2>/dev/null; wait "$WEB_PID" 2>/dev/null; }
web_config 100000 100000

# --- start-up refusals ----------------------------------------------------------------------
out=$(ra-web 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "refuses it unless started with --insecure-test" \
	&& ok "a configured test verification code without --insecure-test: ra-web refuses to start" || fail "test code refused" "$out"
cp "$RA_CONFIG" "$T/plain.yaml"
printf '  tls: false\n' >> "$T/plain.yaml"
sed -i "s/listen: 127.0.0.1:$PORT/listen: 0.0.0.0:$PORT/" "$T/plain.yaml"
out=$(ra-web -c "$T/plain.yaml" --insecure-test --check 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "plain HTTP is served only on a loopback address" \
	&& ok "plain HTTP off the loopback is refused" || fail "plain http" "$out"
check "ra-web --check accepts the test configuration with --insecure-test" ra-web --insecure-test --check
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/other.key" 2>/dev/null
sed "s|tls_key: .*|tls_key: $T/other.key|" "$RA_CONFIG" > "$T/mismatch.yaml"
out=$(ra-web -c "$T/mismatch.yaml" --insecure-test --check 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "does not belong to web.tls_cert" && ok "a TLS key that is not the certificate's: refused at --check" || fail "tls mismatch" "$out"
ra-web --help | grep -q -- "--insecure-test" && ok "ra-web --help" || fail "help"

start_web && ok "ra-web serves HTTPS with the test CA's certificate" || { fail "ra-web start" "$(tail -n 5 "$DEP/log/ra-web.log")"; exit 1; }

# --- headers, cookie, CSRF --------------------------------------------------------------------
curl -s --cacert "$T/testca.pem" -D "$T/h1" -c "$T/jar" -o "$T/login.html" "$BASE/login"
grep -qi '^set-cookie: __Host-ra_sid=[0-9a-f]\{64\}; Path=/; Secure; HttpOnly; SameSite=Strict' "$T/h1" \
	&& ok "the session cookie: random 256-bit id, __Host-, Secure, HttpOnly, SameSite=Strict" || fail "cookie" "$(grep -i set-cookie "$T/h1")"
grep -qi "^content-security-policy: default-src 'none'" "$T/h1" && grep -qi '^strict-transport-security:' "$T/h1" \
	&& grep -qi '^x-frame-options: DENY' "$T/h1" && grep -qi '^cache-control: no-store' "$T/h1" \
	&& ok "security headers: CSP, HSTS, no framing, no-store" || fail "headers" "$(cat "$T/h1")"
csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$T/login.html" | head -n 1)
code=$(curl -s --cacert "$T/testca.pem" -b "$T/jar" -o /dev/null -w '%{http_code}' \
	--data-urlencode "account=$MAIN" --data-urlencode "password@$T/secrets/pw-main" --data-urlencode "code=K7M2Q" "$BASE/login")
[ "$code" = 403 ] && ok "a login form without the CSRF token is refused (403)" || fail "csrf missing" "$code"
last=${csrf: -1}; [ "$last" = 0 ] && other=1 || other=0
code=$(curl -s --cacert "$T/testca.pem" -b "$T/jar" -o /dev/null -w '%{http_code}' --data "csrf=${csrf%?}$other&account=$MAIN" "$BASE/login")
[ "$code" = 403 ] && ok "a wrong CSRF token is refused (403)" || fail "csrf wrong" "$code"
code=$(curl -s --cacert "$T/testca.pem" -o /dev/null -w '%{http_code}' --data "csrf=$csrf" "$BASE/logout")
[ "$code" = 403 ] && ok "a state change without a session is refused" || fail "no session" "$code"
code=$(curl -s --cacert "$T/testca.pem" -o /dev/null -w '%{http_code} %{redirect_url}' "$BASE/certs")
[ "$code" = "303 $BASE/login" ] && ok "the certificates page without a login sends to the login page" || fail "certs no login" "$code"
code=$(curl -s --cacert "$T/testca.pem" -o /dev/null -w '%{http_code}' -X DELETE "$BASE/login")
[ "$code" = 405 ] && ok "a method the route table does not list: 405" || fail "405" "$code"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE submitted_by = 'web'")" -eq 0 ] \
	&& ok "no refused request reached the back office" || fail "jobs from refusals"

# --- the pages in a real browser --------------------------------------------------------------
/usr/bin/python3 "$RA_TOP/tests/integration/web_browser.py" "$BASE" "$SPKI" "$SHOTS" "$LOCK" "$MAIN" "$T/secrets" \
	2>"$SHOTS/browser.err" || fail "browser run" "$(grep -m 1 -i "exception\|error" "$SHOTS/browser.err")"
n=$(ls "$SHOTS"/*.png 2>/dev/null | wc -l)
[ "$n" -ge 12 ] && ok "a screenshot of each step in test-logs/web ($n)" || fail "screenshots" "$n"
[ "$(sql "$DEP/ra.db" "SELECT failures || '/' || locked FROM accounts WHERE id = '$LOCK'")" = 3/1 ] \
	&& ok "the ledger: the account locked after exactly three wrong passwords" || fail "lock in ledger"

# --- the CRL shows the one certificate on hold ------------------------------------------------
SIGN=$(sql "$DEP/ra.db" "SELECT c.serial FROM certificates c JOIN accounts a ON a.subscriber_id = c.subscriber_id WHERE a.id = '$MAIN' AND c.usage = 'signature'")
ENC=$(sql "$DEP/ra.db" "SELECT c.serial FROM certificates c JOIN accounts a ON a.subscriber_id = c.subscriber_id WHERE a.id = '$MAIN' AND c.usage = 'encryption'")
crl_has() { openssl crl -in "$DEP/crl/ra.crl.pem" -noout -text | grep -i -A 4 "Serial Number: $1" | grep -q "Certificate Hold"; }
wait_for 10 crl_has "$SIGN" && ok "the CRL shows the suspended signature certificate on hold" || fail "crl hold"
crl_has "$ENC" && fail "crl enc" "the encryption certificate is on the CRL" || ok "the encryption certificate is not on the CRL"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM audit WHERE action = 'account.suspend_reason' AND object = 'account:$MAIN' AND after LIKE 'Card left at the office%'")" -eq 1 ] \
	&& ok "the subscriber's reason is in the audit trail" || fail "reason audit"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE submitted_by = 'web' AND kind = 'suspend'")" -eq 1 ] \
	&& ok "one suspend job from the website, submitted as the web producer (a reload sent none)" || fail "web producer"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE submitted_by = 'web' AND json_extract(payload, '\$.source') IS NOT '127.0.0.1'")" -eq 0 ] \
	&& ok "every website job names its source (the client's address)" || fail "source"

# --- ra-self suspend --cert --reason ------------------------------------------------------------
out=$(ra-self --lang en suspend --account "$MAIN" --cert signature --password-file "$T/secrets/pw-new" 2>&1)
echo "$out" | grep -q "already on hold" && ok "ra-self suspend --cert signature: already on hold" || fail "ra-self held" "$out"
out=$(ra-self --lang en suspend --account "$MAIN" --cert encryption --reason "lost the card" --password-file "$T/secrets/pw-new" 2>&1)
echo "$out" | grep -q "1 certificate(s) are now on hold" && [ "$(sql "$DEP/ra.db" "SELECT status FROM certificates WHERE serial = '$ENC'")" = held ] \
	&& ok "ra-self suspend --cert encryption --reason holds the other one" || fail "ra-self enc" "$out"
out=$(ra-self suspend --account "$MAIN" --cert both-of-them 2>&1); [ $? -eq 2 ] && ok "ra-self --cert takes signature, encryption or both" || fail "cert arg" "$out"

# --- the JSON API ------------------------------------------------------------------------------
# api OP [SOURCE]: a site's call; SOURCE is the subscriber's address it forwards (the site
# is web.trusted_proxy), so each check's wrong passwords come from a source of its own.
api() { curl -s --cacert "$T/testca.pem" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	-H "X-Forwarded-For: ${2:-198.51.100.1}" -w '\n%{http_code}' --data-binary @- "$BASE/api/v1/$1"; }
out=$(curl -s --cacert "$T/testca.pem" -w '\n%{http_code}' "$BASE/api/v1/certificates/$SIGN")
echo "$out" | head -n 1 | grep -q '"status":"held"' && [ "$(echo "$out" | tail -n 1)" = 200 ] \
	&& ok "API: the public status look-up says held" || fail "api status" "$out"
out=$(curl -s --cacert "$T/testca.pem" -w '\n%{http_code}' "$BASE/api/v1/certificates/00ff00ff")
[ "$(echo "$out" | tail -n 1)" = 404 ] && echo "$out" | grep -q '"unknown"' && ok "API: an unknown serial is 404 unknown" || fail "api unknown" "$out"
out=$(curl -s --cacert "$T/testca.pem" -w '\n%{http_code}' "$BASE/api/v1/certificates/zz'")
[ "$(echo "$out" | tail -n 1)" = 400 ] && ok "API: a malformed serial is 400" || fail "api bad serial" "$out"
out=$(printf '{"account":"%s","password":"x"}' "$MAIN" | curl -s --cacert "$T/testca.pem" -w '\n%{http_code}' --data-binary @- "$BASE/api/v1/login")
[ "$(echo "$out" | tail -n 1)" = 401 ] && ok "API: subscriber operations need the site's token" || fail "api token" "$out"
out=$(printf '{"account":"%s","password":"%s"}' "$MAIN" "$(cat "$T/secrets/pw-new")" | api login)
echo "$out" | head -n 1 | grep -q '"ok":true' && echo "$out" | grep -q "$SIGN" && ok "API: login answers the account's certificates" || fail "api login" "$out"
wrong=$(printf '{"account":"%s","password":"Wrong-Password-9"}' "$MAIN" | api login 198.51.100.2)
unknown=$(printf '{"account":"u00000001","password":"Wrong-Password-9"}' | api login 198.51.100.3)
[ "$wrong" = "$unknown" ] && echo "$wrong" | grep -q '"code":"denied"' && [ "$(echo "$wrong" | tail -n 1)" = 403 ] \
	&& ok "API: the same answer for an unknown account and a wrong password (403 denied)" || fail "api denied" "$wrong / $unknown"
for i in 1 2 3 4 5 6 7 8 9; do
	out=$(printf '{"account":"u0000002%s","password":"Wrong-Password-9"}' "$i" | api login 198.51.100.4)
done
[ "$(echo "$out" | tail -n 1)" = 429 ] && echo "$out" | grep -q '"code":"slow_down"' \
	&& ok "API: wrong passwords from one forwarded source make it wait (429 slow_down)" || fail "slow down" "$out"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM auth_failures WHERE subject LIKE 'source:web/198.51.100.4'")" -eq 1 ] \
	&& ok "the back office counts them against the subscriber's address the site forwarded" || fail "source row" "$(sql "$DEP/ra.db" "SELECT subject FROM auth_failures")"
out=$(printf '{"account":"%s","password":"x","password":"y"}' "$MAIN" | api login)
[ "$(echo "$out" | tail -n 1)" = 400 ] && ok "API: a body with a duplicate key is 400" || fail "api dup" "$out"
out=$(printf '{"account":"%s","password":"%s","certs":"both"}' "$MAIN" "$(cat "$T/secrets/pw-new")" | api suspend)
echo "$out" | grep -q '"code":"already_held"' && [ "$(echo "$out" | tail -n 1)" = 409 ] \
	&& ok "API: suspend of held certificates is 409 already_held" || fail "api suspend" "$out"
curl -s --cacert "$T/testca.pem" "$BASE/api/v1/routes" | grep -q '"path":"/api/v1/suspend"' && ok "API: the route table is published" || fail "routes"
grep -q "/api/v1/suspend:" "$RA_TOP/docs/openapi.yaml" && grep -q "/api/v1/certificates/{serial}:" "$RA_TOP/docs/openapi.yaml" \
	&& ok "docs/openapi.yaml describes the API" || fail "openapi"

# --- the back office down: a clear answer, nothing lost ---------------------------------------
ra-ctl down >/dev/null 2>&1
out=$(printf '{"account":"%s","password":"%s"}' "$MAIN" "$(cat "$T/secrets/pw-new")" | api login)
[ "$(echo "$out" | tail -n 1)" = 503 ] && echo "$out" | grep -q '"code":"unavailable"' \
	&& ok "the back office down: the API answers 503 unavailable" || fail "queue down" "$out"

# --- the per-source rate limit -----------------------------------------------------------------
stop_web
web_config 1 5
start_web >/dev/null
codes=$(for i in 1 2 3 4 5 6 7; do curl -s --cacert "$T/testca.pem" -o /dev/null -w '%{http_code} ' "$BASE/api/v1/routes"; done)
[ "$codes" = "200 200 200 200 429 429 429 " ] || [ "$codes" = "200 200 200 200 200 429 429 " ] \
	&& ok "the rate limit: a source over its allowance gets 429 ($codes)" || fail "rate" "$codes"
stop_web

# --- the shipped unit --------------------------------------------------------------------------
mkdir -p "$T/units"
sed -e "s|/usr/local/bin/ra-web|$BUILD/bin/ra-web|" "$RA_TOP/config/systemd/ra-web.service" > "$T/units/ra-web.service"
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify --man=no "$T/units/ra-web.service" > "$T/verify.log" 2>&1 && ! grep -q . "$T/verify.log" \
		&& ok "config/systemd/ra-web.service verifies" || fail "unit verify" "$(cat "$T/verify.log")"
	score=$(systemd-analyze security --offline=true "$T/units/ra-web.service" 2>/dev/null | sed -n 's/.*exposure level for ra-web.service: \([0-9.]*\).*/\1/p')
	awk -v s="$score" 'BEGIN { exit !(s != "" && s + 0 <= 2.0) }' \
		&& ok "the unit is hardened (systemd-analyze security: $score)" || fail "unit exposure" "$score"
else
	ok "config/systemd/ra-web.service verifies # SKIP systemd-analyze not installed"
fi

# --- no clear password anywhere ----------------------------------------------------------------
leaks=0
for p in "$(cat "$T/secrets/pw-lock")" "$(cat "$T/secrets/pw-main")" "$(cat "$T/secrets/pw-new")" "Wrong-Password-9" "Wrong-Password-1"; do
	grep -rqF -- "$p" "$DEP"/log/ "$DEP"/ra.db* "$DEP"/signer/ "$SHOTS/browser.err" 2>/dev/null && leaks=$((leaks + 1))
done
[ "$leaks" -eq 0 ] && ok "no clear password in the logs (ra-web's too) or ra.db" || fail "leak" "$leaks"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE submitted_by = 'web' AND (json_extract(payload, '\$.password') <> '(redacted)' OR json_extract(payload, '\$.new_password') <> '(redacted)')")" -eq 0 ] \
	&& ok "every sealed password from the website was redacted once done" || fail "redaction"
check "audit chain intact" ra-ctl audit verify

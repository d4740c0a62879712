#!/bin/bash
# test_card_agent.sh: card-agent, the subscriber's local card service, end to end: a real
# card-agent on 127.0.0.1 with the scripted pinentry (tests/fixtures/pinentry), a virtual
# card in a vpcd reader personalized by card-station, ra-web over HTTPS relaying to the real
# daemons, and headless Chromium on ra-web's card page (tests/integration/agent_browser.py,
# a screenshot per step in $BUILD/test-logs/card-agent/): PIN change, a refused
# confirmation, three wrong PINs and unlock with the website password, renewal refused
# before its window and done inside it (the back office's clock moved with RA_NOW),
# download, export (checked by openssl verify), and a page of another origin refused.
# Without the browser: --help and --check, the host and origin checks, the CORS and
# Private Network Access preflight. No secret on a command line or in any log.
. "$(dirname "$0")/lib.sh"
. "$RA_TOP/tests/fixtures/pcsc-env.sh"
umask 077

ra_deploy 0
printf 'card_station:\n  mgm_key_alg: aes128\n' >>"$RA_CONFIG"
ra-ctl -c "$RA_CONFIG" up --workers 2 >/dev/null || { fail "ra-ctl up" "$(tail -n 5 "$DEP"/log/*.log)"; exit 1; }
ra_officers
if ! pcsc_start "$T/pcsc" 1 >"$T/readers.txt" 2>"$T/pcsc-start.log"; then
	fail "pcscd with a virtual reader" "$(cat "$T/pcsc-start.log")"
	exit 1
fi
on_exit "pcsc_stop '$T/pcsc'"
track "$(pcsc_card_start "$T/pcsc" 0 --serial 8301)"
R0="Virtual PCD 0 00 00"
CS="card-station -c $RA_CONFIG"
wait_for 10 bash -c "$CS readers 2>/dev/null | grep -q ' blank$'" || fail "a blank card" "$($CS readers 2>&1)"
register_forms clerk01 clerk02 sup01 "$RA_TOP"/config/examples/reg-01.yaml || { fail "registration approved"; exit 1; }
$CS personalize --officer op01 --passphrase-file "$OPASS" --readers "$R0" --count 1 >"$T/perso.out" 2>"$T/perso.log" ||
	{ fail "personalize" "$(tail -3 "$T/perso.log")"; exit 1; }
A=$(sql "$DEP/ra.db" "SELECT a.id FROM orders o JOIN accounts a ON a.subscriber_id = o.subscriber_id
	WHERE o.card_serial = '8301' AND o.state = 'personalized'")
[ -n "$A" ] && ok "card 8301 personalized for account $A" || { fail "card personalized"; exit 1; }

# The secrets off the subscriber's sheets, opened with the sheet key into 0600 files.
mkdir -m 700 "$T/secrets"
unseal() { sheet_unseal "$1" "$2"; }
unseal "kind = 'password' AND account_id = '$A'" "$T/secrets/pw" &&
	unseal "kind = 'pin' AND order_id = (SELECT id FROM orders WHERE card_serial = '8301')" "$T/secrets/pin0" &&
	ok "the sheets' password and PIN opened for the test" || { fail "sheet secrets"; exit 1; }
echo 48260317 >"$T/secrets/pin1"; echo 71539046 >"$T/secrets/pin2"; echo K7M2Q >"$T/secrets/code"

# --- ra-web over HTTPS with a test CA -----------------------------------------------------
freeport() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/testca.key" -out "$T/testca.pem" -days 2 -subj "/CN=ra-web test CA" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/web.key" -out "$T/web.csr" -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$T/web.ext"
openssl x509 -req -in "$T/web.csr" -CA "$T/testca.pem" -CAkey "$T/testca.key" -CAcreateserial -days 2 \
	-extfile "$T/web.ext" -out "$T/web.pem" 2>/dev/null
SPKI=$(openssl x509 -in "$T/web.pem" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
WPORT=$(freeport) APORT=$(freeport) OPORT=$(freeport)
BASE=https://127.0.0.1:$WPORT AGENT=http://127.0.0.1:$APORT OTHER=http://127.0.0.1:$OPORT
printf 'web:\n  listen: 127.0.0.1:%s\n  tls_cert: %s\n  tls_key: %s\n  test_code: K7M2Q\n  rate_per_minute: 100000\n  rate_burst: 100000\n  agent_origin: %s\n  wait_ms: 30000\n' \
	"$WPORT" "$T/web.pem" "$T/web.key" "$AGENT" >>"$RA_CONFIG"
ra-web --insecure-test >>"$DEP/log/ra-web.log" 2>&1 &
track $!
wait_for 10 curl -s --cacert "$T/testca.pem" -o /dev/null "$BASE/login" || { fail "ra-web start" "$(tail -n 5 "$DEP/log/ra-web.log")"; exit 1; }

# --- card-agent: help, configuration checks -------------------------------------------------
card-agent --help | grep -q "pinentry" && ok "card-agent --help" || fail "card-agent --help"
printf 'agent:\n  port: %s\n' "$APORT" >"$T/none.yaml"
out=$(card-agent -c "$T/none.yaml" --check 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "no origin" && ok "--check: an agent with no allowed origin is refused" || fail "no origin" "$out"
printf 'agent:\n  origins: "https://a.example/ *"\n  ra_web: http://ra.example\n' >"$T/bad.yaml"
out=$(card-agent -c "$T/bad.yaml" --check 2>&1)
[ $? -ne 0 ] && [ "$(echo "$out" | grep -c 'is not an origin')" = 2 ] && echo "$out" | grep -q "ra_web must be an https" &&
	ok "--check: every bad origin and a plain-http RA website reported at once" || fail "bad config" "$out"
cat >"$T/agent.yaml" <<EOT
agent:
  port: $APORT
  origins: $BASE
  ra_web: $BASE
  ra_web_ca: $T/testca.pem
  pinentry: $RA_TOP/tests/fixtures/pinentry/pinentry-script
  export_dir: $T/export
EOT
check "--check accepts the test configuration" card-agent -c "$T/agent.yaml" --check
export PINENTRY_ANSWERS=$T/answers PINENTRY_LOG=$T/pinentry.log
: >"$PINENTRY_LOG"
card-agent -c "$T/agent.yaml" >>"$T/agent.log" 2>&1 &
track $!
on_exit "cp '$T/agent.log' '$BUILD/test-logs/card-agent/agent.log'"
wait_for 10 curl -s -o /dev/null "$AGENT/v1/hello" || { fail "card-agent start" "$(tail -3 "$T/agent.log")"; exit 1; }
ok "card-agent listens on 127.0.0.1:$APORT"

# --- host and origin checks, CORS and Private Network Access ---------------------------------
hdr() { curl -s -D - -o "$T/body" "$@" "$AGENT/v1/hello" | tr -d '\r'; }
h=$(hdr -H "Origin: $BASE")
echo "$h" | grep -q '^HTTP/1.1 200' && echo "$h" | grep -qi "^access-control-allow-origin: $BASE\$" && grep -q '"reader":"Virtual PCD' "$T/body" &&
	ok "the allowed origin: 200, its own name in Access-Control-Allow-Origin, the reader" || fail "allowed origin" "$h $(cat "$T/body")"
h=$(hdr -H "Origin: $OTHER")
echo "$h" | grep -q '^HTTP/1.1 403' && ! echo "$h" | grep -qi '^access-control-allow' &&
	ok "another origin: 403 and no CORS header" || fail "other origin" "$h"
h=$(hdr)
echo "$h" | grep -q '^HTTP/1.1 403' && ok "no Origin header: 403" || fail "no origin" "$h"
h=$(hdr -H "Origin: $BASE" -H "Host: rebound.example:$APORT")
echo "$h" | grep -q '^HTTP/1.1 403' && ok "a Host other than the loopback (DNS rebinding): 403" || fail "host" "$h"
h=$(curl -s -D - -o /dev/null -X OPTIONS -H "Origin: $BASE" -H "Access-Control-Request-Method: POST" \
	-H "Access-Control-Request-Headers: content-type" -H "Access-Control-Request-Private-Network: true" "$AGENT/v1/pin-change" | tr -d '\r')
echo "$h" | grep -q '^HTTP/1.1 204' && echo "$h" | grep -qi '^access-control-allow-private-network: true' &&
	echo "$h" | grep -qi "^access-control-allow-origin: $BASE\$" && echo "$h" | grep -qi '^access-control-allow-headers: content-type' &&
	ok "preflight with Private Network Access: 204, Allow-Private-Network, origin, headers" || fail "preflight" "$h"
h=$(curl -s -D - -o /dev/null -X OPTIONS -H "Origin: $OTHER" -H "Access-Control-Request-Method: POST" \
	-H "Access-Control-Request-Private-Network: true" "$AGENT/v1/pin-change" | tr -d '\r')
echo "$h" | grep -q '^HTTP/1.1 403' && ! echo "$h" | grep -qi '^access-control-allow' &&
	ok "another origin's preflight: 403, nothing allowed" || fail "other preflight" "$h"
printf 'yes\n' >"$PINENTRY_ANSWERS"
code=$(curl -s -o "$T/body" -w '%{http_code}' -H "Origin: $OTHER" -H 'Content-Type: text/plain' \
	--data "{\"account\":\"$A\",\"lang\":\"en\"}" "$AGENT/v1/pin-change")
[ "$code" = 403 ] && ! grep -q CONFIRM "$PINENTRY_LOG" && ok "another origin's operation: 403 before any prompt or card step" ||
	fail "other origin's operation" "$code $(cat "$T/body")"

# --- the browser, phase 1: PIN change, block, unlock, renewal refused -------------------------
SHOTS=$BUILD/test-logs/card-agent
rm -rf "$SHOTS"; mkdir -p "$SHOTS"
/usr/bin/python3 "$RA_TOP/tests/integration/agent_browser.py" 1 "$BASE" "$SPKI" "$SHOTS" "$A" "$T/secrets" "$PINENTRY_ANSWERS" \
	2>"$SHOTS/browser1.err" || fail "browser phase 1" "$(grep -m 1 -i "exception\|error" "$SHOTS/browser1.err")"
grep -q "SETDESC The site $BASE asks to change the PIN of card 8301" "$PINENTRY_LOG" &&
	ok "the agent's window names the site, the operation and the card" || fail "confirmation text" "$(head -5 "$PINENTRY_LOG")"
grep -q "SETPROMPT Website password" "$PINENTRY_LOG" && grep -q "SETPROMPT New PIN" "$PINENTRY_LOG" &&
	ok "the PIN and the website password are asked in the agent's window" || fail "prompts" "$(grep SETPROMPT "$PINENTRY_LOG" | sort -u)"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE submitted_by = 'web' AND kind IN ('card_challenge', 'card_unlock', 'card_puk') AND state = 'done'")" -ge 3 ] &&
	ok "the unlock went to the back office through ra-web (challenge, unlock, puk)" || fail "relay jobs" \
	"$(sql "$DEP/ra.db" "SELECT kind, submitted_by, state FROM jobs WHERE kind LIKE 'card_%'")"
[ "$(sql "$DEP/ra.db" "SELECT max(version) FROM card_puk WHERE card_serial = '8301'")" -ge 1 ] 2>/dev/null &&
	ok "the released PUK was replaced on the card and recorded" || fail "puk rotated" "$(sql "$DEP/ra.db" "SELECT * FROM card_puk")"

# --- phase 2: the back office's clock 10 days before the certificates expire ----------------
na=$(sql "$DEP/ra.db" "SELECT min(not_after) FROM certificates c JOIN orders o ON o.id = c.order_id WHERE o.card_serial = '8301'")
ra-ctl -c "$RA_CONFIG" down >/dev/null 2>&1
RA_NOW=$((na - 10 * 86400)) ra-ctl -c "$RA_CONFIG" up --workers 2 >/dev/null 2>&1 || fail "restart with RA_NOW"
mkdir -p "$T/other"
cat >"$T/other/index.html" <<EOT
<!doctype html><title>another site</title><p id="result"></p><script>
var out = document.getElementById('result');
fetch('$AGENT/v1/pin-change', {method: 'POST', mode: 'cors', headers: {'Content-Type': 'application/json'},
  body: JSON.stringify({account: '$A', lang: 'en'})})
 .then(function (r) { out.textContent = 'answered ' + r.status; })
 .catch(function (e) { out.textContent = 'refused: ' + e; });
</script>
EOT
(cd "$T/other" && exec /usr/bin/python3 -m http.server --bind 127.0.0.1 "$OPORT" >"$T/other.log" 2>&1) &
track $!
wait_for 10 curl -s -o /dev/null "$OTHER/"
confirms=$(grep -c CONFIRM "$PINENTRY_LOG")
/usr/bin/python3 "$RA_TOP/tests/integration/agent_browser.py" 2 "$BASE" "$SPKI" "$SHOTS" "$A" "$T/secrets" "$PINENTRY_ANSWERS" "$OTHER/" \
	2>"$SHOTS/browser2.err" || fail "browser phase 2" "$(grep -m 1 -i "exception\|error" "$SHOTS/browser2.err")"
[ "$(grep -c CONFIRM "$PINENTRY_LOG")" = $((confirms + 3)) ] && grep -q "refused a POST /v1/pin-change from origin $OTHER\|refused a OPTIONS /v1/pin-change from origin $OTHER" "$T/agent.log" &&
	ok "the other origin's page reached no prompt; the agent logged the refusal" || fail "other origin in browser" "$(tail -3 "$T/agent.log")"
n=$(ls "$SHOTS"/*.png 2>/dev/null | wc -l)
[ "$n" -ge 11 ] && ok "a screenshot of each step in test-logs/card-agent ($n)" || fail "screenshots" "$n"

# --- the exported files ----------------------------------------------------------------------
# (The renewed certificates start at the back office's moved clock: verify at that time.)
openssl verify -attime $((na - 10 * 86400 + 3600)) -CAfile "$T/export/ca-chain.pem" "$T/export/card-8301-signature.pem" "$T/export/card-8301-encryption.pem" >"$T/verify.out" 2>&1 &&
	ok "the exported certificates verify against the exported CA chain" || fail "export verify" "$(cat "$T/verify.out")"
new=$(sql "$DEP/ra.db" "SELECT serial FROM certificates WHERE usage = 'signature' AND not_after > $na
	AND subscriber_id = (SELECT subscriber_id FROM accounts WHERE id = '$A') ORDER BY not_after DESC LIMIT 1")
exp=$(openssl x509 -in "$T/export/card-8301-signature.pem" -noout -serial | cut -d= -f2)
[ -n "$new" ] && [ "$(echo "$exp" | tr A-F a-f)" = "$(echo "$new" | tr A-F a-f)" ] &&
	ok "the card holds the renewed signature certificate" || fail "renewed cert on card" "card $exp, ledger $new"

# --- no secret anywhere ------------------------------------------------------------------------
leaks=0
for f in pw pin0 pin1 pin2; do
	grep -rqF -- "$(cat "$T/secrets/$f")" "$T/agent.log" "$PINENTRY_LOG" "$DEP"/log/ "$DEP"/ra.db* "$SHOTS"/*.err 2>/dev/null && leaks=$((leaks + 1))
done
[ "$leaks" = 0 ] && ok "no password or PIN in the agent's, pinentry's, daemons' logs or the ledger" || fail "secrets leaked" "$leaks"

# --- packaging: make install-agent and the systemd user unit ---------------------------------
make -s -C "$RA_TOP" BUILD="$BUILD" install-agent DESTDIR="$T/inst" PREFIX=/usr/local >"$T/install.log" 2>&1 &&
	[ -x "$T/inst/usr/local/bin/card-agent" ] && [ -f "$T/inst/usr/local/share/card-agent/agent.yaml.example" ] &&
	grep -q '^ExecStart=/usr/local/bin/card-agent$' "$T/inst/usr/local/lib/systemd/user/card-agent.service" &&
	ok "make install-agent: the program, the user unit with its path, the example configuration" ||
	fail "install-agent" "$(tail -3 "$T/install.log")"
"$T/inst/usr/local/bin/card-agent" -c "$RA_TOP/config/card-agent/agent.yaml" --check >/dev/null 2>&1 &&
	ok "the example configuration passes --check" || fail "example config"
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$T/units"
	sed "s|/usr/local/bin/card-agent|$BUILD/bin/card-agent|" "$T/inst/usr/local/lib/systemd/user/card-agent.service" >"$T/units/card-agent.service"
	systemd-analyze verify --man=no "$T/units/card-agent.service" >"$T/verify.log" 2>&1 && ! grep -q . "$T/verify.log" &&
		ok "the user unit verifies" || fail "unit verify" "$(cat "$T/verify.log")"
fi

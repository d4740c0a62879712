#!/bin/bash
# The subscribers' website, for make demo (tools/demo.sh calls it after the lifecycle,
# with RA_CONFIG set and the daemons up):
#
#   1. three subscribers with valid certificates get a password sheet at the counter (a
#      password-reset form; the password read off the printed sheet, as in
#      demo-lifecycle.sh);
#   2. ra-web serves HTTPS on a free loopback port with a certificate from a throw-away
#      demo CA;
#   3. headless Chromium (tools/demo-web.py) logs each of them in (account, password,
#      verification code), looks at the certificates, and the last one suspends the
#      encryption certificate with a reason; a screenshot of every page in OUTDIR/web/;
#   4. with the demo's virtual cards (not DEMO_SOFTWARE): one card back in a reader,
#      card-agent on 127.0.0.1, and its subscriber on the website's card page resets the
#      forgotten PIN with the website password and then changes it, each confirmed and
#      typed in the agent's window (tools/demo-agent.py; the scripted pinentry of the tests
#      stands in for the subscriber, as the demo does for officers' passphrases).
#
# The verification code: a browser program cannot read the picture, so the demo runs
# ra-web with a fixed code (web.test_code) and --insecure-test, the path a production
# configuration refuses (README, "The verification code in tests").
#
# usage: tools/demo-web.sh OUTDIR     last line: "N online operations (M through the card agent)"
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
export PATH="$BUILD/bin:$PATH"
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR (with RA_CONFIG set)" >&2; exit 2; }
[ -n "${RA_CONFIG:-}" ] && [ -f "$RA_CONFIG" ] || { echo "demo-web: RA_CONFIG must name the deployment's ra.yaml" >&2; exit 2; }
out=$1/web
dep=$(cd "$(dirname "$RA_CONFIG")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ra-web-demo.XXXXXX")
chmod 700 "$work"
web_pid= agent_pid=
pcdemo=$(dirname "$1")/pcsc
cleanup() {
	# Under set -e: a helper that fails here must not change the stage's verdict.
	if [ -n "$agent_pid" ]; then kill "$agent_pid" 2>/dev/null || true; wait "$agent_pid" 2>/dev/null || true; fi
	[ -n "$web_pid" ] && kill "$web_pid" 2>/dev/null && wait "$web_pid" 2>/dev/null
	if [ -d "$work/pcsc" ]; then pcsc_stop "$work/pcsc" >/dev/null 2>&1 || true; fi
	rm -rf "$work" "$dep/.demo-web.yaml" "$dep/.demo-web-notifier.yaml"
}
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }
ncfg=$RA_CONFIG
if ! grep -q '^notifier:' "$RA_CONFIG"; then
	ncfg=$dep/.demo-web-notifier.yaml
	{ cat "$RA_CONFIG"; printf 'notifier:\n  templates_dir: %s/config/templates\n' "$top"; } > "$ncfg"
fi
. "$top/tools/demo-forms.sh"

mapfile -t accounts < <(ra-ctl certs | awk 'NR > 1 && $3 == "valid" { n[$4]++ } END { for (a in n) if (n[a] == 2) print a }' | sort | tail -n 3)
[ "${#accounts[@]}" -eq 3 ] || { echo "demo-web: needs 3 subscribers with two valid certificates" >&2; exit 1; }
stamp=$(date -u +%H%M%S)
step "password sheets for ${accounts[*]} (counter pickup)"
i=0
for a in "${accounts[@]}"; do
	i=$((i + 1))
	echo "password sheet $(password "$a" "DEMO-WEB$i-$stamp") printed at the counter"
done

step "ra-web over HTTPS on the loopback (demo CA)"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/ca.key" -out "$work/ca.pem" -days 2 -subj "/CN=ra-web demo CA" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout "$work/web.key" -out "$work/web.csr" -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$work/web.ext"
openssl x509 -req -in "$work/web.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 2 \
	-extfile "$work/web.ext" -out "$work/web.pem" 2>/dev/null
spki=$(openssl x509 -in "$work/web.pem" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
freeport() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(freeport) aport=$(freeport)
printf 'D3M0W\n' > "$work/code"
{ cat "$RA_CONFIG"; printf 'web:\n  listen: 127.0.0.1:%s\n  tls_cert: %s\n  tls_key: %s\n  test_code: D3M0W\n  rate_burst: 1000\n  agent_origin: http://127.0.0.1:%s\n' \
	"$port" "$work/web.pem" "$work/web.key" "$aport"; } > "$dep/.demo-web.yaml"
before=$(sqlite3 -batch -noheader "$dep/ra.db" "SELECT count(*) FROM jobs WHERE submitted_by = 'web'")
ra-web -c "$dep/.demo-web.yaml" --insecure-test >>"$dep/log/ra-web.log" 2>&1 &
web_pid=$!
for _ in $(seq 1 100); do curl -s --cacert "$work/ca.pem" -o /dev/null "https://127.0.0.1:$port/login" && break; sleep 0.1; done
echo "ra-web on https://127.0.0.1:$port (log: $dep/log/ra-web.log)"

step "three subscribers log in with headless Chromium; one suspends a certificate"
rm -rf "$out"
/usr/bin/python3 "$top/tools/demo-web.py" "https://127.0.0.1:$port" "$spki" "$out" "$work" "${accounts[@]}"
ops=$(( $(sqlite3 -batch -noheader "$dep/ra.db" "SELECT count(*) FROM jobs WHERE submitted_by = 'web' AND state = 'done'") - before ))

agent_ops=0
if ls "$pcdemo"/card-*.state >/dev/null 2>&1; then
	step "the card agent: a forgotten PIN reset, then a PIN change, from the website's card page"
	. "$top/tests/fixtures/pcsc-env.sh"
	# pcsc-env.sh's functions are written for scripts without `set -e`: call them in a test.
	if pcsc_start "$work/pcsc" 1 >"$work/readers.txt" 2>"$work/pcsc.log"; then
		card= acct=
		for st in "$pcdemo"/card-*.state; do
			cp "$st" "$work/pcsc/card-0.state"
			pcsc_card_start "$work/pcsc" 0 >/dev/null || break
			for _ in $(seq 1 50); do
				card=$(card-station readers 2>/dev/null | awk '$1 == "Virtual" && $6 == "yes" && $NF == "personalized" { print $(NF-1) }')
				[ -n "$card" ] && break
				sleep 0.1
			done
			# A card whose subscriber still has both certificates valid.
			acct=$(sqlite3 -batch -noheader "$dep/ra.db" "SELECT a.id FROM orders o JOIN accounts a ON a.subscriber_id = o.subscriber_id
				WHERE o.card_serial = '$card' AND o.state = 'personalized' AND (SELECT count(*) FROM certificates c
				WHERE c.order_id = o.id AND c.status = 'valid') = 2" 2>/dev/null)
			[ -n "$card" ] && [ -n "$acct" ] && break
			pcsc_card_stop "$work/pcsc" 0
			card= acct=
		done
		if [ -n "$acct" ]; then
			echo "card $card of $acct in the reader; password sheet $(password "$acct" "DEMO-AGENT-$stamp") printed at the counter"
			printf '48260317\n' > "$work/pin1"; printf '71539046\n' > "$work/pin2"
			printf 'agent:\n  port: %s\n  origins: https://127.0.0.1:%s\n  ra_web: https://127.0.0.1:%s\n  ra_web_ca: %s\n  pinentry: %s\n  export_dir: %s\n' \
				"$aport" "$port" "$port" "$work/ca.pem" "$top/tests/fixtures/pinentry/pinentry-script" "$work/export" > "$work/agent.yaml"
			PINENTRY_ANSWERS=$work/agent-answers card-agent -c "$work/agent.yaml" >>"$dep/log/card-agent.log" 2>&1 &
			agent_pid=$!
			for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$aport/v1/hello" && break; sleep 0.1; done
			echo "card-agent on http://127.0.0.1:$aport (log: $dep/log/card-agent.log)"
			/usr/bin/python3 "$top/tools/demo-agent.py" "https://127.0.0.1:$port" "$spki" "$out" "$work" "$acct" | tee "$work/agent.out"
			agent_ops=$(tail -n 1 "$work/agent.out" | awk '{ print $1 + 0 }')
			# The card keeps what happened to it (its PIN, its PUK now one version on, as
			# the ledger says): the state goes back where the demo's cards live.
			pcsc_card_stop "$work/pcsc" 0 || true
			cp "$work/pcsc/card-0.state" "$st"
		else
			echo "no card of a subscriber with valid certificates: no card agent step"
		fi
	else
		echo "pcscd did not start: no card agent step"
	fi
fi
echo "screenshots in $out"
echo "$((ops + agent_ops)) online operations ($agent_ops through the card agent)"

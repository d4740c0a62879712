#!/bin/bash
# make demo: the main job end to end on the embedded defaults, in var/demo.
#
#   1. a fresh deployment (ra-ctl init, which makes the officer CA and the administrator
#      "admin") and its daemons: ca-signer, ra-queue, 2 ra-workers; then the officers
#      clerk01, clerk02 (clerks), sup01 (supervisor) and op01 (card operator), each with a
#      credential of their own (ra-ctl officer add). Their passphrases are random, in
#      var/demo/passphrases/ID (0600): a demo stands in for people typing them.
#   2. the 20 example registration forms keyed (clerk01), second-keyed blind (clerk02)
#      and approved (sup01), as counter staff do it with ra-intake, each step signed with
#      that officer's credential; one more form rejected (sup01), a subscriber found
#   3. each card order personalized by card-station on virtual PIV cards in 4 PC/SC
#      readers (pcscd + vpcd), keys made on the card (tools/demo-cards.sh); or, with
#      DEMO_SOFTWARE=1, software keys and PKCS#10 requests made with openssl and sent
#      with ra-ctl request-certs
#   4. every certificate checked with `openssl verify` against the CA
#   5. the lifecycle: one subscriber revoked, one suspended, one suspended and resumed,
#      the CRL checked with `openssl verify -crl_check` (tools/demo-lifecycle.sh)
#   6. the notifier: renewal notices through a real SMTP server with the clock 11 months
#      and a day ahead, password and PIN sheets printed (tools/demo-notifier.sh)
#   7. online: ra-web over HTTPS, three subscribers log in with headless Chromium and one
#      suspends a certificate; one card back in a reader, and through card-agent its
#      subscriber resets the PIN with the website password and changes it (tools/demo-web.sh)
# Leaves var/demo/out/{ca.pem,certs/,cards/,crl.pem,mail/,sheets/,web/}; the last line is the
# summary, and the exit status is 0 only if every certificate verified.
set -euo pipefail
umask 077	# every file the demo writes may hold a secret (keys, PIN and password sheets, mail)
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
export PATH="$BUILD/bin:$PATH"
demo=$top/var/demo
out=$demo/out
cfg=$demo/ra.yaml
export RA_CONFIG=$cfg

. "$top/tools/demo-stage.sh"
step() { printf '\n== %s\n' "$*"; }
stop() { ra-ctl -c "$cfg" down >/dev/null 2>&1 || true; }

[ -f "$cfg" ] && stop
rm -rf "$demo"
step "deployment in var/demo"
pp=$demo/passphrases
mkdir -p "$pp"
chmod 700 "$pp"
for o in admin clerk01 clerk02 sup01 op01; do (umask 077; openssl rand -base64 18 > "$pp/$o"); done
ra-ctl init "$demo" --passphrase-file "$pp/admin"
trap stop EXIT
ra-ctl -c "$cfg" up --workers 2
step "officers, each with a credential of their own"
for o in clerk01:clerk clerk02:clerk sup01:supervisor op01:operator; do
	ra-ctl officer add "${o%%:*}" --role "${o##*:}" --officer admin --passphrase-file "$pp/admin" \
		--new-passphrase-file "$pp/${o%%:*}"
done
ra-ctl officer list
# as ID: the options that make ID the signing officer.
as() { printf '%s\n' --officer "$1" --passphrase-file "$pp/$1"; }

forms=("$top"/config/examples/reg-*.yaml)
step "keying ${#forms[@]} registration forms (clerk01)"
for f in "${forms[@]}"; do ra-intake import $(as clerk01) "$f" >/dev/null; done
echo "keyed ${#forms[@]} forms"
step "second keying, blind (clerk02)"
for f in "${forms[@]}"; do ra-intake verify $(as clerk02) --file "$f" >/dev/null; done
echo "verified ${#forms[@]} forms"
step "approval (sup01)"
for f in "${forms[@]}"; do
	serial=$(sed -n 's/^serial: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$f")
	ra-intake approve $(as sup01) "$serial" | head -n 1
done
step "a form rejected (sup01) and a subscriber found at the counter (clerk01)"
sed -e 's/^serial: .*/serial: DEMO-REJ-1/' -e 's/^national_id: .*/national_id: A123456789/' \
	-e 's/^name: .*/name: 陳示範/' "${forms[0]}" >"$demo/rejected.yaml"
ra-intake import $(as clerk01) "$demo/rejected.yaml" >/dev/null
ra-intake reject $(as sup01) --reason documents --note "the ID card shown is not the applicant's" DEMO-REJ-1
ra-intake find $(as clerk01) --national-id "$(sed -n 's/^national_id: //p' "${forms[0]}")" | sed -n '2,4p;$p'

mkdir -p "$out/certs"
if [ "${DEMO_SOFTWARE:-0}" = 1 ]; then
	step "certificate requests from software keys"
	mkdir -p "$out/keys"
	orders=$(ra-ctl orders --state approved | awk 'NR > 1 { print $1 }')
	for o in $orders; do
		for u in sign enc; do
			openssl req -new -newkey rsa:2048 -nodes -keyout "$out/keys/order$o-$u.key" \
				-subj "/CN=order $o" -out "$out/keys/order$o-$u.csr" 2>/dev/null
		done
		ra-ctl request-certs "$o" --sign-csr "$out/keys/order$o-sign.csr" \
			--enc-csr "$out/keys/order$o-enc.csr" $(as op01) | tail -n 2
	done
	cards=""
else
	step "card personalization on 4 virtual PC/SC readers (card-station)"
	demo_stage cards "$top/tools/demo-cards.sh" "$out"
	cards=", ${cards%% *} cards personalized"
fi
ra-ctl certs --out "$out/certs" >/dev/null

step "verification with openssl verify"
cp "$demo/signer/ca.pem" "$out/ca.pem"
issued=0 verified=0
for c in "$out"/certs/*.pem; do
	issued=$((issued + 1))
	if openssl verify -CAfile "$out/ca.pem" "$c" >/dev/null 2>&1; then
		verified=$((verified + 1))
	else
		echo "NOT VERIFIED: $c"
	fi
done
step "lifecycle: revocation, suspension, resume, CRL"
demo_stage lifecycle "$top/tools/demo-lifecycle.sh" "$out"
step "notifier: renewal notices and sheets"
demo_stage notifier "$top/tools/demo-notifier.sh" "$out"
step "online: the subscribers' website (ra-web, headless Chromium)"
demo_stage online "$top/tools/demo-web.sh" "$out"
step "audit chain"
ra-ctl audit verify
step "the day's report (ra-ctl report: PDF and CSV)"
mkdir -p "$out/report"
day=$(date -u +%F)
ra-ctl report --day "$day" --format pdf --out "$out/report/report-$day.pdf"
ra-ctl report --day "$day" --out "$out/report/report-$day.csv"
stop
trap - EXIT
echo "demo: ${#forms[@]} forms, $issued certificates issued, $verified verified$cards, $lifecycle, $notifier, $online"
[ "$issued" -gt 0 ] && [ "$issued" -eq "$verified" ] && [ "$issued" -eq $(( ${#forms[@]} * 2 )) ]

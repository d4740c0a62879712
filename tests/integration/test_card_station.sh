#!/bin/bash
# test_card_station.sh: bulk personalization through the back office, over the real
# pcscd with four virtual readers, checked with tools nobody here wrote.
#
# 1. Four approved orders, four blank cards: `card-station personalize` does them in
#    parallel; each card then holds its order's two certificates (yubico-piv-tool,
#    pkcs15-tool, openssl verify) and signs through OpenSC with the subscriber PIN, which
#    the test reads by opening the sealed PIN sheet with the sheet private key (an
#    independent reading of lib/seal.h's format, in Python) and never prints.
# 2. Faults in one run: a card pulled out during key generation, a card answering errors
#    after its certificates were issued, a card that is not blank, beside a good card that
#    goes on. Then the queue down, the signer down, a card with its PIN blocked.
# 3. card-station killed (SIGKILL) in the middle of a batch, run again: every order ends
#    with one card and one valid pair; nothing at the signer that the RA does not know.
# 4. No PIN, master key or sheet passphrase in any log or output.
. "$(dirname "$0")/lib.sh"
. "$RA_TOP/tests/fixtures/pcsc-env.sh"

PKCS11=$(find /usr/lib -name opensc-pkcs11.so 2>/dev/null | head -1)
PY=/usr/bin/python3
R=("Virtual PCD 0 00 00" "Virtual PCD 0 00 01" "Virtual PCD 1 00 00" "Virtual PCD 1 00 01")

ra_deploy 2
# A signer that is gone is given up on quickly (the signer-down case).
sed -i -e '/^worker:/a\  signer_timeout_ms: 1000' "$DEP/ra.yaml"
grep -q '^worker:' "$DEP/ra.yaml" || printf 'worker:\n  signer_timeout_ms: 1000\n' >>"$DEP/ra.yaml"
ra-ctl down >/dev/null
ra-ctl up --workers 2 >/dev/null || { fail "ra-ctl up" "$(tail -n 5 "$DEP"/log/*.log)"; exit 1; }
forms() { local i; for i in "$@"; do printf '%s/config/examples/reg-%02d.yaml\n' "$RA_TOP" "$i"; done; }

if ! pcsc_start "$T/pcsc" 4 >"$T/readers.txt" 2>"$T/pcsc-start.log"; then
	fail "pcscd with four virtual readers" "$(cat "$T/pcsc-start.log")"
	exit 1
fi
on_exit "pcsc_stop '$T/pcsc'"

# card I SERIAL [vpiv options]: put a card in reader I (a fresh state unless --keep).
card() {
	local i=$1 serial=$2
	shift 2
	pcsc_card_stop "$T/pcsc" "$i"
	rm -f "$T/pcsc/card-$i.state"
	track "$(pcsc_card_start "$T/pcsc" "$i" --serial "$serial" "$@")"
}
# cards_in STATE N: `card-station readers` shows N cards in STATE.
cards_in() { [ "$(card-station readers 2>/dev/null | grep -c " $1\$")" -eq "$2" ]; }
q() { sql "$DEP/ra.db" "$1"; }
qs() { sql "$DEP/signer/signer.db" "$1"; }

# open_pin ORDER FILE: the PIN of ORDER's PIN sheet into FILE (mode 0600), never printed.
open_pin() {
	q "SELECT hex(sealed) FROM sheets WHERE kind = 'pin' AND order_id = $1 ORDER BY id DESC LIMIT 1" |
		(umask 077; $PY -c '
import sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
raw = dict(encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw)
dep, out = sys.argv[1], sys.argv[2]
box = bytes.fromhex(sys.stdin.read().strip())
pw = open(dep + "/keys/sheets.pass", "rb").read().strip()
priv = serialization.load_pem_private_key(open(dep + "/keys/sheets.key", "rb").read(), pw or None)
assert box[0] == 1
ep, nonce, ct = box[1:33], box[33:45], box[45:]
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
eph = X25519PublicKey.from_public_bytes(ep)
rp = priv.public_key().public_bytes(**raw)
key = HKDF(hashes.SHA256(), 32, ep + rp, b"ra sheet seal v1").derive(priv.exchange(eph))
open(out, "w").write(AESGCM(key).decrypt(nonce, ct, None).decode() + "\n")
' "$DEP" "$2")
}

# --- 1. four cards in parallel ------------------------------------------------------------
if register_forms clerk01 clerk02 sup01 $(forms 1 2 3 4); then ok "4 forms keyed, verified and approved"; else fail "4 forms approved"; fi
for i in 0 1 2 3; do card $i $((6001 + i)); done
wait_for 15 cards_in blank 4 || fail "four blank cards seen" "$(card-station readers 2>&1)"

# (A bulk run ends when no order waits: bounded here, so that a card failing for a reason
# of its own leaves a "not ok" with the run's lines, not a suite timeout.)
timeout 300 card-station personalize --officer op01 --passphrase-file "$OPASS" --station counter-1 >"$T/run1.out" 2>"$T/run1.log"
rc=$?
[ "$rc" -eq 0 ] && ok "personalize: four cards, exit 0" || fail "personalize: four cards" "exit $rc: $(tail -5 "$T/run1.log")"
[ "$(q "SELECT count(*) FROM orders WHERE state = 'personalized'")" -eq 4 ] &&
	ok "four orders personalized" || fail "four orders personalized" "$(q "SELECT id, state, card_serial FROM orders")"
check "the summary table lists the four cards" bash -c "[ \$(grep -c ' personalized  ' '$T/run1.out') -eq 4 ]"
check "a total with a rate" grep -q "^total: 4 personalized, 0 failed.*cards/min" "$T/run1.out"
# metrics: the run's textfile (metrics.dir/card-station.prom) counts the cards by reader
check "card-station.prom passes promtool check metrics" sh -c "promtool check metrics < '$DEP/metrics/card-station.prom'"
[ "$(awk '/^ra_station_cards_total[{]station="counter-1",reader=".*",result="personalized"[}] [0-9]+$/ { n += $NF; r++ }
	END { print n + 0, r + 0 }' "$DEP/metrics/card-station.prom")" = "4 4" ] \
	&& awk '$1 == "ra_station_cards_per_minute{station=\"counter-1\"}" && $2 > 0 { f = 1 } END { exit !f }' "$DEP/metrics/card-station.prom" \
	&& ok "metrics: four cards personalized on four readers, a rate in cards per minute" \
	|| fail "card-station metrics" "$(cat "$DEP/metrics/card-station.prom")"
check "a live line per reader and step" grep -q "Virtual PCD 1 00 01 .*card 6004 .*generate 9C" "$T/run1.out"
check "readers: four personalized cards" cards_in personalized 4
[ "$(q "SELECT count(DISTINCT card_serial) FROM orders WHERE state = 'personalized'")" -eq 4 ] &&
	ok "each order got its own card" || fail "each order got its own card"
[ "$(q "SELECT count(*) FROM sheets WHERE kind = 'pin' AND sealed IS NOT NULL")" -eq 4 ] &&
	ok "a sealed PIN sheet queued per card" || fail "sealed PIN sheets"

for i in 0 1 2 3; do
	serial=$((6001 + i))
	order=$(q "SELECT id FROM orders WHERE card_serial = '$serial'")
	yubico-piv-tool -r "${R[$i]}" -a status >"$T/status-$i.txt" 2>&1
	if grep -q "Slot 9c" "$T/status-$i.txt" && grep -q "Slot 9d" "$T/status-$i.txt" && grep -q '^CHUID:' "$T/status-$i.txt"; then
		ok "card $serial: yubico-piv-tool sees 9C, 9D and the CHUID"
	else
		fail "card $serial: yubico-piv-tool status" "$(head -20 "$T/status-$i.txt")"
	fi
	pkcs15-tool -r $i --list-certificates >"$T/p15-$i.txt" 2>&1
	check "card $serial: pkcs15-tool lists two certificates" test "$(grep -c 'X.509 Certificate' "$T/p15-$i.txt")" -eq 2
	good=0 match=0
	for s in 9c 9d; do
		yubico-piv-tool -r "${R[$i]}" -a read-certificate -s $s >"$T/c$i-$s.pem" 2>>"$T/check.log"
		openssl verify -CAfile "$DEP/signer/ca.pem" "$T/c$i-$s.pem" >>"$T/check.log" 2>&1 && good=$((good + 1))
		sn=$(openssl x509 -in "$T/c$i-$s.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
		[ "$(q "SELECT count(*) FROM certificates WHERE order_id = $order AND lower(serial) = '$sn' AND status = 'valid'")" -eq 1 ] &&
			match=$((match + 1))
	done
	[ "$good" -eq 2 ] && ok "card $serial: openssl verify accepts both certificates" || fail "card $serial: openssl verify" "$good of 2"
	[ "$match" -eq 2 ] && ok "card $serial: both are order $order's valid certificates" || fail "card $serial: certificates of order $order" "$match of 2"
	open_pin "$order" "$T/pin-$i"
	echo "card $serial signs" >"$T/msg-$i"
	if [ -n "$PKCS11" ] && pkcs11-tool --module "$PKCS11" --slot-index $i --login --pin "$(cat "$T/pin-$i")" --sign \
		-m SHA256-RSA-PKCS --id 02 -i "$T/msg-$i" -o "$T/sig-$i" >>"$T/check.log" 2>&1; then
		openssl x509 -in "$T/c$i-9c.pem" -noout -pubkey >"$T/pub-$i"
		check "card $serial: OpenSC signs with the sealed PIN; openssl verifies" \
			openssl dgst -sha256 -verify "$T/pub-$i" -signature "$T/sig-$i" "$T/msg-$i"
	else
		fail "card $serial: OpenSC signs with the sealed PIN" "pkcs11-tool failed"
	fi
done

# --- 2. faults ------------------------------------------------------------------------------
register_forms clerk01 clerk02 sup01 $(forms 5 6 7 8) || fail "4 more forms approved"
card 0 6101 --keygen-delay-ms 3000          # pulled out while it generates a key
card 1 6102 --fault sw:DB=6581              # errors once its certificates are issued
card 2 6103                                  # someone else's card: not blank
card 3 6104                                  # a good card
wait_for 15 cards_in blank 4
yubico-piv-tool -r "${R[2]}" -a set-mgm-key -n 0F0E0D0C0B0A09080706050403020100F0E0D0C0B0A09080 >>"$T/check.log" 2>&1
card-station personalize --officer op01 --passphrase-file "$OPASS" --count 4 --station counter-1 >"$T/run2.out" 2>"$T/run2.log" &
ppid=$!
track $ppid
if wait_for 60 grep -q "${R[0]} .*card 6101 .*generate 9C" "$T/run2.out"; then
	pcsc_card_stop "$T/pcsc" 0
fi
wait $ppid
rc=$?
[ "$rc" -ne 0 ] && ok "faults: personalize exits non-zero" || fail "faults: personalize exits non-zero"
check "faults: the good card beside them is personalized" grep -q "^${R[3]} *6104 .*personalized" "$T/run2.out"
check "faults: the pulled card is reported failed" grep -q "^${R[0]} *6101 .*FAILED" "$T/run2.out"
check "faults: the card answering errors is reported failed" grep -q "^${R[1]} *6102 .*FAILED.*given back" "$T/run2.out"
check "faults: the non-blank card is set aside, not claimed" grep -q "^${R[2]} *6103 .*FAILED *.*not blank" "$T/run2.out"
[ "$(q "SELECT count(*) FROM orders WHERE card_serial IN ('6101','6102','6103')")" -eq 0 ] &&
	ok "faults: no order stays with a failed card" || fail "faults: orders of failed cards" "$(q "SELECT id, state, card_serial FROM orders")"
[ "$(q "SELECT count(*) FROM orders WHERE state = 'approved'")" -eq 3 ] &&
	ok "faults: their orders are back in the queue" || fail "faults: orders back" "$(q "SELECT id, state, card_serial FROM orders")"
n=$(q "SELECT count(*) FROM certificates c JOIN orders o ON o.id = c.order_id WHERE o.state = 'approved' AND c.status = 'revoked'")
[ "$n" -eq 2 ] && ok "faults: the errored card's two certificates are revoked" || fail "faults: revoked" "$n"
[ "$(q "SELECT count(*) FROM certificates c JOIN orders o ON o.id = c.order_id WHERE o.state <> 'personalized' AND c.status = 'valid'")" -eq 0 ] &&
	ok "faults: no valid certificate for an unfinished card" || fail "faults: valid certificates left"
[ "$(qs "SELECT count(*) FROM certs WHERE status = 'revoked'")" -eq 2 ] &&
	ok "faults: the signer has them revoked too" || fail "faults: signer revocations" "$(qs "SELECT serial, status FROM certs" 2>&1 | tail -3)"

# The queue down: the card is reported, nothing is claimed.
card 3 6105
wait_for 15 cards_in blank 1
kill "$(cat "$DEP/run/ra-queue.pid")"
wait_for 10 bash -c "! kill -0 $(cat "$DEP/run/ra-queue.pid") 2>/dev/null"
card-station personalize --officer op01 --passphrase-file "$OPASS" --readers "${R[3]}" --count 1 --station counter-1 >"$T/run3.out" 2>"$T/run3.log"
rc=$?
[ "$rc" -ne 0 ] && grep -q "^${R[3]} *6105 .*FAILED.*queue" "$T/run3.out" &&
	ok "queue down: the card is reported, exit non-zero" || fail "queue down" "exit $rc: $(tail -3 "$T/run3.out") $(tail -3 "$T/run3.log")"
check "the queue comes back" ra-ctl up --workers 2
# The signer down: the issue job waits for it (jobs do not fail while the signer is
# away), the station gives up on the card after card_station.issue_timeout_ms (short
# here), the order goes back, nothing is issued.
printf 'card_station:\n  issue_timeout_ms: 5000\n' >>"$DEP/ra.yaml"
kill "$(cat "$DEP/run/ca-signer.pid")"
wait_for 10 bash -c "! kill -0 $(cat "$DEP/run/ca-signer.pid") 2>/dev/null"
card-station personalize --officer op01 --passphrase-file "$OPASS" --readers "${R[3]}" --count 1 --station counter-1 >"$T/run4.out" 2>"$T/run4.log"
rc=$?
[ "$rc" -ne 0 ] && grep -q "^${R[3]} *6105 .*FAILED.*issue.*given back" "$T/run4.out" &&
	ok "signer down: the card is reported, its order given back" || fail "signer down" "exit $rc: $(tail -3 "$T/run4.out") $(tail -3 "$T/run4.log")"
[ "$(q "SELECT count(*) FROM orders WHERE state = 'approved'")" -eq 3 ] &&
	ok "signer down: the order is waiting again" || fail "signer down: orders" "$(q "SELECT id, state, card_serial FROM orders")"
sed -i '/^card_station:$/,/^  issue_timeout_ms: 5000$/d' "$DEP/ra.yaml"
check "the signer comes back" ra-ctl up --workers 2
# A card whose PIN is blocked is not blank: reported, set aside, no order claimed.
card 3 6106
wait_for 15 cards_in blank 1
for k in 1 2 3; do yubico-piv-tool -r "${R[3]}" -a verify-pin -P 000000 >/dev/null 2>&1; done
card-station personalize --officer op01 --passphrase-file "$OPASS" --readers "${R[3]}" --count 1 --station counter-1 >"$T/run4b.out" 2>"$T/run4b.log"
rc=$?
[ "$rc" -ne 0 ] && grep -q "^${R[3]} *6106 .*FAILED.*not blank (locked)" "$T/run4b.out" &&
	[ "$(q "SELECT count(*) FROM orders WHERE card_serial = '6106'")" -eq 0 ] &&
	ok "blocked PIN: the card is set aside, no order claimed" || fail "blocked PIN" "exit $rc: $(tail -3 "$T/run4b.out")"

# --- 3. killed mid-batch, run again -----------------------------------------------------------
register_forms clerk01 clerk02 sup01 $(forms 9) || fail "1 more form approved"
for i in 0 1 2 3; do card $i $((6201 + i)) --keygen-delay-ms $((300 + 400 * i)); done
wait_for 15 cards_in blank 4
card-station personalize --officer op01 --passphrase-file "$OPASS" --station counter-1 >"$T/run5.out" 2>"$T/run5.log" &
ppid=$!
track $ppid
# Killed while a card waits for its certificates: the workers are paused so that the
# issue job is still open when the station dies, and lands after it (the worst case: an
# order issued for keys the rerun must not trust). The other cards are generating keys.
# The workers stop once every card has claimed its order and is making keys (the fastest
# takes 300 ms a key), so no card can have had its certificates yet.
wpids="$(cat "$DEP"/run/ra-worker-*.pid)"
wait_for 60 bash -c "[ \$(grep -c 'generate 9C' '$T/run5.out') -ge 4 ]"
kill -STOP $wpids
wait_for 60 grep -q " issue  " "$T/run5.out"
wait_for 30 bash -c "[ \$(sqlite3 '$DEP/ra.db' \"SELECT count(*) FROM jobs WHERE kind = 'issue' AND state IN ('queued', 'leased')\") -ge 1 ]"
kill -9 $ppid
wait $ppid 2>/dev/null
# With the workers stopped, every issue job the station sent before it died is still open:
# one at least (the card that waited), more if a slower card also reached its request.
open_issues=$(q "SELECT count(*) FROM jobs WHERE kind = 'issue' AND state IN ('queued', 'leased')")
kill -CONT $wpids
timeout 300 card-station personalize --officer op01 --passphrase-file "$OPASS" --station counter-1 >"$T/run6.out" 2>"$T/run6.log"
rc=$?
[ "$rc" -eq 0 ] && ok "rerun after SIGKILL: exit 0" || fail "rerun after SIGKILL" "exit $rc: $(tail -8 "$T/run6.out") $(tail -3 "$T/run6.log")"
[ "$(q "SELECT count(*) FROM orders WHERE state = 'personalized'")" -eq 9 ] &&
	ok "rerun: every order personalized (9)" || fail "rerun: orders" "$(q "SELECT id, state, card_serial FROM orders")"
[ "$(q "SELECT count(*) FROM orders WHERE state <> 'personalized'")" -eq 0 ] &&
	ok "rerun: no order left behind" || fail "rerun: orders left"
[ "$(q "SELECT count(*) FROM (SELECT card_serial FROM orders WHERE state = 'personalized' GROUP BY card_serial HAVING count(*) > 1)")" -eq 0 ] &&
	ok "rerun: no card holds two orders" || fail "rerun: a card with two orders"
[ "$(q "SELECT count(*) FROM (SELECT order_id FROM certificates WHERE status = 'valid' GROUP BY order_id, usage HAVING count(*) <> 1)")" -eq 0 ] &&
	[ "$(q "SELECT count(*) FROM certificates WHERE status = 'valid'")" -eq 18 ] &&
	ok "rerun: exactly one valid pair per order (ra.db)" || fail "rerun: valid pairs" "$(q "SELECT order_id, usage, status FROM certificates ORDER BY order_id")"
[ "$(qs "SELECT count(*) FROM certs")" -eq "$(q "SELECT count(*) FROM certificates")" ] &&
	[ "$(qs "SELECT count(*) FROM certs WHERE status = 'valid'")" -eq 18 ] &&
	ok "rerun: the signer issued nothing the RA does not hold, 18 unrevoked" ||
	fail "rerun: signer.db" "signer $(qs "SELECT count(*) FROM certs"), ra $(q "SELECT count(*) FROM certificates")"
[ "$(q "SELECT count(*) FROM sheets WHERE kind = 'pin'")" -eq 9 ] &&
	ok "rerun: one PIN sheet per personalized card" || fail "rerun: PIN sheets" "$(q "SELECT order_id FROM sheets WHERE kind = 'pin'")"
for i in 0 1 2 3; do
	serial=$((6201 + i))
	order=$(q "SELECT id FROM orders WHERE card_serial = '$serial' AND state = 'personalized'")
	[ -n "$order" ] || continue
	yubico-piv-tool -r "${R[$i]}" -a read-certificate -s 9c >"$T/r$i.pem" 2>>"$T/check.log"
	sn=$(openssl x509 -in "$T/r$i.pem" -noout -serial 2>/dev/null | cut -d= -f2 | tr 'A-F' 'a-f')
	[ -n "$sn" ] && [ "$(q "SELECT status FROM certificates WHERE lower(serial) = '$sn'")" = valid ] &&
		ok "rerun: card $serial holds order $order's valid certificate" || fail "rerun: card $serial certificate"
done
check "rerun: the unfinished cards were wiped first" grep -q "block PIN and PUK" "$T/run6.out"
check "rerun: the earlier run's order was given back (its pair revoked) before the card was touched" grep -q "give earlier order back" "$T/run6.out"
[ "$(q "SELECT count(*) FROM certificates WHERE status = 'revoked'")" -eq $((2 + 2 * open_issues)) ] &&
	ok "rerun: revoked are only the errored card's pair and the pairs for wiped keys ($open_issues)" ||
	fail "rerun: revoked count" "$(q "SELECT count(*) FROM certificates WHERE status = 'revoked'")"
check "ra-ctl audit verify" ra-ctl audit verify

# --- dispatch: where each card went (officer-signed card_dispatch jobs) ------------------------
AS="--passphrase-file $OPASS"
O1=$(q "SELECT id FROM orders WHERE state = 'personalized' ORDER BY id LIMIT 1")
O2=$(q "SELECT id FROM orders WHERE state = 'personalized' ORDER BY id LIMIT 1 OFFSET 1")
C1=$(q "SELECT card_serial FROM orders WHERE id = $O1")
C2=$(q "SELECT card_serial FROM orders WHERE id = $O2")
out=$(ra-ctl dispatch "$O1" --counter --officer clerk01 $AS 2>&1)
echo "$out" | grep -q "order $O1: card $C1 handed over at the counter" &&
	ra-ctl orders | grep -Eq "^$O1 +personalized +[^ ]+ +$C1 +counter " &&
	ok "dispatch: a card handed over at the counter shows in ra-ctl orders" || fail "dispatch counter" "$out $(ra-ctl orders 2>&1 | grep "^$O1 ")"
out=$(ra-ctl dispatch "$O1" --mail RR123456785TW --officer op01 $AS 2>&1) &&
	fail "dispatch: a card handed over is not mailed too" "$out" ||
	{ echo "$out" | grep -q "already handed over at the counter" && ok "dispatch: a card handed over is not mailed too"; } || fail "dispatch twice" "$out"
out=$(ra-ctl dispatch "$O2" --mail 'RR 1' --officer op01 $AS 2>&1) &&
	fail "dispatch: mailing needs a tracking number" || ok "dispatch: mailing needs a tracking number"
out=$(ra-ctl dispatch "$O2" --counter --revoke --officer op01 $AS 2>&1); rc=$?
[ "$rc" = 2 ] && ok "dispatch: --revoke goes only with --returned" || fail "dispatch --revoke alone" "$rc $out"
out=$(ra-ctl dispatch "$O2" --returned --officer op01 $AS 2>&1) &&
	fail "dispatch: a card never mailed cannot come back" "$out" || ok "dispatch: a card never mailed cannot come back"
check "dispatch: mailed with its tracking number" ra-ctl dispatch "$O2" --mail RR123456785TW --officer op01 $AS
ra-ctl orders | grep -Eq "^$O2 .* mailed:RR123456785TW " && ok "dispatch: ra-ctl orders shows mailed and the tracking number" ||
	fail "dispatch mailed in orders" "$(ra-ctl orders 2>&1 | grep "^$O2 ")"
grep -q '^language:' "$DEP/ra.yaml" && sed 's/^language:.*/language: zh-TW/' "$DEP/ra.yaml" >"$DEP/ra-zh.yaml" ||
	{ cp "$DEP/ra.yaml" "$DEP/ra-zh.yaml"; echo 'language: zh-TW' >>"$DEP/ra-zh.yaml"; }
out=$(ra-ctl -c "$DEP/ra-zh.yaml" dispatch "$O2" --returned --revoke --officer op01 $AS 2>&1)
echo "$out" | grep -q "訂單 $O2：卡片 $C2 已退回，已廢止 2 張憑證，卡片已留置" &&
	ok "dispatch: returned, revoked and set aside in one step (said in Traditional Chinese)" || fail "dispatch returned --revoke" "$out"
[ "$(q "SELECT group_concat(status || '/' || reason) FROM certificates WHERE order_id = $O2")" = "revoked/cessationOfOperation,revoked/cessationOfOperation" ] &&
	[ "$(for s in $(q "SELECT serial FROM certificates WHERE order_id = $O2"); do qs "SELECT status FROM certs WHERE serial = '$s'"; done | sort -u)" = revoked ] &&
	ok "dispatch: both certificates of the returned card revoked (ra.db and the signer)" ||
	fail "dispatch revoked" "$(q "SELECT serial, status, reason FROM certificates WHERE order_id = $O2")"
[ "$(q "SELECT dispatch || ' ' || tracking FROM orders WHERE id = $O2")" = "set_aside RR123456785TW" ] &&
	ok "dispatch: the ledger holds the set-aside state and the tracking number" || fail "dispatch ledger" "$(q "SELECT dispatch, tracking FROM orders WHERE id = $O2")"
out=$(ra-ctl dispatch "$O2" --counter --officer clerk01 $AS 2>&1) &&
	fail "dispatch: a set-aside card is not handed over" "$out" || ok "dispatch: a set-aside card is not handed over"
[ "$(q "SELECT group_concat(actor || ':' || after, ' | ') FROM audit WHERE action = 'card.dispatch' AND object = 'order:$O2' ORDER BY id")" = "$(q "SELECT 'op01 (cert ' || cert_serial || '):mailed RR123456785TW | op01 (cert ' || cert_serial || '):set_aside' FROM officers WHERE id = 'op01'")" ] &&
	ok "dispatch: each step audited with the officer who signed it" || fail "dispatch audit" "$(q "SELECT actor, after FROM audit WHERE action = 'card.dispatch'")"
check "ra-ctl audit verify after dispatch" ra-ctl audit verify
# the report of the day the cards went out (the day taken from the ledger, not the clock)
day=$(q "SELECT date(at, 'unixepoch') FROM audit WHERE action = 'card.dispatch' ORDER BY id DESC LIMIT 1")
ra-ctl report --day "$day" >"$T/report.csv" 2>>"$T/check.log"
rep() { awk -F, -v k="$1" -v d="\"$2\"" '$2 == k && $4 == d { print $5 }' "$T/report.csv" | tr -d '\r'; }
pers=$(q "SELECT count(*) FROM audit WHERE action = 'order.state' AND after = 'personalized' AND date(at, 'unixepoch') = '$day'")
[ "$(rep cards.dispatched "")" = 2 ] && [ "$(rep cards.dispatched clerk01)" = 1 ] && [ "$(rep cards.dispatched op01)" = 1 ] &&
	[ "$(rep cards.returned op01)" = 1 ] && [ "$(rep cards.personalized "")" = "$pers" ] && [ "$pers" -gt 0 ] &&
	[ "$(rep cards.failed "")" -gt 0 ] && [ "$(rep certs.revoked cessationOfOperation)" -ge 2 ] &&
	ok "report: cards personalized ($pers), failed, dispatched and returned, per officer" || fail "report cards" "$(grep -E 'cards|revoked' "$T/report.csv")"

# --- 4. secrets ---------------------------------------------------------------------------------
leak=0
for f in "$T"/pin-*; do
	grep -rqsF -e "$(cat "$f")" "$T"/*.out "$T"/*.log "$T/pcsc"/*.log "$DEP"/log/*.log && leak=1
done
grep -rqsF -e "$(tr -d ' \n' <"$DEP/keys/card-master.key" 2>/dev/null | head -c 64)" "$T"/*.out "$T"/run*.log "$DEP"/log/*.log && leak=1
[ "$leak" -eq 0 ] && ok "no PIN or master key in any log or output" || fail "a secret reached a log"

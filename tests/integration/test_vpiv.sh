#!/bin/bash
# The virtual PIV card (vpiv) in a real pcscd, checked only with tools nobody here wrote:
# OpenSC (opensc-tool, pkcs15-tool, pkcs11-tool), yubico-piv-tool and openssl.
# Four readers, four cards: key generation, a certificate signed by the card's own key,
# import, listing, signing through PKCS#11, PIN blocking and unblocking with the PUK,
# and a card killed and restarted on the same state file keeping all of it.
. "$(dirname "$0")/lib.sh"
. "$RA_TOP/tests/fixtures/pcsc-env.sh"

P11=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so
R0='Virtual PCD 0 00 00'
N=4
# A card or reader that hangs would hang its tool forever (vpcd has no timeout).
tool() { timeout 60 "$@"; }

on_exit "pcsc_stop $T"

# card_present INDEX: pcscd sees a card in reader INDEX.
card_present() { tool opensc-tool -l 2>/dev/null | grep -qE "^$1 +Yes +.*Virtual PCD"; }

bad_option() {
	local out rc
	out=$(vpiv --port nope --state "$T/x.state" 2>&1)
	rc=$?
	[ "$rc" -eq 2 ] && [[ "$out" == *"--port wants a number"* ]]
}
check "vpiv rejects a bad option with a clear message" bad_option

if pcsc_start "$T" "$N" >"$T/readers.txt" 2>"$T/start.err" && [ "$(wc -l <"$T/readers.txt")" -eq "$N" ]; then
	ok "pcscd starts with $N virtual readers"
else
	fail "pcscd starts with $N virtual readers" "$(cat "$T/start.err")"
	exit 1
fi

for ((i = 0; i < N; i++)); do
	pcsc_card_start "$T" "$i" --serial $((1000 + i)) >/dev/null
done
all_present() { local i; for ((i = 0; i < N; i++)); do card_present "$i" || return 1; done; }
if wait_for 20 all_present; then ok "$N cards are inserted"; else fail "$N cards are inserted" "$(tool opensc-tool -l 2>&1)"; fi

tool opensc-tool -l >"$T/list.txt" 2>&1
missing=""
while read -r name; do grep -qF "$name" "$T/list.txt" || missing="$missing '$name'"; done <"$T/readers.txt"
if [ -z "$missing" ]; then ok "opensc-tool -l lists every reader"; else fail "opensc-tool -l lists every reader" "missing$missing"; fi

for ((i = 0; i < N; i++)); do
	name=$(tool opensc-tool -r "$i" -n 2>&1)
	if [ "$name" = "Personal Identity Verification Card" ]; then
		ok "opensc-tool names the card in reader $i a PIV card"
	else
		fail "opensc-tool names the card in reader $i a PIV card" "$name"
	fi
done

tool yubico-piv-tool -r "$R0" -a status >"$T/status.txt" 2>&1
if grep -qP '^Serial Number:\t1000$' "$T/status.txt" && grep -qP '^PIN tries left:\t3$' "$T/status.txt"; then
	ok "yubico-piv-tool -a status reads serial and PIN tries"
else
	fail "yubico-piv-tool -a status reads serial and PIN tries" "$(tr '\n' ' ' <"$T/status.txt")"
fi

if tool yubico-piv-tool -r "$R0" -a generate -s 9c -o "$T/pub.pem" >>"$T/check.log" 2>&1 &&
	openssl pkey -pubin -in "$T/pub.pem" -noout -text 2>/dev/null | grep -q '(2048 bit)'; then
	ok "yubico-piv-tool generates an RSA 2048 key in 9C with the default management key"
else
	fail "yubico-piv-tool generates an RSA 2048 key in 9C with the default management key"
fi

# Self-signing. yubico-piv-tool 2.2.0 as built against OpenSSL 3 (Debian 12) fails its
# selfsign-certificate before sending any APDU (OpenSSL no longer calls the tool's
# signing callback). When that happens, the card still signs its own certificate: through
# OpenSC's PKCS#11 module and OpenSSL's pkcs11 engine, as OpenSC's own tests do. OpenSC
# needs the public key of a slot without a certificate (PIV_9C_KEY), and a CHUID gives
# this card a token serial of its own among the four.
# selfsign_via_opensc READER SLOT PUB OUT: the key in SLOT (9a or 9c) signs a certificate
# for its public key PUB (PEM) into OUT.
selfsign_via_opensc() {
	local reader=$1 slot=$2 pub=$3 out=$4 serial id
	case "$slot" in 9a) id=%01 ;; 9c) id=%02 ;; *) return 1 ;; esac
	tool yubico-piv-tool -r "$reader" -a set-chuid >>"$T/check.log" 2>&1 || return 1
	openssl pkey -pubin -in "$pub" -outform DER -out "$pub.der" || return 1
	serial=$(tool pkcs11-tool --module "$P11" -L 2>/dev/null |
		awk -v r="$reader" '$0 ~ "^Slot" { s = index($0, r) } s && /serial num/ { print $NF; exit }')
	[ -n "$serial" ] || return 1
	cat >"$T/engine.cnf" <<-EOF
		openssl_conf = init
		[init]
		engines = engines
		[engines]
		pkcs11 = pkcs11
		[pkcs11]
		engine_id = pkcs11
		MODULE_PATH = $P11
		init = 0
		[req]
		distinguished_name = dn
		[dn]
	EOF
	# 9C is a PIN-always key: the engine asks for the PIN again just before signing.
	echo 123456 | env "PIV_${slot^^}_KEY=$pub.der" OPENSSL_CONF="$T/engine.cnf" timeout 60 openssl req \
		-engine pkcs11 -keyform engine \
		-key "pkcs11:serial=$serial;id=$id;type=private;pin-value=123456" \
		-new -x509 -subj "/CN=vpiv test card $slot" -days 30 -sha256 -out "$out"
}
# selfsign READER SLOT PUB OUT: yubico-piv-tool first; prints how it was done.
selfsign() {
	if tool yubico-piv-tool -r "$1" -a verify-pin -a selfsign-certificate -s "$2" -P 123456 \
		-S "/CN=vpiv test card $2/" -i "$3" -o "$4" >>"$T/check.log" 2>&1; then
		echo "yubico-piv-tool"
	elif selfsign_via_opensc "$@" >>"$T/check.log" 2>&1; then
		echo "OpenSC PKCS#11 (yubico-piv-tool 2.2.0 selfsign does not work with OpenSSL 3)"
	fi
}
how=$(selfsign "$R0" 9c "$T/pub.pem" "$T/cert.pem")
if [ -n "$how" ] && openssl verify -CAfile "$T/cert.pem" "$T/cert.pem" >>"$T/check.log" 2>&1 &&
	[ "$(openssl x509 -in "$T/cert.pem" -pubkey -noout)" = "$(cat "$T/pub.pem")" ]; then
	ok "the card self-signs a certificate for its 9C key, via $how"
else
	fail "the card self-signs a certificate for its 9C key" "see $T/check.log"
fi

check "yubico-piv-tool imports the certificate into 9C" \
	tool yubico-piv-tool -r "$R0" -a import-certificate -s 9c -i "$T/cert.pem"

# cert_on_card INDEX: pkcs15-tool lists the 9C certificate and reads back the same one.
cert_on_card() {
	tool pkcs15-tool -r "$1" --list-certificates 2>/dev/null | grep -q 'Certificate for Digital Signature' &&
		tool pkcs15-tool -r "$1" --read-certificate 02 2>/dev/null >"$T/read.pem" &&
		[ "$(openssl x509 -in "$T/read.pem" -outform DER | sha256sum)" = \
			"$(openssl x509 -in "$T/cert.pem" -outform DER | sha256sum)" ]
}
check "pkcs15-tool lists the certificate and reads it back" cert_on_card 0
check_fails "the card in reader 1 has no certificate" cert_on_card 1

echo "a document to sign" >"$T/doc.txt"
rm -f "$T/doc.sig"
tool pkcs11-tool --module "$P11" --slot-index 0 --login --pin 123456 --sign --id 02 \
	-m SHA256-RSA-PKCS -i "$T/doc.txt" -o "$T/doc.sig" >>"$T/check.log" 2>&1
openssl x509 -in "$T/cert.pem" -pubkey -noout >"$T/certpub.pem"
check "pkcs11-tool signs with the 9C key and openssl verifies it against the certificate" \
	openssl dgst -sha256 -verify "$T/certpub.pem" -signature "$T/doc.sig" "$T/doc.txt"

# Decryption is the same raw RSA operation, with the padding removed on the host.
echo "a session key" >"$T/secret.txt"
openssl pkeyutl -encrypt -pubin -inkey "$T/certpub.pem" -pkeyopt rsa_padding_mode:pkcs1 \
	-in "$T/secret.txt" -out "$T/secret.enc"
tool pkcs11-tool --module "$P11" --slot-index 0 --login --pin 123456 --decrypt --id 02 \
	-m RSA-PKCS -i "$T/secret.enc" -o "$T/secret.dec" >>"$T/check.log" 2>&1
check "pkcs11-tool decrypts with the 9C key what openssl encrypted to the certificate" \
	cmp -s "$T/secret.txt" "$T/secret.dec"

# The same with a P-256 key in 9A (PIN once per session) on the card in reader 2.
R2='Virtual PCD 1 00 00'
tool yubico-piv-tool -r "$R2" -a generate -s 9a -A ECCP256 -o "$T/pub9a.pem" >>"$T/check.log" 2>&1
how=$(selfsign "$R2" 9a "$T/pub9a.pem" "$T/cert9a.pem")
rm -f "$T/doc9a.sig"
[ -n "$how" ] &&
	tool yubico-piv-tool -r "$R2" -a import-certificate -s 9a -i "$T/cert9a.pem" >>"$T/check.log" 2>&1 &&
	tool pkcs11-tool --module "$P11" --slot-index 2 --login --pin 123456 --sign --id 01 \
		-m ECDSA-SHA256 --signature-format openssl -i "$T/doc.txt" -o "$T/doc9a.sig" >>"$T/check.log" 2>&1
openssl x509 -in "$T/cert9a.pem" -pubkey -noout >"$T/cert9apub.pem" 2>/dev/null
check "a P-256 key in 9A: generated, certified, imported, signs through pkcs11-tool, verified by openssl" \
	openssl dgst -sha256 -verify "$T/cert9apub.pem" -signature "$T/doc9a.sig" "$T/doc.txt"

# A wrong PIN three times: 2 tries left, 1 left, then blocked; the right PIN no longer works.
wrong=""
for left in 2 1 0; do
	out=$(tool yubico-piv-tool -r "$R0" -a verify-pin -P 000000 2>&1)
	case "$left" in
	0) echo "$out" | grep -q 'Pin code blocked' || wrong="$wrong [3rd: $out]" ;;
	*) echo "$out" | grep -q "$left tries left" || wrong="$wrong [$left: $out]" ;;
	esac
done
if [ -z "$wrong" ]; then ok "three wrong PINs report 2 and 1 tries left, then block"; else fail "three wrong PINs report 2 and 1 tries left, then block" "$wrong"; fi
check_fails "a blocked PIN refuses even the right PIN" tool yubico-piv-tool -r "$R0" -a verify-pin -P 123456
check "the PUK unblocks the PIN and sets a new one" \
	tool yubico-piv-tool -r "$R0" -a unblock-pin -P 12345678 -N 654321
check "the new PIN verifies" tool yubico-piv-tool -r "$R0" -a verify-pin -P 654321

# Kill the card outright and put it back with the same state file.
pid=$(cat "$T/card-0.pid")
kill -9 "$pid"
gone() { ! kill -0 "$pid" 2>/dev/null; }
wait_for 10 gone
rm -f "$T/card-0.pid"
wait_for 10 bash -c "! opensc-tool -l 2>/dev/null | grep -qE '^0 +Yes'"
pcsc_card_start "$T" 0 >/dev/null
if wait_for 20 card_present 0 && cert_on_card 0; then
	ok "a killed card restarted on its state file keeps its certificate"
else
	fail "a killed card restarted on its state file keeps its certificate"
fi
check "the restarted card keeps its new PIN" tool yubico-piv-tool -r "$R0" -a verify-pin -P 654321
tool yubico-piv-tool -r "$R0" -a status >"$T/status2.txt" 2>&1
check "the restarted card keeps its serial" grep -qP '^Serial Number:\t1000$' "$T/status2.txt"

# The YubiKey extensions as yubico-piv-tool uses them, on the card in reader 1.
R1='Virtual PCD 0 00 01'
check "yubico-piv-tool changes the PIN" tool yubico-piv-tool -r "$R1" -a change-pin -P 123456 -N 111111
check "yubico-piv-tool changes the PUK" tool yubico-piv-tool -r "$R1" -a change-puk -P 12345678 -N 87654321
MGM=0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a09080
check "yubico-piv-tool sets a new management key" tool yubico-piv-tool -r "$R1" -a set-mgm-key -n "$MGM"
check_fails "the factory management key is refused afterwards" \
	tool yubico-piv-tool -r "$R1" -a generate -s 9d -A ECCP256 -o "$T/p1.pem"
check "the new management key generates a P-256 key in 9D" \
	tool yubico-piv-tool -r "$R1" -k"$MGM" -a generate -s 9d -A ECCP256 -o "$T/p1.pem"
check_fails "RESET is refused while the PIN and PUK work" tool yubico-piv-tool -r "$R1" -a reset
for i in 1 2 3; do tool yubico-piv-tool -r "$R1" -a verify-pin -P 000000 >/dev/null 2>&1; done
for i in 1 2 3; do tool yubico-piv-tool -r "$R1" -a change-puk -P 00000000 -N 11111111 >/dev/null 2>&1; done
check "RESET works once PIN and PUK are both blocked" tool yubico-piv-tool -r "$R1" -a reset
check "after RESET the factory PIN works" tool yubico-piv-tool -r "$R1" -a verify-pin -P 123456
check "yubico-piv-tool sets 5 PIN tries" tool yubico-piv-tool -r "$R1" -a verify-pin -P 123456 \
	-a pin-retries --pin-retries 5 --puk-retries 4
check "status reports 5 PIN tries" bash -c "yubico-piv-tool -r '$R1' -a status | grep -qP '^PIN tries left:\t5$'"

# pcscd restarts under running cards: they reconnect by themselves (they retry every 200 ms).
if pcsc_restart "$T" 2>>"$T/start.err" && wait_for 20 all_present &&
	tool yubico-piv-tool -r 'Virtual PCD 1 00 00' -a status 2>&1 | grep -qP '^Serial Number:\t1002$'; then
	ok "the cards come back by themselves after pcscd restarts"
else
	fail "the cards come back by themselves after pcscd restarts" "$(cat "$T/start.err")"
fi

# A card told to fail every APDU makes a real tool fail, not hang.
pcsc_card_stop "$T" 3
wait_for 10 bash -c "! opensc-tool -l 2>/dev/null | grep -qE '^3 +Yes'"
pcsc_card_start "$T" 3 --fault after:0 >/dev/null
wait_for 20 card_present 3
check_fails "a card with an injected fault makes yubico-piv-tool fail cleanly" \
	tool yubico-piv-tool -r 'Virtual PCD 1 00 01' -a status
check "the faulty card stays in its reader" card_present 3

# Nothing secret in the cards' logs: not the PINs, the PUK or the management key, in any form.
check_fails "no PIN, PUK or management key in the card logs" \
	grep -qiE '123456|654321|12345678|313233343536|363534333231|0102030405060708' "$T"/card-*.log

pcscd_pid=$(cat "$T/pcscd.pid")
pcsc_stop "$T"
stopped() { ! kill -0 "$pcscd_pid" 2>/dev/null && ! ls "$T"/card-*.pid >/dev/null 2>&1; }
check "pcscd and the cards stop" stopped

#!/bin/bash
# test_card_driver.sh: the card station's PIV driver against virtual cards over the real
# pcscd, checked with tools nobody here wrote (yubico-piv-tool, OpenSC, openssl).
#
# Three readers: card 0 is personalized through cs-perso-local (the same sequence as
# card-station, with a throw-away CA made here), then inspected and wiped; card 1 is
# locked with wrong PINs; card 2 gets a management key we do not know (a foreign card).
. "$(dirname "$0")/lib.sh"
. "$RA_TOP/tests/fixtures/pcsc-env.sh"

R0="Virtual PCD 0 00 00" R1="Virtual PCD 0 00 01" R2="Virtual PCD 1 00 00"
PIN=30591742
PKCS11=$(find /usr/lib -name opensc-pkcs11.so 2>/dev/null | head -1)

if ! pcsc_start "$T/pcsc" 3 >"$T/readers.txt" 2>"$T/pcsc-start.log"; then
	fail "pcscd with three virtual readers" "$(cat "$T/pcsc-start.log")"
	exit 1
fi
on_exit "pcsc_stop '$T/pcsc'"
for i in 0 1 2; do track "$(pcsc_card_start "$T/pcsc" $i --serial $((7001 + i)))"; done

# The deployment: a master key (hex) and a config naming it.
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/master.key"
printf 'home: %s\ncards:\n  master_key_file: master.key\n' "$T" >"$T/ra.yaml"
echo "$PIN" >"$T/pin"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" \
	-subj "/CN=Throw-away Test CA" -days 30 >/dev/null 2>&1
CS="card-station -c $T/ra.yaml"

# state READER: the STATE column of `card-station readers` for READER.
state() { $CS readers 2>>"$T/cs.log" | grep -F "$1 " | awk '{print $NF}'; }
table_has() { $CS readers 2>>"$T/cs.log" | grep -F "$1 " | grep -q "$2"; }

# Cards connect to pcscd a moment after they start.
if wait_for 10 bash -c "[ \$($CS readers 2>/dev/null | grep -c ' blank$') -eq 3 ]"; then
	ok "readers: three readers, each with a blank card"
else
	fail "readers: three readers, each with a blank card" "$($CS readers 2>&1)"
fi
check "readers: serial and ATR in the table" table_has "$R1" "7002"
check "card-station --help lists the commands" bash -c "card-station --help | grep -q wipe"
check_fails "unknown command is an error" $CS frobnicate
check_fails "wipe without --reader is an error" $CS wipe

# Personalize card 0.
if cs-perso-local --reader "$R0" --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" \
	--master-key "$T/master.key" --pin-file "$T/pin" --cn "Test Subscriber" --puk-retries 5 \
	>"$T/perso.out" 2>"$T/perso.log"; then
	ok "personalize card 0 through the test issuer"
else
	fail "personalize card 0 through the test issuer" "$(tail -3 "$T/perso.log")"
fi
check "readers: card 0 is personalized" test "$(state "$R0")" = personalized
# The card keeps the limits (its own record: PIN, then tries left and limit; PUK the same).
check "the card's PIN retry limit is 3" grep -Eq '^pin [0-9a-f]+ 3 3$' "$T/pcsc/card-0.state"
check "the card's PUK retry limit is the one asked for (5)" grep -Eq '^puk [0-9a-f]+ 5 5$' "$T/pcsc/card-0.state"
check_fails "a personalized card is refused for personalization" \
	cs-perso-local --reader "$R0" --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" \
	--master-key "$T/master.key" --pin-file "$T/pin"

yubico-piv-tool -r "$R0" -a status >"$T/status.txt" 2>&1
check "yubico-piv-tool status: 9C certificate" grep -q "Slot 9c" "$T/status.txt"
check "yubico-piv-tool status: 9D certificate" grep -q "Slot 9d" "$T/status.txt"
check "yubico-piv-tool status: subject" grep -q "CN=Test Subscriber" "$T/status.txt"
check "yubico-piv-tool status: CHUID and CCC" bash -c "grep -q '^CHUID:' '$T/status.txt' && grep -q '^CCC:' '$T/status.txt'"
pkcs15-tool -r 0 --list-certificates >"$T/p15.txt" 2>&1
check "pkcs15-tool lists both certificates" test "$(grep -c 'X.509 Certificate' "$T/p15.txt")" -eq 2
for s in 9c 9d; do
	yubico-piv-tool -r "$R0" -a read-certificate -s $s >"$T/$s.pem" 2>>"$T/check.log"
	check "openssl verify accepts the $s certificate" openssl verify -CAfile "$T/ca.pem" "$T/$s.pem"
done
check "the 9C and 9D keys differ" bash -c "[ \"\$(openssl x509 -in '$T/9c.pem' -noout -pubkey)\" != \"\$(openssl x509 -in '$T/9d.pem' -noout -pubkey)\" ]"
echo "signed by the card" >"$T/msg"
if [ -n "$PKCS11" ] && pkcs11-tool --module "$PKCS11" --slot-index 0 --login --pin "$PIN" --sign \
	-m SHA256-RSA-PKCS --id 02 -i "$T/msg" -o "$T/msg.sig" >>"$T/check.log" 2>&1; then
	openssl x509 -in "$T/9c.pem" -noout -pubkey >"$T/9c.pub"
	check "OpenSC signs with the subscriber PIN; openssl verifies" \
		openssl dgst -sha256 -verify "$T/9c.pub" -signature "$T/msg.sig" "$T/msg"
else
	fail "OpenSC signs with the subscriber PIN; openssl verifies" "pkcs11-tool failed"
fi
check_fails "the factory management key no longer works" \
	yubico-piv-tool -r "$R0" -a set-ccc -k 010203040506070801020304050607080102030405060708

# Card 1: three wrong PINs lock it.
for i in 1 2 3; do yubico-piv-tool -r "$R1" -a verify-pin -P 000000 >/dev/null 2>&1; done
check "readers: card 1 is locked" test "$(state "$R1")" = locked

# Card 2: someone else's management key makes it foreign.
yubico-piv-tool -r "$R2" -a set-mgm-key -n 0F0E0D0C0B0A09080706050403020100F0E0D0C0B0A09080 \
	>>"$T/check.log" 2>&1
check "readers: card 2 with an unknown key is set aside" test "$(state "$R2")" = set-aside
check_fails "wipe refuses a foreign card" $CS wipe --reader "$R2"
check "wipe --force resets a foreign card" $CS wipe --reader "$R2" --force

# Card 2 again: P-256 keys and a 3DES management key, then wiped under a config that says so.
if cs-perso-local --reader "$R2" --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" \
	--master-key "$T/master.key" --pin-file "$T/pin" --key-alg p256 --mgm-alg 3des \
	>>"$T/perso.out" 2>>"$T/perso.log"; then
	ok "personalize card 2 with P-256 keys and a 3DES management key"
else
	fail "personalize card 2 with P-256 keys and a 3DES management key" "$(tail -3 "$T/perso.log")"
fi
yubico-piv-tool -r "$R2" -a read-certificate -s 9c >"$T/ec9c.pem" 2>>"$T/check.log"
check "openssl verify accepts the P-256 9C certificate" openssl verify -CAfile "$T/ca.pem" "$T/ec9c.pem"
check "the 9C key is P-256" bash -c "openssl x509 -in '$T/ec9c.pem' -noout -text | grep -q 'prime256v1'"
sed 's/^cards:/card_station:\n  mgm_key_alg: 3des\ncards:/' "$T/ra.yaml" >"$T/ra-3des.yaml"
check_fails "wipe with the wrong management key algorithm sees a foreign card" $CS wipe --reader "$R2"
check "wipe card 2 with its 3DES derived key" card-station -c "$T/ra-3des.yaml" wipe --reader "$R2"
check_fails "a bad mgm_key_alg in the config is an error" \
	bash -c "sed 's/3des/rc4/' '$T/ra-3des.yaml' >'$T/bad.yaml' && card-station -c '$T/bad.yaml' readers"

# Wipe cards 0 and 1 with their derived keys.
check "wipe card 0 (personalized)" $CS wipe --reader "$R0"
check "wipe card 1 (locked)" $CS wipe --reader "$R1"
if wait_for 5 bash -c "[ \$($CS readers 2>/dev/null | grep -c ' blank$') -eq 3 ]"; then
	ok "readers: every card blank after wipe"
else
	fail "readers: every card blank after wipe" "$($CS readers 2>&1)"
fi
pkcs15-tool -r 0 --list-certificates >"$T/p15-after.txt" 2>&1
check "pkcs15-tool finds no certificate on the wiped card" \
	test "$(grep -c 'X.509 Certificate' "$T/p15-after.txt")" -eq 0
check "the wiped card has the factory PIN" yubico-piv-tool -r "$R0" -a verify-pin -P 123456

# A card without SET PIN RETRIES is turned away untouched; so is one that says yes to it
# and keeps its old limits (the read-back finds it).
for f in FA=6D00 FA=9000; do
	pcsc_card_stop "$T/pcsc" 1
	track "$(pcsc_card_start "$T/pcsc" 1 --fault sw:$f)"
	wait_for 10 table_has "$R1" blank
	if cs-perso-local --reader "$R1" --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" \
		--master-key "$T/master.key" --pin-file "$T/pin" --puk-retries 5 2>"$T/perso-$f.log"; then
		fail "retries ($f): the card is refused"
	else
		ok "retries ($f): the card is refused"
	fi
	check "retries ($f): the card is still blank" test "$(state "$R1")" = blank
done
check "retries: a card without the command is named" grep -q "will not take PIN retry limit 3" "$T/perso-FA=6D00.log"
check "retries: a card that does not keep the limit is named" grep -q "reads back PUK limit 3" "$T/perso-FA=9000.log"

# A card that fails half way (key generation refused: card full) is left set aside, and
# wipe brings it back. The same card (state file) is reinserted without the fault.
pcsc_card_stop "$T/pcsc" 1
track "$(pcsc_card_start "$T/pcsc" 1 --fault sw:47=6A84)"
wait_for 10 table_has "$R1" blank
if cs-perso-local --reader "$R1" --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" \
	--master-key "$T/master.key" --pin-file "$T/pin" 2>"$T/perso-fault.log"; then
	fail "personalization stops when the card refuses key generation"
else
	ok "personalization stops when the card refuses key generation"
fi
check "the failure is reported in words" grep -q "out of memory" "$T/perso-fault.log"
pcsc_card_stop "$T/pcsc" 1
track "$(pcsc_card_start "$T/pcsc" 1)"
wait_for 10 table_has "$R1" yes
check "readers: the half-done card is set aside" test "$(state "$R1")" = set-aside
check "wipe returns the set-aside card to blank" $CS wipe --reader "$R1"
check "readers: the wiped card is blank" test "$(state "$R1")" = blank

# A card taken out shows as an empty reader, in a new table and to a watching station.
$CS readers --watch >"$T/watch.out" 2>>"$T/cs.log" &
wpid=$!
track "$wpid"
wait_for 10 grep -q "^READER" "$T/watch.out"
pcsc_card_stop "$T/pcsc" 1
if wait_for 10 bash -c "grep -F '$R1 ' '$T/watch.out' | grep -q ' no '"; then
	ok "readers --watch prints the table again when a card is removed"
else
	fail "readers --watch prints the table again when a card is removed" "$(cat "$T/watch.out")"
fi
kill "$wpid" 2>/dev/null
if wait_for 10 bash -c "$CS readers 2>/dev/null | grep -F '$R1 ' | grep -q ' no '"; then
	ok "readers: a removed card shows an empty reader"
else
	fail "readers: a removed card shows an empty reader" "$($CS readers 2>&1)"
fi
check_fails "wipe of an empty reader fails cleanly" $CS wipe --reader "$R1"

# Secrets never reach a log or the terminal.
if grep -rqs -e "$PIN" "$T"/*.log "$T"/*.out "$T/pcsc"/*.log; then
	fail "the subscriber PIN appears in no log"
else
	ok "the subscriber PIN appears in no log"
fi

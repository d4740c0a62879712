#!/bin/bash
# test_officer_card.sh: an officer's own PIV card as their credential, over pcscd with a
# virtual card and the real daemons: `ra-ctl officer add --card` makes the key on a blank
# card and writes the officer certificate beside it; ra-intake approves with the card and
# its PIN, and the back office records the card's certificate; a wrong PIN signs nothing;
# the card keeps neither the factory PIN, PUK nor management key. The PIN lives in a 0600
# file and is never printed.
. "$(dirname "$0")/lib.sh"
. "$RA_TOP/tests/fixtures/pcsc-env.sh"
umask 077
R0="Virtual PCD 0 00 00" R1="Virtual PCD 0 00 01" R2="Virtual PCD 1 00 00"

ra_deploy 2
if ! pcsc_start "$T/pcsc" 3 >"$T/readers.txt" 2>"$T/pcsc-start.log"; then
	fail "pcscd with a virtual reader" "$(cat "$T/pcsc-start.log")"
	exit 1
fi
on_exit "pcsc_stop '$T/pcsc'"
track "$(pcsc_card_start "$T/pcsc" 0 --serial 7301)"
wait_for 10 bash -c "card-station readers 2>/dev/null | grep -q ' blank$'" || fail "a blank card" "$(card-station readers 2>&1)"
printf '24681357\n' > "$T/pin"
printf '11112222\n' > "$T/wrong-pin"

out=$(ra-ctl officer add sup02 --role supervisor --card "$R0" --officer admin --passphrase-file "$OPASS" \
	--new-passphrase-file "$T/pin" 2>&1)
echo "$out" | grep -q "officer sup02 (supervisor) added" && ra-ctl officer list | grep -q "^sup02 .*supervisor .*enabled" \
	&& ok "ra-ctl officer add --card enrols a blank card and records sup02" || fail "enrol" "$out"
yubico-piv-tool -r "$R0" -a read-certificate -s 9c > "$T/card.pem" 2>/dev/null
openssl verify -CAfile "$DEP/officers/ca.pem" "$T/card.pem" >/dev/null 2>&1 \
	&& openssl x509 -in "$T/card.pem" -noout -subject | grep -q "CN *= *sup02" \
	&& [ "$(openssl x509 -in "$T/card.pem" -noout -serial | sed 's/^serial=//')" = "$(sql "$DEP/ra.db" "SELECT cert_serial FROM officers WHERE id = 'sup02'")" ] \
	&& ok "the card holds sup02's certificate from the officer CA, the one the registry holds" || fail "card certificate"
check_fails "the factory PIN no longer opens the card" yubico-piv-tool -r "$R0" -a verify-pin -P 123456
check_fails "the factory management key no longer works" yubico-piv-tool -r "$R0" -a set-ccc
check_fails "an enrolled card is not enrolled again" ra-ctl officer add sup03 --role supervisor --card "$R0" \
	--officer admin --passphrase-file "$OPASS" --new-passphrase-file "$T/pin"

register_forms clerk01 clerk02 sup01 "$RA_TOP/config/examples/reg-01.yaml" || fail "a first form approved"
ra-intake import --officer clerk01 --passphrase-file "$OPASS" "$RA_TOP/config/examples/reg-02.yaml" >/dev/null &&
	ra-intake verify --officer clerk02 --passphrase-file "$OPASS" --file "$RA_TOP/config/examples/reg-02.yaml" >/dev/null ||
	fail "R2026-000002 keyed and verified"
out=$(ra-intake approve --officer sup02 --credential "card:$R0" --passphrase-file "$T/wrong-pin" R2026-000002 2>&1)
[ $? -ne 0 ] && [ "$(sql "$DEP/ra.db" "SELECT state FROM forms WHERE serial = 'R2026-000002'")" = verified ] \
	&& ok "a wrong PIN signs nothing" || fail "wrong PIN" "$out"
out=$(ra-intake approve --officer sup02 --credential "card:$R0" --passphrase-file "$T/pin" R2026-000002 2>&1)
serial=$(sql "$DEP/ra.db" "SELECT cert_serial FROM officers WHERE id = 'sup02'")
echo "$out" | grep -q "R2026-000002 approved" \
	&& [ "$(sql "$DEP/ra.db" "SELECT actor FROM audit WHERE action = 'form.approved' AND object = 'form:R2026-000002'")" = "sup02 (cert $serial)" ] \
	&& ok "sup02 approves with the card; the audit names the card's certificate" || fail "approve with the card" "$out"
out=$(ra-intake approve --officer sup01 --credential "card:$R0" --passphrase-file "$T/pin" R2026-000001 2>&1)
echo "$out" | grep -q "officer sup02's, not sup01's" && ok "the card is sup02's, whatever --officer says" || fail "card of another" "$out"
# A card operator with a card of their own signs a personalization run; their reader is
# left out of the run even when named.
track "$(pcsc_card_start "$T/pcsc" 1 --serial 7302)"
track "$(pcsc_card_start "$T/pcsc" 2 --serial 7303)"
wait_for 10 bash -c "[ \$(card-station readers 2>/dev/null | grep -c ' blank$') -eq 2 ]" || fail "two more blank cards"
ra-ctl officer add op02 --role operator --card "$R1" --officer admin --passphrase-file "$OPASS" \
	--new-passphrase-file "$T/pin" >/dev/null || fail "enrol op02"
card-station personalize --officer op02 --credential "card:$R1" --passphrase-file "$T/pin" --readers "$R1,$R2" \
	--count 1 --station counter-9 >"$T/perso.out" 2>"$T/perso.log"
op=$(sql "$DEP/ra.db" "SELECT cert_serial FROM officers WHERE id = 'op02'")
[ "$(sql "$DEP/ra.db" "SELECT state FROM orders WHERE card_serial = '7303'")" = personalized ] \
	&& [ "$(sql "$DEP/ra.db" "SELECT count(*) FROM orders WHERE card_serial = '7302'")" -eq 0 ] \
	&& [ "$(sql "$DEP/ra.db" "SELECT count(DISTINCT actor) || ' ' || min(actor) FROM audit WHERE object LIKE 'order:%' AND action = 'order.state' AND after IN ('claimed', 'personalized')")" = "1 op02 (cert $op)" ] \
	&& ok "op02's card signs the run: the blank card is personalized by op02, the officer card is left alone" \
	|| fail "personalize with an operator card" "$(tail -5 "$T/perso.log")"
! grep -rq "24681357" "$T"/*.log "$DEP"/log/ 2>/dev/null && ok "the PIN is in no log" || fail "PIN in a log"

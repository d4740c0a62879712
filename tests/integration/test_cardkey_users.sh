#!/bin/bash
# The card operations with one Unix user per part (ra-ctl init --users, as root): the card
# master key is ra-cardkey's alone (0600), the workers' user cannot read it nor
# ra-cardkey's CURVE secret key, ra-cardkey reads none of the others' secrets, and a
# blocked card is still unlocked and a card renewed at the counter, over pcscd with a
# virtual card, the workers asking ra-cardkey. (card-station personalizes as root, in
# the personalization room, with its own copy of the master key.)
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { ok "not root: --users cannot be tried (skipped)"; exit 0; }
. "$RA_TOP/tests/fixtures/pcsc-env.sh"
umask 077
chmod 711 "$T"	# the daemons' users must reach the deployment inside the test's folder
DEP=$T/dep R0="Virtual PCD 0 00 00"
ra-ctl init "$DEP" --passphrase-file "$OPASS" --users >"$T/init.log" 2>&1 || { fail "ra-ctl init --users" "$(cat "$T/init.log")"; exit 1; }
sed -i -e '/^queue:/a\  lease_ms: 2000\n  heartbeat_ms: 200\n  retry_backoff_ms: 100' "$DEP/ra.yaml"
printf 'worker:\n  signer_timeout_ms: 400\n  cardkey_timeout_ms: 400\n' >> "$DEP/ra.yaml"
printf 'accounts:\n  argon2_t: 1\n  argon2_m_kib: 1024\ncard_station:\n  mgm_key_alg: aes128\n' >> "$DEP/ra.yaml"
export RA_CONFIG=$DEP/ra.yaml
on_exit "ra-ctl -c $DEP/ra.yaml down"

can() { runuser -u "$1" -- cat "$DEP/$2" >/dev/null 2>&1; }
id ra-cardkey >/dev/null 2>&1 && ! id -nG ra-cardkey | grep -qw ra-ledger && ok "user ra-cardkey, outside ra-ledger" || fail "user ra-cardkey"
[ "$(stat -c %U:%a "$DEP/keys/card-master.key")" = ra-cardkey:600 ] && [ "$(stat -c %U:%a "$DEP/keys/cardkey.cert_secret")" = ra-cardkey:600 ] \
	&& ok "the card master key and ra-cardkey's CURVE secret are ra-cardkey's, 0600" || fail "master key owner" "$(stat -c %U:%a "$DEP/keys/card-master.key")"
bad=
for f in keys/card-master.key keys/cardkey.cert_secret; do can ra-queue "$f" && bad="$bad ra-queue:$f"; done
for f in keys/workers/worker.cert_secret keys/worker-seal.key keys/sheets.key signer/ca.key keys/signer.cert_secret ra.db \
	keys/clients/station.cert_secret credentials/worker-seal.pass; do
	[ -e "$DEP/$f" ] || bad="$bad $f(missing)"
	can ra-cardkey "$f" && bad="$bad ra-cardkey:$f"
done
for u in ra-signer ra-notifier ra-web; do can "$u" keys/card-master.key && bad="$bad $u:card-master.key"; done
[ -z "$bad" ] && ok "the workers' user cannot read the card master key; ra-cardkey reads no other part's secret" || fail "who reads what" "$bad"
can ra-cardkey keys/card-master.key && can ra-cardkey keys/cardkey.cert_secret && ok "ra-cardkey reads its own keys" || fail "ra-cardkey's own keys"

ra-ctl up --workers 1 >"$T/up.log" 2>&1 || { fail "ra-ctl up under the users" "$(cat "$T/up.log") $(tail -n 3 "$DEP"/log/*.log)"; exit 1; }
ra_officers
owner() { ps -o user= -p "$(cat "$DEP/run/$1.pid")"; }
[ "$(owner ra-cardkey)" = ra-cardkey ] && [ "$(owner ra-worker-1)" = ra-queue ] && ok "ra-cardkey runs as ra-cardkey, the worker as ra-queue" \
	|| fail "daemon users" "$(owner ra-cardkey) $(owner ra-worker-1)"
if nm -C "$BUILD/bin/ra-cardkey" 2>/dev/null | grep -q __asan_init; then
	ok "sanitizer build: ra-cardkey runs without its seccomp filter there (skipped)"
else
	grep -q 'Seccomp:.*2' "/proc/$(cat "$DEP/run/ra-cardkey.pid")/status" && ok "ra-cardkey runs under its seccomp filter" || fail "ra-cardkey Seccomp"
fi

if ! pcsc_start "$T/pcsc" 1 >"$T/readers.txt" 2>"$T/pcsc-start.log"; then
	fail "pcscd with a virtual reader" "$(cat "$T/pcsc-start.log")"
	exit 1
fi
on_exit "pcsc_stop '$T/pcsc'"
track "$(pcsc_card_start "$T/pcsc" 0 --serial 8301)"
CS="card-station -c $RA_CONFIG"
wait_for 10 bash -c "$CS readers 2>/dev/null | grep -q ' blank$'" || fail "a blank card" "$($CS readers 2>&1)"
register_forms clerk01 clerk02 sup01 "$RA_TOP"/config/examples/reg-01.yaml || { fail "registration under the users"; exit 1; }
$CS personalize --officer op01 --passphrase-file "$OPASS" --readers "$R0" --count 1 >"$T/perso.out" 2>"$T/perso.log" ||
	{ fail "personalize" "$(tail -3 "$T/perso.log")"; exit 1; }
A=$(sql "$DEP/ra.db" "SELECT a.id FROM orders o JOIN accounts a ON a.subscriber_id = o.subscriber_id WHERE o.card_serial = '8301'")
[ -n "$A" ] && ok "card 8301 personalized" || { fail "card 8301 personalized"; exit 1; }

# The subscriber's password and PIN as their sheets hold them, opened here with the sheet key.
unseal() { sheet_unseal "$1" "$2" "$DEP/credentials/sheets.pass"; }
unseal "kind = 'password' AND account_id = '$A'" "$T/pw" && unseal "kind = 'pin' AND order_id = (SELECT id FROM orders WHERE card_serial = '8301')" "$T/pin.0" \
	|| { fail "sheet secrets opened for the test"; exit 1; }
lines() { local f; for f; do printf '%s\n' "$(cat "$f")"; done; }
echo 000000 >"$T/pin.bad"; echo 48260317 >"$T/pin.1"; echo 71539046 >"$T/pin.2"
lines "$T/pin.bad" "$T/pin.1" "$T/pin.1" >"$T/in.wrong"
for i in 1 2 3; do $CS pin-change --reader "$R0" --lang en <"$T/in.wrong" >"$T/block.$i.out" 2>>"$T/cs.log"; done
grep -q "locked" "$T/block.3.out" && ok "three wrong PINs block the card" || fail "card blocked" "$(cat "$T/block.3.out")"

out=$($CS unlock --reader "$R0" --account "$A" --lang en < <(lines "$T/pw" "$T/pin.1" "$T/pin.1") 2>>"$T/cs.log")
echo "$out" | grep -q "card verified" && echo "$out" | grep -q "card unlocked and PIN reset" \
	&& ok "unlock under the users: the card verified by ra-cardkey, its PUK sealed to the station" || fail "unlock under the users" "$out $(tail -3 "$T/cs.log") $(tail -3 "$DEP/log/ra-worker-1.log")"
check "the new PIN works" bash -c "$CS pin-change --reader '$R0' < <(printf '%s\n' \$(cat '$T/pin.1') \$(cat '$T/pin.2') \$(cat '$T/pin.2'))"
[ "$(sql "$DEP/ra.db" "SELECT version FROM card_puk WHERE card_serial = '8301'")" = 2 ] && ok "the card moved to its next PUK" || fail "PUK version"
grep -q "card 8301: PUK v1 and the two after it released sealed" "$DEP/log/ra-cardkey.log" && ok "ra-cardkey released the PUKs" || fail "ra-cardkey log"

na=$(sql "$DEP/ra.db" "SELECT min(not_after) FROM certificates c JOIN orders o ON o.id = c.order_id WHERE o.card_serial = '8301'")
ra-ctl down >/dev/null 2>&1
RA_NOW=$((na - 10 * 86400)) ra-ctl up --workers 1 >/dev/null 2>&1 || fail "ra-ctl up at the renewal window"
out=$($CS renew --reader "$R0" --account "$A" --lang en < <(lines "$T/pw" "$T/pin.2") 2>>"$T/cs.log")
echo "$out" | grep -q "certificates renewed" && ok "renewal under the users: new keys and certificates" \
	|| fail "renewal under the users" "$out $(tail -3 "$T/cs.log") $(tail -3 "$DEP/log/ra-worker-1.log")"
grep -q "card 8301: proved its management key" "$DEP/log/ra-cardkey.log" && ok "ra-cardkey checked the renewal's card" || fail "renewal proof at ra-cardkey"
exit 0

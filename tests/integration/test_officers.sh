#!/bin/bash
# Officers are people with credentials: through the real daemons, every officer action is
# signed by the officer's own key, and the worker checks the signature, the certificate
# (officer CA), the registry (enabled, role) and dual control on the verified identities.
# Raw submissions (ra-probe) play a counter or website front end that sends what
# ra-intake would not: names typed into the payload, signatures moved to another job.
. "$(dirname "$0")/lib.sh"
ra_deploy 0
# Certificates that expire within the renewal window at once, so renewal can be asked now.
sed -i -e '/^signer:/a\  validity_days: 20' "$DEP/ra.yaml"
printf 'renewal:\n  window_days: 30\n' >> "$DEP/ra.yaml"
ra-ctl -c "$RA_CONFIG" up --workers 2 >/dev/null || { fail "ra-ctl up" "$(tail -n 5 "$DEP"/log/*.log)"; exit 1; }
ra_officers
EX=$RA_TOP/config/examples
AS=(--passphrase-file "$OPASS")

# probe CLIENT FRAME...: one raw message to the queue as producer CLIENT; prints the reply.
probe() {
	local client=$1
	shift
	ra-probe --endpoint "ipc://$DEP/run/queue.sock" --server-cert "$DEP/keys/queue.cert" \
		--client-cert "$DEP/keys/clients/$client.cert" "$@"
}
# submit CLIENT KIND IDEM PAYLOAD: the job id the queue acknowledged, or nothing.
submit() { probe "$1" RA/1 SUBMIT "$2" "$3" "$4" | sed -n '3p' | grep -E '^[0-9]+$'; }
# job_end ID: wait until job ID is done or failed; print "STATE ERROR".
job_end() {
	wait_for 20 sql_is "$DEP/ra.db" "SELECT state IN ('done','failed') FROM jobs WHERE id = $1" 1
	sql "$DEP/ra.db" "SELECT state || ' ' || coalesce(error, result, '') FROM jobs WHERE id = $1"
}
sign() { officer_sign "$@"; }
state_of() { sql "$DEP/ra.db" "SELECT state FROM forms WHERE serial = '$1'"; }

# --- one clerk, one credential, three names ----------------------------------------------
ra-intake import --officer clerk01 "${AS[@]}" "$EX/reg-01.yaml" >/dev/null || fail "clerk01 keys R2026-000001"
check_fails "ra-intake will not sign as clerk02 with clerk01's credential" \
	ra-intake verify --officer clerk02 --credential "$DEP/officers/clerk01.pem" "${AS[@]}" --file "$EX/reg-01.yaml"
# The same clerk sends the second keying itself, naming clerk02 in the payload.
form=$(ra-intake verify --officer clerk01 --file "$EX/reg-01.yaml" --check | sed '1d' |
	python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["form"], ensure_ascii=False))')
p=$(sign form_verify v1 "{\"officer\":\"clerk02\",\"form\":$form}" "$DEP/officers/clerk01.pem")
out=$(job_end "$(submit intake form_verify v1 "$p")")
echo "$out" | grep -q "^failed .*keyed by clerk01" && [ "$(state_of R2026-000001)" = keyed ] \
	&& ok "a second keying signed by the keyer is refused, whatever name the payload gives" || fail "keyer as verifier" "$out"
p=$(sign form_approve a1 '{"serial":"R2026-000001","officer":"sup01"}' "$DEP/officers/clerk01.pem")
out=$(job_end "$(submit intake form_approve a1 "$p")")
echo "$out" | grep -q "^failed .*clerk01 is a clerk" && [ "$(state_of R2026-000001)" = keyed ] \
	&& ok "an approval signed by the clerk naming sup01 is refused" || fail "clerk as approver" "$out"

# --- a name alone is nobody ---------------------------------------------------------------
out=$(job_end "$(submit intake form_approve a2 '{"serial":"R2026-000001","officer":"sup01"}')")
echo "$out" | grep -q "^failed .*must be signed by an officer" && ok "an unsigned approval naming an officer is refused" \
	|| fail "unsigned approval" "$out"
out=$(job_end "$(submit intake form_key k3 "{\"officer\":\"clerk02\",\"forms\":[$form]}")")
echo "$out" | grep -q "^failed .*must be signed" && ok "unsigned keying naming an officer is refused" || fail "unsigned keying" "$out"
out=$(job_end "$(submit station order_claim c1 '{"card_serial":"12345678","station":"s1","officer":"op01"}')")
echo "$out" | grep -q "^failed .*must be signed" && ok "a station's key alone cannot claim an order" || fail "station claim" "$out"
# Signed by the operator while no approved order waits: an answer, not a failed job (a
# station with more blank cards than waiting orders asks for each of them).
p=$(sign order_claim c2 '{"card_serial":"12345678","station":"s1"}' "$DEP/officers/op01.pem")
out=$(job_end "$(submit station order_claim c2 "$p")")
[ "$out" = 'done {"none_waiting":true}' ] && ok "a claim with no order waiting is answered 'none waiting', not failed" \
	|| fail "claim with none waiting" "$out"
# A valid signature moved to another job (another idempotency key) matches nothing.
p=$(sign form_approve a4 '{"serial":"R2026-000001"}' "$DEP/officers/sup01.pem")
out=$(job_end "$(submit intake form_approve a5 "$p")")
echo "$out" | grep -q "^failed .*does not match this form_approve job" && ok "a signature replayed under another idempotency key is refused" \
	|| fail "replayed signature" "$out"

# --- dual control on verified identities, roles, registry ---------------------------------
ra-intake verify --officer clerk02 "${AS[@]}" --file "$EX/reg-01.yaml" >/dev/null || fail "clerk02 verifies"
ra-ctl officer add clerk03 --role clerk --officer admin "${AS[@]}" --new-passphrase-file "$OPASS" >/dev/null || fail "officer add clerk03"
out=$(ra-intake approve --officer clerk03 "${AS[@]}" R2026-000001 2>&1)
echo "$out" | grep -q "clerk03 is a clerk; this needs a supervisor" && [ "$(state_of R2026-000001)" = verified ] \
	&& ok "a clerk who neither keyed nor verified still cannot approve (role)" || fail "clerk approves" "$out"
check_fails "a clerk cannot add officers" ra-ctl officer add clerk09 --role clerk --officer clerk01 "${AS[@]}" --new-passphrase-file "$OPASS"
# A credential from another CA, naming sup01.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/rogue-ca.key" -subj "/CN=Rogue CA" \
	-days 30 -out "$T/rogue-ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/rogue.key" -subj "/CN=sup01" -out "$T/rogue.csr" 2>/dev/null
openssl x509 -req -in "$T/rogue.csr" -CA "$T/rogue-ca.pem" -CAkey "$T/rogue-ca.key" -CAcreateserial -days 30 \
	-out "$T/rogue.pem" 2>/dev/null
openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$T/rogue.key" -passout "file:$OPASS" >> "$T/rogue.pem"
out=$(ra-intake approve --officer sup01 --credential "$T/rogue.pem" "${AS[@]}" R2026-000001 2>&1)
echo "$out" | grep -q "not from the officer CA" && [ "$(state_of R2026-000001)" = verified ] \
	&& ok "a certificate not from the officer CA is refused" || fail "rogue CA" "$out"
out=$(ra-intake approve --officer sup01 "${AS[@]}" R2026-000001 2>&1)
serial=$(sql "$DEP/ra.db" "SELECT cert_serial FROM officers WHERE id = 'sup01'")
echo "$out" | grep -q "R2026-000001 approved" && ok "the supervisor approves with their own credential" || fail "sup01 approves" "$out"
[ "$(sql "$DEP/ra.db" "SELECT keyed_by || ' ' || verified_by || ' ' || approved_by FROM forms WHERE serial = 'R2026-000001'")" = "clerk01 clerk02 sup01" ] \
	&& [ "$(sql "$DEP/ra.db" "SELECT actor FROM audit WHERE action = 'form.approved' AND object = 'form:R2026-000001'")" = "sup01 (cert $serial)" ] \
	&& ok "the form and the audit name the verified officers, the approver by certificate serial" \
	|| fail "verified names" "$(sql "$DEP/ra.db" "SELECT actor, action FROM audit WHERE object = 'form:R2026-000001'")"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM audit WHERE actor IN ('x', 'clerk02') OR actor LIKE 'sup01' ")" -eq 0 ] \
	&& ok "no audit row names a typed officer name" || fail "typed names in the audit"

# A supervisor who keyed a form cannot approve it, nor can its second keyer: the
# verified ids are compared, so sup01's credential is sup01 whatever the form says.
sed 's/^officer: .*/officer: sup01/' "$EX/reg-03.yaml" > "$T/reg-03.yaml"
ra-intake import --officer sup01 "${AS[@]}" "$T/reg-03.yaml" >/dev/null || fail "sup01 keys R2026-000003"
ra-intake verify --officer clerk02 "${AS[@]}" --file "$T/reg-03.yaml" >/dev/null || fail "clerk02 verifies R2026-000003"
out=$(ra-intake approve --officer sup01 "${AS[@]}" R2026-000003 2>&1)
echo "$out" | grep -q "keyed by sup01, who therefore cannot approve it" && [ "$(state_of R2026-000003)" = verified ] \
	&& ok "the keyer cannot approve, on verified ids" || fail "keyer approves" "$out"
# A second administrator with a passphrase of their own needs the officer CA key's.
printf 'another passphrase\n' > "$T/admin2.pass"
ra-ctl officer add admin2 --role admin --officer admin "${AS[@]}" --new-passphrase-file "$T/admin2.pass" >/dev/null || fail "admin2 added"
check_fails "admin2 cannot open the officer CA key with their own passphrase" \
	ra-ctl officer add clerk05 --role clerk --officer admin2 --passphrase-file "$T/admin2.pass" --new-passphrase-file "$OPASS"
check "admin2 adds an officer with the CA key's passphrase" \
	ra-ctl officer add clerk05 --role clerk --officer admin2 --passphrase-file "$T/admin2.pass" --ca-passphrase-file "$OPASS" \
	--new-passphrase-file "$OPASS"
[ "$(sql "$DEP/ra.db" "SELECT actor LIKE 'admin2 (cert %' FROM audit WHERE action = 'officer.added' AND object = 'officer:clerk05'")" = 1 ] \
	&& ok "the new officer is recorded with admin2 as actor" || fail "officer.added actor"
out=$(ra-ctl officer disable clerk02 --officer admin "${AS[@]}" 2>&1)
echo "$out" | grep -q "clerk02 disabled" && ra-ctl officer list | grep -q "^clerk02 .*disabled" \
	&& [ "$(sql "$DEP/ra.db" "SELECT actor LIKE 'admin (cert %' FROM audit WHERE action = 'officer.disabled' AND object = 'officer:clerk02'")" = 1 ] \
	&& ok "ra-ctl officer disable: listed as disabled, audited with the administrator" || fail "disable" "$out"
{ sed '/^language:/d' "$DEP/ra.yaml"; echo 'language: zh-TW'; } >"$DEP/ra-zh.yaml"
out=$(ra-ctl -c "$DEP/ra-zh.yaml" officer disable clerk02 --officer admin "${AS[@]}" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "officer_disable: no enabled officer clerk02" &&
	echo "$out" | grep -qF "ra-ctl: officer_disable：停用人員：沒有啟用中的人員 clerk02" &&
	[ "$(sql "$DEP/ra.db" "SELECT json_extract(result, '$.code') FROM jobs WHERE kind = 'officer_disable' ORDER BY id DESC LIMIT 1")" = officer_not_enabled ] &&
	ok "disabling a disabled officer is refused, in Traditional Chinese too for a zh-TW operator (code officer_not_enabled)" ||
	fail "disable twice, zh-TW" "$out"
out=$(ra-ctl -c "$DEP/ra-zh.yaml" officer add clerk06 --role clerk --officer admin "${AS[@]}" --new-passphrase-file "$OPASS" 2>&1)
echo "$out" | grep -q "officer clerk06 (clerk) added" && echo "$out" | grep -q "已新增人員 clerk06（clerk）" &&
	out=$(ra-ctl -c "$DEP/ra-zh.yaml" officer disable clerk06 --officer admin "${AS[@]}" 2>&1) &&
	echo "$out" | grep -q "officer clerk06 disabled" && echo "$out" | grep -q "已停用人員 clerk06" &&
	! ra-ctl officer disable clerk05 --officer admin "${AS[@]}" 2>&1 | grep -qP '[\x{4e00}-\x{9fff}]' &&
	ok "ra-ctl officer add and disable say what they did in both languages to a zh-TW operator, English alone otherwise" ||
	fail "officer add/disable, zh-TW" "$out"
ra-intake import --officer clerk01 "${AS[@]}" "$EX/reg-02.yaml" >/dev/null || fail "clerk01 keys R2026-000002"
out=$(ra-intake verify --officer clerk02 "${AS[@]}" --file "$EX/reg-02.yaml" 2>&1)
echo "$out" | grep -q "officer clerk02 is disabled" && [ "$(state_of R2026-000002)" = keyed ] \
	&& ok "a disabled officer's signature is refused" || fail "disabled officer" "$out"

# --- renewal: the website always proves the subscriber, the counter signs -----------------
A1=$(sql "$DEP/ra.db" "SELECT a.id FROM accounts a JOIN subscribers s ON s.id = a.subscriber_id WHERE s.form_serial = 'R2026-000001'")
make_csr s1; make_csr e1
ra-ctl request-certs 1 --sign-csr "$T/s1.csr" --enc-csr "$T/e1.csr" --officer op01 "${AS[@]}" >/dev/null || fail "certificates of order 1"
make_csr s1r; make_csr e1r
p=$(python3 -c 'import json, sys; print(json.dumps({"account": sys.argv[1], "officer": "x",
	"sign_csr": open(sys.argv[2]).read(), "enc_csr": open(sys.argv[3]).read()}))' "$A1" "$T/s1r.csr" "$T/e1r.csr")
out=$(job_end "$(submit self renew r1 "$p")")
echo "$out" | grep -q "^failed .*needs the subscriber's password" \
	&& [ "$(sql "$DEP/ra.db" "SELECT count(*) FROM orders WHERE purpose = 'renewal'")" -eq 0 ] \
	&& [ "$(sql "$DEP/ra.db" "SELECT count(*) FROM audit WHERE actor = 'x'")" -eq 0 ] \
	&& ok "the website's key cannot renew without the subscriber's password; the name 'x' is recorded nowhere" \
	|| fail "renew without password" "$out"
out=$(probe self RA/1 SUBMIT counter_renew r2 "$p")
echo "$out" | grep -q "may not submit counter_renew" && ok "the website's key cannot submit a counter renewal" || fail "self counter_renew" "$out"
out=$(ra-ctl renew "$A1" --sign-csr "$T/s1r.csr" --enc-csr "$T/e1r.csr" --officer clerk01 "${AS[@]}" 2>&1)
echo "$out" | grep -q "clerk01 is a clerk; this needs a supervisor" && ok "a clerk cannot renew at the counter" || fail "clerk renews" "$out"
echo "$out" | grep -q "此作業須由" && fail "an English operator is told in English alone" "$out" || ok "an English operator is told in English alone"
{ sed '/^language:/d' "$DEP/ra.yaml"; echo 'language: zh-TW'; } >"$DEP/ra-zh.yaml"
out=$(ra-ctl -c "$DEP/ra-zh.yaml" renew "$A1" --sign-csr "$T/s1r.csr" --enc-csr "$T/e1r.csr" --officer clerk01 "${AS[@]}" 2>&1)
echo "$out" | grep -q "clerk01 is a clerk; this needs a supervisor" &&
	echo "$out" | grep -qF "ra-ctl: renew：counter_renew：拒絕：人員 clerk01 的角色是 clerk，此作業須由 supervisor 執行" &&
	[ "$(sql "$DEP/ra.db" "SELECT json_extract(result, '$.code') FROM jobs WHERE kind = 'counter_renew' ORDER BY id DESC LIMIT 1")" = officer_role ] &&
	ok "a zh-TW operator is told the refusal in Traditional Chinese too (code officer_role)" || fail "clerk renews, zh-TW" "$out"
out=$(ra-ctl renew "$A1" --sign-csr "$T/s1r.csr" --enc-csr "$T/e1r.csr" --officer sup01 "${AS[@]}" 2>&1)
echo "$out" | grep -q "new signature certificate" \
	&& [ "$(sql "$DEP/ra.db" "SELECT actor FROM audit WHERE action = 'order.created' ORDER BY id DESC LIMIT 1")" = "sup01 (cert $serial)" ] \
	&& ok "a supervisor renews at the counter; the renewal order names them" || fail "counter renewal" "$out"
check "the audit chain is intact" ra-ctl audit verify

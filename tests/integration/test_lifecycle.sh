#!/bin/bash
# Certificate lifecycle through the real daemons: revocation by paper form (dual control,
# second keying), suspension online with the website password, resume by paper form (new
# password sheet), renewal within its window, bulk revocation by the RA; the CRLs the signer
# publishes checked with `openssl crl -verify` and `openssl verify -crl_check`; refusals
# each with a clear error and nothing changed; a tampered audit row found; no clear
# password in the logs or the ledger. Time moves only through RA_NOW (daemons restarted).
. "$(dirname "$0")/lib.sh"
ra_deploy 2
printf 'notifier:\n  templates_dir: %s/config/templates\n' "$RA_TOP" >> "$RA_CONFIG"

# --- helpers ----------------------------------------------------------------------------
account_of() { sql "$DEP/ra.db" "SELECT id FROM accounts WHERE subscriber_id = $1"; }
# form_yaml FILE KIND SERIAL ACCOUNT [line...]
form_yaml() {
	local f=$1 kind=$2 serial=$3 account=$4
	shift 4
	{ echo "kind: $kind"; echo "serial: $serial"; echo "account: $account"; for l in "$@"; do echo "$l"; done
	  applicant_lines "$account" $([ "$kind" = revocation ] || echo sheet); } > "$f"
}
# form_through KIND FILE SERIAL: keyed by clerk01, second-keyed by clerk02, approved by sup01.
form_through() {
	local kind=$1 f=$2 serial=$3 cmd
	case $kind in revocation) cmd=revoke ;; resume) cmd=resume ;; password_reset) cmd=password-reset ;; esac
	ra-intake "$cmd" --officer clerk01 --passphrase-file "$OPASS" --file "$f" >/dev/null || return 1
	ra-intake verify --officer clerk02 --passphrase-file "$OPASS" --kind "$kind" --file "$f" >/dev/null || return 1
	ra-intake approve --officer sup01 --passphrase-file "$OPASS" "$serial"
}
form_state() { sql "$DEP/ra.db" "SELECT state FROM forms WHERE serial = '$1'"; }
# sheet_password SHEET FILE: print the counter sheet (ra-notifier) and read the password
# off it, as the subscriber does; into a 0600 file, never printed.
sheet_password() {
	ra-notifier sheets --sheet "$1" >/dev/null 2>>"$T/notifier.log" || return 1
	pdftotext "$DEP/sheets/counter/$1.pdf" - | grep -xE '[A-Za-z2-9]{12}' | head -n 1 > "$2"
	chmod 600 "$2"
	[ -s "$2" ]
}
sheet_of_form() { sql "$DEP/ra.db" "SELECT json_extract(result, '\$.sheet') FROM jobs WHERE kind = 'form_approve' AND json_extract(result, '\$.form') = '$1'"; }
# reset_password ACCOUNT FORM FILE: a password-reset form for counter pickup; password in FILE.
reset_password() {
	form_yaml "$T/$2.yaml" password_reset "$2" "$1" "delivery: counter"
	form_through password_reset "$T/$2.yaml" "$2" >/dev/null || return 1
	sheet_password "$(sheet_of_form "$2")" "$3"
}
# cert_status SERIAL: "RA/SIGNER" status.
cert_status() {
	echo "$(sql "$DEP/ra.db" "SELECT status FROM certificates WHERE serial = '$1'")/$(sql "$DEP/signer/signer.db" "SELECT status FROM certs WHERE serial = '$1'")"
}
certs_of() {
	sql "$DEP/ra.db" "SELECT c.serial FROM certificates c JOIN accounts a ON a.subscriber_id = c.subscriber_id
		WHERE a.id = '$1' ORDER BY c.created_at, c.usage"
}
# all_status ACCOUNT: the statuses of the account's certificates, "RA/SIGNER" each.
all_status() { local s; for s in $(certs_of "$1"); do cert_status "$s"; done | sort -u | tr '\n' ' ' | sed 's/ $//'; }
# crl_verdict SERIAL: "ok" if openssl verify -crl_check accepts it with the published CRL.
crl_verdict() {
	sql "$DEP/ra.db" "SELECT pem FROM certificates WHERE serial = '$1'" > "$T/v.pem"
	if openssl verify -crl_check -CAfile "$DEP/signer/ca.pem" -CRLfile "$DEP/crl/ra.crl.pem" "$T/v.pem" > "$T/v.out" 2>&1; then
		echo ok
	else
		grep -o 'error [0-9]*' "$T/v.out" | head -n 1
	fi
}
crl_lists() { openssl crl -in "$DEP/crl/ra.crl.pem" -noout -text | grep -qi "Serial Number: $1"; }
# restart_at TIME: daemons stopped and started again with the RA clock at TIME.
restart_at() {
	ra-ctl down >/dev/null
	export RA_NOW=$1
	ra-ctl -c "$RA_CONFIG" up --workers 2 >/dev/null || fail "ra-ctl up at $1"
}
ra_self() { ra-self --lang en "$@"; }

# --- four subscribers with certificates -------------------------------------------------
register_forms clerk01 clerk02 sup01 "$RA_TOP"/config/examples/reg-0[1-4].yaml || fail "registration forms"
for o in 1 2 3 4; do
	make_csr s$o; make_csr e$o
	ra-ctl request-certs $o --sign-csr "$T/s$o.csr" --enc-csr "$T/e$o.csr" --officer op01 --passphrase-file "$OPASS" >/dev/null || fail "certificates for order $o"
done
A1=$(account_of 1); A2=$(account_of 2); A3=$(account_of 3); A4=$(account_of 4)
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM certificates WHERE status = 'valid'")" -eq 8 ] && ok "4 subscribers with 2 valid certificates each" || fail "setup"

# --- revocation by paper form -----------------------------------------------------------
# Refusals first: each with a clear error, nothing changed.
form_yaml "$T/noreason.yaml" revocation V-0001 "$A1"
out=$(ra-intake revoke --officer clerk01 --passphrase-file "$OPASS" --file "$T/noreason.yaml" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -qi "reason" && [ -z "$(form_state V-0001)" ] \
	&& ok "a revocation form without a reason is refused at keying, naming the field; nothing stored" \
	|| fail "revocation without reason" "$out"
form_yaml "$T/rev1.yaml" revocation V-0002 "$A1" "reason: keyCompromise" "event_date: $(date -u -d "5 days ago" +%Y-%m-%d)"
ra-intake revoke --officer clerk01 --passphrase-file "$OPASS" --file "$T/rev1.yaml" >/dev/null
out=$(ra-intake approve --officer clerk01 --passphrase-file "$OPASS" V-0002 2>&1)
echo "$out" | grep -q "clerk01 is a clerk; this needs a supervisor" && [ "$(all_status "$A1")" = "valid/valid" ] \
	&& ok "the keyer (a clerk) cannot approve their own revocation form; nothing revoked" || fail "keyer approves" "$out"
out=$(ra-intake approve --officer sup01 --passphrase-file "$OPASS" V-0002 2>&1)
echo "$out" | grep -q "needs its second keying" && [ "$(all_status "$A1")" = "valid/valid" ] \
	&& ok "a revocation form is not approved before its second keying" || fail "approve before verify" "$out"
sed 's/keyCompromise/affiliationChanged/' "$T/rev1.yaml" > "$T/rev1-diff.yaml"
out=$(ra-intake verify --officer clerk02 --passphrase-file "$OPASS" --kind revocation --file "$T/rev1-diff.yaml" 2>&1)
echo "$out" | grep -q "reason" && [ "$(form_state V-0002)" = keyed ] \
	&& ok "a second keying that differs names the field (reason); the form stays keyed" || fail "second keying differs" "$out"
out=$(ra-intake verify --officer clerk01 --passphrase-file "$OPASS" --kind revocation --file "$T/rev1.yaml" 2>&1)
echo "$out" | grep -q "must be done by another clerk" && ok "the keyer cannot do the second keying" || fail "keyer verifies" "$out"
ra-intake verify --officer clerk02 --passphrase-file "$OPASS" --kind revocation --file "$T/rev1.yaml" >/dev/null
out=$(ra-intake approve --officer clerk02 --passphrase-file "$OPASS" V-0002 2>&1)
echo "$out" | grep -q "clerk02 is a clerk; this needs a supervisor" && ok "the second keyer (a clerk) cannot approve either" || fail "verifier approves" "$out"
if ra-intake approve --officer sup01 --passphrase-file "$OPASS" V-0002 >/dev/null; then ok "revocation form approved by a third officer"; else fail "revocation approve"; fi
[ "$(all_status "$A1")" = "revoked/revoked" ] && ok "both certificates revoked, in ra.db and at the signer alike" \
	|| fail "revoked both" "$(all_status "$A1")"
[ "$(sql "$DEP/ra.db" "SELECT DISTINCT reason FROM certificates c JOIN accounts a ON a.subscriber_id = c.subscriber_id WHERE a.id = '$A1'")" = keyCompromise ] \
	&& ok "the reason is recorded (keyCompromise)" || fail "reason recorded"
[ "$(form_state V-0002)" = done ] && ok "the form is done" || fail "form state" "$(form_state V-0002)"
check "openssl crl -verify: the published CRL is signed by the CA" openssl crl -in "$DEP/crl/ra.crl.pem" -CAfile "$DEP/signer/ca.pem" -verify -noout
cmp -s <(openssl crl -in "$DEP/crl/ra.crl" -inform DER -outform PEM) "$DEP/crl/ra.crl.pem" && ok "DER and PEM CRLs are the same CRL" || fail "DER/PEM CRL"
openssl crl -in "$DEP/crl/ra.crl.pem" -noout -text > "$T/crl1.txt"
grep -q "Key Compromise" "$T/crl1.txt" && grep -q "Invalidity Date" "$T/crl1.txt" && grep -q "CRL Number" "$T/crl1.txt" \
	&& grep -q "Authority Key Identifier" "$T/crl1.txt" && ok "CRL v2: reason code, invalidity date, CRL number, AKI" || fail "CRL contents"
r1=$(certs_of "$A1" | head -n 1); g3=$(certs_of "$A3" | head -n 1)
[ "$(crl_verdict "$r1")" = "error 23" ] && ok "openssl verify -crl_check rejects a revoked certificate (error 23)" || fail "verify revoked" "$(crl_verdict "$r1")"
[ "$(crl_verdict "$g3")" = ok ] && ok "openssl verify -crl_check accepts a valid one" || fail "verify valid" "$(crl_verdict "$g3")"
form_yaml "$T/rev1b.yaml" revocation V-0003 "$A1" "reason: superseded"
out=$(form_through revocation "$T/rev1b.yaml" V-0003 2>&1)
echo "$out" | grep -q "no valid or held certificate to revoke" && [ "$(form_state V-0003)" = verified ] \
	&& ok "revoking an account whose certificates are revoked is refused; the form stays verified" || fail "revoke twice" "$out"

# --- suspension online -------------------------------------------------------------------
reset_password "$A2" P-0001 "$T/pw2" && ok "the subscriber's password read off the counter sheet (reset form)" || fail "password sheet"
echo "not-the-password" > "$T/bad"
out=$(ra_self suspend --account "$A2" --password-file "$T/bad" 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "wrong password: 2 tries left" && [ "$(all_status "$A2")" = "valid/valid" ] \
	&& ok "suspend with a wrong password: refused with the tries left; nothing held" || fail "suspend wrong password" "$out"
[ "$(sql "$DEP/ra.db" "SELECT failures FROM accounts WHERE id = '$A2'")" = 1 ] && ok "...and it counts toward the lockout" || fail "failure counted"
out=$(ra_self suspend --account "$A2" --password-file "$T/pw2" 2>&1)
echo "$out" | grep -q "2 certificate(s) are now on hold" && [ "$(all_status "$A2")" = "held/held" ] \
	&& ok "suspend with the password: both certificates on hold, in ra.db and at the signer" || fail "suspend" "$out"
[ "$(sql "$DEP/ra.db" "SELECT failures FROM accounts WHERE id = '$A2'")" = 0 ] && ok "a right password resets the failure count" || fail "count reset"
h2=$(certs_of "$A2" | head -n 1)
openssl crl -in "$DEP/crl/ra.crl.pem" -noout -text | grep -A4 -i "Serial Number: $h2" | grep -q "Certificate Hold" \
	&& ok "the CRL lists the held certificate with reason certificateHold" || fail "hold in CRL"
[ "$(crl_verdict "$h2")" = "error 23" ] && ok "openssl verify -crl_check rejects a held certificate" || fail "verify held" "$(crl_verdict "$h2")"
out=$(ra-self suspend --account "$A2" --password-file "$T/pw2" 2>&1)
echo "$out" | grep -q "憑證已在停用" && ok "suspending again: already on hold (Traditional Chinese by default)" || fail "suspend twice" "$out"
out=$(ra_self suspend --account "$A1" --password-file "$T/bad" 2>&1)
echo "$out" | grep -q "wrong password" && ok "suspend of a revoked account with a wrong password: only 'wrong password'" || fail "suspend revoked" "$out"

# --- resume by paper form ----------------------------------------------------------------
form_yaml "$T/res1.yaml" resume S-0001 "$A1" "delivery: counter"
out=$(form_through resume "$T/res1.yaml" S-0001 2>&1)
echo "$out" | grep -q "revoked certificate can never be resumed" && [ "$(all_status "$A1")" = "revoked/revoked" ] \
	&& [ "$(form_state S-0001)" = verified ] && ok "resume of a revoked certificate refused; nothing changed" || fail "resume revoked" "$out"
sheets_before=$(sql "$DEP/ra.db" "SELECT count(*) FROM sheets WHERE reason = 'resume'")
form_yaml "$T/res2.yaml" resume S-0002 "$A2" "delivery: counter"
out=$(form_through resume "$T/res2.yaml" S-0002 2>&1)
[ "$(all_status "$A2")" = "valid/valid" ] && ok "resume form approved: the hold is lifted in ra.db and at the signer" || fail "resume" "$out $(all_status "$A2")"
crl_lists "$h2" && fail "released certificate left the CRL" || ok "the released certificate has left the next CRL (removeFromCRL)"
[ "$(crl_verdict "$h2")" = ok ] && ok "openssl verify -crl_check accepts it again" || fail "verify released" "$(crl_verdict "$h2")"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM sheets WHERE reason = 'resume' AND delivery = 'counter' AND length(sealed) > 60")" -eq $((sheets_before + 1)) ] \
	&& ok "resume queues a new sealed password sheet (counter pickup)" || fail "resume sheet"
out=$(ra_self status --account "$A2" --password-file "$T/pw2" 2>&1)
echo "$out" | grep -q "wrong password" && ok "after resume the old password no longer works" || fail "old password after resume" "$out"
sheet_password "$(sheet_of_form S-0002)" "$T/pw2b" || fail "resume sheet printed"
out=$(ra_self status --account "$A2" --password-file "$T/pw2b" 2>&1)
echo "$out" | grep -q "valid" && ok "the new password from the resume sheet works" || fail "new password" "$out"
form_yaml "$T/res3.yaml" resume S-0003 "$A3" "delivery: post"
out=$(form_through resume "$T/res3.yaml" S-0003 2>&1)
echo "$out" | grep -q "no certificate on hold" && ok "resume of certificates that are not on hold refused" || fail "resume valid" "$out"

# --- bulk revocation by the RA -----------------------------------------------------------
printf '# batch 7\nzz-not-hex\n' > "$T/bad-serials"
out=$(ra-ctl revoke --serials-file "$T/bad-serials" --reason keyCompromise --officer admin --passphrase-file "$OPASS" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "bad-serials:2: not a certificate serial" && ok "bulk revocation: a bad line is named, nothing sent" || fail "bad serials file" "$out"
certs_of "$A4" > "$T/serials4"
out=$(ra-ctl revoke --serials-file "$T/serials4" --reason stolen --officer admin --passphrase-file "$OPASS" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "not a revocation reason" && [ "$(all_status "$A4")" = "valid/valid" ] \
	&& ok "bulk revocation with an unknown reason refused; nothing changed" || fail "bad reason" "$out"

# --- renewal ------------------------------------------------------------------------------
make_csr s4r; make_csr e4r
out=$(ra-ctl renew "$A4" --sign-csr "$T/s4r.csr" --enc-csr "$T/e4r.csr" --officer sup01 --passphrase-file "$OPASS" 2>&1)
na4=$(sql "$DEP/ra.db" "SELECT max(not_after) FROM certificates c JOIN accounts a ON a.subscriber_id = c.subscriber_id WHERE a.id = '$A4'")
opens=$(date -u -d "@$((na4 - 30 * 86400))" +%Y-%m-%d)
echo "$out" | grep -q "renewal opens on $opens" && [ "$(certs_of "$A4" | wc -l)" -eq 2 ] \
	&& ok "renewal before its window refused with the date it opens ($opens)" || fail "renew early" "$out"
reset_password "$A3" P-0003 "$T/pw3" || fail "password of A3"
reset_password "$A4" P-0004 "$T/pw4" || fail "password of A4"
# A3's certificates go on hold now; they expire on hold (resume refused below).
ra_self suspend --account "$A3" --password-file "$T/pw3" >/dev/null || fail "suspend A3"

# --- OCSP: answers from the published CRL, signed by the responder's delegated key ------
port=$((20000 + RANDOM % 20000))
printf 'ocsp:\n  listen: 127.0.0.1:%s\n' "$port" >> "$RA_CONFIG"
ra-ocsp > "$T/ocsp.log" 2>&1 &
track $!
wait_for 10 grep -q "ready on" "$T/ocsp.log" || fail "ra-ocsp started" "$(cat "$T/ocsp.log")"
# ocsp_status SERIAL: "STATUS REASON" as openssl ocsp reports it, after it verified the answer.
ocsp_status() {
	sql "$DEP/ra.db" "SELECT pem FROM certificates WHERE serial = '$1'" > "$T/o.pem"
	openssl ocsp -issuer "$DEP/signer/ca.pem" -cert "$T/o.pem" -url "http://127.0.0.1:$port" -CAfile "$DEP/signer/ca.pem" \
		> "$T/o.out" 2>&1 && grep -q "Response verify OK" "$T/o.out" || { echo "unverified"; return; }
	echo "$(sed -n 's/^.*\.pem: //p' "$T/o.out") $(sed -n 's/^[[:space:]]*Reason: //p' "$T/o.out")" | sed 's/ *$//'
}
[ "$(ocsp_status "$(certs_of "$A1" | head -n 1)")" = "revoked keyCompromise" ] \
	&& ok "openssl ocsp: a revoked certificate is revoked (keyCompromise), answer verified" || fail "ocsp revoked" "$(cat "$T/o.out")"
[ "$(ocsp_status "$(certs_of "$A3" | head -n 1)")" = "revoked certificateHold" ] \
	&& ok "openssl ocsp: a held certificate is revoked (certificateHold)" || fail "ocsp held" "$(cat "$T/o.out")"
[ "$(ocsp_status "$(certs_of "$A2" | head -n 1)")" = "good" ] \
	&& ok "openssl ocsp: a resumed certificate is good again" || fail "ocsp good" "$(cat "$T/o.out")"
openssl ocsp -issuer "$DEP/signer/ca.pem" -cert "$T/o.pem" -reqout "$T/req.der" -no_nonce 2>/dev/null
b64=$(base64 -w0 "$T/req.der" | sed 's/+/%2B/g; s|/|%2F|g; s/=/%3D/g')
exec 3<>"/dev/tcp/127.0.0.1/$port"; printf 'GET /%s HTTP/1.0\r\n\r\n' "$b64" >&3; cat <&3 > "$T/get.out"; exec 3<&-
sed '1,/^\r$/d' "$T/get.out" > "$T/get.der"
openssl ocsp -respin "$T/get.der" -issuer "$DEP/signer/ca.pem" -cert "$T/o.pem" -CAfile "$DEP/signer/ca.pem" 2>&1 | grep -q ": good" \
	&& ok "OCSP over HTTP GET (RFC 6960 A.1) answers too" || fail "ocsp GET"
printf 'POST / HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello' > "$T/junk"
exec 3<>"/dev/tcp/127.0.0.1/$port"; cat "$T/junk" >&3; cat <&3 > "$T/junk.out"; exec 3<&-
sed '1,/^\r$/d' "$T/junk.out" > "$T/junk.der"
openssl ocsp -respin "$T/junk.der" -resp_text -noverify 2>&1 | grep -q "malformedrequest" \
	&& ok "a malformed OCSP request gets malformedRequest" || fail "ocsp malformed" "$(head -c 200 "$T/junk.out")"

restart_at "$(date -u -d "@$((na4 - 10 * 86400))" +%Y-%m-%dT%H:%M:%SZ)"
make_csr weak -newkey rsa:1024
out=$(ra_self renew --account "$A4" --password-file "$T/pw4" --sign-csr "$T/weak.csr" --enc-csr "$T/e4r.csr" --out "$T/renewed" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "RSA 1024 bits is too small" && [ "$(certs_of "$A4" | wc -l)" -eq 2 ] \
	&& ok "a renewal with a refused request (RSA-1024) fails plainly; nothing issued" || fail "weak renewal" "$out"
out=$(ra_self renew --account "$A4" --password-file "$T/pw4" --sign-csr "$T/s4.csr" --enc-csr "$T/e4.csr" --out "$T/renewed" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "already certified for this subscriber and usage" && [ "$(certs_of "$A4" | wc -l)" -eq 2 ] \
	&& ok "a renewal with the old keys is refused by the signer (a renewal needs new keys); nothing issued" || fail "renewal with old keys" "$out"
out=$(ra_self renew --account "$A4" --password-file "$T/pw4" --sign-csr "$T/s4r.csr" --enc-csr "$T/e4r.csr" --out "$T/renewed" 2>&1)
n=$(ls "$T"/renewed/*.pem 2>/dev/null | wc -l)
[ "$n" -eq 2 ] && echo "$out" | grep -q "Renewed: new signature certificate" && ok "ra-self renew within the window: two new certificates" || fail "renew" "$out"
# openssl's clock is the wall clock: check at the RA's time, when they are already valid.
good=0; for c in "$T"/renewed/*.pem; do openssl verify -attime $((na4 - 10 * 86400 + 3600)) -CAfile "$DEP/signer/ca.pem" "$c" >/dev/null 2>&1 && good=$((good + 1)); done
[ "$good" -eq 2 ] && ok "the new certificates pass openssl verify" || fail "renewed verify" "$good"
for c in "$T"/renewed/*.pem; do [ "$(openssl x509 -in "$c" -noout -pubkey | openssl md5)" = "$(openssl pkey -in "$T/s4r.key" -pubout | openssl md5)" ] && sigok=1; done
[ "${sigok:-0}" = 1 ] && ok "they carry the new keys" || fail "renewed keys"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM certificates c JOIN accounts a ON a.subscriber_id = c.subscriber_id WHERE a.id = '$A4' AND status = 'valid'")" -eq 4 ] \
	&& ok "the old certificates stay valid until they expire" || fail "old certs valid"
[ "$(sql "$DEP/ra.db" "SELECT purpose || '/' || state FROM orders WHERE id = (SELECT max(id) FROM orders)")" = renewal/issued ] \
	&& ok "the renewal is a renewal card order, issued" || fail "renewal order"
[ "$(sql "$DEP/ra.db" "SELECT group_concat(state) FROM orders WHERE purpose = 'renewal'")" = cancelled,cancelled,issued ] \
	&& ok "the refused renewals' orders were cancelled" || fail "dead renewal order" "$(sql "$DEP/ra.db" "SELECT group_concat(state) FROM orders WHERE purpose = 'renewal'")"
out=$(ra_self renew --account "$A4" --password-file "$T/pw4" --sign-csr "$T/s4r.csr" --enc-csr "$T/e4r.csr" --out "$T/renewed2" 2>&1)
echo "$out" | grep -q "renewal opens on" && ok "a second renewal waits for the new certificates' window" || fail "renew twice" "$out"

restart_at "$(date -u -d "@$((na4 + 86400))" +%Y-%m-%dT%H:%M:%SZ)"
make_csr s3r; make_csr e3r
out=$(ra_self renew --account "$A3" --password-file "$T/pw3" --sign-csr "$T/s3r.csr" --enc-csr "$T/e3r.csr" 2>&1)
echo "$out" | grep -q "expired on .*register again" && ok "renewal after expiry refused: register again" || fail "renew expired" "$out"
form_yaml "$T/res4.yaml" resume S-0004 "$A3" "delivery: post"
out=$(form_through resume "$T/res4.yaml" S-0004 2>&1)
echo "$out" | grep -q "expired on .*cannot be resumed" && [ "$(all_status "$A3")" = "held/held" ] \
	&& ok "resume of an expired held certificate refused; still held" || fail "resume expired" "$out"
unset RA_NOW
restart_at "$(date -u +%Y-%m-%dT%H:%M:%SZ)"

# --- bulk revocation ---------------------------------------------------------------------
{ certs_of "$A4"; certs_of "$A1"; echo "00ff00ff00ff00ff"; } > "$T/serials-bulk"
out=$(ra-ctl revoke --serials-file "$T/serials-bulk" --reason cessationOfOperation --officer admin --passphrase-file "$OPASS" 2>&1)
echo "$out" | grep -q "4 revoked (cessationOfOperation), 2 already revoked, 1 unknown" && [ "$(all_status "$A4")" = "revoked/revoked" ] \
	&& ok "bulk revocation: 4 revoked, the revoked and unknown ones reported" || fail "bulk revoke" "$out"
[ "$(crl_verdict "$(certs_of "$A4" | tail -n 1)")" = "error 23" ] && ok "bulk-revoked certificates fail openssl verify -crl_check" || fail "bulk crl"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM certificates WHERE status = 'revoked'")" = "$(sql "$DEP/signer/signer.db" "SELECT count(*) FROM certs WHERE status = 'revoked'")" ] \
	&& ok "ra.db and the signer agree on every revoked certificate" || fail "agreement"

# --- a worker killed half way through a revocation ----------------------------------------
# The signer has revoked both certificates, the worker dies before its transaction: the job
# runs again with the same request ids, the signer answers "already done", and ra.db ends
# up agreeing with it; each certificate was revoked once.
ra-ctl down >/dev/null
sed -i 's/lease_ms: 2000/lease_ms: 5000/' "$RA_CONFIG"
RA_WORKER_STALL_MS=3000 ra-ctl up --workers 1 >/dev/null
form_yaml "$T/rev2.yaml" revocation V-0010 "$A2" "reason: affiliationChanged"
ra-intake revoke --officer clerk01 --passphrase-file "$OPASS" --file "$T/rev2.yaml" >/dev/null
ra-intake verify --officer clerk02 --passphrase-file "$OPASS" --kind revocation --file "$T/rev2.yaml" >/dev/null
ra-intake approve --officer sup01 --passphrase-file "$OPASS" V-0010 > "$T/approve-crash.out" 2>&1 &
track $!
s2=$(certs_of "$A2" | head -n 1); e2=$(certs_of "$A2" | tail -n 1)
if wait_for 20 sql_is "$DEP/signer/signer.db" "SELECT count(*) FROM certs WHERE status = 'revoked' AND serial IN ('$s2','$e2')" 2; then
	ok "the signer revoked both while the worker was in the job"
else
	fail "signer revoked before the kill"
fi
kill -9 "$(cat "$DEP/run/ra-worker-1.pid")"
[ "$(all_status "$A2")" = "valid/revoked" ] && ok "worker killed mid-job: nothing half-stored in ra.db" || fail "half-stored" "$(all_status "$A2")"
ra-ctl down >/dev/null
sed -i 's/lease_ms: 5000/lease_ms: 2000/' "$RA_CONFIG"
ra-ctl up --workers 2 >/dev/null
if wait_for 30 sql_is "$DEP/ra.db" "SELECT state FROM forms WHERE serial = 'V-0010'" done; then
	ok "the expired lease was dispatched again and the revocation finished"
else
	fail "revocation after the kill" "$(sql "$DEP/ra.db" "SELECT state, attempts, error FROM jobs WHERE kind = 'form_approve' ORDER BY id DESC LIMIT 1")"
fi
[ "$(all_status "$A2")" = "revoked/revoked" ] && ok "ra.db and the signer agree: both revoked" || fail "agreement after crash" "$(all_status "$A2")"
[ "$(sql "$DEP/signer/signer.db" "SELECT count(*) FROM journal WHERE action = 'revoke' AND serial IN ('$s2','$e2')")" -eq 2 ] \
	&& ok "each certificate was revoked once at the signer (request ids from the job id)" || fail "journal"
[ "$(sql "$DEP/ra.db" "SELECT attempts FROM jobs WHERE kind = 'form_approve' ORDER BY id DESC LIMIT 1")" -ge 2 ] \
	&& ok "it took a second attempt" || fail "attempts"

# --- audit -------------------------------------------------------------------------------
check "audit chain intact after the lifecycle" ra-ctl audit verify
[ "$(sql "$DEP/ra.db" "SELECT count(DISTINCT action) FROM audit WHERE action IN ('cert.revoked','cert.held','cert.released','account.password_set','form.approved')")" -eq 5 ] \
	&& ok "revocations, holds, releases, passwords and approvals are audited" || fail "audit actions"
row=$(sql "$DEP/ra.db" "SELECT id FROM audit WHERE action = 'cert.held' LIMIT 1")
sql "$DEP/ra.db" "DROP TRIGGER audit_no_update; UPDATE audit SET after = 'valid' WHERE id = $row"
out=$(ra-ctl audit verify 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "BROKEN at row $row" && ok "a tampered audit row is found and named (row $row)" || fail "tamper" "$out"

# --- no clear password anywhere ----------------------------------------------------------
leaks=0
for f in "$T"/pw2 "$T"/pw2b "$T"/pw3 "$T"/pw4; do
	p=$(cat "$f")
	grep -rqF -- "$p" "$DEP"/log/ "$DEP"/ra.db* "$DEP"/signer/ "$T"/check.log "$T"/notifier.log 2>/dev/null && leaks=$((leaks + 1))
done
[ "$leaks" -eq 0 ] && ok "no clear password in the logs, ra.db or the signer's files" || fail "password leak" "$leaks"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE kind IN ('suspend','login','renew','password_change') AND state = 'done' AND json_extract(payload, '\$.password') <> '(redacted)'")" -eq 0 ] \
	&& ok "done jobs keep no sealed password in their payload" || fail "payload redaction"

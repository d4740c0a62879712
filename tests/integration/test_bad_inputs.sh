#!/bin/bash
# A table of bad inputs through the real daemons: forms, messages, job payloads,
# certificate requests and keys that are not on the allowlist. Each must get a clear error
# naming what is wrong, and nothing may be stored.
. "$(dirname "$0")/lib.sh"
ra_deploy 1
register_forms clerk01 clerk02 sup01 "$RA_TOP"/config/examples/reg-01.yaml || { fail "setup form"; exit 1; }

state() {	# what must not change
	echo "$(sql "$DEP/ra.db" "SELECT count(*) FROM forms") $(sql "$DEP/ra.db" "SELECT count(*) FROM subscribers")" \
	     "$(sql "$DEP/ra.db" "SELECT count(*) FROM certificates") $(sql "$DEP/signer/signer.db" "SELECT count(*) FROM certs")"
}
before=$(state)

# --- forms: ra-intake names the field and the reason; nothing reaches the queue ----------
person=$RA_TOP/config/examples/reg-02.yaml org=$RA_TOP/config/examples/reg-05.yaml
bad_form() {	# NAME FIELD-IN-MESSAGE SOURCE SED-EXPRESSION
	local name=$1 field=$2 src=$3 expr=$4 out
	sed -e "$expr" -e 's/^serial: .*/serial: BAD-'"$RANDOM"'/' "$src" > "$T/bad.yaml"
	if out=$(ra-intake register --officer clerk01 --passphrase-file "$OPASS" --file "$T/bad.yaml" 2>&1); then
		fail "form: $name" "accepted"
	elif echo "$out" | grep -q "$field"; then
		ok "form: $name is refused naming '$field'"
	else
		fail "form: $name" "no mention of $field: $out"
	fi
}
bad_form "national ID with a wrong check digit" national_id "$person" 's/^national_id: .*/national_id: E134653557/'
bad_form "national ID of the wrong shape" national_id "$person" 's/^national_id: .*/national_id: "12345"/'
bad_form "national ID with a bad letter/sex digit" national_id "$person" 's/^national_id: .*/national_id: E334653556/'
bad_form "business number with a wrong check" ubn "$org" 's/^ubn: .*/ubn: "04595258"/'
bad_form "business number of 7 digits" ubn "$org" 's/^ubn: .*/ubn: "0459525"/'
bad_form "organization without contact person" contact_person "$org" '/^contact_person:/d'
bad_form "e-mail without a domain" email "$person" 's/^email: .*/email: junjie.wang@/'
bad_form "phone with letters" phone "$person" 's/^phone: .*/phone: "call me"/'
bad_form "postal code of 2 digits" postal_code "$person" 's/^postal_code: .*/postal_code: "80"/'
bad_form "empty name" name "$person" 's/^name: .*/name: ""/'
bad_form "name with a control character" name "$person" 's/^name: .*/name: "王\\u0007俊傑"/'
bad_form "unknown applicant type" applicant_type "$person" 's/^applicant_type: .*/applicant_type: robot/'
bad_form "unknown document" documents_seen "$person" 's/^documents_seen: .*/documents_seen: [library_card]/'
bad_form "unknown field" favourite_colour "$person" '$a favourite_colour: blue'
bad_form "unknown language" language "$person" 's/^language: .*/language: klingon/'
bad_form "missing address" address "$person" '/^address:/d'

# --- messages to the queue: an ERROR that says what is wrong ----------------------------
probe_q() { ra-probe --endpoint "ipc://$DEP/run/queue.sock" --server-cert "$DEP/keys/queue.cert" \
	--client-cert "$DEP/keys/clients/ctl.cert" "$@"; }
bad_msg() {	# NAME EXPECTED-TEXT FRAMES...
	local name=$1 want=$2 out
	shift 2
	out=$(probe_q "$@" 2>&1)
	if echo "$out" | grep -q '^ERROR$' && echo "$out" | grep -q "$want"; then ok "message: $name: ERROR '$want'"
	else fail "message: $name" "$out"; fi
}
bad_msg "wrong protocol version" "wrong protocol version" RA/0 SUBMIT issue k '{}'
bad_msg "unknown command" "unknown command" RA/1 LAUNCH x
bad_msg "SUBMIT with a frame missing" "missing frames" RA/1 SUBMIT issue '{}'
bad_msg "SUBMIT with an extra frame" "extra frames" RA/1 SUBMIT issue k '{}' extra
bad_msg "SUBMIT of an unknown job kind" "unknown job kind" RA/1 SUBMIT mint_money k '{}'
bad_msg "SUBMIT whose payload is not JSON" "not a JSON object" RA/1 SUBMIT issue k '{"order":'
bad_msg "WAIT with a non-numeric id" "WAIT needs" RA/1 WAIT abc 10
bad_msg "QUERY of an unknown question" "unknown question" RA/1 QUERY secrets '{}'
bad_msg "a worker's command from a producer" "not a producer" RA/1 DONE 1 1
# What each producer may ask is tied to its key: the website front end cannot bulk-revoke,
# a card station cannot approve forms.
out=$(ra-probe --endpoint "ipc://$DEP/run/queue.sock" --server-cert "$DEP/keys/queue.cert" \
	--client-cert "$DEP/keys/clients/self.cert" RA/1 SUBMIT revoke k1 '{"serials":["00"],"reason":"keyCompromise"}')
echo "$out" | grep -q "client 'self' may not submit revoke jobs" && ok "message: the website's key cannot submit a bulk revocation" \
	|| fail "self may not revoke" "$out"
out=$(ra-probe --endpoint "ipc://$DEP/run/queue.sock" --server-cert "$DEP/keys/queue.cert" \
	--client-cert "$DEP/keys/clients/station.cert" RA/1 SUBMIT form_approve k2 '{"serial":"R2026-000001","officer":"x"}')
echo "$out" | grep -q "client 'station' may not submit form_approve jobs" && ok "message: a card station's key cannot approve forms" \
	|| fail "station may not approve" "$out"
out=$(ra-probe --endpoint "ipc://$DEP/run/queue.sock" --server-cert "$DEP/keys/queue.cert" \
	--client-cert "$DEP/keys/clients/self.cert" RA/1 QUERY certs '{"pem":true}')
echo "$out" | grep -q "client 'self' may not ask 'certs'" && ok "message: the website's key cannot list certificates" \
	|| fail "self may not list certs" "$out"
out=$(ra-probe --endpoint "ipc://$DEP/run/queue.sock" --server-cert "$DEP/keys/queue.cert" \
	--client-cert "$DEP/keys/clients/station.cert" RA/1 WAIT 3 0)
echo "$out" | grep -q "no such job" && ok "message: a producer cannot follow another producer's job" \
	|| fail "station may not follow intake's job" "$out"

# Idempotency keys are scoped by producer and kind: the website's key squatting the key a
# card station would use for card_done gets its own job, and the station still gets its own.
probe_as() { local who=$1; shift; ra-probe --endpoint "ipc://$DEP/run/queue.sock" --server-cert "$DEP/keys/queue.cert" \
	--client-cert "$DEP/keys/clients/$who.cert" "$@"; }
squat=$(probe_as self RA/1 SUBMIT login cs:done:999 '{"account":"u00000000","password":"eA=="}' | sed -n 3p)
mine=$(probe_as station RA/1 SUBMIT card_done cs:done:999 '{"order":999,"card_serial":"1","issue_job":999}' | sed -n 3p)
again=$(probe_as station RA/1 SUBMIT card_done cs:done:999 '{"order":999,"card_serial":"1","issue_job":999}' | sed -n 3p)
other=$(probe_as station RA/1 SUBMIT card_fail cs:done:999 '{"order":999,"card_serial":"1"}' | sed -n 3p)
[ -n "$squat" ] && [ -n "$mine" ] && [ "$squat" != "$mine" ] &&
	[ "$(sql "$DEP/ra.db" "SELECT kind || '/' || submitted_by FROM jobs WHERE id = $mine")" = card_done/station ] &&
	ok "idempotency: another producer's job is never returned for a key it squatted" ||
	fail "idempotency scoped by producer" "self got $squat, station got $mine"
[ "$again" = "$mine" ] && [ -n "$other" ] && [ "$other" != "$mine" ] &&
	ok "idempotency: the same producer and kind get their job back; another kind gets its own" ||
	fail "idempotency within a producer" "$mine, again $again, card_fail $other"

# A card station with a key pair of its own (ra-ctl station-key) speaks for itself only: the
# queue takes no job from it that names another station, and it follows only its own jobs.
check_fails "station-key: a name that could leave the keys folder is refused" ra-ctl station-key ../x
ra-ctl station-key counter2 >/dev/null && ra-ctl station-key counter3 >/dev/null || fail "station-key"
check_fails "station-key: a station's key pair is made once" ra-ctl station-key counter2
[ "$(stat -c %a "$DEP/keys/clients/station.counter2.cert_secret")" = "$(stat -c %a "$DEP/keys/clients/station.cert_secret")" ] \
	&& ok "station-key: the secret half is kept like the shared station key's" || fail "station-key mode"
kill "$(cat "$DEP/run/ra-queue.pid")"
wait_for 10 bash -c "! kill -0 $(cat "$DEP/run/ra-queue.pid") 2>/dev/null"
ra-ctl up --workers 1 >/dev/null || fail "ra-queue again, with the new keys"
out=$(probe_as station.counter2 RA/1 SUBMIT order_claim cs:claim:c2 '{"station":"counter3","card_serial":"1"}')
echo "$out" | grep -q "client 'station.counter2' may submit jobs only for station 'counter2'" \
	&& ok "message: a station's own key cannot submit a job naming another station" || fail "station names another" "$out"
out=$(probe_as station.counter2 RA/1 SUBMIT order_claim cs:claim:c2 '{"station":7,"card_serial":"1"}')
echo "$out" | grep -q "names '(not a name)'" && ok "message: nor one whose station is not a name" || fail "station not a name" "$out"
c2=$(probe_as station.counter2 RA/1 SUBMIT order_claim cs:claim:c2 '{"station":"counter2","card_serial":"1"}' | sed -n 3p)
c3=$(probe_as station.counter3 RA/1 SUBMIT order_claim cs:claim:c2 '{"station":"counter3","card_serial":"1"}' | sed -n 3p)
[ -n "$c2" ] && [ -n "$c3" ] && [ "$c2" != "$c3" ] &&
	[ "$(sql "$DEP/ra.db" "SELECT submitted_by FROM jobs WHERE id = $c2")" = station.counter2 ] &&
	ok "a station's own key: its jobs are its own, with their own idempotency keys" || fail "station jobs" "$c2 $c3"
out=$(probe_as station.counter2 RA/1 WAIT "$c3" 0)
echo "$out" | grep -q "no such job" && ok "message: a station cannot follow another station's job" || fail "station follows another" "$out"
# card-station with --station uses that station's own key pair when it has one
own_before=$(sql "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE submitted_by = 'station.counter2'")
card-station dispatch --card 99999999 --counter --station counter2 --officer op01 --passphrase-file "$OPASS" >"$T/cs.out" 2>&1
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE submitted_by = 'station.counter2' AND kind = 'card_dispatch'")" = 1 ] \
	&& [ "$(sql "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE submitted_by = 'station.counter2'")" = $((own_before + 1)) ] \
	&& ok "card-station --station counter2 submits with that station's own key" || fail "card-station own key" "$(cat "$T/cs.out")"

# --- job payloads: the job fails with a reason, nothing stored ----------------------------
bad_job() {	# NAME EXPECTED-TEXT PAYLOAD
	local name=$1 want=$2 payload=$3 id out
	local idem="bad-$RANDOM-$RANDOM"
	# Signed by the card operator, so that it is the payload that is refused.
	id=$(probe_q RA/1 SUBMIT issue "$idem" "$(officer_sign issue "$idem" "$payload" "$DEP/officers/op01.pem")" | sed -n 3p)
	out=$(probe_q --timeout 20000 RA/1 WAIT "$id" 15000)
	if echo "$out" | grep -q '^failed$' && echo "$out" | grep -q "$want"; then ok "job: $name: '$want'"
	else fail "job: $name" "$out"; fi
}
make_csr good
pem() { awk '{printf "%s\\n", $0}' "$1"; }
bad_job "issue for an order that does not exist" "no card order 999" '{"order":999,"sign_csr":"x","enc_csr":"x"}'
bad_job "issue asking for a 10-year validity" "validity_days" \
	"{\"order\":1,\"validity_days\":3650,\"sign_csr\":\"$(pem "$T/good.csr")\",\"enc_csr\":\"$(pem "$T/good.csr")\"}"
bad_job "issue without its encryption request" "enc_csr" "{\"order\":1,\"sign_csr\":\"$(pem "$T/good.csr")\"}"
bad_job "issue with a request that is not PEM" "not a PEM certificate request" '{"order":1,"sign_csr":"hello","enc_csr":"hello"}'
bad_job "a payload carrying a (sealed) password where none belongs" "password" '{"order":1,"password":"c2VhbGVkIHNlY3JldA=="}'
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE payload LIKE '%c2VhbGVkIHNlY3JldA==%'")" -eq 0 ] \
	&& ok "a job parked as failed keeps no secret, not even sealed" || fail "failed job redacted"

# --- certificate requests: the signer refuses and says why --------------------------------
bad_csr() {	# NAME EXPECTED-TEXT CSR-FILE
	local name=$1 want=$2 csr=$3 out
	if out=$(ra-ctl request-certs 1 --sign-csr "$csr" --enc-csr "$T/good.csr" --officer op01 --passphrase-file "$OPASS" 2>&1); then
		fail "CSR: $name" "accepted"
	elif echo "$out" | grep -qi "$want"; then ok "CSR: $name: '$want'"
	else fail "CSR: $name" "$out"; fi
}
make_csr small -newkey rsa:1024
bad_csr "RSA 1024" "1024" "$T/small.csr"
make_csr ec -newkey ec -pkeyopt ec_paramgen_curve:P-256
bad_csr "an EC key" "RSA" "$T/ec.csr"
make_csr ca -newkey rsa:2048 -addext "basicConstraints=critical,CA:TRUE"
bad_csr "asking for CA:TRUE" "CA:TRUE" "$T/ca.csr"
make_csr signer -newkey rsa:2048 -addext "keyUsage=critical,keyCertSign,cRLSign"
bad_csr "asking for keyCertSign" "keyCertSign" "$T/signer.csr"
openssl req -in "$T/good.csr" -outform DER -out "$T/good.der"
size=$(stat -c %s "$T/good.der")
# One byte of the signature turned over (a fixed value would leave it unchanged one time in 256).
flip=$(printf '%02x' $(( 0x$(od -An -tx1 -j $((size - 5)) -N1 "$T/good.der" | tr -d ' ') ^ 0xff )))
{ head -c $((size - 5)) "$T/good.der"; printf "\\x$flip"; tail -c 4 "$T/good.der"; } > "$T/forged.der"
openssl req -inform DER -in "$T/forged.der" -out "$T/forged.csr" 2>/dev/null
bad_csr "a wrong signature (no proof of possession)" "proof of possession" "$T/forged.csr"
head -c $((size - 40)) "$T/good.der" > "$T/short.der"
{ echo "-----BEGIN CERTIFICATE REQUEST-----"; base64 -w 64 "$T/short.der"; echo "-----END CERTIFICATE REQUEST-----"; } > "$T/short.csr"
bad_csr "a truncated request" "not a valid DER" "$T/short.csr"
{ echo "-----BEGIN CERTIFICATE REQUEST-----"; { cat "$T/good.der"; printf 'trailing'; } | base64 -w 64; echo "-----END CERTIFICATE REQUEST-----"; } > "$T/trail.csr"
bad_csr "trailing bytes after the request" "trailing" "$T/trail.csr"
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/sha1.key" -sha1 -subj /CN=x -out "$T/sha1.csr" 2>/dev/null	# a key of its own: one key is never certified twice
bad_csr "signed with SHA-1" "sha1" "$T/sha1.csr"

# --- a random generator that fails: ra-ctl init writes no secret that is not random ------
printf 'openssl_conf = conf\n[conf]\nrandom = random_sect\n[random_sect]\nrandom = CTR-DRBG\ncipher = AES-999-NONE\n' >"$T/norand.cnf"
OPENSSL_CONF="$T/norand.cnf" ra-ctl init "$T/norand" --passphrase-file "$OPASS" >"$T/norand.out" 2>&1; rc=$?
[ $rc -ne 0 ] && [ ! -e "$T/norand/keys/sheets.pass" ] && ! ls "$T/norand/keys/"*.key >/dev/null 2>&1 &&
	ok "ra-ctl init with a failing random generator fails and writes no secret" ||
	fail "init without randomness" "rc $rc; $(ls "$T/norand/keys" 2>&1 | tr '\n' ' ')"

# --- keys that are not on the allowlist -------------------------------------------------
ra-ctl init "$T/rogue" --passphrase-file "$OPASS" >/dev/null
out=$(ra-probe --timeout 1500 --endpoint "ipc://$DEP/run/queue.sock" --server-cert "$DEP/keys/queue.cert" \
	--client-cert "$T/rogue/keys/clients/ctl.cert" RA/1 QUERY stats '{}')
[ "$out" = timeout ] && grep -q "refused a CURVE connection" "$DEP/log/ra-queue.log" \
	&& ok "ra-queue refuses a client whose key is not allowed (and logs it)" || fail "queue refuses unknown key" "$out"
out=$(ra-probe --timeout 1500 --endpoint "ipc://$DEP/run/signer.sock" --server-cert "$DEP/keys/signer.cert" \
	--client-cert "$T/rogue/keys/workers/worker.cert" RA/1 CRL)
[ "$out" = timeout ] && grep -q "refused a CURVE connection" "$DEP/log/ca-signer.log" \
	&& ok "ca-signer refuses a worker key it does not know (and logs it)" || fail "signer refuses unknown key" "$out"
out=$(ra-probe --timeout 1500 --endpoint "ipc://$DEP/run/signer.sock" --server-cert "$DEP/keys/signer.cert" \
	--client-cert "$DEP/keys/clients/ctl.cert" RA/1 CRL)
[ "$out" = timeout ] && ok "ca-signer refuses a producer's key: only workers may ask it" || fail "signer refuses producer key" "$out"
out=$(ra-probe --timeout 1500 --endpoint "ipc://$DEP/run/workers.sock" --server-cert "$DEP/keys/queue.cert" \
	--client-cert "$DEP/keys/clients/ctl.cert" RA/1 READY all)
out2=$(sql "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE state = 'leased'")
grep -q "refused a CURVE connection from .* domain 'workers'" "$DEP/log/ra-queue.log" \
	&& ok "a producer's key cannot join as a worker" || fail "producer as worker" "$out $out2"
out=$(ra-probe --timeout 3000 --endpoint "ipc://$DEP/run/signer.sock" --server-cert "$DEP/keys/signer.cert" \
	--client-cert "$DEP/keys/workers/worker.cert" RA/1 SIGN r1 signature @"$T/short.der" '{"name":"x","account":"u1"}')
echo "$out" | grep -q "^ERROR$" && ok "ca-signer answers a malformed SIGN with ERROR" || fail "signer malformed SIGN" "$out"

[ "$(state)" = "$before" ] && ok "nothing was stored by any of the bad inputs" || fail "nothing stored" "before: $before, after: $(state)"

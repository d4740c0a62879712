#!/bin/bash
# The backbone through the real daemons: forms keyed, verified and approved through
# ra-intake; certificates requested from PKCS#10 files; checked with openssl verify.
# Idempotency of requests; the worker's and the queue's refusals.
. "$(dirname "$0")/lib.sh"
ra_deploy 2

forms=("$RA_TOP"/config/examples/reg-0[1-5].yaml)
if register_forms clerk01 clerk02 sup01 "${forms[@]}"; then ok "5 forms keyed, verified and approved"; else fail "forms keyed, verified and approved"; fi
n=$(ra-ctl orders --state approved | awk 'NR > 1' | wc -l)
[ "$n" -eq 5 ] && ok "5 card orders approved" || fail "5 card orders approved" "got $n"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM accounts WHERE pw_hash LIKE '\$argon2id\$%'")" -eq 5 ] \
	&& ok "accounts store argon2id hashes only" || fail "accounts store argon2id hashes"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM sheets WHERE kind = 'password' AND length(sealed) > 60")" -eq 5 ] \
	&& ok "each new password is sealed for its sheet" || fail "password sheets sealed"

make_csr s1; make_csr e1
if ra-ctl request-certs 1 --sign-csr "$T/s1.csr" --enc-csr "$T/e1.csr" --officer op01 --passphrase-file "$OPASS" --out "$T/out" > "$T/req1.txt"; then
	ok "request-certs issues an order's two certificates"
else
	fail "request-certs" "$(cat "$T/req1.txt")"
fi
good=0
for c in "$T"/out/*.pem; do openssl verify -CAfile "$DEP/signer/ca.pem" "$c" >/dev/null 2>&1 && good=$((good + 1)); done
[ "$good" -eq 2 ] && ok "both certificates pass openssl verify" || fail "openssl verify" "$good of 2"
sig=$(grep signature "$T/req1.txt" | awk '{print $5}')
openssl x509 -in "$T/out/$sig.pem" -noout -text > "$T/sig.txt"
grep -q 'CA:FALSE' "$T/sig.txt" && grep -q 'Digital Signature, Non Repudiation' "$T/sig.txt" \
	&& ok "signature certificate: CA:FALSE, digitalSignature + nonRepudiation" || fail "signature certificate profile"
[ "$(openssl x509 -in "$T/out/$sig.pem" -noout -pubkey | openssl md5)" = "$(openssl pkey -in "$T/s1.key" -pubout | openssl md5)" ] \
	&& ok "the certificate carries the request's public key" || fail "certificate public key"
nb=$(date -d "$(openssl x509 -in "$T/out/$sig.pem" -noout -startdate | cut -d= -f2)" +%s)
na=$(date -d "$(openssl x509 -in "$T/out/$sig.pem" -noout -enddate | cut -d= -f2)" +%s)
[ $(( (na - nb) / 86400 )) -eq 365 ] && ok "validity is the profile's 365 days" || fail "validity" "$(( (na - nb) / 86400 )) days"
serial_bits=$(( ${#sig} * 4 ))
[ "$serial_bits" -ge 64 ] && ok "serial has at least 64 bits ($serial_bits)" || fail "serial size" "$sig"

# Same request again: same job, same certificates, nothing new at the signer.
ra-ctl request-certs 1 --sign-csr "$T/s1.csr" --enc-csr "$T/e1.csr" --officer op01 --passphrase-file "$OPASS" > "$T/req1b.txt"
if diff <(grep certificate "$T/req1.txt") <(grep certificate "$T/req1b.txt") >/dev/null; then ok "a repeated request returns the same certificates"; else fail "repeated request"; fi
[ "$(sql "$DEP/signer/signer.db" "SELECT count(*) FROM certs")" -eq 2 ] && ok "the signer issued exactly 2 certificates" \
	|| fail "signer count" "$(sql "$DEP/signer/signer.db" "SELECT count(*) FROM certs")"
# Another issue job for an order that already has its certificates is refused.
make_csr s1b; make_csr e1b
check_fails "a second pair for an issued order is refused" ra-ctl request-certs 1 --sign-csr "$T/s1b.csr" --enc-csr "$T/e1b.csr" --officer op01 --passphrase-file "$OPASS"
ra-ctl jobs --state failed > "$T/failed.txt"
grep -q "certificates are issued only for an approved order" "$T/failed.txt" && ok "...with a clear reason" || fail "reason" "$(cat "$T/failed.txt")"

# Forms: the same paper keyed again is the same form; different content is a conflict.
out=$(ra-intake import --officer clerk01 --passphrase-file "$OPASS" "${forms[0]}" 2>&1)
[ "$(sql "$DEP/ra.db" "SELECT count(*) || state FROM forms WHERE serial = 'R2026-000001'")" = 1done ] \
	&& ok "the same form keyed twice is one form, left as it was" || fail "same form" "$out"
sed 's/^email: .*/email: someone.else@example.com/' "${forms[1]}" > "$T/changed.yaml"
out=$(ra-intake import --officer clerk01 --passphrase-file "$OPASS" "$T/changed.yaml" 2>&1)
echo "$out" | grep -q "conflict" && echo "$out" | grep -q "email" && ok "a different form with a known serial is a conflict naming the field" || fail "conflict" "$out"

# Audit chain intact; certs listed.
check "audit chain intact" ra-ctl audit verify
[ "$(ra-ctl certs | awk 'NR > 1' | wc -l)" -eq 2 ] && ok "ra-ctl certs lists them" || fail "ra-ctl certs"

# One public key, one certificate: never for both usages, never for a second subscriber.
signer_certs() { sql "$DEP/signer/signer.db" "SELECT count(*) FROM certs"; }
out=$(ra-ctl request-certs 2 --sign-csr "$T/s1b.csr" --enc-csr "$T/s1b.csr" --officer op01 --passphrase-file "$OPASS" 2>&1; ra-ctl jobs --state failed 2>&1)
echo "$out" | grep -q "carry the same public key" && [ "$(signer_certs)" -eq 2 ] \
	&& ok "one CSR for both usages is refused by the worker before the signer is asked" || fail "same key, both usages" "$out"
make_csr e2
out=$(ra-ctl request-certs 2 --sign-csr "$T/s1.csr" --enc-csr "$T/e2.csr" --officer op01 --passphrase-file "$OPASS" 2>&1; ra-ctl jobs --state failed 2>&1)
echo "$out" | grep -q "public key is already certified for another subscriber" && [ "$(signer_certs)" -eq 2 ] \
	&& ok "the signer refuses a key it certified for another subscriber, and says so" || fail "key of another subscriber" "$out"
make_csr s2
out=$(ra-ctl request-certs 2 --sign-csr "$T/s2.csr" --enc-csr "$T/s1.csr" --officer op01 --passphrase-file "$OPASS" 2>&1; ra-ctl jobs --state failed 2>&1)
withdrawn=$(sql "$DEP/signer/signer.db" "SELECT status || '/' || reason FROM certs WHERE id = (SELECT max(id) FROM certs)")
echo "$out" | grep -q "public key is already certified" && [ "$(signer_certs)" -eq 3 ] && [ "$withdrawn" = revoked/5 ] \
	&& [ "$(ra-ctl certs | awk 'NR > 1' | wc -l)" -eq 2 ] \
	&& ok "a pair whose second key is taken: the first certificate is withdrawn (revoked), none delivered" \
	|| fail "second key taken" "$withdrawn $out"
out=$(ra-ctl request-certs 1 --sign-csr "$T/s1.csr" --enc-csr "$T/e1.csr" --officer op01 --passphrase-file "$OPASS" 2>&1)
diff <(grep certificate "$T/req1.txt") <(echo "$out" | grep certificate) >/dev/null \
	&& ok "...while the first request still gets its own certificates back" || fail "idempotent after refusals" "$out"
check "ra-ctl status: all daemons run" ra-ctl status
check "the example config/ra.yaml is valid" ra-queue -c "$RA_TOP/config/ra.yaml" --check
sed 's/^  lease_ms: 60000/  lease_ms: sixty/' "$RA_TOP/config/ra.yaml" > "$T/broken.yaml"
out=$(ra-queue -c "$T/broken.yaml" --check 2>&1)
echo "$out" | grep -q "broken.yaml:12:13: queue.lease_ms: 'sixty' is not a whole number" \
	&& ok "a bad config value is reported with file, line and column, and nothing starts" || fail "config error position" "$out"

#!/bin/bash
# Delta CRLs and OCSP from the issuance record, through the real daemons: the signer
# publishes a base CRL, a delta after each status change (RFC 5280 5.2.4) and the list of
# issued serials; a revocation is in the next delta, before the delta a relying party
# holds expires, and `openssl verify -crl_check -use_deltas` rejects the certificate with
# the old base plus that delta. ra-ocsp, checked with `openssl ocsp`, says good only for
# issued and unrevoked certificates (at once for one issued after it started), unknown for
# a serial never issued, revoked with reason, unauthorized for another CA's certificate;
# it echoes nonces, serves a kept answer again until the status changes, and gives GET
# answers the caching headers of RFC 5019. Nothing here waits on the clock to decide anything.
. "$(dirname "$0")/lib.sh"
ra_deploy 2
CA=$DEP/signer/ca.pem
CRL=$DEP/crl

register_forms clerk01 clerk02 sup01 "$RA_TOP"/config/examples/reg-0[1-3].yaml || fail "registration forms"
for o in 1 2; do
	make_csr s$o; make_csr e$o
	ra-ctl request-certs $o --sign-csr "$T/s$o.csr" --enc-csr "$T/e$o.csr" --officer op01 --passphrase-file "$OPASS" >/dev/null || fail "certificates for order $o"
done
serials() { sql "$DEP/ra.db" "SELECT serial FROM certificates WHERE order_id = $1 ORDER BY usage"; }
pem_of() { sql "$DEP/ra.db" "SELECT pem FROM certificates WHERE serial = '$1'" > "$2"; }
S1=$(serials 1 | head -n 1); S2=$(serials 2 | head -n 1)
pem_of "$S1" "$T/c1.pem"; pem_of "$S2" "$T/c2.pem"
[ -n "$S1" ] && [ -n "$S2" ] || fail "setup" "no certificates"

# --- what the signer publishes ------------------------------------------------------------
openssl x509 -in "$T/c1.pem" -noout -ext freshestCRL 2>/dev/null | grep -q "ra-delta.crl" \
	&& ok "certificates carry the Freshest CRL pointer to the delta CRLs" || fail "freshest CRL in certificate"
openssl crl -in "$CRL/ra.crl.pem" -CAfile "$CA" -noout 2>&1 | grep -q "verify OK" \
	&& openssl crl -in "$CRL/ra-delta.crl.pem" -CAfile "$CA" -noout 2>&1 | grep -q "verify OK" \
	&& ok "the complete and the delta CRL are signed by the CA" || fail "CRL signatures"
openssl crl -in "$CRL/ra-delta.crl.pem" -noout -text > "$T/d0.txt"
grep -A1 "Delta CRL Indicator: critical" "$T/d0.txt" | tail -n 1 | grep -q "[0-9]" \
	&& ok "the delta carries a critical Delta CRL Indicator" || fail "delta indicator" "$(head -n 20 "$T/d0.txt")"
cmp -s <(sql "$DEP/signer/signer.db" "SELECT serial FROM certs" | sort) <(sort "$CRL/ra.issued") \
	&& ok "ra.issued lists exactly the serials in signer.db" || fail "issued list" "$(wc -l < "$CRL/ra.issued")"

# --- a revocation reaches the next delta --------------------------------------------------
cp "$CRL/ra.crl.pem" "$T/base.pem"
cp "$CRL/ra-delta.crl.pem" "$T/delta0.pem"
base_no=$(openssl crl -in "$T/base.pem" -noout -crlnumber | cut -d= -f2)
d0_next=$(date -d "$(openssl crl -in "$T/delta0.pem" -noout -nextupdate | cut -d= -f2)" +%s)
echo "$S1" > "$T/rev.txt"
ra-ctl revoke --serials-file "$T/rev.txt" --reason keyCompromise --officer admin --passphrase-file "$OPASS" >/dev/null || fail "revoke $S1"
in_delta() { openssl crl -in "$CRL/ra-delta.crl.pem" -noout -text | grep -qi "Serial Number: $1"; }
wait_for 20 in_delta "$S1" && ok "the revoked certificate is in the next delta CRL" || fail "delta lists $S1"
openssl crl -in "$CRL/ra-delta.crl.pem" -noout -text > "$T/d1.txt"
revoked_at=$(sql "$DEP/signer/signer.db" "SELECT revoked_at FROM certs WHERE serial = '$S1'")
d1_this=$(date -d "$(openssl crl -in "$CRL/ra-delta.crl.pem" -noout -lastupdate | cut -d= -f2)" +%s)
d1_next=$(date -d "$(openssl crl -in "$CRL/ra-delta.crl.pem" -noout -nextupdate | cut -d= -f2)" +%s)
[ "$d1_this" -ge "$revoked_at" ] && [ "$d1_this" -le "$d0_next" ] \
	&& ok "it was published before the delta a relying party held expired (thisUpdate $d1_this <= $d0_next)" \
	|| fail "delta timing" "revoked $revoked_at, delta $d1_this, previous next $d0_next"
[ $((d1_next - d1_this)) -eq 3600 ] && ok "delta nextUpdate is signer.delta_next_update_minutes (60) ahead" \
	|| fail "delta nextUpdate" "$((d1_next - d1_this)) s"
[ "$(grep -A1 "Delta CRL Indicator" "$T/d1.txt" | tail -n 1 | tr -d ' ')" = "$((base_no))" ] \
	&& ok "the delta names the base a relying party holds (base CRL $base_no)" || fail "delta base" "$(grep -A1 'Delta CRL' "$T/d1.txt")"
grep -q "Key Compromise" "$T/d1.txt" && ok "the delta entry has its reason" || fail "delta reason"
verdict() {	# verdict CRLFILE CERT [-use_deltas]
	if openssl verify -crl_check ${3:-} -CAfile "$CA" -CRLfile "$1" "$2" > "$T/v.out" 2>&1; then echo ok
	else grep -o 'error [0-9]*' "$T/v.out" | head -n 1; fi
}
cat "$T/base.pem" "$CRL/ra-delta.crl.pem" > "$T/both.pem"
v=$(verdict "$T/base.pem" "$T/c1.pem")
[ "$v" = ok ] && ok "the old base alone does not know the revocation" || fail "old base" "$v: $(cat "$T/v.out")"
# -extended_crl too: without it OpenSSL 3.0 may take the delta for the complete CRL.
[ "$(verdict "$T/both.pem" "$T/c1.pem" "-extended_crl -use_deltas")" = "error 23" ] \
	&& ok "openssl verify -crl_check -use_deltas: old base + delta rejects it (error 23)" || fail "use_deltas revoked" "$(cat "$T/v.out")"
[ "$(verdict "$T/both.pem" "$T/c2.pem" "-extended_crl -use_deltas")" = ok ] \
	&& ok "openssl verify -crl_check -use_deltas: old base + delta accepts a valid one" || fail "use_deltas valid" "$(cat "$T/v.out")"
[ "$(stat -c %s "$CRL/ra-delta.crl")" -lt 2048 ] && ok "the delta is small ($(stat -c %s "$CRL/ra-delta.crl") bytes)" \
	|| fail "delta size" "$(stat -c %s "$CRL/ra-delta.crl")"

# --- OCSP ---------------------------------------------------------------------------------
port=$((20000 + RANDOM % 20000))
# One serving thread: each thread keeps its own answers, and the check below asks twice.
printf 'ocsp:\n  listen: 127.0.0.1:%s\n  threads: 1\n' "$port" >> "$RA_CONFIG"
ra-ocsp > "$T/ocsp.log" 2>&1 &
track $!
wait_for 10 grep -q "ready on" "$T/ocsp.log" || fail "ra-ocsp started" "$(cat "$T/ocsp.log")"
# ask ARGS...: openssl ocsp against ra-ocsp; prints the status line's word and reason.
ask() {
	openssl ocsp -issuer "$CA" -url "http://127.0.0.1:$port" -CAfile "$CA" "$@" > "$T/o.out" 2>&1 \
		&& grep -q "Response verify OK" "$T/o.out" || { echo "unverified"; return; }
	echo "$(sed -n 's/^[^ ]*: \(good\|revoked\|unknown\)$/\1/p' "$T/o.out") $(sed -n 's/^[[:space:]]*Reason: //p' "$T/o.out")" | sed 's/ *$//'
}
[ "$(ask -cert "$T/c2.pem")" = good ] && ! grep -qi "nonce" "$T/o.out" \
	&& ok "openssl ocsp: an issued, unrevoked certificate is good; its nonce is echoed" || fail "ocsp good" "$(cat "$T/o.out")"
[ "$(ask -cert "$T/c1.pem")" = "revoked keyCompromise" ] \
	&& ok "openssl ocsp: the revoked certificate is revoked (keyCompromise)" || fail "ocsp revoked" "$(cat "$T/o.out")"
never=$(openssl rand -hex 16 | sed 's/^./7/')
[ "$(ask -serial "0x$never")" = unknown ] \
	&& ok "openssl ocsp: a serial the CA never issued is unknown, not good" || fail "ocsp never issued" "$(cat "$T/o.out")"
# Another CA's certificate: this responder has no record of it, so "unauthorized" (RFC
# 6960 2.3, RFC 5019 2.2.3), unsigned; the same when one of two CertIDs names another CA.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/other.key" -subj "/CN=Another CA" \
	-days 2 -out "$T/other.pem" 2>/dev/null || fail "another CA"
S2=$(openssl x509 -in "$T/c2.pem" -noout -serial | cut -d= -f2)
openssl ocsp -issuer "$T/other.pem" -serial "0x$S2" -url "http://127.0.0.1:$port" -CAfile "$CA" > "$T/o.out" 2>&1
grep -q "Responder Error: unauthorized (6)" "$T/o.out" \
	&& ok "openssl ocsp: a certificate of another CA is unauthorized, not unknown" || fail "ocsp another CA" "$(cat "$T/o.out")"
openssl ocsp -issuer "$CA" -cert "$T/c2.pem" -issuer "$T/other.pem" -serial "0x$S2" -url "http://127.0.0.1:$port" \
	-CAfile "$CA" > "$T/o.out" 2>&1
grep -q "Responder Error: unauthorized (6)" "$T/o.out" \
	&& ok "openssl ocsp: a request naming this CA and another is unauthorized" || fail "ocsp mixed CAs" "$(cat "$T/o.out")"
[ "$(ask -sha384 -cert "$T/c1.pem")" = "revoked keyCompromise" ] \
	&& ok "openssl ocsp: a SHA-384 CertID of this CA is answered (revoked)" || fail "ocsp sha384" "$(cat "$T/o.out")"

# GET (RFC 6960 A.1) of a request without a nonce: the kept answer, with the caching
# headers of RFC 5019 6.2 so an HTTP cache may serve it; an answer echoing a nonce is not
# to be stored.
openssl ocsp -issuer "$CA" -cert "$T/c2.pem" -no_nonce -reqout "$T/get.der" 2>/dev/null || fail "GET request"
url="http://127.0.0.1:$port/$(base64 -w0 "$T/get.der" | sed 's/+/%2B/g; s|/|%2F|g; s/=/%3D/g')"
curl -sf -D "$T/h1.txt" -o "$T/g1.der" "$url" && curl -sf -D "$T/h2.txt" -o "$T/g2.der" "$url" || fail "GET" "$(cat "$T/h1.txt")"
refresh=$(awk '/refresh_seconds/ {print $2}' "$RA_CONFIG"); refresh=${refresh:-1800}
age=$(sed -n 's/^Cache-Control: max-age=\([0-9]*\), public, no-transform, must-revalidate\r$/\1/p' "$T/h1.txt")
[ -n "$age" ] && [ "$age" -le "$refresh" ] && grep -q '^ETag: "[0-9a-f]\{32\}"' "$T/h1.txt" \
	&& grep -q '^Last-Modified: ' "$T/h1.txt" && grep -q '^Expires: ' "$T/h1.txt" \
	&& [ "$(grep '^ETag' "$T/h1.txt")" = "$(grep '^ETag' "$T/h2.txt")" ] && cmp -s "$T/g1.der" "$T/g2.der" \
	&& openssl ocsp -respin "$T/g1.der" -issuer "$CA" -cert "$T/c2.pem" -CAfile "$CA" 2>&1 | grep -q ": good" \
	&& ok "GET: the kept answer (good) with Cache-Control max-age, ETag, Last-Modified and Expires, the same twice" \
	|| fail "GET caching headers" "$(cat "$T/h1.txt")"
openssl ocsp -issuer "$CA" -cert "$T/c2.pem" -reqout "$T/nonce.der" 2>/dev/null || fail "nonce request"
curl -sf -D "$T/h3.txt" -o /dev/null -H 'Content-Type: application/ocsp-request' --data-binary @"$T/nonce.der" \
	"http://127.0.0.1:$port/" && grep -q '^Cache-Control: no-cache, no-store' "$T/h3.txt" && ! grep -q '^ETag' "$T/h3.txt" \
	&& ok "an answer echoing a nonce is marked no-store" || fail "nonce answer headers" "$(cat "$T/h3.txt")"

make_csr s3; make_csr e3
ra-ctl request-certs 3 --sign-csr "$T/s3.csr" --enc-csr "$T/e3.csr" --officer op01 --passphrase-file "$OPASS" >/dev/null || fail "certificates for order 3"
S3=$(serials 3 | head -n 1); pem_of "$S3" "$T/c3.pem"
[ "$(ask -cert "$T/c3.pem")" = good ] \
	&& ok "openssl ocsp: a certificate issued after the responder started is good at once" || fail "ocsp new" "$(cat "$T/o.out")"

# Kept answers: the same request without a nonce gets the same signed bytes, until the
# status changes.
ask -cert "$T/c3.pem" -no_nonce -respout "$T/r1.der" >/dev/null
ask -cert "$T/c3.pem" -no_nonce -respout "$T/r2.der" >/dev/null
cmp -s "$T/r1.der" "$T/r2.der" && ok "without a nonce, the kept signed answer is served again" || fail "kept answer"
echo "$S3" > "$T/rev3.txt"
ra-ctl revoke --serials-file "$T/rev3.txt" --reason superseded --officer admin --passphrase-file "$OPASS" >/dev/null || fail "revoke $S3"
wait_for 20 in_delta "$S3" || fail "delta lists $S3"
[ "$(ask -cert "$T/c3.pem" -no_nonce)" = "revoked superseded" ] \
	&& ok "after a status change the kept answer is not served: revoked (superseded)" || fail "kept answer after change" "$(cat "$T/o.out")"

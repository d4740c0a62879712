#!/bin/bash
# ca-signer with its CA key in a PKCS#11 token (SoftHSM2), as the real daemon: the key
# never leaves the token; certificates issued through the whole chain verify against the
# token's CA certificate, and the CRL is signed by the token too.
. "$(dirname "$0")/lib.sh"
SOFTHSM=/usr/lib/softhsm/libsofthsm2.so
URI="pkcs11:token=ra-ca;object=ca-key;type=private"
ra_deploy 0
export SOFTHSM2_CONF=$T/softhsm2.conf
mkdir -p "$T/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" > "$SOFTHSM2_CONF"
softhsm2-util --init-token --free --label ra-ca --so-pin 24680246 --pin 135792 >/dev/null
pkcs11-tool --module $SOFTHSM --token-label ra-ca --login --pin 135792 --keypairgen --key-type rsa:2048 \
	--id 01 --label ca-key >/dev/null 2>&1
openssl req -new -x509 -engine pkcs11 -keyform engine -key "$URI;pin-value=135792" -sha256 -days 3650 \
	-subj "/C=TW/O=Test RA/CN=Token CA" -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" -addext "subjectKeyIdentifier=hash" \
	-out "$DEP/signer/ca.pem" >/dev/null 2>&1 && ok "a CA key generated inside the token, its certificate signed by it" \
	|| fail "token CA"
printf '135792\n' > "$DEP/signer/token.pin"; chmod 600 "$DEP/signer/token.pin"
rm -f "$DEP/signer/ca.key" "$DEP/signer/ca.pass"
sed -i "/^signer:/a\\  pkcs11_module: $SOFTHSM\n  pkcs11_uri: \"$URI\"\n  pkcs11_pin_file: signer/token.pin" "$RA_CONFIG"
check "ca-signer --check loads the token key and matches it to the certificate" ca-signer -c "$RA_CONFIG" --check
ra-ctl up --workers 1 >/dev/null && ok "daemons up with the token key" || fail "up" "$(tail -n 5 "$DEP/log/ca-signer.log")"
ra_officers
grep -q "pkcs11\|PKCS#11\|token" "$DEP/log/ca-signer.log" && ok "ca-signer says it uses the token" || fail "token in log"
register_forms clerk01 clerk02 sup01 "$RA_TOP/config/examples/reg-03.yaml" || fail "form"
make_csr s; make_csr e
check "request-certs through the token-backed signer" ra-ctl request-certs 1 --sign-csr "$T/s.csr" --enc-csr "$T/e.csr" --officer op01 --passphrase-file "$OPASS" --out "$T/out"
n=0; for c in "$T"/out/*.pem; do openssl verify -CAfile "$DEP/signer/ca.pem" "$c" >/dev/null 2>&1 && n=$((n + 1)); done
[ "$n" -eq 2 ] && ok "both certificates verify against the token's CA" || fail "verify" "$n of 2"
wait_for 10 test -s "$DEP/crl/ra.crl.pem"
openssl crl -in "$DEP/crl/ra.crl.pem" -CAfile "$DEP/signer/ca.pem" -noout 2>&1 | grep -q "verify OK" \
	&& ok "the CRL is signed by the token key" || fail "CRL signature"

#!/bin/bash
# Who may read what: every file that ra-ctl init, the daemons and the notifier write and
# that holds a secret (keys, passphrases, the ledgers, sheets) is mode 0600 in folders of
# mode 0700; only the published CRL is for everyone.
. "$(dirname "$0")/lib.sh"
ra_deploy 1
register_forms clerk01 clerk02 sup01 "$RA_TOP"/config/examples/reg-01.yaml || fail "registration"
make_csr s1; make_csr e1
ra-ctl request-certs 1 --sign-csr "$T/s1.csr" --enc-csr "$T/e1.csr" --officer op01 --passphrase-file "$OPASS" >/dev/null || fail "request-certs"
ra-notifier sheets >/dev/null 2>&1 || fail "ra-notifier sheets"
ra-ctl down >/dev/null

[ "$(stat -c %a "$DEP/signer/signer.db")" = 600 ] && ok "signer.db is 0600" \
	|| fail "signer.db mode" "$(stat -c %a "$DEP/signer/signer.db")"
[ "$(find "$DEP/sheets" -type f -name '*.pdf' | wc -l)" -ge 1 ] && ok "the notifier printed a sheet" || fail "no sheet printed"
# Public by design: the CRLs, and the metrics node-exporter reads (counts, no secret;
# ca-signer writes its .prom in its own 0700 folder and links it from metrics/).
loose=$(find "$DEP" -type f -perm /077 ! -path "$DEP/crl/*" ! -path "$DEP/metrics/*" ! -name "*.prom" -printf '%m %P\n')
[ -z "$loose" ] && ok "every file of the deployment but the CRL and the metrics is 0600 (keys, passphrases, ledgers, sheets, logs)" \
	|| fail "files readable by others" "$loose"
loose=$(find "$DEP" -type d -perm /077 ! -path "$DEP/crl" ! -path "$DEP/metrics" -printf '%m %P\n')
[ -z "$loose" ] && ok "every folder but the CRL's and the metrics' is 0700" || fail "folders open to others" "$loose"
exit 0

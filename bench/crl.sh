#!/bin/bash
# Revocation at scale (issue 4):
#  1. CRL generation with 100,000 revoked entries: ca-signer asked for a CRL (sign it,
#     write DER and PEM atomically with fsync) beside `openssl ca -gencrl` from an index
#     file of the very same entries with the same CA key, measured in the same run, as a
#     ratio. The 100,000 entries are written straight into signer.db (signer stopped): the
#     figure is about signing and publishing a CRL that long, not about how entries came.
#  2. Bulk revocation of 10,000 certificates end to end: 10,000 certificates issued by
#     ca-signer (sign-bench) and recorded in ra.db, then `ra-ctl revoke --serials-file`
#     (jobs of 250 through ra-queue, 2 ra-workers, ca-signer, ra.db; CRLs published as it
#     goes) until every job is done; checked: the CRL lists 10,000, ra.db and signer agree.
# Figures only: nothing here asserts on time.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
export PATH="${BUILD:-$top/build}/bin:$PATH"
T=$(mktemp -d /tmp/ra-bench-crl.XXXXXX)

# Officers for the bench: the administrator from init and the ones a run needs, all under
# one throw-away passphrase (a bench has no people to type one).
OPASS=$T/officer.pass
printf 'bench officer passphrase\n' > "$OPASS"
officers() { local o; for o in "$@"; do ra-ctl officer add "${o%%:*}" --role "${o##*:}" --officer admin \
	--passphrase-file "$OPASS" --new-passphrase-file "$OPASS" >/dev/null || exit 1; done; }
trap 'for d in "$T"/crl "$T"/bulk; do [ -f "$d/ra.yaml" ] && ra-ctl -c "$d/ra.yaml" down >/dev/null 2>&1; done; rm -rf "$T"' EXIT
N=${CRL_N:-100000}
BULK=${BULK_N:-10000}
REPEAT=3
ms() { echo $(( $(date +%s%N) / 1000000 )); }

# --- 1. CRL of N entries --------------------------------------------------------------
dep=$T/crl
ra-ctl init "$dep" --passphrase-file "$OPASS" >/dev/null
ra-ctl -c "$dep/ra.yaml" up --workers 1 >/dev/null
ra-ctl -c "$dep/ra.yaml" down >/dev/null
now=$(date +%s)
sqlite3 "$dep/signer/signer.db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO certs (request_id, serial, usage, subject, csr_sha256, req_sha256, not_before, not_after, der,
	status, reason, revoked_at)
SELECT 'bench.' || i, lower(hex(randomblob(16))), 'signature', 'CN=bench ' || i, randomblob(32), randomblob(32),
	$now - 86400, $now + 300 * 86400, x'00', 'revoked', 1, $now - (i % 86400) FROM n;
SQL
echo "signer.db: $(sqlite3 "$dep/signer/signer.db" "SELECT count(*) FROM certs WHERE status = 'revoked'") revoked entries"
ra-ctl -c "$dep/ra.yaml" up --workers 1 >/dev/null
probe() { ra-probe --timeout 600000 --endpoint "ipc://$dep/run/signer.sock" --server-cert "$dep/keys/signer.cert" \
	--client-cert "$dep/keys/workers/worker.cert" RA/1 CRL; }
probe >/dev/null	# the signer's first CRL after start-up is behind us
best=0
for _ in $(seq $REPEAT); do
	t0=$(ms); probe >/dev/null; t1=$(ms)
	[ $best -eq 0 ] || [ $((t1 - t0)) -lt $best ] && best=$((t1 - t0))
done
listed=$(openssl crl -in "$dep/crl/ra.crl.pem" -noout -text | grep -c 'Serial Number:')
size=$(stat -c %s "$dep/crl/ra.crl")
echo "ca-signer: CRL of $listed entries ($size bytes DER) signed and published in $best ms (best of $REPEAT)"
openssl crl -in "$dep/crl/ra.crl.pem" -CAfile "$dep/signer/ca.pem" -verify -noout 2>&1 | sed 's/^/  openssl crl -verify: /'

# The same entries as an `openssl ca` index, the same CA key.
base=$T/base
mkdir -p "$base"
sqlite3 -separator $'\t' "$dep/signer/signer.db" "SELECT 'R', substr(strftime('%Y%m%d%H%M%S', not_after, 'unixepoch'), 3) || 'Z',
	substr(strftime('%Y%m%d%H%M%S', revoked_at, 'unixepoch'), 3) || 'Z,keyCompromise', upper(serial), 'unknown', '/CN=bench'
	FROM certs WHERE status = 'revoked'" > "$base/index.txt"
echo 01 > "$base/crlnumber"
cat > "$base/ca.cnf" <<CNF
[ ca ]
default_ca = bench
[ bench ]
database = $base/index.txt
crlnumber = $base/crlnumber
certificate = $dep/signer/ca.pem
private_key = $dep/signer/ca.key
default_md = sha256
default_crl_days = 1
crl_extensions = crl_ext
[ crl_ext ]
authorityKeyIdentifier = keyid:always
CNF
obest=0
for _ in $(seq $REPEAT); do
	t0=$(ms)
	openssl ca -gencrl -config "$base/ca.cnf" -passin "file:$dep/signer/ca.pass" -out "$base/base.crl" 2>"$base/err" ||
		{ cat "$base/err"; exit 1; }
	t1=$(ms)
	[ $obest -eq 0 ] || [ $((t1 - t0)) -lt $obest ] && obest=$((t1 - t0))
done
olisted=$(openssl crl -in "$base/base.crl" -noout -text | grep -c 'Serial Number:')
echo "openssl ca -gencrl: CRL of $olisted entries from index.txt in $obest ms (best of $REPEAT)"
# ca-signer publishes more than openssl ca writes: DER and PEM, each fsync'ed and renamed.
# The same work after openssl ca, for a like-for-like figure.
fbest=0
for _ in $(seq $REPEAT); do
	t0=$(ms)
	openssl ca -gencrl -config "$base/ca.cnf" -passin "file:$dep/signer/ca.pass" -out "$base/base.crl" 2>/dev/null
	openssl crl -in "$base/base.crl" -outform DER -out "$base/base.der"
	sync "$base/base.crl" "$base/base.der"
	t1=$(ms)
	[ $fbest -eq 0 ] || [ $((t1 - t0)) -lt $fbest ] && fbest=$((t1 - t0))
done
echo "openssl ca -gencrl + DER copy + fsync of both: $fbest ms (best of $REPEAT)"
awk -v a="$best" -v b="$obest" -v f="$fbest" 'BEGIN {
	printf "  ratio ca-signer / openssl ca -gencrl: %.2f; / gencrl + DER + fsync: %.2f (below 1: faster)\n", a / (b ? b : 1), a / (f ? f : 1) }'
ra-ctl -c "$dep/ra.yaml" down >/dev/null

# --- 2. Bulk revocation of BULK certificates end to end ----------------------------------
dep=$T/bulk
ra-ctl init --ca-bits 2048 "$dep" --passphrase-file "$OPASS" >/dev/null
export RA_CONFIG=$dep/ra.yaml
ra-ctl up --workers 2 >/dev/null
t0=$(ms); read -r n sms errors < <(sign-bench -c "$RA_CONFIG" -n "$BULK" -w 64); t1=$(ms)
echo "setup: $n certificates issued by ca-signer in $sms ms ($errors errors)"
# Record them in ra.db as one subscriber's, as job_issue would (the ledger's side of issuance).
sqlite3 "$dep/ra.db" "ATTACH '$dep/signer/signer.db' AS s;
INSERT INTO jobs (id, kind, payload, state, created_at, updated_at) VALUES (1000000, 'issue', '{}', 'done', $now, $now);
INSERT INTO subscribers (id, form_serial, applicant_type, name, id_number, email, postal_code, address, created_at)
	VALUES (1000000, 'BENCH', 'organization', 'bench', '00000000', 'bench@example.com', '100', 'bench', $now);
INSERT INTO certificates (serial, subscriber_id, usage, subject, not_before, not_after, request_id, job_id, pem, created_at)
	SELECT serial, 1000000, usage, subject, not_before, not_after, request_id, 1000000, '', $now FROM s.certs;"
sqlite3 "$dep/ra.db" "SELECT serial FROM certificates" > "$T/serials"
t0=$(ms)
ra-ctl revoke --serials-file "$T/serials" --reason keyCompromise --officer admin --passphrase-file "$OPASS" > "$T/revoke.out"
t1=$(ms)
tail -n 1 "$T/revoke.out" | sed 's/^/  /'
jobs=$(head -n 1 "$T/revoke.out" | awk '{ print $4 }')
ra_n=$(sqlite3 "$dep/ra.db" "SELECT count(*) FROM certificates WHERE status = 'revoked'")
sg_n=$(sqlite3 "$dep/signer/signer.db" "SELECT count(*) FROM certs WHERE status = 'revoked'")
for _ in $(seq 1 100); do
	listed=$(openssl crl -in "$dep/crl/ra.crl.pem" -noout -text | grep -c 'Serial Number:')
	[ "$listed" -eq "$BULK" ] && break
	sleep 0.1
done
awk -v n="$ra_n" -v ms=$((t1 - t0)) -v j="$jobs" 'BEGIN {
	printf "bulk revocation: %d certificates revoked end to end in %d ms (%.0f/s; %s jobs, 2 workers)\n", n, ms, n * 1000 / ms, j }'
echo "  ra.db revoked: $ra_n, signer revoked: $sg_n, CRL lists: $listed"

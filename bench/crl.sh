#!/bin/bash
# Revocation at scale (issue 4):
#  1. CRL generation with 100,000 revoked entries: the signer's complete CRL (assembled
#     from the entries cached at revocation, signed, DER and PEM written atomically with
#     fsync) and its delta CRL after a day of 1,000 revocations, beside `openssl ca
#     -gencrl` from an index file of the very same entries with the same CA key, measured
#     in the same run, as ratios. The entries are written straight into signer.db (signer
#     stopped): the figure is about publishing a CRL that long, not about how entries came.
#  2. Bulk revocation of 10,000 certificates end to end: 10,000 certificates issued by
#     ca-signer (sign-bench) and recorded in ra.db, then `ra-ctl revoke --serials-file`
#     (jobs of 250 through ra-queue, 2 ra-workers, ca-signer, ra.db; CRLs published as it
#     goes) until every job is done; checked: the CRL lists 10,000, ra.db and signer agree.
# Figures only: nothing here asserts on time.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
export BENCH_CSR_DIR=${BENCH_CSR_DIR:-$top/build/bench-csr}	# requests with keys of their own, kept between runs
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
DAY=${CRL_DAY:-1000}	# the revocations of a busy day, for the delta CRL
sqlite3 "$dep/signer/signer.db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N + $DAY)
INSERT INTO certs (request_id, serial, usage, subject, csr_sha256, req_sha256, not_before, not_after, der,
	status, reason, revoked_at)
SELECT 'bench.' || i, lower(hex(randomblob(16))), 'signature', 'CN=bench ' || i, randomblob(32), randomblob(32),
	$now - 86400, $now + 300 * 86400, x'00', CASE WHEN i <= $N THEN 'revoked' ELSE 'valid' END,
	CASE WHEN i <= $N THEN 1 END, CASE WHEN i <= $N THEN $now - (i % 86400) END FROM n;
SQL
echo "signer.db: $(sqlite3 "$dep/signer/signer.db" "SELECT count(*) FROM certs WHERE status = 'revoked'") revoked entries"
# The key holder's time, inside the signer's code (crl-bench, ca-signer stopped).
cb() { crl-bench -c "$dep/ra.yaml" "$@" 2>>"$T/crl-bench.log" || { cat "$T/crl-bench.log" >&2; exit 1; }; }
read -r _ cold size < <(cb -k base)
echo "ca-signer, first CRL after the $N rows appeared without cached entries (each encoded once and stored): $cold ms"
best=0
while read -r _ t sz; do
	[ $best -eq 0 ] || [ "$t" -lt $best ] && best=$t
	size=$sz
done < <(cb -k complete -n $REPEAT)
listed=$(openssl crl -in "$dep/crl/ra.crl.pem" -noout -text | grep -c 'Serial Number:')
echo "ca-signer: complete CRL of $listed entries ($size bytes DER) assembled from cached entries, signed, DER + PEM fsync'ed and renamed: $best ms (best of $REPEAT)"
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
echo "openssl ca -gencrl: CRL of $olisted entries from index.txt in $obest ms (best of $REPEAT; PEM only, no fsync)"

# A busy day: DAY more revocations after the base; the delta CRL carries only those.
cb -k base >/dev/null
sqlite3 "$dep/signer/signer.db" "UPDATE meta SET value = value + 1 WHERE key = 'change_seq';
	UPDATE certs SET status = 'revoked', reason = 1, revoked_at = $now,
	changed_seq = (SELECT value FROM meta WHERE key = 'change_seq') WHERE status = 'valid'"
dbest=0
first=1
while read -r _ t sz; do
	dsize=$sz
	[ $first -eq 1 ] && { first=0; continue; }	# the first encodes the day's entries once
	[ $dbest -eq 0 ] || [ "$t" -lt $dbest ] && dbest=$t
done < <(cb -k delta -n $((REPEAT + 1)))
dlisted=$(openssl crl -in "$dep/crl/ra-delta.crl.pem" -noout -text | grep -c 'Serial Number:')
echo "ca-signer: delta CRL of $dlisted entries ($dsize bytes DER) on the base of $N: $dbest ms (best of $REPEAT after the first)"
cat "$dep/crl/ra.crl.pem" "$dep/crl/ra-delta.crl.pem" > "$T/both.pem"
awk -v a="$best" -v d="$dbest" -v b="$obest" -v s="$size" -v ds="$dsize" 'BEGIN {
	printf "  speed-up over openssl ca -gencrl: complete CRL %.1f x, delta CRL %.1f x (target 5 x)\n", b / (a ? a : 1), b / (d ? d : 1)
	printf "  a relying party fetches the base once (%.1f MB) and then deltas of %.1f kB\n", s / 1e6, ds / 1e3 }'

# Over ZeroMQ, as a worker asks: ca-signer publishes a complete CRL and a delta.
ra-ctl -c "$dep/ra.yaml" up --workers 1 >/dev/null
probe() { ra-probe --timeout 600000 --endpoint "ipc://$dep/run/signer.sock" --server-cert "$dep/keys/signer.cert" \
	--client-cert "$dep/keys/workers/worker.cert" RA/1 CRL; }
probe >/dev/null
pbest=0
for _ in $(seq $REPEAT); do
	t0=$(ms); probe >/dev/null; t1=$(ms)
	[ $pbest -eq 0 ] || [ $((t1 - t0)) -lt $pbest ] && pbest=$((t1 - t0))
done
echo "ca-signer asked for a CRL over ZeroMQ (complete of $((N + DAY)) + delta, published): $pbest ms round trip (best of $REPEAT)"
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

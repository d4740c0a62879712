#!/bin/bash
# OCSP responses per second: ra-ocsp beside `openssl ocsp -index … -port` serving the same
# data (OCSP_CERTS certificates issued, one in ten revoked), the same responder key and
# certificate, measured in the same run by the same client (ocsp-bench: one HTTP/1.0
# POST per TCP connection, 4 connections in parallel, requests for OCSP_SERIALS different
# certificates in turn). ra-ocsp is measured twice: requests without a nonce (its kept,
# already signed answers) and with a 16-octet nonce (a fresh signature each, RFC 8954).
# Figures only: nothing here asserts on time.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
export PATH="${BUILD:-$top/build}/bin:$PATH"
T=$(mktemp -d /tmp/ra-bench-ocsp.XXXXXX)
dep=$T/dep
opid=
trap '[ -n "$opid" ] && kill "$opid" 2>/dev/null; [ -f "$dep/ra.yaml" ] && ra-ctl -c "$dep/ra.yaml" down >/dev/null 2>&1; rm -rf "$T"' EXIT
N=${OCSP_CERTS:-10000}
SERIALS=${OCSP_SERIALS:-200}
COUNT=${OCSP_N:-20000}
OCOUNT=${OCSP_OPENSSL_N:-2000}
OPASS=$T/officer.pass	# the administrator's passphrase for ra-ctl init (a bench has no one to type it)
printf 'bench officer passphrase\n' > "$OPASS"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

ra-ctl init --ca-bits 2048 "$dep" --passphrase-file "$OPASS" >/dev/null
port=$(free_port)
printf 'ocsp:\n  listen: 127.0.0.1:%s\n' "$port" >> "$dep/ra.yaml"
ra-ctl -c "$dep/ra.yaml" up --workers 1 >/dev/null
ra-ctl -c "$dep/ra.yaml" down >/dev/null
now=$(date +%s)
sqlite3 "$dep/signer/signer.db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO certs (request_id, serial, usage, subject, csr_sha256, req_sha256, not_before, not_after, der,
	status, reason, revoked_at)
SELECT 'bench.' || i, lower(hex(randomblob(16))), 'signature', 'CN=bench ' || i, randomblob(32), randomblob(32),
	$now - 86400, $now + 300 * 86400, x'00', CASE WHEN i % 10 = 0 THEN 'revoked' ELSE 'valid' END,
	CASE WHEN i % 10 = 0 THEN 1 END, CASE WHEN i % 10 = 0 THEN $now - 3600 END FROM n;
SQL
# ca-signer publishes the CRLs and the issued list at start; then ra-ocsp.
ra-ctl -c "$dep/ra.yaml" up --workers 1 --ocsp >/dev/null
for _ in $(seq 50); do grep -q "ready on" "$dep"/log/ra-ocsp*.log 2>/dev/null && break; sleep 0.1; done

# The same data for openssl ocsp: an index.txt of every certificate, V or R.
sqlite3 -separator $'\t' "$dep/signer/signer.db" "SELECT CASE status WHEN 'revoked' THEN 'R' ELSE 'V' END,
	substr(strftime('%Y%m%d%H%M%S', not_after, 'unixepoch'), 3) || 'Z',
	CASE status WHEN 'revoked' THEN substr(strftime('%Y%m%d%H%M%S', revoked_at, 'unixepoch'), 3) || 'Z,keyCompromise' ELSE '' END,
	upper(serial), 'unknown', '/CN=bench' FROM certs" > "$T/index.txt"
echo "unique_subject = no" > "$T/index.txt.attr"
mkdir -p "$T/req" "$T/nreq"
i=0
for s in $(sqlite3 "$dep/signer/signer.db" "SELECT serial FROM certs ORDER BY random() LIMIT $SERIALS"); do
	openssl ocsp -issuer "$dep/signer/ca.pem" -serial "0x$s" -no_nonce -reqout "$T/req/$i.der" 2>/dev/null
	openssl ocsp -issuer "$dep/signer/ca.pem" -serial "0x$s" -reqout "$T/nreq/$i.der" 2>/dev/null
	i=$((i + 1))
done
echo "data: $N certificates ($(grep -c '^R' "$T/index.txt") revoked), requests for $i of them, one connection per request, 4 in parallel"

# Check once that both answer, and alike, before timing.
one=$(sqlite3 "$dep/signer/signer.db" "SELECT serial FROM certs WHERE status = 'revoked' LIMIT 1")
oport=$(free_port)
openssl ocsp -index "$T/index.txt" -port "$oport" -CA "$dep/signer/ca.pem" -rsigner "$dep/keys/ocsp.pem" \
	-rkey "$dep/keys/ocsp.key" -passin "file:$dep/keys/ocsp.pass" -nmin 60 >/dev/null 2>"$T/openssl-ocsp.log" &
opid=$!
sleep 1
for p in "$port" "$oport"; do
	openssl ocsp -issuer "$dep/signer/ca.pem" -serial "0x$one" -url "http://127.0.0.1:$p" \
		-CAfile "$dep/signer/ca.pem" 2>&1 | grep -E "^0x|Reason" | tr '\n' ' ' | sed "s/^/  port $p answers: /"
	echo
done
kill -0 "$opid" 2>/dev/null || { echo "openssl ocsp did not start:"; cat "$T/openssl-ocsp.log"; exit 1; }

# ra-ocsp: a first pass signs and keeps each certificate's answer; then timed.
ocsp-bench -p "$port" -n "$SERIALS" -t 1 "$T"/req/*.der >/dev/null
rate() { read -r n ms err; awk -v n="$n" -v ms="$ms" -v e="$err" -v what="$1" 'BEGIN {
	printf "%.0f", n * 1000 / ms > "/dev/stdout"; printf "  %s: %d in %d ms = %.0f/s (%d errors)\n", what, n, ms, n * 1000 / ms, e > "/dev/stderr" }'; }
for mode in "" -k; do
	if [ -z "$mode" ]; then echo "HTTP/1.0, a new connection per request:"; else echo "HTTP/1.1 keep-alive (ocsp-bench -k; a server that closes is dialled again):"; fi
	a=$(ocsp-bench -p "$port" -n "$COUNT" -t 4 $mode "$T"/req/*.der | rate "ra-ocsp, no nonce (kept signed answers)")
	b=$(ocsp-bench -p "$port" -n "$OCOUNT" -t 4 $mode "$T"/nreq/*.der | rate "ra-ocsp, 16-octet nonce (one signature per answer)")
	o=$(ocsp-bench -p "$oport" -n "$OCOUNT" -t 4 $mode "$T"/req/*.der | rate "openssl ocsp -index -port (signs every answer)")
	awk -v a="$a" -v b="$b" -v o="$o" 'BEGIN {
		printf "  ratio ra-ocsp / openssl ocsp: %.1f without nonce (target 10), %.1f with nonce\n", a / (o ? o : 1), b / (o ? o : 1) }'
done 2>&1

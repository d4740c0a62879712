#!/bin/bash
# OCSP responses per second: ra-ocsp beside `openssl ocsp -index … -port` serving the same
# data (OCSP_CERTS certificates issued, one in ten revoked), the same responder key and
# certificate, measured in the same run by the same client (ocsp-bench: 4 connections in
# parallel, requests for OCSP_SERIALS different certificates in turn; one HTTP/1.0 POST
# per TCP connection, then HTTP/1.1 keep-alive, then pipelined), OCSP_ROUNDS times in
# turn, medians printed. ra-ocsp is measured twice: requests without a nonce (its kept,
# already signed answers) and with a 16-octet nonce (a fresh signature each, RFC 8954);
# openssl ocsp twice: one process, and -multi with one process per core. Beside each
# rate, the server's own CPU time per answer (/proc), which the client's share of the
# same cores and the machine's other load do not move much.
# Figures only: nothing here asserts on time.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
export PATH="${BUILD:-$top/build}/bin:$PATH"
T=$(mktemp -d /tmp/ra-bench-ocsp.XXXXXX)
dep=$T/dep
opid= rpid=
trap '[ -n "$opid" ] && kill "$opid" 2>/dev/null; [ -n "$rpid" ] && kill "$rpid" 2>/dev/null; [ -f "$dep/ra.yaml" ] && ra-ctl -c "$dep/ra.yaml" down >/dev/null 2>&1; rm -rf "$T"' EXIT
N=${OCSP_CERTS:-10000}
SERIALS=${OCSP_SERIALS:-200}
COUNT=${OCSP_N:-20000}
OCOUNT=${OCSP_OPENSSL_N:-3000}
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
ra-ctl -c "$dep/ra.yaml" up --workers 1 >/dev/null
# ra-ocsp is started here, as openssl ocsp is below, not by `ra-ctl up --ocsp`: ra-ctl
# puts each daemon in a session of its own (setsid), and with the kernel's scheduler
# autogroups (sched_autogroup_enabled) a server in another session than its client
# answers ping-pong requests several times slower than one in the client's session, as
# openssl ocsp is. Both servers are started alike, in the bench's session.
ra-ocsp -c "$dep/ra.yaml" > "$T/ra-ocsp.log" 2>&1 &
rpid=$!
for _ in $(seq 50); do grep -q "ready on" "$T/ra-ocsp.log" 2>/dev/null && break; sleep 0.1; done

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

# openssl ocsp serves one connection at a time in one process; with -multi it forks that
# many, which on this machine is its best. Both are measured.
NPROC=$(nproc)
mport=$(free_port)
openssl ocsp -index "$T/index.txt" -port "$mport" -CA "$dep/signer/ca.pem" -rsigner "$dep/keys/ocsp.pem" \
	-rkey "$dep/keys/ocsp.key" -passin "file:$dep/keys/ocsp.pass" -nmin 60 -multi "$NPROC" >/dev/null 2>"$T/openssl-multi.log" &
mpid=$!
trap '[ -n "$opid" ] && kill "$opid" 2>/dev/null; kill "$mpid" "$rpid" 2>/dev/null; [ -f "$dep/ra.yaml" ] && ra-ctl -c "$dep/ra.yaml" down >/dev/null 2>&1; rm -rf "$T"' EXIT
sleep 1

# ra-ocsp: a first pass signs and keeps each certificate's answer; then timed.
ocsp-bench -p "$port" -n "$SERIALS" -t 1 "$T"/req/*.der >/dev/null
# cpu PID: CPU ticks of PID, its threads and its children (openssl ocsp -multi's workers).
cpu() { local t=0 p; for p in "$1" $(pgrep -P "$1"); do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
# In its idle moments ra-ocsp signs ahead an answer for every issued certificate (each
# serving thread its own); the figures are for a responder that has done so, as it has
# minutes after it starts: wait until it spends at most 1 % of a core (at most 3 minutes).
echo -n "waiting for ra-ocsp to sign its answers ahead ... "
t0=$(date +%s)
while [ $(($(date +%s) - t0)) -lt 180 ]; do
	c0=$(cpu "$rpid"); sleep 2; c1=$(cpu "$rpid")
	[ $((c1 - c0)) -le $((2 * $(getconf CLK_TCK) / 100)) ] && break
done
echo "$(($(date +%s) - t0)) s"
# run PORT PID N MODE REQDIR: "rate cpu_us_per_answer errors"
run() { local c0 c1 out; c0=$(cpu "$2"); out=$(ocsp-bench -p "$1" -n "$3" -t 4 $4 "$5"/*.der); c1=$(cpu "$2")
	echo "$out $c0 $c1" | awk -v hz="$(getconf CLK_TCK)" '{ printf "%.0f %.1f %d\n", $1 * 1000 / $2, ($5 - $4) * 1e6 / hz / $1, $3 }'; }
ROUNDS=${OCSP_ROUNDS:-3}
echo "server CPU per answer is the server's own (user + system, all its threads and processes), read from /proc"
for mode in "" -k "-P 8"; do
	case $mode in
	"") echo "HTTP/1.0, a new connection per request ($ROUNDS rounds, each server in turn):" ;;
	-k) echo "HTTP/1.1 keep-alive (ocsp-bench -k; a server that closes is dialled again):" ;;
	*) echo "HTTP/1.1 pipelined 8 deep (ocsp-bench $mode; only on a connection the server keeps, so openssl ocsp is asked as with -k):" ;;
	esac
	: > "$T/rounds"
	for r in $(seq "$ROUNDS"); do
		a=$(run "$port" "$rpid" "$COUNT" "$mode" "$T/req")
		b=$(run "$port" "$rpid" "$OCOUNT" "$mode" "$T/nreq")
		o=$(run "$oport" "$opid" "$OCOUNT" "$mode" "$T/req")
		m=$(run "$mport" "$mpid" "$OCOUNT" "$mode" "$T/req")
		echo "$a $b $o $m" >> "$T/rounds"
	done
	awk -v np="$NPROC" '{ for (i = 1; i <= NF; i++) v[NR, i] = $i; n = NR }
	function med(col,   k, a, j, t) { for (k = 1; k <= n; k++) a[k] = v[k, col]
		for (k = 2; k <= n; k++) for (j = k; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
	function rat(x, y,   k, a, j, t) { for (k = 1; k <= n; k++) a[k] = v[k, x] / v[k, y]
		for (k = 2; k <= n; k++) for (j = k; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
	END {
		printf "  %-52s %8.0f/s  %6.1f us CPU/answer  (%d errors)\n", "ra-ocsp, no nonce (kept signed answers)", med(1), med(2), v[1, 3]
		printf "  %-52s %8.0f/s  %6.1f us CPU/answer  (%d errors)\n", "ra-ocsp, 16-octet nonce (one signature per answer)", med(4), med(5), v[1, 6]
		printf "  %-52s %8.0f/s  %6.1f us CPU/answer  (%d errors)\n", "openssl ocsp -index -port (signs every answer)", med(7), med(8), v[1, 9]
		printf "  %-52s %8.0f/s  %6.1f us CPU/answer  (%d errors)\n", "openssl ocsp -index -port -multi " np, med(10), med(11), v[1, 12]
		printf "  ratio ra-ocsp / openssl ocsp, median of the rounds (target 10):\n"
		printf "    responses/s: %.1f (%.1f against -multi %d); with nonce %.1f\n", rat(1, 7), rat(1, 10), np, rat(4, 7)
		printf "    server CPU per answer: %.1f (%.1f against -multi %d)\n", rat(8, 2), rat(11, 2), np
	}' "$T/rounds"
done 2>&1
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

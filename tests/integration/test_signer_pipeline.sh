#!/bin/bash
# test_signer_pipeline.sh: ca-signer's signing threads sign one batch (and have the next
# queued) while the main thread stores, commits and answers the batch before, each answer
# sent only once its batch's sync is done. A worker connection keeps a window of SIGN
# requests in flight and the signer is killed (SIGKILL) right as a certificate arrives,
# with the window full:
#  - every certificate answered before the kill is in signer.db after it;
#  - the same requests asked again (same request ids, same keys) are answered in full,
#    with exactly one certificate per request and per key: nothing was signed twice, and
#    the certificates answered before the kill come back unchanged.
# 400 certificates in all: the signer used to be killed by its own sandbox at about its
# 300th certificate (SQLite looked for a temporary folder once a savepoint's journal
# outgrew its memory).
. "$(dirname "$0")/lib.sh"
N=400
ra_deploy 0
DB=$DEP/signer/signer.db
# sign-bench's requests, a key of its own each (RFC 2986 CSRs, as sign-bench keeps them).
# Only public data, and every run starts from a fresh signer.db: they are made once, two at
# a time, and kept in the build folder beside the bench's (the same files: either may make
# them), so that a run after the first spends its time on the signer, not on RSA keys.
export BENCH_CSR_DIR=${BENCH_CSR_DIR:-$BUILD/bench-csr}
mkdir -p "$BENCH_CSR_DIR" || { fail "the requests' folder $BENCH_CSR_DIR"; exit 1; }
seq 1 "$N" | xargs -P 2 -I{} sh -c 'f=$0/$1.der; [ -s "$f" ] || { openssl req -new -newkey rsa:2048 -nodes \
	-keyout /dev/null -subj /CN=bench -outform DER -out "$f.$$" 2>/dev/null && mv "$f.$$" "$f"; }' "$BENCH_CSR_DIR" {}
made=$(seq 1 "$N" | while read -r i; do [ -s "$BENCH_CSR_DIR/$i.der" ] && echo; done | wc -l)
[ "$made" = "$N" ] || { fail "$N requests made" "$made"; exit 1; }

start_signer() {
	ca-signer -c "$RA_CONFIG" >>"$T/signer.log" 2>&1 &
	SPID=$!
	track "$SPID"
	wait_for 20 grep -q "ca-signer ready" "$T/signer.log"
}
start_signer || { fail "ca-signer starts" "$(tail -n 5 "$T/signer.log")"; exit 1; }
# the run that is cut: 64 in flight, the signer killed on the 40th certificate
sign-bench -c "$RA_CONFIG" -n "$N" -w 64 -r cut -o 1 -l "$T/cut.txt" -k "$SPID@40" >"$T/cut.out" 2>&1
wait "$SPID" 2>/dev/null
got=$(grep -c . "$T/cut.txt" 2>/dev/null || echo 0)
[ "$got" -ge 40 ] && [ "$got" -lt "$N" ] && ok "the signer was killed with requests in flight ($got of $N answered)" \
	|| fail "the kill landed mid-run" "$got of $N answered; $(cat "$T/cut.out")"

start_signer || { fail "ca-signer starts again" "$(tail -n 5 "$T/signer.log")"; exit 1; }
missing=0
while read -r serial; do
	[ "$(sql "$DB" "SELECT count(*) FROM certs WHERE serial = '$serial' AND request_id LIKE 'cut-%'")" = 1 ] || missing=$((missing + 1))
done <"$T/cut.txt"
[ "$missing" -eq 0 ] && ok "every certificate answered before the kill is in signer.db" \
	|| fail "answered certificates stored" "$missing of $got answered but not in signer.db"

# the same requests again: one certificate each, the answered ones unchanged
timeout 300 sign-bench -c "$RA_CONFIG" -n "$N" -w 64 -r cut -o 1 -l "$T/again.txt" >"$T/again.out" 2>&1 &
bp=$!
# a signer that dies answers nothing more: stop waiting for it
while kill -0 "$bp" 2>/dev/null; do
	kill -0 "$SPID" 2>/dev/null || { sleep 1; kill "$bp" 2>/dev/null; break; }
	sleep 0.2
done
wait "$bp" 2>/dev/null
read -r n _ errors <"$T/again.out"
[ "${n:-0}" = "$N" ] && [ "${errors:-1}" = 0 ] && ok "after the restart every request is answered with a certificate" \
	|| fail "second run" "$(cat "$T/again.out"; tail -n 3 "$T/signer.log")"
[ "$(sql "$DB" "SELECT count(*) FROM certs WHERE request_id LIKE 'cut-%'")" = "$N" ] \
	&& [ "$(sql "$DB" "SELECT count(DISTINCT request_id) FROM certs WHERE request_id LIKE 'cut-%'")" = "$N" ] \
	&& ok "exactly one certificate per request: none signed twice" \
	|| fail "one certificate per request" "$(sql "$DB" "SELECT count(*), count(DISTINCT request_id) FROM certs WHERE request_id LIKE 'cut-%'")"
[ "$(sql "$DB" "SELECT count(*) FROM cert_keys k JOIN certs c ON c.serial = k.serial WHERE c.request_id LIKE 'cut-%'")" = "$N" ] \
	&& ok "each key certified once" || fail "one certificate per key" "$(sql "$DB" "SELECT count(*) FROM cert_keys")"
changed=$(sort "$T/cut.txt" | comm -23 - <(sort "$T/again.txt") | wc -l)
[ "$changed" -eq 0 ] && ok "the certificates answered before the kill are answered again unchanged" \
	|| fail "repeated answers" "$changed serials answered before the kill are not among the second run's"
exit 0

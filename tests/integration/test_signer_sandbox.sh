#!/bin/bash
# ca-signer's seccomp allow-list, proven on the real program: with $RA_SANDBOX_TEST set,
# ca-signer starts exactly as the daemon does (CA key loaded, socket bound, privileges
# dropped, filter installed) and then attempts one call. Each forbidden call must kill
# it with SIGSYS (exit status 128 + 31); the calls it needs must still work.
. "$(dirname "$0")/lib.sh"
ra_deploy 0
if ca-signer --help | grep -q . && nm -C "$BUILD/bin/ca-signer" 2>/dev/null | grep -q __asan_init; then
	ok "sanitizer build: the filter is not installed there (skipped)"; exit 0
fi
selftest() {	# CALL: ca-signer's exit status
	RA_SANDBOX_TEST=$1 ca-signer >"$T/selftest.log" 2>&1
	echo $?
}
for call in fork clone execve socket-inet socket-inet6 socket-unix "open-write:$T/leak" "openat-write:$T" mmap-exec; do
	rc=$(selftest "$call")
	if [ "$rc" = 159 ] && grep -q "sandbox self-test: $call" "$T/selftest.log"; then
		ok "${call%%:*} kills the sandboxed ca-signer (SIGSYS)"
	else
		fail "${call%%:*} kills the sandboxed ca-signer" "exit $rc: $(tail -n 2 "$T/selftest.log")"
	fi
done
[ ! -e "$T/leak" ] && [ ! -e "$T/sandbox-test" ] && ok "nothing was written outside its folders" || fail "a file was written"
rc=$(selftest open-read:/etc/hostname)
[ "$rc" = 0 ] && ok "reading a file is allowed" || fail "open-read" "exit $rc: $(tail -n 2 "$T/selftest.log")"
rc=$(selftest "access:$DEP/signer/signer.db")	# SQLite does this on a new connection (seen killing it under load)
[ "$rc" = 0 ] && ok "asking whether a file exists is allowed" || fail "access" "exit $rc: $(tail -n 2 "$T/selftest.log")"
rc=$(selftest sqlite-spill)	# a savepoint's journal outgrowing memory: the signer's batches, once signer.db has grown
[ "$rc" = 0 ] && ok "SQLite may spill a savepoint's journal to a temporary file" \
	|| fail "sqlite-spill" "exit $rc: $(tail -n 2 "$T/selftest.log")"
rc=$(selftest write-crl)
[ "$rc" = 0 ] && [ -s "$DEP/crl/sandbox-test" ] && ok "writing in the CRL folder is allowed" || fail "write-crl" "exit $rc: $(tail -n 2 "$T/selftest.log")"
rc=$(selftest write-db-dir)
[ "$rc" = 0 ] && [ -e "$DEP/signer/sandbox-test" ] && ok "writing in signer.db's folder is allowed" || fail "write-db-dir" "exit $rc: $(tail -n 2 "$T/selftest.log")"
rc=$(selftest no-such-call)
[ "$rc" = 2 ] && ok "an unknown self-test is refused" || fail "unknown self-test" "exit $rc"

# The daemon itself under the filter: issue, revoke, publish the CRL, stop cleanly.
ra-ctl up --workers 1 >/dev/null || { fail "ra-ctl up" "$(tail -n 5 "$DEP"/log/*.log)"; exit 1; }
ra_officers
register_forms clerk01 clerk02 sup01 "$RA_TOP"/config/examples/reg-01.yaml || fail "registration"
make_csr s1; make_csr e1
ra-ctl request-certs 1 --sign-csr "$T/s1.csr" --enc-csr "$T/e1.csr" --officer op01 --passphrase-file "$OPASS" >/dev/null && ok "issuance under the filter" || fail "issue" "$(tail -n 5 "$DEP/log/ca-signer.log")"
ra-ctl certs | awk 'NR > 1 { print $1 }' > "$T/serials"
ra-ctl revoke --serials-file "$T/serials" --reason keyCompromise --officer admin --passphrase-file "$OPASS" >/dev/null && ok "revocation under the filter" || fail "revoke"
wait_for 10 sh -c "openssl crl -in '$DEP/crl/ra.crl.pem' -noout -text | grep -q 'Key Compromise'" \
	&& ok "the CRL is published under the filter" || fail "CRL" "$(tail -n 5 "$DEP/log/ca-signer.log")"
pid=$(cat "$DEP/run/ca-signer.pid")
grep -q Seccomp:.*2 "/proc/$pid/status" && ok "the running daemon is filtered (Seccomp: 2)" || fail "Seccomp mode" "$(grep Seccomp "/proc/$pid/status")"
ra-ctl down >/dev/null
grep -q "ca-signer stopping" "$DEP/log/ca-signer.log" && [ ! -e "$DEP/signer/signer.db-wal" ] \
	&& ok "it stops cleanly under the filter (SQLite removed its WAL through the folder)" || fail "clean stop" "$(tail -n 3 "$DEP/log/ca-signer.log")"
exit 0

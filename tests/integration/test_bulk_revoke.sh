#!/bin/bash
# A bulk revocation on a signer that answers slowly: no revoke job outlasts its lease. The
# workers reach ca-signer through tests/fixtures/slow-relay.py, which holds each answer for
# longer than the lease can cover for a list of twenty: a job asks the signer while its
# lease allows, records what was revoked and leaves the rest to a follow-on job it creates
# in the same transaction, which ra-ctl follows. Every serial ends revoked once, on both
# sides, no job is left failed, leased or parked, and nothing was taken over mid-way.
. "$(dirname "$0")/lib.sh"
ra_deploy 2
register_forms clerk01 clerk02 sup01 "$RA_TOP"/config/examples/reg-0[1-9].yaml "$RA_TOP"/config/examples/reg-10.yaml \
	|| fail "ten registration forms"
for o in $(seq 1 10); do
	make_csr "s$o"; make_csr "e$o"
	ra-ctl request-certs "$o" --sign-csr "$T/s$o.csr" --enc-csr "$T/e$o.csr" --officer op01 \
		--passphrase-file "$OPASS" >/dev/null || fail "certificates for order $o"
done
sql "$DEP/ra.db" "SELECT serial FROM certificates WHERE status = 'valid' ORDER BY serial" > "$T/serials"
[ "$(wc -l < "$T/serials")" = 20 ] || fail "setup: twenty certificates" "$(wc -l < "$T/serials")"

# The deployment again, its workers now reaching ca-signer through the slow relay: each
# answer 0.4 s late, with 1 s signer calls and a lease of 5 s (the least the loader allows
# for them), twenty serials (8 s) cannot fit one lease.
ra-ctl down >/dev/null
sock=$(sed -n '/^signer:/,/^[a-z]/s|^  endpoint: ipc://||p' "$RA_CONFIG")
case $sock in /*) ;; *) sock=$DEP/$sock ;; esac
python3 "$RA_TOP/tests/fixtures/slow-relay.py" "$T/slow.sock" "$sock" 400 2>"$T/relay.log" &
track $!
wait_for 10 test -S "$T/slow.sock" || fail "slow relay"
sed -i -e 's/^  lease_ms: 2000/  lease_ms: 5000/' -e 's/^  signer_timeout_ms: 400/  signer_timeout_ms: 1000/' "$RA_CONFIG"
cp "$RA_CONFIG" "$DEP/workers-slow.yaml"
sed -i "/^signer:/,/^[a-z]/s|^  endpoint: .*|  endpoint: ipc://$T/slow.sock|" "$DEP/workers-slow.yaml"
ra-ctl up --workers 1 >"$T/up.out" 2>&1 || fail "deployment up again" "$(cat "$T/up.out")"
kill "$(cat "$DEP/run/ra-worker-1.pid")"	# ra-ctl starts one at least; these go through the relay
for w in 1 2; do
	RA_CONFIG=$DEP/workers-slow.yaml ra-worker >"$T/worker-$w.log" 2>&1 &
	track $!
done
wait_for 10 grep -q "is ready" "$DEP/log/ra-queue.log" || fail "workers through the relay" "$(tail -n 3 "$T"/worker-1.log)"

out=$(timeout 120 ra-ctl revoke --serials-file "$T/serials" --reason keyCompromise --officer admin --passphrase-file "$OPASS" 2>&1)
echo "$out" | grep -q "^20 revoked (keyCompromise), 0 already revoked, 0 unknown, 0 refused" \
	&& ok "slow signer: ra-ctl reports all twenty revoked" || fail "slow signer: ra-ctl revoke" "$out"
jobs=$(sql "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE kind = 'revoke'")
[ "$jobs" -gt 1 ] && [ "$(sql "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE kind = 'revoke' AND parent > 0")" = $((jobs - 1)) ] \
	&& ok "slow signer: the list went on in $((jobs - 1)) follow-on job(s), each made by the one before" \
	|| fail "slow signer: follow-on jobs" "$(sql "$DEP/ra.db" "SELECT id, parent, state, attempts FROM jobs WHERE kind = 'revoke'"; tail -n 5 "$T/relay.log" "$T"/worker-1.log "$DEP"/log/ra-queue.log)"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE state <> 'done'")" = 0 ] \
	&& [ "$(sql "$DEP/ra.db" "SELECT max(attempts) FROM jobs WHERE kind = 'revoke'")" = 1 ] \
	&& ! grep -q "taken over by another worker" "$T"/worker-*.log \
	&& ok "slow signer: every job done in one attempt, no lease taken over" \
	|| fail "slow signer: jobs" "$(sql "$DEP/ra.db" "SELECT id, kind, state, attempts, error FROM jobs WHERE state <> 'done' OR attempts > 1")"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM certificates WHERE status = 'revoked' AND reason = 'keyCompromise'")" = 20 ] \
	&& [ "$(sql "$DEP/signer/signer.db" "SELECT count(*) FROM certs WHERE status = 'revoked'")" = 20 ] \
	&& ok "slow signer: ra.db and signer.db agree, twenty revoked" || fail "slow signer: agreement"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM audit WHERE action = 'cert.revoked'")" = 20 ] \
	&& ok "slow signer: each certificate revoked once in the audit chain" \
	|| fail "slow signer: audit" "$(sql "$DEP/ra.db" "SELECT action, count(*) FROM audit GROUP BY action")"
ra-ctl audit verify >/dev/null && ok "audit chain intact" || fail "audit verify"

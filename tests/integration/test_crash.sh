#!/bin/bash
# A worker killed half way, and a worker whose lease was taken over: the job is done
# once, and exactly one pair of certificates exists, at the RA and at the signer.
. "$(dirname "$0")/lib.sh"
ra_deploy 1
register_forms clerk01 clerk02 sup01 "$RA_TOP"/config/examples/reg-0[1-2].yaml || { fail "forms"; exit 1; }
make_csr s1; make_csr e1; make_csr s2; make_csr e2

# 1. SIGKILL after the signer issued, before the worker committed.
ra-ctl down >/dev/null
sed -i 's/lease_ms: 2000/lease_ms: 5000/' "$RA_CONFIG"
RA_WORKER_STALL_MS=3000 ra-ctl up --workers 1 >/dev/null
ra-ctl request-certs 1 --sign-csr "$T/s1.csr" --enc-csr "$T/e1.csr" --officer op01 --passphrase-file "$OPASS" --no-wait >/dev/null
if wait_for 20 sql_is "$DEP/signer/signer.db" "SELECT count(*) FROM certs" 2; then
	ok "the signer issued the pair while the worker was in the job"
else
	fail "signer issued before the kill"
fi
kill -9 "$(cat "$DEP/run/ra-worker-1.pid")"
ok "worker killed with SIGKILL mid-job"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM certificates")" -eq 0 ] && ok "nothing half-stored in ra.db" || fail "half-stored"
ra-ctl down >/dev/null
ra-ctl up --workers 1 >/dev/null
if wait_for 30 sql_is "$DEP/ra.db" "SELECT state FROM jobs WHERE kind = 'issue'" done; then
	ok "the expired lease was dispatched again and the job finished"
else
	fail "job finished after the kill" "$(sql "$DEP/ra.db" "SELECT state, attempts, error FROM jobs WHERE kind = 'issue'")"
fi
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM certificates WHERE order_id = 1")" -eq 2 ] && ok "exactly one pair stored at the RA" || fail "RA pair"
[ "$(sql "$DEP/signer/signer.db" "SELECT count(*) FROM certs")" -eq 2 ] && ok "exactly one pair issued by the signer" || fail "signer pair"
[ "$(sql "$DEP/ra.db" "SELECT attempts FROM jobs WHERE kind = 'issue'")" -ge 2 ] && ok "it took a second attempt" || fail "attempts"

# 2. A slow worker whose lease is taken over rolls back instead of completing twice.
ra-ctl down >/dev/null
sed -i 's/lease_ms: 5000/lease_ms: 2000/' "$RA_CONFIG"	# shorter than the stall below
ra-ctl up --workers 1 >/dev/null   # queue, signer, and one quick worker (stopped below)
kill "$(cat "$DEP/run/ra-worker-1.pid")"; sleep 0.5
RA_WORKER_STALL_MS=3000 ra-worker -c "$RA_CONFIG" > "$T/slow.log" 2>&1 &
slow=$!; track $slow
ra-ctl request-certs 2 --sign-csr "$T/s2.csr" --enc-csr "$T/e2.csr" --officer op01 --passphrase-file "$OPASS" --no-wait >/dev/null
# wait until the slow worker holds it (the first lease may have gone to the stopped worker
# before the queue noticed it was gone; that lease expires and the slow worker gets it)
wait_for 15 grep -q "(issue) attempt" "$T/slow.log" || fail "the slow worker took the job" "$(tail -n 3 "$T/slow.log")"
ra-worker -c "$RA_CONFIG" > "$T/quick.log" 2>&1 &
track $!
if wait_for 30 sql_is "$DEP/ra.db" "SELECT state FROM jobs WHERE kind = 'issue' AND payload LIKE '%\"order\":2%'" done; then
	ok "the quick worker finished the taken-over job"
else
	fail "taken-over job finished"
fi
wait_for 10 grep -qE "taken over|changed state meanwhile" "$T/slow.log" && ok "the slow worker rolled back instead of completing twice" || fail "slow worker fenced" "$(tail -n 3 "$T/slow.log")"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM certificates WHERE order_id = 2")" -eq 2 ] && ok "order 2: exactly one pair at the RA" || fail "order 2 pair"
[ "$(sql "$DEP/signer/signer.db" "SELECT count(*) FROM certs")" -eq 4 ] && ok "signer: exactly 4 certificates in all" || fail "signer total"
check "audit chain intact after the crashes" ra-ctl audit verify

#!/bin/bash
# test_faults.sh: faults an RA host meets, each with a clear message and nothing accepted
# lost. Timeouts are shortened in the test configuration and time is moved with RA_NOW,
# so "minutes" and "an hour" cost seconds.
#
# 1. The signer is unreachable for longer than every job's attempts would last: the jobs
#    wait (no job parked, no attempt counted against them, a few retries rather than a
#    storm) and finish once it is back.
# 2. The clock steps back an hour while a worker holds a lease: the lease is not made an
#    hour longer; the job is dispatched again after the lease time; new jobs run.
# 3. The disk that holds ra.db fills up (a small tmpfs) in the middle of an import and of
#    issuance: a clear "disk full" message, nothing half stored, nothing accepted lost;
#    once space is back every job finishes and the invariants hold.
. "$(dirname "$0")/lib.sh"
. "$RA_TOP/tests/integration/invariants.sh"
q() { sql "$DEP/ra.db" "$1"; }

ra_deploy 0
sed -i -e '/^queue:/a\  max_attempts: 3' "$DEP/ra.yaml"
printf 'worker:\n  signer_timeout_ms: 300\n' >>"$DEP/ra.yaml"
ra-ctl up --workers 2 >/dev/null || { fail "ra-ctl up" "$(tail -n 5 "$DEP"/log/*.log)"; exit 1; }
forms=()
for i in $(seq -w 1 10); do forms+=("$RA_TOP/config/examples/reg-$i.yaml"); done
register_forms clerk01 clerk02 sup01 "${forms[@]}" || fail "10 forms approved"
for i in 0 1; do make_csr "s$i"; make_csr "e$i"; done
request() { ra-ctl request-certs "$1" --sign-csr "$T/s$(($1 % 2)).csr" --enc-csr "$T/e$(($1 % 2)).csr" --no-wait >/dev/null; }

# --- 1. the signer unreachable -------------------------------------------------------------
kill -9 "$(cat "$DEP/run/ca-signer.pid")"
for o in 1 2 3; do request "$o"; done
# Each attempt waits 0.3 s for the signer; 3 attempts would be spent in about a second.
# Wait until the jobs have been tried for longer than that, several times over.
tried() { [ "$(grep -c "ca-signer unreachable" "$DEP"/log/ra-worker-*.log | awk -F: '{ s += $2 } END { print s }')" -ge 12 ]; }
wait_for 60 tried || fail "the workers tried the signer" "$(tail -n 3 "$DEP"/log/ra-worker-1.log)"
[ "$(q "SELECT count(*) FROM jobs WHERE state = 'failed'")" -eq 0 ] &&
	ok "signer down longer than all attempts: no job parked" ||
	fail "signer down: jobs parked" "$(q "SELECT id, attempts, error FROM jobs WHERE state = 'failed'")"
grep -q "ca-signer unreachable at" "$DEP"/log/ra-worker-*.log && ok "signer down: the log says it is unreachable, and where" || fail "signer down: message"
retries=$(grep -c "will wait for" "$DEP/log/ra-queue.log")
tries=$(grep -h "ca-signer unreachable" "$DEP"/log/ra-worker-*.log | wc -l)
echo "# signer down: $tries attempts of 3 jobs, $retries waits"
ra-ctl up --workers 2 >/dev/null
if wait_for 60 sql_is "$DEP/ra.db" "SELECT count(*) FROM orders WHERE id <= 3 AND state = 'issued'" 3; then
	ok "signer back: the waiting jobs finish"
else
	fail "signer back" "$(q "SELECT id, state, attempts, error FROM jobs WHERE kind = 'issue'")"
fi
[ "$(q "SELECT max(attempts) FROM jobs WHERE kind = 'issue'")" -lt 3 ] &&
	ok "signer down: the wait was not counted as failed attempts" || fail "attempts" "$(q "SELECT id, attempts FROM jobs WHERE kind = 'issue'")"

# --- 2. the clock steps back an hour ---------------------------------------------------------
ra-ctl down >/dev/null
sed -i 's/lease_ms: 2000/lease_ms: 8000/' "$RA_CONFIG"
RA_WORKER_STALL_MS=60000 ra-ctl up --workers 1 >/dev/null
request 4
wait_for 30 sql_is "$DEP/ra.db" "SELECT state FROM jobs WHERE kind = 'issue' AND payload LIKE '%\"order\":4,%'" leased ||
	fail "a worker holds order 4's job"
# The host crashes; it comes back with its clock an hour behind.
for f in "$DEP"/run/*.pid; do kill -9 "$(cat "$f")" 2>/dev/null; done
back=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
RA_NOW=$back ra-ctl up --workers 2 >/dev/null
if wait_for 40 sql_is "$DEP/ra.db" "SELECT state FROM orders WHERE id = 4" issued; then
	ok "clock an hour back: the lease of the dead worker ended after the lease time, not an hour later"
else
	fail "clock back: lease" "$(q "SELECT id, state, lease_until_ms, attempts FROM jobs WHERE kind = 'issue' AND state <> 'done'")"
fi
request 5
wait_for 30 sql_is "$DEP/ra.db" "SELECT state FROM orders WHERE id = 5" issued &&
	ok "clock an hour back: new jobs run" || fail "clock back: new job"
check "clock an hour back: audit chain intact" ra-ctl audit verify
ra-ctl down >/dev/null

# --- 3. the disk that holds ra.db fills up ---------------------------------------------------
ra-ctl down >/dev/null
mkdir -p "$T/disk"
if ! mount -t tmpfs -o size=4m tmpfs "$T/disk" 2>"$T/mount.err"; then
	fail "a small tmpfs for ra.db" "$(cat "$T/mount.err")"
	exit 1
fi
on_exit "umount '$T/disk'"
mv "$DEP/ra.db" "$T/disk/ra.db"
rm -f "$DEP/ra.db-wal" "$DEP/ra.db-shm"
sed -i -e "s|^  db: ra.db|  db: $T/disk/ra.db|" "$RA_CONFIG"
sed -i 's/lease_ms: 8000/lease_ms: 4000/' "$RA_CONFIG"
DB=$T/disk/ra.db
fill() { dd if=/dev/zero of="$T/disk/filler" bs=4k 2>/dev/null; sync; }
space_back() { rm -f "$T/disk/filler"; }
certs_before=$(sql "$DB" "SELECT count(*) FROM certificates")
RA_WORKER_STALL_MS=2500 ra-ctl up --workers 2 >/dev/null || fail "up with ra.db on the small disk" "$(tail -n 3 "$DEP"/log/ra-queue.log)"

# Mid-issuance: the workers hold their jobs, the signer has answered, the disk fills up
# before they commit.
for o in 6 7 8 9 10; do request "$o"; done
ahead() { [ "$(sql "$DEP/signer/signer.db" "SELECT count(*) FROM certs")" -gt "$(sql "$DB" "SELECT count(*) FROM certificates")" ]; }
wait_for 30 ahead || fail "the signer issued for jobs in flight"
fill
wait_for 30 grep -qiE "disk.*full|full.*disk" "$DEP"/log/ra-worker-*.log "$DEP/log/ra-queue.log" &&
	ok "disk full mid-issuance: the logs say the disk is full" ||
	fail "disk full: message" "$(tail -n 3 "$DEP"/log/ra-worker-1.log)"
# Mid-import: a clerk's batch while the disk is full.
forms_before=$(sql "$DB" "SELECT count(*) FROM forms")
out=$(ra-intake import --officer clerk01 "$RA_TOP/config/examples/mailed-batch.csv" 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q "disk holding ra.db is full" <<<"$out" && ok "disk full mid-import: refused with a clear message" || fail "disk full: import" "exit $rc: $out"
[ "$(sql "$DB" "SELECT count(*) FROM forms")" -eq "$forms_before" ] && ok "disk full: no form half stored" || fail "disk full: forms"
check "disk full: ra-queue still runs" ra-ctl status
space_back
ra-intake import --officer clerk01 "$RA_TOP/config/examples/mailed-batch.csv" >/dev/null 2>&1 &&
	ok "space back: the batch is imported" || fail "space back: import"
if wait_for 60 sql_is "$DB" "SELECT count(*) FROM orders WHERE id BETWEEN 6 AND 10 AND state = 'issued'" 5; then
	ok "space back: the issuance that met the full disk finishes"
else
	fail "space back: issuance" "$(sql "$DB" "SELECT id, state, attempts, error FROM jobs WHERE state <> 'done'")"
fi
ra_quiet "$DEP" 60
ln -sf "$DB" "$DEP/ra.db"	# where ra_invariants looks
ra_invariants "$DEP"

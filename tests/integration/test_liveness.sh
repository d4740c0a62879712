#!/bin/bash
# Liveness after a daemon restarts under the others. ra-queue killed with SIGKILL and
# started again by `ra-ctl up` (as systemd would): while the workers are idle, while a job
# is leased, and while a worker is between the signer's answer and its commit; each time
# both surviving workers must register with the new queue and take jobs again, and every
# order ends with exactly one pair of certificates. Then a producer waits for its job
# through 40 s without a queue, ca-signer is restarted under the workers, and a worker
# restarted. Waits are generous bounds, never timing assertions.
. "$(dirname "$0")/lib.sh"

# Each worker pauses between a job's prepare and apply, so that two jobs submitted
# together are held by two workers at once and the kills below land inside a job.
export RA_WORKER_STALL_MS=800
ra_deploy 2
register_forms clerk01 clerk02 sup01 "$RA_TOP"/config/examples/reg-0[1-9].yaml "$RA_TOP"/config/examples/reg-1[0-3].yaml ||
	{ fail "forms"; exit 1; }
for i in $(seq 1 13); do make_csr "s$i"; make_csr "e$i"; done
QLOG=$DEP/log/ra-queue.log

# issue ORDER: submit the order's certificate request without waiting for it.
issue() { ra-ctl request-certs "$1" --sign-csr "$T/s$1.csr" --enc-csr "$T/e$1.csr" --officer op01 --passphrase-file "$OPASS" --no-wait >/dev/null; }
issue_state() { sql "$DEP/ra.db" "SELECT state FROM jobs WHERE kind = 'issue' AND payload LIKE '%\"order\":$1,%'"; }
issue_is() { [ "$(issue_state "$1")" = "$2" ]; }
pairs_ok() { # ORDER...: each order has exactly one pair at the RA
	local o
	for o in "$@"; do
		[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM certificates WHERE order_id = $o")" -eq 2 ] || return 1
	done
}
worker_pid() { cat "$DEP/run/ra-worker-$1.pid"; }
# producer_got ORDER NAME: the waiting `ra-ctl request-certs` ($producer) ended well and
# wrote the order's two certificates into $T/outORDER.
producer_got() {
	wait_for 120 dead "$producer"
	if wait "$producer" && [ "$(ls "$T/out$1" | wc -l)" -ge 2 ]; then
		ok "$2"
	else
		fail "$2" "$(tail -n 3 "$T/producer$1.log")"
	fi
}
# kill9 PID: SIGKILL, then wait until the process is gone (or a zombie), as systemd waits
# before it restarts a unit; a sanitizer build takes a while to tear its memory down.
dead() { local s; s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null); [ -z "$s" ] || [ "$s" = Z ] || [ "$s" = X ]; }
kill9() { kill -9 "$1"; wait_for 60 dead "$1" || fail "process $1 still there after SIGKILL"; }
# mark NAME: remember where each daemon log ends; since NAME LOG: what was logged after.
declare -A marks
mark() { local f; for f in "$DEP"/log/*.log; do marks[$1:$(basename "$f")]=$(wc -l < "$f"); done; }
since() { local n=${marks[$1:$(basename "$2")]:-0}; tail -n +$((n + 1)) "$2"; }
ready_since() { [ "$(since "$1" "$QLOG" | grep -c 'is ready')" -ge "$2" ]; }
took_job_since() { since "$1" "$DEP/log/ra-worker-$2.log" | grep -q '(issue) attempt'; }

# restart_queue NAME: SIGKILL ra-queue, start it again with `ra-ctl up` (only the queue
# is missing, so only the queue starts); the surviving workers keep their pids.
restart_queue() {
	local w1 w2
	w1=$(worker_pid 1) w2=$(worker_pid 2)
	kill9 "$(cat "$DEP/run/ra-queue.pid")"
	mark "$1"
	ra-ctl up >/dev/null || fail "$1: ra-ctl up restarts the queue"
	[ "$(worker_pid 1)" = "$w1" ] && [ "$(worker_pid 2)" = "$w2" ] && kill -0 "$w1" "$w2" ||
		fail "$1: the workers survived the queue's restart"
}

# both_resume NAME ORDER1 ORDER2: after the restart both workers register again and,
# given two jobs one after the other, each takes one (the queue hands a job to the worker
# idle longest); both finish with one pair each.
both_resume() {
	local n=$1 a=$2 b=$3
	if wait_for 60 ready_since "$n" 2; then
		ok "$n: both surviving workers say READY to the new queue"
	else
		fail "$n: both surviving workers say READY to the new queue" "$(since "$n" "$QLOG" | tail -n 5)"
	fi
	mark "$n-jobs"
	issue "$a"
	wait_for 120 issue_is "$a" done
	issue "$b"
	if wait_for 120 issue_is "$a" done && wait_for 120 issue_is "$b" done; then
		ok "$n: new jobs are taken and finished"
	else
		fail "$n: new jobs are taken and finished" "order $a: $(issue_state "$a"), order $b: $(issue_state "$b")"
	fi
	if took_job_since "$n-jobs" 1 && took_job_since "$n-jobs" 2; then
		ok "$n: each surviving worker took one of them"
	else
		fail "$n: each surviving worker took one of them"
	fi
	pairs_ok "$a" "$b" && ok "$n: one pair per new order" || fail "$n: one pair per new order"
}

wait_for 60 ready_since start 2 || fail "two workers at start" "$(tail -n 5 "$QLOG")"

# 1. The queue dies while both workers are idle.
restart_queue idle
both_resume idle 1 2

# 2. The queue dies while a job is leased (the worker holds it, before the signer is asked
# or while it is), then a third job.
# This time the producer waits for the answer through the restart.
mkdir -p "$T/out3"
ra-ctl request-certs 3 --sign-csr "$T/s3.csr" --enc-csr "$T/e3.csr" --officer op01 --passphrase-file "$OPASS" --out "$T/out3" > "$T/producer3.log" 2>&1 &
producer=$!
track $producer
wait_for 60 issue_is 3 leased || fail "leased: the job is leased before the kill"
restart_queue leased
if wait_for 120 issue_is 3 done; then
	ok "leased: the job leased before the kill finishes"
else
	fail "leased: the job leased before the kill finishes" "$(issue_state 3)"
fi
producer_got 3 "leased: the producer waiting through the restart gets its certificates"
pairs_ok 3 && ok "leased: exactly one pair for it" || fail "leased: exactly one pair for it"
both_resume leased 4 5

# 3. The queue dies while a worker is mid-commit: the signer has answered (the pair is
# in signer.db), the worker is between prepare and its ledger transaction.
n=$(sql "$DEP/signer/signer.db" "SELECT count(*) FROM certs")
issue 6
wait_for 60 sql_is "$DEP/signer/signer.db" "SELECT count(*) FROM certs" $((n + 2)) ||
	fail "mid-commit: the signer issued before the kill"
restart_queue mid-commit
if wait_for 120 issue_is 6 done; then
	ok "mid-commit: the job finishes"
else
	fail "mid-commit: the job finishes" "$(issue_state 6)"
fi
pairs_ok 6 && ok "mid-commit: exactly one pair for it" || fail "mid-commit: exactly one pair for it"
both_resume mid-commit 7 8

# 4. ca-signer killed and started again under the workers: the next jobs are issued.
kill9 "$(cat "$DEP/run/ca-signer.pid")"
mark signer
ra-ctl up >/dev/null || fail "signer: ra-ctl up restarts ca-signer"
issue 9; issue 10
if wait_for 120 issue_is 9 done && wait_for 120 issue_is 10 done; then
	ok "signer: jobs finish after ca-signer restarted"
else
	fail "signer: jobs finish after ca-signer restarted" "order 9: $(issue_state 9), order 10: $(issue_state 10)"
fi
pairs_ok 9 10 && ok "signer: one pair per order" || fail "signer: one pair per order"

# 5. A worker killed and started again: the queue forgets the dead one and uses the new one.
kill9 "$(worker_pid 2)"
mark worker
ra-ctl up >/dev/null || fail "worker: ra-ctl up restarts the worker"
wait_for 60 ready_since worker 1 || fail "worker: the new worker says READY" "$(since worker "$QLOG" | tail -n 3)"
# the dead worker was idle: the queue drops it after queue.liveness silent heartbeats
dropped() { since worker "$QLOG" | grep -q 'is silent; dropped'; }
wait_for 60 dropped && ok "worker: the queue drops the dead worker" || fail "worker: the queue drops the dead worker"
issue 11; issue 12
if wait_for 120 issue_is 11 done && wait_for 120 issue_is 12 done; then
	ok "worker: jobs finish after a worker restarted"
else
	fail "worker: jobs finish after a worker restarted" "order 11: $(issue_state 11), order 12: $(issue_state 12)"
fi
took_job_since worker 2 && ok "worker: the restarted worker takes jobs" || fail "worker: the restarted worker takes jobs"
pairs_ok 11 12 && ok "worker: one pair per order" || fail "worker: one pair per order"

# 4. The queue stays down longer than a producer's tries (a host rebooting, a unit that
# fails to start for a while) while the producer waits for its job: the job is in the
# ledger, so the producer asks again until its own time is up, and gets its answer once
# the queue is back, rather than giving up on the first silence.
# The workers are stopped first, so the job is still queued when the queue dies.
for f in "$DEP"/run/ra-worker-*.pid; do
	w=$(cat "$f")
	kill -TERM "$w"
	wait_for 60 dead "$w" || fail "down: worker $w stops"
done
mkdir -p "$T/out13"
ra-ctl request-certs 13 --sign-csr "$T/s13.csr" --enc-csr "$T/e13.csr" --officer op01 --passphrase-file "$OPASS" --out "$T/out13" > "$T/producer13.log" 2>&1 &
producer=$!
track $producer
wait_for 60 issue_is 13 queued || fail "down: the job is queued" "$(issue_state 13)"
# A second producer sends the same request (the same job) and waits too; while the queue
# is silent it is interrupted (Ctrl-C): it stops asking and exits, rather than going on
# until its time is up.
# (stdbuf preloads a library: the sanitizer build must be told that is fine.)
ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" stdbuf -oL ra-ctl request-certs 13 --sign-csr "$T/s13.csr" --enc-csr "$T/e13.csr" --officer op01 --passphrase-file "$OPASS" > "$T/producer13b.log" 2>&1 &
impatient=$!
track $impatient
wait_for 60 grep -q accepted "$T/producer13b.log" || fail "down: the second producer's request is accepted"
kill9 "$(cat "$DEP/run/ra-queue.pid")"
sleep 5
kill -0 $impatient 2>/dev/null || fail "down: the second producer still waits for the queue" "$(tail -n 2 "$T/producer13b.log")"
kill -INT $impatient
if wait_for 20 dead $impatient; then
	ok "down: a producer interrupted while the queue is silent stops at once"
else
	fail "down: a producer interrupted while the queue is silent stops at once" "$(tail -n 2 "$T/producer13b.log")"
fi
sleep 35
ra-ctl up --workers 2 >/dev/null || fail "down: ra-ctl up starts the queue and the workers"
producer_got 13 "down: a producer waiting through 40 s without a queue gets its certificates once it is back"
pairs_ok 13 && ok "down: exactly one pair for it" || fail "down: exactly one pair for it"

# A worker stopped cleanly (SIGTERM, as ra-ctl down or systemd stop it) says DISCONNECT:
# the queue drops it at once, rather than hand it a job that would wait out its lease.
mark stop
kill -TERM "$(worker_pid 1)"
stopping() { since stop "$QLOG" | grep -q 'is stopping'; }
wait_for 30 stopping && ok "worker: one stopped with SIGTERM says so; the queue drops it at once" \
	|| fail "worker: a stopped worker is dropped at once" "$(since stop "$QLOG" | tail -n 3)"

[ "$(sql "$DEP/signer/signer.db" "SELECT count(*) FROM certs")" -eq 26 ] &&
	ok "the signer issued exactly 26 certificates for 13 orders" ||
	fail "the signer issued exactly 26 certificates for 13 orders" "$(sql "$DEP/signer/signer.db" "SELECT count(*) FROM certs")"
check "audit chain intact after the restarts" ra-ctl audit verify

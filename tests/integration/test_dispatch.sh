#!/bin/bash
# How ra-queue hands jobs to workers: one job a worker at a time. A worker ends a job with
# DONE (or FAILED) and then says READY; if the queue took DONE as idle, it handed the next
# job out at DONE and another at READY, so one worker held two leases (the second waiting
# in its socket, its lease running) while the other worker had nothing: approvals then ran
# on one core of two. Six certificate requests submitted at once to two workers that pause
# in each job: the ledger, watched while they run, never shows a worker holding two leased
# jobs, and both workers take some.
. "$(dirname "$0")/lib.sh"

# A pause between a job's prepare and apply keeps each lease open long enough to be seen.
export RA_WORKER_STALL_MS=700
ra_deploy 2
register_forms clerk01 clerk02 sup01 "$RA_TOP"/config/examples/reg-0[1-6].yaml || { fail "forms"; exit 1; }
for i in $(seq 1 6); do make_csr "s$i"; make_csr "e$i"; done

for i in $(seq 1 6); do
	ra-ctl request-certs "$i" --sign-csr "$T/s$i.csr" --enc-csr "$T/e$i.csr" --officer op01 \
		--passphrase-file "$OPASS" --no-wait >/dev/null &
done
wait
issues_ended() { sql_is "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE kind = 'issue' AND state IN ('done', 'failed')" 6; }
# Watch the ledger until the six have ended: the most leased jobs one worker held at once.
most=0 seen=0
for _ in $(seq 1 600); do
	n=$(sql "$DEP/ra.db" "SELECT coalesce(max(c), 0) FROM (SELECT count(*) AS c FROM jobs
		WHERE state = 'leased' GROUP BY worker)")
	[ "$n" -gt "$most" ] && most=$n
	[ "$n" -gt 0 ] && seen=$((seen + 1))
	issues_ended && break
	sleep 0.05
done
if issues_ended; then ok "six certificate requests submitted at once all end"; else fail "the six requests end"; fi
[ "$seen" -gt 0 ] && [ "$most" -eq 1 ] && ok "no worker ever held two leased jobs at once (watched $seen times)" ||
	fail "one job a worker at a time" "a worker held $most leased jobs at once (watched $seen times)"
[ "$(sql "$DEP/ra.db" "SELECT count(DISTINCT worker) FROM jobs WHERE kind = 'issue' AND state = 'done'")" -eq 2 ] &&
	ok "both workers took some of them" ||
	fail "both workers took some" "$(sql "$DEP/ra.db" "SELECT worker, count(*) FROM jobs WHERE kind = 'issue' GROUP BY worker")"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM certificates")" -eq 12 ] && ok "twelve certificates, two an order" ||
	fail "twelve certificates" "$(sql "$DEP/ra.db" "SELECT count(*) FROM certificates")"

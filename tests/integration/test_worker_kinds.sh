#!/bin/bash
# A worker started with --kinds takes only those kinds: ra-queue hands it a younger job of
# a kind it takes and leaves an older one it does not take for a worker that does.
. "$(dirname "$0")/lib.sh"

ra_deploy 1
printf 'intake:\n  wait_ms: 300\n' >> "$RA_CONFIG"
pid=$(cat "$DEP/run/ra-worker-1.pid")
kill "$pid"
wait_for 20 bash -c "! kill -0 $pid" || fail "the deployment's worker stops"
ra-worker --name worker --kinds form_verify,no_such_kind >"$T/verify-only.log" 2>&1 &
track $!
wait_for 20 grep -q "ready" "$T/verify-only.log" || fail "the verify-only worker starts" "$(cat "$T/verify-only.log")"
grep -q "'no_such_kind' is not a job kind" "$DEP/log/ra-queue.log" 2>/dev/null || grep -rq "'no_such_kind' is not a job kind" "$DEP/log/" \
	&& ok "an unknown kind in a worker's list is named in the queue's log" || fail "an unknown kind in a worker's list is named in the queue's log"

f=$RA_TOP/config/examples/reg-01.yaml
serial=$(sed -n 's/^serial: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$f")
# The first keying (form_key) is queued first; this worker does not take it.
ra-intake import --officer clerk01 --passphrase-file "$OPASS" "$f" >"$T/import.out" 2>&1
key_job=$(sql "$DEP/ra.db" "SELECT max(id) FROM jobs WHERE kind = 'form_key'")
# The second keying (form_verify) comes later; this worker takes it, and fails it: the
# form was never stored.
ra-intake verify --officer clerk02 --passphrase-file "$OPASS" --file "$f" >"$T/verify.out" 2>&1
wait_for 30 sql_is "$DEP/ra.db" "SELECT state IN ('done', 'failed') FROM jobs WHERE kind = 'form_verify' ORDER BY id DESC LIMIT 1" 1 \
	&& ok "the worker takes the kind it lists" || fail "the worker takes the kind it lists" "$(sql "$DEP/ra.db" "SELECT id, kind, state FROM jobs")"
sql_is "$DEP/ra.db" "SELECT state FROM jobs WHERE id = $key_job" queued \
	&& ok "an older job of a kind it does not list stays queued" || fail "an older job of a kind it does not list stays queued" "$(sql "$DEP/ra.db" "SELECT id, kind, state FROM jobs")"
ra-worker --name worker >"$T/all.log" 2>&1 &
track $!
wait_for 30 sql_is "$DEP/ra.db" "SELECT state FROM jobs WHERE id = $key_job" done \
	&& ok "a worker of every kind takes it" || fail "a worker of every kind takes it" "$(sql "$DEP/ra.db" "SELECT id, kind, state, error FROM jobs")"

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
# 4. The SMTP relay answers 4xx, 5xx, drops the connection, or is down: every notice stays
#    pending with the relay's answer until a working relay takes it, once.
# 5. pcscd restarts in the middle of a bulk personalization: every order still ends with
#    one card and one valid pair.
# 6. card-station is killed while its card_done waits in the queue, and 7. while it is
#    still in the socket (held by tests/fixtures/hold-relay.py): the rerun leaves the
#    finished card alone, no job fails.
. "$(dirname "$0")/lib.sh"
. "$RA_TOP/tests/integration/invariants.sh"
q() { sql "$DEP/ra.db" "$1"; }

ra_deploy 0
sed -i -e '/^queue:/a\  max_attempts: 3' "$DEP/ra.yaml"
printf 'worker:\n  signer_timeout_ms: 300\n' >>"$DEP/ra.yaml"
ra-ctl up --workers 2 >/dev/null || { fail "ra-ctl up" "$(tail -n 5 "$DEP"/log/*.log)"; exit 1; }
ra_officers
forms=()
for i in $(seq -w 1 10); do forms+=("$RA_TOP/config/examples/reg-$i.yaml"); done
register_forms clerk01 clerk02 sup01 "${forms[@]}" || fail "10 forms approved"
# request ORDER: its certificates from its own key pairs (a key is certified for one
# subscriber only), without waiting.
request() {
	[ -f "$T/s$1.csr" ] || { make_csr "s$1"; make_csr "e$1"; }
	ra-ctl request-certs "$1" --sign-csr "$T/s$1.csr" --enc-csr "$T/e$1.csr" --officer op01 --passphrase-file "$OPASS" --no-wait >/dev/null
}

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
ra-ctl up --workers 2 >/dev/null 2>&1	# starts the killed signer; says what already runs
if wait_for 60 sql_is "$DEP/ra.db" "SELECT count(*) FROM orders WHERE id <= 3 AND state = 'issued'" 3; then
	ok "signer back: the waiting jobs finish"
else
	fail "signer back" "$(q "SELECT id, state, attempts, error FROM jobs WHERE kind = 'issue'")"
fi
[ "$(q "SELECT max(attempts) FROM jobs WHERE kind = 'issue'")" -lt 3 ] &&
	ok "signer down: the wait was not counted as failed attempts" || fail "attempts" "$(q "SELECT id, attempts FROM jobs WHERE kind = 'issue'")"

# --- 2. the clock steps back an hour ---------------------------------------------------------
# Dates come from the RA clock (RA_NOW moves it); the lease deadlines and retry times that
# ra-queue stores are of the system clock (lib/clock.h). The host crashes and comes back
# with its clock an hour behind: its dates are an hour back (RA_NOW) and every stored
# deadline is an hour further away than it was meant to be (shifted here, as the step
# makes it).
ra-ctl down >/dev/null
sed -i 's/lease_ms: 2000/lease_ms: 8000/' "$RA_CONFIG"
RA_WORKER_STALL_MS=60000 ra-ctl up --workers 1 >/dev/null
request 4
wait_for 30 sql_is "$DEP/ra.db" "SELECT state FROM jobs WHERE kind = 'issue' AND payload LIKE '%\"order\":4,%'" leased ||
	fail "a worker holds order 4's job"
for f in "$DEP"/run/*.pid; do kill -9 "$(cat "$f")" 2>/dev/null; done
sql "$DEP/ra.db" "UPDATE jobs SET lease_until_ms = lease_until_ms + 3600000 WHERE state = 'leased';
	UPDATE jobs SET not_before_ms = not_before_ms + 3600000 WHERE state = 'queued' AND not_before_ms > 0"
back=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
RA_NOW=$back ra-ctl up --workers 2 >/dev/null
if wait_for 40 sql_is "$DEP/ra.db" "SELECT state FROM orders WHERE id = 4" issued; then
	ok "clock an hour back: the lease of the dead worker ended after the lease time, not an hour later"
else
	fail "clock back: lease" "$(q "SELECT id, state, lease_until_ms, attempts FROM jobs WHERE kind = 'issue' AND state <> 'done'")"
fi
grep -q "the clock went back" "$DEP/log/ra-queue.log" && ok "clock back: ra-queue says so" || fail "clock back: message"
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
out=$(ra-intake import --officer clerk01 --passphrase-file "$OPASS" "$RA_TOP/config/examples/mailed-batch.csv" 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q "disk holding ra.db is full" <<<"$out" && ok "disk full mid-import: refused with a clear message" || fail "disk full: import" "exit $rc: $out"
[ "$(sql "$DB" "SELECT count(*) FROM forms")" -eq "$forms_before" ] && ok "disk full: no form half stored" || fail "disk full: forms"
check "disk full: ra-queue still runs" ra-ctl status
space_back
ra-intake import --officer clerk01 --passphrase-file "$OPASS" "$RA_TOP/config/examples/mailed-batch.csv" >/dev/null 2>&1 &&
	ok "space back: the batch is imported" || fail "space back: import"
if wait_for 60 sql_is "$DB" "SELECT count(*) FROM orders WHERE id BETWEEN 6 AND 10 AND state = 'issued'" 5; then
	ok "space back: the issuance that met the full disk finishes"
else
	fail "space back: issuance" "$(sql "$DB" "SELECT id, state, attempts, error FROM jobs WHERE state <> 'done'")"
fi
ra_quiet "$DEP" 60
ln -sf "$DB" "$DEP/ra.db"	# where ra_invariants looks
ra_invariants "$DEP"

# --- 4. the SMTP relay answers 4xx, 5xx, drops the connection, or is down ---------------------
# The renewal notices of the certificates above, with the clock 11 months ahead; the
# notifier retries on its next run (retry_days: 0). Nothing is lost: each notice stays
# pending with the relay's answer until a working relay takes it, once.
AHEAD=$(date -u -d '+11 months +1 day' +%Y-%m-%dT%H:%M:%SZ)
cat >>"$RA_CONFIG" <<YAML
notifier:
  smtp_url: smtp://127.0.0.1:1
  smtp_starttls: false
  smtp_timeout_s: 5
  retry_days: 0
  admin_address: ""
  templates_dir: $RA_TOP/config/templates
YAML
relay() { sed -i "s|^  smtp_url: .*|  smtp_url: smtp://127.0.0.1:$1|" "$RA_CONFIG"; }
due=$(sql "$DB" "SELECT count(DISTINCT subscriber_id) FROM certificates WHERE status = 'valid'")
for mode in tempfail permfail drop; do
	rm -f "$T/fault.port"
	/usr/bin/python3 "$RA_TOP/tests/fixtures/smtp-fault.py" "$T/fault.port" "$mode" 2>"$T/fault-$mode.log" &
	fpid=$!
	track $fpid
	wait_for 10 test -s "$T/fault.port" || fail "fault relay ($mode) started"
	relay "$(cat "$T/fault.port")"
	ra-notifier --now "$AHEAD" renewals >"$T/n-$mode.out" 2>&1
	rc=$?
	case $mode in
	tempfail) want="451" ;;
	permfail) want="550" ;;
	drop) want="" ;;
	esac
	sent=$(sql "$DB" "SELECT count(*) FROM notices WHERE state = 'sent'")
	pending=$(sql "$DB" "SELECT count(*) FROM notices WHERE state = 'pending'")
	[ "$rc" -ne 0 ] && [ "$sent" -eq 0 ] && [ "$pending" -ge "$due" ] &&
		ok "relay $mode: the run fails, every notice stays pending ($pending)" ||
		fail "relay $mode" "exit $rc, $sent sent, $pending pending of $due: $(tail -n 2 "$T/n-$mode.out")"
	grep -q "${want:-notice}" "$T/n-$mode.out" && [ -n "$(sql "$DB" "SELECT smtp_reply FROM notices WHERE state = 'pending' AND smtp_reply <> '' LIMIT 1")" ] &&
		ok "relay $mode: the message and the ledger give the relay's answer" ||
		fail "relay $mode: message" "$(tail -n 3 "$T/n-$mode.out")"
	kill "$fpid"
	wait "$fpid" 2>/dev/null
done
relay 1	# nothing listens there: the relay is down for the whole run
ra-notifier --now "$AHEAD" renewals >"$T/n-down.out" 2>&1 && fail "relay down: the run says so" ||
	ok "relay down for the whole run: the run fails, $(sql "$DB" "SELECT count(*) FROM notices WHERE state = 'pending'") notices pending"
grep -qiE "connect|refused" "$T/n-down.out" && ok "relay down: the message says it could not connect" || fail "relay down: message" "$(tail -n 2 "$T/n-down.out")"
port=$("$RA_TOP/tests/fixtures/smtp-sink.sh" start "$T/smtp")
on_exit "'$RA_TOP/tests/fixtures/smtp-sink.sh' stop '$T/smtp'"
relay "$port"
ra-notifier --now "$AHEAD" renewals >"$T/n-good.out" 2>&1 && ok "relay back: the run succeeds" || fail "relay back" "$(tail -n 3 "$T/n-good.out")"
[ "$(sql "$DB" "SELECT count(*) FROM notices WHERE state <> 'sent'")" -eq 0 ] && ok "relay back: every notice sent" || fail "relay back: pending left"
ra_invariants "$DEP" "$T/smtp/maildir"

# --- 5. pcscd restarted in the middle of a bulk personalization ------------------------------
# Four cards in four readers; pcscd is stopped and started again while the cards are being
# made. The station reports what it could not finish, every order ends with one card and
# one valid pair (an operator runs the batch again for what was set aside, with fresh
# cards), and the certificates of set-aside cards are revoked.
. "$RA_TOP/tests/fixtures/pcsc-env.sh"
ra-ctl down >/dev/null
ra-ctl up --workers 2 >/dev/null	# workers without the pause of section 3
register_forms clerk01 clerk02 sup01 "$RA_TOP"/config/examples/reg-1[1-4].yaml || fail "4 more forms approved"
if ! pcsc_start "$T/pcsc" 4 >"$T/readers.txt" 2>"$T/pcsc-start.log"; then
	fail "pcscd with 4 virtual readers" "$(cat "$T/pcsc-start.log")"
	exit 1
fi
on_exit "pcsc_stop '$T/pcsc'"
serial=7100
cards() { local i; for i in 0 1 2 3; do pcsc_card_stop "$T/pcsc" "$i"; rm -f "$T/pcsc/card-$i.state"; pcsc_card_start "$T/pcsc" "$i" --serial $((serial += 1)) --keygen-delay-ms 400 >/dev/null; done; }
cards
card-station personalize --officer op01 --passphrase-file "$OPASS" --station faults >"$T/p1.out" 2>"$T/p1.log" &
ppid=$!
track $ppid
wait_for 60 grep -q "request 9C\|generate" "$T/p1.out" || fail "personalization under way" "$(tail -n 3 "$T/p1.out")"
pcsc_restart "$T/pcsc" && ok "pcscd restarted in the middle of the batch" || fail "pcscd restart"
# Every card of the batch finished one way or the other; the operator then stops the run
# (the orders given back wait for new cards).
finished4() { [ "$(grep -oE 'card 71[0-9]+ +(personalized|FAILED)' "$T/p1.out" | awk '{ print $2 }' | sort -u | wc -l)" -ge 4 ]; }
wait_for 180 finished4 || fail "pcscd restart: every card of the batch finished" "$(tail -n 5 "$T/p1.out")"
kill "$ppid" 2>/dev/null
wait "$ppid"
rc=$?
grep -q "PC/SC service back" "$T/p1.log" && ok "pcscd restart: the station watches the readers again once pcscd is back" ||
	fail "pcscd restart: the station came back" "$(tail -n 3 "$T/p1.log")"
grep -qiE "pcscd|PC/SC|reader|removed|reset" "$T/p1.out" "$T/p1.log" &&
	ok "pcscd restart: the station says what happened (exit $rc)" || fail "pcscd restart: message" "$(tail -n 5 "$T/p1.out")"
# The operator runs the batch again with fresh cards until no order waits.
for run in 2 3 4; do
	[ "$(sql "$DB" "SELECT count(*) FROM orders WHERE state <> 'personalized' AND id > 10")" -eq 0 ] && break
	cards
	card-station personalize --officer op01 --passphrase-file "$OPASS" --station faults >"$T/p$run.out" 2>"$T/p$run.log"
done
[ "$(sql "$DB" "SELECT count(*) FROM orders WHERE id > 10 AND state = 'personalized'")" -eq 4 ] &&
	ok "pcscd restart: every order of the batch ends personalized" ||
	fail "pcscd restart: orders" "$(sql "$DB" "SELECT id, state, card_serial FROM orders WHERE id > 10")"
ra_quiet "$DEP" 60
ra_invariants "$DEP"

# --- 6. card-station killed while its card_done waits in the queue -------------------------
# Found by the chaos test: the rerun settled only the earlier run's issue jobs, so a
# card_done still queued landed after the rerun had wiped the finished card. The workers
# here take every kind but card_done, so the finished card's card_done surely waits in
# the queue when the station is killed; a worker for it starts once the rerun waits. The
# card is left alone, no job fails.
# kinds_but K1|K2...: every job kind but those, for ra-worker --kinds
kinds_but() { ra-worker --help | sed -n '/^Job kinds:/,$p' | awk 'NR > 1 && NF { print $1 }' | grep -vxE "$1" | paste -sd, -; }
# workers KINDS: the deployment's workers replaced by two that take only KINDS (tracked)
workers() {
	local f p
	for f in "$DEP"/run/ra-worker-*.pid; do
		p=$(cat "$f" 2>/dev/null) && kill "$p" 2>/dev/null && wait_for 30 bash -c "! kill -0 $p 2>/dev/null"
		rm -f "$f"
	done
	for p in $own_workers; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	own_workers=
	for p in 1 2; do
		ra-worker -c "$RA_CONFIG" --name worker --kinds "$1" >>"$DEP/log/ra-worker-faults.log" 2>&1 &
		track $!
		own_workers+=" $!"
	done
}
# extra_worker KINDS: one more worker that takes only KINDS (tracked)
extra_worker() { ra-worker -c "$RA_CONFIG" --name worker --kinds "$1" >>"$DEP/log/ra-worker-faults.log" 2>&1 & track $!; own_workers+=" $!"; }
own_workers=
workers "$(kinds_but card_done)"
register_forms clerk01 clerk02 sup01 "$RA_TOP/config/examples/reg-15.yaml" || fail "one more form approved"
for i in 1 2 3; do pcsc_card_stop "$T/pcsc" "$i"; done
pcsc_card_stop "$T/pcsc" 0
rm -f "$T/pcsc/card-0.state"
pcsc_card_start "$T/pcsc" 0 --serial 7301 >/dev/null
R0=$(pcsc_reader "$T/pcsc" 0)
# card_done_is SERIAL STATES N: N card_done jobs of card SERIAL are in one of STATES
card_done_is() { sql_is "$DB" "SELECT count(*) FROM jobs WHERE kind = 'card_done' AND json_extract(payload, '\$.card_serial') = '$1' AND state IN ($2)" "$3"; }
card-station personalize --officer op01 --passphrase-file "$OPASS" --readers "$R0" --count 1 --station faults >"$T/k1.out" 2>"$T/k1.log" &
kpid=$!
track $kpid
wait_for 120 card_done_is 7301 "'queued'" 1 && ok "card 7301 finished; its card_done waits in the queue" ||
	fail "card_done waits in the queue" "$(tail -n 3 "$T/k1.out")"
kill -9 "$kpid"
wait "$kpid" 2>/dev/null
card-station personalize --officer op01 --passphrase-file "$OPASS" --readers "$R0" --count 1 --station faults >"$T/k2.out" 2>"$T/k2.log" &
kpid=$!
track $kpid
wait_for 60 grep -q "card 7301 .*settle earlier run" "$T/k2.out" || fail "the rerun settles the earlier run" "$(tail -n 3 "$T/k2.out")"
extra_worker card_done
wait_for 120 bash -c "! kill -0 $kpid 2>/dev/null"
grep -qE "7301 .*skipped .*already personalized for order" "$T/k2.out" &&
	ok "station killed before its card_done landed: the rerun leaves the finished card alone" ||
	fail "card_done after a kill" "$(grep "7301" "$T/k2.out" | tail -n 3)"
[ "$(sql "$DB" "SELECT count(*) FROM jobs WHERE state = 'failed'")" -eq 0 ] && ok "card_done after a kill: no job failed" ||
	fail "card_done after a kill: failed jobs" "$(sql "$DB" "SELECT id, kind, error FROM jobs WHERE state = 'failed'")"
card_cert() { yubico-piv-tool -r "$R0" -a read-certificate -s 9c 2>/dev/null | openssl x509 -noout -serial 2>/dev/null | cut -d= -f2 | tr 'A-F' 'a-f'; }
sn=$(card_cert)
[ -n "$sn" ] && [ "$(sql "$DB" "SELECT status FROM certificates WHERE lower(serial) = '$sn'")" = valid ] &&
	ok "card_done after a kill: the card still holds its valid certificate" || fail "card_done after a kill: card" "serial '$sn'"
ra_quiet "$DEP" 60
ra_invariants "$DEP"

# --- 7. card-station killed while its card_done is still in the socket ------------------------
# The station finishes a card and sends card_done, and is killed before ra-queue has read
# it (held here by a relay between the two, as a busy queue or a socket buffer holds it).
# The rerun decides on the ledger as it is, and its first request is held in turn, so
# that the late card_done lands first, between the rerun's look and its next step. The
# ledger decides, not what the rerun saw: the card keeps its order and is left alone
# (before, the rerun wiped the card and the order stayed "personalized" for a blank card).
queue_relay() { # NAME HOLD-FILE: a relay in front of ra-queue at run/NAME.sock, and NAME.yaml using it
	/usr/bin/python3 "$RA_TOP/tests/fixtures/hold-relay.py" "$DEP/run/$1.sock" "$DEP/run/queue.sock" "$2" 2>"$T/$1.log" &
	track $!
	sed "s|^  endpoint: ipc://run/queue.sock\$|  endpoint: ipc://run/$1.sock|" "$RA_CONFIG" >"$DEP/$1.yaml"
	wait_for 10 test -S "$DEP/run/$1.sock"
}
held() { grep -q '^held ' "$T/$1.log"; }	# held NAME: relay NAME holds a request
workers "$(kinds_but 'card_done|issue')"
register_forms clerk01 clerk02 sup01 "$RA_TOP/config/examples/reg-16.yaml" || fail "one more form approved"
pcsc_card_stop "$T/pcsc" 0
rm -f "$T/pcsc/card-0.state"
pcsc_card_start "$T/pcsc" 0 --serial 7401 >/dev/null
queue_relay first "$T/hold-first" || fail "a relay for the first run"
queue_relay rerun "$T/hold-rerun" || fail "a relay for the rerun"
card-station -c "$DEP/first.yaml" personalize --officer op01 --passphrase-file "$OPASS" --readers "$R0" --count 1 \
	--station faults >"$T/h1.out" 2>"$T/h1.log" &
hpid=$!
track $hpid
# The station waits for its issue job (no worker takes issue yet); then its next request,
# the card_done, is held.
wait_for 120 sql_is "$DB" "SELECT count(*) FROM jobs WHERE kind = 'issue' AND state = 'queued' AND json_extract(payload, '\$.card_serial') = '7401'" 1 ||
	fail "card 7401's issue job waits" "$(tail -n 3 "$T/h1.out")"
touch "$T/hold-first"
extra_worker issue
wait_for 120 held first || fail "the first run's card_done is sent" "$(tail -n 2 "$T/h1.out")"
kill -9 "$hpid"
wait "$hpid" 2>/dev/null
grep -q "card 7401 .*record card" "$T/h1.out" && card_done_is 7401 "'queued','leased','done','failed'" 0 &&
	ok "station killed with its card_done in the socket, unseen by the ledger" || fail "card_done held" "$(tail -n 2 "$T/h1.out")"
touch "$T/hold-rerun"
card-station -c "$DEP/rerun.yaml" personalize --officer op01 --passphrase-file "$OPASS" --readers "$R0" --count 1 \
	--station faults >"$T/h2.out" 2>"$T/h2.log" &
hpid=$!
track $hpid
if wait_for 120 held rerun; then
	rm -f "$T/hold-first"
	extra_worker card_done
	wait_for 60 card_done_is 7401 "'done','failed'" 1 || fail "the late card_done reached the ledger" "$(tail -n 2 "$T/first.log")"
else
	fail "the rerun sends a request" "$(grep '7401' "$T/h2.out" | tail -n 3)"
	rm -f "$T/hold-first"
fi
rm -f "$T/hold-rerun"
wait_for 180 bash -c "! kill -0 $hpid 2>/dev/null"
grep -qE "7401 .*skipped .*already personalized for order" "$T/h2.out" && [ "$(q "SELECT count(*) FROM orders WHERE card_serial = '7401' AND state = 'personalized'")" = 1 ] &&
	ok "late card_done after a kill: the rerun leaves the finished card alone" ||
	fail "late card_done after a kill: rerun" "$(grep "7401" "$T/h2.out" | tail -n 2 | tr '\n' ' ') orders: $(q "SELECT id, state FROM orders WHERE card_serial = '7401'")"
[ "$(q "SELECT count(*) FROM jobs WHERE state = 'failed'")" -eq 0 ] && ok "late card_done after a kill: no job failed" ||
	fail "late card_done after a kill: failed jobs" "$(q "SELECT id, kind, error FROM jobs WHERE state = 'failed'")"
sn=$(card_cert)
[ -n "$sn" ] && [ "$(q "SELECT c.status || ' ' || o.state FROM certificates c JOIN orders o ON o.id = c.order_id
	WHERE lower(c.serial) = '$sn' AND o.card_serial = '7401'")" = "valid personalized" ] &&
	ok "late card_done after a kill: the card holds the valid certificate of its personalized order" ||
	fail "late card_done after a kill: card" "serial '$sn': $(q "SELECT c.status, o.state, o.card_serial FROM certificates c JOIN orders o ON o.id = c.order_id WHERE lower(c.serial) = '$sn'")"
for p in $own_workers; do kill "$p" 2>/dev/null; done
ra-ctl up --workers 2 >/dev/null 2>&1
ra_quiet "$DEP" 60
ra_invariants "$DEP"

#!/bin/bash
# test_chaos.sh: the deployment under a bulk load while a killer SIGKILLs a random
# process every 0.5–2 s and starts it again as an operator or systemd would; afterwards
# every invariant of tests/integration/invariants.sh holds.
#
# The load, in rounds of CHAOS_ROUND forms until CHAOS_FORMS forms are done and CHAOS_S
# seconds have passed: registration forms keyed, second-keyed blind and approved
# (register_forms), the first CHAOS_CARDS card orders of each round personalized by
# card-station on virtual cards in 4 PC/SC readers (an operator loop swaps finished
# cards for blank ones and starts the station again when it is gone), the other orders
# issued from PKCS#10 requests (ra-ctl request-certs), and ra-notifier's renewal scan run
# every few seconds against a real SMTP server (aiosmtpd) with the clock 11 months ahead.
#
# The killer's victims: ra-queue, ra-worker-1, ra-worker-2, ca-signer (SIGKILL, then
# `ra-ctl up` starts what is missing, as systemd's Restart= would), ra-notifier (SIGKILL;
# the next cron tick runs it again) and card-station (SIGKILL; the operator runs it
# again). Nothing else is restarted: if jobs wait and none finishes for CHAOS_STALL_S
# seconds, the test says so (a "not ok" line naming the stall), restarts the workers, and
# from then on restarts them with every restart of ra-queue, so that the rest can still
# be checked in a bounded time.
#
#   make test T=chaos               the short run: 200 forms, 16 cards (3–5 minutes of load
#                                   and about a hundred kills on two shared cores)
#   make chaos CHAOS_S=600          at least 200 forms and ten minutes (CHAOS_FORMS, CHAOS_S)
# Prints what it did: kills per daemon, jobs, forms, certificates, cards, notices, and the
# invariants checked.
#
# Every wait of the load is bounded: CHAOS_LIMIT_S seconds after the start (default
# CHAOS_S + 540, which keeps the short run inside the suite's 900 s per test), no new
# round starts, every producer and the card operator give up, and the test names what
# was still unfinished (a "not ok" line with the orders' and jobs' states) before it
# settles and checks the invariants.
. "$(dirname "$0")/lib.sh"
. "$RA_TOP/tests/integration/invariants.sh"
. "$RA_TOP/tests/fixtures/pcsc-env.sh"
SINK=$RA_TOP/tests/fixtures/smtp-sink.sh
PY=/usr/bin/python3

CHAOS_S=${CHAOS_S:-0}
CHAOS_FORMS=${CHAOS_FORMS:-200}
CHAOS_ROUND=${CHAOS_ROUND:-50}
CHAOS_CARDS=${CHAOS_CARDS:-4}
CHAOS_STALL_S=${CHAOS_STALL_S:-30}
CHAOS_LIMIT_S=${CHAOS_LIMIT_S:-$((CHAOS_S + 540))}
DEADLINE=$(($(date +%s) + CHAOS_LIMIT_S))
overdue() { [ "$(date +%s)" -ge "$DEADLINE" ]; }
READERS=4
SMTP_CONNECTIONS=4	# the notifier's connections to the relay (its default): mails in flight at a kill
AHEAD=$(date -u -d '+11 months +1 day' +%Y-%m-%dT%H:%M:%SZ)

# --- the deployment ------------------------------------------------------------------------
ra_deploy 0
# Leases longer than a worker may wait within a job (4 signer calls of signer_timeout_ms below,
# one ra-cardkey call: the config refuses less); enough attempts for jobs that meet several
# kills in a row (each kill of a worker or the signer may cost a job an attempt).
sed -i -e 's/lease_ms: 2000/lease_ms: 13000/' -e '/^queue:/a\  max_attempts: 12' "$DEP/ra.yaml"
# The clerks' ra-intake waits 5 s for an answer, then the form is followed in the ledger.
port=$("$SINK" start "$T/smtp") || { fail "SMTP server"; exit 1; }
on_exit "'$SINK' stop '$T/smtp'"
cat >>"$DEP/ra.yaml" <<EOF
worker:
  signer_timeout_ms: 3000
intake:
  wait_ms: 5000
notifier:
  smtp_url: smtp://127.0.0.1:$port
  smtp_starttls: false
  smtp_timeout_s: 10
  smtp_connections: $SMTP_CONNECTIONS
  templates_dir: $RA_TOP/config/templates
  admin_address: ""
EOF
ra-ctl up --workers 2 >/dev/null || { fail "ra-ctl up" "$(tail -n 5 "$DEP"/log/*.log)"; exit 1; }
ra_officers
if ! pcsc_start "$T/pcsc" "$READERS" >"$T/readers.txt" 2>"$T/pcsc-start.log"; then
	fail "pcscd with $READERS virtual readers" "$(cat "$T/pcsc-start.log")"
	exit 1
fi
on_exit "pcsc_stop '$T/pcsc'"
mapfile -t RNAMES <"$T/readers.txt"
q() { sql "$DEP/ra.db" "$1"; }


# --- the killer ----------------------------------------------------------------------------
: >"$T/kills"
killer() {
	local victims=(ra-queue ra-worker-1 ra-worker-2 ca-signer ra-notifier card-station) v pid f
	while [ ! -f "$T/stop" ]; do
		sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.5 + 1.5 * r / 32767 }')"
		v=${victims[RANDOM % ${#victims[@]}]}
		case $v in
		ra-notifier) f=$T/notifier.pid ;;
		card-station) f=$T/station.pid ;;
		*) f=$DEP/run/$v.pid ;;
		esac
		pid=$(cat "$f" 2>/dev/null)
		[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || continue
		echo "$v" >>"$T/kills"
		case $v in
		ra-notifier | card-station) ;;
		*)
			# After a stall was seen, a restarted ra-queue takes the workers with it.
			if [ "$v" = ra-queue ] && [ -s "$T/stalls" ]; then
				for f in "$DEP"/run/ra-worker-*.pid; do kill "$(cat "$f")" 2>/dev/null; done
			fi
			sleep 0.3	# RestartSec
			ra-ctl up --workers 2 >>"$T/restarts.log" 2>&1
			;;
		esac
	done
}

# The stall watch: jobs wait, none finishes for CHAOS_STALL_S s, every daemon runs.
watch_stalls() {
	local last=-1 since=$SECONDS n pending
	while [ ! -f "$T/stop-watch" ]; do
		sleep 1
		n=$(q "SELECT count(*) FROM jobs WHERE state IN ('done','failed')" 2>/dev/null) || continue
		pending=$(q "SELECT count(*) FROM jobs WHERE state = 'queued'" 2>/dev/null) || continue
		if [ "$n" != "$last" ] || [ "$pending" -eq 0 ]; then
			last=$n since=$SECONDS
			continue
		fi
		[ $((SECONDS - since)) -ge "$CHAOS_STALL_S" ] || continue
		echo "$(date -u +%T) $pending job(s) queued, none finished for ${CHAOS_STALL_S}s;" \
			"last kills: $(tail -n 3 "$T/kills" | tr '\n' ' ')" >>"$T/stalls"
		for f in "$DEP"/run/ra-worker-*.pid; do kill "$(cat "$f")" 2>/dev/null; done
		sleep 1
		ra-ctl up --workers 2 >>"$T/restarts.log" 2>&1
		since=$SECONDS
	done
}

# cron: the renewal scan every 2 s (a killed run is simply followed by the next).
notifier_cron() {
	while [ ! -f "$T/stop" ]; do
		ra-notifier --now "$AHEAD" renewals >>"$T/notifier.log" 2>&1 &
		echo $! >"$T/notifier.pid"
		wait $! 2>/dev/null
		rm -f "$T/notifier.pid"
		sleep 2
	done
}

# --- the load ------------------------------------------------------------------------------
# register FILE SERIAL: key, second-key and approve one form, again after a failure once
# nothing of the form is in flight (an approval that timed out may still finish).
register() {
	local f=$1 s=$2 try
	for try in 1 2 3 4 5 6 7 8; do
		overdue && { echo "form $s: not approved by the deadline" >>"$T/overdue"; return 1; }
		register_forms clerk01 clerk02 sup01 "$f" 2>>"$T/load.log" && return 0
		wait_for 120 sql_is "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE state IN ('queued','leased') AND payload LIKE '%$s%'" 0
		case $(q "SELECT state FROM forms WHERE serial = '$s'") in approved | done) return 0 ;; esac
		echo "form $s: try $try failed, again" >>"$T/load.log"
	done
	return 1
}

# issue_sw ORDER: the order's certificates from software requests; the same request is
# the same job, so sending it again after a kill never issues twice. The producer sends
# and follows the order in the ledger, and sends again if the order is not issued in a
# minute (its job may have been refused while the queue was down).
issue_sw() {
	local o=$1 try
	# the order's own key pairs: the signer certifies a key for one subscriber only
	make_csr "sw$o-s"
	make_csr "sw$o-e"
	for try in $(seq 20); do
		overdue && break
		ra-ctl request-certs "$o" --sign-csr "$T/sw$o-s.csr" --enc-csr "$T/sw$o-e.csr" --officer op01 --passphrase-file "$OPASS" --no-wait >/dev/null 2>>"$T/load.log" &&
			wait_for 60 sql_is "$DEP/ra.db" "SELECT state FROM orders WHERE id = $o" issued && return 0
		[ "$(q "SELECT state FROM orders WHERE id = $o")" = issued ] && return 0
		sleep 1
	done
	echo "order $o: not issued" >>"$T/load.log"
	return 1
}

# The card operator: every reader holds a card; a finished card (personalized, set aside
# or skipped) is swapped for a blank one while more card orders wait than cards are
# unfinished; card-station runs whenever card orders wait. Card orders are the lowest
# approved ones, which are the ones the station claims.
declare -A card_in	# reader -> serial of its card (in the operator's subshell)
# card_last SERIAL: the station's last report of the card (any run)
card_last() { grep -E "card $1 +(personalized|FAILED|skipped)" "$T/perso.out" 2>/dev/null | tail -n 1; }
# A card reported "run again" (a claim or look-up the queue never answered: an order may
# wait for it) stays in its reader: the station tries it again, and so does its next run.
card_done() { # SERIAL: the station reported the card finished, and not "run again"
	local last
	last=$(card_last "$1")
	[ -n "$last" ] && [[ "$last" != *"run again"* ]]
}
insert_card() {
	pcsc_card_stop "$T/pcsc" "$1"
	# as an operator's hands do: the old card is out (pcscd saw it go) before the next is in
	pcsc_card_gone "$T/pcsc" "$1"
	rm -f "$T/pcsc/card-$1.state"
	pcsc_card_start "$T/pcsc" "$1" --serial "$next_card" >/dev/null
	card_in[$1]=$next_card
	echo "$next_card" >>"$T/cards"
	next_card=$((next_card + 1))
}
operate_cards() { # ORDER-LIST: until each of them is personalized
	local list=$1 waiting unfinished i pid
	next_card=$((50000000 + 1000 * round))	# a fresh range of card serials per round
	: >>"$T/perso.out"
	while [ "$(q "SELECT count(*) FROM orders WHERE id IN ($list) AND state <> 'personalized'")" -gt 0 ]; do
		if overdue; then
			{
				echo "card orders not personalized by the deadline:" \
					"$(q "SELECT group_concat(id || ' ' || state || ' card ' || ifnull(card_serial, '-'), '; ')
					FROM orders WHERE id IN ($list) AND state <> 'personalized'")"
				echo "  cards in the readers: ${card_in[*]:-none}; station pid $(cat "$T/station.pid" 2>/dev/null)"
				echo "  last station lines: $(tail -n 4 "$T/perso.out" | tr '\n' '|')"
			} >>"$T/overdue"
			return 1
		fi
		waiting=$(q "SELECT count(*) FROM orders WHERE id IN ($list) AND state = 'approved'")
		unfinished=0
		for ((i = 0; i < READERS; i++)); do
			[ -n "${card_in[$i]:-}" ] && ! card_done "${card_in[$i]}" && unfinished=$((unfinished + 1))
		done
		for ((i = 0; i < READERS && waiting > unfinished; i++)); do
			if [ -z "${card_in[$i]:-}" ] || card_done "${card_in[$i]}"; then
				insert_card "$i"
				unfinished=$((unfinished + 1))
			fi
		done
		pid=$(cat "$T/station.pid" 2>/dev/null)
		if ! { [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; } && [ "$unfinished" -gt 0 ]; then
			card-station personalize --officer op01 --passphrase-file "$OPASS" --station chaos >>"$T/perso.out" 2>>"$T/perso.log" &
			echo $! >"$T/station.pid"
			echo "station" >>"$T/station-starts"
		fi
		sleep 0.5
	done
}

: >"$T/cards"
killer &
killer_pid=$!
track $killer_pid
watch_stalls &
watch_pid=$!
track $watch_pid
notifier_cron &
cron_pid=$!
track $cron_pid

start=$SECONDS
forms=0 round=0
mkdir -p "$T/forms"
while { [ "$forms" -lt "$CHAOS_FORMS" ] || [ $((SECONDS - start)) -lt "$CHAOS_S" ]; } && ! overdue; do
	round=$((round + 1))
	$PY - "$CHAOS_ROUND" $((forms + 1)) "$T/forms" <<'PYEOF'
import random, sys
n, first, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
letters = dict(A=10, B=11, C=12, D=13, E=14, F=15, G=16, H=17, I=34, J=18, K=19, L=20, M=21,
               N=22, O=35, P=23, Q=24, R=25, S=26, T=27, U=28, V=29, W=32, X=30, Y=31, Z=33)
rnd = random.Random(first)
def national_id(k):
    letter = sorted(letters)[k % 26]
    digits = [rnd.choice([1, 2])] + [rnd.randrange(10) for _ in range(7)]
    c = letters[letter]
    s = c // 10 + (c % 10) * 9 + sum(d * w for d, w in zip(digits, range(8, 0, -1)))
    return letter + "".join(map(str, digits)) + str((10 - s % 10) % 10)
for k in range(first, first + n):
    with open(f"{out}/chaos-{k:05d}.yaml", "w") as f:
        f.write(f"""serial: C2026-{k:06d}
applicant_type: person
name: 壓力測試{k:05d}
national_id: {national_id(k)}
email: chaos{k:05d}@example.com
phone: "02-2345-{k % 10000:04d}"
postal_code: "100"
address: 臺北市中正區重慶南路一段{k}號
documents_seen: [national_id_card]
terms_version: "2026.1"
language: zh-TW
""")
PYEOF
	# Four clerks at a time (beside the killer, the stall watch and cron).
	for ((k = forms + 1; k <= forms + CHAOS_ROUND; k++)); do
		while [ "$(jobs -rp | wc -l)" -ge 7 ]; do sleep 0.1; done
		{ register "$(printf '%s/forms/chaos-%05d.yaml' "$T" "$k")" "$(printf 'C2026-%06d' "$k")" || echo "$k" >>"$T/broken"; } &
	done
	for p in $(jobs -p); do
		case $p in "$killer_pid" | "$cron_pid" | "$watch_pid") ;; *) wait "$p" ;; esac
	done
	orders=$(q "SELECT o.id FROM orders o WHERE o.form_serial BETWEEN '$(printf 'C2026-%06d' $((forms + 1)))'
		AND '$(printf 'C2026-%06d' $((forms + CHAOS_ROUND)))' ORDER BY o.id")
	forms=$((forms + CHAOS_ROUND))
	card_orders=$(echo "$orders" | head -n "$CHAOS_CARDS" | paste -sd, -)
	sw_orders=$(echo "$orders" | tail -n +$((CHAOS_CARDS + 1)))
	[ -n "$card_orders" ] && { operate_cards "$card_orders" & }
	# Four requests at a time (beside the killer, the stall watch, cron and the operator).
	for o in $sw_orders; do
		while [ "$(jobs -rp | wc -l)" -ge 8 ]; do sleep 0.1; done
		issue_sw "$o" &
	done
	for p in $(jobs -p); do
		case $p in "$killer_pid" | "$cron_pid" | "$watch_pid") ;; *) wait "$p" ;; esac
	done
	echo "# round $round: $forms forms, $(wc -l <"$T/kills") kills so far"
done

# --- the end: stop the chaos, let everything settle ------------------------------------------
touch "$T/stop"
wait "$killer_pid" "$cron_pid" 2>/dev/null
ra-ctl up --workers 2 >>"$T/restarts.log" 2>&1
ra_quiet "$DEP" 180 || fail "jobs settle after the chaos" "$(q "SELECT id, kind, state FROM jobs WHERE state IN ('queued','leased') LIMIT 5")"
touch "$T/stop-watch"
# The last cron run, undisturbed: every notice due is sent.
ra-notifier --now "$AHEAD" renewals >>"$T/notifier.log" 2>&1 || fail "last notifier run" "$(tail -n 3 "$T/notifier.log")"

if [ -s "$T/overdue" ]; then
	fail "chaos: the load finished within ${CHAOS_LIMIT_S}s" "$(head -c 1500 "$T/overdue" | tr '\n' ' ')"
	q "SELECT id, kind, state, attempts, substr(ifnull(error, ''), 1, 120) FROM jobs WHERE state <> 'done' ORDER BY id DESC LIMIT 10" | sed 's/^/#   /'
else
	ok "chaos: the load finished within ${CHAOS_LIMIT_S}s"
fi
broken_load=$(cat "$T/broken" 2>/dev/null | wc -l)
[ "$broken_load" -eq 0 ] && ok "chaos: every form of the load went through" || fail "chaos: load" "$broken_load form(s) never approved (see load.log)"
if [ -s "$T/stalls" ]; then
	fail "chaos: the workers went on without being restarted" "$(wc -l <"$T/stalls") stall(s): $(head -n 1 "$T/stalls")"
else
	ok "chaos: no stall (jobs always went on after each restart)"
fi
# Every start of ca-signer but the first followed a kill: a signer that died by itself
# (its sandbox killed it once for a temporary file) came back only with the next kill.
starts=$(grep -c 'ca-signer ready' "$DEP/log/ca-signer.log")
skills=$(grep -c '^ca-signer$' "$T/kills")
[ "$starts" -le $((skills + 1)) ] && ok "chaos: ca-signer died only when killed ($starts starts, $skills kills)" ||
	fail "chaos: ca-signer died by itself" "$starts starts for $skills kills; $(grep -ciE 'SIGSYS|killed' "$DEP/log/ca-signer.log") sandbox lines"
out=$(q "SELECT 'certificate ' || c.serial || ' has no renewal notice' FROM certificates c WHERE c.status = 'valid'
	AND NOT EXISTS (SELECT 1 FROM notice_certificates n WHERE n.serial = c.serial)" | head -n 3)
[ -z "$out" ] && ok "chaos: every valid certificate has its renewal notice" || fail "chaos: renewal notices" "$out"
INV_NOTIFIER_KILLS=$(grep -c '^ra-notifier$' "$T/kills") INV_NOTIFIER_INFLIGHT=$SMTP_CONNECTIONS ra_invariants "$DEP" "$T/smtp/maildir"

echo "# chaos: $forms forms in $round round(s), $((SECONDS - start)) s of load"
echo "# kills: $(wc -l <"$T/kills") in all; $(sort "$T/kills" | uniq -c | awk '{ printf "%s %s, ", $2, $1 }' | sed 's/, $//')"
echo "# jobs: $(q "SELECT count(*) FROM jobs") ($(q "SELECT group_concat(n, ', ') FROM (SELECT kind || ' ' || count(*) AS n FROM jobs GROUP BY kind)")); $(q "SELECT count(*) FROM jobs WHERE attempts > 1") took more than one attempt"
echo "# certificates: $(q "SELECT count(*) FROM certificates") ($(q "SELECT count(*) FROM certificates WHERE status = 'revoked'") revoked with their set-aside cards)"
echo "# cards: $(wc -l <"$T/cards") inserted, $(q "SELECT count(*) FROM orders WHERE state = 'personalized'") personalized, $(grep -E ' FAILED' "$T/perso.out" 2>/dev/null | grep -vc 'run again') set aside, $(grep -c 'FAILED.*run again' "$T/perso.out" 2>/dev/null) report(s) to run a card again; station started $(wc -l <"$T/station-starts" 2>/dev/null || echo 0) times"
echo "# notices: $(q "SELECT count(*) FROM notices WHERE state = 'sent'") sent, $(find "$T/smtp/maildir/new" -type f | wc -l) mails received"

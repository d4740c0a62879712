#!/bin/bash
# Several SMTP connections at once (notifier.smtp_connections) keep the ledger's
# once-only rule: 200 notices over 4 connections arrive exactly once each; a run killed
# with SIGKILL half way leaves at most 4 notices attempted and not marked sent (those in
# flight), and the rerun sends every notice, resending only some of those in flight, each
# with its first Message-ID.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
N=200
C=4
cd "$T"

notifier_ledger $N $C || { fail "notifier ledger set up"; exit 1; }

# verdict: "subscribers S duplicates D samemid M missing X" from the maildir; the
# Message-IDs of the duplicated notices go to dup.mids
verdict() {
	$PY - sink/maildir $N <<'PYEOF'
import collections, email, email.policy, glob, sys
n = int(sys.argv[2])
per = collections.defaultdict(list)
for f in glob.glob(sys.argv[1] + '/new/*'):
    m = email.message_from_binary_file(open(f, 'rb'), policy=email.policy.default)
    per[m['X-RcptTo']].append(m['Message-ID'])
missing = [i for i in range(1, n + 1) if f'user{i}@example.org' not in per]
extra = {k: v for k, v in per.items() if len(v) > 1}
same = {k: v for k, v in extra.items() if len(set(v)) == 1}
with open('dup.mids', 'w') as out:
    for v in extra.values():
        out.write(v[0].strip('<>') + '\n')
print('subscribers', len(per), 'duplicates', len(extra), 'samemid', len(same), 'missing', len(missing))
PYEOF
}

# 1. A whole run over several connections.
if ra-notifier -c ra.yaml --now 2026-12-15 renewals 2>run1.log; then ok "run over $C connections exits 0"; else fail "run over $C connections exits 0" "$(tail -3 run1.log)"; fi
v=$(verdict)
[ "$v" = "subscribers $N duplicates 0 samemid 0 missing 0" ] && ok "every notice arrived exactly once" \
	|| fail "every notice arrived exactly once" "$v"
st=$(sqlite3 ra.db "SELECT count(*) FROM notices WHERE state = 'sent' AND attempts = 1 AND smtp_reply LIKE '250%'")
[ "$st" = $N ] && ok "ledger: all $N sent at the first attempt with the relay's reply" || fail "ledger: all $N sent" "$st"
k=$(sed -n 's/.*accepted over \([0-9]*\) connection(s).*/\1/p' run1.log)
[ -n "$k" ] && [ "$k" -ge 2 ] && [ "$k" -le $C ] && ok "several connections used, never more than $C ($k)" \
	|| fail "several connections used, never more than $C" "$(grep 'accepted over' run1.log)"

# 2. Killed half way: what is attempted and not marked sent is what was in flight.
cp fresh.db ra.db
rm -f ra.db-wal ra.db-shm sink/maildir/new/*
ra-notifier -c ra.yaml --now 2026-12-15 renewals 2>run2.log &
pid=$!
while kill -0 $pid 2>/dev/null; do
	c=$(sqlite3 ra.db "SELECT count(*) FROM notices WHERE state = 'sent'" 2>/dev/null)
	[ "${c:-0}" -ge $((N / 2)) ] || continue
	kill -KILL $pid
	break
done
wait $pid 2>/dev/null
sleep 0.2	# let the relay finish filing what it was handed
before=$(ls sink/maildir/new | wc -l)
if [ "$before" -gt 0 ] && [ "$before" -lt "$N" ]; then ok "killed half way ($before of $N delivered)"; else fail "killed half way" "$before delivered"; fi
sqlite3 ra.db "SELECT message_id FROM notices WHERE state = 'pending' AND attempts > 0" | sort >flight.mids
f=$(wc -l <flight.mids)
[ "$f" -le $C ] && ok "at most $C notices in flight at the crash ($f)" || fail "at most $C notices in flight at the crash" "$f"
sent=$(sqlite3 ra.db "SELECT count(*) FROM notices WHERE state = 'sent'")
pend=$(sqlite3 ra.db "SELECT count(*) FROM notices WHERE state = 'pending'")
[ $((sent + pend)) = $N ] && ok "every notice was in the ledger before the crash ($sent sent, $pend pending)" \
	|| fail "every notice was in the ledger before the crash" "$sent sent, $pend pending"
if ra-notifier -c ra.yaml --now 2026-12-15 renewals 2>run3.log; then ok "rerun exits 0"; else fail "rerun exits 0" "$(tail -3 run3.log)"; fi
v=$(verdict)
d=$(sed -n 's/.* duplicates \([0-9]*\) .*/\1/p' <<<"$v")
[ "$v" = "subscribers $N duplicates $d samemid $d missing 0" ] && [ "$d" -le "$f" ] \
	&& ok "every notice arrived; resent only $d of the $f in flight, with the same Message-ID" \
	|| fail "every notice arrived, resending at most those in flight" "$v; in flight: $f"
extra=$(sort dup.mids | comm -23 - flight.mids | wc -l)
[ "$extra" = 0 ] && ok "no notice marked sent was sent again" || fail "no notice marked sent was sent again" "$(sort dup.mids | comm -23 - flight.mids)"
st=$(sqlite3 ra.db "SELECT count(*) FROM notices WHERE state = 'sent'")
[ "$st" = $N ] && ok "ledger: all $N sent" || fail "ledger: all $N sent" "$st"

# --- the relay down: a few connections fail, the run stops, the rest wait -------------------
# Every notice trying (and, behind a firewall that drops, each waiting a whole connection
# timeout) would make a cron run of thousands last hours; after a few failed connections
# in a row the rest are left for the next run, their attempts uncounted.
sqlite3 ra.db "DELETE FROM notice_certificates; DELETE FROM notices;"
rm -f sink/maildir/new/*
port=$(sed -n 's|^ *smtp_url: smtp://127.0.0.1:\([0-9]*\)$|\1|p' ra.yaml)
closed=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -i "s|smtp://127.0.0.1:$port|smtp://127.0.0.1:$closed|" ra.yaml
ra-notifier -c ra.yaml --now 2026-12-15 renewals 2>down.log && fail "relay down: the run fails" || ok "relay down: the run fails"
tried=$(sqlite3 ra.db "SELECT count(*) FROM notices WHERE attempts > 0")
pend=$(sqlite3 ra.db "SELECT count(*) FROM notices WHERE state = 'pending'")
[ "$pend" = $N ] && [ "$tried" -le $((C + 3)) ] \
	&& ok "relay down: the run stops after $tried failed connections; all $N notices wait" \
	|| fail "relay down: the run stops trying" "$tried tried, $pend pending"
grep -q "could not be reached [0-9]* times in a row: $((N - tried)) notice(s) left for the next run" down.log \
	&& ok "relay down: the log says how many notices wait for the next run" || fail "relay down: message" "$(grep -v ' info: ' down.log | tail -3)"
sed -i "s|smtp://127.0.0.1:$closed|smtp://127.0.0.1:$port|" ra.yaml
# the next day's run (the few tried wait for notifier.retry_days, 1 day)
ra-notifier -c ra.yaml --now 2026-12-16 renewals 2>up.log && ok "relay back: the next run succeeds" || fail "relay back" "$(tail -3 up.log)"
v=$(verdict)
[ "$v" = "subscribers $N duplicates 0 samemid 0 missing 0" ] && ok "relay back: every notice arrives once" || fail "relay back: notices" "$v"
exit 0

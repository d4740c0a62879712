# invariants.sh: what must hold in a deployment after any crash, kill or restore.
# Sourced after lib.sh by the chaos test and the backup drill; the deployment's daemons
# may run, but nothing may be in flight (wait for ra_quiet first).
#
#   ra_quiet DEP SECONDS        wait until no job is queued or leased; 0/1
#   ra_invariants DEP [MAILDIR] one "ok"/"not ok" line per invariant, then a summary line
#                               "# invariants: N checked, N broken"; returns the broken count
#
# The invariants:
#   1. every approved registration form has one subscriber, one card order, and that
#      order is issued or personalized with exactly one valid signature and one valid
#      encryption certificate; any other certificate of the order is revoked;
#   2. signer.db and ra.db know the same certificates, each with the same status;
#   3. no serial twice (either ledger, any case);
#   4. no job failed, leased or queued;
#   5. each card holds at most one personalized order, and every certificate issued for a
#      card that does not hold its order now (a card set aside) is revoked;
#   6. with MAILDIR: every notice is sent and its mail received once: its Message-ID is
#      in the maildir, and a repeat (the notifier killed between the relay's answer and
#      its record) carries the same Message-ID, at most as many per kill as the notifier
#      has mails in flight (INV_NOTIFIER_KILLS × INV_NOTIFIER_INFLIGHT, its SMTP
#      connections: each sends one mail at a time);
#   7. `ra-ctl audit verify` finds the audit chain intact.
# Each failing line names what is wrong (the first rows), so a failure can be read from
# the log alone.

_inv_checked=0
_inv_broken=0
_inv() { # NAME RESULT-IS-EMPTY-OUTPUT...
	local n=$1 out=$2
	_inv_checked=$((_inv_checked + 1))
	if [ -z "$out" ]; then
		ok "invariant: $n"
	else
		_inv_broken=$((_inv_broken + 1))
		fail "invariant: $n" "$(printf '%s' "$out" | head -n 5 | tr '\n' ';')"
	fi
}

ra_quiet() {
	local dep=$1 s=$2
	wait_for "$s" sql_is "$dep/ra.db" "SELECT count(*) FROM jobs WHERE state IN ('queued','leased')" 0
}

ra_invariants() {
	local dep=$1 maildir=${2:-} db=$1/ra.db sdb=$1/signer/signer.db out
	_inv_checked=0
	_inv_broken=0
	local q="sqlite3 -batch -noheader $db"
	if ! [ -f "$db" ] || ! $q "SELECT count(*) FROM jobs" >/dev/null 2>&1; then
		_inv "ra.db readable" "cannot read $db"
		echo "# invariants: $_inv_checked checked, $_inv_broken broken"
		return "$_inv_broken"
	fi

	out=$($q "
		SELECT 'form ' || f.serial || ': ' || count(DISTINCT s.id) || ' subscriber(s), ' || count(DISTINCT o.id) || ' order(s)'
		  FROM forms f LEFT JOIN subscribers s ON s.form_serial = f.serial
		  LEFT JOIN orders o ON o.subscriber_id = s.id AND o.purpose = 'new'
		 WHERE f.kind = 'registration' AND f.state IN ('approved','done')
		 GROUP BY f.serial HAVING count(DISTINCT s.id) <> 1 OR count(DISTINCT o.id) <> 1;")
	_inv "one subscriber and one order per approved form" "$out"
	out=$($q "
		SELECT 'order ' || o.id || ' (' || o.state || '): ' ||
		       (SELECT count(*) FROM certificates c WHERE c.order_id = o.id AND c.status <> 'revoked' AND c.usage = 'signature') || ' signature, ' ||
		       (SELECT count(*) FROM certificates c WHERE c.order_id = o.id AND c.status <> 'revoked' AND c.usage = 'encryption') || ' encryption'
		  FROM orders o WHERE o.purpose = 'new' AND (o.state NOT IN ('issued','personalized')
		    OR (SELECT count(*) FROM certificates c WHERE c.order_id = o.id AND c.status <> 'revoked' AND c.usage = 'signature') <> 1
		    OR (SELECT count(*) FROM certificates c WHERE c.order_id = o.id AND c.status <> 'revoked' AND c.usage = 'encryption') <> 1);")
	_inv "two certificates (signature, encryption) per order, the rest revoked" "$out"

	if [ -f "$sdb" ]; then
		out=$($q "ATTACH '$sdb' AS s;
			SELECT 'only in signer.db: ' || serial || ' (' || status || ')' FROM s.certs WHERE serial NOT IN (SELECT serial FROM main.certificates)
			UNION ALL
			SELECT 'only in ra.db: ' || serial || ' (' || status || ')' FROM main.certificates WHERE serial NOT IN (SELECT serial FROM s.certs)
			UNION ALL
			SELECT 'status differs: ' || c.serial || ' ra.db ' || c.status || ', signer.db ' || x.status
			  FROM main.certificates c JOIN s.certs x ON x.serial = c.serial WHERE x.status <> c.status;")
		_inv "signer.db and ra.db agree certificate by certificate" "$out"
		out=$($q "ATTACH '$sdb' AS s;
			SELECT 'ra.db serial twice: ' || lower(serial) FROM main.certificates GROUP BY lower(serial) HAVING count(*) > 1
			UNION ALL
			SELECT 'signer.db serial twice: ' || lower(serial) FROM s.certs GROUP BY lower(serial) HAVING count(*) > 1;")
		_inv "no duplicate serial" "$out"
	else
		_inv "signer.db readable" "no $sdb"
	fi

	out=$($q "SELECT 'job ' || id || ' (' || kind || ') ' || state || coalesce(': ' || error, '')
		FROM jobs WHERE state <> 'done' ORDER BY id;")
	_inv "no job left failed, leased or queued" "$out"

	out=$($q "
		SELECT 'card ' || card_serial || ' holds ' || count(*) || ' personalized orders'
		  FROM orders WHERE state = 'personalized' GROUP BY card_serial HAVING count(*) > 1
		UNION ALL
		SELECT 'order ' || o.id || ': personalized without a card' FROM orders o
		 WHERE o.state = 'personalized' AND o.card_serial IS NULL
		UNION ALL
		SELECT 'certificate ' || c.serial || ' of card ' || json_extract(j.payload, '$.card_serial') ||
		       ' (order ' || c.order_id || ', now ' || coalesce(o.card_serial, 'no card') || ') is ' || c.status
		  FROM certificates c JOIN jobs j ON j.id = c.job_id JOIN orders o ON o.id = c.order_id
		 WHERE json_extract(j.payload, '$.card_serial') IS NOT NULL
		   AND o.card_serial IS NOT json_extract(j.payload, '$.card_serial') AND c.status <> 'revoked';")
	_inv "each card personalized once or set aside with its certificates revoked" "$out"

	if [ -n "$maildir" ]; then
		local ids=$T/inv-msgids
		# Message-IDs of the received mails, one per mail (a repeat shows twice).
		cat "$maildir"/new/* 2>/dev/null | sed -n 's/^[Mm]essage-[Ii][Dd]: *<\{0,1\}\([^>]*\)>\{0,1\}.*/\1/p' | sort >"$ids"
		out=$($q "SELECT 'notice ' || id || ' (' || kind || ') is ' || state FROM notices WHERE state <> 'sent';")
		out+=$($q "SELECT message_id FROM notices WHERE state = 'sent' ORDER BY message_id;" |
			while read -r m; do grep -qxF "$m" "$ids" || echo "notice mail $m never received"; done)
		# A notifier killed after the relay took a mail and before its reply was recorded
		# sends that mail again with the same Message-ID (the reader's mail program keeps
		# one): on each of its connections one mail can be in that window, so at most
		# INV_NOTIFIER_INFLIGHT repeats per kill of the notifier (INV_NOTIFIER_KILLS).
		local repeats most=$((${INV_NOTIFIER_KILLS:-0} * ${INV_NOTIFIER_INFLIGHT:-1}))
		repeats=$($q "SELECT message_id FROM notices;" | sort | comm -12 - <(uniq -d "$ids") | wc -l)
		[ "$repeats" -le "$most" ] ||
			out+="$repeats notices received twice (same Message-ID), more than the $most in flight at the ${INV_NOTIFIER_KILLS:-0} kills of the notifier"
		_inv "every notice sent exactly once (distinct Message-IDs; $repeats repeated after a kill)" "$out"
	fi

	out=$(ra-ctl -c "$dep/ra.yaml" audit verify 2>&1) && out=
	_inv "ra-ctl audit verify: chain intact" "$out"
	echo "# invariants: $_inv_checked checked, $_inv_broken broken"
	return "$_inv_broken"
}

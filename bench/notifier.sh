#!/bin/bash
# ra-notifier's speed (issue 6), run by `make bench`, never by `make test`:
#  1. the daily renewal scan (`ra-notifier renewals --dry-run`): wall time and peak
#     memory on a ra.db of 100,000 and then 1,000,000 certificates whose expiry dates are
#     spread over a year. The scan is a range search on the not_after index, so its cost
#     follows the certificates inside the window, not the table: measured with the
#     real 30-day window (which holds 10 times more at 10 times the size) and with a
#     window holding the same ~8,200 certificates at both sizes (the flatness check);
#     beside it, the same query made to read the whole table (NOT INDEXED), as the
#     baseline an index must beat;
#  2. notices per second delivered to a local SMTP server by one `ra-notifier renewals`
#     run (ledger rows, composition, reused SMTP connections: one, then
#     BENCH_CONNECTIONS (default 8) at once, notifier.smtp_connections), beside the `curl`
#     command-line tool sending the same messages one process per message, measured in
#     the same run, as a ratio; once against aiosmtpd (the tests' sink, the bottleneck;
#     it does not offer PIPELINING) and once against smtp-fast (tests/fixtures/smtp-fast,
#     a minimal C receiver that offers it). Each notifier run also prints its own CPU
#     time (user + system) per notice;
#  3. the same into smtp-fast as if it were across a network: through
#     tests/fixtures/delay-proxy.py, which holds every packet BENCH_RTT_MS / 2 each way
#     (default 20 ms round trip), BENCH_RTT_MAILS notices (default 400) over one and over
#     BENCH_CONNECTIONS connections, beside curl (BENCH_RTT_CURL messages, default 20).
# Figures and how to read them: docs/PERFORMANCE.md. Nothing here asserts on
# time. Sizes can be lowered for a quick look: BENCH_CERTS=200000 BENCH_MAILS=1000;
# BENCH_SCAN=0 leaves out part 1.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
export PATH="$BUILD/bin:$PATH"
SINK=$top/tests/fixtures/smtp-sink.sh
BIG=${BENCH_CERTS:-1000000}
SMALL=$((BIG / 10))
MAILS=${BENCH_MAILS:-5000}
CURL_N=${BENCH_CURL:-1000}
CONNS=${BENCH_CONNECTIONS:-8}
RTT_MS=${BENCH_RTT_MS:-20}
RTT_MAILS=${BENCH_RTT_MAILS:-400}
RTT_CURL=${BENCH_RTT_CURL:-20}
T=$(mktemp -d /tmp/ra-bench-notifier.XXXXXX)

# Officers for the bench: the administrator from init and the ones a run needs, all under
# one throw-away passphrase (a bench has no people to type one).
OPASS=$T/officer.pass
printf 'bench officer passphrase\n' > "$OPASS"
officers() { local o; for o in "$@"; do ra-ctl officer add "${o%%:*}" --role "${o##*:}" --officer admin \
	--passphrase-file "$OPASS" --new-passphrase-file "$OPASS" >/dev/null || exit 1; done; }
# The sinks' maildirs live in memory when they can: on ext4, creating the first few
# thousand files of a fresh folder costs the sink more than the notifier spends per
# message, and the figure is meant to be the notifier's.
M=$(mktemp -d /dev/shm/ra-bench-mail.XXXXXX 2>/dev/null || mktemp -d "$T/mail.XXXXXX")
trap '$SINK stop "$T/sink" >/dev/null 2>&1; [ -z "${fast:-}" ] || kill "$fast" 2>/dev/null
	[ -z "${proxy:-}" ] || kill "$proxy" 2>/dev/null; rm -rf "$T" "$M"' EXIT

[ -x /usr/bin/time ] || { echo "bench/notifier.sh: /usr/bin/time is missing (make deps installs it)" >&2; exit 1; }
NOW=2026-06-01
now_s=$(date -u -d "$NOW" +%s)

# fill DB FROM TO: subscribers FROM..TO (one account, a signature and an encryption
# certificate each, so two certificates per subscriber), in one transaction. Expiry
# dates are spread evenly over the year after NOW by a multiplicative hash of the id,
# so any slice of ids covers the whole year. The PEM column is filled with 1,100 bytes,
# the size of a real certificate, so a table scan pays what it would in production.
fill() {
	sqlite3 -batch "$1" <<SQL
PRAGMA synchronous = OFF;
BEGIN;
INSERT OR IGNORE INTO jobs (id, kind, payload, state, created_at, updated_at)
  VALUES (1, 'issue', '{}', 'done', 0, 0);
WITH RECURSIVE k(i) AS (SELECT $2 UNION ALL SELECT i + 1 FROM k WHERE i < $3)
INSERT INTO subscribers (id, form_serial, applicant_type, name, id_number, email,
    postal_code, address, language, created_at)
SELECT i, 'B' || i, 'person', '測試' || i || '號', 'A1' || printf('%08d', i),
  'bench' || i || '@example.org', printf('%03d', 100 + i % 900),
  '臺北市中正區重慶南路一段' || i || '號', CASE WHEN i % 4 THEN 'zh-TW' ELSE 'en' END, 0 FROM k;
INSERT INTO accounts (id, subscriber_id, pw_hash, created_at, updated_at)
  SELECT 'u' || printf('%08d', id), id, 'x', 0, 0 FROM subscribers WHERE id BETWEEN $2 AND $3;
INSERT INTO certificates (serial, subscriber_id, usage, subject, not_before, not_after,
    status, request_id, job_id, pem, created_at)
SELECT printf('%016x', id * 2 + u), id, CASE u WHEN 0 THEN 'signature' ELSE 'encryption' END,
  'CN=測試' || id || '號', $now_s - 86400 * 365 + (id * 2654435761) % 31536000,
  $now_s + (id * 2654435761) % 31536000, 'valid', 'r' || (id * 2 + u), 1,
  printf('%.1100c', 'M'), 0
FROM subscribers, (SELECT 0 AS u UNION ALL SELECT 1) WHERE id BETWEEN $2 AND $3;
COMMIT;
SQL
}

# scan LABEL CONFIG [COMMAND]: one dry run (renewals by default); prints the number of
# certificates it lists, wall time, time per listed certificate and peak memory.
scan() {
	local out=$T/scan.out t0 t1 secs kib due
	t0=$(date +%s%N)
	/usr/bin/time -f '%M' -o "$T/time" ra-notifier -c "$2" --now "$NOW" "${3:-renewals}" --dry-run \
		>"$out" 2>"$T/scan.err" || { cat "$T/scan.err" >&2; return 1; }
	t1=$(date +%s%N)
	kib=$(tail -n 1 "$T/time")
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
	due=$(grep -cvE '^[0-9]+ notice' "$out" || true)
	printf '  %-44s %7d listed %8.3f s %8.1f µs each %7d KiB peak\n' "$1" "$due" "$secs" \
		"$(awk -v s="$secs" -v d="$due" 'BEGIN { print d ? s * 1e6 / d : 0 }')" "$kib"
}

# due_sql: the scan's statement, read from notifier/renewals.c so the baseline runs the
# very query the notifier runs.
due_sql() {
	sed -n '/^static const char due_sql/,/;$/p' "$top/notifier/renewals.c" |
		sed -e '1d' -e 's/^ *"//' -e 's/" *;* *$//' -e 's/\\"/"/g' | tr -d '\n'
}

# tablescan DB DAYS: the scan's query made to read the whole table (NOT INDEXED), run by
# sqlite3 with the window of DAYS; prints its wall time in seconds.
tablescan() {
	local sql t0 t1
	sql=$(due_sql | sed -e 's/INDEXED BY certificates_expiry/NOT INDEXED/' \
		-e "s/?1/$now_s/g" -e "s/?2/$((now_s + $2 * 86400))/g" -e "s/?3/'renewal'/g")
	t0=$(date +%s%N)
	sqlite3 -batch "$1" "SELECT count(*) FROM ($sql);" >/dev/null
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}

# elapsed T0: seconds since T0 (from date +%s%N).
elapsed() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

if [ "${BENCH_SCAN:-1}" != 0 ]; then
echo "1. daily renewal scan, ra-notifier renewals --dry-run --now $NOW (expiries spread over a year)"
dep=$T/dep
ra-ctl init "$dep" --passphrase-file "$OPASS" >/dev/null
cfg=$dep/ra.yaml
printf 'notifier:\n  templates_dir: %s/config/templates\n' "$top" >>"$cfg"
narrow=$dep/narrow.yaml	# a window a tenth as long: the same due count at ten times the size
sed -e 's/^notifier:$/notifier:\n  notice_days: 3/' "$cfg" >"$narrow"

t0=$(date +%s%N)
fill "$dep/ra.db" 1 $((SMALL / 2))
echo "  $SMALL certificates inserted in $(elapsed "$t0") s (one transaction, sqlite3)"
ra-notifier -c "$cfg" --now "$NOW" renewals --dry-run >/dev/null	# warm the page cache
scan "$SMALL certificates, 30-day window" "$cfg"
ts_small=$(tablescan "$dep/ra.db" 30)
t0=$(date +%s%N)
fill "$dep/ra.db" $((SMALL / 2 + 1)) $((BIG / 2))
echo "  $((BIG - SMALL)) more inserted in $(elapsed "$t0") s (one transaction); ra.db: $(( $(stat -c %s "$dep/ra.db") / 1048576 )) MiB"
ra-notifier -c "$cfg" --now "$NOW" renewals --dry-run >/dev/null
scan "$BIG certificates, 30-day window" "$cfg"
scan "$BIG certificates, 3-day window (same count)" "$narrow"
ts_big=$(tablescan "$dep/ra.db" 30)
ts_narrow=$(tablescan "$dep/ra.db" 3)
sqlite3 -batch "$dep/ra.db" "EXPLAIN QUERY PLAN $(due_sql)" | grep -m1 'certificates_expiry' |
	sed 's/^[^A-Z]*/  query plan: /'
echo "  baseline, the same query NOT INDEXED (sqlite3): 30-day window $ts_small s at $SMALL and $ts_big s at $BIG;"
echo "    3-day window $ts_narrow s at $BIG certificates (a table scan pays for the table, not the window)"
echo "  for comparison, the status scan (ra-notifier notices --dry-run) at $BIG certificates:"
scan "$BIG certificates, status changes" "$cfg" notices
rm -rf "$dep"
echo
fi

echo "2. notices per second delivered to a local SMTP server, beside curl (one process per message)"
mdep=$T/mail
ra-ctl init "$mdep" --passphrase-file "$OPASS" >/dev/null
printf 'notifier:\n  templates_dir: %s/config/templates\n  admin_address: ""\n' "$top" >>"$mdep/ra.yaml"
fill "$mdep/ra.db" 1 "$MAILS"
# every certificate of the $MAILS subscribers inside the window: one notice each
sqlite3 "$mdep/ra.db" "UPDATE certificates SET not_after = $now_s + 86400 * 10"
cp "$mdep/ra.db" "$T/pristine.db"
# The same messages as .eml files, for curl: the notifier's outbox mode (no smtp_url).
ra-notifier -c "$mdep/ra.yaml" --now "$NOW" renewals >/dev/null 2>&1
mapfile -t emls < <(find "$mdep/outbox" -name '*.eml' | sort | head -n "$CURL_N")

# notify NAME PORT MAILDIR CONNECTIONS: one ra-notifier run to smtp://127.0.0.1:PORT from a
# fresh copy of the database ($PRISTINE) over CONNECTIONS connections at once; sets rate.
PRISTINE=$T/pristine.db
notify() {
	local name=$1 port=$2 maildir=$3 c=$4 t0 ms sent got used kib cpu_us
	cp "$PRISTINE" "$mdep/ra.db"
	rm -f "$mdep/ra.db-wal" "$mdep/ra.db-shm"
	sed -e '/^  smtp_/d' -e "s|^notifier:$|notifier:\n  smtp_url: smtp://127.0.0.1:$port\n  smtp_starttls: false\n  smtp_connections: $c|" \
		"$mdep/ra.yaml" >"$mdep/send.yaml"
	t0=$(date +%s%N)
	/usr/bin/time -f '%M %U %S' -o "$T/time" ra-notifier -c "$mdep/send.yaml" --now "$NOW" renewals \
		>/dev/null 2>"$T/send.log" || { tail -n 3 "$T/send.log" >&2; return 1; }
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	sent=$(sqlite3 "$mdep/ra.db" "SELECT count(*) FROM notices WHERE state = 'sent'")
	got=$(find "$maildir/new" -type f | wc -l)
	used=$(sed -n 's/.*accepted over \([0-9]*\) connection(s).*/\1/p' "$T/send.log")
	rate=$(( sent * 1000 / ms ))
	read -r kib cpu_us <<<"$(tail -n 1 "$T/time" | awk -v n="$sent" '{ printf "%d %.0f", $1, n ? ($2 + $3) * 1e6 / n : 0 }')"
	echo "  $name: ra-notifier sent $sent notices in $ms ms = $rate/s over ${used:-?} connection(s) (smtp_connections $c)," \
		"each attempt committed before it is sent and marked after ($got in the maildir, $kib KiB peak," \
		"notifier CPU $cpu_us µs per notice)"
	find "$maildir/new" -type f -delete
}

# send NAME PORT MAILDIR [CURL_N]: ra-notifier over one connection, then over $CONNS at
# once, then curl with the first CURL_N (default $CURL_N) of the same messages; ratios
# against curl.
send() {
	local name=$1 port=$2 maildir=$3 t0 ms got rate rate1 crate f rcpt
	local emls=("${emls[@]:0:${4:-$CURL_N}}")
	notify "$name" "$port" "$maildir" 1 || return 1
	rate1=$rate
	notify "$name" "$port" "$maildir" "$CONNS" || return 1
	t0=$(date +%s%N)
	for f in "${emls[@]}"; do
		rcpt=$(sed -n -e '/^$/q' -e 's/^To:.*<\(.*\)>.*/\1/p' "$f")
		curl -s "smtp://127.0.0.1:$port" --mail-from ra@ra.example.gov.tw --mail-rcpt "$rcpt" \
			--upload-file "$f" || echo "curl failed for $f" >&2
	done
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	got=$(find "$maildir/new" -type f | wc -l)
	crate=$(( ${#emls[@]} * 1000 / ms ))
	echo "  $name: curl sent ${#emls[@]} of the same messages in $ms ms = $crate/s, one process each ($got in the maildir)"
	awk -v a="$rate1" -v m="$rate" -v b="$crate" -v n="$name" -v c="$CONNS" \
		'BEGIN { printf "  %s: ratio ra-notifier / curl = %.1f over one connection, %.1f over %d\n", n, a / b, m / b, c }'
	find "$maildir/new" -type f -delete
}

echo "  (maildirs in $(df --output=fstype "$M" | tail -n 1) at $M)"
port=$($SINK start "$T/sink" --maildir "$M/aiosmtpd")
send "aiosmtpd (Python, the tests' sink)" "$port" "$M/aiosmtpd"
$SINK stop "$T/sink"
smtp-fast "$M/fast" "$T/fast.port" 2>"$T/fast.log" &
fast=$!
wait_port=0
for _ in $(seq 50); do [ -s "$T/fast.port" ] && { wait_port=1; break; }; sleep 0.1; done
[ "$wait_port" = 1 ] || { echo "smtp-fast did not start: $(cat "$T/fast.log")" >&2; exit 1; }
send "smtp-fast (C fixture)" "$(cat "$T/fast.port")" "$M/fast"

echo
echo "3. the same into smtp-fast across a simulated network (${RTT_MS} ms round trip, tests/fixtures/delay-proxy.py)"
# only the first $RTT_MAILS subscribers due: a round trip per step makes each notice cost tens of ms
cp "$T/pristine.db" "$T/rtt.db"
sqlite3 "$T/rtt.db" "UPDATE certificates SET not_after = $now_s + 86400 * 200 WHERE subscriber_id > $RTT_MAILS"
/usr/bin/python3 "$top/tests/fixtures/delay-proxy.py" "$T/proxy.port" "$(cat "$T/fast.port")" $((RTT_MS / 2)) 2>"$T/proxy.log" &
proxy=$!
for _ in $(seq 50); do [ -s "$T/proxy.port" ] && break; sleep 0.1; done
[ -s "$T/proxy.port" ] || { echo "delay-proxy did not start: $(cat "$T/proxy.log")" >&2; exit 1; }
PRISTINE=$T/rtt.db
send "smtp-fast, ${RTT_MS} ms away" "$(cat "$T/proxy.port")" "$M/fast" "$RTT_CURL"
kill "$proxy" "$fast"
proxy="" fast=""

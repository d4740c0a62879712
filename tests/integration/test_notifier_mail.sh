#!/bin/bash
# ra-notifier renewals through a real SMTP server (aiosmtpd on 127.0.0.1), plain and with
# STARTTLS: the received mails parsed with Python's email package (decoded subject, body,
# recipients, HTML alternative); renewed certificates left out; a relay that is down gives
# a clear failure, and the next run sends every notice exactly once. Then a relay that
# offers PIPELINING (smtp-fast, and smtp-fault.py refusing or dropping pipelined commands).
. "$(dirname "$0")/lib.sh"
SINK=$RA_TOP/tests/fixtures/smtp-sink.sh
PY=/usr/bin/python3
cd "$T"

# config FILE [extra yaml lines for the notifier section]
config() {
	local f=$1; shift
	{
		echo "home: $T"
		echo "queue:"
		echo "  db: ra.db"
		echo "notifier:"
		echo "  templates_dir: $RA_TOP/config/templates"
		echo "  from: \"憑證註冊中心 <ra@ra.example.gov.tw>\""
		echo "  admin_address: admin@ra.example.gov.tw"
		for l in "$@"; do echo "  $l"; done
	} >"$f"
}

# seed N: N subscribers (odd: zh-TW, even: en), each with a signature and an encryption
# certificate expiring 2027-01-10; subscriber 2 has already renewed.
seed() {
	sqlite3 ra.db <<SQL
INSERT INTO jobs (id, kind, payload, state, created_at, updated_at) VALUES (1, 'issue', '{}', 'done', 0, 0);
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $1)
INSERT INTO subscribers (id, form_serial, applicant_type, name, id_number, email, postal_code, address, language, created_at)
SELECT i, 'F' || i, 'person', CASE WHEN i % 2 THEN '王小明' || i ELSE 'Alice "A" Chen ' || i END,
  'A1' || printf('%08d', i), 'user' || i || '@example.org', printf('%03d', 100 + (37 * i) % 900),
  '臺北市大安區羅斯福路四段' || i || '號', CASE WHEN i % 2 THEN 'zh-TW' ELSE 'en' END, 0 FROM k;
INSERT INTO accounts (id, subscriber_id, pw_hash, created_at, updated_at)
  SELECT 'u' || printf('%07d', id), id, 'x', 0, 0 FROM subscribers;
INSERT INTO certificates (serial, subscriber_id, usage, subject, not_before, not_after, status, request_id, job_id, pem, created_at)
  SELECT printf('%016x', id * 2), id, 'signature', 'CN=x', 0, strftime('%s', '2027-01-10'), 'valid', printf('r%d', id * 2), 1, '', 0 FROM subscribers
  UNION ALL
  SELECT printf('%016x', id * 2 + 1), id, 'encryption', 'CN=x', 0, strftime('%s', '2027-01-10'), 'valid', printf('r%d', id * 2 + 1), 1, '', 0 FROM subscribers;
INSERT INTO certificates (serial, subscriber_id, usage, subject, not_before, not_after, status, request_id, job_id, pem, created_at)
  SELECT 'feed' || usage, 2, usage, 'CN=x', 0, strftime('%s', '2028-01-05'), 'valid', 'renewed-' || usage, 1, '', 0
  FROM (SELECT 'signature' AS usage UNION ALL SELECT 'encryption');
SQL
}

# mails MAILDIR: one line per received message:
#   rcpt <TAB> decoded subject <TAB> decoded To <TAB> content type <TAB> html? <TAB> message-id <TAB> first body line
mails() {
	$PY - "$1" <<'PYEOF'
import email, email.policy, glob, os, sys
for f in sorted(glob.glob(os.path.join(sys.argv[1], 'new', '*'))):
    m = email.message_from_binary_file(open(f, 'rb'), policy=email.policy.default)
    body = m.get_body(('plain',))
    html = m.get_body(('html',))
    text = body.get_content() if body else ''
    first = [l for l in text.splitlines() if l.strip()][:1]
    print('\t'.join([m['X-RcptTo'], str(m['Subject']), str(m['To']), m.get_content_type(),
                     'html' if html else '-', m['Message-ID'], first[0] if first else '',
                     'defects' if m.defects else 'clean']))
    sys.stdout.flush()
PYEOF
}

mkdir sinkp sinkt
port=$($SINK start "$T/sinkp") && on_exit "$SINK stop $T/sinkp"
config plain.yaml "smtp_url: smtp://127.0.0.1:$port" "smtp_starttls: false"
check "schema created" ra-notifier -c plain.yaml --check
ra-notifier -c plain.yaml renewals --now 2026-01-01 >/dev/null 2>&1	# creates ra.db
seed 4

# dry run: lists, sends nothing, records nothing
out=$(ra-notifier -c plain.yaml --now 2026-12-15 renewals --dry-run 2>>log)
if echo "$out" | grep -q "3 notice(s) would be sent" && [ "$(sqlite3 ra.db 'SELECT count(*) FROM notices')" = 0 ]; then
	ok "dry run lists 3 notices and records none"
else
	fail "dry run lists 3 notices and records none" "$out"
fi

# plain SMTP
if ra-notifier -c plain.yaml --now 2026-12-15 renewals 2>>log; then ok "renewals exit 0 when all sent"; else fail "renewals exit 0 when all sent"; fi
mails sinkp/maildir >plain.txt
n=$(grep -vc '^admin@' plain.txt)
[ "$n" = 3 ] && ok "one mail per due subscriber (3; the renewed one left out)" || fail "one mail per due subscriber" "got $n: $(cat plain.txt)"
grep -q '^admin@ra.example.gov.tw	Notifier summary 2026-12-15: 3 sent, 0 failed, 0 undeliverable' plain.txt \
	&& ok "summary mail to the admin" || fail "summary mail to the admin" "$(cat plain.txt)"
$PY - sinkp/maildir <<'PYEOF' && ok "summary lists each notice sent, with its recipient and the relay's reply" || fail "summary lists each notice sent"
import email, email.policy, glob, sys
for f in glob.glob(sys.argv[1] + '/new/*'):
    m = email.message_from_binary_file(open(f, 'rb'), policy=email.policy.default)
    if m['X-RcptTo'] != 'admin@ra.example.gov.tw' or '2026-12-15' not in m['Subject']:
        continue
    t = m.get_body(('plain',)).get_content()
    sent = [l for l in t.splitlines() if l.startswith('sent: notice ')]
    assert len(sent) == 3, t
    for u in ('user1', 'user3', 'user4'):
        assert any(u + '@example.org: 250' in l for l in sent), t
    sys.exit(0)
sys.exit(1)
PYEOF
grep -q "^user1@example.org	憑證展期通知	王小明1 <user1@example.org>	multipart/alternative	html	" plain.txt \
	&& ok "zh-TW subject and display name decode (RFC 2047)" || fail "zh-TW subject and display name decode" "$(grep user1 plain.txt)"
grep -q "^user4@example.org	Certificate renewal notice	\"Alice \\\\\"A\\\\\" Chen 4\" <user4@example.org>	multipart/alternative	html	.*	Dear Alice \"A\" Chen 4," plain.txt \
	&& ok "en template, quoted display name, text body decodes" || fail "en template, quoted display name" "$(grep user4 plain.txt)"
grep -q "user2@example.org" plain.txt && fail "renewed subscriber left out" || ok "renewed subscriber left out"
grep -q "defects" plain.txt && fail "mails parse without defects" "$(grep defects plain.txt)" || ok "mails parse without defects"
$PY - sinkp/maildir <<'PYEOF' && ok "body lists both certificates; HTML escapes; Date and Message-ID set" || fail "body lists both certificates"
import email, email.policy, glob, sys
for f in glob.glob(sys.argv[1] + '/new/*'):
    m = email.message_from_binary_file(open(f, 'rb'), policy=email.policy.default)
    if m['X-RcptTo'] != 'user3@example.org':
        continue
    t = m.get_body(('plain',)).get_content()
    h = m.get_body(('html',)).get_content()
    assert '簽章憑證　序號 0000000000000006' in t and '加密憑證　序號 0000000000000007' in t, t
    assert 'u0000003' in t and 'u0000003' in h
    # what the manual says: steps, website, deadline, contact details (from configuration)
    for part in (t, h):
        assert '展期期限：請於 2027-01-10 前完成展期' in part, part
        assert '憑證展期' in part and 'https://ra.example.gov.tw' in part, part
        assert '(02) 2345-6789' in part and '週一至週五 08:30–17:30' in part, part
    assert m['Date'] and m['Date'].datetime.year == 2026
    assert m['Message-ID'].startswith('<notice-')
    sys.exit(0)
sys.exit(1)
PYEOF
st=$(sqlite3 ra.db "SELECT count(*) FROM notices WHERE state = 'sent' AND smtp_reply LIKE '250%'")
[ "$st" = 3 ] && ok "ledger: 3 sent with the relay's 250 reply" || fail "ledger records the relay's reply" "$(sqlite3 ra.db 'SELECT * FROM notices')"
ra-notifier -c plain.yaml --now 2026-12-16 renewals 2>>log
n=$(mails sinkp/maildir | grep -vc '^admin@')
[ "$n" = 3 ] && ok "second run sends nothing again" || fail "second run sends nothing again" "$n mails"

# second notice 7 days before expiry, for the certificates whose first notice went out
config plain2.yaml "smtp_url: smtp://127.0.0.1:$port" "smtp_starttls: false" "second_notice_days: 7"
ra-notifier -c plain2.yaml --now 2027-01-04 renewals 2>>log
n=$(sqlite3 ra.db "SELECT count(*) FROM notices WHERE kind = 'renewal2' AND state = 'sent'")
[ "$n" = 3 ] && ok "second notice sent once per subscriber" || fail "second notice" "$n"

# STARTTLS
port_t=$($SINK start "$T/sinkt" --tls) && on_exit "$SINK stop $T/sinkt"
sqlite3 ra.db "DELETE FROM notice_certificates; DELETE FROM notices;"
config tls.yaml "smtp_url: smtp://127.0.0.1:$port_t" "smtp_starttls: true" "smtp_cainfo: $T/sinkt/cert.pem" "smtp_connections: 1"
config tls_nocheck.yaml "smtp_url: smtp://127.0.0.1:$port_t" "smtp_starttls: false"
if ra-notifier -c tls.yaml --now 2026-12-15 renewals 2>>log; then ok "renewals over STARTTLS"; else fail "renewals over STARTTLS" "$(tail -3 log)"; fi
n=$(mails sinkt/maildir | grep -vc '^admin@')
[ "$n" = 3 ] && ok "3 mails through the TLS relay" || fail "3 mails through the TLS relay" "$n"
grep -q "4 message(s) accepted over 1 connection(s)" log && ok "one connection (one TLS handshake) for all messages of a run (smtp_connections: 1)" \
	|| fail "one connection for all messages of a run" "$(grep 'accepted over' log)"
check "testmail over STARTTLS" ra-notifier -c tls.yaml testmail ops@example.org
mails sinkt/maildir | grep -q "^ops@example.org	ra-notifier 測試郵件 test message" && ok "test mail received" || fail "test mail received"
check_fails "a relay requiring STARTTLS refuses plain text" ra-notifier -c tls_nocheck.yaml testmail ops@example.org
# implicit TLS (smtps://): the relay's certificate checked as for STARTTLS
mkdir -p sinks
port_s=$($SINK start "$T/sinks" --smtps) && on_exit "$SINK stop $T/sinks"
config smtps.yaml "smtp_url: smtps://127.0.0.1:$port_s" "smtp_starttls: false" "smtp_cainfo: $T/sinks/cert.pem"
config smtps_badca.yaml "smtp_url: smtps://127.0.0.1:$port_s" "smtp_starttls: false" "smtp_cainfo: $T/sinkt/cert.pem"
check "testmail over smtps:// (implicit TLS)" ra-notifier -c smtps.yaml testmail ops@example.org
mails sinks/maildir | grep -q "^ops@example.org	ra-notifier 測試郵件 test message" && ok "smtps: test mail received" || fail "smtps: test mail received"
check_fails "smtps: a relay certificate from another CA is refused" ra-notifier -c smtps_badca.yaml testmail ops@example.org
config tls_badca.yaml "smtp_url: smtp://127.0.0.1:$port_t" "smtp_starttls: true" "smtp_cainfo: $T/sinkp/nonexistent.pem"
check_fails "an unverifiable relay certificate is refused" ra-notifier -c tls_badca.yaml testmail ops@example.org

# SMTP AUTH (over STARTTLS); the password comes from a file and is never logged
mkdir sinka
port_a=$($SINK start "$T/sinka" --auth "ra-mailer:S3cret-relay-pw") && on_exit "$SINK stop $T/sinka"
printf 'S3cret-relay-pw\n' >relay.pass
printf 'wrong-pw\n' >wrong.pass
config auth.yaml "smtp_url: smtp://127.0.0.1:$port_a" "smtp_starttls: true" "smtp_cainfo: $T/sinka/cert.pem" \
	"smtp_user: ra-mailer" "smtp_password_file: $T/relay.pass"
config authbad.yaml "smtp_url: smtp://127.0.0.1:$port_a" "smtp_starttls: true" "smtp_cainfo: $T/sinka/cert.pem" \
	"smtp_user: ra-mailer" "smtp_password_file: $T/wrong.pass"
config authnone.yaml "smtp_url: smtp://127.0.0.1:$port_a" "smtp_starttls: true" "smtp_cainfo: $T/sinka/cert.pem"
RA_LOG_LEVEL=debug ra-notifier -c auth.yaml testmail ops@example.org >auth.out 2>auth.log \
	&& grep -q "^250" auth.out && ok "SMTP AUTH with the password file" || fail "SMTP AUTH with the password file" "$(cat auth.log)"
ra-notifier -c authbad.yaml testmail ops@example.org >/dev/null 2>>auth.log; rc=$?
[ "$rc" != 0 ] && ok "SMTP AUTH: a wrong password is refused" || fail "SMTP AUTH: a wrong password is refused"
check_fails "SMTP AUTH: no credentials, no mail" ra-notifier -c authnone.yaml testmail ops@example.org
[ "$(ls sinka/maildir/new | wc -l)" = 1 ] && ok "SMTP AUTH: only the authenticated mail arrived" || fail "SMTP AUTH: only the authenticated mail arrived"
grep -q -e S3cret-relay-pw -e "$(printf '\0ra-mailer\0S3cret-relay-pw' | base64)" auth.log log \
	&& fail "the relay password is never logged" || ok "the relay password is never logged"

# relay down: clear failure, retry next run, each notice exactly once
sqlite3 ra.db "DELETE FROM notice_certificates; DELETE FROM notices;"
mkdir sinkd
port_d=$($SINK start "$T/sinkd")
$SINK stop "$T/sinkd"
rm -rf sinkd/maildir
config down.yaml "smtp_url: smtp://127.0.0.1:$port_d" "smtp_starttls: false" "retry_days: 1"
ra-notifier -c down.yaml --now 2026-12-15 renewals 2>down.log; rc=$?
[ "$rc" = 1 ] && ok "relay down: exit status 1" || fail "relay down: exit status 1" "rc=$rc"
grep -q "not sent: .*Couldn.t connect to server" down.log && ok "relay down: the log says why" || fail "relay down: the log says why" "$(cat down.log)"
st=$(sqlite3 ra.db "SELECT group_concat(state || '/' || attempts) FROM notices")
[ "$st" = "pending/1,pending/1,pending/1" ] && ok "relay down: notices stay pending" || fail "relay down: notices stay pending" "$st"
ra-notifier -c down.yaml --now 2026-12-15T12:00:00Z renewals 2>>log
st=$(sqlite3 ra.db "SELECT sum(attempts) FROM notices")
[ "$st" = 3 ] && ok "relay down: no retry before retry_days" || fail "relay down: no retry before retry_days" "$st attempts"
port_d2=$($SINK start "$T/sinkd")
on_exit "$SINK stop $T/sinkd"
config down.yaml "smtp_url: smtp://127.0.0.1:$port_d2" "smtp_starttls: false" "retry_days: 1"
if ra-notifier -c down.yaml --now 2026-12-16T01:00:00Z renewals 2>>log; then ok "relay back: rerun exits 0"; else fail "relay back: rerun exits 0"; fi
ra-notifier -c down.yaml --now 2026-12-17T01:00:00Z renewals 2>>log
got=$(mails sinkd/maildir | grep -v '^admin@' | cut -f1 | sort | uniq -c | awk '{print $1 "x" $2}' | tr '\n' ' ')
[ "$got" = "1xuser1@example.org 1xuser3@example.org 1xuser4@example.org " ] \
	&& ok "relay back: every notice sent exactly once" || fail "relay back: every notice sent exactly once" "$got"

# undeliverable after N days
sqlite3 ra.db "DELETE FROM notice_certificates; DELETE FROM notices;"
config dead.yaml "smtp_url: smtp://127.0.0.1:$port_d" "smtp_starttls: false" "retry_days: 1" "undeliverable_after_days: 3" "admin_address: \"\""
$SINK stop "$T/sinkd"
for d in 2026-12-15 2026-12-16 2026-12-18 2026-12-22; do ra-notifier -c dead.yaml --now $d renewals 2>>dead.log; done
st=$(sqlite3 ra.db "SELECT group_concat(DISTINCT state) FROM notices")
[ "$st" = undeliverable ] && ok "undeliverable after undeliverable_after_days" || fail "undeliverable after undeliverable_after_days" "$st"
grep -q "is undeliverable" dead.log && ok "undeliverable notices are reported" || fail "undeliverable notices are reported"
# A relay that offers PIPELINING (RFC 2920; the C sink smtp-fast): the envelope and DATA
# go out together, each notice arrives once, the mails parse as before.
sqlite3 ra.db "DELETE FROM notice_certificates; DELETE FROM notices;"
mkdir -p sinkf
smtp-fast "$T/sinkf/maildir" "$T/sinkf/port" 2>sinkf/log &
track $!
wait_for 10 test -s sinkf/port || fail "smtp-fast started" "$(cat sinkf/log)"
config pipe.yaml "smtp_url: smtp://127.0.0.1:$(cat sinkf/port)" "smtp_starttls: false" "smtp_connections: 2"
echo "log_level: debug" >>pipe.yaml
ra-notifier -c pipe.yaml --now 2026-12-15 renewals 2>pipe.log \
	&& ok "pipelining relay: renewals exit 0" || fail "pipelining relay: renewals exit 0" "$(tail -3 pipe.log)"
grep -q "offers PIPELINING" pipe.log && ok "pipelining relay: PIPELINING seen and used" || fail "pipelining relay: PIPELINING seen" "$(grep 'mail:' pipe.log)"
got=$(mails sinkf/maildir | cut -f1 | sort | uniq -c | awk '{print $1 "x" $2}' | tr '\n' ' ')
[ "$got" = "1xadmin@ra.example.gov.tw 1xuser1@example.org 1xuser3@example.org 1xuser4@example.org " ] \
	&& ok "pipelining relay: every notice (and the summary) arrived once" || fail "pipelining relay: every notice once" "$got"
mails sinkf/maildir | grep -q "defects" && fail "pipelining relay: mails parse without defects" || ok "pipelining relay: mails parse without defects"
st=$(sqlite3 ra.db "SELECT count(*) FROM notices WHERE state = 'sent' AND smtp_reply LIKE '250%'")
[ "$st" = 3 ] && ok "pipelining relay: ledger has the relay's 250 for each" || fail "pipelining relay: ledger" "$(sqlite3 ra.db 'SELECT id, state, smtp_reply FROM notices')"

# The same relay failures as tests/integration/test_faults.sh section 4, pipelined, and a
# relay that never answers the message (smtp_timeout_s 1, so 4 s per message): a refusal
# anywhere in the group, a dropped connection or the silence leaves every notice pending
# with the reason, and nothing is delivered.
for mode in tempfail permfail drop stall; do
	sqlite3 ra.db "DELETE FROM notice_certificates; DELETE FROM notices;"
	rm -f fault.port
	$PY "$RA_TOP/tests/fixtures/smtp-fault.py" fault.port $mode pipelining 2>fault-$mode.log &
	fpid=$!
	track $fpid
	wait_for 10 test -s fault.port || fail "fault relay ($mode) started"
	config fault.yaml "smtp_url: smtp://127.0.0.1:$(cat fault.port)" "smtp_starttls: false" "smtp_connections: 2" \
		"smtp_timeout_s: 1" "admin_address: \"\""
	ra-notifier -c fault.yaml --now 2026-12-15 renewals 2>fault-$mode.out; rc=$?
	case $mode in tempfail) want="refused MAIL FROM: 451" ;; permfail) want="refused RCPT TO: 550" ;; drop) want="closed the connection" ;;
		stall) want="did not answer the message within 4 s" ;; esac
	st=$(sqlite3 ra.db "SELECT group_concat(state || '/' || attempts) FROM notices")
	[ "$rc" = 1 ] && [ "$st" = "pending/1,pending/1,pending/1" ] && ok "pipelined, relay $mode: the run fails, every notice pending" \
		|| fail "pipelined, relay $mode: every notice pending" "rc=$rc $st"
	n=$(sqlite3 ra.db "SELECT count(*) FROM notices WHERE smtp_reply LIKE '%$want%'")
	[ "$n" = 3 ] && ok "pipelined, relay $mode: the ledger gives the relay's answer ($want)" \
		|| fail "pipelined, relay $mode: ledger" "$(sqlite3 ra.db 'SELECT smtp_reply FROM notices')"
	kill $fpid
	wait $fpid 2>/dev/null
done
exit 0

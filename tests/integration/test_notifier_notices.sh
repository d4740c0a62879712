#!/bin/bash
# ra-notifier notices: revocation, suspension and resume confirmations, written to the
# outbox folder (no SMTP relay configured) as .eml files that Python's email package
# parses; each status change mailed once; the renewal scan bound to the not_after index.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
cd "$T"

cat >ra.yaml <<YAML
home: $T
queue:
  db: ra.db
notifier:
  templates_dir: $RA_TOP/config/templates
  from: "憑證註冊中心 <ra@ra.example.gov.tw>"
  admin_address: admin@ra.example.gov.tw
  outbox: outbox
YAML
ra-notifier -c ra.yaml --now 2026-01-01 renewals >/dev/null 2>&1	# creates ra.db
sqlite3 ra.db <<'SQL'
INSERT INTO jobs (id, kind, payload, state, created_at, updated_at) VALUES (1, 'issue', '{}', 'done', 0, 0);
INSERT INTO subscribers (id, form_serial, applicant_type, name, id_number, email, postal_code, address, language, created_at) VALUES
 (1, 'F1', 'person', '王小明', 'A123456789', 'ming@example.org', '40041', '臺中市', 'zh-TW', 0),
 (2, 'F2', 'person', 'Bob <b> Lee', 'B123456789', 'bob@example.org', '10617', '臺北市', 'en', 0),
 (3, 'F3', 'person', '陳大文', 'C123456780', 'wen@example.org', '80052', '高雄市', 'zh-TW', 0);
INSERT INTO accounts (id, subscriber_id, pw_hash, created_at, updated_at) SELECT 'acct' || id, id, 'x', 0, 0 FROM subscribers;
INSERT INTO certificates (serial, subscriber_id, usage, subject, not_before, not_after, status, request_id, job_id, pem, created_at)
  SELECT printf('%016x', id * 2), id, 'signature', 'CN=x', 0, strftime('%s', '2027-06-01'), 'valid', printf('r%d', id * 2), 1, '', 0 FROM subscribers
  UNION ALL
  SELECT printf('%016x', id * 2 + 1), id, 'encryption', 'CN=x', 0, strftime('%s', '2027-06-01'), 'valid', printf('r%d', id * 2 + 1), 1, '', 0 FROM subscribers;
-- an expired certificate revoked long ago is no news
INSERT INTO certificates VALUES ('dead', 3, NULL, 'signature', 'CN=x', 0, strftime('%s', '2025-06-01'), 'revoked', NULL, 'rdead', 1, '', 0);
SQL

# mails: "rcpt <TAB> subject <TAB> first line of the body" for each .eml, oldest first
mails() {
	$PY - outbox <<'PYEOF'
import email, email.policy, glob, os, sys
files = sorted(glob.glob(sys.argv[1] + '/notice-*.eml'), key=lambda f: int(os.path.basename(f).split('-')[1].split('.')[0]))
for f in files:
    m = email.message_from_binary_file(open(f, 'rb'), policy=email.policy.default)
    t = m.get_body(('plain',)).get_content()
    lines = [l for l in t.splitlines() if l.strip()]
    print('\t'.join([m['To'].addresses[0].addr_spec, str(m['Subject']), lines[1], 'defects' if m.defects else 'clean']))
PYEOF
}

check "nothing changed: notices exits 0" ra-notifier -c ra.yaml --now 2026-12-01 notices
[ -z "$(ls outbox/notice-* 2>/dev/null)" ] && ok "nothing changed: no mail" || fail "nothing changed: no mail"

sqlite3 ra.db "UPDATE certificates SET status = 'held' WHERE subscriber_id = 1; UPDATE certificates SET status = 'revoked' WHERE subscriber_id = 2;"
out=$(ra-notifier -c ra.yaml --now 2026-12-02 notices --dry-run 2>/dev/null)
[ "$(echo "$out" | grep -c .)" = 4 ] && [ -z "$(ls outbox/notice-* 2>/dev/null)" ] \
	&& ok "dry run lists the 4 changed certificates, sends nothing" || fail "dry run" "$out"
check "notices exits 0" ra-notifier -c ra.yaml --now 2026-12-02 notices
mails >m1.txt
[ "$(wc -l <m1.txt)" = 2 ] && ok "one mail per subscriber and event (outbox .eml)" || fail "one mail per subscriber and event" "$(cat m1.txt)"
grep -q "^ming@example.org	憑證停用通知（帳號 acct1）	您的下列憑證已於 2026-12-02 停用" m1.txt \
	&& ok "suspension confirmation (zh-TW)" || fail "suspension confirmation" "$(cat m1.txt)"
grep -q "^bob@example.org	Your certificates have been revoked (account acct2)	The following certificates were revoked on 2026-12-02" m1.txt \
	&& ok "revocation confirmation (en)" || fail "revocation confirmation" "$(cat m1.txt)"
grep -q defects m1.txt && fail "mails parse cleanly" || ok "mails parse cleanly"
$PY - outbox <<'PYEOF' && ok "HTML part escapes the subscriber's name" || fail "HTML part escapes the subscriber's name"
import email, email.policy, glob, sys
for f in glob.glob(sys.argv[1] + '/notice-*.eml'):
    m = email.message_from_binary_file(open(f, 'rb'), policy=email.policy.default)
    if 'bob@' in str(m['To']):
        h = m.get_body(('html',)).get_content()
        sys.exit(0 if 'Bob &lt;b&gt; Lee' in h and '<b> Lee' not in h else 1)
sys.exit(1)
PYEOF

check "rerun exits 0" ra-notifier -c ra.yaml --now 2026-12-03 notices
[ "$(mails | wc -l)" = 2 ] && ok "each change mailed once" || fail "each change mailed once"

sqlite3 ra.db "UPDATE certificates SET status = 'valid' WHERE subscriber_id = 1;"
ra-notifier -c ra.yaml --now 2026-12-04 notices 2>/dev/null
sqlite3 ra.db "UPDATE certificates SET status = 'held' WHERE subscriber_id = 1;"
ra-notifier -c ra.yaml --now 2026-12-05 notices 2>/dev/null
mails | tail -2 | cut -f1,2 >m2.txt
printf 'ming@example.org\t憑證復用通知（帳號 acct1）\nming@example.org\t憑證停用通知（帳號 acct1）\n' >m2.want
cmp -s m2.txt m2.want && ok "resume, then a second suspension, each confirmed" || fail "resume, then a second suspension" "$(cat m2.txt)"
[ "$(ls outbox/*.eml | grep -vc notice-)" -ge 1 ] && ok "summary to the admin written to the outbox" || fail "summary to the admin"

# a suspension lifted before the notifier runs is still confirmed, then its resume
sqlite3 ra.db "UPDATE certificates SET status = 'valid' WHERE subscriber_id = 1;"
ra-notifier -c ra.yaml --now 2026-12-06 notices 2>/dev/null
sqlite3 ra.db "UPDATE certificates SET status = 'held' WHERE subscriber_id = 1; UPDATE certificates SET status = 'valid' WHERE subscriber_id = 1;"
ra-notifier -c ra.yaml --now 2026-12-07 notices 2>/dev/null
mails | tail -2 | cut -f1,2 >m3.txt
printf 'ming@example.org\t憑證停用通知（帳號 acct1）\nming@example.org\t憑證復用通知（帳號 acct1）\n' >m3.want
cmp -s m3.txt m3.want && ok "a hold lifted between two runs: both the suspension and the resume are confirmed" \
	|| fail "hold lifted between runs" "$(cat m3.txt)"
# the RA withdrawing an unfinished card is not the subscriber's news
before=$(mails | wc -l)
sqlite3 ra.db "UPDATE certificates SET status = 'revoked', reason = 'cessationOfOperation' WHERE subscriber_id = 1;"
ra-notifier -c ra.yaml --now 2026-12-08 notices 2>/dev/null
[ "$(mails | wc -l)" = "$before" ] && ok "a card withdrawn during personalization mails nothing" || fail "withdrawn card mailed"

# A ledger upgraded to the version with these confirmations: the changes made before the
# upgrade (status events, passwords set) are not mailed; the first change after it is.
mkdir -p up && sed "s|^home: .*|home: $T/up|" ra.yaml >up/ra.yaml
ra-notifier -c up/ra.yaml --now 2026-01-01 renewals >/dev/null 2>&1	# creates up/ra.db
sqlite3 up/ra.db <<'SQL'
INSERT INTO jobs (id, kind, payload, state, created_at, updated_at) VALUES (1, 'issue', '{}', 'done', 0, 0);
INSERT INTO subscribers (id, form_serial, applicant_type, name, id_number, email, postal_code, address, language, created_at) VALUES
 (1, 'F1', 'person', '王小明', 'A123456789', 'ming@example.org', '40041', '臺中市', 'zh-TW', 0);
INSERT INTO accounts (id, subscriber_id, pw_hash, created_at, updated_at) VALUES ('acct1', 1, 'x', 0, 0);
INSERT INTO certificates (serial, subscriber_id, usage, subject, not_before, not_after, status, request_id, job_id, pem, created_at)
  VALUES ('00aa', 1, 'signature', 'CN=x', 0, strftime('%s', '2027-06-01'), 'valid', 'ra', 1, '', 0),
         ('00ab', 1, 'encryption', 'CN=x', 0, strftime('%s', '2027-06-01'), 'valid', 'rb', 1, '', 0);
-- the past: a suspension and its resume, a password reset and a change
UPDATE certificates SET status = 'held';
UPDATE certificates SET status = 'valid';
INSERT INTO audit (at, actor, action, object, before, after, prev_hash, hash) VALUES
 (0, 'worker', 'account.password_set', 'account:acct1', NULL, 'reset', '', ''),
 (0, 'worker', 'account.password_set', 'account:acct1', NULL, 'change', '', '');
-- the ledger as it was before the cursors' migration (16): no cursor
DELETE FROM notifier_cursor;
PRAGMA user_version = 15;
SQL
(cd up && ra-notifier -c ra.yaml --now 2026-12-01 notices >/dev/null 2>notices.log)
[ "$(cd up && mails | wc -l)" = 0 ] && ok "an upgraded ledger: past status changes and passwords are not mailed" \
	|| fail "upgrade mails the past" "$(cd up && mails)"
sqlite3 up/ra.db "UPDATE certificates SET status = 'held';
	INSERT INTO audit (at, actor, action, object, before, after, prev_hash, hash)
	VALUES (0, 'worker', 'account.password_set', 'account:acct1', NULL, 'change', '', '');"
(cd up && ra-notifier -c ra.yaml --now 2026-12-02 notices >/dev/null 2>>notices.log)
[ "$(cd up && mails | wc -l)" = 2 ] && (cd up && mails) | grep -q "憑證停用通知" &&
	ok "an upgraded ledger: the first change after the upgrade is mailed (a suspension, a password change)" ||
	fail "upgrade: new changes" "$(cd up && mails; cat notices.log)"

# the renewal scan must stay an index range search: without its index it refuses to run
cp ra.db noindex.db
sqlite3 noindex.db "DROP INDEX certificates_expiry"
sed "s/db: ra.db/db: noindex.db/" ra.yaml >noindex.yaml
ra-notifier -c noindex.yaml --now 2027-05-10 renewals >/dev/null 2>noindex.log; rc=$?
[ "$rc" != 0 ] && grep -q "no such index: certificates_expiry" noindex.log \
	&& ok "renewal scan is bound to the not_after index (no table scan)" || fail "renewal scan is bound to the not_after index" "rc=$rc $(cat noindex.log)"

# bad input gets a clear error
ra-notifier -c ra.yaml --now yesterday renewals 2>err.log; rc=$?
[ "$rc" = 2 ] && grep -q "not a date" err.log && ok "a bad --now is a usage error" || fail "a bad --now is a usage error" "rc=$rc"
ra-notifier -c ra.yaml frobnicate 2>err.log; rc=$?
[ "$rc" = 2 ] && grep -q 'unknown command "frobnicate"' err.log && ok "an unknown command is a usage error" || fail "an unknown command is a usage error"
ra-notifier -c ra.yaml renewals --batch x 2>err.log; rc=$?
[ "$rc" = 2 ] && ok "sheet options outside sheets are refused" || fail "sheet options outside sheets are refused" "rc=$rc"
check "--help" ra-notifier --help
printf 'notifier:\n  from: "not an address"\n  pdf_password_rule: birthday\n  templates_dir: %s/none\n' "$T" >bad.yaml
ra-notifier -c bad.yaml --check 2>err.log; rc=$?
[ "$rc" = 2 ] && grep -q 'notifier.from: "not an address"' err.log && grep -q 'pdf_password_rule: "birthday"' err.log \
	&& [ "$(grep -c 'is missing' err.log)" = 12 ] && ok "--check reports every bad notifier setting at once" \
	|| fail "--check reports every bad notifier setting at once" "rc=$rc $(cat err.log)"
exit 0

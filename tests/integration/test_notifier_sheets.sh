#!/bin/bash
# ra-notifier sheets: postal batch (one PDF sorted by postal code, CSV manifest without
# secrets), counter sheets (--sheet), e-mailed sheets (AES-256 PDF through a real SMTP
# server), refusal to produce twice, audited reprint of a PIN sheet, refused reprint
# of a password sheet (a new password needs a reset form). Secrets are sealed here with an
# independent implementation of lib/seal.h's format (Python's cryptography package), so
# the notifier's seal_open is checked against a second reading of the format.
# KEEP_PNG=FILE keeps a PNG of the batch's page 1 to look at.
. "$(dirname "$0")/lib.sh"
SINK=$RA_TOP/tests/fixtures/smtp-sink.sh
PY=/usr/bin/python3
cd "$T"

mkdir -p keys sink
port=$($SINK start "$T/sink") && on_exit "$SINK stop $T/sink"
head -c 24 /dev/urandom | base64 >keys/sheets.pass
openssl genpkey -algorithm X25519 -aes-256-cbc -pass file:keys/sheets.pass -out keys/sheets.key 2>/dev/null
openssl pkey -in keys/sheets.key -passin file:keys/sheets.pass -pubout -out keys/sheets.pub
openssl genpkey -algorithm X25519 -out keys/other.key 2>/dev/null
openssl pkey -in keys/other.key -pubout -out keys/other.pub
cat >ra.yaml <<YAML
home: $T
queue:
  db: ra.db
sheets:
  public_key: keys/sheets.pub
  private_key: keys/sheets.key
  private_key_passphrase_file: keys/sheets.pass
notifier:
  templates_dir: $RA_TOP/config/templates
  from: "憑證註冊中心 <ra@ra.example.gov.tw>"
  admin_address: admin@ra.example.gov.tw
  smtp_url: smtp://127.0.0.1:$port
  smtp_starttls: false
  reprint_window_hours: 72
officers:
  ca_cert: officers/ca.pem
  credentials_dir: officers
YAML
ra-notifier -c ra.yaml --now 2026-01-01 renewals >/dev/null 2>&1	# creates ra.db
# The officers who reprint and confirm: an operator, a clerk, and "stranger" from another CA.
mkdir -p officers
printf 'officer passphrase\n' >officer.pass
printf 'not the passphrase\n' >wrong.pass
$PY "$RA_TOP/tests/fixtures/officer-make.py" officers officer.pass ra.db officer7:operator clerk9:clerk \
	|| fail "officer credentials made"
O7="--officer officer7 --passphrase-file officer.pass"
A7="officer7 (cert 7A00)"	# the actor the audit chain records: the officer proven, not a typed name

# seal_sql: lines "serial|kind|subscriber|reason|delivery|secret|pubkey" -> INSERTs
seal_sql() {
	$PY -c '
import os, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
raw = dict(encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw)
for line in sys.stdin:
    serial, kind, sub, reason, delivery, secret, pubfile = line.strip().split("|")
    pub = serialization.load_pem_public_key(open(pubfile, "rb").read())
    eph = X25519PrivateKey.generate()
    ep, rp = eph.public_key().public_bytes(**raw), pub.public_bytes(**raw)
    key = HKDF(hashes.SHA256(), 32, ep + rp, b"ra sheet seal v1").derive(eph.exchange(pub))
    nonce = os.urandom(12)
    box = b"\x01" + ep + nonce + AESGCM(key).encrypt(nonce, secret.encode(), None)
    print(f"INSERT INTO sheets (serial, kind, subscriber_id, reason, delivery, sealed, created_at) "
          f"VALUES (\x27{serial}\x27, \x27{kind}\x27, {sub}, \x27{reason}\x27, \x27{delivery}\x27, X\x27{box.hex()}\x27, 0);")
'
}

sqlite3 ra.db <<'SQL'
INSERT INTO subscribers (id, form_serial, applicant_type, name, id_number, email, postal_code, address, language, created_at) VALUES
 (1, 'F1', 'person', '王小明', 'A123456789', 'ming@example.org', '40041', '臺中市中區民權路1號', 'zh-TW', 0),
 (2, 'F2', 'person', '林美麗', 'B223456789', 'mei@example.org', '10617', '臺北市大安區羅斯福路四段1號', 'zh-TW', 0),
 (3, 'F3', 'person', '陳大文', 'C123456780', 'wen@example.org', '80052', '高雄市前金區中正四路2號', 'zh-TW', 0),
 (4, 'F4', 'person', '張志明', 'D123456781', 'chih@example.org', '30010', '新竹市東區光復路3號', 'zh-TW', 0),
 (5, 'F5', 'person', 'Alice Chen', 'E223456782', 'alice@example.org', '11049', '臺北市信義區市府路45號', 'en', 0),
 (6, 'F6', 'person', '黃小華', 'F123456783', 'hua@example.org', '20241', '基隆市中正區義一路4號', 'zh-TW', 0);
INSERT INTO accounts (id, subscriber_id, pw_hash, created_at, updated_at)
  SELECT 'acct' || printf('%04d', id), id, 'x', 0, 0 FROM subscribers;
SQL
seal_sql <<ROWS | sqlite3 ra.db
PW-0001|password|1|registration|post|Sec1-Ta1chung|keys/sheets.pub
PW-0002|password|2|registration|post|Sec2-Ta1pei|keys/sheets.pub
PIN-0003|pin|3|personalization|post|730194|keys/sheets.pub
PW-0004|password|4|reset|counter|Sec4-Hs1nchu|keys/sheets.pub
PW-0005|password|5|resume|electronic|Sec5-Al1ce|keys/sheets.pub
PW-0006|password|6|registration|post|Sec6-WrongKey|keys/other.pub
ROWS
SECRETS="Sec1-Ta1chung Sec2-Ta1pei 730194 Sec4-Hs1nchu Sec5-Al1ce"

ra-notifier -c ra.yaml --now 2026-11-25 sheets >run1.out 2>run1.log; rc=$?
[ "$rc" = 1 ] && ok "a sheet that does not open makes the run fail (exit 1)" || fail "a sheet that does not open makes the run fail" "rc=$rc"
grep -q "sheet PW-0006: its sealed secret does not open with the sheet key" run1.log \
	&& ok "the log names the sheet that failed" || fail "the log names the sheet that failed" "$(cat run1.log)"
[ "$(sqlite3 ra.db "SELECT state FROM sheets WHERE serial = 'PW-0006'")" = waiting ] \
	&& ok "the failed sheet stays waiting" || fail "the failed sheet stays waiting"
pdf=sheets/post-20261125.pdf
[ -f "$pdf" ] && [ "$(pdfinfo "$pdf" | awk '/^Pages:/ {print $2}')" = 3 ] \
	&& ok "one postal batch of 3 pages" || fail "one postal batch of 3 pages" "$(ls -R sheets)"
order=$(for p in 1 2 3; do pdftotext -f $p -l $p "$pdf" - | grep -oE '^[0-9]{5}$' | head -1; done | tr '\n' ' ')
[ "$order" = "10617 40041 80052 " ] && ok "pages sorted by postal code" || fail "pages sorted by postal code" "$order"
pdftotext -f 2 -l 2 "$pdf" p2.txt
if grep -q 王小明 p2.txt && grep -q 臺中市中區民權路1號 p2.txt && grep -q acct0001 p2.txt && grep -q PW-0001 p2.txt && grep -q Sec1-Ta1chung p2.txt; then
	ok "pdftotext finds name, address, account id, serial and secret"
else
	fail "pdftotext finds name, address, account id, serial and secret" "$(head -30 p2.txt)"
fi
pdftotext -f 3 -l 3 "$pdf" - | grep -q "晶片卡 PIN 碼單" && ok "PIN sheet titled as such" || fail "PIN sheet titled as such"
# (pdftotext spaces out Latin letters set in the CJK font: compare without spaces)
tr -d ' ' <p2.txt >p2-nospace.txt
grep -q "(02)2345-6789" p2-nospace.txt && grep -q "https://ra.example.gov.tw" p2-nospace.txt && grep -q "週一至週五08:30" p2-nospace.txt \
	&& ok "every sheet carries the service's phone, website and hours" || fail "contact details on the sheet" "$(tail -5 p2.txt)"
[ -n "${KEEP_PNG:-}" ] && pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$pdf" "${KEEP_PNG%.png}"
csv=sheets/post-20261125.csv
[ "$(wc -l <"$csv")" = 4 ] && head -1 "$csv" | grep -q '^page,serial,kind' && grep -q '^2,PW-0001,password,registration,post,"40041","王小明"' "$csv" \
	&& ok "CSV manifest lists page, serial, name, address" || fail "CSV manifest" "$(cat "$csv")"
st=$(sqlite3 ra.db "SELECT group_concat(serial || ':' || state || ':' || (sealed IS NULL) || ':' || coalesce(batch, '-'), ' ') FROM (SELECT * FROM sheets ORDER BY serial)")
[ "$st" = "PIN-0003:produced:1:post-20261125 PW-0001:produced:1:post-20261125 PW-0002:produced:1:post-20261125 PW-0004:waiting:0:- PW-0005:produced:1:mail-PW-0005 PW-0006:waiting:0:-" ] \
	&& ok "produced sheets have their sealed secret removed; counter sheet waits" || fail "sheet states" "$st"
n=$(sqlite3 ra.db "SELECT count(*) FROM audit WHERE action = 'sheet.produce'")
[ "$n" = 4 ] && ok "each produced sheet is in the audit chain" || fail "each produced sheet is in the audit chain" "$n"

# the e-mailed sheet
$PY - sink/maildir >mail.txt <<'PYEOF'
import email, email.policy, glob, sys
for f in glob.glob(sys.argv[1] + '/new/*'):
    m = email.message_from_binary_file(open(f, 'rb'), policy=email.policy.default)
    if m['X-RcptTo'] != 'alice@example.org':
        continue
    print(m['Subject'])
    print(m.get_body(('plain',)).get_content())
    for p in m.iter_attachments():
        print(p.get_content_type(), p.get_filename())
        open('mailed.pdf', 'wb').write(p.get_content())
PYEOF
grep -q "^website password sheet (sheet PW-0005)" mail.txt && grep -q "^application/pdf PW-0005.pdf" mail.txt \
	&& ok "sheet mailed with its PDF attached (en template)" || fail "sheet mailed with its PDF attached" "$(cat mail.txt)"
grep -q "Opening password: your national ID number" mail.txt && ok "mail states the password rule, not the password" \
	|| fail "mail states the password rule" "$(cat mail.txt)"
check_fails "encrypted PDF: qpdf --check fails without the password" qpdf --check mailed.pdf
check_fails "encrypted PDF: pdftotext fails without the password" pdftotext mailed.pdf -
check_fails "encrypted PDF: a wrong password fails" pdftotext -upw E223456781 mailed.pdf -
qpdf --password=E223456782 --show-encryption mailed.pdf 2>/dev/null | grep -q "AESv3" \
	&& ok "encrypted PDF: AES-256 (AESv3)" || fail "encrypted PDF: AES-256"
pdftotext -upw E223456782 mailed.pdf - 2>/dev/null | grep -q Sec5-Al1ce \
	&& ok "encrypted PDF opens with the national id and shows the secret" || fail "encrypted PDF opens with the national id"
check "encrypted PDF: qpdf --check passes with the password" qpdf --password=E223456782 --check mailed.pdf

# counter
ra-notifier -c ra.yaml --now 2026-11-26 sheets --sheet PW-0004 >counter.out 2>>run.log
[ -f sheets/counter/PW-0004.pdf ] && pdftotext sheets/counter/PW-0004.pdf - | grep -q Sec4-Hs1nchu \
	&& ok "counter sheet printed with --sheet" || fail "counter sheet printed with --sheet" "$(cat counter.out)"
ra-notifier -c ra.yaml --now 2026-11-26 sheets --sheet PW-0004 >/dev/null 2>twice.log; rc=$?
[ "$rc" != 0 ] && grep -q "was produced already" twice.log && ok "producing a sheet twice is refused" \
	|| fail "producing a sheet twice is refused" "rc=$rc $(cat twice.log)"
check_fails "--reprint without --officer is refused" ra-notifier -c ra.yaml sheets --sheet PW-0004 --reprint
check_fails "an unknown sheet is an error" ra-notifier -c ra.yaml sheets --sheet NOPE-1
# a password sheet is never reprinted: the officer is sent to the password-reset form
ra-notifier -c ra.yaml --now 2026-11-27 sheets --sheet PW-0002 --reprint $O7 >refused.out 2>refused.log; rc=$?
[ "$rc" != 0 ] && grep -q "sheet PW-0002 is a website password sheet" refused.log && grep -q "password-reset form for account acct0002" refused.log \
	&& ok "reprint of a password sheet is refused and names the reset form" || fail "reprint of a password sheet is refused" "rc=$rc $(cat refused.log)"
[ ! -s refused.out ] && [ ! -d sheets/reprint ] && ok "a refused reprint writes no file" || fail "a refused reprint writes no file" "$(cat refused.out; ls sheets)"
[ "$(sqlite3 ra.db "SELECT actor FROM audit WHERE action = 'sheet.reprint-refused' AND object = 'sheet:PW-0002'")" = "$A7" ] \
	&& ok "the refused reprint is audited with the officer" || fail "the refused reprint is audited with the officer"
check_fails "reprint of a counter password sheet is refused too" ra-notifier -c ra.yaml sheets --sheet PW-0004 --reprint $O7
# who asks must prove it: a typed id, a wrong passphrase, a clerk, another CA's officer
proof_refused() { # NAME WHY ARGS...: refused with WHY in its message, no file, nothing audited
	local name=$1 why=$2 before
	shift 2
	before=$(sqlite3 ra.db "SELECT count(*) FROM audit")
	ra-notifier -c ra.yaml --now 2026-11-27 sheets --sheet PIN-0003 --reprint "$@" >proof.out 2>proof.log; rc=$?
	[ "$rc" != 0 ] && grep -q "$why" proof.log && [ ! -s proof.out ] && [ ! -d sheets/reprint ] &&
		[ "$(sqlite3 ra.db "SELECT count(*) FROM audit")" = "$before" ] && ok "reprint refused: $name" ||
		fail "reprint refused: $name" "rc=$rc $(cat proof.log)"
}
proof_refused "an officer with no credential" "could not open their credential" --officer officer8 --passphrase-file officer.pass
proof_refused "a wrong passphrase" "wrong passphrase" --officer officer7 --passphrase-file wrong.pass
proof_refused "a clerk" "officer clerk9 is a clerk; this needs a supervisor or operator" --officer clerk9 --passphrase-file officer.pass
proof_refused "an officer of another CA" "credential is refused: the officer certificate is refused" --officer stranger --passphrase-file officer.pass
sqlite3 ra.db "UPDATE officers SET enabled = 0 WHERE id = 'officer7'"
proof_refused "a disabled officer" "officer officer7 is disabled" $O7
sqlite3 ra.db "UPDATE officers SET enabled = 1 WHERE id = 'officer7'"
check_fails "--printed by a clerk is refused" ra-notifier -c ra.yaml --now 2026-11-27 sheets --printed post-20261125 --officer clerk9 --passphrase-file officer.pass
# a card PIN sheet is reprinted: the PIN lives on the card, useless without it
ra-notifier -c ra.yaml --now 2026-11-27 sheets --sheet PIN-0003 --reprint $O7 >reprint.out 2>>run.log
rp=$(cat reprint.out)
if [ -f "$rp" ] && [ "$(pdfinfo "$rp" | awk '/^Pages:/ {print $2}')" = 1 ] && pdftotext "$rp" - | grep -q 730194; then
	ok "reprint of a postal PIN sheet: its page only"
else
	fail "reprint of a postal PIN sheet: its page only" "$rp"
fi
if pdftotext "$rp" - | grep -q -e Sec1-Ta1chung -e Sec2-Ta1pei; then
	fail "reprint carries no other subscriber's secret"
else
	ok "reprint carries no other subscriber's secret"
fi
[ "$(sqlite3 ra.db "SELECT actor FROM audit WHERE action = 'sheet.reprint' AND object = 'sheet:PIN-0003'")" = "$A7" ] \
	&& ok "reprint is audited with the officer" || fail "reprint is audited with the officer"

# printed secrets do not linger: a masked preview; the batch shredded once confirmed printed
ra-notifier -c ra.yaml --now 2026-11-27 sheets --preview post-20261125 >preview.out 2>>run.log
pv=$(cat preview.out)
[ "$pv" = "$T/sheets/post-20261125-preview.png" ] && file "$pv" | grep -q "PNG image data, 826 x 1169" \
	&& ok "preview: the batch's first page as PNG (drawn from the ledger, secret masked)" || fail "preview" "$pv $(file "$pv")"
[ -n "${KEEP_PNG:-}" ] && cp "$pv" "${KEEP_PNG%.png}-preview.png"
check_fails "--printed without --officer is refused" ra-notifier -c ra.yaml sheets --printed post-20261125
check_fails "--printed of an unknown batch is refused" ra-notifier -c ra.yaml sheets --printed post-19990101 $O7
pdfsize=$(stat -c %s sheets/post-20261125.pdf)
ra-notifier -c ra.yaml --now 2026-11-27 sheets --printed post-20261125 $O7 >printed.out 2>>run.log
[ ! -e sheets/post-20261125.pdf ] && [ ! -e "$pv" ] && [ -z "$(ls sheets/reprint/ 2>/dev/null)" ] && [ -f "$csv" ] \
	&& ok "confirmed printed: batch PDF, its reprint and its preview are gone; the manifest stays" || fail "shred" "$(ls -R sheets)"
[ "$(sqlite3 ra.db "SELECT actor || ' ' || after FROM audit WHERE action = 'sheet.shred' AND object = 'batch:post-20261125'")" = "$A7 3 file(s) shredded" ] \
	&& ok "the shredding is audited with the officer" || fail "shred audit" "$(sqlite3 ra.db "SELECT * FROM audit WHERE action = 'sheet.shred'")"
ra-notifier -c ra.yaml --now 2026-11-27 sheets --sheet PIN-0003 --reprint $O7 >/dev/null 2>gone.log
grep -q "print file .* is gone" gone.log && ok "no reprint once the batch is shredded" || fail "reprint after shred" "$(cat gone.log)"
# the counter sheet of 11-26: reprint refused outside the window, and its file shredded
# by the first sheets run after the window, though nobody confirmed it
ra-notifier -c ra.yaml sheets --sheet PIN-0003 --reprint $O7 --now 2026-12-01 >/dev/null 2>late.log
grep -q "reprint_window_hours" late.log && [ "$(sqlite3 ra.db "SELECT count(*) FROM audit WHERE action = 'sheet.reprint-refused' AND object = 'sheet:PIN-0003' AND after = 'outside the reprint window'")" = 1 ] \
	&& ok "a reprint outside the window is refused and audited" || fail "reprint window" "$(cat late.log)"
[ -f sheets/counter/PW-0004.pdf ] && ra-notifier -c ra.yaml --now 2026-12-01 sheets >/dev/null 2>>run.log
[ ! -e sheets/counter/PW-0004.pdf ] && [ "$(sqlite3 ra.db "SELECT actor FROM audit WHERE action = 'sheet.shred' AND object = 'batch:counter-PW-0004'")" = ra-notifier ] \
	&& ok "an unconfirmed print file is shredded after the reprint window (audited)" || fail "expiry shred" "$(ls sheets/counter)"

# no secret anywhere it should not be
leak=""
for s in $SECRETS; do
	grep -aq -- "$s" ra.db ra.db-wal 2>/dev/null && leak="$leak db:$s"
	grep -q -- "$s" run1.log run1.out run.log twice.log refused.log "$csv" && leak="$leak log/manifest:$s"
	grep -rqa -- "$s" sink/maildir && leak="$leak mail:$s"
done
[ -z "$leak" ] && ok "no secret in ra.db, logs, manifest or mails" || fail "no secret in ra.db, logs, manifest or mails" "$leak"
exit 0

#!/bin/bash
# The counter's day through the real daemons: a supervisor rejects a keyed form (a listed
# reason, not by a clerk, not by its keyer, never approved afterwards, the applicant's
# notice recorded and audited: a mail, or a letter in the postal print batch), the back
# office's refusals reach a zh-TW counter in Chinese too, the counter finds a subscriber
# by every field it knows (the card serial of a card personalized through card-station and
# pcscd), each search signed by the officer and audited (who looked up whom), and the card
# operator records the card's hand-over at the station.
. "$(dirname "$0")/lib.sh"
ra_deploy
EX=$RA_TOP/config/examples
AS=(--passphrase-file "$OPASS")
out=$T/out.txt
has() { grep -qF -- "$1" "$2"; }
# A counter whose operators read Chinese: every message in both languages.
{ sed '/^language:/d' "$DEP/ra.yaml"; echo 'language: zh-TW'; } >"$DEP/ra-zh.yaml"
ZH=(-c "$DEP/ra-zh.yaml")
audit_has() { [ "$(sql "$DEP/ra.db" "SELECT count(*) FROM audit WHERE $1")" -ge 1 ]; }

help_all() {
	ra-intake reject --help >"$out" && has "usage: ra-intake reject" "$out" && has "documents" "$out" &&
	has "所附身分證明文件與表單不符" "$out" &&
	ra-intake find --help >"$out" && has "usage: ra-intake find" "$out" && has "--national-id" "$out" &&
	ra-intake --help | grep -q "^  reject" && ra-intake --help | grep -q "^  find"
}
check "reject and find have --help" help_all

# R2026-000001 goes all the way (subscriber, account, order); R2026-000002 waits verified.
setup() {
	register_forms clerk01 clerk02 sup01 "$EX/reg-01.yaml" &&
	ra-intake import --officer clerk01 "${AS[@]}" "$EX/reg-02.yaml" >/dev/null &&
	ra-intake verify --officer clerk02 "${AS[@]}" --file "$EX/reg-02.yaml" >/dev/null &&
	ra-intake import --officer clerk01 "${AS[@]}" "$EX/reg-03.yaml" >/dev/null
}
check "one form approved, one verified, one keyed" setup

bad_usage() {
	ra-intake reject --officer sup01 "${AS[@]}" R2026-000002 >/dev/null 2>&1; [ $? -eq 2 ] || return 1
	ra-intake reject --officer sup01 "${AS[@]}" --reason nonsense R2026-000002 >"$out" 2>&1; [ $? -eq 2 ] || return 1
	has "is not a reason of the list" "$out" &&
	sql_is "$DEP/ra.db" "SELECT state FROM forms WHERE serial = 'R2026-000002'" verified
}
check "a reject without a reason, or with one not on the list, is refused at the counter" bad_usage

by_clerk() {
	ra-intake reject --officer clerk02 "${AS[@]}" --reason documents R2026-000002 >"$out" 2>&1
	[ $? -eq 1 ] && has "this needs a supervisor" "$out" &&
	sql_is "$DEP/ra.db" "SELECT state FROM forms WHERE serial = 'R2026-000002'" verified
}
check "a clerk cannot reject" by_clerk

other_needs_note() {
	ra-intake reject --officer sup01 "${AS[@]}" --reason other R2026-000002 >"$out" 2>&1
	[ $? -eq 1 ] && has "needs a note" "$out"
}
check "the reason 'other' needs a note" other_needs_note

reject_ok() {
	ra-intake "${ZH[@]}" reject --officer sup01 "${AS[@]}" --reason documents --note "ID card photo does not match" \
		R2026-000002 >"$out" 2>&1 || { cat "$out"; return 1; }
	has "R2026-000002 rejected: the documents shown do not match the form; the applicant is told by mail" "$out" &&
	has "R2026-000002 已退件：所附身分證明文件與表單不符；以電子郵件通知申請人" "$out" &&
	sql_is "$DEP/ra.db" "SELECT state FROM forms WHERE serial = 'R2026-000002'" rejected &&
	sql_is "$DEP/ra.db" "SELECT reason || '|' || note || '|' || officer || '|' || recipient || '|' || email
		|| '|' || notice_state FROM form_rejections WHERE serial = 'R2026-000002'" \
		"documents|ID card photo does not match|sup01|王俊傑|junjie.wang@example.com.tw|waiting" &&
	audit_has "action = 'form.rejected' AND object = 'form:R2026-000002' AND actor LIKE 'sup01 (cert %'
		AND before = 'verified' AND after = 'documents'"
}
check "a supervisor rejects a verified form: state, reason, whom to tell, audit" reject_ok

status_rejected() {
	ra-intake status R2026-000002 >"$out" 2>&1 && grep -qE '^state +rejected' "$out" &&
	grep -E '^rejection ' "$out" | has '"reason":"documents"' /dev/stdin
}
check "status shows the form rejected" status_rejected

never_approved() {
	ra-intake approve --officer sup01 "${AS[@]}" R2026-000002 >"$out" 2>&1
	[ $? -eq 1 ] && has "is already rejected" "$out" &&
	! sql "$DEP/ra.db" "SELECT 1 FROM subscribers WHERE form_serial = 'R2026-000002'" | grep -q 1
}
check "a rejected form cannot be approved" never_approved

# job_code KIND: the code of the last failed KIND job (kept in its result for scripts).
job_code() { sql "$DEP/ra.db" "SELECT json_extract(result, '$.code') FROM jobs WHERE kind = '$1' AND state = 'failed' ORDER BY id DESC LIMIT 1"; }
refusal_both_languages() {
	! grep -qP '[\x{4e00}-\x{9fff}]' "$out" &&	# the English counter above: English alone
	ra-intake "${ZH[@]}" approve --officer sup01 "${AS[@]}" R2026-000002 >"$out" 2>&1
	[ $? -eq 1 ] && has "R2026-000002 not approved: form R2026-000002 is already rejected" "$out" &&
	has "R2026-000002 未核准：表單 R2026-000002 已是 rejected 狀態，無法核准" "$out" &&
	[ "$(job_code form_approve)" = form_not_approvable ] &&
	ra-intake "${ZH[@]}" reject --officer sup01 "${AS[@]}" --reason incomplete R2026-000002 >"$out" 2>&1
	[ $? -eq 1 ] && has "R2026-000002 未退件：表單 R2026-000002 已是 rejected 狀態：只有等待核准的表單可以退件" "$out" &&
	[ "$(job_code form_reject)" = reject_state ]
}
check "the back office's refusals reach a zh-TW counter in Traditional Chinese too, with a stable code" refusal_both_languages

reject_again() {
	ra-intake reject --officer sup01 "${AS[@]}" --reason incomplete R2026-000002 >"$out" 2>&1
	[ $? -eq 1 ] && has "is already rejected" "$out" &&
	ra-intake reject --officer sup01 "${AS[@]}" --reason incomplete R2026-000001 >"$out" 2>&1
	[ $? -eq 1 ] && has "is already done" "$out"
}
check "a rejected or approved form cannot be rejected" reject_again

keyed_letter() {
	# A keyed form (no second keying yet) can be rejected too; with no e-mail the notice is a letter.
	sed -e '/^email:/d' "$EX/reg-03.yaml" >"$T/noemail.yaml"
	serial=R2026-000003
	ra-intake reject --officer sup01 "${AS[@]}" --reason withdrawn $serial >"$out" 2>&1 || { cat "$out"; return 1; }
	sql_is "$DEP/ra.db" "SELECT state FROM forms WHERE serial = '$serial'" rejected &&
	sql_is "$DEP/ra.db" "SELECT count(*) FROM form_rejections WHERE serial = '$serial' AND address IS NOT NULL
		AND postal_code IS NOT NULL" 1
}
check "a keyed form is rejected; the row carries the postal address" keyed_letter

told() {
	# Every form today carries an e-mail; a ledger row without one still gets a letter.
	sql "$DEP/ra.db" "UPDATE form_rejections SET email = NULL WHERE serial = 'R2026-000003'" &&
	ra-notifier notices >"$T/n1.out" 2>"$T/n1.log" || { cat "$T/n1.log"; return 1; }
	ra-notifier notices >"$T/n2.out" 2>"$T/n2.log" || { cat "$T/n2.log"; return 1; }
	# the letter waits for the postal print batch; nothing is printed outside a batch
	sql_is "$DEP/ra.db" "SELECT group_concat(serial || ':' || notice_state, ' ') FROM form_rejections ORDER BY serial" \
		"R2026-000002:sent R2026-000003:waiting" && has "wait for the next postal batch" "$T/n1.log" &&
	[ -z "$(find "$DEP/sheets" -name '*.pdf' 2>/dev/null)" ] || return 1
	[ "$(grep -rl "rejection-R2026-000002@" "$DEP" --include='*.eml' | wc -l)" -eq 1 ] || return 1
	python3 - "$(grep -rl "rejection-R2026-000002@" "$DEP" --include='*.eml')" <<'PY' || return 1
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
assert m["To"].addresses[0].addr_spec == "junjie.wang@example.com.tw", m["To"]
assert "Application form R2026-000002 not accepted" in m["Subject"], m["Subject"]
body = m.get_body(("plain",)).get_content()
assert body.index("Reason: the documents shown do not match the form") < body.index("原因：所附身分證明文件與表單不符"), body
assert "Note: ID card photo does not match" in body, body
PY
}
check "the applicant is told once: a mail in their language first; without e-mail a letter waits for the postal batch" told

# The letter is a page of the postal print batch, with the password and PIN sheets.
letter_in_batch() {
	local page pages
	ra-notifier sheets --batch post-counter1 >"$T/lb.out" 2>"$T/lb.log" || { cat "$T/lb.log"; return 1; }
	sql_is "$DEP/ra.db" "SELECT notice_state || ' ' || batch FROM form_rejections WHERE serial = 'R2026-000003'" \
		"printed post-counter1" &&
	audit_has "action = 'letter.produce' AND object = 'form:R2026-000003' AND after = 'post-counter1'" &&
	# one manifest line per page: the letter among the sheets, in postal-code order
	page=$(grep -E '^[0-9]+,R2026-000003,rejection,withdrawn,post,"407",' "$DEP/sheets/post-counter1.csv" | cut -d, -f1) &&
	[ -n "$page" ] && grep -qE '^[0-9]+,[^,]+,password,' "$DEP/sheets/post-counter1.csv" &&
	pages=$(pdfinfo "$DEP/sheets/post-counter1.pdf" | awk '/^Pages:/ { print $2 }') &&
	[ "$pages" -ge 2 ] && [ "$pages" = "$(($(wc -l <"$DEP/sheets/post-counter1.csv") - 1))" ] &&
	[ "$(tail -n +2 "$DEP/sheets/post-counter1.csv" | cut -d, -f6 | tr -d '"')" = "$(tail -n +2 "$DEP/sheets/post-counter1.csv" | cut -d, -f6 | tr -d '"' | sort)" ] &&
	# pdftotext spaces letters of proportional text apart: compare without blanks.
	pdftotext -f "$page" -l "$page" "$DEP/sheets/post-counter1.pdf" - | tr -d ' ' >"$T/letter.txt" && has "407" "$T/letter.txt" &&
	has "臺中市西屯區臺灣大道三段99號" "$T/letter.txt" && has "張家豪您好" "$T/letter.txt" &&
	has "原因：申請人撤回申請" "$T/letter.txt" && has "Reason:theapplicantwithdrewtheapplication" "$T/letter.txt" &&
	# told once: the next batch does not carry it again
	ra-notifier sheets >"$T/lb2.out" 2>"$T/lb2.log" &&
	sql_is "$DEP/ra.db" "SELECT count(*) FROM audit WHERE action = 'letter.produce'" 1 &&
	[ -z "$(find "$DEP" -name 'rejection-*.pdf')" ]
}
check "a rejection letter is a page of the postal print batch (manifest, postal-code order), told once" letter_in_batch

letter_reprint_and_shred() {
	local later
	ra-notifier sheets --sheet R2026-000003 >"$out" 2>&1; [ $? -eq 1 ] && has "needs --reprint --officer ID" "$out" &&
	ra-notifier sheets --sheet R2026-000003 --reprint --officer sup01 --passphrase-file "$OPASS" >"$out" 2>"$T/reprint.log" || { cat "$T/reprint.log"; return 1; }
	[ -f "$(cat "$out")" ] && [ "$(pdfinfo "$(cat "$out")" | awk '/^Pages:/ { print $2 }')" = 1 ] &&
	pdftotext "$(cat "$out")" - | tr -d ' ' | has "張家豪您好" /dev/stdin &&
	audit_has "action = 'letter.reprint' AND object = 'form:R2026-000003' AND actor LIKE 'sup01 (cert %)' AND before = 'post-counter1'" &&
	later=$(date -u -d '+3 days' +%Y-%m-%dT%H:%M:%SZ) &&
	RA_NOW=$later ra-notifier sheets --sheet R2026-000003 --reprint --officer sup01 --passphrase-file "$OPASS" >"$out" 2>&1; [ $? -eq 1 ] &&
	has "reprint_window_hours" "$out" && audit_has "action = 'letter.reprint-refused' AND object = 'form:R2026-000003'" &&
	ra-notifier sheets --printed post-counter1 --officer sup01 --passphrase-file "$OPASS" >"$out" 2>&1 || { cat "$out"; return 1; }
	[ ! -e "$DEP/sheets/post-counter1.pdf" ] && [ -z "$(find "$DEP/sheets/reprint" -name 'R2026-000003-*')" ] &&
	[ -e "$DEP/sheets/post-counter1.csv" ] &&
	audit_has "action = 'sheet.shred' AND object = 'batch:post-counter1' AND actor LIKE 'sup01 (cert %)'" &&
	ra-notifier sheets --sheet R2026-000003 --reprint --officer sup01 --passphrase-file "$OPASS" >"$out" 2>&1; [ $? -eq 1 ] && has "is gone" "$out"
}
check "a letter is reprinted inside the window only (audited), and shredded with its batch once printed" letter_reprint_and_shred

# A postal batch may hold rejection letters alone: its preview is the first letter.
letters_only_preview() {
	local pv
	ra-intake import --officer clerk01 "${AS[@]}" "$EX/reg-04.yaml" >"$out" 2>&1 || { cat "$out"; return 1; }
	ra-intake reject --officer sup01 "${AS[@]}" --reason withdrawn R2026-000004 >"$out" 2>&1 || { cat "$out"; return 1; }
	sql "$DEP/ra.db" "UPDATE form_rejections SET email = NULL WHERE serial = 'R2026-000004'" &&
	ra-notifier sheets --batch post-letters >"$T/lo.out" 2>"$T/lo.log" || { cat "$T/lo.log"; return 1; }
	sql_is "$DEP/ra.db" "SELECT count(*) FROM sheets WHERE batch = 'post-letters'" 0 &&
	sql_is "$DEP/ra.db" "SELECT batch FROM form_rejections WHERE serial = 'R2026-000004'" post-letters || return 1
	ra-notifier sheets --preview post-letters >"$out" 2>"$T/lo.log" || { cat "$T/lo.log" "$out"; return 1; }
	pv=$(cat "$out")
	[ "$pv" = "$DEP/sheets/post-letters-preview.png" ] && file "$pv" | grep -q "PNG image data, 826 x 1169" &&
	ra-notifier sheets --preview post-nothing >"$out" 2>&1; [ $? -eq 1 ] && has "no batch post-nothing" "$out"
}
check "the preview of a batch of rejection letters alone is its first letter; an unknown batch is still refused" letters_only_preview


# ---- find ----
ACCOUNT=$(sql "$DEP/ra.db" "SELECT a.id FROM accounts a JOIN subscribers s ON s.id = a.subscriber_id
	WHERE s.form_serial = 'R2026-000001'")

find_id() {
	ra-intake "${ZH[@]}" find --officer clerk01 "${AS[@]}" --national-id k109-492915 >"$out" 2>&1 || { cat "$out"; return 1; }
	has "鄭文彬" "$out" && has "K109492915" "$out" && has "$ACCOUNT not locked（未鎖定）" "$out" &&
	grep -qE 'Form.* +R2026-000001 registration done' "$out" && grep -qE 'Job.* +[0-9]+ form_approve done' "$out" &&
	has "1 found" "$out" && has "共 1 筆" "$out" &&
	audit_has "action = 'subscriber.lookup' AND actor LIKE 'clerk01 (cert %' AND after = 'by national_id'
		AND object = 'subscriber:' || (SELECT id FROM subscribers WHERE form_serial = 'R2026-000001')"
}
check "find by national ID: the subscriber, account, forms and jobs; audited who looked up whom" find_id

find_others() {
	ra-intake find --officer clerk02 "${AS[@]}" --name 文彬 >"$out" 2>&1 && has "1 found" "$out" &&
	ra-intake find --officer clerk02 "${AS[@]}" --email Wenbin.Cheng@example.com >"$out" 2>&1 && has "鄭文彬" "$out" &&
	ra-intake find --officer sup01 "${AS[@]}" --account "$ACCOUNT" --json >"$out" &&
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); s=d["subscribers"][0];
assert s["account"]["locked"] == 0 and s["cards"][0]["state"] == "approved" and s["forms"][0]["serial"] == "R2026-000001"' "$out"
}
check "find by part of a name, by e-mail (any case), by account (JSON)" find_others

find_none() {
	ra-intake find --officer clerk01 "${AS[@]}" --national-id A123456789 >"$out" 2>&1
	[ $? -eq 1 ] && has "0 found" "$out" &&
	audit_has "action = 'subscriber.lookup' AND object = 'lookup:national_id:A123456789' AND actor LIKE 'clerk01 %'" &&
	ra-intake find --officer clerk01 "${AS[@]}" --national-id E134653556 >"$out" 2>&1
	[ $? -eq 1 ] && has "0 found" "$out"
}
check "nobody found is an answer, audited with the ID searched; a rejected form makes no subscriber" find_none

find_refused() {
	ra-intake find --national-id K109492915 >/dev/null 2>&1; [ $? -eq 2 ] || return 1
	ra-intake find --officer clerk01 "${AS[@]}" --name x --email y >/dev/null 2>&1; [ $? -eq 2 ] || return 1
	ra-intake find --officer op01 "${AS[@]}" --national-id K109492915 >"$out" 2>&1
	[ $? -eq 1 ] && has "this needs a clerk or supervisor" "$out" && ! has "鄭文彬" "$out"
}
check "a search needs an officer, one field, and a clerk or supervisor" find_refused

# ---- forms about an account name who came, and where the new sheet goes ----
ID1=$(sql "$DEP/ra.db" "SELECT id_number FROM subscribers WHERE form_serial = 'R2026-000001'")

# through FILE SERIAL CMD KIND: keyed by clerk01, second-keyed by clerk02, approved by sup01.
through() {
	ra-intake "$3" --officer clerk01 "${AS[@]}" --file "$1" >/dev/null &&
	ra-intake verify --officer clerk02 "${AS[@]}" --kind "$4" --file "$1" >/dev/null &&
	ra-intake approve --officer sup01 "${AS[@]}" "$2"
}

wrong_applicant() {
	# A valid ID number, but not the one the account was registered with.
	printf 'kind: password_reset\nserial: P-9001\naccount: %s\napplicant_id: E134653556\ndocuments_seen: 身分證\ndelivery: counter\nrecipient: 王俊傑\n' \
		"$ACCOUNT" >"$T/p1.yaml"
	through "$T/p1.yaml" P-9001 password-reset password_reset >"$out" 2>&1
	[ $? -eq 1 ] && has "the applicant ID E134653556 is not the ID number account $ACCOUNT was registered with" "$out" &&
	ra-intake "${ZH[@]}" approve --officer sup01 "${AS[@]}" P-9001 >"$out" 2>&1
	[ $? -eq 1 ] && has "the applicant ID E134653556 is not the ID number account $ACCOUNT was registered with" "$out" &&
	has "P-9001 未核准：表單 P-9001：申請人證號 E134653556 與帳號 $ACCOUNT 註冊時的證號不符" "$out" &&
	[ "$(job_code form_approve)" = form_wrong_applicant_id ] &&
	sql_is "$DEP/ra.db" "SELECT state FROM forms WHERE serial = 'P-9001'" verified &&
	sql_is "$DEP/ra.db" "SELECT count(*) FROM sheets WHERE reason = 'reset'" 0
}
check "a form whose applicant ID is not the subscriber's is refused at approval (both languages); nothing changes" wrong_applicant

no_applicant() {
	printf 'kind: revocation\nserial: V-9001\naccount: %s\nreason: keyCompromise\n' "$ACCOUNT" >"$T/v1.yaml"
	ra-intake revoke --officer clerk01 "${AS[@]}" --file "$T/v1.yaml" >"$out" 2>&1
	[ $? -eq 1 ] && has "applicant_id: is required" "$out" && has "documents_seen: is required" "$out"
}
check "a revocation form without the applicant's ID and documents is refused at keying" no_applicant

post_no_address() {
	printf 'kind: password_reset\nserial: P-9002\naccount: %s\napplicant_id: %s\ndocuments_seen: 身分證\ndelivery: post\nrecipient: 鄭文彬\n' \
		"$ACCOUNT" "$ID1" >"$T/p2.yaml"
	ra-intake password-reset --officer clerk01 "${AS[@]}" --file "$T/p2.yaml" >"$out" 2>&1
	[ $? -eq 1 ] && has "postal_code: is required" "$out" && has "address: is required" "$out"
}
check "a reset by post needs the postal code and address on the form" post_no_address

reset_to_form_address() {
	{ cat "$T/p2.yaml"; printf 'recipient: 鄭文彬代理人 林小姐\npostal_code: "10617"\naddress: 臺北市大安區羅斯福路四段1號\n'; } |
		sed '0,/^recipient: 鄭文彬$/{/^recipient: 鄭文彬$/d}' >"$T/p3.yaml"
	sed -i 's/^serial: .*/serial: P-9003/' "$T/p3.yaml"
	through "$T/p3.yaml" P-9003 password-reset password_reset >"$out" 2>&1 || { cat "$out"; return 1; }
	sql_is "$DEP/ra.db" "SELECT recipient || '|' || postal_code || '|' || address FROM sheets WHERE reason = 'reset'" \
		"鄭文彬代理人 林小姐|10617|臺北市大安區羅斯福路四段1號" &&
	audit_has "action = 'form.identified' AND object = 'form:P-9003' AND after = 'applicant_id $ID1; documents_seen national_id_card'" &&
	audit_has "action = 'sheet.addressed' AND after = 'P-9003'" &&
	ra-notifier sheets >"$T/sheets.out" 2>"$T/sheets.log" || { cat "$T/sheets.log"; return 1; }
	csv=$(ls -t "$DEP"/sheets/post*.csv 2>/dev/null | head -1)
	sheet=$(sql "$DEP/ra.db" "SELECT serial FROM sheets WHERE reason = 'reset'")
	grep -F "$sheet" "$csv" >"$T/line.csv" && has "10617" "$T/line.csv" && has "鄭文彬代理人 林小姐" "$T/line.csv" &&
	has "臺北市大安區羅斯福路四段1號" "$T/line.csv" && ! has "苗栗縣苗栗市府前路1號" "$T/line.csv"
}
check "a reset sheet goes to the recipient and address on the form, not the registered ones; audited" reset_to_form_address

# ---- one person, one live registration ----
supersede_setup() {
	make_csr s1 && make_csr e1 &&
	ra-ctl request-certs 1 --sign-csr "$T/s1.csr" --enc-csr "$T/e1.csr" --officer op01 "${AS[@]}" >/dev/null &&
	sql_is "$DEP/ra.db" "SELECT count(*) FROM certificates WHERE status = 'valid' AND subscriber_id =
		(SELECT subscriber_id FROM accounts WHERE id = '$ACCOUNT')" 2
}
check "the first registration has its two certificates" supersede_setup

twice_refused() {
	sed -e 's/^serial: .*/serial: R2026-000901/' "$EX/reg-01.yaml" >"$T/again.yaml"
	ra-intake "${ZH[@]}" import --officer clerk01 "${AS[@]}" "$T/again.yaml" >"$out" 2>&1
	[ $? -eq 1 ] && has "K109492915 already has a live registration (account $ACCOUNT)" "$out" &&
	has "R2026-000901 未受理：表單 R2026-000901：K109492915 已有有效的註冊（帳號 $ACCOUNT）" "$out" &&
	sql_is "$DEP/ra.db" "SELECT json_extract(result, '$.rejected[0].code') FROM jobs WHERE kind = 'form_key' ORDER BY id DESC LIMIT 1" live_registration &&
	! sql "$DEP/ra.db" "SELECT 1 FROM forms WHERE serial = 'R2026-000901'" | grep -q 1
}
check "the same ID number cannot register again while its registration is live (refused at keying, both languages)" twice_refused

supersede_needs_supervisor() {
	printf 'supersedes: %s\n' "$ACCOUNT" >>"$T/again.yaml"
	ra-intake import --officer clerk01 "${AS[@]}" "$T/again.yaml" >"$out" 2>&1 || { cat "$out"; return 1; }
	ra-intake verify --officer clerk02 "${AS[@]}" --file "$T/again.yaml" >"$out" 2>&1 || { cat "$out"; return 1; }
	ra-intake approve --officer sup01 "${AS[@]}" R2026-000901 >"$out" 2>&1
	[ $? -eq 1 ] && has "approve it with --supersede" "$out" &&
	sql_is "$DEP/ra.db" "SELECT count(*) FROM certificates WHERE status = 'valid'" 2
}
check "a form naming the live account is keyed, but not approved without --supersede" supersede_needs_supervisor

supersede_ok() {
	ra-intake "${ZH[@]}" approve --officer sup01 "${AS[@]}" --supersede R2026-000901 >"$out" 2>&1 || { cat "$out"; return 1; }
	has "superseded account $ACCOUNT: 2 certificate(s) revoked as superseded" "$out" &&
	has "已取代帳號 $ACCOUNT" "$out" &&
	sql_is "$DEP/ra.db" "SELECT group_concat(DISTINCT status || '/' || reason) FROM certificates WHERE subscriber_id =
		(SELECT subscriber_id FROM accounts WHERE id = '$ACCOUNT')" "revoked/superseded" &&
	sql_is "$DEP/signer/signer.db" "SELECT count(*) FROM certs WHERE status = 'revoked'" 2 &&
	sql_is "$DEP/ra.db" "SELECT state FROM orders WHERE id = 1" cancelled &&
	sql_is "$DEP/ra.db" "SELECT count(*) FROM subscribers WHERE id_number = 'K109492915'" 2 &&
	audit_has "action = 'registration.superseded' AND object = 'account:$ACCOUNT' AND after = 'R2026-000901'
		AND actor LIKE 'sup01 (cert %'"
}
check "a supervisor's --supersede revokes the old certificates as superseded and cancels the old order" supersede_ok

new_one_live() {
	sed -e 's/^serial: .*/serial: R2026-000902/' "$EX/reg-01.yaml" >"$T/third.yaml"
	ra-intake import --officer clerk01 "${AS[@]}" "$T/third.yaml" >"$out" 2>&1
	[ $? -eq 1 ] && has "already has a live registration" "$out" && ! has "account $ACCOUNT)" "$out"
}
check "the new registration is now the live one" new_one_live

# ---- data changes that do not touch a certificate ----
NEWACC=$(sql "$DEP/ra.db" "SELECT a.id FROM accounts a JOIN subscribers s ON s.id = a.subscriber_id
	WHERE s.form_serial = 'R2026-000901'")

change_name_told() {
	printf 'kind: change\nserial: C-9001\naccount: %s\napplicant_id: K109492915\ndocuments_seen: 身分證\nname: 鄭文斌\n' \
		"$NEWACC" >"$T/c1.yaml"
	ra-intake change --officer clerk01 "${AS[@]}" --file "$T/c1.yaml" >"$out" 2>&1
	[ $? -ne 0 ] && has "name: is inside the certificates" "$out" && has "file a revocation form" "$out" &&
	ra-intake change --help >"$out" && has "姓名或電子郵件記載於憑證內" "$out"
}
check "a change of name is refused; the counter is told to revoke and register again" change_name_told

change_ok() {
	printf 'kind: change\nserial: C-9002\naccount: %s\napplicant_id: K109492915\ndocuments_seen: 身分證\nphone: 0912-000-111\npostal_code: "100"\naddress: 臺北市中正區重慶南路一段122號\n' \
		"$NEWACC" >"$T/c2.yaml"
	through "$T/c2.yaml" C-9002 change change >"$out" 2>&1 || { cat "$out"; return 1; }
	sql_is "$DEP/ra.db" "SELECT phone || '|' || postal_code || '|' || address FROM subscribers WHERE form_serial = 'R2026-000901'" \
		"0912000111|100|臺北市中正區重慶南路一段122號" &&
	audit_has "action = 'subscriber.changed' AND before LIKE 'phone=037355800; postal_code=360; address=苗栗縣%'
		AND after = 'phone=0912000111; postal_code=100; address=臺北市中正區重慶南路一段122號'" &&
	sql_is "$DEP/ra.db" "SELECT count(*) FROM certificates WHERE status = 'valid'" 0 &&
	ra-intake find --officer clerk01 "${AS[@]}" --account "$NEWACC" >"$out" 2>&1 && has "0912000111" "$out" &&
	grep -qE 'Form.* +C-9002 change done' "$out"
}
check "a change form (dual control) changes phone and address, audited before and after, no certificate touched" change_ok

change_contact_person() {
	printf 'kind: change\nserial: C-9003\naccount: %s\napplicant_id: K109492915\ndocuments_seen: 身分證\ncontact_person: 林小姐\n' \
		"$NEWACC" >"$T/c3.yaml"
	through "$T/c3.yaml" C-9003 change change >"$out" 2>&1
	[ $? -eq 1 ] && has "only an organization has a contact person" "$out"
}
check "a person has no contact person to change" change_contact_person

# ---- an organization's mail and sheets go to its contact person ----
org_contact() {
	local order org sheet
	register_forms clerk01 clerk02 sup01 "$EX/reg-05.yaml" || return 1
	order=$(sql "$DEP/ra.db" "SELECT o.id FROM orders o JOIN subscribers s ON s.id = o.subscriber_id WHERE s.form_serial = 'R2026-000005'")
	org=$(sql "$DEP/ra.db" "SELECT a.id FROM accounts a JOIN subscribers s ON s.id = a.subscriber_id WHERE s.form_serial = 'R2026-000005'")
	make_csr s5 && make_csr e5 &&
	ra-ctl request-certs "$order" --sign-csr "$T/s5.csr" --enc-csr "$T/e5.csr" --officer op01 "${AS[@]}" >/dev/null || return 1
	printf 'kind: revocation\nserial: V-9005\naccount: %s\napplicant_id: "71118682"\ndocuments_seen: 公司登記\nreason: keyCompromise\n' \
		"$org" >"$T/v5.yaml"
	through "$T/v5.yaml" V-9005 revoke revocation >"$out" 2>&1 || { cat "$out"; return 1; }
	ra-notifier notices >"$T/n3.out" 2>"$T/n3.log" && ra-notifier sheets >"$T/s3.out" 2>"$T/s3.log" || { cat "$T/n3.log" "$T/s3.log"; return 1; }
	python3 - "$DEP" <<'PY' || return 1
import email, email.policy, pathlib, sys
to = [m["To"] for m in (email.message_from_binary_file(p.open("rb"), policy=email.policy.default)
      for p in pathlib.Path(sys.argv[1]).rglob("*.eml")) if "ip@lvye.example.com.tw" in str(m["To"])]
assert to and all(t.addresses[0].display_name == "曾志偉" for t in to), to
PY
	sheet=$(sql "$DEP/ra.db" "SELECT sh.serial FROM sheets sh JOIN subscribers s ON s.id = sh.subscriber_id
		WHERE s.form_serial = 'R2026-000005' AND sh.kind = 'password'")
	grep -hF "$sheet" "$DEP"/sheets/post*.csv | has "曾志偉" /dev/stdin
}
check "an organization's mails and password sheet are addressed to its contact person" org_contact

# Refusals of the revocation, resume and change forms reach a zh-TW counter in both languages.
forms_refused_both_languages() {
	local org
	org=$(sql "$DEP/ra.db" "SELECT a.id FROM accounts a JOIN subscribers s ON s.id = a.subscriber_id WHERE s.form_serial = 'R2026-000005'")
	printf 'kind: revocation\nserial: V-9006\naccount: %s\napplicant_id: "71118682"\ndocuments_seen: 公司登記\nreason: keyCompromise\n' \
		"$org" >"$T/v6.yaml"
	through "$T/v6.yaml" V-9006 revoke revocation >"$out" 2>&1
	[ $? -eq 1 ] && has "account $org has no valid or held certificate to revoke" "$out" || return 1
	ra-intake "${ZH[@]}" approve --officer sup01 "${AS[@]}" V-9006 >"$out" 2>&1
	[ $? -eq 1 ] && has "V-9006 未核准：帳號 $org 沒有可廢止的有效或暫停中憑證" "$out" &&
	[ "$(job_code form_approve)" = nothing_to_revoke ] || return 1
	printf 'kind: resume\nserial: U-9006\naccount: %s\napplicant_id: "71118682"\ndocuments_seen: 公司登記\ndelivery: counter\nrecipient: 曾志偉\n' \
		"$org" >"$T/u6.yaml"
	through "$T/u6.yaml" U-9006 resume resume >"$out" 2>&1
	[ $? -eq 1 ] && has "the certificates of account $org are revoked: a revoked certificate can never be resumed" "$out" || return 1
	ra-intake "${ZH[@]}" approve --officer sup01 "${AS[@]}" U-9006 >"$out" 2>&1
	[ $? -eq 1 ] && has "U-9006 未核准：帳號 $org 的憑證已廢止：廢止的憑證永遠不能恢復使用" "$out" &&
	[ "$(job_code form_approve)" = resume_revoked ] || return 1
	ra-intake "${ZH[@]}" approve --officer sup01 "${AS[@]}" C-9003 >"$out" 2>&1
	[ $? -eq 1 ] && has "only an organization has a contact person" "$out" &&
	has "C-9003 未核准：變更申請書 C-9003：帳號 $NEWACC 屬於個人；只有機關團體才有聯絡人" "$out" &&
	[ "$(job_code form_approve)" = change_contact ] &&
	sql_is "$DEP/ra.db" "SELECT state FROM forms WHERE serial IN ('V-9006', 'U-9006', 'C-9003') GROUP BY state" verified
}
check "a revocation with nothing to revoke, a resume of revoked certificates and a person's contact person: refused in both languages, with codes" forms_refused_both_languages

find_by_cert_and_ubn() {
	local cert
	cert=$(sql "$DEP/ra.db" "SELECT c.serial FROM certificates c JOIN subscribers s ON s.id = c.subscriber_id
		WHERE s.form_serial = 'R2026-000005' LIMIT 1")
	ra-intake find --officer clerk02 "${AS[@]}" --cert "$(echo "$cert" | tr a-f A-F | sed 's/../&:/g; s/:$//')" >"$out" 2>&1 &&
	has "綠野生技股份有限公司" "$out" && has "$cert" "$out" && has "revoked keyCompromise" "$out" &&
	ra-intake find --officer clerk02 "${AS[@]}" --ubn 7111-8682 >"$out" 2>&1 && has "曾志偉" "$out" &&
	audit_has "action = 'subscriber.lookup' AND after = 'by certificate'"
}
check "find by certificate serial (any case, colons) and by UBN" find_by_cert_and_ubn

# ---- a card personalized at the station (pcscd, a virtual card): found by its serial ----
. "$RA_TOP/tests/fixtures/pcsc-env.sh"
CR="Virtual PCD 0 00 00"
CS="card-station -c $RA_CONFIG"
card_ready() {
	pcsc_start "$T/pcsc" 1 >"$T/readers.txt" 2>"$T/pcsc-start.log" || { cat "$T/pcsc-start.log"; return 1; }
	on_exit "pcsc_stop '$T/pcsc'"
	track "$(pcsc_card_start "$T/pcsc" 0 --serial 8121)"
	wait_for 10 bash -c "[ \$($CS readers 2>/dev/null | grep -c ' blank$') -eq 1 ]" || { $CS readers; return 1; }
	$CS personalize --officer op01 "${AS[@]}" --readers "$CR" --count 1 >"$T/perso.out" 2>"$T/perso.log" ||
		{ tail -5 "$T/perso.log"; return 1; }
	CARD_ORDER=$(sql "$DEP/ra.db" "SELECT id FROM orders WHERE card_serial = '8121' AND state = 'personalized'")
	CARD_NAME=$(sql "$DEP/ra.db" "SELECT s.name FROM orders o JOIN subscribers s ON s.id = o.subscriber_id WHERE o.id = '$CARD_ORDER'")
	[ -n "$CARD_ORDER" ] && [ -n "$CARD_NAME" ]
}
check "a card personalized through card-station and pcscd" card_ready

find_by_card() {
	ra-intake find --officer clerk01 "${AS[@]}" --card 8121 >"$out" 2>&1 || { cat "$out"; return 1; }
	has "1 found" "$out" && has "$CARD_NAME" "$out" && grep -qE "order $CARD_ORDER .* personalized card 8121" "$out" &&
	ra-intake find --officer clerk02 "${AS[@]}" --card ' 81-21 ' --json >"$out" 2>/dev/null &&
	python3 -c 'import json, sys; s = json.load(open(sys.argv[1]))["subscribers"]; assert len(s) == 1 and any(c["card_serial"] == "8121" for c in s[0]["cards"]), s' "$out" &&
	ra-intake find --officer clerk01 "${AS[@]}" --card 8122 >"$out" 2>&1; [ $? -eq 1 ] && has "0 found" "$out" &&
	audit_has "action = 'subscriber.lookup' AND after = 'by card'"
}
check "find by card serial (spaces and dashes ignored); an unknown card finds nobody; audited" find_by_card

# ---- the operator who personalized the card hands it over (card-station dispatch) ----
station_dispatch() {
	card-station dispatch --help >"$out" && has "--mail TRACKING" "$out" &&
	card-station -c "$DEP/ra-zh.yaml" dispatch --reader "$CR" --counter --mail RR123456785TW --officer op01 "${AS[@]}" >"$out" 2>&1
	[ $? -eq 2 ] && has "其中之一" "$out" &&
	card-station -c "$DEP/ra-zh.yaml" dispatch --reader "$CR" --counter --officer op01 "${AS[@]}" >"$out" 2>&1 || { cat "$out"; return 1; }
	has "訂單 $CARD_ORDER：卡片 8121 已於櫃檯交付" "$out" &&
	sql_is "$DEP/ra.db" "SELECT dispatch FROM orders WHERE id = $CARD_ORDER" counter &&
	audit_has "action = 'card.dispatch' AND object = 'order:$CARD_ORDER' AND before = 'none' AND after = 'counter' AND actor LIKE 'op01 %'" &&
	[ "$(ra-ctl orders | grep -c "^$CARD_ORDER .*counter")" = 1 ]
}
check "card-station dispatch: the card in the reader handed over, signed by the operator, said in Chinese" station_dispatch

station_dispatch_refused() {
	card-station -c "$DEP/ra-zh.yaml" dispatch --reader "$CR" --mail RR123456785TW --officer op01 "${AS[@]}" >"$out" 2>&1
	[ $? -eq 1 ] && has "卡片 8121：未登錄：訂單 $CARD_ORDER 的卡片已於櫃檯交付" "$out" &&
	card-station dispatch --card 8121 --returned --officer op01 "${AS[@]}" >"$out" 2>&1
	[ $? -eq 1 ] && has "card 8121: not recorded: the card of order $CARD_ORDER was not mailed: it cannot come back" "$out" &&
	card-station dispatch --card 9999 --counter --officer op01 "${AS[@]}" >"$out" 2>&1
	[ $? -eq 1 ] && has "no personalized card 9999" "$out" &&
	[ "$(job_code card_dispatch)" = no_card ] &&
	sql_is "$DEP/ra.db" "SELECT dispatch FROM orders WHERE id = $CARD_ORDER" counter &&
	[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM audit WHERE action = 'card.dispatch'")" = 1 ]
}
check "card-station dispatch refuses what ra-ctl dispatch refuses (a second hand-over, a return never mailed, an unknown card)" station_dispatch_refused

#!/bin/bash
# The counter's day through the real daemons: a supervisor rejects a keyed form (a listed
# reason, not by a clerk, not by its keyer, never approved afterwards, the applicant's
# notice recorded and audited), and the counter finds a subscriber by every field it
# knows, each search signed by the officer and audited (who looked up whom).
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
	ra-intake status R2026-000002 >"$out" 2>&1 && grep -qE '^state +rejected' "$out"
}
check "status shows the form rejected" status_rejected

never_approved() {
	ra-intake approve --officer sup01 "${AS[@]}" R2026-000002 >"$out" 2>&1
	[ $? -eq 1 ] && has "is already rejected" "$out" &&
	! sql "$DEP/ra.db" "SELECT 1 FROM subscribers WHERE form_serial = 'R2026-000002'" | grep -q 1
}
check "a rejected form cannot be approved" never_approved

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

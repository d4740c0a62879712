#!/bin/bash
# Website accounts through the real daemons: the login check with its lockout (exactly 3
# wrong passwords lock; a right one resets the count; a locked account says only "locked"
# whether the password was right or not), unlocking only by an approved password-reset
# form, ra-self password-change with the password policy, and no clear password in the
# logs or the ledger. Passwords are read off the printed counter sheet, never printed.
. "$(dirname "$0")/lib.sh"
ra_deploy 2
printf 'notifier:\n  templates_dir: %s/config/templates\n' "$RA_TOP" >> "$RA_CONFIG"

# --- helpers (as in test_lifecycle.sh) ----------------------------------------------------
form_through() {
	ra-intake password-reset --officer clerk01 --passphrase-file "$OPASS" --file "$1" >/dev/null || return 1
	ra-intake verify --officer clerk02 --passphrase-file "$OPASS" --kind password_reset --file "$1" >/dev/null || return 1
	ra-intake approve --officer sup01 --passphrase-file "$OPASS" "$2"
}
# reset_password ACCOUNT FORM FILE: reset form for counter pickup; the sheet printed by
# ra-notifier and the password read off it into FILE (0600).
reset_password() {
	local sheet
	printf 'kind: password_reset\nserial: %s\naccount: %s\ndelivery: counter\n' "$2" "$1" > "$T/$2.yaml"
	form_through "$T/$2.yaml" "$2" >/dev/null || return 1
	sheet=$(sql "$DEP/ra.db" "SELECT json_extract(result, '\$.sheet') FROM jobs WHERE kind = 'form_approve' AND json_extract(result, '\$.form') = '$2'")
	ra-notifier sheets --sheet "$sheet" >/dev/null 2>>"$T/notifier.log" || return 1
	pdftotext "$DEP/sheets/counter/$sheet.pdf" - | grep -xE '[A-Za-z2-9]{12}' | head -n 1 > "$3"
	chmod 600 "$3"
	[ -s "$3" ]
}
acct() { sql "$DEP/ra.db" "SELECT failures || '/' || locked FROM accounts WHERE id = '$A'"; }
status_en() { ra-self --lang en status --account "$A" --password-file "$1" 2>&1; }
# pwfile NAME LINE...: a password file for ra-self (0600).
pwfile() { local f="$T/$1"; shift; printf '%s\n' "$@" > "$f"; chmod 600 "$f"; }

register_forms clerk01 clerk02 sup01 "$RA_TOP"/config/examples/reg-05.yaml || fail "registration"
make_csr s1; make_csr e1
ra-ctl request-certs 1 --sign-csr "$T/s1.csr" --enc-csr "$T/e1.csr" --officer op01 --passphrase-file "$OPASS" >/dev/null || fail "certificates"
A=$(sql "$DEP/ra.db" "SELECT id FROM accounts LIMIT 1")
reset_password "$A" P-0001 "$T/pw" && ok "password read off the counter sheet of a reset form" || fail "password sheet"
PW=$(cat "$T/pw")
pwfile bad "Wrong-Password-1"

# --- login check and lockout ---------------------------------------------------------------
out=$(status_en "$T/pw"); echo "$out" | grep -q "Account $A" && echo "$out" | grep -q valid \
	&& ok "login with the right password shows the account's certificates" || fail "login" "$out"
out=$(status_en "$T/bad"); echo "$out" | grep -q "wrong password: 2 tries left" && [ "$(acct)" = 1/0 ] \
	&& ok "1st wrong password: 2 tries left" || fail "1st wrong" "$out $(acct)"
out=$(status_en "$T/bad"); echo "$out" | grep -q "wrong password: 1 try left" && [ "$(acct)" = 2/0 ] \
	&& ok "2nd wrong password: 1 try left" || fail "2nd wrong" "$out $(acct)"
status_en "$T/pw" >/dev/null && [ "$(acct)" = 0/0 ] && ok "a right password resets the count" || fail "count reset" "$(acct)"
status_en "$T/bad" >/dev/null; status_en "$T/bad" >/dev/null
[ "$(acct)" = 2/0 ] && ok "two wrong passwords in a row do not lock" || fail "2 wrong" "$(acct)"
out=$(status_en "$T/bad"); echo "$out" | grep -q "account is now locked after 3 wrong passwords" && [ "$(acct)" = 3/1 ] \
	&& ok "the 3rd wrong password in a row locks the account" || fail "3rd wrong" "$out $(acct)"
right=$(status_en "$T/pw"); wrong=$(status_en "$T/bad")
[ "$right" = "ra-self: locked: file a password-reset form" ] && [ "$right" = "$wrong" ] \
	&& ok "locked: the same answer for the right and a wrong password" || fail "locked answer" "$right / $wrong"
[ "$(acct)" = 3/1 ] && ok "attempts on a locked account change nothing" || fail "locked count" "$(acct)"
out=$(ra-self status --account "$A" --password-file "$T/pw" 2>&1)
echo "$out" | grep -q "帳號已鎖定：請填寫網站密碼重設申請書" && ok "in Traditional Chinese by default" || fail "zh" "$out"
out=$(ra-self --lang en suspend --account "$A" --password-file "$T/pw" 2>&1)
echo "$out" | grep -q "locked" && [ "$(sql "$DEP/ra.db" "SELECT count(*) FROM certificates WHERE status = 'valid'")" -eq 2 ] \
	&& ok "suspend on a locked account refused; nothing held" || fail "suspend locked" "$out"
pwfile change-locked "$PW" "Brand-New-Pass9" "Brand-New-Pass9"
out=$(ra-self --lang en password-change --account "$A" --password-file "$T/change-locked" 2>&1)
echo "$out" | grep -q "locked" && [ "$(acct)" = 3/1 ] && ok "a password change cannot unlock the account" || fail "change locked" "$out"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM audit WHERE action = 'account.locked' AND object = 'account:$A'")" -eq 1 ] \
	&& ok "the lock is audited" || fail "lock audit"

# --- unlock only by the password-reset form ----------------------------------------------
reset_password "$A" P-0002 "$T/pw2" && ok "password-reset form approved (dual control)" || fail "reset form"
[ "$(acct)" = 0/0 ] && ok "the reset form unlocks the account" || fail "unlocked" "$(acct)"
[ "$(sql "$DEP/ra.db" "SELECT json_extract(result, '\$.unlocked') FROM jobs WHERE kind = 'form_approve' AND json_extract(result, '\$.form') = 'P-0002'")" = 1 ] \
	&& [ "$(sql "$DEP/ra.db" "SELECT count(*) FROM audit WHERE action = 'account.unlocked' AND object = 'account:$A'")" -eq 1 ] \
	&& ok "the unlock is reported and audited" || fail "unlock audit"
out=$(status_en "$T/pw"); echo "$out" | grep -q "wrong password" && ok "the old password no longer works" || fail "old pw" "$out"
out=$(status_en "$T/pw2"); echo "$out" | grep -q "Account $A" && ok "the new password from the reset sheet works" || fail "new pw" "$out"
printf 'kind: password_reset\nserial: P-0003\naccount: %s\ndelivery: post\n' "$A" > "$T/P-0003.yaml"
# A supervisor may key a form, but then not approve it: dual control on the verified officer.
ra-intake password-reset --officer sup01 --passphrase-file "$OPASS" --file "$T/P-0003.yaml" >/dev/null
out=$(ra-intake approve --officer sup01 --passphrase-file "$OPASS" P-0003 2>&1)
echo "$out" | grep -q "keyed by sup01, who therefore cannot approve it" && ok "the keyer cannot approve a password-reset form" || fail "reset keyer" "$out"
PW2=$(cat "$T/pw2")

# --- password change and its policy -------------------------------------------------------
jobs_before=$(sql "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE kind = 'password_change'")
pwfile c1 "$PW2" "Abcdefgh234" "Abcdefgh235"
out=$(ra-self --lang en password-change --account "$A" --password-file "$T/c1" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "confirmation differ" && [ "$(sql "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE kind = 'password_change'")" = "$jobs_before" ] \
	&& ok "a confirmation that differs: refused at once, nothing sent" || fail "confirm" "$out"
policy() { pwfile c "$PW2" "$1" "$1"; ra-self --lang en password-change --account "$A" --password-file "$T/c" 2>&1; }
policy "Ab3def" | grep -q "at least 10 characters" && ok "policy: too short refused" || fail "short"
policy "abcdefghijkl" | grep -q "at least 3 kinds" && ok "policy: too few kinds of characters refused" || fail "classes"
policy "Xy-$A" | grep -q "must not contain the account id" && ok "policy: a password containing the account id refused" || fail "account id"
policy "$PW2" | grep -q "differ from the current one" && ok "policy: the current password again refused" || fail "same"
pwfile c2 "Wrong-Password-1" "Abcdefgh234" "Abcdefgh234"
out=$(ra-self --lang en password-change --account "$A" --password-file "$T/c2" 2>&1)
echo "$out" | grep -q "wrong password: 2 tries left" && ok "a wrong current password counts toward the lockout" || fail "change wrong" "$out"
pwfile c3 "$PW2" "Abcdefgh234" "Abcdefgh234"
out=$(ra-self password-change --account "$A" --password-file "$T/c3" 2>&1)
echo "$out" | grep -q "網站密碼已變更" && [ "$(acct)" = 0/0 ] && ok "password changed (message in Traditional Chinese); count reset" || fail "change" "$out"
out=$(status_en "$T/pw2"); echo "$out" | grep -q "wrong password" && ok "the old password no longer works" || fail "old after change" "$out"
pwfile new "Abcdefgh234"
out=$(status_en "$T/new"); echo "$out" | grep -q "Account $A" && ok "the new password works" || fail "new after change" "$out"
pwfile c4 "Abcdefgh234" "$PW2" "$PW2"
out=$(ra-self --lang en password-change --account "$A" --password-file "$T/c4" 2>&1)
echo "$out" | grep -q "differ from the previous one" && ok "policy: the previous password refused" || fail "previous" "$out"

# --- bad input ------------------------------------------------------------------------------
out=$(ra-self status --account 12345 --password-file "$T/new" 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "u 加 8 位數字" && ok "a malformed account id is a usage error" || fail "bad account" "$out"
out=$(ra-self --lang en status --account u00000000 --password-file "$T/new" 2>&1)
echo "$out" | grep -q "no account u00000000" && ok "an unknown account is named" || fail "unknown account" "$out"
out=$(setsid -w ra-self --lang en status --account "$A" </dev/null 2>&1)
echo "$out" | grep -q "no terminal (use --password-file)" && ok "no terminal and no password file: a clear error" || fail "no tty" "$out"
out=$(ra-self --lang fr status --account "$A" 2>&1); [ $? -eq 2 ] && ok "--lang accepts zh-TW or en only" || fail "lang" "$out"

# --- no clear password anywhere -------------------------------------------------------------
leaks=0
for p in "$PW" "$PW2" "Abcdefgh234" "Wrong-Password-1"; do
	grep -rqF -- "$p" "$DEP"/log/ "$DEP"/ra.db* "$DEP"/signer/ "$T"/check.log "$T"/notifier.log 2>/dev/null && leaks=$((leaks + 1))
done
[ "$leaks" -eq 0 ] && ok "no clear password in the logs or ra.db (grep of 4 passwords)" || fail "leak" "$leaks"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE kind IN ('login','suspend','password_change') AND (json_extract(payload, '\$.password') <> '(redacted)' OR json_extract(payload, '\$.new_password') <> '(redacted)')")" -eq 0 ] \
	&& ok "every sealed password was redacted from its job once done" || fail "redaction"
check "audit chain intact" ra-ctl audit verify

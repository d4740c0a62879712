#!/bin/bash
# Website accounts through the real daemons: the login check with its lockout (exactly 3
# wrong passwords lock; a right one resets the count; a locked account says only "locked"
# whether the password was right or not), unlocking only by an approved password-reset
# form, ra-self password-change with the password policy, and no clear password in the
# logs or the ledger. Passwords are read off the printed counter sheet, never printed.
. "$(dirname "$0")/lib.sh"
ra_deploy 2
printf 'notifier:\n  templates_dir: %s/config/templates\n' "$RA_TOP" >> "$RA_CONFIG"

# --- helpers ------------------------------------------------------------------------------
reset_password() { password_from_reset "$@"; }
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
{ printf 'kind: password_reset\nserial: P-0003\naccount: %s\ndelivery: post\n' "$A"; applicant_lines "$A" sheet; } > "$T/P-0003.yaml"
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
# An account id that does not exist answers exactly as a wrong password: same text, same
# result in the ledger, and it counts and locks like a real account.
unknown_en() { ra-self --lang en status --account u00000000 --password-file "$1" 2>&1; }
out_u=$(unknown_en "$T/bad"); rc_u=$?
out_k=$(status_en "$T/bad"); rc_k=$?
res() { sql "$DEP/ra.db" "SELECT result FROM jobs WHERE kind = 'login' ORDER BY id DESC LIMIT 1 OFFSET $1"; }
[ "$out_u" = "$out_k" ] && [ "$rc_u" = "$rc_k" ] && [ "$(res 0)" = "$(res 1)" ] && echo "$out_u" | grep -q "wrong password: 2 tries left" &&
	ok "an unknown account answers exactly as a wrong password (text, exit status, job result)" ||
	fail "unknown account answer" "'$out_u' ($rc_u) vs '$out_k' ($rc_k); $(res 1) vs $(res 0)"
status_en "$T/new" >/dev/null
unknown_en "$T/bad" >/dev/null; out=$(unknown_en "$T/bad"); out2=$(unknown_en "$T/new")
echo "$out" | grep -q "account is now locked after 3 wrong passwords" && [ "$out2" = "ra-self: locked: file a password-reset form" ] &&
	ok "...and it locks after 3 wrong passwords, as a real account does" || fail "unknown account lock" "$out / $out2"
# The same work: with a costly argon2id (64 MiB), one worker spends about as much CPU time
# (its own, from /proc: not the clock) on an unknown account as on a wrong password.
ra-ctl down >/dev/null
sed -i 's/^  argon2_m_kib: 1024$/  argon2_m_kib: 65536/' "$RA_CONFIG"
ra-ctl up --workers 1 >/dev/null
cpu() { awk '{print $14 + $15}' "/proc/$(cat "$DEP/run/ra-worker-1.pid")/stat"; }
# A password hashed at that cost (the verification follows the hash's own parameters).
pwfile c6 "$(cat "$T/new")" "Qwerty-Pass-42" "Qwerty-Pass-42"
ra-self --lang en password-change --account "$A" --password-file "$T/c6" >/dev/null 2>&1
pwfile new "Qwerty-Pass-42"
status_en "$T/new" >/dev/null
c0=$(cpu); status_en "$T/bad" >/dev/null; c1=$(cpu)
ra-self --lang en status --account u20000000 --password-file "$T/bad" >/dev/null 2>&1; c2=$(cpu)
status_en "$T/new" >/dev/null
wrong=$((c1 - c0)) unknown=$((c2 - c1))
[ "$wrong" -ge 4 ] && [ $((unknown * 2)) -ge "$wrong" ] &&
	ok "an unknown account costs the worker the same argon2id work as a wrong password" ||
	fail "same work" "CPU ticks: wrong password $wrong, unknown account $unknown"
ra-ctl down >/dev/null
sed -i 's/^  argon2_m_kib: 65536$/  argon2_m_kib: 1024/' "$RA_CONFIG"
ra-ctl up --workers 2 >/dev/null

# --- wrong passwords from one source make that source wait ---------------------------------
ra-ctl down >/dev/null
sed -i '/^accounts:/a\  source_free_failures: 3\n  source_wait_s: 600' "$RA_CONFIG"
ra-ctl up --workers 2 >/dev/null
from() { ra-self --lang en --source "$1" status --account "$2" --password-file "$3" 2>&1; }
for i in 1 2 3; do from 203.0.113.7 "u1000000$i" "$T/bad" >/dev/null; done
out=$(from 203.0.113.7 "$A" "$T/new"); out_u=$(from 203.0.113.7 u10000009 "$T/bad")
echo "$out" | grep -q "too many wrong passwords from here: try again in [0-9]* seconds" &&
	[ "$(echo "$out_u" | sed 's/[0-9]* seconds/N seconds/')" = "$(echo "$out" | sed 's/[0-9]* seconds/N seconds/')" ] &&
	ok "after 3 wrong passwords from one source it must wait, whatever the account and password" ||
	fail "source back-off" "$out / $out_u"
out=$(from 198.51.100.2 "$A" "$T/new")
echo "$out" | grep -q "Account $A" && ok "...while another source is served" || fail "other source" "$out"
ra-ctl down >/dev/null
RA_NOW=$(( $(date +%s) + 7200 )) ra-ctl up --workers 2 >/dev/null
out=$(from 203.0.113.7 "$A" "$T/new")
echo "$out" | grep -q "Account $A" && ok "...and a source quiet for an hour starts again from zero" || fail "source forgotten" "$out"
ra-ctl down >/dev/null
ra-ctl up --workers 2 >/dev/null
out=$(setsid -w ra-self --lang en status --account "$A" </dev/null 2>&1)
echo "$out" | grep -q "no terminal (use --password-file)" && ok "no terminal and no password file: a clear error" || fail "no tty" "$out"
out=$(ra-self --lang fr status --account "$A" 2>&1); [ $? -eq 2 ] && ok "--lang accepts zh-TW or en only" || fail "lang" "$out"

# --- a random generator that fails: no password is hashed with a salt that is not random --
# OpenSSL's DRBG made unusable by configuration (a cipher that does not exist) for the
# daemons only: every RAND_bytes there fails.
printf 'openssl_conf = conf\n[conf]\nrandom = random_sect\n[random_sect]\nrandom = CTR-DRBG\ncipher = AES-999-NONE\n' >"$T/norand.cnf"
ra-ctl down >/dev/null
OPENSSL_CONF="$T/norand.cnf" ra-ctl up --workers 1 >/dev/null
hash_of() { sql "$DEP/ra.db" "SELECT pw_hash FROM accounts WHERE id = '$A'"; }
before_hash=$(hash_of)
pwfile c5 "$(cat "$T/new")" "Zyxwvut-9876" "Zyxwvut-9876"
out=$(ra-self --lang en password-change --account "$A" --password-file "$T/c5" 2>&1)
[ "$(hash_of)" = "$before_hash" ] && ! echo "$out" | grep -q "has been changed" &&
	ok "with a failing random generator no password is stored (no salt that is not random)" ||
	fail "RAND_bytes checked" "$out"
ra-ctl down >/dev/null
ra-ctl up --workers 2 >/dev/null

# --- suspend: the signer holds only after the password verdict is final -------------------
# A suspend with the right password is in its worker (stalled between prepare and apply)
# while three wrong passwords lock the account through another worker: the answer is
# "locked", and neither ra.db nor the signer has anything on hold.
ra-ctl down >/dev/null
sed -i 's/lease_ms: 2000/lease_ms: 8000/' "$RA_CONFIG"
RA_WORKER_STALL_MS=3000 ra-ctl up --workers 1 >/dev/null
ra-self --lang en suspend --account "$A" --password-file "$T/new" >"$T/suspend-race.out" 2>&1 &
sus=$!; track $sus
wait_for 20 sql_is "$DEP/ra.db" "SELECT state FROM jobs WHERE kind = 'suspend' ORDER BY id DESC LIMIT 1" leased ||
	fail "suspend leased by the stalled worker"
ra-worker -c "$RA_CONFIG" >"$T/quick-worker.log" 2>&1 &
quick=$!; track $quick
for i in 1 2 3; do status_en "$T/bad" >/dev/null; done
wait $sus
signer_st=$(for s in $(sql "$DEP/ra.db" "SELECT serial FROM certificates c JOIN accounts a ON a.subscriber_id = c.subscriber_id WHERE a.id = '$A'"); do
	sql "$DEP/signer/signer.db" "SELECT status FROM certs WHERE serial = '$s'"; done | sort -u | tr '\n' ' ')
ra_st=$(sql "$DEP/ra.db" "SELECT DISTINCT status FROM certificates" | tr '\n' ' ')
[ "$(acct)" = 3/1 ] && grep -q locked "$T/suspend-race.out" && [ "$signer_st" = "valid " ] && [ "$ra_st" = "valid " ] &&
	ok "suspend answered 'locked' holds nothing at the signer (the hold waits for the final verdict)" ||
	fail "suspend vs. lock race" "$(cat "$T/suspend-race.out"); account $(acct); signer: $signer_st; ra.db: $ra_st"
kill $quick 2>/dev/null; wait $quick 2>/dev/null
ra-ctl down >/dev/null
sed -i 's/lease_ms: 8000/lease_ms: 2000/' "$RA_CONFIG"
ra-ctl up --workers 2 >/dev/null

# --- confirmations: one mail after each reset and each website password change --------------
resets=$(sql "$DEP/ra.db" "SELECT count(*) FROM audit WHERE action = 'account.password_set' AND after = 'reset'")
changes=$(sql "$DEP/ra.db" "SELECT count(*) FROM audit WHERE action = 'account.password_set' AND after = 'change'")
ra-notifier -c "$RA_CONFIG" notices >>"$T/notifier.log" 2>&1
ra-notifier -c "$RA_CONFIG" notices >>"$T/notifier.log" 2>&1	# a second run sends nothing again
/usr/bin/python3 - "$DEP/outbox" >"$T/confirm.txt" <<'PYEOF'
import email, email.policy, glob, sys
for f in sorted(glob.glob(sys.argv[1] + '/notice-*.eml')):
    m = email.message_from_binary_file(open(f, 'rb'), policy=email.policy.default)
    t = m.get_body(('plain',)).get_content()
    contact = '(02) 2345-6789' in t and 'https://ra.example.gov.tw' in t and '08:30' in t
    print('\t'.join([m['To'].addresses[0].addr_spec, str(m['Subject']), 'contact' if contact else 'no-contact']))
PYEOF
[ "$resets" -ge 2 ] && [ "$changes" -ge 1 ] &&
	[ "$(grep -c "^ip@lvye.example.com.tw	網站密碼重設通知（帳號 $A）	contact$" "$T/confirm.txt")" = "$resets" ] &&
	[ "$(grep -c "^ip@lvye.example.com.tw	網站密碼變更通知（帳號 $A）	contact$" "$T/confirm.txt")" = "$changes" ] &&
	ok "a confirmation mail after each password reset ($resets) and change ($changes), with the contact details, once" ||
	fail "password confirmations" "resets $resets, changes $changes: $(cat "$T/confirm.txt")"

# --- no clear password anywhere -------------------------------------------------------------
leaks=0
for p in "$PW" "$PW2" "Abcdefgh234" "Qwerty-Pass-42" "Wrong-Password-1"; do
	grep -rqF -- "$p" "$DEP"/log/ "$DEP"/ra.db* "$DEP"/signer/ "$T"/check.log "$T"/notifier.log 2>/dev/null && leaks=$((leaks + 1))
done
[ "$leaks" -eq 0 ] && ok "no clear password in the logs or ra.db (grep of 5 passwords)" || fail "leak" "$leaks"
[ "$(sql "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE kind IN ('login','suspend','password_change') AND (json_extract(payload, '\$.password') <> '(redacted)' OR json_extract(payload, '\$.new_password') <> '(redacted)')")" -eq 0 ] \
	&& ok "every sealed password was redacted from its job once done" || fail "redaction"
check "audit chain intact" ra-ctl audit verify

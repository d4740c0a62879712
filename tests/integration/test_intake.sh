#!/bin/bash
# ra-intake at the counter, with the real back office behind it.
#
# First what needs no queue: --help on every subcommand, the 20 example registrations
# and the mailed batch checked (--check), the bad batch rejected with the right line
# numbers and reasons, an interactive keying fed through a pipe (a wrong ID asked again).
# Then a deployment made by `ra-ctl init` and started by `ra-ctl up`: the examples
# imported as one job, an import repeated (same, not stored twice), the bad batch storing
# nothing, the blind second keying (a mismatch named field by field, then a match), and
# the approval rules: not by the keyer, not by the verifier, yes by a third officer.
. "$(dirname "$0")/lib.sh"

EX=$RA_TOP/config/examples
out=$T/out.txt

# has TEXT FILE: FILE contains the fixed string TEXT.
has() { grep -qF -- "$1" "$2"; }

# ---- without a queue ----

help_all() {
	local c
	for c in register revoke resume password-reset import verify approve status; do
		ra-intake "$c" --help >"$out" 2>&1 || return 1
		has "usage: ra-intake $c" "$out" || return 1
	done
	ra-intake --help | grep -q "commands:"
}
check "every subcommand has --help" help_all

bad_usage() {
	ra-intake frobnicate >/dev/null 2>&1; [ $? -eq 2 ] || return 1
	ra-intake import "$EX/mailed-batch.csv" >/dev/null 2>&1; [ $? -eq 2 ] || return 1
	ra-intake approve R2026-000001 >"$out" 2>&1; [ $? -eq 2 ] || return 1
	has "--officer is required" "$out"
}
check "a wrong command line says why and exits 2" bad_usage

examples_valid() {
	local f n=0
	for f in "$EX"/reg-*.yaml; do
		ra-intake register --file "$f" --check >"$out" 2>&1 || { cat "$out"; return 1; }
		has "1 form valid" "$out" || return 1
		n=$((n + 1))
	done
	[ "$n" -eq 20 ]
}
check "the 20 example registrations are valid" examples_valid

check "the mailed batch is valid" ra-intake import --officer clerk01 --passphrase-file "$OPASS" --check "$EX/mailed-batch.csv"

bad_batch() {
	ra-intake import --officer clerk01 --passphrase-file "$OPASS" --check "$EX/mailed-batch-bad.csv" >"$out" 2>&1
	[ $? -eq 1 ] || return 1
	has "line 2: accepted M2026-000201" "$out" &&
	has "line 3: rejected M2026-000202" "$out" &&
	grep -A1 "^line 3:" "$out" | has "national_id: check digit does not match" /dev/stdin &&
	grep -A1 "^line 4:" "$out" | has "contact_person: is required" /dev/stdin &&
	grep -A1 "^line 5:" "$out" | has "ubn: check sum does not match" /dev/stdin &&
	grep -A4 "^line 6:" "$out" | has "phone: is not a Taiwan" /dev/stdin &&
	grep -A4 "^line 6:" "$out" | has "postal_code:" /dev/stdin &&
	has "line 7: accepted M2026-000206" "$out" &&
	has "line 8: rejected M2026-000201: serial: already on line 2" "$out" &&
	has "line 9: rejected: has 4 fields, the header has 14" "$out" &&
	has "2 accepted, 6 rejected" "$out" &&
	has "nothing sent" "$out"
}
check "the bad batch is rejected row by row with line numbers" bad_batch

bad_yaml_list() {
	cat >"$T/list.yaml" <<-'YAML'
	- serial: R2026-800001
	  applicant_type: person
	  name: 張家豪
	  national_id: B123456789
	  email: chiahao@example.com.tw
	  phone: 0912-345-678
	  postal_code: 407
	  address: 臺中市西屯區臺灣大道三段99號
	  documents_seen: [national_id_card]
	- serial: R2026-800002
	  colour: blue
	YAML
	ra-intake import --officer clerk01 --passphrase-file "$OPASS" --check "$T/list.yaml" >"$out" 2>&1
	[ $? -eq 1 ] && grep -A1 "^line 1: rejected R2026-800001" "$out" | has "national_id:" /dev/stdin &&
	has "line 10: rejected: line 11: colour: is not a field of this form" "$out"
}
check "a YAML list is checked form by form with line numbers" bad_yaml_list

interactive() {
	# serial, type, name, a wrong national ID, the right one, e-mail, phone, postal
	# code, address, documents, terms version, supersedes and language (skipped).
	printf '%s\n' r2026-900001 個人 陳怡君 A123456788 A123456789 yijun@example.com.tw \
	    "+886 2 2736 5821" 106 臺北市大安區和平東路二段106號 身分證 2026.1 "" "" |
	    ra-intake register --officer clerk01 --passphrase-file "$OPASS" --check >"$out" 2>&1 || return 1
	has "national_id: check digit does not match" "$out" &&
	has '"national_id": "A123456789"' "$out" &&
	has '"serial": "R2026-900001"' "$out" &&
	has '"phone": "0227365821"' "$out" &&
	has '"applicant_type": "person"' "$out" &&
	! has '"ubn"' "$out"
}
check "interactive keying asks a wrong field again" interactive

eof_sends_nothing() {
	printf 'R2026-900002\nperson\n' | ra-intake register --officer clerk01 --passphrase-file "$OPASS" >"$out" 2>&1
	[ $? -eq 1 ] && has "nothing sent" "$out"
}
check "input that ends early sends nothing" eof_sends_nothing

other_kinds() {
	printf '%s\n' V2026-000001 u12345678 a123456789 身分證 金鑰遺失 2026/11/20 |
	    ra-intake revoke --officer clerk01 --passphrase-file "$OPASS" --check >"$out" 2>&1 &&
	has '"reason": "keyCompromise"' "$out" && has '"event_date": "2026-11-20"' "$out" &&
	has '"applicant_id": "A123456789"' "$out" &&
	printf '%s\n' P2026-000001 u1234567 u12345678 A123456789 身分證 臨櫃 陳怡君 "" "" "" |
	    ra-intake password-reset --officer clerk01 --passphrase-file "$OPASS" --check >"$out" 2>&1 &&
	has "account: must be u followed by 8 digits" "$out" && has '"delivery": "counter"' "$out"
}
check "revocation and password-reset forms" other_kinds

# ---- with the back office ----

# ra-ctl and the daemons come from the same build; give a parallel build a moment.
if ! wait_for 10 test -x "$BUILD/bin/ra-queue" || ! command -v ra-ctl >/dev/null; then
	ok "back office checks # SKIP ra-ctl or ra-queue is not built"
	exit 0
fi

DEP=$T/dep
CFG=$DEP/ra.yaml
if ra-ctl init "$DEP" --passphrase-file "$OPASS" >"$T/init.log" 2>&1 && ra-ctl -c "$CFG" up >"$T/up.log" 2>&1; then
	ok "deployment initialised and started"
else
	fail "deployment initialised and started" "see $T/init.log, $T/up.log"
	exit 1
fi
on_exit "ra-ctl -c $CFG down"
export RA_CONFIG=$CFG
ra_officers
ra-ctl officer add clerk03 --role clerk --officer admin --passphrase-file "$OPASS" --new-passphrase-file "$OPASS" >/dev/null || fail "officer clerk03"

import_examples() {
	local y=$T/examples.yaml f
	# The 20 files as one YAML list: one job for the whole batch.
	for f in "$EX"/reg-*.yaml; do
		awk '/^#/ { next } { print (n++ ? "  " : "- ") $0 }' "$f"
	done >"$y"
	ra-intake import --officer clerk01 --passphrase-file "$OPASS" "$y" >"$out" 2>&1 || { cat "$out"; return 1; }
	has "20 accepted, 0 rejected" "$out" && has "stored: 20, already keyed the same: 0, conflicts: 0" "$out" &&
	ra-intake import --officer clerk01 --passphrase-file "$OPASS" "$EX/mailed-batch.csv" >"$out" 2>&1 &&
	has "stored: 7," "$out" && [ "$(grep -c '(form_key) queued' "$out")" -eq 1 ]
}
check "the examples and the mailed batch are imported, each as one job" import_examples

import_again() {
	local first
	first=$(grep -o '^job [0-9]* (form_key)' "$out")
	ra-intake import --officer clerk01 --passphrase-file "$OPASS" "$EX/mailed-batch.csv" >"$out" 2>&1 &&
	[ -n "$first" ] && has "$first" "$out"
}
check "importing the same batch again gets the same job back" import_again

keyed_same() {
	ra-intake register --file "$EX/reg-01.yaml" --passphrase-file "$OPASS" >"$out" 2>&1 &&
	has "stored: 0, already keyed the same: 1, conflicts: 0" "$out"
}
check "the same paper keyed again is recognised as the same" keyed_same

keyed_conflict() {
	sed 's/^name: .*/name: 某某某/' "$EX/reg-02.yaml" >"$T/conflict.yaml"
	ra-intake register --file "$T/conflict.yaml" --passphrase-file "$OPASS" >"$out" 2>&1
	[ $? -eq 1 ] && has "conflict R2026-000002: keyed before with other name" "$out"
}
check "a serial keyed again with other content is a conflict" keyed_conflict

interactive_submit() {
	printf '%s\n' R2026-900010 person 林志明 F131104093 chihming@example.net 0912345678 220 \
	    新北市板橋區文化路一段188號 national_id_card 2026.1 "" "" maybe y |
	    ra-intake register --officer clerk03 --passphrase-file "$OPASS" >"$out" 2>&1 || { cat "$out"; return 1; }
	has "Submit this form? (y/n)" "$out" && has "stored: 1, already keyed the same: 0" "$out"
}
check "interactive keying: summary, confirmation, stored" interactive_submit

nothing_stored() {
	ra-intake import --officer clerk01 --passphrase-file "$OPASS" "$EX/mailed-batch-bad.csv" >"$out" 2>&1
	[ $? -eq 1 ] || return 1
	has "nothing sent" "$out" || return 1
	! ra-intake status M2026-000201 >"$out" 2>&1 && ! ra-intake status M2026-000206 >/dev/null 2>&1
}
check "a batch with rejected rows stores nothing" nothing_stored

status_keyed() {
	ra-intake status R2026-000001 >"$out" 2>&1 || return 1
	grep -qE '^kind +registration' "$out" && grep -qE '^keyed_by +clerk01' "$out" &&
	grep -qE '^state +keyed' "$out"
}
check "status shows a keyed form" status_keyed

check_fails "the keyer cannot approve an unverified form" ra-intake approve --officer clerk01 --passphrase-file "$OPASS" R2026-000001

verify_blind() {
	local f=$T/second.yaml
	# The second clerk misreads the name and the phone.
	sed -e 's/^name: .*/name: 某某某/' -e 's/^phone: .*/phone: "02-1111-2222"/' "$EX/reg-01.yaml" >"$f"
	ra-intake verify --officer clerk02 --passphrase-file "$OPASS" --file "$f" >"$out" 2>&1
	[ $? -eq 1 ] || return 1
	has "differs in 2 fields" "$out" && grep -qE '^  name ' "$out" && grep -qE '^  phone ' "$out" || return 1
	# Blind: the first keying's values are never shown.
	! has "$(sed -n 's/^name: //p' "$EX/reg-01.yaml")" "$out" || return 1
	ra-intake verify --officer clerk02 --passphrase-file "$OPASS" --file "$EX/reg-01.yaml" >"$out" 2>&1 && has "matches" "$out"
}
check "second keying: mismatches named field by field, then a match" verify_blind

# The answers a clerk types for FILE at the prompt: every field but serial and officer,
# and an empty answer for supersedes (asked after the terms version).
answers() {
	awk '/^#/ || /^(serial|officer):/ { next }
	    /^terms_version:/ { t = 1 }
	    { sub(/^[a-z_]+: /, ""); gsub(/^"|"$/, ""); gsub(/^\[|\]$/, ""); print; if (t) print ""; t = 0 }' "$1"
}

verify_interactive() {
	local f=$EX/reg-03.yaml name
	name=$(sed -n 's/^name: //p' "$f")
	# The name misread at first; after the mismatch, keyed again from the paper.
	{ answers "$f" | sed "s/^$name\$/某某某/"; printf '%s\n' "" y "$name"; } |
	    ra-intake verify --officer clerk02 --passphrase-file "$OPASS" R2026-000003 >"$out" 2>&1 || { cat "$out"; return 1; }
	has "differs in 1 field" "$out" && grep -qE '^  name ' "$out" && has "the second keying matches" "$out"
}
check "interactive second keying: a mismatch keyed again, then a match" verify_interactive

check_fails "the keyer cannot verify their own form" ra-intake verify --officer clerk01 --passphrase-file "$OPASS" --file "$EX/reg-02.yaml"
check_fails "the keyer cannot approve" ra-intake approve --officer clerk01 --passphrase-file "$OPASS" R2026-000001
check_fails "the verifier cannot approve" ra-intake approve --officer clerk02 --passphrase-file "$OPASS" R2026-000001

approve_ok() {
	ra-intake approve --officer sup01 --passphrase-file "$OPASS" R2026-000001 >"$out" 2>&1 || { cat "$out"; return 1; }
	has "R2026-000001 approved" "$out" && grep -qE 'account u[0-9]{8}' "$out"
}
check "a third officer approves: subscriber, account and card order" approve_ok

status_approved() {
	ra-intake status R2026-000001 >"$out" 2>&1 || return 1
	grep -qE '^verified_by +clerk02' "$out" && grep -qE '^approved_by +sup01' "$out" &&
	grep -qE '^job +[0-9]+ form_approve' "$out" &&
	ra-intake status --json R2026-000001 | grep -q '"approved_by": "sup01"'
}
check "status shows who keyed, verified and approved, and the jobs" status_approved

check_fails "status of an unknown serial fails" ra-intake status R2099-999999

# Shared helpers for integration tests: sourced by tests/integration/test_*.sh.
#
# Each test prints "ok - NAME" or "not ok - NAME: why" per check. Everything runs in a
# fresh temp dir ($T) that is removed at exit, with every process the test started
# stopped (register them with `track PID`).
set -u
RA_TOP=${RA_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-$RA_TOP/build}
export PATH="$BUILD/bin:$PATH"
T=$(mktemp -d /tmp/ra-test.XXXXXX)
_pids=()
_cleanups=()
track() { _pids+=("$1"); }
on_exit() { _cleanups+=("$1"); }
_finish() {
	local c p
	for c in "${_cleanups[@]}"; do eval "$c" >/dev/null 2>&1; done
	for p in "${_pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${_pids[@]}"; do wait "$p" 2>/dev/null; done
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}
trap _finish EXIT
# Work inside the temp dir, so that nothing a test writes by a relative name lands in the tree.
cd "$T" || exit 1

ok() { echo "ok - $1"; }
fail() { echo "not ok - $1${2:+: $2}"; }
# check NAME CMD...: ok if CMD exits 0.
check() { local n=$1; shift; if "$@" >>"$T/check.log" 2>&1; then ok "$n"; else fail "$n" "command failed: $*"; fi; }
# check_fails NAME CMD...: ok if CMD exits non-zero.
check_fails() { local n=$1; shift; if "$@" >>"$T/check.log" 2>&1; then fail "$n" "command succeeded: $*"; else ok "$n"; fi; }
# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds; 0/1.
wait_for() { local i n=$(( $1 * 10 )); shift; for ((i = 0; i < n; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }

# Officers' credentials in tests: every test officer's passphrase is in $OPASS. `ra-ctl
# init` makes the administrator "admin"; ra_officers adds clerk01, clerk02 (clerks), sup01
# (supervisor) and op01 (card operator), each with a credential of their own in
# $DEP/officers/ID.pem, the default place. An officer command then takes
# `--officer ID --passphrase-file "$OPASS"`.
OPASS=$T/officer.pass
printf 'test officer passphrase\n' > "$OPASS"
# officer_sign KIND IDEM PAYLOAD CREDENTIAL: PAYLOAD signed for that job by CREDENTIAL.
officer_sign() { python3 "$RA_TOP/tests/fixtures/officer-sign.py" "$1" "$2" "$3" "$4" "$OPASS"; }
# ra_officers: add the test officers (the daemons must be up).
ra_officers() {
	local o
	for o in clerk01:clerk clerk02:clerk sup01:supervisor op01:operator; do
		ra-ctl officer add "${o%%:*}" --role "${o##*:}" --officer admin --passphrase-file "$OPASS" \
			--new-passphrase-file "$OPASS" >/dev/null || { fail "ra-ctl officer add ${o%%:*}"; exit 1; }
	done
}

# ra_deploy [WORKERS]: a fresh deployment in $T/dep with test settings (cheap password
# hashing, short leases and heartbeats, and worker timeouts the short lease covers: 4 x
# signer + cardkey, lib/config_wait.c) and its daemons up, with the test officers
# (ra_officers; with WORKERS 0 the test calls it once its daemons are up); stopped at
# exit. Sets DEP (the folder) and exports RA_CONFIG.
ra_deploy() {
	local workers=${1:-2}
	DEP=$T/dep
	ra-ctl init "$DEP" --passphrase-file "$OPASS" >/dev/null || { fail "ra-ctl init"; exit 1; }
	sed -i -e '/^queue:/a\  lease_ms: 2000\n  heartbeat_ms: 200\n  retry_backoff_ms: 100' "$DEP/ra.yaml"
	printf 'accounts:\n  argon2_t: 1\n  argon2_m_kib: 1024\n' >> "$DEP/ra.yaml"
	printf 'worker:\n  signer_timeout_ms: 400\n  cardkey_timeout_ms: 400\n' >> "$DEP/ra.yaml"
	export RA_CONFIG=$DEP/ra.yaml
	on_exit "ra-ctl -c $DEP/ra.yaml down"
	if [ "$workers" -gt 0 ]; then
		ra-ctl -c "$RA_CONFIG" up --workers "$workers" >/dev/null || { fail "ra-ctl up" "$(tail -n 5 "$DEP"/log/*.log)"; exit 1; }
		ra_officers
	fi
}

# sql DB QUERY: one query on a SQLite file, plain output
# (A daemon may hold the write lock a moment: wait for it rather than fail.)
sql() { sqlite3 -batch -noheader -cmd '.timeout 10000' "$1" "$2"; }

# notifier_ledger N [CONNECTIONS]: in $T, an SMTP sink (sink/maildir, stopped at exit) and a
# notifier-only ra.yaml and ra.db holding N subscribers (user1..N@example.org), each with
# two valid certificates expiring on 2027-01-10, so that `ra-notifier -c ra.yaml --now
# 2026-12-15 renewals` owes each of them one notice; over CONNECTIONS SMTP connections if
# given (notifier.smtp_connections). A copy of that ledger is left in fresh.db.
notifier_ledger() {
	local n=$1 conns=${2:-} sink=$RA_TOP/tests/fixtures/smtp-sink.sh port
	mkdir -p "$T/sink"
	port=$("$sink" start "$T/sink") || return 1
	on_exit "$sink stop $T/sink"
	cat >"$T/ra.yaml" <<YAML
home: $T
queue:
  db: ra.db
notifier:
  templates_dir: $RA_TOP/config/templates
  from: "RA <ra@ra.example.gov.tw>"
  admin_address: ""
  smtp_url: smtp://127.0.0.1:$port
  smtp_starttls: false
${conns:+  smtp_connections: $conns}
YAML
	ra-notifier -c "$T/ra.yaml" --now 2026-01-01 renewals 2>/dev/null
	sqlite3 "$T/ra.db" <<SQL || return 1
INSERT INTO jobs (id, kind, payload, state, created_at, updated_at) VALUES (1, 'issue', '{}', 'done', 0, 0);
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $n)
INSERT INTO subscribers (id, form_serial, applicant_type, name, id_number, email, postal_code, address, created_at)
SELECT i, 'F' || i, 'person', '測試用戶' || i, printf('A1%08d', i), 'user' || i || '@example.org', '100', '臺北市', 0 FROM k;
INSERT INTO certificates (serial, subscriber_id, usage, subject, not_before, not_after, status, request_id, job_id, pem, created_at)
  SELECT printf('%016x', id * 2), id, 'signature', 'CN=x', 0, strftime('%s', '2027-01-10'), 'valid', printf('r%d', id * 2), 1, '', 0 FROM subscribers
  UNION ALL
  SELECT printf('%016x', id * 2 + 1), id, 'encryption', 'CN=x', 0, strftime('%s', '2027-01-10'), 'valid', printf('r%d', id * 2 + 1), 1, '', 0 FROM subscribers;
SQL
	cp "$T/ra.db" "$T/fresh.db"
}

# register_forms OFFICER_KEY OFFICER_VERIFY OFFICER_APPROVE FILE...: key, second-key and
# approve registration forms through ra-intake, each step signed with that officer's own
# credential; prints nothing, returns non-zero on failure.
register_forms() {
	local k=$1 v=$2 a=$3 f serial
	shift 3
	for f in "$@"; do
		ra-intake import --officer "$k" --passphrase-file "$OPASS" "$f" >/dev/null || return 1
		ra-intake verify --officer "$v" --passphrase-file "$OPASS" --file "$f" >/dev/null || return 1
		serial=$(sed -n 's/^serial: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$f")
		ra-intake approve --officer "$a" --passphrase-file "$OPASS" "$serial" >/dev/null || return 1
	done
}

# make_csr NAME [openssl req options...]: $T/NAME.key and $T/NAME.csr (RSA 2048 by default).
make_csr() {
	local n=$1
	shift
	if [ $# -eq 0 ]; then set -- -newkey rsa:2048; fi
	openssl req -new "$@" -nodes -keyout "$T/$n.key" -subj "/CN=$n" -out "$T/$n.csr" 2>/dev/null
}
# sql_is DB QUERY VALUE: the query's result is VALUE (for wait_for, which re-runs it).
# sheet_unseal WHERE FILE [PASSFILE]: the newest sheet of ra.db matching WHERE, opened with
# the deployment's sheet key into FILE (tests/fixtures/sheet-unseal.py), as the subscriber
# reads it on paper. PASSFILE: the sheet key's passphrase (keys/sheets.pass by default).
sheet_unseal() {
	sql "$DEP/ra.db" "SELECT hex(sealed) FROM sheets WHERE $1 ORDER BY id DESC LIMIT 1" |
		/usr/bin/python3 "$RA_TOP/tests/fixtures/sheet-unseal.py" "$DEP/keys/sheets.key" \
		    "${3:-$DEP/keys/sheets.pass}" "$2"
}
sql_is() { [ "$(sql "$1" "$2")" = "$3" ]; }

# applicant_lines ACCOUNT [sheet]: the YAML lines a form about ACCOUNT needs to name who
# came to the counter (the subscriber's ID number and the documents seen); with "sheet",
# also where a resume or reset sheet goes (recipient, postal code, address, e-mail).
applicant_lines() {
	sql "$DEP/ra.db" "SELECT 'applicant_id: ' || s.id_number || char(10) || 'documents_seen: ' ||
		CASE s.applicant_type WHEN 'person' THEN 'national_id_card' ELSE 'company_registration' END ||
		CASE WHEN '${2:-}' = 'sheet' THEN char(10) || 'recipient: ' || coalesce(s.contact_person, s.name) ||
		char(10) || 'postal_code: \"' || s.postal_code || '\"' || char(10) || 'address: ' || s.address ||
		char(10) || 'email: ' || s.email ELSE '' END
		FROM subscribers s JOIN accounts a ON a.subscriber_id = s.id WHERE a.id = '$1'"
}

# password_from_reset ACCOUNT FORM FILE: a password-reset form (serial FORM) for counter
# pickup through dual control (clerk01 keys, clerk02 second-keys, sup01 approves); its sheet
# printed by ra-notifier and the password read off it into FILE (0600), never printed.
password_from_reset() {
	local sheet
	{ printf 'kind: password_reset\nserial: %s\naccount: %s\ndelivery: counter\n' "$2" "$1"; applicant_lines "$1" sheet; } > "$T/$2.yaml"
	ra-intake password-reset --officer clerk01 --passphrase-file "$OPASS" --file "$T/$2.yaml" >/dev/null || return 1
	ra-intake verify --officer clerk02 --passphrase-file "$OPASS" --kind password_reset --file "$T/$2.yaml" >/dev/null || return 1
	ra-intake approve --officer sup01 --passphrase-file "$OPASS" "$2" >/dev/null || return 1
	sheet=$(sql "$DEP/ra.db" "SELECT json_extract(result, '\$.sheet') FROM jobs WHERE kind = 'form_approve' AND json_extract(result, '\$.form') = '$2'")
	ra-notifier sheets --sheet "$sheet" >/dev/null 2>>"$T/notifier.log" || return 1
	pdftotext "$DEP/sheets/counter/$sheet.pdf" - | grep -xE '[A-Za-z2-9]{12}' | head -n 1 > "$3"
	chmod 600 "$3"
	[ -s "$3" ]
}

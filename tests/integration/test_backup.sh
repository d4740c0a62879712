#!/bin/bash
# test_backup.sh: the backup drill. A deployment under load is backed up with
# `ra-ctl backup` (SQLite's online backup API) while jobs run; the deployment is thrown
# away; `ra-ctl restore` builds a new one from the backup, the CA key comes back from the
# signer host's own copy, the daemons start, the jobs that were in flight at backup time
# run again, the producers send again what they had not seen finished, and every
# invariant of the chaos test holds (tests/integration/invariants.sh). Also: a backup
# holds no secret key unless asked, and then only encrypted; a damaged backup or a wrong
# passphrase is refused before anything is written; `ra-ctl reconcile` names a
# certificate known to one side only and what to do.
. "$(dirname "$0")/lib.sh"
. "$RA_TOP/tests/integration/invariants.sh"

ra_deploy 2
q() { sql "$DEP/ra.db" "$1"; }
forms=()
for i in $(seq -w 1 20); do forms+=("$RA_TOP/config/examples/reg-$i.yaml"); done
register_forms clerk01 clerk02 sup01 "${forms[@]}" && ok "20 forms keyed, verified, approved" || fail "forms"
# request ORDER [TAG]: its certificates from the order's own key pairs (made once per
# ORDER and TAG; the signer certifies a key for one subscriber only), without waiting.
request() {
	local k=$1${2:-}
	[ -f "$T/s$k.csr" ] || { make_csr "s$k"; make_csr "e$k"; }
	ra-ctl request-certs "$1" --sign-csr "$T/s$k.csr" --enc-csr "$T/e$k.csr" --officer op01 --passphrase-file "$OPASS" --no-wait >/dev/null
}
for o in $(seq 1 8); do request "$o"; done
wait_for 60 sql_is "$DEP/ra.db" "SELECT count(*) FROM orders WHERE state = 'issued'" 8 || fail "8 orders issued first"

# --- backup under load: the rest of the orders are being issued meanwhile -----------------
# The workers now pause between the signer's answer and their commit, so the backup is
# taken with jobs in flight whose certificates the signer already issued.
printf 'a passphrase for the drill\n' >"$T/pass"
ra-ctl down >/dev/null
sed -i 's/lease_ms: 2000/lease_ms: 6000/' "$RA_CONFIG"
RA_WORKER_STALL_MS=1500 ra-ctl up --workers 2 >/dev/null
for o in $(seq 9 20); do request "$o"; done
signer_ahead() { [ "$(sql "$DEP/signer/signer.db" "SELECT count(*) FROM certs")" -gt "$(q "SELECT count(*) FROM certificates")" ]; }
wait_for 30 signer_ahead || fail "the signer issued for a job not yet committed"
ra-ctl backup "$T/bk" --with-keys --passphrase-file "$T/pass" >"$T/backup.out" 2>&1 &&
	ok "ra-ctl backup while jobs run" || fail "ra-ctl backup" "$(cat "$T/backup.out")"
inflight=$(sql "$T/bk/ra.db" "SELECT count(*) FROM jobs WHERE state IN ('queued','leased')")
[ "$inflight" -gt 0 ] && ok "the backup holds $inflight job(s) in flight" || fail "jobs in flight in the backup"
check "the backup's ra.db is a whole database" test "$(sql "$T/bk/ra.db" "PRAGMA integrity_check")" = ok
head=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["ra.db"]["audit_head"]["hash"])' "$T/bk/manifest.json")
[ "$(sql "$T/bk/ra.db" "SELECT hash FROM audit ORDER BY id DESC LIMIT 1")" = "$head" ] &&
	ok "manifest: the audit chain head of the copied ledger" || fail "manifest audit head"
/usr/bin/python3 - "$T/bk" <<'PY' && ok "manifest: time, counts and a SHA-256 for every file" || fail "manifest" "$(cat "$T/bk/manifest.json")"
import hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
assert m["created"] and m["ra.db"]["counts"]["certificates"] >= 16, m
assert m["signer.db"]["counts"]["certs"] >= m["ra.db"]["counts"]["certificates"], m
for name, f in m["files"].items():
    assert hashlib.sha256(open(os.path.join(d, name), "rb").read()).hexdigest() == f["sha256"], name
assert set(m["files"]) == {"ra.db", "signer.db", "ra.yaml", "ca.pem", "keys.enc", "officer-ca.pem", "officer-ca.key"}, m["files"]
PY
# No secret in clear: the keys are in keys.enc only, and the CA key is nowhere.
if grep -rlE "BEGIN (RSA |EC )?PRIVATE KEY|secret-key" "$T/bk" | grep -v keys.enc; then fail "no secret in clear in the backup"; else ok "no secret in clear in the backup"; fi
grep -rqaF "$(cat "$DEP/signer/ca.pass")" "$T/bk" || cmp -s "$DEP/signer/ca.key" "$T/bk/ca.key" &&
	fail "the CA passphrase is in the backup" || ok "the CA key and its passphrase are not in the backup"
ra-ctl backup "$T/bk-nokeys" >/dev/null 2>&1 && [ ! -e "$T/bk-nokeys/keys.enc" ] &&
	grep -q '"missing": "no secret key' "$T/bk-nokeys/manifest.json" && ok "without --with-keys: no key at all, and the manifest says so" ||
	fail "backup without keys"
check_fails "a second backup into the same folder is refused" ra-ctl backup "$T/bk"

# --- refusals before anything is written --------------------------------------------------
cp -r "$T/bk" "$T/bad"
printf 'X' | dd of="$T/bad/ra.db" bs=1 seek=5000 conv=notrunc 2>/dev/null
out=$(ra-ctl restore "$T/bad" "$T/r-bad" --passphrase-file "$T/pass" 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"damaged"* ]] && [ ! -e "$T/r-bad/ra.db" ] &&
	ok "a damaged backup is refused, nothing written" || fail "damaged backup" "$out"
printf 'not the passphrase at all\n' >"$T/wrong"
out=$(ra-ctl restore "$T/bk" "$T/r-wrong" --passphrase-file "$T/wrong" 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"wrong passphrase"* ]] &&
	ok "a wrong passphrase is refused" || fail "wrong passphrase" "$out"
mkdir -p "$T/full" && touch "$T/full/x"
check_fails "restore into a folder that is not empty is refused" ra-ctl restore "$T/bk" "$T/full" --passphrase-file "$T/pass"

# --- the old deployment goes on a little, then is thrown away ------------------------------
wait_for 60 sql_is "$DEP/ra.db" "SELECT count(*) FROM orders WHERE state = 'issued'" 20 || fail "old deployment finished its load"
ra-ctl down >/dev/null
mkdir -p "$T/signer-host"
cp "$DEP/signer/ca.key" "$DEP/signer/ca.pass" "$T/signer-host/"	# the signer host's own copy of its key
cp -r "$DEP/officers" "$T/officers-held"	# the officers keep their own credentials
rm -rf "$DEP"

# --- restore, start, let the in-flight jobs run again ---------------------------------------
NEW=$T/restored
ra-ctl restore "$T/bk" "$NEW" --passphrase-file "$T/pass" >"$T/restore.out" 2>&1 &&
	ok "ra-ctl restore" || fail "ra-ctl restore" "$(cat "$T/restore.out")"
grep -q "CA key: put it at" "$T/restore.out" && ok "restore says where the CA key must go" || fail "restore: CA key advice" "$(cat "$T/restore.out")"
out=$(ra-ctl -c "$NEW/ra.yaml" reconcile 2>&1)
[ $? -eq 1 ] && [[ "$out" == *"signer only"*"in flight: job"*"stores it when it runs"* ]] &&
	ok "reconcile before start: the signer's certificates of in-flight jobs, which settle by themselves" ||
	fail "reconcile before start" "$out"
cp "$T/signer-host/ca.key" "$T/signer-host/ca.pass" "$NEW/signer/"
cp "$T/officers-held"/*.pem "$NEW/officers/"
export RA_CONFIG=$NEW/ra.yaml
on_exit "ra-ctl -c $NEW/ra.yaml down"
ra-ctl up --workers 2 >/dev/null || fail "ra-ctl up on the restored deployment" "$(tail -n 5 "$NEW"/log/*.log)"
ra_quiet "$NEW" 60 || fail "the in-flight jobs ran again" "$(sql "$NEW/ra.db" "SELECT id, kind, state FROM jobs WHERE state <> 'done'")"
# The producers send again what they had not seen finished (the same request, the same key).
for o in $(sql "$NEW/ra.db" "SELECT id FROM orders WHERE state = 'approved'"); do request "$o"; done
ra_quiet "$NEW" 60
wait_for 60 sql_is "$NEW/ra.db" "SELECT count(*) FROM orders WHERE state = 'issued'" 20 &&
	ok "every order issued after the restore" || fail "orders after restore" "$(sql "$NEW/ra.db" "SELECT id, state FROM orders WHERE state <> 'issued'")"
[ "$(sql "$NEW/ra.db" "SELECT count(*) FROM jobs WHERE kind = 'restore'")" -eq 1 ] &&
	ok "new jobs number past every id the signer has seen (one restore marker)" || fail "restore marker"
ra-ctl reconcile >"$T/reconcile.out" 2>&1 && ok "ra-ctl reconcile: both ledgers agree" || fail "reconcile after restore" "$(cat "$T/reconcile.out")"
ra_invariants "$NEW"

# --- reconcile names what one side only knows ---------------------------------------------
cp "$NEW/signer/signer.db" "$T/signer-copy.db"
sqlite3 "$T/signer-copy.db" "INSERT INTO certs (request_id, serial, usage, subject, csr_sha256, req_sha256, not_before, not_after, der)
	VALUES ('job999999.signature', 'feedface', 'signature', 'CN=x', x'00', x'00', 0, 0, x'00')"
out=$(ra-ctl reconcile --signer-db "$T/signer-copy.db" 2>&1)
[ $? -eq 1 ] && [[ "$out" == *"feedface  signer only"*"the RA lost it"* ]] &&
	ok "reconcile: a certificate the signer alone knows, with what to do" || fail "reconcile signer-only" "$out"

# --- the RA host is lost, the signer host outlives it ---------------------------------------
# Work done after the backup is lost with the RA host, but the signer remembers its request
# ids: the restored ledger must not hand those job ids out again (the signer would refuse
# a request id reused with another request), and reconcile names what the RA lost.
ra-ctl backup "$T/bk2" --with-keys --passphrase-file "$T/pass" >/dev/null || fail "second backup"
late_id=(B191417777 C231706694)	# two more people (valid national IDs)
for n in 1 2; do
	sed -e "s/^serial: .*/serial: R2026-00090$n/" -e "s/^national_id: .*/national_id: ${late_id[n - 1]}/" \
		-e "s/^email: .*/email: late$n@example.com/" "$RA_TOP/config/examples/reg-0$n.yaml" >"$T/late-$n.yaml"
done
register_forms clerk01 clerk02 sup01 "$T/late-1.yaml" "$T/late-2.yaml" || fail "two forms after the backup"
request 21; request 22
wait_for 60 sql_is "$NEW/ra.db" "SELECT count(*) FROM orders WHERE state = 'issued'" 22 || fail "two orders issued after the backup"
ra-ctl down >/dev/null
mv "$NEW/signer" "$T/signer-host2"
rm -rf "$NEW"
NEW2=$T/restored2
ra-ctl restore "$T/bk2" "$NEW2" --passphrase-file "$T/pass" --signer-db "$T/signer-host2/signer.db" >"$T/restore2.out" 2>&1 &&
	ok "restore with the signer's current signer.db" || fail "restore with --signer-db" "$(cat "$T/restore2.out")"
cp "$T/signer-host/ca.key" "$T/signer-host/ca.pass" "$NEW2/signer/"
cp "$T/officers-held"/*.pem "$NEW2/officers/"
export RA_CONFIG=$NEW2/ra.yaml
on_exit "ra-ctl -c $NEW2/ra.yaml down"
ra-ctl up --workers 2 >/dev/null || fail "ra-ctl up after the second restore" "$(tail -n 5 "$NEW2"/log/*.log)"
out=$(ra-ctl reconcile 2>&1)
[ $? -eq 1 ] && [ "$(grep -c "signer only (valid.*the RA lost it" <<<"$out")" -eq 4 ] &&
	ok "reconcile: the 4 certificates issued after the backup, lost by the RA, with what to do" || fail "reconcile lost" "$out"
# The clerks key the two forms again and the requests are sent again, in another order.
register_forms clerk01 clerk02 sup01 "$T/late-2.yaml" "$T/late-1.yaml" || fail "the two forms again"
request 22 again; request 21 again	# new keys: the old ones are certified to the lost accounts
ra_quiet "$NEW2" 60
[ "$(sql "$NEW2/ra.db" "SELECT count(*) FROM jobs WHERE state <> 'done'")" -eq 0 ] &&
	[ "$(sql "$NEW2/ra.db" "SELECT count(*) FROM orders WHERE state = 'issued'")" -eq 22 ] &&
	ok "work sent again after the restore: no job refused for a reused request id" ||
	fail "work after the second restore" "$(sql "$NEW2/ra.db" "SELECT id, kind, state, error FROM jobs WHERE state <> 'done'")"

#!/bin/bash
# One Unix user per part of the RA host (ra-ctl init --users, as root): ra-signer,
# ra-queue (queue and workers), ra-notifier. Each reads only its own secrets, the
# passphrases are not beside their keys, and the daemons work under their users, with
# their passphrases handed over as credentials ($CREDENTIALS_DIRECTORY).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { ok "not root: --users cannot be tried (skipped)"; exit 0; }
chmod 711 "$T"	# the daemons' users must reach the deployment inside the test's folder
DEP=$T/dep
ra-ctl init "$DEP" --passphrase-file "$OPASS" --users >"$T/init.log" 2>&1 || { fail "ra-ctl init --users" "$(cat "$T/init.log")"; exit 1; }
sed -i -e '/^queue:/a\  lease_ms: 2000\n  heartbeat_ms: 200\n  retry_backoff_ms: 100' "$DEP/ra.yaml"
printf 'worker:\n  signer_timeout_ms: 400\n  cardkey_timeout_ms: 400\n' >> "$DEP/ra.yaml"
printf 'accounts:\n  argon2_t: 1\n  argon2_m_kib: 1024\n' >> "$DEP/ra.yaml"
export RA_CONFIG=$DEP/ra.yaml
on_exit "ra-ctl -c $DEP/ra.yaml down"
ok "ra-ctl init --users"
for u in ra-signer ra-cardkey ra-queue ra-notifier ra-web; do id "$u" >/dev/null 2>&1 || fail "user $u exists"; done
id -nG ra-queue | grep -qw ra-ledger && id -nG ra-notifier | grep -qw ra-ledger && ! id -nG ra-signer | grep -qw ra-ledger \
	&& ok "users ra-signer, ra-queue, ra-notifier; ra-ledger shares ra.db between the queue and the notifier" || fail "users and groups"

# can USER FILE: 0 if USER can read FILE
can() { runuser -u "$1" -- cat "$DEP/$2" >/dev/null 2>&1; }
cannot_all() {	# USER FILE...
	local u=$1 f bad=; shift
	for f in "$@"; do [ -e "$DEP/$f" ] || bad="$bad $f(missing)"; can "$u" "$f" && bad="$bad $f"; done
	[ -z "$bad" ] && ok "$u cannot read: $*" || fail "$u reads what it must not" "$bad"
}
cannot_all ra-queue keys/sheets.key keys/card-master.key keys/cardkey.cert_secret officers/ca.key officers/admin.pem keys/clients/web.cert_secret keys/clients/intake.cert_secret keys/clients/ctl.cert_secret \
	signer/ca.key keys/signer.cert_secret credentials/ca.pass credentials/sheets.pass
cannot_all ra-signer keys/workers/worker.cert_secret keys/worker-seal.key keys/queue.cert_secret keys/sheets.key \
	keys/card-master.key credentials/worker-seal.pass ra.db
cannot_all ra-notifier signer/ca.key keys/worker-seal.key keys/workers/worker.cert_secret keys/card-master.key credentials/ca.pass
can ra-queue keys/workers/worker.cert_secret && can ra-queue ra.db && can ra-signer signer/ca.key && can ra-notifier keys/sheets.key \
	&& can ra-web keys/clients/web.cert_secret && ! can ra-web keys/clients/self.cert_secret \
	&& ok "each reads its own keys" || fail "own keys"
[ ! -e "$DEP/signer/ca.pass" ] && [ ! -e "$DEP/keys/sheets.pass" ] && [ ! -e "$DEP/keys/worker-seal.pass" ] && [ ! -e "$DEP/keys/ocsp.pass" ] \
	&& [ "$(stat -c %U:%a "$DEP/credentials")" = root:700 ] \
	&& ok "no passphrase lies beside its key: they are in credentials/ (root, 0700)" || fail "passphrases beside keys"
id -nG ra-queue | grep -qw ra-sockets && ! id -nG ra-notifier | grep -qw ra-sockets \
	&& [ "$(stat -c %U:%G:%a "$DEP/run")" = root:ra-sockets:1775 ] \
	&& runuser -u ra-queue -- touch "$DEP/run/probe" && rm "$DEP/run/probe" \
	&& ! runuser -u nobody -- touch "$DEP/run/queue.sock" 2>/dev/null && ! runuser -u ra-notifier -- touch "$DEP/run/signer.sock" 2>/dev/null \
	&& ok "run/: only the daemons that bind make files there (group ra-sockets); no other user takes a socket's name first" \
	|| fail "run folder" "$(stat -c %U:%G:%a "$DEP/run"; ls -l "$DEP/run")"

ra-ctl up --workers 1 >"$T/up.log" 2>&1 || { fail "ra-ctl up under the users" "$(cat "$T/up.log") $(tail -n 3 "$DEP"/log/*.log)"; exit 1; }
ra_officers
owner() { ps -o user= -p "$(cat "$DEP/run/$1.pid")"; }
[ "$(owner ca-signer)" = ra-signer ] && [ "$(owner ra-cardkey)" = ra-cardkey ] && [ "$(owner ra-queue)" = ra-queue ] && [ "$(owner ra-worker-1)" = ra-queue ] \
	&& ok "the daemons run as their users" || fail "daemon users" "$(owner ca-signer) $(owner ra-queue) $(owner ra-worker-1)"
[ "$(ls "$DEP/run/credentials/ra-signer")" = ca.pass ] && [ "$(ls "$DEP/run/credentials/ra-queue")" = worker-seal.pass ] \
	&& ok "each daemon is handed its own passphrase only" || fail "credentials handed" "$(ls -R "$DEP/run/credentials")"
register_forms clerk01 clerk02 sup01 "$RA_TOP"/config/examples/reg-01.yaml || fail "registration under the users"
make_csr s1; make_csr e1
ra-ctl request-certs 1 --sign-csr "$T/s1.csr" --enc-csr "$T/e1.csr" --officer op01 --passphrase-file "$OPASS" --out "$T/out" >/dev/null \
	&& [ "$(ls "$T"/out/*.pem | wc -l)" = 2 ] && ok "forms approved and certificates issued under the users" \
	|| fail "issue under the users" "$(tail -n 3 "$DEP/log/ca-signer.log" "$DEP/log/ra-worker-1.log")"
[ "$(stat -c %U:%a "$DEP/signer/signer.db")" = ra-signer:600 ] && ok "signer.db is ra-signer's, 0600" || fail "signer.db owner" "$(stat -c %U:%a "$DEP/signer/signer.db")"
# the notifier as systemd runs it: its user, its passphrase as a credential
mkdir -m 700 "$T/cred-notifier" && cp "$DEP/credentials/sheets.pass" "$T/cred-notifier/" && chown -R ra-notifier "$T/cred-notifier"
if runuser -u ra-notifier -- env CREDENTIALS_DIRECTORY="$T/cred-notifier" RA_CONFIG="$RA_CONFIG" "$BUILD/bin/ra-notifier" sheets >"$T/n.out" 2>"$T/n.log" \
	&& [ "$(find "$DEP/sheets" -name '*.pdf' | wc -l)" -ge 1 ]; then
	ok "ra-notifier prints the sheets as ra-notifier with its credential"
else
	fail "notifier under its user" "$(tail -n 3 "$T/n.log")"
fi
# metrics: each program writes its file as its own user (ca-signer's in signer/, linked)
wait_for 20 sh -c "test -s '$DEP/metrics/ra-queue.prom' && test -s '$DEP/metrics/ca-signer.prom' && test -s '$DEP/metrics/ra-notifier-sheets.prom'" \
	&& [ "$(stat -c %U "$DEP/metrics/ra-queue.prom")" = ra-queue ] && [ "$(stat -c %U "$DEP/signer/ca-signer.prom")" = ra-signer ] \
	&& [ "$(stat -c %U "$DEP/metrics/ra-notifier-sheets.prom")" = ra-notifier ] \
	&& ok "metrics files written under the users (ra-queue, ra-signer in signer/, ra-notifier)" \
	|| fail "metrics under the users" "$(ls -l "$DEP/metrics" "$DEP/signer" 2>&1 | tr '\n' ' ')"
[ "$(stat -c %U:%G:%a "$DEP/metrics")" = root:ra-metrics:1775 ] && ! runuser -u nobody -- touch "$DEP/metrics/fake.prom" 2>/dev/null \
	&& ok "metrics/: only the daemons' users write there (group ra-metrics); nobody else can plant a file" \
	|| fail "metrics folder" "$(stat -c %U:%G:%a "$DEP/metrics"; ls -l "$DEP/metrics")"
ra-ctl down >/dev/null
[ ! -e "$DEP/run/credentials" ] && ok "ra-ctl down removes the handed-over credentials" || fail "credentials left" "$(ls -R "$DEP/run/credentials")"
exit 0

#!/bin/bash
# The notifier as shipped: its schedule (config/cron/ra-notifier and the notifier's units
# in config/systemd/: the units pass `systemd-analyze verify`, and every command they and
# the cron file run is one ra-notifier runs, here against a scratch ledger), and a
# deployment made by `ra-ctl init` finding the shipped mail templates without a setting.
. "$(dirname "$0")/lib.sh"
CRON=$RA_TOP/config/cron/ra-notifier
UNITS=$RA_TOP/config/systemd
cd "$T"
mkdir units keys
head -c 24 /dev/urandom | base64 >keys/sheets.pass
openssl genpkey -algorithm X25519 -aes-256-cbc -pass file:keys/sheets.pass -out keys/sheets.key 2>/dev/null
openssl pkey -in keys/sheets.key -passin file:keys/sheets.pass -pubout -out keys/sheets.pub
printf 'home: %s\nqueue:\n  db: ra.db\nnotifier:\n  templates_dir: %s/config/templates\n  admin_address: ""\n' "$T" "$RA_TOP" >ra.yaml
for u in "$UNITS"/ra-notifier*.service "$UNITS"/ra-notifier*.timer; do
	# the units name the installed binary, user and config; here the build's, root's and ours
	sed -e "s|/usr/local/bin/ra-notifier|$BUILD/bin/ra-notifier|" -e 's/^User=ra$/User=root/' \
		-e "s|^Environment=RA_CONFIG=.*|Environment=RA_CONFIG=$T/ra.yaml|" "$u" >"units/$(basename "$u")"
done
if ! ls units/*.timer >/dev/null 2>&1; then
	fail "systemd timer for the notifier in config/systemd"
elif command -v systemd-analyze >/dev/null; then
	if systemd-analyze verify --man=no units/* >verify.log 2>&1 && ! grep -q . verify.log; then
		ok "notifier's systemd units verify"
	else
		fail "notifier's systemd units verify" "$(cat verify.log)"
	fi
else
	ok "notifier's systemd units verify # SKIP systemd-analyze not installed"
fi
for t in units/*.timer; do
	[ -f "${t%.timer}.service" ] && ok "$(basename "$t") starts a shipped service" || fail "$(basename "$t") has no service"
done
# every ra-notifier command the cron file and the services run, without its redirections
cmds=$( { grep -h '^ExecStart=' units/*.service | sed 's/^ExecStart=//'
	grep -vE '^[[:space:]]*(#|[A-Z_]+=|$)' "$CRON" | awk '{ $1 = $2 = $3 = $4 = $5 = $6 = ""; print }'; } |
	sed -e 's/[0-9]*>>*.*$//' -e 's|^ *[^ ]*/ra-notifier *||' -e 's/ *$//' | sort -u)
[ -n "$cmds" ] || fail "commands found in the schedule"
while read -r args; do
	# shellcheck disable=SC2086
	if ra-notifier -c ra.yaml --now 2026-06-01 $args >run.out 2>run.log; then
		ok "scheduled command runs: ra-notifier $args"
	else
		fail "scheduled command runs: ra-notifier $args" "$(cat run.log)"
	fi
done <<<"$cmds"

# a fresh deployment names no templates folder: the shipped templates are found
ra-ctl init "$T/dep" --passphrase-file "$OPASS" >/dev/null
check "ra-ctl init deployment: notifier settings valid without templates_dir" ra-notifier -c "$T/dep/ra.yaml" --check
check "ra-ctl init deployment: renewal scan runs" ra-notifier -c "$T/dep/ra.yaml" renewals --dry-run
printf 'notifier:\n  templates_dir: no-such-folder\n' >>"$T/dep/ra.yaml"
ra-notifier -c "$T/dep/ra.yaml" --check >/dev/null 2>bad.log; rc=$?
[ "$rc" = 2 ] && grep -q "no-such-folder/zh-TW/renewal.txt is missing" bad.log \
	&& ok "a templates folder named in the configuration is never replaced" || fail "a named templates folder is checked" "rc=$rc $(cat bad.log)"
exit 0

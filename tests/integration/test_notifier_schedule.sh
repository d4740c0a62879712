#!/bin/bash
# The notifier as shipped: its schedule (notifier/schedule/: the systemd units pass
# `systemd-analyze verify`, and every command the cron file and the services run is one
# ra-notifier accepts, run here as a dry run against a scratch ledger), and a deployment
# made by `ra-ctl init` finding the shipped mail templates without a setting.
. "$(dirname "$0")/lib.sh"
S=$RA_TOP/notifier/schedule
cd "$T"
mkdir units
printf 'home: %s\nqueue:\n  db: ra.db\nnotifier:\n  templates_dir: %s/config/templates\n' "$T" "$RA_TOP" >ra.yaml
for u in "$S"/*.service "$S"/*.timer; do
	# the units name the installed binary and user; here the build's binary and root
	sed -e "s|/usr/local/bin/ra-notifier|$BUILD/bin/ra-notifier|" -e 's/^User=ra$/User=root/' \
		-e "s|RA_CONFIG=/etc/ra/ra.yaml|RA_CONFIG=$T/ra.yaml|" "$u" >"units/$(basename "$u")"
done
if command -v systemd-analyze >/dev/null; then
	if systemd-analyze verify --man=no units/*.timer units/*.service >verify.log 2>&1 && ! grep -q . verify.log; then
		ok "systemd units verify"
	else
		fail "systemd units verify" "$(cat verify.log)"
	fi
else
	ok "systemd units verify # SKIP systemd-analyze not installed"
fi
for t in "$S"/*.timer; do
	[ -f "${t%.timer}.service" ] && ok "$(basename "$t") starts a shipped service" || fail "$(basename "$t") has no service"
done
cmds=$( { grep -h '^ExecStart=' "$S"/*.service | sed 's/^ExecStart=//'
	grep -vE '^(#|[A-Z_]+=|$)' "$S/ra-notifier.cron" | cut -f 3-; } | sort -u)
[ -n "$cmds" ] || fail "commands found in the schedule"
while read -r c; do
	args=${c#/usr/local/bin/ra-notifier }
	# shellcheck disable=SC2086
	if ra-notifier -c ra.yaml --now 2026-06-01 $args --dry-run >run.out 2>run.log; then
		ok "scheduled command is valid: ra-notifier $args"
	else
		fail "scheduled command is valid: ra-notifier $args" "$(cat run.log)"
	fi
done <<<"$cmds"

# a fresh deployment names no templates folder: the shipped templates are found
ra-ctl init "$T/dep" >/dev/null
check "ra-ctl init deployment: notifier settings valid without templates_dir" ra-notifier -c "$T/dep/ra.yaml" --check
check "ra-ctl init deployment: renewal scan runs" ra-notifier -c "$T/dep/ra.yaml" renewals --dry-run
printf 'notifier:\n  templates_dir: no-such-folder\n' >>"$T/dep/ra.yaml"
ra-notifier -c "$T/dep/ra.yaml" --check >/dev/null 2>bad.log; rc=$?
[ "$rc" = 2 ] && grep -q "no-such-folder/zh-TW/renewal.txt is missing" bad.log \
	&& ok "a templates folder named in the configuration is never replaced" || fail "a named templates folder is checked" "rc=$rc $(cat bad.log)"
exit 0

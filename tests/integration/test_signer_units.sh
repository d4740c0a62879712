#!/bin/bash
# The shipped systemd units, scored by systemd-analyze security --offline=true (0 best, 10
# worst): ca-signer at most 2.5, every other unit below 5.0; each service runs as its own
# user with no_new_privs, a read-only system and its passphrase as a credential.
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || { fail "systemd-analyze is not installed"; exit 0; }
U=$RA_TOP/config/systemd
score() { systemd-analyze security --offline=true "$U/$1" 2>/dev/null | sed -n 's/^→ Overall exposure level for .*: \([0-9.]*\) .*/\1/p'; }
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }
s=$(score ca-signer.service)
[ -n "$s" ] && below "$s" 2.5 && ok "ca-signer.service scores $s (at most 2.5)" || fail "ca-signer.service score" "${s:-none}"
for f in "$U"/*.service; do
	n=$(basename "$f")
	[ "$n" = ca-signer.service ] && continue
	s=$(score "$n")
	[ -n "$s" ] && below "$s" 4.9 && ok "$n scores $s (below 5.0)" || fail "$n score" "${s:-none}"
done
bad=
for f in "$U"/*.service; do
	u=$(sed -n 's/^User=//p' "$f")
	case "$(basename "$f"):$u" in
	ca-signer.service:ra-signer | ra-queue.service:ra-queue | ra-worker@.service:ra-queue | ra-notifier-*:ra-notifier | \
	ra-web.service:ra-web) ;;
	*) bad="$bad $(basename "$f"):${u:-no User=}" ;;
	esac
	grep -qx 'NoNewPrivileges=yes' "$f" && grep -qx 'ProtectSystem=strict' "$f" || bad="$bad $(basename "$f"):hardening"
done
[ -z "$bad" ] && ok "each unit runs as its part's user, no_new_privs, read-only system" || fail "unit users" "$bad"
grep -q '^LoadCredential=ca.pass:' "$U/ca-signer.service" && grep -q '^LoadCredential=worker-seal.pass:' "$U/ra-worker@.service" \
	&& grep -q '^LoadCredential=sheets.pass:' "$U/ra-notifier-sheets.service" && ! grep -q '^LoadCredential' "$U/ra-queue.service" \
	&& ok "passphrases come as credentials, each only to its service" || fail "credentials in the units"
[ "$(sed -n 's/^ReadWritePaths=//p' "$U/ca-signer.service")" = "/srv/ra/signer /srv/ra/crl /srv/ra/run" ] \
	&& ok "ca-signer writes only signer/, crl/ and its socket's run/" || fail "ca-signer ReadWritePaths"
exit 0

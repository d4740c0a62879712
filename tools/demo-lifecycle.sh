#!/bin/bash
# The certificate lifecycle after issuance, for make demo (tools/demo.sh calls it after
# the certificates are issued, with RA_CONFIG set and the daemons up):
#
#   1. revoke one subscriber for key compromise: a paper revocation form keyed (clerk01),
#      second-keyed blind (clerk02) and approved (sup01) with ra-intake;
#   2. suspend another one online with ra-self and the website password;
#   3. suspend a third one the same way, then resume it with an approved resume form;
#   4. wait for the CRL, copy it to OUTDIR/crl.pem, and check with `openssl verify
#      -crl_check` that revoked and held certificates are rejected and the others accepted.
#
# The subscribers' passwords: the demo knows no password (registration sealed each one for
# its sheet), so it does what a subscriber who lost the sheet does: a password-reset form
# for counter pickup; ra-notifier prints the sheet and the password is read off the PDF
# (pdftotext), into a 0600 file that ra-self reads and that is removed at the end. No
# password is printed.
#
# usage: tools/demo-lifecycle.sh OUTDIR     last line: "N revoked, N on hold"
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
export PATH="$BUILD/bin:$PATH"
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR (with RA_CONFIG set)" >&2; exit 2; }
[ -n "${RA_CONFIG:-}" ] && [ -f "$RA_CONFIG" ] || { echo "demo-lifecycle: RA_CONFIG must name the deployment's ra.yaml" >&2; exit 2; }
out=$1
dep=$(cd "$(dirname "$RA_CONFIG")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ra-lifecycle.XXXXXX")
started=0
cleanup() {
	rm -rf "$work"
	[ "$started" = 1 ] && ra-ctl down >/dev/null 2>&1 || true
}
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }

if ! ra-ctl status >/dev/null 2>&1; then
	ra-ctl -c "$RA_CONFIG" up --workers 2 >/dev/null
	started=1
fi
# The notifier prints sheets from the project's templates unless the deployment says otherwise.
ncfg=$RA_CONFIG
if ! grep -q '^notifier:' "$RA_CONFIG"; then
	ncfg=$dep/.demo-lifecycle-notifier.yaml
	{ cat "$RA_CONFIG"; printf 'notifier:\n  templates_dir: %s/config/templates\n' "$top"; } > "$ncfg"
fi

. "$top/tools/demo-forms.sh"

# Three subscribers whose certificates are valid, in account order.
mapfile -t accounts < <(ra-ctl certs | awk 'NR > 1 && $3 == "valid" { print $4 }' | sort -u | head -n 3)
[ "${#accounts[@]}" -eq 3 ] || { echo "demo-lifecycle: needs 3 subscribers with valid certificates" >&2; exit 1; }
rev=${accounts[0]} sus=${accounts[1]} res=${accounts[2]}
stamp=$(date -u +%H%M%S)

step "revocation of $rev (key compromise): paper form keyed, second-keyed, approved"
form revocation "DEMO-REV-$stamp" "$rev" "reason: keyCompromise" "event_date: $(date -u +%Y-%m-%d)"

step "suspension of $sus online (ra-self, website password from a counter sheet)"
echo "password sheet $(password "$sus" "DEMO-PW1-$stamp") printed at the counter"
ra-self --lang en suspend --account "$sus" --password-file "$work/$sus.pw"

step "suspension of $res, then resume by paper form (new password sheet)"
echo "password sheet $(password "$res" "DEMO-PW2-$stamp") printed at the counter"
ra-self --lang en suspend --account "$res" --password-file "$work/$res.pw"
form resume "DEMO-RES-$stamp" "$res" "delivery: post"

step "certificate statuses"
ra-ctl certs --out "$work/certs" > "$work/certs.txt"
awk 'NR > 1 { print $1, $2, $3, $4 }' "$work/certs.txt" | grep -E " (revoked|held) " || true
revoked=$(awk 'NR > 1 && $3 == "revoked"' "$work/certs.txt" | wc -l)
held=$(awk 'NR > 1 && $3 == "held"' "$work/certs.txt" | wc -l)

step "CRL published to $out/crl.pem"
crl=$dep/crl/ra.crl.pem
listed() { [ -f "$crl" ] && [ "$(openssl crl -in "$crl" -noout -text | grep -c 'Serial Number:')" -eq $((revoked + held)) ]; }
for _ in $(seq 1 300); do listed && break; sleep 0.1; done
listed || { echo "demo-lifecycle: the CRL does not list the $((revoked + held)) revoked and held certificates" >&2; exit 1; }
mkdir -p "$out"
cp "$crl" "$out/crl.pem"
cp "$dep/signer/ca.pem" "$out/ca.pem"
openssl crl -in "$out/crl.pem" -CAfile "$out/ca.pem" -verify -noout 2>&1
echo "CRL number $(openssl crl -in "$out/crl.pem" -noout -crlnumber | cut -d= -f2)," \
	"next update $(openssl crl -in "$out/crl.pem" -noout -nextupdate | cut -d= -f2)"

step "openssl verify -crl_check"
bad=0 accepted=0 rejected=0
while read -r serial _ status _; do
	if openssl verify -crl_check -CAfile "$out/ca.pem" -CRLfile "$out/crl.pem" "$work/certs/$serial.pem" >/dev/null 2>&1; then
		accepted=$((accepted + 1)); [ "$status" = valid ] || { echo "ACCEPTED but $status: $serial"; bad=1; }
	else
		rejected=$((rejected + 1)); [ "$status" != valid ] || { echo "REJECTED but valid: $serial"; bad=1; }
	fi
done < <(awk 'NR > 1' "$work/certs.txt")
echo "$rejected rejected (revoked or on hold), $accepted accepted"
ra-ctl audit verify
[ "$bad" -eq 0 ]
echo "$revoked revoked, $held on hold"

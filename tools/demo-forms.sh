# Paper forms and password sheets for the demo scripts (sourced by demo-lifecycle.sh and
# demo-web.sh, which set $work, a private temp folder, $dep, the deployment folder, and
# $ncfg, a configuration whose notifier prints from the project's templates).

# The officers' passphrases (tools/demo.sh writes them there); each officer signs with
# their own credential, dep/officers/ID.pem.
pp=${DEMO_PASSPHRASES:-$dep/passphrases}
# as ID: the options that make ID the signing officer.
as() { printf '%s\n' --officer "$1" --passphrase-file "$pp/$1"; }

# applicant ACCOUNT [sheet]: the counter looks the subscriber up (ra-intake find, audited)
# and writes who came (ID number, documents seen) and, with "sheet", where the new password
# sheet goes, as the clerk copies them from the paper form.
applicant() {
	ra-intake find $(as clerk01) --account "$1" --json 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)["subscribers"][0]
print("applicant_id:", s["id_number"])
print("documents_seen:", "national_id_card" if s["applicant_type"] == "person" else "company_registration")
if sys.argv[1] == "sheet":
    print("recipient:", s["contact_person"] or s["name"])
    print("postal_code: \"%s\"" % s["postal_code"])
    print("address:", s["address"])
    print("email:", s["email"])' "${2:-}"
}

# form KIND SERIAL ACCOUNT LINE...: key, second-key and approve a form; prints the approval.
form() {
	local kind=$1 serial=$2 account=$3 cmd f
	shift 3
	f=$work/$serial.yaml
	{ echo "kind: $kind"; echo "serial: $serial"; echo "account: $account"; printf '%s\n' "$@"
	  applicant "$account" $([ "$kind" = revocation ] || echo sheet); } > "$f"
	case $kind in revocation) cmd=revoke ;; resume) cmd=resume ;; password_reset) cmd=password-reset ;; esac
	ra-intake "$cmd" $(as clerk01) --file "$f" >/dev/null
	ra-intake verify $(as clerk02) --kind "$kind" --file "$f" >/dev/null
	ra-intake approve $(as sup01) "$serial"
}
# password ACCOUNT SERIAL: a password-reset form for counter pickup, the sheet printed, the
# password read off it into $work/ACCOUNT.pw (0600). Prints the sheet's serial.
password() {
	local account=$1 serial=$2 job sheet
	job=$(form password_reset "$serial" "$account" "delivery: counter" | sed -n 's/^job \([0-9]*\) (form_approve).*/\1/p')
	sheet=$(ra-ctl job "$job" | sed -n 's/.*"sheet": "\(PW-[0-9A-F]*\)".*/\1/p')
	[ -n "$sheet" ] || { echo "demo-lifecycle: reset form $serial gave no sheet" >&2; exit 1; }
	ra-notifier -c "$ncfg" sheets --sheet "$sheet" >/dev/null
	umask 077
	pdftotext "$dep/sheets/counter/$sheet.pdf" - | grep -xE '[A-Za-z2-9]{12}' | head -n 1 > "$work/$account.pw"
	[ -s "$work/$account.pw" ] || { echo "demo-lifecycle: no password on sheet $sheet" >&2; exit 1; }
	echo "$sheet"
}

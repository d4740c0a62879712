#!/bin/bash
# The notifier's stage of `make demo`, run after issuance on a deployment made by
# `ra-ctl init` whose daemons are up (RA_CONFIG names its ra.yaml):
#
#   1. a real SMTP server on 127.0.0.1 (Debian's aiosmtpd, tests/fixtures/smtp-sink.sh)
#      whose maildir is OUTDIR/mail;
#   2. the deployment's ra.yaml gains the notifier settings for it (a `notifier:` section
#      is added if there is none; the keys set here replace earlier ones of this stage);
#   3. the confirmations of what the lifecycle stage did (revocation, suspension,
#      resume) at today's date, then the renewal scan with the RA clock 11 months and a
#      day ahead, so that every certificate issued by the demo is inside the 30-day
#      notice window;
#   4. the waiting password and PIN sheets: the postal batch (one PDF and its CSV
#      manifest) and counter sheets printed one by one, copied to OUTDIR/sheets with a
#      PNG of the batch's first page drawn with its secret masked; then each batch is
#      confirmed printed and the deployment's print files are shredded; e-mailed sheets
#      go through the same SMTP server;
#   5. the SMTP server stopped.
# The last line is "N notices sent, N sheets printed" (this stage's own counts).
#
#   RA_CONFIG=var/demo/ra.yaml tools/demo-notifier.sh var/demo/out
set -euo pipefail
umask 077	# the sheets (passwords, PIN images) and the mail it leaves are secrets
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
export PATH="$BUILD/bin:$PATH"
SINK=$top/tests/fixtures/smtp-sink.sh

die() { echo "demo-notifier: $*" >&2; exit 2; }
[ $# -eq 1 ] || die "usage: RA_CONFIG=DEPLOYMENT/ra.yaml tools/demo-notifier.sh OUTDIR"
# the card operator's passphrase, to confirm a batch printed (tools/demo.sh writes it there)
pp=${DEMO_PASSPHRASES:-$(dirname "$RA_CONFIG")/passphrases}
cfg=${RA_CONFIG:-}
[ -n "$cfg" ] && [ -f "$cfg" ] || die "RA_CONFIG must name the deployment's ra.yaml (got \"$cfg\")"
cfg=$(cd "$(dirname "$cfg")" && pwd)/$(basename "$cfg")
mkdir -p "$1"
out=$(cd "$1" && pwd)
mail=$out/mail
sheets=$out/sheets

# ra.db of the deployment: queue.db against home, home against the file's folder (the
# layout `ra-ctl init` writes; see lib/config.h).
ra_db() {
	awk -v dir="$(dirname "$cfg")" '
	/^[^ #]/ { sec = $1 }
	/^home:/ { home = $2 }
	sec == "queue:" && /^  db:/ { db = $2 }
	END {
		gsub(/"/, "", home); gsub(/"/, "", db)
		if (home == "") home = "."
		if (db == "") db = "ra.db"
		if (home !~ /^\//) home = dir "/" home
		print (db ~ /^\// ? db : home "/" db)
	}' "$cfg"
}
db=$(ra_db)
[ -f "$db" ] || die "$db: no ledger there (is $cfg a deployment made by ra-ctl init?)"
count() { sqlite3 -batch -noheader "$db" "$1"; }

printf '\n== notifier: SMTP server on 127.0.0.1 (aiosmtpd), maildir %s\n' "$mail"
state=$(dirname "$db")/run/smtp-sink
port=$("$SINK" start "$state" --maildir "$mail")
trap '"$SINK" stop "$state"' EXIT
echo "listening on 127.0.0.1:$port"

# The notifier's settings for this server. Earlier values of these keys (a previous run
# of this stage) are dropped so that the file keeps one of each.
NOTIFIER_KEYS=$(printf '  %s\n' \
	"smtp_url: smtp://127.0.0.1:$port" \
	"smtp_starttls: false" \
	"templates_dir: $top/config/templates")
export NOTIFIER_KEYS
awk '
	/^[^ #]/ { insec = ($0 ~ /^notifier:[ \t]*$/) }
	insec && /^  (smtp_url|smtp_starttls|templates_dir):/ { next }
	{ print }
	/^notifier:[ \t]*$/ { printf "%s\n", ENVIRON["NOTIFIER_KEYS"]; found = 1 }
	END { if (!found) printf "notifier:\n%s\n", ENVIRON["NOTIFIER_KEYS"] }
' "$cfg" >"$cfg.new"
mv "$cfg.new" "$cfg"
ra-notifier --check

sent0=$(count "SELECT count(*) FROM notices WHERE state = 'sent'")
made0=$(count "SELECT count(*) FROM sheets WHERE state = 'produced'")
rc=0

printf '\n== notifier: revocation, suspension and resume confirmations\n'
ra-notifier notices 2>"$out/notifier-notices.log" || {
	rc=1
	echo "confirmations: some failed (see $out/notifier-notices.log)"
}
grep -E 'status scan:|notices:' "$out/notifier-notices.log" | sed 's/^.*info: //' || true

ahead=$(date -u -d '+11 months +1 day' +%Y-%m-%dT%H:%M:%SZ)
printf '\n== notifier: renewal scan with the clock at %s (11 months and a day ahead)\n' "$ahead"
ra-notifier --now "$ahead" renewals --dry-run | tail -n 1
ra-notifier --now "$ahead" renewals 2>"$out/notifier-renewals.log" || {
	rc=1
	echo "renewal notices: some failed (see $out/notifier-renewals.log)"
}
grep -E 'renewal scan:|renewals:' "$out/notifier-renewals.log" | sed 's/^.*info: //'

printf '\n== notifier: waiting password and PIN sheets\n'
ra-notifier sheets >"$out/notifier-sheets.out" 2>"$out/notifier-sheets.log" || {
	rc=1
	echo "sheets: some failed (see $out/notifier-sheets.log)"
}
for s in $(count "SELECT serial FROM sheets WHERE state = 'waiting' AND delivery = 'counter' ORDER BY serial"); do
	ra-notifier sheets --sheet "$s" >>"$out/notifier-sheets.out" 2>>"$out/notifier-sheets.log" || rc=1
done
grep -E 'batch |sheet .*(ready|printed)' "$out/notifier-sheets.log" | sed 's/^.*info: //' || true
# The files printed in this stage (the postal batch with its manifest, counter sheets)
# are copied beside the other demo outputs; the deployment keeps its own.
mkdir -p "$sheets"
while read -r f; do
	[ -f "$f" ] || continue
	cp "$f" "$sheets/"
	[ -f "${f%.pdf}.csv" ] && cp "${f%.pdf}.csv" "$sheets/"
done <"$out/notifier-sheets.out"
pdf=$(grep -m1 -v '/counter/' "$out/notifier-sheets.out" || true)
if [ -n "$pdf" ] && [ -f "$pdf" ]; then
	batch=$(basename "$pdf" .pdf)
	pdf=$sheets/$batch.pdf
	# the preview is drawn again from the ledger with the secret masked
	preview=$(ra-notifier sheets --preview "$batch" 2>>"$out/notifier-sheets.log")
	png=${pdf%.pdf}-page1.png
	mv "$preview" "$png"
	echo "print batch: $pdf ($(pdfinfo "$pdf" | awk '/^Pages:/ { print $2 }') pages), first page (secret masked): $png"
fi
# Once printed (here: copied out), the operator confirms it, and the deployment's print
# files are shredded.
for b in $(count "SELECT DISTINCT batch FROM sheets WHERE state = 'produced' AND batch NOT LIKE 'mail-%' ORDER BY batch"); do
	ra-notifier sheets --printed "$b" --officer op01 --passphrase-file "$pp/op01" >>"$out/notifier-sheets.out" 2>>"$out/notifier-sheets.log" || true
done
grep -h 'print files shredded' "$out/notifier-sheets.out" || true

"$SINK" stop "$state"
trap - EXIT
sent=$(( $(count "SELECT count(*) FROM notices WHERE state = 'sent'") - sent0 ))
made=$(( $(count "SELECT count(*) FROM sheets WHERE state = 'produced'") - made0 ))
echo "maildir $mail: $(find "$mail/new" -type f | wc -l) mail(s) received (notices and the admin's summaries)"
echo "$sent notices sent, $made sheets printed"
exit $rc

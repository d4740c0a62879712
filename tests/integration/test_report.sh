#!/bin/bash
# test_report.sh: `ra-ctl report` through the real daemons. A day of work with the RA
# clock on 2026-03-10 (RA_NOW): two registration forms and a password-reset form keyed,
# second-keyed and approved by three officers, a third registration form rejected, four certificates issued, two revoked
# (keyCompromise), an account locked by three wrong passwords, a reset, the notifier's
# confirmations; then the day's, the day before's and the month's report as CSV, and the
# day's as PDF in both languages, read back with pdftotext. ra.db is only read.
. "$(dirname "$0")/lib.sh"
export RA_NOW=2026-03-10T09:00:00Z
ra_deploy 2
printf 'notifier:\n  templates_dir: %s/config/templates\n' "$RA_TOP" >>"$RA_CONFIG"
AS="--passphrase-file $OPASS"

register_forms clerk01 clerk02 sup01 "$RA_TOP"/config/examples/reg-01.yaml "$RA_TOP"/config/examples/reg-02.yaml ||
	fail "registration forms"
# a third registration form keyed by clerk01 and rejected by the supervisor
ra-intake import --officer clerk01 $AS "$RA_TOP"/config/examples/reg-03.yaml >/dev/null &&
	ra-intake reject --officer sup01 $AS --reason incomplete R2026-000003 >/dev/null 2>&1 || fail "rejected form"
for o in 1 2; do
	make_csr s$o; make_csr e$o
	ra-ctl request-certs $o --sign-csr "$T/s$o.csr" --enc-csr "$T/e$o.csr" --officer op01 $AS >/dev/null || fail "certificates of order $o"
done
sql "$DEP/ra.db" "SELECT serial FROM certificates WHERE order_id = 2" >"$T/serials"
ra-ctl revoke --serials-file "$T/serials" --reason keyCompromise --officer admin $AS >/dev/null || fail "revoke"
A=$(sql "$DEP/ra.db" "SELECT a.id FROM accounts a JOIN orders o ON o.subscriber_id = a.subscriber_id WHERE o.id = 1")
printf 'Wrong-Password-1\n' >"$T/bad"; chmod 600 "$T/bad"
for i in 1 2 3; do ra-self --lang en status --account "$A" --password-file "$T/bad" >/dev/null 2>&1; done
password_from_reset "$A" P-0001 "$T/pw" || fail "password reset"
ra-notifier notices >>"$T/notifier.log" 2>&1

# csv DAY-or-MONTH-option: the report as CSV; line KEY DETAIL: its count
ra-ctl report --day 2026-03-10 >"$T/day.csv" 2>"$T/report.log" && ok "report --day exits 0" || fail "report --day" "$(cat "$T/report.log")"
count() { awk -F, -v k="$2" -v d="\"$3\"" '$2 == k && $4 == d { print $5 }' "$1" | tr -d '\r'; }
head -1 "$T/day.csv" | grep -q '^period,item,label,detail,count' && ok "CSV header" || fail "CSV header" "$(head -1 "$T/day.csv")"
got=""
for want in "forms.keyed::4" "forms.keyed:clerk01:4" "forms.second_keyed:clerk02:3" "forms.approved:sup01:3" \
	"forms.rejected::1" "forms.rejected:sup01:1" "certs.issued::4" "certs.revoked::2" "certs.revoked:keyCompromise:2" "certs.held::0" \
	"cards.personalized::0" "accounts.lockouts::1" "accounts.resets::1" "notices.sent:revocation:1" \
	"notices.sent:password_reset:1"; do
	k=${want%%:*} rest=${want#*:} d=${rest%%:*} n=${rest##*:}
	[ "$(count "$T/day.csv" "$k" "$d")" = "$n" ] || got="$got $k/$d=$(count "$T/day.csv" "$k" "$d")(want $n)"
done
[ -z "$got" ] && ok "the day's counts per officer and reason match what was done" || fail "day counts" "$got $(cat "$T/day.csv")"
ra-ctl report --day 2026-03-09 >"$T/before.csv" 2>>"$T/report.log"
[ "$(awk -F, 'NR > 1 && $5 + 0 > 0' "$T/before.csv" | wc -l)" = 0 ] && [ "$(grep -c 'forms.keyed' "$T/before.csv")" = 1 ] &&
	ok "the day before: every item listed, all zero" || fail "day before" "$(cat "$T/before.csv")"
ra-ctl report --month 2026-03 >"$T/month.csv" 2>>"$T/report.log"
[ "$(cut -d, -f2- "$T/month.csv" | tail -n +2)" = "$(cut -d, -f2- "$T/day.csv" | tail -n +2)" ] &&
	grep -q '^2026-03,forms.keyed' "$T/month.csv" && ok "the month holds the day's counts" || fail "month" "$(diff "$T/day.csv" "$T/month.csv")"
ra-ctl report --day 2026-03-10 --lang zh-TW | grep -q '^2026-03-10,forms.keyed,"表單登打","clerk01",4' &&
	ok "CSV labels in Traditional Chinese" || fail "zh CSV" "$(ra-ctl report --day 2026-03-10 --lang zh-TW 2>&1 | head -3)"

mkdir -p "$T/pdf"
check "PDF report (zh-TW)" ra-ctl report --day 2026-03-10 --format pdf --lang zh-TW --out "$T/pdf/day-zh.pdf"
check "PDF report (en)" ra-ctl report --day 2026-03-10 --format pdf --lang en --out "$T/pdf/day-en.pdf"
# (pdftotext spaces out Latin letters set in the CJK font: compare without spaces)
pdftotext "$T/pdf/day-zh.pdf" - | tr -d ' ' >"$T/pdf/zh.txt"; pdftotext "$T/pdf/day-en.pdf" - | tr -d ' ' >"$T/pdf/en.txt"
grep -q "每日作業報表" "$T/pdf/zh.txt" && grep -q "表單登打" "$T/pdf/zh.txt" && grep -q "憑證廢止" "$T/pdf/zh.txt" &&
	grep -q "clerk01" "$T/pdf/zh.txt" && grep -q "keyCompromise" "$T/pdf/zh.txt" &&
	ok "the PDF reads back (pdftotext): title, labels in Chinese, officers, reasons" || fail "zh PDF text" "$(head -20 "$T/pdf/zh.txt")"
grep -q "Dailyreport" "$T/pdf/en.txt" && grep -q "Formssecond-keyed" "$T/pdf/en.txt" && grep -q "Accountslocked" "$T/pdf/en.txt" &&
	ok "the English PDF" || fail "en PDF text" "$(head -20 "$T/pdf/en.txt")"
[ "$(pdfinfo "$T/pdf/day-zh.pdf" | awk '/^Page size:/ { print $3 "x" $5 }')" = "595.276x841.89" ] &&
	ok "the PDF is A4" || fail "A4" "$(pdfinfo "$T/pdf/day-zh.pdf")"
[ -n "${KEEP_PNG:-}" ] && pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$T/pdf/day-zh.pdf" "${KEEP_PNG%.png}"

ra-ctl report --day 2026-13-01 >/dev/null 2>&1; [ $? = 2 ] && ok "a bad day is refused" || fail "bad day"
ra-ctl report --day 2026-03-10 --month 2026-03 >/dev/null 2>&1; [ $? = 2 ] && ok "--day and --month together are refused" || fail "day+month"
ra-ctl report --day 2026-03-10 --format pdf >/dev/null 2>&1; [ $? = 2 ] && ok "a PDF without --out is refused" || fail "pdf no out"
ra-ctl report --day 2026-03-10 --lang fr >/dev/null 2>&1; [ $? = 2 ] && ok "an unknown language is refused" || fail "lang"
check "audit chain intact after the reports" ra-ctl audit verify
exit 0

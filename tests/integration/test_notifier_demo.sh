#!/bin/bash
# tools/demo-notifier.sh, the demo's notifier stage, on a deployment of our own (ra-ctl
# init, daemons up, two registrations approved and their certificates issued): the mails
# land in OUTDIR/mail and parse, the sheets and a PNG of the batch's first page land in
# OUTDIR/sheets, the deployment's ra.yaml keeps one notifier section, the last line counts
# what was done, and a second run does nothing again.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
ra_deploy 2
register_forms clerk01 clerk02 sup01 "$RA_TOP"/config/examples/reg-0[12].yaml || { fail "registrations"; exit 1; }
for o in $(ra-ctl orders --state approved | awk 'NR > 1 { print $1 }'); do
	make_csr "s$o"; make_csr "e$o"
	ra-ctl request-certs "$o" --sign-csr "$T/s$o.csr" --enc-csr "$T/e$o.csr" --officer op01 --passphrase-file "$OPASS" >/dev/null || fail "request-certs $o"
done
out=$T/out
"$RA_TOP/tools/demo-notifier.sh" "$out" >run1.out 2>run1.err; rc=$?
[ "$rc" = 0 ] && ok "demo stage exits 0" || fail "demo stage exits 0" "rc=$rc $(tail -5 run1.err)"
last=$(tail -n 1 run1.out)
[ "$last" = "2 notices sent, 2 sheets printed" ] && ok "last line: 2 notices sent, 2 sheets printed" \
	|| fail "last line counts notices and sheets" "$last"
$PY - "$out/mail" >mails.txt <<'PYEOF'
import email, email.policy, glob, os, sys
for f in sorted(glob.glob(os.path.join(sys.argv[1], 'new', '*'))):
    m = email.message_from_binary_file(open(f, 'rb'), policy=email.policy.default)
    print(m['X-RcptTo'] + '\t' + str(m['Subject']) + '\t' + ('defects' if m.defects else 'clean'))
PYEOF
[ "$(grep -vc '^ra-admin@' mails.txt)" = 2 ] && grep -q "^junjie.wang@example.com.tw	Certificate renewal notice" mails.txt && grep -q '^wenbin.cheng@example.com	憑證展期通知' mails.txt \
	&& ! grep -q defects mails.txt && ok "renewal notices received in OUTDIR/mail, parsed" \
	|| fail "renewal notices received in OUTDIR/mail" "$(cat mails.txt)"
pdf=$(ls "$out"/sheets/post-*.pdf 2>/dev/null | head -n 1)
if [ -n "$pdf" ] && [ -f "${pdf%.pdf}.csv" ] && [ -s "${pdf%.pdf}-page1.png" ] &&
	[ "$(pdfinfo "$pdf" | awk '/^Pages:/ { print $2 }')" = 2 ]; then
	ok "OUTDIR/sheets: batch PDF of 2 pages, manifest, PNG of page 1"
else
	fail "OUTDIR/sheets holds the batch, manifest and PNG" "$(ls -l "$out/sheets" 2>&1)"
fi
loose=$(find "$out/sheets" "$out/mail" -type f -perm /077 -printf '%m %p\n')
[ -z "$loose" ] && [ "$(stat -c %a "${pdf%.pdf}-page1.png")" = 600 ] \
	&& ok "every sheet, PNG (it shows a PIN) and mail the stage leaves is 0600" || fail "modes of sheets and mail" "$loose"
pdftotext "$pdf" - | grep -q 鄭文彬 && ok "the batch shows the subscriber's name" || fail "the batch shows the subscriber's name"
[ "$(grep -c '^notifier:' "$RA_CONFIG")" = 1 ] && ok "ra.yaml gained one notifier section" || fail "one notifier section" "$(cat "$RA_CONFIG")"
"$RA_TOP/tools/demo-notifier.sh" "$out" >run2.out 2>run2.err; rc=$?
[ "$rc" = 0 ] && [ "$(tail -n 1 run2.out)" = "0 notices sent, 0 sheets printed" ] && [ "$(grep -c '^notifier:' "$RA_CONFIG")" = 1 ] \
	&& [ "$(grep -c '^  smtp_url:' "$RA_CONFIG")" = 1 ] \
	&& ok "a second run sends and prints nothing, config keeps one of each key" \
	|| fail "second run" "rc=$rc $(tail -n 1 run2.out) $(grep -A5 '^notifier:' "$RA_CONFIG")"
check_fails "without RA_CONFIG the stage refuses" env -u RA_CONFIG "$RA_TOP/tools/demo-notifier.sh" "$out"
[ ! -f "$DEP/run/smtp-sink/pid" ] && ok "the SMTP server is stopped at the end" || fail "the SMTP server is stopped at the end"
exit 0

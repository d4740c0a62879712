#!/bin/bash
# Metrics an operator can watch: ra-queue, the workers, ca-signer, ra-ocsp, ra-web and ra-notifier write Prometheus
# textfiles into metrics.dir; Prometheus's own promtool accepts each one; the figures move
# when real work is done through the real daemons (forms keyed and approved, certificates
# issued, one revoked, a notifier run); `ra-ctl status` shows them; the alert rules
# shipped in config/prometheus pass `promtool check rules` and their own unit tests
# (`promtool test rules`). With node-exporter installed, the real Prometheus scrapes the
# files through its textfile collector and answers a query with the same figure.
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || { fail "promtool" "not installed (Debian package prometheus)"; exit 0; }
ra_deploy 2
M=$DEP/metrics
# Write the files often, so that the test waits for work, not for the interval.
ra-ctl -c "$RA_CONFIG" down >/dev/null
printf 'metrics:\n  interval_ms: 200\n' >> "$RA_CONFIG"
ra-ctl -c "$RA_CONFIG" up --workers 2 >/dev/null || { fail "ra-ctl up" "$(tail -n 5 "$DEP"/log/*.log)"; exit 1; }
done0=$(sqlite3 -batch -noheader "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE state = 'done'")	# before these workers

# val FILE SERIES: the value of one series (name with its labels as written), or 0.
val() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$1"; }
# grown FILE SERIES BEFORE [BY]: the series is now BEFORE + BY (default: above BEFORE).
grown() { local v; v=$(val "$1" "$2"); if [ -n "${4:-}" ]; then [ "$v" = "$(($3 + $4))" ]; else [ "$v" -gt "$3" ]; fi; }

wait_for 10 test -s "$M/ra-queue.prom" && ok "ra-queue writes $M/ra-queue.prom" || fail "ra-queue metrics file"
wait_for 10 test -s "$DEP/signer/ca-signer.prom" && [ "$(readlink -f "$M/ca-signer.prom")" = "$(readlink -f "$DEP/signer/ca-signer.prom")" ] \
	&& ok "ca-signer writes ca-signer.prom in its own folder under its seccomp allow-list, linked from metrics.dir" \
	|| fail "ca-signer metrics file" "$(ls -l "$M" "$DEP/signer")"
for f in ra-queue ca-signer; do
	check "promtool check metrics accepts $f.prom" sh -c "promtool check metrics < '$M/$f.prom'"
done
grep -q '^ca_signer_crl_entries{crl="base"} 0$' "$M/ca-signer.prom" \
	&& ok "the published base CRL is read back: no entries yet" || fail "crl entries" "$(grep crl "$M/ca-signer.prom")"
# Both times from one reading of the file: ca-signer rewrites it every 200 ms, and a CRL
# published between two readings gives one time of each.
cp "$M/ca-signer.prom" "$T/crl-times.prom"
this=$(val "$T/crl-times.prom" 'ca_signer_crl_this_update_timestamp_seconds{crl="base"}')
next=$(val "$T/crl-times.prom" 'ca_signer_crl_next_update_timestamp_seconds{crl="base"}')
[ "$((next - this))" -eq 86400 ] && ok "CRL thisUpdate/nextUpdate exported (24 h apart, signer.crl_next_update_hours)" \
	|| fail "crl times" "$this $next"

cp "$M/ra-queue.prom" "$T/q0"; cp "$M/ca-signer.prom" "$T/s0"
Q='ra_certificates_issued_total'; R='ra_certificates_revoked_total'
SIGN='ca_signer_requests_total{command="SIGN",result="ok"}'
LAT='ca_signer_request_seconds_count{command="SIGN"}'
ISS='ca_signer_certificates_issued_total'
REV='ca_signer_status_changes_total{action="revoke"}'
DONE_KEY='ra_jobs{kind="form_key",state="done"}'

# --- work: three registrations, one order's certificates, one revocation --------------
register_forms clerk01 clerk02 sup01 "$RA_TOP"/config/examples/reg-0[1-3].yaml || fail "registration forms"
make_csr s1; make_csr e1
ra-ctl request-certs 1 --sign-csr "$T/s1.csr" --enc-csr "$T/e1.csr" --officer op01 --passphrase-file "$OPASS" >/dev/null \
	|| fail "certificates for order 1"
S1=$(sql "$DEP/ra.db" "SELECT serial FROM certificates WHERE order_id = 1 ORDER BY usage LIMIT 1")
echo "$S1" > "$T/rev.txt"
ra-ctl revoke --serials-file "$T/rev.txt" --reason keyCompromise --officer admin --passphrase-file "$OPASS" >/dev/null \
	|| fail "revoke $S1"

wait_for 20 grown "$M/ra-queue.prom" "$R" "$(val "$T/q0" "$R")" 1 \
	&& ok "ra_certificates_revoked_total went up by one" || fail "revoked total" "$(val "$M/ra-queue.prom" "$R")"
grown "$M/ra-queue.prom" "$Q" "$(val "$T/q0" "$Q")" 2 \
	&& ok "ra_certificates_issued_total went up by the order's two" || fail "issued total" "$(val "$M/ra-queue.prom" "$Q")"
grown "$M/ra-queue.prom" "$DONE_KEY" "$(val "$T/q0" "$DONE_KEY")" 3 \
	&& ok "ra_jobs counts the three form_key jobs done" || fail "jobs by kind and state" "$(grep '^ra_jobs' "$M/ra-queue.prom")"
grown "$M/ra-queue.prom" 'ra_job_attempts_total{kind="form_approve"}' 0 \
	&& ok "ra_job_attempts_total counts attempts by kind" || fail "attempts"
queue_empty() { [ "$(val "$M/ra-queue.prom" ra_queue_depth)" = 0 ] && [ "$(val "$M/ra-queue.prom" ra_queue_oldest_age_seconds)" = 0 ]; }
wait_for 10 queue_empty \
	&& ok "queue depth and oldest age are 0 once the work is done" || fail "depth" "$(grep queue_ "$M/ra-queue.prom")"
wait_for 10 grep -q '^ra_workers{state="idle"} 2$' "$M/ra-queue.prom" && ok "ra_workers: two idle, once the last job's READY is in" \
	|| fail "workers" "$(grep ra_workers "$M/ra-queue.prom")"

wait_for 20 grown "$M/ca-signer.prom" "$REV" "$(val "$T/s0" "$REV")" 1 \
	&& ok "ca-signer counts the revocation" || fail "signer revoke" "$(grep status_changes "$M/ca-signer.prom")"
grown "$M/ca-signer.prom" "$ISS" "$(val "$T/s0" "$ISS")" 2 && ok "ca-signer counts two certificates issued" \
	|| fail "signer issued" "$(val "$M/ca-signer.prom" "$ISS")"
grown "$M/ca-signer.prom" "$SIGN" "$(val "$T/s0" "$SIGN")" 2 && grown "$M/ca-signer.prom" "$LAT" "$(val "$T/s0" "$LAT")" 2 \
	&& ok "SIGN requests and their latency histogram moved by two" || fail "signer requests" "$(grep SIGN "$M/ca-signer.prom")"
wait_for 20 grep -q '^ca_signer_crl_entries{crl="delta"} 1$' "$M/ca-signer.prom" \
	&& ok "the delta CRL's one entry is exported" || fail "delta entries" "$(grep crl_entries "$M/ca-signer.prom")"
workers_done() { cat "$M"/ra-worker-*.prom | awk '/^ra_worker_jobs_total[{].*outcome="done"[}] / { n += $NF } END { print n + 0 }'; }
ledger_done=$(( $(sql "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE state = 'done'") - done0 ))
wait_for 10 sh -c "[ \"\$(cat '$M'/ra-worker-*.prom | awk '/^ra_worker_jobs_total[{].*outcome=\"done\"[}] / { n += \$NF } END { print n + 0 }')\" = $ledger_done ]" \
	&& [ "$(ls "$M"/ra-worker-*.prom | wc -l)" = 2 ] \
	&& ok "the two workers' files count the $ledger_done jobs the ledger has done since they started" \
	|| fail "worker metrics" "ledger $ledger_done, workers $(workers_done): $(ls "$M")"
for f in "$M"/ra-worker-*.prom; do
	check "promtool check metrics accepts $(basename "$f")" sh -c "promtool check metrics < '$f'"
done
grep -q '^ra_worker_job_seconds_count{kind="form_key"} ' "$M"/ra-worker-*.prom && ok "a job-time histogram by kind" \
	|| fail "worker histogram"
for f in ra-queue ca-signer; do
	check "promtool check metrics still accepts $f.prom after work" sh -c "promtool check metrics < '$M/$f.prom'"
done

# --- a notifier run ---------------------------------------------------------------------
ra-notifier notices >/dev/null 2>"$T/notifier.err"; nrc=$?
test -s "$M/ra-notifier-notices.prom" && ok "ra-notifier notices writes ra-notifier-notices.prom" \
	|| fail "notifier metrics file" "$(cat "$T/notifier.err")"
check "promtool check metrics accepts the notifier's file" sh -c "promtool check metrics < '$M/ra-notifier-notices.prom'"
[ "$(val "$M/ra-notifier-notices.prom" 'ra_notifier_last_run_success{command="notices"}')" = "$([ $nrc = 0 ] && echo 1 || echo 0)" ] \
	&& ok "its last_run_success matches the exit status ($nrc)" || fail "notifier success" "$(cat "$M/ra-notifier-notices.prom")"
sent=$(sql "$DEP/ra.db" "SELECT count(*) FROM notices WHERE state = 'sent' AND kind = 'revocation'")
wait_for 10 sh -c "awk '\$1 == \"ra_notices{kind=\\\"revocation\\\",state=\\\"sent\\\"}\" && \$2 == $sent' '$M/ra-queue.prom' | grep -q ." \
	&& [ "$sent" -gt 0 ] && ok "ra_notices shows the $sent revocation notice(s) sent" \
	|| fail "notices" "sent=$sent; $(grep ra_notices "$M/ra-queue.prom")"

# --- ra-cardkey: requests by command and result, their time -------------------------------
wait_for 10 test -s "$DEP/cardkey/ra-cardkey.prom" \
	&& [ "$(readlink -f "$M/ra-cardkey.prom")" = "$(readlink -f "$DEP/cardkey/ra-cardkey.prom")" ] \
	&& ok "ra-cardkey writes ra-cardkey.prom in its own folder under its seccomp allow-list, linked from metrics.dir" \
	|| fail "ra-cardkey metrics file" "$(ls -l "$M" "$DEP/cardkey")"
CKQ='ra_cardkey_requests_total{command='
CK="ra-probe --endpoint ipc://$DEP/run/cardkey.sock --server-cert $DEP/keys/cardkey.cert --timeout 3000 --client-cert $DEP/keys/workers/worker.cert"
printf '0123456789abcdef' > "$T/witness"
cp "$M/ra-cardkey.prom" "$T/k0"
$CK RA/1 CARD_CHALLENGE 41 8101 @"$T/witness" | grep -q '^ANSWER' || fail "cardkey challenge"
$CK RA/1 CARD_CHALLENGE 42 8101 @"$T/witness" | grep -q '^ANSWER' || fail "cardkey second challenge"
[ "$($CK RA/1 CARD_PROOF 41 8101 @"$T/witness" "" 1 | sed -n 2,3p | tr '\n' ' ')" = "ERROR 2 " ] || fail "cardkey wrong proof"
[ "$($CK RA/1 SIGN x y | sed -n 2,3p | tr '\n' ' ')" = "ERROR 1 " ] || fail "cardkey answers a malformed SIGN with an error"
# The file is rewritten as requests come: wait for all four counts, not just the first.
cardkey_counted() {
	grown "$M/ra-cardkey.prom" "${CKQ}\"CARD_CHALLENGE\",result=\"ok\"}" "$(val "$T/k0" "${CKQ}\"CARD_CHALLENGE\",result=\"ok\"}")" 2 \
		&& grown "$M/ra-cardkey.prom" "${CKQ}\"CARD_PROOF\",result=\"refused\"}" 0 1 \
		&& grown "$M/ra-cardkey.prom" "${CKQ}\"malformed\",result=\"bad_message\"}" 0 1
}
wait_for 10 cardkey_counted \
	&& [ "$(val "$M/ra-cardkey.prom" "${CKQ}\"CARD_PROOF\",result=\"ok\"}")" = "$(val "$T/k0" "${CKQ}\"CARD_PROOF\",result=\"ok\"}")" ] \
	&& ok "ra_cardkey_requests_total counts two challenges, the refused proof and a malformed message" \
	|| fail "cardkey requests" "$(grep requests "$M/ra-cardkey.prom")"
grown "$M/ra-cardkey.prom" 'ra_cardkey_request_seconds_count{command="CARD_CHALLENGE"}' \
	"$(val "$T/k0" 'ra_cardkey_request_seconds_count{command="CARD_CHALLENGE"}')" 2 \
	&& ok "ra_cardkey_request_seconds holds the challenges' times" || fail "cardkey latency" "$(grep seconds "$M/ra-cardkey.prom")"
check "promtool check metrics accepts ra-cardkey.prom" sh -c "promtool check metrics < '$M/ra-cardkey.prom'"

# --- ra-ctl status ------------------------------------------------------------------------
ra-ctl status > "$T/status.txt" 2>&1
grep -q "ca_signer_certificates_issued_total *$(val "$M/ca-signer.prom" "$ISS")" "$T/status.txt" \
	&& grep -q "ra_queue_depth *0" "$T/status.txt" && grep -q "ra-notifier-notices" "$T/status.txt" \
	&& grep -q "ra_cardkey_requests_total" "$T/status.txt" \
	&& ok "ra-ctl status shows the same figures" || fail "ra-ctl status" "$(cat "$T/status.txt")"

# --- ra-ocsp ------------------------------------------------------------------------------
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
OP=$(free_port)
printf 'ocsp:\n  listen: 127.0.0.1:%s\n  threads: 1\n' "$OP" >> "$RA_CONFIG"
ra-ocsp > "$T/ocsp.log" 2>&1 &
track $!
wait_for 10 test -s "$M/ra-ocsp.prom" && ok "ra-ocsp writes ra-ocsp.prom" || fail "ra-ocsp metrics file" "$(cat "$T/ocsp.log")"
OCSPN='ra_ocsp_requests_total{thread="0"}'
before=$(val "$M/ra-ocsp.prom" "$OCSPN")
sql "$DEP/ra.db" "SELECT pem FROM certificates WHERE serial = '$S1'" > "$T/c1.pem"
openssl ocsp -issuer "$DEP/signer/ca.pem" -cert "$T/c1.pem" -url "http://127.0.0.1:$OP" -CAfile "$DEP/signer/ca.pem" \
	> "$T/o.out" 2>&1 && grep -q ": revoked" "$T/o.out" || fail "openssl ocsp" "$(cat "$T/o.out")"
wait_for 10 grown "$M/ra-ocsp.prom" "$OCSPN" "$before" 1 && ok "ra_ocsp_requests_total counts the request" \
	|| fail "ocsp requests" "$(cat "$M/ra-ocsp.prom")"
# one answer of each kind the responder gives: revoked (above), good, unknown, malformed
A='ra_ocsp_answers_total{kind='
wait_for 10 grown "$M/ra-ocsp.prom" "${A}\"revoked\"}" 0 1 && [ "$(val "$M/ra-ocsp.prom" "${A}\"good\"}")" = 0 ] \
	&& ok "ra_ocsp_answers_total counts the revoked answer as revoked" || fail "ocsp answers" "$(grep answers "$M/ra-ocsp.prom")"
S2=$(sql "$DEP/ra.db" "SELECT serial FROM certificates WHERE order_id = 1 AND serial <> '$S1'")
sql "$DEP/ra.db" "SELECT pem FROM certificates WHERE serial = '$S2'" > "$T/c2.pem"
openssl ocsp -issuer "$DEP/signer/ca.pem" -cert "$T/c2.pem" -url "http://127.0.0.1:$OP" -CAfile "$DEP/signer/ca.pem" \
	> "$T/o.out" 2>&1 && grep -q ": good" "$T/o.out" || fail "openssl ocsp good" "$(cat "$T/o.out")"
openssl ocsp -issuer "$DEP/signer/ca.pem" -serial 0x7E57AB1E -url "http://127.0.0.1:$OP" -CAfile "$DEP/signer/ca.pem" \
	> "$T/o.out" 2>&1; grep -q ": unknown" "$T/o.out" || fail "openssl ocsp unknown" "$(cat "$T/o.out")"
curl -s -o /dev/null -H 'Content-Type: application/ocsp-request' --data-binary 'not an OCSP request' "http://127.0.0.1:$OP/"
# a certificate of another CA: unauthorized
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/other.key" -subj "/CN=Another CA" \
	-days 2 -out "$T/other.pem" 2>/dev/null || fail "another CA"
openssl ocsp -issuer "$T/other.pem" -serial "0x$S2" -url "http://127.0.0.1:$OP" -CAfile "$DEP/signer/ca.pem" \
	> "$T/o.out" 2>&1; grep -q "unauthorized" "$T/o.out" || fail "openssl ocsp unauthorized" "$(cat "$T/o.out")"
# The file is rewritten as answers go out: wait for every count, not just the first.
ocsp_counted() {
	grown "$M/ra-ocsp.prom" "${A}\"malformed\"}" 0 1 && grown "$M/ra-ocsp.prom" "${A}\"good\"}" 0 1 \
		&& grown "$M/ra-ocsp.prom" "${A}\"unknown\"}" 0 1 && grown "$M/ra-ocsp.prom" "${A}\"unauthorized\"}" 0 1 \
		&& [ "$(val "$M/ra-ocsp.prom" 'ra_ocsp_answer_seconds_count')" -ge 5 ]
}
wait_for 10 ocsp_counted \
	&& ok "ra_ocsp_answers_total counts one good, one unknown, one malformed and one unauthorized answer" \
	|| fail "ocsp answers by kind" "$(grep answers "$M/ra-ocsp.prom")"
[ "$(val "$M/ra-ocsp.prom" 'ra_ocsp_answer_seconds_count')" = 5 ] \
	&& [ "$(val "$M/ra-ocsp.prom" 'ra_ocsp_answer_seconds_bucket{le="+Inf"}')" = 5 ] \
	&& ok "ra_ocsp_answer_seconds holds the five answers' times" || fail "ocsp latency" "$(grep seconds "$M/ra-ocsp.prom")"
check "promtool check metrics accepts ra-ocsp.prom" sh -c "promtool check metrics < '$M/ra-ocsp.prom'"

# --- ra-web -----------------------------------------------------------------------------
WP=$(free_port)
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/api.token"; chmod 600 "$T/api.token"
printf 'web:\n  tls: false\n  listen: 127.0.0.1:%s\n  api_token_file: %s\n' "$WP" "$T/api.token" >> "$RA_CONFIG"
ra-web > "$T/web.log" 2>&1 &
track $!
wait_for 10 test -s "$M/ra-web.prom" && ok "ra-web writes ra-web.prom" || fail "ra-web metrics file" "$(cat "$T/web.log")"
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$WP/login" || fail "ra-web answers" "$(tail -n 3 "$T/web.log")"
curl -s -o /dev/null "http://127.0.0.1:$WP/no-such-page"
wait_for 10 grown "$M/ra-web.prom" 'ra_web_responses_total{code="404"}' 0 1 \
	&& grown "$M/ra-web.prom" 'ra_web_responses_total{code="200"}' 0 \
	&& ok "ra_web_responses_total counts a 200 and the 404" || fail "web responses" "$(cat "$M/ra-web.prom")"
check "promtool check metrics accepts ra-web.prom" sh -c "promtool check metrics < '$M/ra-web.prom'"

# --- lockouts: three wrong passwords through ra-web lock a real account --------------------
LK=ra_account_lockouts_total
ACC=$(sql "$DEP/ra.db" "SELECT id FROM accounts WHERE locked = 0 ORDER BY id LIMIT 1")
lock0=$(val "$M/ra-queue.prom" "$LK")
for i in 1 2 3; do
	printf '{"account":"%s","password":"Wrong-Password-9"}' "$ACC" | curl -s -o "$T/lock.$i" -w '%{http_code}\n' \
		-H "Authorization: Bearer $(cat "$T/api.token")" -H 'Content-Type: application/json' --data-binary @- \
		"http://127.0.0.1:$WP/api/v1/login" >> "$T/lock.codes"
done
[ "$(sql "$DEP/ra.db" "SELECT failures || '/' || locked FROM accounts WHERE id = '$ACC'")" = 3/1 ] \
	&& ok "three wrong passwords through ra-web's API lock account $ACC" \
	|| fail "account locked through ra-web" "$(cat "$T/lock.codes" "$T/lock.3")"
wait_for 10 grown "$M/ra-queue.prom" "$LK" "$lock0" 1 && [ "$(val "$M/ra-queue.prom" ra_accounts_locked)" -ge 1 ] \
	&& ok "ra_account_lockouts_total went up by one (ra_accounts_locked: $(val "$M/ra-queue.prom" ra_accounts_locked))" \
	|| fail "lockouts counted" "$(grep -i lock "$M/ra-queue.prom")"
printf '{"account":"%s","password":"Wrong-Password-9"}' "$ACC" | curl -s -o /dev/null \
	-H "Authorization: Bearer $(cat "$T/api.token")" -H 'Content-Type: application/json' --data-binary @- \
	"http://127.0.0.1:$WP/api/v1/login"
touch "$T/after4"; sleep 1.1; touch "$T/after4"	# a write after the fourth try's answer (mtime to the second)
wait_for 10 test "$M/ra-queue.prom" -nt "$T/after4" || fail "ra-queue.prom written again"
[ "$(val "$M/ra-queue.prom" "$LK")" = $((lock0 + 1)) ] && ok "...and not again for a try on the locked account" \
	|| fail "lockouts counted once" "$(grep -i lock "$M/ra-queue.prom")"
check "promtool check metrics accepts ra-queue.prom with the lockouts" sh -c "promtool check metrics < '$M/ra-queue.prom'"

# --- the real Prometheus, through node-exporter's textfile collector ----------------------
if command -v prometheus-node-exporter >/dev/null && command -v prometheus >/dev/null; then
	NP=$(free_port); PP=$(free_port)
	prometheus-node-exporter --collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$M" --web.listen-address="127.0.0.1:$NP" > "$T/ne.log" 2>&1 &
	track $!
	cat > "$T/prometheus.yml" <<PEOF
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [ "$RA_TOP/config/prometheus/ra-alerts.yml" ]
scrape_configs:
  - job_name: ra
    static_configs: [ { targets: [ "127.0.0.1:$NP" ] } ]
PEOF
	prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
		--web.listen-address="127.0.0.1:$PP" > "$T/prom.log" 2>&1 &
	track $!
	want=$(val "$M/ca-signer.prom" "$ISS")
	query() { curl -s "http://127.0.0.1:$PP/api/v1/query" --data-urlencode "query=$1" |
		python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'; }
	wait_for 30 sh -c "[ \"\$(curl -s 'http://127.0.0.1:$PP/api/v1/query?query=ca_signer_certificates_issued_total' | grep -o '\"$want\"\]')\" ]" \
		&& ok "Prometheus scrapes the files through node-exporter: ca_signer_certificates_issued_total = $want" \
		|| fail "prometheus scrape" "$(tail -n 3 "$T/prom.log" "$T/ne.log"; curl -s "http://127.0.0.1:$PP/api/v1/targets" | head -c 600)"
	[ "$(query 'node_textfile_scrape_error')" = 0 ] && ok "node-exporter read every file without error" \
		|| fail "textfile errors" "$(tail -n 5 "$T/ne.log")"
	wait_for 10 sh -c "[ \"\$(curl -s 'http://127.0.0.1:$PP/api/v1/query?query=ra_account_lockouts_total' | grep -o '\"$((lock0 + 1))\"\]')\" ]" \
		&& ok "Prometheus scrapes ra_account_lockouts_total = $((lock0 + 1))" || fail "lockouts via Prometheus" "$(query ra_account_lockouts_total)"
	[ "$(query 'sum(ra_jobs{state="done"})')" = "$(sql "$DEP/ra.db" "SELECT count(*) FROM jobs WHERE state = 'done'")" ] \
		&& ok "Prometheus's sum(ra_jobs{state=\"done\"}) equals the ledger's count" || fail "jobs done via Prometheus"
	curl -s "http://127.0.0.1:$PP/api/v1/rules" | python3 -c '
import json, sys
g = json.load(sys.stdin)["data"]["groups"]
rules = [r for x in g for r in x["rules"]]
sys.exit(0 if len(rules) == 14 and all(r["health"] == "ok" for r in rules) else 1)' \
		&& ok "Prometheus loaded the 14 alert rules, all healthy" || fail "rules in Prometheus"
	[ "$(query 'ALERTS{alertstate="firing"}')" = "" ] && ok "no alert fires on a healthy deployment" \
		|| fail "alerts firing" "$(curl -s "http://127.0.0.1:$PP/api/v1/alerts")"
else
	ok "# SKIP real Prometheus scrape: prometheus-node-exporter is not installed"
fi

# --- alert rules ---------------------------------------------------------------------------
check "promtool check rules config/prometheus/ra-alerts.yml" promtool check rules "$RA_TOP/config/prometheus/ra-alerts.yml"
check "promtool test rules: each alert fires when it should and not before" \
	promtool test rules "$RA_TOP/tests/integration/ra-alerts-test.yml"

#!/bin/bash
# End to end at scale: E2E_FORMS registration forms (default 10,000) go the whole way a
# clerk's day sends them, through the real daemons (ra-queue, E2E_WORKERS ra-workers,
# ca-signer, ra-cardkey) of a fresh deployment with its production configuration:
#
#   key      the forms arrive as mailed batches of E2E_BATCH; clerks import the batch
#            files (ra-intake import, one form_key job a batch), E2E_PAR at a time;
#   verify   other clerks key every form a second time, blind (ra-intake verify --file,
#            one form_verify job a form);
#   approve  a supervisor approves each (ra-intake approve, one form_approve job: the
#            subscriber, the account with its argon2id hash at the configuration's
#            production cost, the sealed password sheet, the card order);
#   issue    an operator asks for each order's two certificates (ra-ctl request-certs
#            --no-wait, one issue job), and the bench waits until every job has ended.
#
# It prints forms per second for each stage, p50 / p99 of the time from submission to
# done for each job kind (the ledger's jobs.created_ms and finished_ms), and the queue
# depth (queued and leased jobs) sampled every E2E_SAMPLE_S seconds. Beside a stage's
# rate stands its baseline measured in the same run where one makes sense: argon2id
# hashes per second alone at the same cost over as many threads as workers (argon2-bench),
# and half of `openssl speed -multi $(nproc) rsa2048` (two signatures an order). If no job
# ends for E2E_STALL_S seconds (default 120) while some wait, it stops with the logs. Nothing
# asserts on time. The certificate requests (two RSA-2048 keys a form, from a pool of primes:
# bench/e2e-csr.py) are made before the clock starts and kept in E2E_CSR_DIR for later runs.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
N=${E2E_FORMS:-10000}
BATCH=${E2E_BATCH:-100}
WORKERS=${E2E_WORKERS:-2}
PAR=${E2E_PAR:-4}
SAMPLE=${E2E_SAMPLE_S:-1}
STALL=${E2E_STALL_S:-120}
CSR=${E2E_CSR_DIR:-$top/build/bench-e2e-csr}
T=$(mktemp -d /tmp/ra-bench-e2e.XXXXXX)
dep=$T/dep
sampler=
trap '[ -n "$sampler" ] && kill "$sampler" 2>/dev/null; ra-ctl -c "$dep/ra.yaml" down >/dev/null 2>&1
	[ -n "${E2E_KEEP:-}" ] && echo "kept $T" || rm -rf "$T"' EXIT
ms() { echo $(( $(date +%s%N) / 1000000 )); }
cores=$(nproc)

# Every certificate needs a key of its own (the signer certifies a key once): the keys are
# built from pairs of a pool of primes (bench/e2e-csr.py), a signature a request.
mkdir -p "$CSR"
echo "certificate requests: $((2 * N)) RSA-2048 in $CSR (made once, kept)"
python3 "$top/bench/e2e-csr.py" "$CSR" "$N"

# A fresh deployment with the production configuration (only the CA key is RSA-2048, as
# in bench/signer.sh, so that the signing baseline uses a key of the same size).
OPASS=$T/officer.pass
printf 'bench officer passphrase\n' > "$OPASS"
ra-ctl init --ca-bits 2048 "$dep" --passphrase-file "$OPASS" >/dev/null
export RA_CONFIG=$dep/ra.yaml
setting() {	# the deployment's value of KEY, else its default
	local v
	v=$(awk -v k="${1#*.}" -v s="${1%%.*}:" '$1 == s { in_s = 1; next } /^[^ ]/ { in_s = 0 }
		in_s && $1 == k ":" { print $2 }' "$RA_CONFIG")
	[ -n "$v" ] || v=$(ra-ctl config | awk -v k="$1" '$1 == k { print $3 }')
	echo "$v"
}
A_T=$(setting accounts.argon2_t)
A_M=$(setting accounts.argon2_m_kib)
ra-ctl up --workers "$WORKERS" >/dev/null
clerks=
for i in $(seq 1 "$PAR"); do clerks="$clerks k$i:clerk v$i:clerk"; done
for o in $clerks sup01:supervisor op01:operator; do
	ra-ctl officer add "${o%%:*}" --role "${o##*:}" --officer admin --passphrase-file "$OPASS" \
		--new-passphrase-file "$OPASS" >/dev/null
done

# The mailed batches: E2E_BATCH forms a file, each clerk keying every E2E_PAR-th batch.
mkdir -p "$T/batches"
python3 - "$T/batches" "$N" "$BATCH" "$PAR" <<'PY'
import sys
out, n, batch, par = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
letters = "ABCDEFGHJKLMNPQRSTUVXYWZIO"
def nid(k):	# a valid national ID number (check digit), sex 1
    body = "1" + f"{k % 10000000:07d}"
    code = 10 + letters.index("A")
    digits = [code // 10, code % 10] + [int(c) for c in body]
    s = sum(a * b for a, b in zip(digits, [1, 9, 8, 7, 6, 5, 4, 3, 2, 1]))
    return "A" + body + str((10 - s % 10) % 10)
for b in range((n + batch - 1) // batch):
    clerk = f"k{b % par + 1}"
    with open(f"{out}/{b:05d}.yaml", "w") as f:
        for i in range(b * batch, min(n, (b + 1) * batch)):
            f.write(f"""- serial: E2026-{i:06d}
  applicant_type: person
  name: 測試{i}號
  national_id: {nid(2000000 + i)}
  email: e2e{i}@example.com
  phone: "02-2345-6789"
  postal_code: "100"
  address: 臺北市中正區重慶南路一段{i % 400 + 1}號{i // 400 + 1}樓
  documents_seen: [national_id_card]
  terms_version: "2026.1"
  officer: {clerk}
""")
PY
nbatches=$(ls "$T/batches" | wc -l)

# The queue's depth, sampled until the end: time, stage, queued, leased.
echo setup > "$T/stage"
t_start=$(ms)
(
	while :; do
		read -r q l < <(sqlite3 -separator ' ' "file:$dep/ra.db?mode=ro" \
			"SELECT count(*) FILTER (WHERE state = 'queued'), count(*) FILTER (WHERE state = 'leased')
			 FROM jobs WHERE state IN ('queued', 'leased')" 2>/dev/null || echo "? ?")
		echo "$(( $(ms) - t_start )) $(cat "$T/stage") $q $l"
		sleep "$SAMPLE"
	done
) > "$T/depth" &
sampler=$!

cpu() {	# each daemon's CPU time so far: NAME TICKS (user + system, /proc/PID/stat)
	local f
	for f in "$dep"/run/*.pid; do
		[ -r "/proc/$(cat "$f")/stat" ] &&
			echo "$(basename "$f" .pid) $(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$(cat "$f")/stat")"
	done
}
declare -A took
stage() {	# NAME COMMAND...: run one stage, timed, with the CPU each daemon spent in it
	local name=$1 t0
	shift
	echo "$name" > "$T/stage"
	cpu > "$T/cpu0"
	t0=$(ms)
	"$@"
	took[$name]=$(( $(ms) - t0 ))
	echo "  $name: $N forms in ${took[$name]} ms; daemons' CPU: $(cpu | awk -v hz="$(getconf CLK_TCK)" \
		-v ms="${took[$name]}" 'NR == FNR { t0[$1] = $2; next } ($2 - t0[$1]) / hz >= 0.05 {
		printf "%s%s %.1f s (%.0f%%)", sep, $1, ($2 - t0[$1]) / hz, 100000 * ($2 - t0[$1]) / hz / ms; sep = ", " }' "$T/cpu0" -)"
}
key() {
	ls "$T/batches"/*.yaml | xargs -P "$PAR" -I{} sh -c 'c=$(awk "/officer:/ { print \$2; exit }" {});
		ra-intake import --officer "$c" --passphrase-file "$0" {} >/dev/null' "$OPASS"
}
verify() {	# the verifying clerk is never the keying one
	ls "$T/batches"/*.yaml | xargs -P "$PAR" -I{} sh -c 'c=$(awk "/officer:/ { print \$2; exit }" {});
		ra-intake verify --officer "v${c#k}" --passphrase-file "$0" --file {} >/dev/null' "$OPASS"
}
approve() {
	seq 0 $((N - 1)) | xargs -P "$PAR" -I{} sh -c 'ra-intake approve --officer sup01 \
		--passphrase-file "$0" "$(printf E2026-%06d {})" >/dev/null' "$OPASS"
}
issue() {	# submitted without waiting, as a busy operator would; then until all have ended
	ra-ctl orders --state approved | awk 'NR > 1 { print $1 }' > "$T/orders"
	awk '{ print NR - 1, $1 }' "$T/orders" | CSR=$CSR OPASS=$OPASS xargs -P "$PAR" -L1 sh -c \
		'ra-ctl request-certs "$1" --sign-csr "$CSR/s$0.csr" --enc-csr "$CSR/e$0.csr" --no-wait \
		--officer op01 --passphrase-file "$OPASS" >/dev/null'
	local ended last=-1 since=$(ms)
	while [ "$(sqlite3 "file:$dep/ra.db?mode=ro" "SELECT count(*) FROM jobs WHERE state IN ('queued', 'leased')")" != 0 ]; do
		ended=$(sqlite3 "file:$dep/ra.db?mode=ro" "SELECT count(*) FROM jobs WHERE state IN ('done', 'failed')")
		[ "$ended" != "$last" ] && { last=$ended; since=$(ms); }
		if [ $(( $(ms) - since )) -gt $(( STALL * 1000 )) ]; then	# a daemon died: say so, do not wait forever
			echo "no job ended for $STALL s; the daemons' last words:" >&2
			tail -n 3 "$dep"/log/*.log >&2
			return 1
		fi
		sleep 0.2
	done
}

echo "$N forms in $nbatches batches of $BATCH; $WORKERS workers; $PAR clerks, supervisors' and operators' commands at a time"
echo "argon2id at the deployment's cost: t=$A_T, m=$A_M KiB (production default: t=$(ra-ctl config |
	awk '$1 == "accounts.argon2_t" { print $3 }'), m=$(ra-ctl config | awk '$1 == "accounts.argon2_m_kib" { print $3 }') KiB)"
stage key key
stage verify verify
# baseline right before the approvals: the hash alone, on every core
nb=$(( N < 50 ? N : 50 ))
echo "approve-baseline" > "$T/stage"
read -r bn bms berr < <(argon2-bench -t "$A_T" -m "$A_M" -n "$nb" -j "$cores")
stage approve approve
echo "issue-baseline" > "$T/stage"
rsa=$(openssl speed -seconds 3 -multi "$cores" rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ { print $(NF-1) }')
stage issue issue
echo done > "$T/stage"
sleep "$SAMPLE"
kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
sampler=

# What the ledger holds at the end: everything done, nothing failed, two certificates a form.
read -r forms_done certs failed < <(sqlite3 -separator ' ' "file:$dep/ra.db?mode=ro" \
	"SELECT (SELECT count(*) FROM forms WHERE state IN ('approved', 'done')),
	        (SELECT count(*) FROM certificates), (SELECT count(*) FROM jobs WHERE state = 'failed')")
echo
echo "ledger: $forms_done forms approved, $certs certificates stored, $failed jobs failed"
echo
echo "stage      forms/s  (ledger)  baseline"
for s in key:form_key verify:form_verify approve:form_approve issue:issue; do
	span=$(sqlite3 "file:$dep/ra.db?mode=ro" "SELECT count(*) || ' ' || (max(finished_ms) - min(created_ms))
		FROM jobs WHERE kind = '${s#*:}' AND state = 'done'")
	awk -v s="${s%%:*}" -v n="$N" -v t="${took[${s%%:*}]}" -v span="$span" -v bn="$bn" -v bms="$bms" -v rsa="$rsa" -v c="$cores" 'BEGIN {
		r = n * 1000 / t; split(span, j, " "); b = ""
		if (s == "approve") b = sprintf("argon2id alone, %d threads: %.1f hashes/s; ratio %.2f", c, bn * 1000 / bms, r / (bn * 1000 / bms))
		if (s == "issue") b = sprintf("openssl speed -multi %d rsa2048: %.0f signs/s = %.0f orders/s; ratio %.2f", c, rsa, rsa / 2, r / (rsa / 2))
		printf "%-8s %9.1f %9.1f   %s\n", s, r, (j[2] > 0 ? n * 1000 / j[2] : 0), b }'
done
awk -v n="$N" -v t="$(( took[key] + took[verify] + took[approve] + took[issue] ))" \
	'BEGIN { printf "%-8s %9.1f             (key to certificates stored)\n", "all", n * 1000 / t }'
echo "(forms/s: the clerks' commands included; ledger: the stage's first job submitted to its last done)"

echo
echo "job kind        jobs   p50 ms   p99 ms   max ms   (submitted to done, jobs.created_ms to finished_ms)"
sqlite3 -separator ' ' "file:$dep/ra.db?mode=ro" \
	"SELECT kind, finished_ms - created_ms FROM jobs WHERE state = 'done' AND created_ms IS NOT NULL
	 ORDER BY kind, finished_ms - created_ms" |
	awk 'function out() { if (n) printf "%-13s %6d %8d %8d %8d\n", k, n, v[int(0.5 * (n - 1))], v[int(0.99 * (n - 1))], v[n - 1] }
		$1 != k { out(); k = $1; n = 0 } { v[n++] = $2 } END { out() }'

echo
echo "queue depth over time (queued + leased jobs; the highest of each slice of the run)"
awk -v rows=24 '{ t[NR] = $1; s[NR] = $2; d[NR] = $3 + $4; q[NR] = $3; l[NR] = $4 } END {
	step = NR > rows ? NR / rows : 1
	printf "%8s  %-16s %7s %7s %7s\n", "t (s)", "stage", "depth", "queued", "leased"
	for (i = 1; i <= NR; i += step) {
		j0 = int(i); j1 = int(i + step) - 1; if (j1 > NR) j1 = NR; if (j1 < j0) j1 = j0
		m = j0; for (j = j0; j <= j1; j++) if (d[j] > d[m]) m = j
		printf "%8.1f  %-16s %7d %7d %7d\n", t[j0] / 1000, s[m], d[m], q[m], l[m] } }' "$T/depth"

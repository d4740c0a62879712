#!/bin/bash
# Bulk personalization's speed (issue 3): cards per minute through 1, 2, 4 and 8 readers,
# each virtual card taking KEYGEN_DELAY_MS (default 1500) per RSA-2048 key generation as
# a real card does, as a ratio of the ideal (N times the one-reader rate, measured in the
# same run); and the host's cost per card: APDUs sent (counted by the cards themselves)
# and CPU milliseconds of card-station and of the back office (ra-queue, ra-workers,
# ca-signer), against the card's own time. Takes about a minute.
#
#   bash bench/cards.sh                      # or: make bench
#   KEYGEN_DELAY_MS=3000 CARD_READERS="1 4 8" CARDS_PER_READER=2 bash bench/cards.sh
#
# Each round puts CARDS_PER_READER blank cards through every reader of the round (the
# next card is put in as soon as the reader's card is done); the rate counts from the
# first card's start to the last card's end, as card-station reports it.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export BUILD=${BUILD:-$top/build}
export PATH="$BUILD/bin:$PATH"
DELAY=${KEYGEN_DELAY_MS:-1500}
SIZES=${CARD_READERS:-1 2 4 8}
PER=${CARDS_PER_READER:-1}
T=$(mktemp -d /tmp/ra-bench-cards.XXXXXX)
dep=$T/dep
pc=$T/pcsc
. "$top/tests/fixtures/pcsc-env.sh"
cleanup() {
	pcsc_stop "$pc" >/dev/null 2>&1
	ra-ctl -c "$dep/ra.yaml" down >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT

max=0 total=0
for n in $SIZES; do
	[ "$n" -gt "$max" ] && max=$n
	total=$((total + n * PER))
done
total=$((total * $(echo ${KEY_ALGS:-rsa2048 p256} | wc -w)))

# A deployment whose orders come from generated registration forms (password hashing
# cheap: this measures cards, not argon2).
ra-ctl init --ca-bits 2048 "$dep" >/dev/null || exit 1
printf 'accounts:\n  argon2_t: 1\n  argon2_m_kib: 1024\n' >>"$dep/ra.yaml"
export RA_CONFIG=$dep/ra.yaml
ra-ctl up --workers 2 >/dev/null || exit 1
python3 - "$T/forms.yaml" "$total" <<'PY'
import sys
# A national id with its check digit: letter code (two digits), then nine digits, weights
# 1 9 8 7 6 5 4 3 2 1 1 summing to a multiple of ten.
def national_id(n):
    body = "1" + f"{n % 10**7:07d}"
    digits = [1, 0] + [int(c) for c in body]        # letter A = 10
    s = sum(d * w for d, w in zip(digits, [1, 9, 8, 7, 6, 5, 4, 3, 2, 1]))
    return "A" + body + str((10 - s % 10) % 10)
with open(sys.argv[1], "w") as out:
    for i in range(int(sys.argv[2])):
        out.write(f"""- serial: C2026-{i:06d}
  applicant_type: person
  name: 卡片測試{i}
  national_id: {national_id(7654000 + i)}
  email: card{i}@example.com
  phone: "02-2345-6789"
  postal_code: "100"
  address: 臺北市中正區重慶南路一段{i + 1}號
  documents_seen: [national_id_card]
  officer: clerk01
""")
PY
ra-intake import --officer clerk01 "$T/forms.yaml" >/dev/null &&
	ra-intake verify --officer clerk02 --file "$T/forms.yaml" >/dev/null || { echo "cards bench: forms refused"; exit 1; }
for ((i = 0; i < total; i++)); do
	ra-intake approve --officer sup01 "$(printf C2026-%06d "$i")" >/dev/null || { echo "cards bench: approval refused"; exit 1; }
done

pcsc_start "$pc" "$max" >"$pc.readers" 2>"$T/pcsc.err" || { echo "cards bench: pcscd: $(cat "$T/pcsc.err")"; exit 1; }
mapfile -t names <"$pc.readers"

# Back-office CPU (ms) so far: user + system time of its daemons.
office_cpu() {
	local f pid sum=0 t
	for f in "$dep"/run/*.pid; do
		pid=$(cat "$f")
		t=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) || continue
		sum=$((sum + t))
	done
	echo $((sum * 1000 / $(getconf CLK_TCK)))
}
serial=50000000
# card I: a new blank card with the realistic key generation delay in reader I.
card() {
	pcsc_card_stop "$pc" "$1"
	rm -f "$pc/card-$1.state"
	pcsc_card_start "$pc" "$1" --serial "$serial" --keygen-delay-ms "$DELAY" --debug >/dev/null
	serial=$((serial + 1))
}
blank() { [ "$(card-station readers 2>/dev/null | grep -c ' blank$')" -ge "$1" ]; }

# CPU ms of the virtual cards now in the readers (their key generation is host CPU here;
# a real card spends it on its own chip).
cards_cpu() {
	local f sum=0 t
	for f in "$pc"/card-*.pid; do
		[ -f "$f" ] || continue
		t=$(awk '{ print $14 + $15 }' "/proc/$(cat "$f")/stat" 2>/dev/null) || continue
		sum=$((sum + t))
	done
	echo $((sum * 1000 / $(getconf CLK_TCK)))
}

# round ALG N: N readers, PER cards each, keys ALG; prints one table row.
round() {
	local alg=$1 n=$2 list= i st rc ok rate host card_ms apdus0 apdus cpu0 cpu1 ccpu ideal ratio c
	for ((i = 0; i < n; i++)); do list="$list${list:+,}${names[$i]}"; done
	for ((i = 0; i < max; i++)); do pcsc_card_stop "$pc" "$i"; done
	rm -f "$pc"/card-*.log
	for ((i = 0; i < n; i++)); do card "$i"; done
	for ((i = 0; i < 100; i++)); do blank "$n" && break; sleep 0.1; done
	apdus0=$(cat "$pc"/card-*.log 2>/dev/null | grep -c 'APDU ')	# the bench's own looks
	cpu0=$(office_cpu)
	ccpu=$((0 - $(cards_cpu)))
	card-station personalize --readers "$list" --count $((n * PER)) --station bench --key-alg "$alg" \
		>"$T/run-$alg-$n.out" 2>"$T/run-$alg-$n.log" &
	st=$!
	if [ "$PER" -gt 1 ]; then
		# The operator: the next card goes in as soon as a reader's card is done.
		declare -A seen=()
		while kill -0 "$st" 2>/dev/null; do
			for ((i = 0; i < n; i++)); do
				c=$(grep -cE "^[0-9:]+  ${names[$i]} +card [0-9]+ +personalized" "$T/run-$alg-$n.out")
				if [ "$c" -gt "${seen[$i]:-0}" ] && [ "$c" -lt "$PER" ]; then
					seen[$i]=$c
					ccpu=$((ccpu + $(cards_cpu)))
					card "$i"
					ccpu=$((ccpu - $(cards_cpu)))
				fi
			done
			sleep 0.1
		done
	fi
	wait "$st"
	rc=$?
	cpu1=$(office_cpu)
	ccpu=$((ccpu + $(cards_cpu)))
	ok=$(sed -n 's/^total: \([0-9]*\) personalized.*/\1/p' "$T/run-$alg-$n.out" | tail -1)
	rate=$(sed -n 's/^total: .* \([0-9.]*\) cards\/min.*/\1/p' "$T/run-$alg-$n.out" | tail -1)
	read -r host card_ms < <(sed -n 's/^host CPU: .*, \([0-9.]*\) ms per personalized card; card time \([0-9]*\) ms per card/\1 \2/p' "$T/run-$alg-$n.out")
	apdus=$(($(cat "$pc"/card-*.log 2>/dev/null | grep -c 'APDU ') - apdus0))
	if [ "$rc" -ne 0 ] || [ "${ok:-0}" -ne $((n * PER)) ]; then
		echo "cards bench: $alg, $n readers: ${ok:-0} of $((n * PER)) cards (log $T/run-$alg-$n.log)"
		tail -5 "$T/run-$alg-$n.out"
		return 1
	fi
	[ "$n" -eq 1 ] && rate1=$rate
	ideal=$(awk -v r="$rate1" -v n="$n" 'BEGIN { printf "%.1f", r * n }')
	ratio=$(awk -v r="$rate" -v i="$ideal" 'BEGIN { printf "%.2f", r / i }')
	printf '%-8s %-8s %6s %10s %8s %7s %10s %11s %10s %10s %9s\n' "$alg" "$n" "$ok" "$rate" "$ideal" "$ratio" \
		"$((apdus / ok))" "$host" "$(((cpu1 - cpu0) / ok))" "$((ccpu / ok))" "$card_ms"
}

printf '%-8s %-8s %6s %10s %8s %7s %10s %11s %10s %10s %9s\n' keys readers cards "cards/min" ideal ratio \
	"APDUs/card" "station ms" "office ms" "vcard ms" "card ms"
rc=0
for alg in ${KEY_ALGS:-rsa2048 p256}; do
	rate1=
	for n in $SIZES; do round "$alg" "$n" || { rc=1; break; }; done
done
cat <<EOF
key generation delay: ${DELAY} ms per key, 2 keys per card, ${PER} card(s) per reader per round
ratio: cards/min against N times the one-reader rate of the same key type (target at 8 readers: 0.90)
station ms / office ms / vcard ms: host CPU per card of card-station / of ra-queue + ra-workers +
  ca-signer / of the virtual card process (its real key generation: on-chip on a real card)
card ms: wall time per card, from insertion seen to recorded
EOF
exit $rc

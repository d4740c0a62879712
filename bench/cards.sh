#!/bin/bash
# Bulk personalization's speed (issue 3): cards per minute through 1, 2, 4 and 8 readers,
# each virtual card taking KEYGEN_DELAY_MS (default 1500) per RSA-2048 key generation as
# a real card does, as a ratio of the ideal (N times the one-reader rate, measured in the
# same run); and the host's cost per card: APDUs sent (counted by the cards themselves)
# and CPU milliseconds of card-station, of the back office (ra-queue, ra-workers,
# ca-signer) and of the virtual card, against the card's own time. About 1.5 minutes.
#
#   bash bench/cards.sh                      # or: make bench
#   KEYGEN_DELAY_MS=3000 CARD_READERS="1 4 8" CARDS_PER_READER=2 bash bench/cards.sh
#
# Each round puts CARDS_PER_READER blank cards through every reader of the round, as an
# operator does: the first cards one after another, then the next card in a reader as
# soon as its card is done. The rate is N readers kept busy (N cards per card time);
# the rate with the swaps (virtual cards take about a second to change) is shown beside it.
# Not a test: nothing here asserts on time.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export BUILD=${BUILD:-$top/build}
export PATH="$BUILD/bin:$PATH"
DELAY=${KEYGEN_DELAY_MS:-1500}
SIZES=${CARD_READERS:-1 2 4 8}
PER=${CARDS_PER_READER:-3}
T=$(mktemp -d /tmp/ra-bench-cards.XXXXXX)

# Officers for the bench: the administrator from init and the ones a run needs, all under
# one throw-away passphrase (a bench has no people to type one).
OPASS=$T/officer.pass
printf 'bench officer passphrase\n' > "$OPASS"
officers() { local o; for o in "$@"; do ra-ctl officer add "${o%%:*}" --role "${o##*:}" --officer admin \
	--passphrase-file "$OPASS" --new-passphrase-file "$OPASS" >/dev/null || exit 1; done; }
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

# A deployment whose orders come from generated registration forms (password hashing
# cheap: this measures cards, not argon2).
ra-ctl init --ca-bits 2048 "$dep" --passphrase-file "$OPASS" >/dev/null || exit 1
printf 'accounts:\n  argon2_t: 1\n  argon2_m_kib: 1024\n' >>"$dep/ra.yaml"
export RA_CONFIG=$dep/ra.yaml
ra-ctl up --workers 2 >/dev/null || exit 1
officers clerk01:clerk clerk02:clerk sup01:supervisor op01:operator
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
  terms_version: "2026.1"
  officer: clerk01
""")
PY
ra-intake import --officer clerk01 --passphrase-file "$OPASS" "$T/forms.yaml" >/dev/null &&
	ra-intake verify --officer clerk02 --passphrase-file "$OPASS" --file "$T/forms.yaml" >/dev/null || { echo "cards bench: forms refused"; exit 1; }
for ((i = 0; i < total; i++)); do
	ra-intake approve --officer sup01 --passphrase-file "$OPASS" "$(printf C2026-%06d "$i")" >/dev/null || { echo "cards bench: approval refused"; exit 1; }
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
# CPU ms of the virtual card in reader I (its key generation is host CPU here; a real
# card spends it on its own chip).
card_cpu() {
	local t pid
	pid=$(cat "$pc/card-$1.pid" 2>/dev/null)
	[ -n "$pid" ] && t=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) || t=0
	echo $((t * 1000 / $(getconf CLK_TCK)))
}
serial=50000000
vcard=0
# card I: a new blank card with the realistic key generation delay in reader I.
card() {
	vcard=$((vcard + $(card_cpu "$1")))
	pcsc_card_stop "$pc" "$1"
	rm -f "$pc/card-$1.state"
	pcsc_card_start "$pc" "$1" --serial "$serial" --keygen-delay-ms "$DELAY" --debug >/dev/null
	serial=$((serial + 1))
}
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# round N: N readers, PER cards each; prints one table row. The operator puts the first
# cards in one after another (reader i at i/N of a card's time), then the next card in a
# reader as soon as its card is done, as at a real counter; so the cards' key generations
# do not all fall at the same moment.
round() {
	local n=$1 list= i st rc ok span host card_ms apdus cpu0 cpu1 rate ideal ratio c t0
	local -a seen=() first=()
	for ((i = 0; i < n; i++)); do list="$list${list:+,}${names[$i]}"; done
	for ((i = 0; i < max; i++)); do pcsc_card_stop "$pc" "$i"; done
	rm -f "$pc"/card-*.log
	vcard=0
	cpu0=$(office_cpu)
	card-station personalize --officer op01 --passphrase-file "$OPASS" --readers "$list" --count $((n * PER)) --station bench \
		>"$T/run-$n.out" 2>"$T/run-$n.log" &
	st=$!
	t0=$(now_ms)
	while kill -0 "$st" 2>/dev/null; do
		for ((i = 0; i < n; i++)); do
			if [ -z "${first[i]:-}" ]; then
				if [ $(($(now_ms) - t0)) -ge $((stagger_ms * i / n)) ]; then first[i]=1; card "$i"; fi
				continue
			fi
			c=$(grep -cE "^[0-9:]+  ${names[$i]} +card [0-9]+ +personalized" "$T/run-$n.out")
			if [ "$c" -gt "${seen[i]:-0}" ] && [ "$c" -lt "$PER" ]; then
				seen[i]=$c
				card "$i"
			fi
		done
		sleep 0.05
	done
	wait "$st"
	rc=$?
	cpu1=$(office_cpu)
	for ((i = 0; i < n; i++)); do vcard=$((vcard + $(card_cpu "$i"))); done
	ok=$(sed -n 's/^total: \([0-9]*\) personalized.*/\1/p' "$T/run-$n.out" | tail -1)
	span=$(sed -n 's/^total: .* \([0-9.]*\) cards\/min.*/\1/p' "$T/run-$n.out" | tail -1)
	read -r host card_ms < <(sed -n 's/^host CPU: .*, \([0-9.]*\) ms per personalized card; card time \([0-9]*\) ms per card/\1 \2/p' "$T/run-$n.out")
	apdus=$(cat "$pc"/card-*.log 2>/dev/null | grep -c 'APDU ')
	if [ "$rc" -ne 0 ] || [ "${ok:-0}" -ne $((n * PER)) ]; then
		echo "cards bench: $n readers: ${ok:-0} of $((n * PER)) cards"
		tail -5 "$T/run-$n.out"
		return 1
	fi
	# Readers always busy: N cards per card time (Little's law).
	rate=$(awk -v n="$n" -v ms="$card_ms" 'BEGIN { printf "%.1f", n * 60000 / ms }')
	if [ "$n" -eq 1 ]; then
		rate1=$rate
		span1=$span
		stagger_ms=$card_ms
	fi
	ideal=$(awk -v r="$rate1" -v n="$n" 'BEGIN { printf "%.1f", r * n }')
	ratio=$(awk -v r="$rate" -v i="$ideal" 'BEGIN { printf "%.2f", r / i }')
	span=$(awk -v s="$span" -v s1="$span1" -v n="$n" 'BEGIN { printf "%s (%.2f)", s, s / (s1 * n) }')
	printf '%-8s %6s %10s %8s %7s %14s %10s %11s %10s %10s %9s\n' "$n" "$ok" "$rate" "$ideal" "$ratio" "$span" \
		"$((apdus / ok))" "$host" "$(((cpu1 - cpu0) / ok))" "$((vcard / ok))" "$card_ms"
}

printf '%-8s %6s %10s %8s %7s %14s %10s %11s %10s %10s %9s\n' readers cards "cards/min" ideal ratio "with swaps" \
	"APDUs/card" "station ms" "office ms" "vcard ms" "card ms"
rc=0 rate1= span1= stagger_ms=0
for n in $SIZES; do round "$n" || { rc=1; break; }; done
cat <<EOF
RSA-2048 keys; key generation delay ${DELAY} ms per key, 2 keys per card; ${PER} cards per reader
cards/min: N readers kept busy = N x 60000 / card ms; ideal: N x the one-reader rate; target ratio at 8: 0.90
with swaps: cards/min from the first card's start to the last one's end, swaps and start-up
  included (ratio to N x its one-reader figure); a virtual card takes ~1 s to be swapped
APDUs/card: command APDUs the cards received; station / office / vcard ms: host CPU per card of
  card-station / of ra-queue + ra-workers + ca-signer / of the virtual card (its real RSA key
  generation, which a real card does on its chip); card ms: wall time per card, seen to recorded
EOF
exit $rc

#!/bin/bash
# demo-cards.sh OUTDIR: the demo's card orders personalized on virtual PIV cards.
#
# Called by the demo once the forms are approved, with RA_CONFIG naming a running
# deployment. Starts pcscd with 4 virtual readers and a blank card in each, runs
# `card-station personalize` until no approved order is left, and plays the operator:
# whenever a reader's card is finished (personalized or set aside), the card is taken
# out and a new blank one put in, until every order has a card. For each personalized
# card, OUTDIR/cards/SERIAL/{sign.pem,enc.pem} are its two certificates as read back
# from the card with yubico-piv-tool. Stops pcscd at the end, whatever happens.
# The last line is "N cards personalized".
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
export PATH="$BUILD/bin:$PATH"
out=${1:?usage: demo-cards.sh OUTDIR}
: "${RA_CONFIG:?demo-cards.sh needs RA_CONFIG}"
export RA_CONFIG
READERS=${DEMO_READERS:-4}
pc=${DEMO_PCSC:-$(dirname "$out")/pcsc}
. "$top/tests/fixtures/pcsc-env.sh"

mkdir -p "$out/cards"
out=$(cd "$out" && pwd)
rm -rf "$pc"
mkdir -p "$pc"
pc=$(cd "$pc" && pwd)
station=
cleanup() {
	[ -n "$station" ] && kill "$station" 2>/dev/null && wait "$station" 2>/dev/null
	pcsc_stop "$pc" >/dev/null 2>&1 || true
}
trap cleanup EXIT

orders=$(ra-ctl orders --state approved | awk 'NR > 1' | wc -l)
echo "card orders waiting: $orders; readers: $READERS"
# pcsc-env.sh's functions are written for scripts without `set -e`: call them in a test.
pcsc_start "$pc" "$READERS" >"$pc/readers.txt" || { echo "demo-cards: pcscd did not start" >&2; exit 1; }
mapfile -t names <"$pc/readers.txt"

next=$((40000000 + RANDOM))
inserted=0
declare -a current	# the serial of the card in each reader
# insert I: a new blank card (new state, new serial) in reader I.
insert() {
	pcsc_card_stop "$pc" "$1" || true
	rm -f "$pc/card-$1.state"
	pcsc_card_start "$pc" "$1" --serial "$next" >/dev/null || { echo "demo-cards: no card in reader $1" >&2; exit 1; }
	current[$1]=$next
	next=$((next + 1))
	inserted=$((inserted + 1))
}
# save I SERIAL: the card's two certificates as read back from it.
save() {
	local d=$out/cards/$2
	mkdir -p "$d"
	yubico-piv-tool -r "${names[$1]}" -a read-certificate -s 9c >"$d/sign.pem" 2>/dev/null &&
		yubico-piv-tool -r "${names[$1]}" -a read-certificate -s 9d >"$d/enc.pem" 2>/dev/null ||
		{ echo "card $2: certificates could not be read back"; rm -rf "$d"; }
}
# finished I: lines "SERIAL RESULT" of the cards reader I has finished so far.
finished() {
	sed -n "s/^[0-9:]*  $(printf '%s' "${names[$1]}" | sed 's/[.[\*^$]/\\&/g') *card \([0-9]*\) *\(personalized\|FAILED\|skipped\).*/\1 \2/p" \
		"$pc/personalize.out"
}

for ((i = 0; i < READERS && i < orders; i++)); do insert "$i"; done
: >"$pc/personalize.out"
pp=${DEMO_PASSPHRASES:-$(dirname "$RA_CONFIG")/passphrases}
card-station personalize --officer op01 --passphrase-file "$pp/op01" --station demo-counter >"$pc/personalize.out" 2>"$pc/personalize.log" &
station=$!
declare -a seen
for ((i = 0; i < READERS; i++)); do seen[i]=0; done
personalized=0
while kill -0 "$station" 2>/dev/null; do
	for ((i = 0; i < READERS; i++)); do
		mapfile -t done_here < <(finished "$i")
		[ "${#done_here[@]}" -gt "${seen[i]}" ] || continue
		read -r serial result <<<"${done_here[-1]}"
		seen[i]=${#done_here[@]}
		# Only the card the operator put in last counts (not one seen while being swapped).
		[ "$serial" = "${current[i]:-}" ] || continue
		if [ "$result" = personalized ]; then
			save "$i" "$serial"
			personalized=$((personalized + 1))
			echo "card $serial personalized in ${names[$i]} ($personalized of $orders)"
		else
			echo "card $serial $result in ${names[$i]}: $(grep -E "card $serial +(FAILED|skipped)" "$pc/personalize.out" | tail -1 | sed -E 's/.*(FAILED|skipped): //')"
		fi
		# The operator puts the next card in while an order waits for one.
		if [ "$(ra-ctl orders --state approved | awk 'NR > 1' | wc -l)" -gt 0 ]; then insert "$i"; fi
	done
	sleep 0.2
done
set +e
wait "$station"
rc=$?
station=
set -e
# Cards finished between the last look and the end.
for ((i = 0; i < READERS; i++)); do
	mapfile -t done_here < <(finished "$i")
	if [ "${#done_here[@]}" -gt "${seen[i]}" ]; then
		read -r serial result <<<"${done_here[-1]}"
		if [ "$result" = personalized ]; then
			save "$i" "$serial"
			personalized=$((personalized + 1))
		fi
	fi
done
sed -n '/^READER /,$p' "$pc/personalize.out"
[ "$rc" -eq 0 ] || echo "card-station personalize exited with status $rc (log: $pc/personalize.log)"
cp "$(dirname "$RA_CONFIG")/signer/ca.pem" "$out/ca.pem" 2>/dev/null || true
good=0
for d in "$out"/cards/*/; do
	[ -f "$d/sign.pem" ] || continue
	openssl verify -CAfile "$out/ca.pem" "$d/sign.pem" "$d/enc.pem" >/dev/null 2>&1 && good=$((good + 1))
done
[ "$good" -eq "$personalized" ] || echo "only $good of $personalized cards' certificates verify"
cleanup
trap - EXIT
echo "$personalized cards personalized"

#!/bin/bash
# Run every test: the unit test binaries (cmocka, TAP output) and the integration
# scripts (tests/integration/test_*.sh, TAP-like "ok - name" / "not ok - name" lines).
# Prints each result, then one closing line "N passed, N failed"; exits non-zero on any
# failure. An optional argument keeps only the tests whose file name contains it.
#
# BUILD may be the sanitizer build (make test-asan: BUILD=build-asan). Every process a test
# starts (daemons, card station, fixtures) inherits ASAN_OPTIONS/UBSAN_OPTIONS that write
# reports under test-logs/sanitizer/TEST/, and any report there fails that test. With
# FUZZ_BIN set (make test), each libFuzzer target there replays its corpus and regression
# inputs and then runs for FUZZ_SMOKE_S seconds (tests/fuzz/run.sh).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
export BUILD RA_TOP=$top PATH="$BUILD/bin:$PATH"
filter=${1:-}
passed=0 failed=0
logdir=$BUILD/test-logs
mkdir -p "$logdir"
san=$logdir/sanitizer
supp=$top/tests/sanitizer

# sanitize NAME: where the processes of test NAME write their sanitizer reports.
sanitize() {
	rm -rf "${san:?}/$1"
	mkdir -p "$san/$1"
	export ASAN_OPTIONS="log_path=$san/$1/asan:detect_leaks=1"
	export UBSAN_OPTIONS="log_path=$san/$1/ubsan:halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp"
	export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
}
# sanitizer_check NAME: one failure if any process of test NAME wrote a report.
sanitizer_check() {
	local files
	files=$(find "$san/$1" -type f 2>/dev/null | sort)
	[ -z "$files" ] && return 0
	echo "not ok - $1: $(echo "$files" | wc -l) sanitizer report(s) in $san/$1: $(grep -h -m1 -E 'SUMMARY|runtime error' $files | head -n 1)"
	failed=$((failed + 1))
}

count() { # $1 = name, $2 = output file, $3 = exit status
	local p f
	p=$(grep -cE '^ok ' "$2")
	f=$(grep -cE '^not ok ' "$2")
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $1 exited with status $3$([ "$3" -eq 124 ] && echo " (a timeout: its own, or the suite's 900 s)") (log: $2)"
		# The log is gone with the machine (CI): its last lines say where it was.
		tail -n 25 "${2%.tap}" | sed 's/^/#   /'
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $1 ran no test (log: $2)"
		f=1
	fi
	passed=$((passed + p)); failed=$((failed + f))
}

for t in "$BUILD"/tests/*; do
	[ -x "$t" ] && [ -f "$t" ] || continue
	n=$(basename "$t")
	[ -n "$filter" ] && [[ "$n" != *"$filter"* ]] && continue
	out=$logdir/$n.log
	sanitize "$n"
	CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$out" 2>&1; rc=$?
	sed -n -e "s/^\(not ok\|ok\) [0-9]* - /\1 - $n: /p" "$out" > "$out.tap"
	grep -E '^(ok|not ok) ' "$out.tap"
	count "$n" "$out.tap" "$rc"
	sanitizer_check "$n"
done

# The chaos test runs here in its short form (200 forms under some 100 kills, 3-5
# minutes); `make chaos CHAOS_S=...` runs it as long as asked. test_faults (the faults of
# an RA host, 4-5 minutes) runs here too; `make faults` runs it alone.
# Under the sanitizers (make test-asan) the chaos run carries a lighter load (CHAOS_FORMS,
# 50 there). RA_SKIP: names to leave out of this run.
skip=" ${RA_SKIP:-} "
for t in "$top"/tests/integration/test_*.sh; do
	[ -f "$t" ] || continue
	n=$(basename "$t" .sh)
	[ -n "$filter" ] && [[ "$n" != *"$filter"* ]] && continue
	[[ "$skip" == *" $n "* ]] && continue
	out=$logdir/$n.log
	echo "# $n"
	sanitize "$n"
	t0=$SECONDS
	timeout 900 bash "$t" >"$out" 2>&1; rc=$?
	grep -E '^(ok|not ok) ' "$out" | sed "s/^\(not ok\|ok\) - /\1 - $n: /"
	echo "# $n: $((SECONDS - t0)) s"
	grep -E '^(ok|not ok) ' "$out" > "$out.tap"
	count "$n" "$out.tap" "$rc"
	sanitizer_check "$n"
done

# The fuzz smoke: as many targets at once as there are cores, each for its own
# FUZZ_SMOKE_S seconds (libFuzzer fuzzes on one core), results in name order.
if [ -n "${FUZZ_BIN:-}" ]; then
	names=()
	for t in "$FUZZ_BIN"/fuzz_*; do
		[ -x "$t" ] && [ -f "$t" ] || continue
		n=$(basename "$t")
		[ -n "$filter" ] && [[ "$n" != *"$filter"* ]] && continue
		names+=("$n")
	done
	at_once=$(nproc 2>/dev/null || echo 1)
	for ((i = 0; i < ${#names[@]}; i += at_once)); do
		for n in "${names[@]:i:at_once}"; do
			rm -f "$logdir/$n.rc"
			( sanitize "$n"
			  FUZZ_OUT=$logdir/fuzz "$top/tests/fuzz/run.sh" "${FUZZ_SMOKE_S:-20}" "$n" \
			      >"$logdir/$n.log" 2>&1
			  echo $? >"$logdir/$n.rc" ) &
		done
		wait
	done
	for n in "${names[@]}"; do
		out=$logdir/$n.log
		grep -E '^(ok|not ok) ' "$out" | tee "$out.tap"
		count "$n" "$out.tap" "$(cat "$logdir/$n.rc" 2>/dev/null || echo 1)"
		sanitizer_check "$n"
	done
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

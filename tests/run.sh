#!/bin/bash
# Run every test: the unit test binaries (cmocka, TAP output) and the integration
# scripts (tests/integration/test_*.sh, TAP-like "ok - name" / "not ok - name" lines).
# Prints each result, then one closing line "N passed, N failed"; exits non-zero on any
# failure. An optional argument keeps only the tests whose file name contains it.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
export BUILD RA_TOP=$top PATH="$BUILD/bin:$PATH"
filter=${1:-}
passed=0 failed=0
logdir=$BUILD/test-logs
mkdir -p "$logdir"

count() { # $1 = name, $2 = output file, $3 = exit status
	local p f
	p=$(grep -cE '^ok ' "$2")
	f=$(grep -cE '^not ok ' "$2")
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $1 exited with status $3 (log: $2)"
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
	CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$out" 2>&1; rc=$?
	sed -n -e "s/^\(not ok\|ok\) [0-9]* - /\1 - $n: /p" "$out" > "$out.tap"
	grep -E '^(ok|not ok) ' "$out.tap"
	count "$n" "$out.tap" "$rc"
done

for t in "$top"/tests/integration/test_*.sh; do
	[ -f "$t" ] || continue
	n=$(basename "$t" .sh)
	[ -n "$filter" ] && [[ "$n" != *"$filter"* ]] && continue
	out=$logdir/$n.log
	echo "# $n"
	timeout 900 bash "$t" >"$out" 2>&1; rc=$?
	grep -E '^(ok|not ok) ' "$out" | sed "s/^\(not ok\|ok\) - /\1 - $n: /"
	grep -E '^(ok|not ok) ' "$out" > "$out.tap"
	count "$n" "$out.tap" "$rc"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

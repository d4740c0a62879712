#!/bin/bash
# make valgrind-unit: every unit test binary of $BUILD under valgrind memcheck. A test
# passes when it passes and memcheck reports no error and no definite or indirect leak.
# Prints "ok - NAME" / "not ok - NAME: why" per binary and "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
filter=${1:-}
logdir=$BUILD/test-logs/valgrind
mkdir -p "$logdir"
passed=0 failed=0
for t in "$BUILD"/tests/*; do
	[ -x "$t" ] && [ -f "$t" ] || continue
	n=$(basename "$t")
	[ -n "$filter" ] && [[ "$n" != *"$filter"* ]] && continue
	log=$logdir/$n.log
	if valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	    --show-leak-kinds=definite,indirect --track-origins=yes \
	    --suppressions="$top/tests/sanitizer/valgrind.supp" --log-file="$log.vg" \
	    "$t" >"$log" 2>&1; then
		echo "ok - $n"
		passed=$((passed + 1))
	else
		echo "not ok - $n: $(grep -m1 -E 'Invalid|uninitialised|definitely lost|indirectly lost|FAILED' "$log.vg" "$log" | head -n 1) (log: $log.vg)"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

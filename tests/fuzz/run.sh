#!/bin/bash
# Run the libFuzzer targets in $FUZZ_BIN: tests/fuzz/run.sh SECONDS [FILTER].
# For each target (whose name contains FILTER): first replay every input of
# tests/fuzz/regress/NAME/ (inputs that once crashed it: each must now pass), then fuzz
# for SECONDS from the seeds in tests/fuzz/corpus/NAME/ (new inputs go to a scratch
# folder, never into the seeds). One line per target: "ok - NAME: N executions in S s,
# coverage C edges, F features, corpus K" or "not ok - NAME: why" with the crashing
# input kept in $FUZZ_OUT (default build-fuzz/out), to be added to regress/NAME/.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
filter=${2:-}
FUZZ_BIN=${FUZZ_BIN:-$top/build-fuzz/fuzz}
FUZZ_OUT=${FUZZ_OUT:-$top/build-fuzz/out}
mkdir -p "$FUZZ_OUT"
bad=0 ran=0

for bin in "$FUZZ_BIN"/fuzz_*; do
	[ -x "$bin" ] || continue
	n=$(basename "$bin")
	[ -n "$filter" ] && [[ "$n" != *"$filter"* ]] && continue
	# a filter that names a target exactly runs that target alone (fuzz_csr, not fuzz_csr_pem)
	[ -n "$filter" ] && [ -f "$FUZZ_BIN/$filter" ] && [ "$n" != "$filter" ] && continue
	ran=$((ran + 1))
	log=$FUZZ_OUT/$n.log
	: > "$log"
	regress=("$top/tests/fuzz/regress/$n"/*)
	if [ -e "${regress[0]}" ]; then
		if ! "$bin" -runs=1 "${regress[@]}" >>"$log" 2>&1; then
			echo "not ok - $n: a regression input crashes it again (log: $log)"
			bad=$((bad + 1))
			continue
		fi
	fi
	work=$(mktemp -d "$FUZZ_OUT/$n.corpus.XXXXXX")
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$FUZZ_OUT/$n-" "$work" "$top/tests/fuzz/corpus/$n" >>"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -n 1)
	read -r _ c _ f _ k <<<"${cov:-cov: ? ft: ? corp: ?}"
	k=${k%%/*}
	rm -rf "$work"
	if [ "$rc" -ne 0 ]; then
		art=$(ls -t "$FUZZ_OUT/$n-"* 2>/dev/null | head -n 1)
		echo "not ok - $n: $(grep -m1 -E 'ERROR: |runtime error|SUMMARY' "$log") (input: ${art:-none}; log: $log)"
		bad=$((bad + 1))
	else
		echo "ok - $n: ${execs:-?} executions in $secs s, coverage $c edges, $f features, corpus $k"
	fi
done
[ "$ran" -gt 0 ] || { echo "not ok - fuzz: no target in $FUZZ_BIN${filter:+ matching $filter}"; exit 1; }
[ "$bad" -eq 0 ]

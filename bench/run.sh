#!/bin/bash
# make bench: every benchmark, each printing its figures beside a baseline measured in the
# same run on the same machine. Not a test: nothing here asserts on time.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export BUILD=${BUILD:-$top/build} PATH="${BUILD:-$top/build}/bin:$PATH" RA_TOP=$top
rc=0
for b in signer crl ocsp cards notifier e2e; do
	[ -f "$top/bench/$b.sh" ] || continue
	echo "== bench/$b.sh"
	bash "$top/bench/$b.sh" || { echo "bench/$b.sh failed"; rc=1; }
	echo
done
exit $rc

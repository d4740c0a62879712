# Shared helpers for integration tests: sourced by tests/integration/test_*.sh.
#
# Each test prints "ok - NAME" or "not ok - NAME: why" per check. Everything runs in a
# fresh temp dir ($T) that is removed at exit, with every process the test started
# stopped (register them with `track PID`).
set -u
RA_TOP=${RA_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-$RA_TOP/build}
export PATH="$BUILD/bin:$PATH"
T=$(mktemp -d /tmp/ra-test.XXXXXX)
_pids=()
_cleanups=()
track() { _pids+=("$1"); }
on_exit() { _cleanups+=("$1"); }
_finish() {
	local c p
	for c in "${_cleanups[@]}"; do eval "$c" >/dev/null 2>&1; done
	for p in "${_pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${_pids[@]}"; do wait "$p" 2>/dev/null; done
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}
trap _finish EXIT

ok() { echo "ok - $1"; }
fail() { echo "not ok - $1${2:+: $2}"; }
# check NAME CMD...: ok if CMD exits 0.
check() { local n=$1; shift; if "$@" >>"$T/check.log" 2>&1; then ok "$n"; else fail "$n" "command failed: $*"; fi; }
# check_fails NAME CMD...: ok if CMD exits non-zero.
check_fails() { local n=$1; shift; if "$@" >>"$T/check.log" 2>&1; then fail "$n" "command succeeded: $*"; else ok "$n"; fi; }
# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds; 0/1.
wait_for() { local i n=$(( $1 * 10 )); shift; for ((i = 0; i < n; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }

# Sourced by tools/demo.sh: how the demo runs a stage script whose last line it keeps.
#
# demo_stage VAR CMD [ARG...]: run CMD, passing every line it prints on to standard output
# as it comes, and set VAR to its last line. The lines go through a private temp file, never
# through /dev/stderr or /dev/stdout: opening those by name re-opens a redirected log file
# and truncates it (`make demo > demo.log 2>&1` would keep only the last stage). Fails with
# CMD's status.
demo_stage() {
	local _var=$1 _tmp _rc
	shift
	_tmp=$(mktemp)
	(if "$@"; then echo 0 > "$_tmp.rc"; else echo $? > "$_tmp.rc"; fi) | tee -a "$_tmp"
	_rc=$(cat "$_tmp.rc")
	printf -v "$_var" '%s' "$(tail -n 1 "$_tmp")"
	rm -f "$_tmp" "$_tmp.rc"
	return "$_rc"
}

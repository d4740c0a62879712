#!/bin/bash
# The demo's plumbing with its output redirected to a file, as in `make demo > demo.log 2>&1`:
# the log keeps every stage's lines and the summary (each stage runs through
# tools/demo-stage.sh, as tools/demo.sh runs them).
. "$(dirname "$0")/lib.sh"

for n in 1 2 3; do
	cat > "$T/stage$n.sh" <<EOS
#!/bin/bash
echo "stage $n: first line"
echo "stage $n: progress" >&2
echo "stage $n: summary $n"
EOS
	chmod +x "$T/stage$n.sh"
done
printf '#!/bin/bash\necho "stage 4: about to fail"\nexit 3\n' > "$T/stage4.sh"
chmod +x "$T/stage4.sh"
cat > "$T/demo.sh" <<EOS
#!/bin/bash
set -euo pipefail
. "$RA_TOP/tools/demo-stage.sh"
echo "== one"
demo_stage one "$T/stage1.sh"
echo "== two"
demo_stage two "$T/stage2.sh"
echo "== three"
demo_stage three "$T/stage3.sh"
echo "demo: \$one, \$two, \$three"
EOS
bash "$T/demo.sh" > "$T/demo.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] && ok "the redirected stages run" || fail "the redirected stages run" "exit $rc: $(cat "$T/demo.log")"
missing=""
for n in 1 2 3; do
	for l in "stage $n: first line" "stage $n: progress" "stage $n: summary $n" "== $(echo one two three | cut -d' ' -f$n)"; do
		grep -qxF "$l" "$T/demo.log" || missing="$missing [$l]"
	done
done
[ -z "$missing" ] && ok "the log of a redirected demo holds every stage" \
	|| fail "the log of a redirected demo holds every stage" "missing:$missing; log: $(tr '\n' '|' < "$T/demo.log")"
grep -qxF "demo: stage 1: summary 1, stage 2: summary 2, stage 3: summary 3" "$T/demo.log" \
	&& ok "each stage's last line reaches the summary" || fail "each stage's last line reaches the summary" "$(tail -n 1 "$T/demo.log")"
( set -e; . "$RA_TOP/tools/demo-stage.sh"; demo_stage four "$T/stage4.sh" > "$T/fail.log"; echo "went on" >> "$T/fail.log" )
rc=$?
[ "$rc" -eq 3 ] && ! grep -q "went on" "$T/fail.log" && grep -q "about to fail" "$T/fail.log" \
	&& ok "a failing stage stops the demo with its status" || fail "a failing stage stops the demo with its status" "exit $rc: $(cat "$T/fail.log")"
grep -q "demo_stage" "$RA_TOP/tools/demo.sh" && ! grep -q "/dev/stderr\|/dev/stdout" "$RA_TOP/tools/demo.sh" \
	&& ok "tools/demo.sh runs its stages through demo_stage" || fail "tools/demo.sh runs its stages through demo_stage"

#!/bin/sh
# Runs the integration scripts (tests/it_*.sh, or those given) against the
# daemon in $FLOWMON and prints one summary: how many passed, failed and
# skipped (exit 77, see tests/lib.sh), each skip with the reason its script
# gave, and the parts of passing scripts that were not checked here. Exits
# 1 if any script failed; skips alone do not fail the run (with CI set, a
# script whose missing program CI must have fails instead of skipping).
cd "$(dirname "$0")/.." || exit 1
pass=0 fail=0 skip=0
skipped="" failed=""
TEST_SKIP_LOG=$(mktemp "${TMPDIR:-/tmp}/flowmon-skips.XXXXXX") || exit 1
export TEST_SKIP_LOG
trap 'rm -f "$TEST_SKIP_LOG"' EXIT
[ $# -gt 0 ] || set -- tests/it_*.sh
for t in "$@"; do
	if [ ! -f "$t" ]; then
		# A script named but absent ran nothing: never a pass.
		echo "FAILED: $t: no such script"
		fail=$((fail + 1))
		failed="$failed
  FAILED: $t (no such script)"
		continue
	fi
	echo "== $t"
	t0=$(date +%s)
	bash "$t"
	rc=$?
	dt=$(($(date +%s) - t0))
	case $rc in
	0)
		pass=$((pass + 1))
		;;
	77)
		skip=$((skip + 1))
		why=$(sed -n "s/^$(basename "$t" .sh) skip: //p" "$TEST_SKIP_LOG" |
		    tail -n 1)
		skipped="$skipped
  skipped: $t: ${why:-(exit 77, no reason given: use it_skip)}"
		echo "SKIPPED: $t (${dt} s)"
		;;
	*)
		fail=$((fail + 1))
		failed="$failed
  FAILED: $t (exit $rc)"
		echo "FAILED: $t (exit $rc, ${dt} s)"
		;;
	esac
done
echo "integration: $pass passed, $fail failed, $skip skipped"
[ -n "$failed" ] && echo "${failed#?}"
[ -n "$skipped" ] && echo "${skipped#?}"
sed -n 's/^\([^ ]*\) part: /  part not checked: tests\/\1.sh: /p' \
    "$TEST_SKIP_LOG"
[ "$fail" -eq 0 ]

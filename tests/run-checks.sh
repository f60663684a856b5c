#!/bin/sh
# Runs each Check suite given on the command line and prints one summary:
# suites passed and failed, then every test that skipped and why (a test
# that cannot check what it is for here says so through tu_skip() or
# tu_require() of tests/testutil.h, which write to $TEST_SKIP_LOG; with CI
# set, a missing program CI must have fails the test instead).
pass=0 fail=0
skips=$(mktemp "${TMPDIR:-/tmp}/flowmon-skips.XXXXXX") || exit 1
TEST_SKIP_LOG=$skips.suite
export TEST_SKIP_LOG
trap 'rm -f "$skips" "$TEST_SKIP_LOG"' EXIT
for t in "$@"; do
	: >"$TEST_SKIP_LOG"
	if CK_DEFAULT_TIMEOUT=30 "$t"; then
		pass=$((pass + 1))
	else
		echo "FAILED: $t"
		fail=$((fail + 1))
	fi
	sed "s|^|  skipped: $(basename "$t"): |" "$TEST_SKIP_LOG" >>"$skips"
done
echo "unit suites: $pass passed, $fail failed; $(wc -l <"$skips") tests skipped"
cat "$skips"
[ "$fail" -eq 0 ]

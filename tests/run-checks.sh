#!/bin/sh
# Runs each Check suite given on the command line and prints one summary.
pass=0 fail=0
for t in "$@"; do
	if CK_DEFAULT_TIMEOUT=30 "$t"; then
		pass=$((pass + 1))
	else
		echo "FAILED: $t"
		fail=$((fail + 1))
	fi
done
echo "unit suites: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

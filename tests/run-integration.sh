#!/bin/sh
# Runs the integration scripts (tests/it_*.sh, or those given) against the
# daemon in $FLOWMON and prints one summary.
cd "$(dirname "$0")/.." || exit 1
pass=0 fail=0
[ $# -gt 0 ] || set -- tests/it_*.sh
for t in "$@"; do
	[ -f "$t" ] || continue
	echo "== $t"
	if bash "$t"; then
		pass=$((pass + 1))
	else
		echo "FAILED: $t"
		fail=$((fail + 1))
	fi
done
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/bin/bash
# bench/lockstat.sh FILE: the call sites bench/lockstat.c wrote, with the
# function and line of each, sorted by the total time spent waiting:
#   site  kind  taken  waited  wait_ms(total,max)  hold_ms(total,max)
set -eu
[ -s "$1" ] || { echo "lockstat: $1 is empty" >&2; exit 1; }
printf '%-44s %-5s %9s %7s %10s %8s %10s %8s\n' site kind taken waited \
    wait_ms max_ms hold_ms max_ms
sort -k7,7gr "$1" | while read -r mod off kind n w wt wm ht hm; do
	# A non-PIE executable's addresses are absolute.
	if file -L "$mod" | grep -q 'LSB executable'; then
		off=$(printf '0x%x' $((off + 0x400000)))
	fi
	where=$(addr2line -f -s -e "$mod" "$off" 2>/dev/null | paste -sd@ |
	    sed 's/@/ /')
	printf '%-44s %-5s %9s %7s %10s %8s %10s %8s\n' \
	    "${where:-$mod+$off}" "$kind" "$n" "$w" "$wt" "$wm" "$ht" "$hm"
done

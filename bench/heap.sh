#!/bin/bash
# bench/heap.sh: where flowmon's private memory goes at BIG services after
# load, for the profile in bench/README.md. The curve's sequence (BIG
# services filled through the API, a start after a clean stop, RUNS write
# runs of DUR s over all of them, a /services, idle again), twice:
#  1. glibc's own count of the heap at the end (malloc_stats() called
#     through gdb, written to flowmon's log): bytes in use against bytes
#     taken from the system, which tells live data from holes;
#  2. under heaptrack, the daemon killed at the end, so that everything
#     live then shows as leaked: the allocation sites that hold it.
# Not in make bench's default sections (it needs gdb and heaptrack):
#   SECTIONS=heap make bench
. "$(dirname "$0")/lib.sh"
need wrk curl python3
for t in gdb heaptrack heaptrack_print; do
	command -v "$t" >/dev/null || { echo "bench: heap needs gdb and" \
	    "heaptrack, which make deps does not install:" \
	    "apt-get install gdb heaptrack" >&2; exit 1; }
done

data=$BENCH_DIR/data-heap
rm -rf "$data"
fm_start "$data"
fill "$BIG"
fm_stop

# load: the write runs, a /services, then idle (fm_settle: the watcher's
# scans over, the answer's buffers freed with their connection).
load() {
	wrk_runs "$BIG" 0 >/dev/null
	curl -sf -o /dev/null "$FM_URL/v1/docker-flow-monitor/services"
	fm_settle
}

fm_start "$data"
rss0=$(awk '{ print $3 }' <<<"$STARTED")
load
rss1=$(rss_anon)
gdb -batch -p "$FM_PID" -ex 'call (void)malloc_stats()' >/dev/null 2>&1
until_ok 10 grep -q '^Total (incl. mmap)' "$FM_LOG" ||
	{ echo "heap: no malloc_stats() in $FM_LOG" >&2; exit 1; }
read -r system inuse <<<"$(awk '/^Total \(incl. mmap\)/ { t = 1; next }
	t && /system bytes/ { s = $4 } t && /in use bytes/ { u = $5; exit }
	END { print s, u }' "$FM_LOG")"
fm_stop
echo "heap: $BIG services: RssAnon $rss0 kB when started, $rss1 kB after the write runs, a /services and idle; malloc's heap then: $((inuse / 1024)) kB in use of $((system / 1024)) kB taken from the system"

# The same under heaptrack: started by a wrapper, so the daemon is the
# process whose command line begins with the binary.
real=$FLOWMON
wrapper=$BENCH_DIR/heaptrack-flowmon
printf '#!/bin/sh\nexec heaptrack -o %s %s "$@"\n' "$BENCH_DIR/heap" \
    "$real" >"$wrapper"
chmod +x "$wrapper"
FLOWMON=$wrapper fm_start "$data"
load
pid=$(pgrep -f "^$real --listen 127.0.0.1:$FM_PORT ")
kill -KILL "$pid"
stop "$FM_PID"		# the wrapper: done once heaptrack wrote its file
FM_PID=""
heaptrack_print -f "$BENCH_DIR"/heap.*zst -p 0 -a 0 -T 0 -l 1 -n 10 \
    -s 1 2>/dev/null | awk -v n="$BIG" '
	# "<size> leaked over <calls> calls from", then the stack: its first
	# two places in src/ are where and for whom.
	function show() {
		if (size != "")
			printf "heap: live at %d services after load: %s in %s calls at %s\n",
			    n, size, calls, at != "" ? at : "(no src/ frame: the libraries)"
		size = ""
	}
	/ leaked over .* calls from$/ { show(); size = $1; calls = $4; at = ""; k = 0; next }
	size != "" && /^ +at src\// { at = at (k++ ? " < " : "") $2; if (k == 2) show() }
	/^total memory leaked:/ { show(); printf "heap: live in all: %s\n", $4 }'

# bench/lib.sh: helpers shared by the bench scripts (bench/*.sh). Sourced,
# never run. Every process a script starts through bg() is stopped by the
# EXIT trap set here (SIGTERM, SIGKILL after 60 s); only 127.0.0.1 is used.
#
# flowmon runs as a user runs it: default options (promtool from PATH,
# task DNS `tasks.%s`, log level info: a line per request, into a file
# here as into Docker's log pipe for a user), plus what a bench needs
# (--listen on a free loopback port, --data-dir). No bench service ever
# uses task DNS (each names its targets), so no name is looked up.

set -eu
cd "$(dirname "${BASH_SOURCE[0]}")/.."
FLOWMON=${FLOWMON:-$PWD/build/flowmon}
RUNS=${RUNS:-5}
DUR=${DUR:-10}
BIG=${BIG:-10000}
BENCH_DIR=${BENCH_DIR:-$PWD/build/bench}
mkdir -p "$BENCH_DIR"
PIDS=""

# need TOOL...: exits 1 naming the first tool missing.
need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null ||
			{ echo "bench: $t is missing (make deps)" >&2; exit 1; }
	done
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { awk -v ms="$1" 'BEGIN { if (ms == "-") print "-"; else printf "%.1f", ms / 1000 }'; }
# The machine's state, for every figure printed: load averages (1, 5, 15 min).
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }

# free_port: a loopback port nothing listens on just now.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 12000))
		perl -MIO::Socket::INET -e 'exit(IO::Socket::INET->new(LocalAddr =>
		    "127.0.0.1", LocalPort => $ARGV[0], Listen => 1,
		    ReuseAddr => 1) ? 0 : 1)' "$p" && { echo "$p"; return; }
	done
}

# until_ok SECONDS CMD...: runs CMD every 0.2 s until it succeeds; 1 on
# timeout.
until_ok() {
	local end=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# stop PID...: SIGTERM, then SIGKILL for whatever still runs 60 s later
# (a starved Prometheus finishes its rule evaluations before it exits).
stop() {
	local p end=$(($(date +%s) + 60))
	for p in "$@"; do kill "$p" 2>/dev/null || true; done
	for p in "$@"; do
		while kill -0 "$p" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
		# (flowmon is started by started.py: not always our child)
		wait "$p" 2>/dev/null || true
		PIDS=$(echo "$PIDS" | sed "s/ $p\b//")
	done
}
stop_all() {
	# shellcheck disable=SC2086 # a list of pids
	stop $PIDS
}
trap stop_all EXIT

# bg NAME CMD...: starts CMD in the background, logging to
# $BENCH_DIR/NAME.log; LAST_PID is its pid.
bg() {
	local name=$1
	shift
	"$@" >>"$BENCH_DIR/$name.log" 2>&1 &
	LAST_PID=$!
	PIDS="$PIDS $LAST_PID"
}

http_ok() { curl -sf -o /dev/null --max-time 10 "$1"; }

# --------------------------------------------------------------- flowmon
FM_PID=""
FM_URL=""
FM_PORT=""
FM_LOG=""

# fm_start DATA [ARGS...]: flowmon with the default options on DATA, and
# waits until it is started as a user sees it (bench/started.py): every
# service on disk listed by /services and the first scan of targets/ and
# rules/ done. Sets FM_PID, FM_URL, FM_LOG, and STARTED ("wall_ms cpu_ms
# rss_anon_kB" at that moment).
fm_start() {
	local data=$1 out
	shift
	FM_PORT=$(free_port)
	FM_URL=http://127.0.0.1:$FM_PORT
	FM_LOG=$BENCH_DIR/flowmon-$(basename "$data").log
	out=$(python3 bench/started.py "$FM_URL" "$(records "$data")" "$FM_LOG" \
	    -- "$FLOWMON" --listen "127.0.0.1:$FM_PORT" --data-dir "$data" \
	    "$@") || {
		PIDS="$PIDS ${out%% *}"
		echo "bench: flowmon did not start on $data (see $FM_LOG)" >&2
		exit 1
	}
	FM_PID=${out%% *}
	STARTED=${out#* }
	PIDS="$PIDS $FM_PID"
}
fm_stop() {
	[ -n "$FM_PID" ] && stop "$FM_PID"
	FM_PID=""
}
# fm_crash: SIGKILL, as an OOM kill or `docker kill` ends a daemon: no
# clean stop, so no manifest (state/.files.manifest) for the next start.
fm_crash() {
	kill -KILL "$FM_PID" 2>/dev/null || true
	stop "$FM_PID"
	FM_PID=""
}
# fm_settle: waits (up to 60 s) until the watcher has looked at the last
# writes: its scan count unchanged for 2 s (after a change it looks again
# within a second), so what is measured next is the idle daemon.
fm_settle() {
	local a b end=$(($(date +%s) + 60))
	b=$(fm_metric flowmon_files_scans_total)
	while [ "$(date +%s)" -lt "$end" ]; do
		sleep 2
		a=$b
		b=$(fm_metric flowmon_files_scans_total)
		[ "$a" != "$b" ] || return 0
	done
}
# records DATA: the service records on disk (0 for a new data dir).
records() { find "$1/state" -maxdepth 1 -name '*.json' 2>/dev/null | wc -l; }
fm_metric() {
	curl -sf "$FM_URL/metrics" | awk -v s="$1" '$1 == s { print $2 }'
}
# rss_anon: flowmon's private memory (RssAnon of /proc/PID/status), kB.
rss_anon() { awk '/^RssAnon:/ { print $2 }' "/proc/$FM_PID/status"; }

# fill N: services bench-0 .. bench-<N-1> (each with one target, as
# reconfigure.lua sends them) through the API, 8 requests at a time, one
# curl for all; again for those that failed, until every one exists.
fill() {
	local n=$1 end=$(($(date +%s) + ${FILL_TIMEOUT:-1800}))
	awk -v n="$n" -v u="$FM_URL" 'BEGIN { for (i = 0; i < n; i++)
		printf "url = \"%s/v1/docker-flow-monitor/reconfigure?" \
		    "serviceName=bench-%d&scrapePort=1024&" \
		    "targets=127.0.0.1:1024\"\noutput = \"/dev/null\"\n", u, i
	}' >"$BENCH_DIR/fill.curl"
	until [ "$(fm_metric 'flowmon_services{state="active"}')" -ge "$n" ]; do
		[ "$(date +%s)" -lt "$end" ] ||
			{ echo "bench: filling $n services timed out" >&2; exit 1; }
		curl -s --no-progress-meter -Z --parallel-max 8 \
		    -K "$BENCH_DIR/fill.curl" || true
	done
}

# wrk_run POOL PASS [CONNECTIONS]: one measured run of DUR s over the pool
# (8 connections unless given), each request changing its service; prints
# "req/s p50_ms p99_ms errors".
wrk_run() {
	BENCH_POOL=$1 BENCH_BASE=$2 wrk -t2 -c${3:-8} -d${DUR}s --latency \
	    -s bench/reconfigure.lua "$FM_URL" | awk '
		function ms(v) {
			if (v ~ /us$/) return v / 1000
			if (v ~ /ms$/) return v + 0
			if (v ~ /s$/) return v * 1000
			return v
		}
		/Requests\/sec:/ { rps = $2 }
		/^ +50%/ { p50 = ms($2) }
		/^ +99%/ { p99 = ms($2) }
		/Non-2xx|Socket errors/ { err = 1 }
		END { printf "%s %.2f %.2f %d\n", rps, p50, p99, err }'
}

# wrk_runs POOL BASE [CONNECTIONS]: RUNS runs, each a pass far from the
# others; prints the medians "req/s p50_ms p99_ms runs_with_errors".
wrk_runs() {
	local out i
	out=$(for i in $(seq "$RUNS"); do
		wrk_run "$1" $(($2 + i * 1000)) "${3:-8}"
	done)
	echo "$(echo "$out" | awk '{ print $1 }' | median)" \
	    "$(echo "$out" | awk '{ print $2 }' | median)" \
	    "$(echo "$out" | awk '{ print $3 }' | median)" \
	    "$(echo "$out" | awk '{ s += $4 } END { print s + 0 }')"
}

# figure KEY VALUE: keeps a figure for a later section of the same run
# (the ratios); figure_get KEY prints it, or nothing.
figure() { echo "$1 $2" >>"$BENCH_DIR/figures"; }
figure_get() {
	awk -v k="$1" '$1 == k { v = $2 } END { if (v != "") print v }' \
	    "$BENCH_DIR/figures" 2>/dev/null || true
}

#!/bin/bash
# bench/run.sh: flowmon's benchmarks (see bench/README.md). Prints one line
# per figure, each the median of $RUNS runs. Run by `make bench`.
#
#   RUNS=5 DUR=10 bash bench/run.sh
#
# The data dir lives under build/bench, on the same disk as the repository,
# so the raw write limit and flowmon are measured on the same file system.
# Only 127.0.0.1 is used; every process started is stopped on exit.
set -eu
cd "$(dirname "$0")/.."
FLOWMON=${FLOWMON:-$PWD/build/flowmon}
RUNS=${RUNS:-5}
DUR=${DUR:-10}
BIG=${BIG:-10000}
W=$PWD/build/bench
rm -rf "$W"
mkdir -p "$W"
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null || true; wait $p 2>/dev/null || true; done' EXIT

for t in wrk curl python3 cc; do
	command -v $t >/dev/null || { echo "bench: $t is missing (make deps)" >&2; exit 1; }
done

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
now_ns() { date +%s%N; }

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 12000))
		perl -MIO::Socket::INET -e 'exit(IO::Socket::INET->new(LocalAddr =>
		    "127.0.0.1", LocalPort => $ARGV[0], Listen => 1) ? 0 : 1)' "$p" &&
			{ echo "$p"; return; }
	done
}

FM_PID=""
FM_URL=""
# fm_start DATA [ARGS...]: flowmon on a free port; prints nothing; sets
# FM_PID, FM_URL, and START_MS (exec to first answered ping).
fm_start() {
	local data=$1 port t0
	shift
	port=$(free_port)
	FM_URL=http://127.0.0.1:$port
	t0=$(now_ns)
	"$FLOWMON" --listen 127.0.0.1:$port --data-dir "$data" --promtool none \
	    --task-dns none --log-level warn "$@" 2>>"$W/flowmon.log" &
	FM_PID=$!
	PIDS="$PIDS $FM_PID"
	until curl -sf -o /dev/null "$FM_URL/v1/docker-flow-monitor/ping"; do
		kill -0 $FM_PID 2>/dev/null || { echo "bench: flowmon died" >&2; exit 1; }
	done
	START_MS=$((($(now_ns) - t0) / 1000000))
}

fm_stop() {
	kill $FM_PID
	wait $FM_PID 2>/dev/null || true
	FM_PID=""
}

metric() {
	curl -sf "$FM_URL/metrics" | awk -v s="$1" '$1 == s { print $2 }'
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' /proc/$FM_PID/status; }

# load N: creates services bench-0 .. bench-<N-1> (one pass of the pool).
load() {
	until [ "$(metric 'flowmon_services{state="active"}')" -ge "$1" ]; do
		BENCH_POOL=$1 BENCH_BASE=0 wrk -t2 -c8 -d$(($1 / 400 + 2))s \
		    -s bench/reconfigure.lua "$FM_URL" >/dev/null
	done
}

# wrk_run POOL PASS [CONNECTIONS]: one measured run over the pool (8
# connections unless given); prints "req/s p50_ms p99_ms errors".
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

# rules_run DATA: the same pool, each request changing its service's
# alert too (a rule file per request, checked by promtool before it is
# written), with promtool on, at 8 and at 64 connections; compared with
# the target-only figure just measured ($rps, flowmon still running on
# DATA, which it leaves stopped and restarted with promtool).
rules_run() {
	local pt c out r5 p50 p99 errs
	pt=$(command -v promtool) || { echo "rule changes: no promtool, skipped"; return; }
	fm_stop
	fm_start "$1" --promtool "$pt"
	for c in 8 64; do
		out=$(for i in $(seq "$RUNS"); do
			BENCH_ALERTS=1 wrk_run 100 $((i * 1000 + c * 100)) "$c"
		done)
		r5=$(echo "$out" | awk '{ print $1 }' | median)
		p50=$(echo "$out" | awk '{ print $2 }' | median)
		p99=$(echo "$out" | awk '{ print $3 }' | median)
		errs=$(echo "$out" | awk '{ s += $4 } END { print s + 0 }')
		echo "rule changes with promtool, $c connections: $r5 req/s, p50 $p50 ms, p99 $p99 ms, runs with errors: $errs ($(awk -v a="$r5" -v b="$rps" 'BEGIN { printf "%.2f", a / b }') x the target-only rate)"
	done
	echo "promtool: $(metric flowmon_promtool_files_total) rule files checked in $(metric flowmon_promtool_batches_total) batches by $(metric flowmon_promtool_runs_total) processes"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r)"
echo "disk: $(df -T "$W" | awk 'NR == 2 { print $1, $2 }'), data under $W"
echo "runs: $RUNS, $DUR s each; figures are medians"

# 1. The raw limit of the write sequence on this disk.
cc -O2 -pthread -o "$W/rawwrite" bench/rawwrite.c
mkdir -p "$W/raw"
raw1=$(for i in $(seq "$RUNS"); do "$W/rawwrite" "$W/raw" "$DUR" 1; done | median)
raw8=$(for i in $(seq "$RUNS"); do "$W/rawwrite" "$W/raw" "$DUR" 8; done | median)
echo "raw write sequence, 1 thread:  $raw1 ops/s"
echo "raw write sequence, 8 threads: $raw8 ops/s"

# 2. Durable reconfigure throughput at 100 and at $BIG existing services.
for size in 100 "$BIG"; do
	data=$W/data-$size
	fm_start "$data"
	load "$size"
	# Each run starts a pass far from the others: every request changes
	# its service.
	out=$(for i in $(seq "$RUNS"); do wrk_run "$size" $((i * 1000)); done)
	rps=$(echo "$out" | awk '{ print $1 }' | median)
	p50=$(echo "$out" | awk '{ print $2 }' | median)
	p99=$(echo "$out" | awk '{ print $3 }' | median)
	errs=$(echo "$out" | awk '{ s += $4 } END { print s + 0 }')
	echo "reconfigure at $size services: $rps req/s, p50 $p50 ms, p99 $p99 ms, runs with errors: $errs"
	eval "rps_$size=\$rps"
	if [ "$size" = 100 ]; then
		rules_run "$data"
	fi
	if [ "$size" = "$BIG" ]; then
		n=$(metric 'flowmon_services{state="active"}')
		echo "RSS with $n services: $(rss_kb) kB ($(awk '/^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 } END { printf "%d kB private, %d kB shared library pages", a, f }' /proc/$FM_PID/status))"
		fm_stop
		starts=$(for i in $(seq "$RUNS"); do
			fm_start "$data"
			echo "$START_MS"
			fm_stop
		done | median)
		echo "start-up with $n services on disk: $starts ms"
	else
		fm_stop
	fi
done
awk -v a="$rps_100" -v b="$(eval echo \$rps_$BIG)" -v r="$raw1" 'BEGIN {
	printf "per-request cost at %s vs 100 services: %.2f\n", ENVIRON["BIG"], a / b
	printf "throughput at 100 services / raw 1-thread limit: %.2f\n", a / r
}' BIG="$BIG"

# 3. Reload coalescing: a second of rule changes against a counting endpoint.
rport=$(free_port)
python3 bench/reloadcount.py "$rport" &
PIDS="$PIDS $!"
until curl -sf -o /dev/null "http://127.0.0.1:$rport/count"; do :; done
reloads=$(for i in $(seq "$RUNS"); do
	fm_start "$W/data-reload-$i" --reload-url "http://127.0.0.1:$rport/-/reload"
	until [ "$(metric flowmon_reload_pending)" = 0 ] &&
	    [ "$(metric 'flowmon_reloads_total{outcome="success"}')" = 1 ]; do
		sleep 0.1
	done
	before=$(curl -sf "http://127.0.0.1:$rport/count")
	# One second of rule changes, as fast as 8 clients can send them.
	sent=$(BENCH_POOL=100000 BENCH_ALERTS=1 wrk -t2 -c8 -d1s \
	    -s bench/reconfigure.lua "$FM_URL" |
	    awk '/requests in/ { print $1 }')
	# Quiet: the delay (1 s) has run out and no reload is pending.
	until [ "$(metric flowmon_reload_pending)" = 0 ]; do sleep 0.1; done
	after=$(curl -sf "http://127.0.0.1:$rport/count")
	echo "$((after - before)) $sent"
	fm_stop
done)
echo "reloads for one second of rule changes: $(echo "$reloads" | awk '{ print $1 }' | median) (rule changes in that second: $(echo "$reloads" | awk '{ print $2 }' | median))"

# 4. Prometheus's reload time against the number of rule files.
BENCH_DIR=$W bash bench/reload.sh

# 5. Beyond one Prometheus: reconfigure -> scraped -> alert active for
# Prometheus and for vmagent + vmalert, at 100 and $BIG services.
SIZES="100 $BIG" FLOWMON=$FLOWMON bash bench/scale.sh

# 5. Speeds the tests leave to the bench (tests bound only what tells a
# working daemon from a broken one on a busy machine): a 1 MiB body of
# 100,000 keys refused by --max-params and parsed whole, the amplification
# request (100 KB metricsPath, 2,000 tasks) refused, and the takeover of a
# --standby once the active flowmon is killed (to its first answered
# /services).
awk 'BEGIN { printf "serviceName=keys"; for (i = 0; i < 100000; i++) printf "&k%05d=v", i }' \
    >"$W/keys"
awk -v n=2000 'BEGIN { printf "serviceName=amp&scrapePort=9100&metricsPath=/";
	for (i = 0; i < 102400; i++) printf "a"; printf "&nodeInfo=%%5B";
	for (i = 0; i < n; i++) printf "%s%%5B%%22node-%d%%22%%2C%%2210.%d.%d.%d%%22%%2C%%22id%d%%22%%5D",
	    i ? "%2C" : "", i, int(i / 65536) % 256, int(i / 256) % 256, i % 256, i;
	printf "%%5D" }' >"$W/amp"
# post_ms FILE: ms from sending FILE as a form body to the whole answer.
post_ms() {
	curl -s -o /dev/null -w '%{time_total}\n' --data-binary @"$1" \
	    "$FM_URL/v1/docker-flow-monitor/reconfigure" |
	    awk '{ printf "%.1f\n", $1 * 1000 }'
}
fm_start "$W/data-limits"
refuse=$(for i in $(seq "$RUNS"); do post_ms "$W/keys"; done | median)
amp=$(for i in $(seq "$RUNS"); do post_ms "$W/amp"; done | median)
fm_stop
fm_start "$W/data-limits" --max-params 200000
parse=$(for i in $(seq "$RUNS"); do post_ms "$W/keys"; done | median)
fm_stop
echo "1 MiB body of 100,000 keys: refused by --max-params in $refuse ms, parsed whole in $parse ms; amplification request refused in $amp ms"
takeovers=$(for i in $(seq "$RUNS"); do
	fm_start "$W/data-standby"
	active=$FM_PID
	port=$(free_port)
	"$FLOWMON" --listen 127.0.0.1:$port --data-dir "$W/data-standby" \
	    --promtool none --task-dns none --log-level warn --standby \
	    2>>"$W/flowmon.log" &
	sb=$!
	PIDS="$PIDS $sb"
	until curl -sf "http://127.0.0.1:$port/v1/docker-flow-monitor/ping" |
	    grep -q '"standby":[[:space:]]*true'; do
		kill -0 $sb 2>/dev/null || { echo "bench: the standby died" >&2; exit 1; }
	done
	t0=$(now_ns)
	kill -KILL "$active"
	wait "$active" 2>/dev/null || true
	until curl -sf -o /dev/null "http://127.0.0.1:$port/v1/docker-flow-monitor/services"; do :; done
	echo $((($(now_ns) - t0) / 1000000))
	kill "$sb"
	wait "$sb" 2>/dev/null || true
done | median)
echo "standby takeover after SIGKILL of the active flowmon: $takeovers ms"

# 6. The status page and explain with 10,000 services (bench/ui.sh).
UI_SERVICES=$BIG FLOWMON=$FLOWMON bash bench/ui.sh

# 7. flowmon plan of a 200-service stack file against a data dir (bench/plan.sh).
FLOWMON=$FLOWMON bash bench/plan.sh

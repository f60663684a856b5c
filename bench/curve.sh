#!/bin/bash
# bench/curve.sh: how flowmon grows with the number of services: at each
# size of CURVE (default "1000 $BIG 50000", ascending) the start-up until
# started as a user sees it (every service listed by /services, the first
# scan of targets/ and rules/ done; median of RUNS starts, wall time and
# the daemon's CPU time; after a clean stop and after a SIGKILL), its private memory (RssAnon) then and after the
# write runs and a /services, and durable target changes over all those
# services (8 connections, RUNS runs of DUR s). One data dir grows from
# size to size, filled through the API; flowmon runs with the default
# options. Run by bench/run.sh.
. "$(dirname "$0")/lib.sh"
need wrk curl python3
CURVE=${CURVE:-1000 $BIG 50000}

data=$BENCH_DIR/data-curve
rm -rf "$data"
prev_n=0
prev_rss=""
for n in $CURVE; do
	t0=$(now_ms)
	fm_start "$data"
	fill "$n"
	fm_stop
	echo "curve: $n services on disk (filled in $(secs $(($(now_ms) - t0))) s; load average $(load_avg))"
	# Each round: a start after a clean stop (it reads only the files
	# that moved, by the manifest), then a start after SIGKILL (it reads
	# every file, as after a crash or an OOM kill).
	: >"$BENCH_DIR/starts"
	: >"$BENCH_DIR/crash-starts"
	for i in $(seq "$RUNS"); do
		fm_start "$data"
		echo "$STARTED" >>"$BENCH_DIR/starts"
		fm_crash
		fm_start "$data"
		echo "$STARTED" >>"$BENCH_DIR/crash-starts"
		[ "$i" = "$RUNS" ] || fm_stop
	done
	wall=$(awk '{ print $1 }' "$BENCH_DIR/starts" | median)
	cpu=$(awk '{ print $2 }' "$BENCH_DIR/starts" | median)
	rss0=$(awk '{ print $3 }' "$BENCH_DIR/starts" | median)
	cwall=$(awk '{ print $1 }' "$BENCH_DIR/crash-starts" | median)
	ccpu=$(awk '{ print $2 }' "$BENCH_DIR/crash-starts" | median)
	read -r rps p50 p99 errs <<<"$(wrk_runs "$n" 0)"
	# Idle again: the connections closed, the watcher done; and a
	# dashboard's /services, as a user's daemon sees one.
	fm_settle
	curl -sf -o /dev/null "$FM_URL/v1/docker-flow-monitor/services"
	rss1=$(rss_anon)
	fm_stop
	figure "rps$n" "$rps"
	echo "curve: $n services: started after a SIGKILL in $cwall ms (CPU $ccpu ms)"
	echo "curve: $n services: started in $wall ms (CPU $cpu ms), RssAnon $rss0 kB when started (after its first /services), $rss1 kB after the write runs and a /services; target changes $rps req/s, p50 $p50 ms, p99 $p99 ms, runs with errors: $errs"
	if [ -n "$prev_rss" ]; then
		echo "curve: $prev_n -> $n services: $(awk -v a="$prev_rss" -v b="$rss0" -v m="$prev_n" -v n="$n" 'BEGIN { printf "%.0f", (b - a) * 1024 / (n - m) }') bytes of RssAnon per service (at start)"
	fi
	prev_n=$n
	prev_rss=$rss0
done
rps100=$(figure_get rps100)
rpsbig=$(figure_get "rps$BIG")
[ -z "$rps100" ] || [ -z "$rpsbig" ] ||
	echo "per-request cost at $BIG vs 100 services: $(awk -v a="$rps100" -v b="$rpsbig" 'BEGIN { printf "%.2f", a / b }')"

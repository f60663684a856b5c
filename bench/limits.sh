#!/bin/bash
# bench/limits.sh: the speeds the tests leave to the bench (tests bound
# only what tells a working daemon from a broken one on a busy machine): a
# 1 MiB body of 100,000 keys refused by --max-params and parsed whole, the
# amplification request (100 KB metricsPath, 2,000 tasks) refused, and the
# takeover of a --standby once the active flowmon is killed (to its first
# /services answer). Run by bench/run.sh.
. "$(dirname "$0")/lib.sh"
need curl python3
W=$BENCH_DIR/limits
rm -rf "$W"
mkdir -p "$W"

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

: >"$W/takeovers"
for i in $(seq "$RUNS"); do
	fm_start "$W/data-standby"
	active=$FM_PID
	port=$(free_port)
	bg flowmon-standby "$FLOWMON" --listen "127.0.0.1:$port" \
	    --data-dir "$W/data-standby" --log-level warn --standby
	sb=$LAST_PID
	until curl -sf "http://127.0.0.1:$port/v1/docker-flow-monitor/ping" |
	    grep -q '"standby":[[:space:]]*true'; do
		kill -0 "$sb" 2>/dev/null || { echo "bench: the standby died" >&2; exit 1; }
		sleep 0.05
	done
	# From the kill to the standby's first /services answer.
	python3 bench/started.py "http://127.0.0.1:$port" 0 --after-kill \
	    "$active" "$sb" | awk '{ print $2 }' >>"$W/takeovers"
	PIDS=$(echo "$PIDS" | sed "s/ $active\b//")
	FM_PID=""
	stop "$sb"
done
echo "standby takeover after SIGKILL of the active flowmon: $(median <"$W/takeovers") ms"
rm -rf "$W"

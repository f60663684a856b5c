#!/bin/bash
# bench/ui.sh: the status page and explain at scale (issue 21): N services
# (10,000), every target down and one in ten with an alert firing, read
# by a real Prometheus; the time flowmon takes to serve the overview (/,
# a filtered page, a far page) and explain of one service, with
# --prometheus-url none, with Prometheus's answer cached, and with the
# answer fetched (the round trip), plus the size of Prometheus's answers
# and flowmon's memory. Run by bench/run.sh (`make bench`); alone:
#
#   FLOWMON=$PWD/build/flowmon bash bench/ui.sh
#   UI_SERVICES=10000 UI_RUNS=20 bash bench/ui.sh
#
# Each figure is the median (and the largest) of UI_RUNS requests by curl
# (time_total, on 127.0.0.1). Only 127.0.0.1; every process started is
# stopped on exit.
set -eu
cd "$(dirname "$0")/.."
FLOWMON=${FLOWMON:-$PWD/build/flowmon}
N=${UI_SERVICES:-10000}
RUNS=${UI_RUNS:-20}
ONE=ui-$((N / 2 + 1))	# one service, no alert
W=$PWD/build/bench-ui
rm -rf "$W"
mkdir -p "$W/data/targets" "$W/data/rules"
PIDS=""
stop_all() {
	local p
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	PIDS=""
}
trap stop_all EXIT
for t in wrk curl jq perl prometheus; do
	command -v $t >/dev/null || { echo "bench/ui: $t is missing (make deps)" >&2; exit 1; }
done

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 12000))
		perl -MIO::Socket::INET -e 'exit(IO::Socket::INET->new(LocalAddr =>
		    "127.0.0.1", LocalPort => $ARGV[0], Listen => 1) ? 0 : 1)' "$p" &&
			{ echo "$p"; return; }
	done
}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
max() { sort -g | tail -n 1; }
metric() { curl -sf "$FM_URL/metrics" | awk -v s="$1" '$1 == s { print $2 }'; }

# Prometheus over the data dir: a minute between scrapes and evaluations.
PPORT=$(free_port)
PROM=http://127.0.0.1:$PPORT
cat >"$W/prometheus.yml" <<EOC
global: {scrape_interval: 1m, evaluation_interval: 30s}
rule_files: ['$W/data/rules/*.yml']
scrape_configs:
  - job_name: flowmon
    file_sd_configs: [{files: ['$W/data/targets/*.json'], refresh_interval: 1m}]
EOC
prometheus --config.file="$W/prometheus.yml" --storage.tsdb.path="$W/tsdb" \
    --web.listen-address="127.0.0.1:$PPORT" --web.enable-lifecycle \
    --log.level=warn 2>"$W/prometheus.log" &
PIDS="$PIDS $!"
until curl -sf -o /dev/null "$PROM/-/ready"; do sleep 0.2; done

FM_PID=""
fm_start() {
	local port
	port=$(free_port)
	FM_URL=http://127.0.0.1:$port
	"$FLOWMON" --listen "127.0.0.1:$port" --data-dir "$W/data" \
	    --promtool none --task-dns none --log-level warn \
	    --reload-url "$PROM/-/reload" "$@" 2>>"$W/flowmon.log" &
	FM_PID=$!
	PIDS="$PIDS $FM_PID"
	until curl -sf -o /dev/null "$FM_URL/v1/docker-flow-monitor/ping"; do
		kill -0 $FM_PID 2>/dev/null || { echo "bench/ui: flowmon died" >&2; exit 1; }
		sleep 0.1
	done
}
fm_stop() {
	kill "$FM_PID"
	wait "$FM_PID" 2>/dev/null || true
}

# ms PATH: the time of one request (flowmon's answer read whole), in ms.
ms() {
	local r
	r=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$FM_URL$1")
	[ "${r%% *}" = 200 ] || { echo "bench/ui: $1 answered ${r%% *}" >&2; exit 1; }
	awk -v t="${r#* }" 'BEGIN { printf "%.1f\n", t * 1000 }'
}
# figure LABEL PATH: the median and the largest of RUNS requests.
figure() {
	local t
	t=$(for _ in $(seq "$RUNS"); do ms "$2"; done)
	printf '%s: %s ms (largest %s ms, %s requests)\n' "$1" \
	    "$(echo "$t" | median)" "$(echo "$t" | max)" "$RUNS"
}

fm_start
until [ "$(metric 'flowmon_services{state="active"}')" -ge "$N" ]; do
	BENCH_POOL=$N wrk -t2 -c8 -d$((N / 400 + 2))s -s bench/ui.lua \
	    "$FM_URL" >/dev/null
done
# Prometheus has read every target file and loaded every rule group.
until [ "$(curl -sf "$PROM/api/v1/targets?state=active" |
    jq '.data.activeTargets | length')" -ge "$N" ]; do sleep 1; done
until [ "$(curl -sf "$PROM/api/v1/rules?type=alert" |
    jq '.data.groups | length')" -ge "$((N / 10))" ]; do sleep 1; done
tsize=$(curl -sf -o /dev/null -w '%{size_download}' "$PROM/api/v1/targets?state=active")
rsize=$(curl -sf -o /dev/null -w '%{size_download}' "$PROM/api/v1/rules?type=alert")
pms() {
	curl -sf -o /dev/null -w '%{time_total}\n' "$PROM$1" |
	    awk '{ printf "%.1f\n", $1 * 1000 }'
}
tms=$(for _ in $(seq 5); do pms "/api/v1/targets?state=active"; done | median)
rms=$(for _ in $(seq 5); do pms "/api/v1/rules?type=alert"; done | median)
echo "services: $N; Prometheus's answers: targets $((tsize / 1024)) KiB in $tms ms, rules $((rsize / 1024)) KiB in $rms ms (curl, median of 5)"
fm_stop

echo "-- --prometheus-url none"
fm_start --prometheus-url none
ms / >/dev/null
figure "status page /" /
figure "status page /?state=problems&page=50" "/?state=problems&page=50"
figure "status page /?q=$ONE" "/?q=$ONE"
figure "explain of one service" /v1/docker-flow-monitor/explain/$ONE
figure "service page" /ui/services/$ONE
fm_stop

echo "-- Prometheus's answer cached (asked at most every 5 s)"
fm_start
rss0=$(awk '/^VmRSS:/ { print $2 }' /proc/$FM_PID/status)
ms / >/dev/null
figure "status page /" /
figure "status page /?state=problems&page=50" "/?state=problems&page=50"
figure "explain of one service" /v1/docker-flow-monitor/explain/$ONE
figure "service page" /ui/services/$ONE
echo "-- Prometheus asked each time (the cache expired: the round trip)"
t=$(for _ in $(seq 5); do sleep 5.2; ms /v1/docker-flow-monitor/explain/$ONE; done)
echo "explain of one service, with the fetch: $(echo "$t" | median) ms (largest $(echo "$t" | max) ms, 5 requests)"
t=$(for _ in $(seq 5); do sleep 5.2; ms /; done)
echo "status page /, with the fetch: $(echo "$t" | median) ms (largest $(echo "$t" | max) ms, 5 requests)"
echo "flowmon's memory: VmRSS $rss0 KiB before the first page, $(awk '/^VmRSS:/ { print $2 }' /proc/$FM_PID/status) KiB after, peak VmHWM $(awk '/^VmHWM:/ { print $2 }' /proc/$FM_PID/status) KiB"
fm_stop

#!/bin/bash
# bench/plan.sh: `flowmon plan` of a 200-service stack file, an alert
# each, against a data dir, with promtool: fast enough for every pull
# request (goal: under 2 s). Run by bench/run.sh (`make bench`); alone:
#
#   FLOWMON=$PWD/build/flowmon bash bench/plan.sh
#   SERVICES=200 RUNS=5 bash bench/plan.sh
#
# Three data dirs, written by a real flowmon (with promtool) from the
# parameters swarm-listener would send for the file's services:
#   empty     nothing deployed yet: every service new, every rule file
#             through promtool
#   changed   every service deployed with another threshold: every rule
#             file changed (promtool, and a diff per service)
#   same      deployed from this very file: every service unchanged
# Prints one line per case, the median wall time of RUNS plans. Only
# 127.0.0.1; the flowmon it starts is stopped on exit (bench/lib.sh).
. "$(dirname "$0")/lib.sh"
SERVICES=${SERVICES:-200}
W=$BENCH_DIR/plan
need curl perl
PROMTOOL=$(command -v promtool) || { echo "bench/plan.sh: promtool is missing (Debian's prometheus)" >&2; exit 1; }
rm -rf "$W"
mkdir -p "$W/bench"

# The stack file: service sN, port 8000+N, one alert over threshold N.
{
	echo 'version: "3.8"'
	echo 'services:'
	for i in $(seq 1 "$SERVICES"); do
		cat <<-EOF
		  s$i:
		    image: app:$i
		    deploy:
		      replicas: 2
		      labels:
		        com.df.notify: "true"
		        com.df.scrapePort: "$((8000 + i))"
		        com.df.alertName: errors
		        com.df.alertIf: 'sum(rate(http_errors_total{job="bench_s$i"}[5m])) > $i'
		        com.df.alertFor: 5m
		EOF
	done
} >"$W/bench/stack.yml"

# deploy DATA OFFSET: a flowmon writes DATA from the file's services as
# swarm-listener announces them, each threshold moved by OFFSET.
deploy() {
	local data=$1 off=$2 port url i pid
	port=$(free_port)
	url=http://127.0.0.1:$port
	bg plan-flowmon "$FLOWMON" --listen "127.0.0.1:$port" --data-dir "$data" \
	    --promtool "$PROMTOOL" --task-dns none --log-level warn
	pid=$LAST_PID
	until_ok 60 http_ok "$url/v1/docker-flow-monitor/ping" ||
		{ echo "bench/plan.sh: flowmon did not start" >&2; exit 1; }
	for i in $(seq 1 "$SERVICES"); do
		curl -sf -o /dev/null -G "$url/v1/docker-flow-monitor/reconfigure" \
		    --data-urlencode "serviceName=bench_s$i" \
		    --data-urlencode distribute=true --data-urlencode replicas=2 \
		    --data-urlencode "scrapePort=$((8000 + i))" \
		    --data-urlencode alertName=errors --data-urlencode alertFor=5m \
		    --data-urlencode "alertIf=sum(rate(http_errors_total{job=\"bench_s$i\"}[5m])) > $((i + off))"
	done
	stop "$pid"
}

mkdir -p "$W/empty"
deploy "$W/changed" 1000
deploy "$W/same" 0

# plan_case NAME WANT: the median wall time (ms) of RUNS plans against
# data dir NAME, each exiting WANT.
plan_case() {
	local name=$1 want=$2 i t0 rc
	for i in $(seq 1 "$RUNS"); do
		t0=$(now_ms)
		rc=0
		"$FLOWMON" plan --data-dir "$W/$name" --promtool "$PROMTOOL" \
		    "$W/bench/stack.yml" >"$W/plan.$name.out" 2>"$W/plan.$name.err" || rc=$?
		[ "$rc" = "$want" ] || { echo "bench/plan.sh: plan against $name exited $rc, not $want" >&2; cat "$W/plan.$name.err" >&2; exit 1; }
		echo $(($(now_ms) - t0))
	done | median
}

empty=$(plan_case empty 1)
changed=$(plan_case changed 1)
same=$(plan_case same 0)
echo "plan of $SERVICES services with an alert each, promtool on, against a data dir: all new $empty ms, all changed $changed ms, all unchanged $same ms (goal: < 2000 ms)"
echo "plan: $(tail -n 1 "$W/plan.changed.err")"

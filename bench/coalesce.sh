#!/bin/bash
# bench/coalesce.sh: how many reloads one second of rule changes costs
# (each a new service with an alert), against a stand-in reload endpoint
# that counts POSTs (bench/reloadcount.py); the quiet delay is the
# default 1 s. Run by bench/run.sh.
. "$(dirname "$0")/lib.sh"
need wrk curl python3

rport=$(free_port)
bg reloadcount python3 bench/reloadcount.py "$rport"
until_ok 30 http_ok "http://127.0.0.1:$rport/count" ||
	{ echo "bench: reloadcount.py did not start" >&2; exit 1; }
out=$BENCH_DIR/coalesce.out
: >"$out"
for i in $(seq "$RUNS"); do
	rm -rf "$BENCH_DIR/data-reload-$i"
	fm_start "$BENCH_DIR/data-reload-$i" \
	    --reload-url "http://127.0.0.1:$rport/-/reload"
	# The start-up reload first.
	until [ "$(fm_metric flowmon_reload_pending)" = 0 ] &&
	    [ "$(fm_metric 'flowmon_reloads_total{outcome="success"}')" = 1 ]; do
		sleep 0.1
	done
	before=$(curl -sf "http://127.0.0.1:$rport/count")
	# One second of rule changes, as fast as 8 clients can send them.
	sent=$(BENCH_POOL=100000 BENCH_ALERTS=1 wrk -t2 -c8 -d1s \
	    -s bench/reconfigure.lua "$FM_URL" |
	    awk '/requests in/ { print $1 }')
	# Quiet: the delay (1 s) has run out and no reload is pending.
	until [ "$(fm_metric flowmon_reload_pending)" = 0 ]; do sleep 0.1; done
	after=$(curl -sf "http://127.0.0.1:$rport/count")
	echo "$((after - before)) $sent" >>"$out"
	fm_stop
	rm -rf "$BENCH_DIR/data-reload-$i"
done
echo "reloads for one second of rule changes: $(awk '{ print $1 }' "$out" | median) (rule changes in that second: $(awk '{ print $2 }' "$out" | median))"

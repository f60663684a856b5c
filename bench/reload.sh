#!/bin/bash
# bench/reload.sh: how long Prometheus takes to reload its rules against
# the number of rule files, each holding one alert as flowmon writes it
# (the figure --reload-timeout must cover). For each size of RELOAD_SIZES
# (default "1000 $BIG"; add 50000 for the slope) the files are written
# straight to a directory, Prometheus starts on them (evaluating every
# EVAL, default 1m, Prometheus's own default), and RELOAD_RUNS (3) times
# one file changes and POST /-/reload is timed: Prometheus answers once
# the new rules are loaded, which is what flowmon waits for. Run by
# bench/run.sh; alone:
#
#   RELOAD_SIZES="1000 10000 50000" EVAL=10s bash bench/reload.sh
. "$(dirname "$0")/lib.sh"
need curl prometheus
RELOAD_SIZES=${RELOAD_SIZES:-1000 $BIG}
RELOAD_RUNS=${RELOAD_RUNS:-3}
EVAL=${EVAL:-1m}
W=$BENCH_DIR/reload

# rules DIR N PASS: N rule files rl0.yml .. rl<N-1>.yml; PASS goes into
# the expression, so a new pass changes every file.
rules() {
	awk -v d="$1" -v n="$2" -v p="$3" 'BEGIN {
		for (i = 0; i < n; i++) {
			f = d "/rl" i ".yml"
			printf "groups:\n- name: rl%d\n  rules:\n  - alert: rl%d_down\n" \
			    "    expr: up{job=\"rl%d\"} == %d\n    for: 1m\n",
			    i, i, i, p + 2 > f
			close(f)
		}
	}'
}

for n in $RELOAD_SIZES; do
	rm -rf "$W"
	mkdir -p "$W/rules"
	rules "$W/rules" "$n" 0
	port=$(free_port)
	cat >"$W/prometheus.yml" <<-EOF2
	global:
	  scrape_interval: 15s
	  evaluation_interval: $EVAL
	rule_files: ['$W/rules/*.yml']
	scrape_configs:
	  - job_name: prometheus
	    static_configs:
	      - targets: ['127.0.0.1:$port']
	EOF2
	t0=$(now_ms)
	bg prometheus prometheus --config.file="$W/prometheus.yml" \
	    --storage.tsdb.path="$W/tsdb" --web.enable-lifecycle \
	    --web.listen-address="127.0.0.1:$port" --log.level=warn
	pid=$LAST_PID
	until_ok 900 http_ok "http://127.0.0.1:$port/-/ready" ||
		{ echo "bench: Prometheus did not start with $n rule files" >&2; exit 1; }
	start=$(($(now_ms) - t0))
	: >"$W/times"
	for i in $(seq "$RELOAD_RUNS"); do
		# One changed file, as after a reconfigure.
		mkdir -p "$W/one"
		rules "$W/one" 1 "$i"
		mv "$W/one/rl0.yml" "$W/rules/rl0.yml"
		read -r code secs <<<"$(curl -s -o /dev/null -X POST --max-time 900 \
		    -w '%{http_code} %{time_total}' "http://127.0.0.1:$port/-/reload")"
		[ "$code" = 200 ] ||
			{ echo "bench: Prometheus answered $code to a reload of $n rule files" >&2; exit 1; }
		awk -v s="$secs" 'BEGIN { printf "%d\n", s * 1000 }' >>"$W/times"
	done
	echo "Prometheus reload with $n rule files (one alert each, evaluated every $EVAL): median $(median <"$W/times") ms, longest $(sort -g "$W/times" | tail -1) ms of $RELOAD_RUNS; start until ready $start ms; load average $(load_avg)"
	stop "$pid"
done
rm -rf "$W"

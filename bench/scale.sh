#!/bin/bash
# bench/scale.sh: the time from a reconfigure to the new service's target
# being scraped (its up sample queryable) and to its alert being active,
# for Prometheus and for vmagent + victoria-metrics + vmalert, with SIZES
# services already on the volume (each with a target file and a rule
# file). Run by bench/run.sh (`make bench`); alone:
#
#   FLOWMON=$PWD/build/flowmon bash bench/scale.sh
#   SIZES="100 10000" PROBES=3 EVAL=10s SD_CHECK=5s ALERT_EVERY=10 \
#       bash bench/scale.sh
#
# One flowmon (default options, bench/lib.sh) fills one data dir per size;
# each engine then reads it in turn, alone on the machine, and PROBES new
# services are announced one after the other. Background services are scraped
# every 60 s (a closed port); one in ALERT_EVERY (10) also has an alert,
# which never fires (10,000 rule groups evaluated every 10 s starve a
# 2-core machine: see bench/README.md); a probe's target
# is flowmon's own /metrics, scraped every second, and its alert is
# `up{job="<probe>"} == 1`, active as soon as one evaluation sees it.
# Engines: Prometheus (file_sd over inotify; rules reloaded by flowmon's
# POST, synchronous) and vmagent (file_sd re-read every SD_CHECK) writing
# to victoria-metrics (-search.latencyOffset=1s), vmalert (reloaded by
# flowmon's POST, verified through its /metrics); both evaluate every
# EVAL. Only 127.0.0.1; every process started is stopped on exit; each
# wait is bounded (PROBE_TIMEOUT per probe).
. "$(dirname "$0")/lib.sh"
need wrk curl jq perl prometheus victoria-metrics vmagent vmalert
SIZES=${SIZES:-100 $BIG}
PROBES=${PROBES:-3}
EVAL=${EVAL:-10s}
SD_CHECK=${SD_CHECK:-5s}
ALERT_EVERY=${ALERT_EVERY:-10}
PROBE_TIMEOUT=${PROBE_TIMEOUT:-240}
LOAD_TIMEOUT=${LOAD_TIMEOUT:-300}
W=$BENCH_DIR/scale
rm -rf "$W"
mkdir -p "$W"

get() { curl -sfg --max-time 30 "$1"; }

# fill_scale SIZE: SIZE background services on the volume (scale.lua).
fill_scale() {
	local end=$(($(date +%s) + LOAD_TIMEOUT))
	until [ "$(fm_metric 'flowmon_services{state="active"}')" -ge "$1" ]; do
		[ "$(date +%s)" -lt "$end" ] || { echo "scale: fill timed out" >&2; exit 1; }
		BENCH_POOL=$1 BENCH_ALERT_EVERY=$ALERT_EVERY wrk -t2 -c8 \
		    -d$(($1 / 500 + 2))s -s bench/scale.lua \
		    "$FM_URL" >/dev/null
	done
}

# ---------------------------------------------------------------- engines
# Each sets STORE (the query URL), ALERTS (the alerts API), RELOAD (for
# flowmon's --reload-url) and READY (a command that succeeds once the
# engine has loaded the whole volume).
ENGINE_PIDS=""
engine_stop() {
	# shellcheck disable=SC2086 # a list of pids
	stop $ENGINE_PIDS
	ENGINE_PIDS=""
}

prom_up() {
	local data=$1 port
	port=$(free_port)
	cat >"$W/prometheus.yml" <<-EOF
	global:
	  scrape_interval: 1s
	  scrape_timeout: 1s
	  evaluation_interval: $EVAL
	rule_files: ['$data/rules/*.yml']
	scrape_configs:
	  - job_name: flowmon
	    file_sd_configs:
	      - files: ['$data/targets/*.json']
	        refresh_interval: 30s
	EOF
	rm -rf "$W/tsdb"
	bg prometheus prometheus --config.file="$W/prometheus.yml" \
	    --storage.tsdb.path="$W/tsdb" --web.enable-lifecycle \
	    --web.listen-address="127.0.0.1:$port" --log.level=warn
	ENGINE_PIDS=$LAST_PID
	STORE=http://127.0.0.1:$port
	ALERTS=$STORE/api/v1/alerts
	RELOAD=$STORE/-/reload
	until_ok 300 http_ok "$STORE/-/ready" || return 1
}
# (The rules API of 10,000 groups is megabytes: asked every 2 s.)
prom_loaded() {
	local n=$1
	[ "$(get "$STORE/metrics" | awk '/^prometheus_sd_discovered_targets\{/ { s += $2 } END { print s + 0 }')" -ge "$n" ] &&
	    [ "$(get "$STORE/api/v1/rules" | jq '.data.groups | length')" -ge "$NRULES" ] &&
	    return 0
	sleep 2
	return 1
}

vm_up() {
	local data=$1 vport aport lport
	vport=$(free_port)
	aport=$(free_port)
	lport=$(free_port)
	rm -rf "$W/vmdata" "$W/vmagent-queue"
	cat >"$W/vmagent.yml" <<-EOF
	global:
	  scrape_interval: 1s
	  scrape_timeout: 1s
	scrape_configs:
	  - job_name: flowmon
	    file_sd_configs:
	      - files: ['$data/targets/*.json']
	EOF
	bg victoria-metrics victoria-metrics -httpListenAddr="127.0.0.1:$vport" \
	    -storageDataPath="$W/vmdata" -retentionPeriod=1d \
	    -search.latencyOffset=1s -loggerLevel=WARN
	ENGINE_PIDS=$LAST_PID
	STORE=http://127.0.0.1:$vport
	until_ok 60 http_ok "$STORE/health" || return 1
	bg vmagent vmagent -promscrape.config="$W/vmagent.yml" \
	    -promscrape.fileSDCheckInterval="$SD_CHECK" \
	    -remoteWrite.url="$STORE/api/v1/write" \
	    -remoteWrite.tmpDataPath="$W/vmagent-queue" \
	    -httpListenAddr="127.0.0.1:$aport" -loggerLevel=WARN
	ENGINE_PIDS="$ENGINE_PIDS $LAST_PID"
	AGENT=http://127.0.0.1:$aport
	bg vmalert vmalert -rule="$data/rules/*.yml" -datasource.url="$STORE" \
	    -evaluationInterval="$EVAL" -httpListenAddr="127.0.0.1:$lport" \
	    -notifier.url="http://127.0.0.1:$(free_port)" -loggerLevel=WARN
	ENGINE_PIDS="$ENGINE_PIDS $LAST_PID"
	VMALERT=http://127.0.0.1:$lport
	ALERTS=$VMALERT/api/v1/alerts
	RELOAD=$VMALERT/-/reload
	until_ok 60 http_ok "$AGENT/health" || return 1
	until_ok 300 http_ok "$VMALERT/health" || return 1
}
vm_loaded() {
	local n=$1
	[ "$(get "$AGENT/metrics" | awk '$1 == "vm_promscrape_active_scrapers{type=\"file_sd_configs\"}" { print $2 }')" -ge "$n" ] &&
	    [ "$(get "$VMALERT/api/v1/rules" | jq '.data.groups | length')" -ge "$NRULES" ] &&
	    return 0
	sleep 2
	return 1
}

# ----------------------------------------------------------------- probes
# probe NAME: announces NAME through flowmon; prints "scraped_ms alert_ms"
# ("-" for what did not happen within PROBE_TIMEOUT).
probe() {
	local name=$1 t0 t now scraped=- alert=- q
	q="$STORE/api/v1/query?query=up%7Bjob%3D%22$name%22%7D"
	t0=$(now_ms)
	curl -sf -o /dev/null -G "$FM_URL/v1/docker-flow-monitor/reconfigure" \
	    --data-urlencode "serviceName=$name" \
	    --data-urlencode "targets=127.0.0.1:$FM_PORT" \
	    --data-urlencode scrapeInterval=1s --data-urlencode alertName=up \
	    --data-urlencode "alertIf=up{job=\"$name\"} == 1"
	while :; do
		now=$(now_ms)
		if [ "$scraped" = - ] && get "$q" |
		    jq -e '.data.result | length > 0' >/dev/null 2>&1; then
			scraped=$((now - t0))
		fi
		if [ "$alert" = - ] && get "$ALERTS" | jq -e --arg a "${name}_up" \
		    '[.data.alerts[] | select(.labels.alertname == $a)] | length > 0' \
		    >/dev/null 2>&1; then
			alert=$((now - t0))
		fi
		[ "$scraped" != - ] && [ "$alert" != - ] && break
		[ $((now - t0)) -lt $((PROBE_TIMEOUT * 1000)) ] || break
		sleep 0.2
	done
	echo "$scraped $alert"
}

# The reload durations flowmon logged since line FROM of its log.
reload_ms() {
	tail -n +"$1" "$FM_LOG" |
	    sed -n 's/.*msg="reload succeeded".*duration_ms=\([0-9]*\).*/\1/p'
}

echo "scale: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)," \
    "evaluation every $EVAL, vmagent file_sd check every $SD_CHECK," \
    "$PROBES probes; medians"
for size in $SIZES; do
	DATA=$W/data-$size
	fm_start "$DATA"
	t0=$(now_ms)
	fill_scale "$size"
	fm_stop
	NRULES=$(find "$DATA/rules" -name '*.yml' | wc -l)
	echo "scale: $size services ($NRULES with an alert) on the volume in $(secs $(($(now_ms) - t0))) s"

	for engine in prometheus victoria; do
		t0=$(now_ms)
		if [ "$engine" = prometheus ]; then
			prom_up "$DATA" && until_ok "$LOAD_TIMEOUT" prom_loaded "$size" ||
				{ echo "scale: Prometheus did not load $size services" >&2; exit 1; }
			label="Prometheus"
		else
			vm_up "$DATA" && until_ok "$LOAD_TIMEOUT" vm_loaded "$size" ||
				{ echo "scale: VictoriaMetrics did not load $size services" >&2; exit 1; }
			label="vmagent + vmalert"
		fi
		startup=$(($(now_ms) - t0))
		fm_start "$DATA" --reload-url "$RELOAD" --reload-delay 1s \
		    --log-level info
		# The start-up reload first, so a probe is not timed against it.
		until_ok 300 eval '[ "$(fm_metric flowmon_reload_pending)" = 0 ]' || true
		from=$(($(wc -l <"$FM_LOG") + 1))
		out=$(for k in $(seq "$PROBES"); do
			probe "${engine:0:4}$size$k"
		done)
		s=$(echo "$out" | awk '{ print $1 }' | median)
		a=$(echo "$out" | awk '{ print $2 }' | median)
		r=$(reload_ms "$from" | median)
		misses=$(echo "$out" | grep -c -- - || true)
		echo "$label, $size services: reconfigure -> scraped $(secs "$s") s," \
		    "-> alert active $(secs "$a") s (flowmon's reload $r ms;" \
		    "engine start with the volume $(secs "$startup") s;" \
		    "probes timed out: $misses)"
		fm_stop
		engine_stop
	done
done

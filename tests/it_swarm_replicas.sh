#!/bin/bash
# it_swarm_replicas.sh: @swarm_replicas_missing fires and resolves outside
# the end-to-end test (issue 23). A fake Docker Engine API
# (tests/fake_docker.py) lists a service that wants 3 tasks and runs 2;
# flowmon reads it (--docker-host) and exports flowmon_swarm_replicas_* on
# /metrics; a real Prometheus scrapes that /metrics with the one job README
# documents ("Swarm state on /metrics": honor_labels, the flowmon_swarm_*
# series kept) and loads flowmon's rule files, reloaded by flowmon. The
# service's alert fires; once Docker runs 3 tasks, it resolves. Prometheus
# scrapes nothing but flowmon (no file_sd job: the service's own targets
# would be names nobody resolves here).
. "$(dirname "$0")/lib.sh"

it_require python3 python3

DATA=$IT_TMP/data
CTL=$IT_TMP/engine
SOCK=$IT_TMP/docker.sock
API=/v1/docker-flow-monitor
mkdir -p "$CTL" "$DATA/rules"

# The engine: one service, api, replicated 3, 2 tasks running (Docker's
# ServiceStatus, as the service list with status=true gives it).
jq -n '[{ID: "a1", Version: {Index: 1},
    Spec: {Name: "api", Mode: {Replicated: {Replicas: 3}},
      Labels: {"com.df.notify": "true", "com.df.scrapePort": "8080",
        "com.df.scrapeType": "static_configs",
        "com.df.alertName": "replicas",
        "com.df.alertIf": "@swarm_replicas_missing"}},
    ServiceStatus: {RunningTasks: 2, DesiredTasks: 3, CompletedTasks: 0}}]' \
    >"$CTL/services.json"
echo '[]' >"$CTL/tasks.json"
echo '[]' >"$CTL/nodes.json"
: >"$CTL/events.jsonl"
docker_fake_start "$CTL" "$SOCK"

# prom_config [FLOWMON_TARGET]: Prometheus's configuration: flowmon's rule
# files, and, once flowmon's port is known, README's job for its /metrics.
prom_config() {
	cat >"$IT_TMP/prometheus.yml.new" <<-EOF
	global:
	  scrape_interval: 1s
	  scrape_timeout: 1s
	  evaluation_interval: 1s
	rule_files:
	  - '$DATA/rules/*.yml'
	EOF
	[ -n "${1:-}" ] && cat >>"$IT_TMP/prometheus.yml.new" <<-EOF
	scrape_configs:
	  - job_name: flowmon-swarm
	    honor_labels: true
	    static_configs: [{targets: ['$1']}]
	    metric_relabel_configs:
	      - {source_labels: [__name__], regex: 'flowmon_swarm_.*', action: keep}
	EOF
	mv "$IT_TMP/prometheus.yml.new" "$IT_TMP/prometheus.yml"
}

# Prometheus first (flowmon reloads it), then flowmon, then the job for
# flowmon's port, by a reload of the test's own.
prom_config
free_port PROM_PORT
PROM_URL=http://127.0.0.1:$PROM_PORT
"$PROMETHEUS_BIN" --config.file="$IT_TMP/prometheus.yml" \
    --storage.tsdb.path="$IT_TMP/tsdb" --web.listen-address="127.0.0.1:$PROM_PORT" \
    --web.enable-lifecycle --log.level=warn >"$IT_TMP/prometheus.log" 2>&1 &
PROM_PID=$!
track "$PROM_PID"
wait_alive 30 "$PROM_PID" prom_ready || fail "prometheus did not start"
flowmon_start "$DATA" --docker-host "unix://$SOCK" --docker-poll 1s --promtool none
prom_config "127.0.0.1:$FLOWMON_PORT"
curl -sf --max-time 10 -X POST "$PROM_URL/-/reload" >/dev/null ||
	fail "prometheus did not take the flowmon-swarm job"

swarm() { fm_metric "flowmon_swarm_$1{service=\"$2\"}"; }
# series_is JOB QUERY VALUE: QUERY gives one series of job JOB with VALUE.
series_is() {
	prom_api "/api/v1/query?query=$2" | jq -e --arg j "$1" --arg v "$3" \
	    '.data.result | length == 1 and .[0].metric.job == $j and
	     .[0].metric.service == "api" and .[0].value[1] == $v' >/dev/null
}

check "3 wanted, 2 running: flowmon exports it, Prometheus scrapes it under service=\"api\""
wait_until 20 grep -q 'flowmon_swarm_replicas_running{service="api"} < flowmon_swarm_replicas_desired{service="api"}' \
    "$DATA/rules/api.yml" || fail "no rule file for api: $(cat "$DATA/rules/api.yml" 2>&1)"
wait_until 20 eval '[ "$(swarm replicas_desired api)/$(swarm replicas_running api)" = 3/2 ]' ||
	fail "flowmon's /metrics: $(swarm replicas_desired api)/$(swarm replicas_running api)"
wait_until 60 series_is flowmon-swarm flowmon_swarm_replicas_running 2 ||
	fail "Prometheus has no flowmon_swarm_replicas_running{service=\"api\"} 2: $(prom_api '/api/v1/query?query=flowmon_swarm_replicas_running')"
series_is flowmon-swarm flowmon_swarm_replicas_desired 3 ||
	fail "desired: $(prom_api '/api/v1/query?query=flowmon_swarm_replicas_desired')"
ok "3 desired, 2 running, scraped with service=\"api\" (honor_labels)"

check "api's @swarm_replicas_missing alert fires"
wait_until 60 prom_has_rule api api_replicas ||
	fail "Prometheus never loaded api's rule: $(prom_api /api/v1/rules)"
wait_until 60 prom_alert_firing api_replicas ||
	fail "api_replicas never fired: $(prom_api /api/v1/alerts)"
alert=$(prom_api /api/v1/alerts | jq -c '.data.alerts[] | select(.labels.alertname == "api_replicas")')
jq -e '.labels.service == "api" and .labels.receiver == "system" and
    (.annotations.summary | test("api"))' <<<"$alert" >/dev/null ||
	fail "the alert: $alert"
fm_expect 200 "$API/explain/api"
jq -e '.rules.state == "loaded" and
    (.prometheus.alerts | map(select(.name == "api_replicas" and .state == "firing")) | length) == 1' \
    <<<"$HTTP_BODY" >/dev/null || fail "explain/api: $HTTP_BODY"
ok "firing: $(jq -c .labels <<<"$alert")"

check "Docker runs the third task: the alert resolves"
docker_fake_put "$CTL" services.json '(.[] | select(.ID == "a1") | .ServiceStatus.RunningTasks) = 3'
docker_fake_event "$CTL" service update a1
wait_until 20 eval '[ "$(swarm replicas_running api)" = 3 ]' ||
	fail "flowmon's /metrics: running $(swarm replicas_running api)"
wait_until 60 series_is flowmon-swarm flowmon_swarm_replicas_running 3 ||
	fail "Prometheus: $(prom_api '/api/v1/query?query=flowmon_swarm_replicas_running')"
wait_until 60 prom_no_alert api_replicas ||
	fail "api_replicas still active: $(prom_api /api/v1/alerts)"
[ "$(prom_rule api api_replicas | jq -r .state)" = inactive ] ||
	fail "the rule: $(prom_rule api api_replicas)"
ok "3 running: the alert is gone, its rule inactive"

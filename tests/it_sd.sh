#!/bin/bash
# tests/it_sd.sh: issue 7, GET /v1/docker-flow-monitor/sd, with the real
# Debian Prometheus on 127.0.0.1 running two scrape jobs over the same
# services: one with file_sd over targets/*.json, one with http_sd_configs
# pointed at flowmon (basic auth, which reads need too, as the README shows):
#   /sd is exactly the groups of the target files; Prometheus discovers the
#   same targets (labels and scrape URLs) through both, and both follow a
#   remove and an add.
# Run by tests/run-integration.sh with FLOWMON set (FLOWMON_WRAP optional).
. "$(dirname "$0")/lib.sh"

API=/v1/docker-flow-monitor
DATA=$IT_TMP/data
mkdir -p "$DATA/targets" "$DATA/rules"
printf 'prometheus:sd-p4ss\nswarm:l1stener\n' >"$IT_TMP/users"
AUTH=(-u swarm:l1stener)

node_start
DF_NODE_TARGET_LABELS=zone flowmon_start "$DATA" \
    --basic-auth-file "$IT_TMP/users"

check "register services: explicit targets, nodeInfo tasks with node labels, static_configs"
reconfigure "${AUTH[@]}" --data-urlencode serviceName=web \
    --data-urlencode "targets=127.0.0.1:$NODE_PORT" \
    --data-urlencode scrapeInterval=2s --data-urlencode metricsPath=/metrics
fm_expect 200 "$API/node/reconfigure?id=id1&hostname=node-1&zone=eu" "${AUTH[@]}"
reconfigure "${AUTH[@]}" --data-urlencode serviceName=tasks \
    --data-urlencode "scrapePort=$NODE_PORT" \
    --data-urlencode 'nodeInfo=[["node-1","127.0.0.1","id1"],["node-2","127.0.0.2","id2"]]'
reconfigure "${AUTH[@]}" --data-urlencode serviceName=stat \
    --data-urlencode scrapeType=static_configs --data-urlencode "scrapePort=$NODE_PORT"
ok "web, tasks (2 tasks), stat"

# files_groups: every group of every service's target file, in service
# order (the _flowmon sentinel holds no target and is no service's).
files_groups() {
	local f files=()
	for f in "$DATA"/targets/*.json; do
		[ "$(basename "$f")" = _flowmon.json ] || files+=("$f")
	done
	jq -S -s '[.[][]]' "${files[@]}"
}

check "/sd needs credentials (an auth file is set) and equals the target files"
fm_expect 401 $API/sd
fm_expect 200 $API/sd -u prometheus:sd-p4ss
sd=$(jq -S . <<<"$HTTP_BODY")
[ "$sd" = "$(files_groups)" ] ||
	fail "/sd differs from the target files: $(diff <(echo "$sd") <(files_groups))"
[ "$(jq length <<<"$sd")" = 4 ] || fail "expected 4 groups: $sd"
jq -e '[.[] | select(.labels.node == "node-1")][0].labels.zone == "eu"' <<<"$sd" >/dev/null ||
	fail "node labels missing from /sd: $sd"
ok "$(jq -c '[.[] | {t: .targets[0], job: .labels.job}]' <<<"$sd")"

check "start Prometheus with a file_sd job and an http_sd job"
cat >"$IT_TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 2s
  scrape_timeout: 1s
scrape_configs:
  - job_name: flowmon-file
    file_sd_configs:
      - files: ['$DATA/targets/*.json']
        refresh_interval: 30s
  - job_name: flowmon-http
    http_sd_configs:
      - url: $FLOWMON_URL$API/sd
        refresh_interval: 2s
        basic_auth:
          username: prometheus
          password: sd-p4ss
EOF
for attempt in 1 2 3; do
	free_port PROM_PORT
	PROM_URL=http://127.0.0.1:$PROM_PORT
	PROM_LOG=$IT_TMP/prometheus.log
	"$PROMETHEUS_BIN" --config.file="$IT_TMP/prometheus.yml" \
	    --storage.tsdb.path="$IT_TMP/tsdb" \
	    --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn \
	    >"$PROM_LOG" 2>&1 &
	PROM_PID=$!
	track "$PROM_PID"
	wait_until 30 prom_ready && break
	alive "$PROM_PID" && fail "prometheus did not become ready in 30 s"
	wait "$PROM_PID"
	PROM_PID=""
	grep -qi 'address already in use' "$PROM_LOG" || fail "prometheus did not start"
done
[ -n "$PROM_PID" ] || fail "prometheus could not listen on any port"
ok "prometheus up on $PROM_URL (pid $PROM_PID)"

# pool POOL: the active targets of one scrape pool as sorted
# {labels, scrapeUrl}; the pools differ only in discoveredLabels.
pool() {
	prom_api /api/v1/targets | jq -S --arg p "$1" \
	    '[.data.activeTargets[] | select(.scrapePool == $p) |
	      {labels, scrapeUrl}] | sort_by(.scrapeUrl, .labels.job)'
}

# pools_agree N [JOB]: both pools hold the same N targets (and JOB, if
# given, is among them).
pools_agree() {
	local f h
	f=$(pool flowmon-file) && h=$(pool flowmon-http) || return 1
	[ "$(jq length <<<"$f")" = "$1" ] && [ "$f" = "$h" ] || return 1
	[ -z "${2:-}" ] || jq -e --arg j "$2" 'any(.[]; .labels.job == $j)' \
	    <<<"$h" >/dev/null
}

check "Prometheus discovers the same 4 targets through file_sd and http_sd"
wait_until 40 pools_agree 4 ||
	fail "pools differ: file $(pool flowmon-file | jq -c .) http $(pool flowmon-http | jq -c .)"
h=$(pool flowmon-http)
jq -e 'map(.labels.job) | sort == ["stat", "tasks", "tasks", "web"]' <<<"$h" >/dev/null ||
	fail "jobs are not the services' names: $h"
jq -e 'any(.[]; .labels.node == "node-1" and .labels.zone == "eu")' <<<"$h" >/dev/null ||
	fail "node labels lost through http_sd: $h"
jq -e 'any(.[]; .labels.job == "web" and .scrapeUrl == "http://127.0.0.1:'"$NODE_PORT"'/metrics")' \
    <<<"$h" >/dev/null || fail "web's scrape URL: $h"
ok "$(jq -c '[.[] | [.labels.job, .scrapeUrl]]' <<<"$h")"

check "web is scraped through http_sd (health up, interval from __scrape_interval__)"
web_up() {
	prom_api /api/v1/targets | jq -e '.data.activeTargets[] |
	    select(.scrapePool == "flowmon-http" and .labels.job == "web") |
	    select(.health == "up" and .scrapeInterval == "2s")' >/dev/null
}
wait_until 30 web_up || fail "web not up through http_sd: $(pool flowmon-http | jq -c .)"
ok "up"

check "remove stat, add api: both discoveries follow"
fm_expect 200 "$API/remove?serviceName=stat" "${AUTH[@]}"
reconfigure "${AUTH[@]}" --data-urlencode serviceName=api \
    --data-urlencode "targets=127.0.0.1:$NODE_PORT" --data-urlencode metricsPath=/api-metrics
no_stat() { pools_agree 4 api && ! pool flowmon-http | jq -e 'any(.[]; .labels.job == "stat")' >/dev/null; }
wait_until 40 no_stat ||
	fail "pools differ: file $(pool flowmon-file | jq -c .) http $(pool flowmon-http | jq -c .)"
fm_expect 200 $API/sd -u prometheus:sd-p4ss
[ "$(jq -S . <<<"$HTTP_BODY")" = "$(files_groups)" ] || fail "/sd differs from the target files after the change"
ok "$(pool flowmon-http | jq -c '[.[] | .labels.job]')"

check "Prometheus reported no http_sd error"
! grep -i 'http_sd\|discovery.*error' "$PROM_LOG" | grep -qi 'error' ||
	fail "http_sd errors: $(grep -i error "$PROM_LOG" | tail -n 3)"
ok "prometheus log clean"

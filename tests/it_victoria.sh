#!/bin/bash
# it_victoria.sh: flowmon's files on VictoriaMetrics (issue 15), with
# Debian's victoria-metrics 1.79 binaries on 127.0.0.1.
#   victoria-metrics stores; two vmagents in a cluster of 2
#   (-promscrape.cluster.membersCount=2, memberNum 0 and 1) load the
#   prometheus.yml flowmon writes (--prometheus-config) and read its
#   targets/*.json through file_sd: each scrapes a non-empty part, no
#   target is scraped by both, and VictoriaMetrics holds every service's
#   up. A removed service's series goes stale (vmagent sends staleness
#   markers: up is absent from an instant query).
#   vmalert evaluates flowmon's rules/*.yml against VictoriaMetrics and is
#   reloaded by flowmon's --reload-url: an alert announced through flowmon
#   fires in vmalert's /api/v1/alerts, a change to it shows in vmalert with
#   no restart. A rule promtool accepts but vmalert 1.79 cannot load (the
#   template function toTime, which vmalert lacks) is handled as a rule
#   Prometheus refuses: vmalert answers the reload with 200, flowmon's
#   verify step reads the failure in vmalert's /metrics, finds the file,
#   quarantines it in rejected/, and the good change of the same burst
#   goes live.
#   `flowmon reloader` pointed at a second vmalert keeps it in step too.
. "$(dirname "$0")/lib.sh"

for _b in victoria-metrics vmagent vmalert; do
	it_require "$_b" victoria-metrics
done
it_require python3 python3
NSVC=10
MULTIPORT=$(cd "$(dirname "$0")" && pwd)/multiport.py
DATA=$IT_TMP/data
mkdir -p "$DATA/targets" "$DATA/rules"

# start_on_port NAME READY_PATH CMD [ARGS...]: runs CMD in the background
# with every @PORT@ in its arguments replaced by a free loopback port and
# waits until READY_PATH answers 200. Retries when the port was taken
# meanwhile. Sets S_PORT, S_PID, S_URL; logs to $IT_TMP/NAME.log.
start_on_port() {
	local name=$1 ready=$2 attempt a args
	shift 2
	for attempt in 1 2 3; do
		free_port S_PORT
		args=()
		for a in "$@"; do args+=("${a//@PORT@/$S_PORT}"); done
		"${args[@]}" >"$IT_TMP/$name.log" 2>&1 &
		S_PID=$!
		track "$S_PID"
		S_URL=http://127.0.0.1:$S_PORT
		if wait_alive 30 "$S_PID" http_ok "$S_URL$ready"; then
			say "$name up on $S_URL (pid $S_PID)"
			return 0
		fi
		alive "$S_PID" && fail "$name did not answer $ready within 30 s"
		wait "$S_PID"
		grep -qi 'address already in use' "$IT_TMP/$name.log" ||
			fail "$name did not start"
		say "$name: port taken, again (attempt $attempt)"
	done
	fail "$name could not listen"
}

# get URL: a JSON answer (curl -g: PromQL braces are not curl globs).
get() { curl -sfg --max-time 10 "$1"; }

# ----------------------------------------------------- compose/victoria.yml
check "compose/victoria.yml parses and runs the components as this test does"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STACK=$ROOT/compose/victoria.yml
if command -v docker >/dev/null && docker stack config --help >/dev/null 2>&1; then
	docker stack config -c "$STACK" >/dev/null 2>"$IT_TMP/stack.err" ||
		fail "docker stack config: $(grep -v 'Cannot connect' "$IT_TMP/stack.err")"
else
	python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$STACK" ||
		fail "compose/victoria.yml does not parse"
fi
for l in -promscrape.config=/var/lib/flowmon/prometheus.yml \
    -promscrape.config.strictParse=false -promscrape.cluster.membersCount=2 \
    -promscrape.cluster.memberNum=0 -promscrape.cluster.memberNum=1 \
    '-rule=/var/lib/flowmon/rules/*.yml' \
    FLOWMON_PROMETHEUS_CONFIG=/var/lib/flowmon/prometheus.yml \
    FLOWMON_RELOAD_URL=http://vmalert:8880/-/reload; do
	grep -qxF -- "      - $l" "$STACK" || fail "compose/victoria.yml lacks $l"
done
ok "docker stack config (or YAML) accepts it; same flags as below"

# ------------------------------------------------------------ the stack
check "victoria-metrics, two vmagents in a cluster of 2, vmalert, flowmon"
# Queries see samples 1 s after they are written (the default, 30 s, is
# for remote agents whose samples arrive late).
start_on_port victoria-metrics /health victoria-metrics \
    -httpListenAddr=127.0.0.1:@PORT@ -storageDataPath="$IT_TMP/vmdata" \
    -retentionPeriod=1d -search.latencyOffset=1s -loggerLevel=WARN
VM_URL=$S_URL

# No Alertmanager: alerts are read from vmalert's API; the notifier URL
# is a port nothing listens on.
free_port NOTIFIER_PORT
vmalert_start() {
	start_on_port "$1" /health vmalert -rule="$DATA/rules/*.yml" \
	    -datasource.url="$VM_URL" -evaluationInterval=1s \
	    -notifier.url="http://127.0.0.1:$NOTIFIER_PORT" \
	    -httpListenAddr=127.0.0.1:@PORT@
}
vmalert_start vmalert
VA_URL=$S_URL
VA_PID=$S_PID

# flowmon writes the scrape config too: vmagent reads it as it reads
# Prometheus's, once told to skip the keys it does not know (rule_files,
# file_sd's refresh_interval); it looks at the target files every
# -promscrape.fileSDCheckInterval instead.
WRAP0=$FLOWMON_WRAP
FLOWMON_WRAP="env GLOBAL_SCRAPE_INTERVAL=1s GLOBAL_SCRAPE_TIMEOUT=1s
    CONFIGS_DIR=$IT_TMP/no-secrets $WRAP0"
flowmon_start "$DATA" --reload-url "$VA_URL/-/reload" --reload-delay 300ms \
    --prometheus-config "$IT_TMP/prometheus.yml"
FLOWMON_WRAP=$WRAP0
wait_until 10 grep -q 'reload URL is vmalert' "$FLOWMON_LOG" ||
	fail "flowmon did not recognise vmalert at its start-up reload"
AG_URL=()
for m in 0 1; do
	start_on_port "vmagent$m" /health vmagent \
	    -promscrape.config="$IT_TMP/prometheus.yml" \
	    -promscrape.config.strictParse=false \
	    -promscrape.fileSDCheckInterval=1s \
	    -promscrape.cluster.membersCount=2 \
	    -promscrape.cluster.memberNum=$m \
	    -remoteWrite.url="$VM_URL/api/v1/write" \
	    -remoteWrite.tmpDataPath="$IT_TMP/vmagent$m-queue" \
	    -httpListenAddr=127.0.0.1:@PORT@ -loggerLevel=WARN
	AG_URL[m]=$S_URL
done
ok "flowmon reloads $VA_URL/-/reload (verified through vmalert's /metrics); both vmagents read flowmon's prometheus.yml"

# --------------------------------------------------------------- targets
PORTS=()
for i in $(seq 1 30); do
	free_port np
	PORTS+=("$np")
done
python3 "$MULTIPORT" "${PORTS[@]}" >"$IT_TMP/multiport.log" 2>&1 &
MP_PID=$!
track "$MP_PID"
all_listen() {
	local p
	for p in "${PORTS[@]}"; do
		http_ok "http://127.0.0.1:$p/metrics" || return 1
	done
}
wait_alive 20 "$MP_PID" all_listen || fail "the target listeners did not come up"

add_service() {
	reconfigure --data-urlencode "serviceName=svc$1" \
	    --data-urlencode "targets=127.0.0.1:${PORTS[$1]}"
}

# agent_jobs M: the jobs vmagent M scrapes with health up, sorted.
agent_jobs() {
	get "${AG_URL[$1]}/api/v1/targets" | jq -r \
	    '.data.activeTargets[] | select(.health == "up") | .labels.job' | sort
}

check "$NSVC services: both vmagents scrape a non-empty part, none is scraped by both"
for i in $(seq 0 $((NSVC - 1))); do
	add_service "$i"
done
n=$NSVC
all_scraped() {
	[ "$( (agent_jobs 0; agent_jobs 1) | sort -u | wc -l)" -eq "$n" ]
}
wait_until 40 all_scraped ||
	fail "not all $n services scraped: [$(agent_jobs 0 | tr '\n' ' ')] [$(agent_jobs 1 | tr '\n' ' ')]"
# vmagent hashes each target's labels; all ten on one member is a
# 1-in-512 draw: add services until both have a part (a vmagent that
# never gets one fails the test).
while [ -z "$(agent_jobs 0)" ] || [ -z "$(agent_jobs 1)" ]; do
	[ "$n" -lt 30 ] || fail "30 services and one vmagent still has none"
	add_service "$n"
	n=$((n + 1))
	wait_until 40 all_scraped || fail "service svc$((n - 1)) not scraped"
done
both=$(comm -12 <(agent_jobs 0) <(agent_jobs 1))
[ -z "$both" ] || fail "scraped by both vmagents: $both"
ok "vmagent0: $(agent_jobs 0 | tr '\n' ' ')| vmagent1: $(agent_jobs 1 | tr '\n' ' ')"

check "VictoriaMetrics holds every service's up (the union of both parts)"
vm_jobs() {
	get "$VM_URL/api/v1/query?query=up" |
	    jq -r '.data.result[] | select(.value[1] == "1") | .metric.job' | sort -u
}
want=$(for i in $(seq 0 $((n - 1))); do echo "svc$i"; done | sort)
vm_has_all() { [ "$(vm_jobs)" = "$want" ]; }
wait_until 40 vm_has_all || fail "VictoriaMetrics has up for [$(vm_jobs | tr '\n' ' ')], want [$(echo $want)]"
ok "up == 1 for all $n services"

check "removing svc2: its series goes stale in VictoriaMetrics, the others stay"
fm_expect 200 /v1/docker-flow-monitor/remove -G --data-urlencode serviceName=svc2
svc2_stale() {
	local r
	r=$(get "$VM_URL/api/v1/query?query=up%7Bjob%3D%22svc2%22%7D") || return 1
	[ "$(jq '.data.result | length' <<<"$r")" = 0 ]
}
t0=$(date +%s%N)
wait_until 60 svc2_stale || fail "up{job=\"svc2\"} still answered 60 s after the removal"
ms=$((($(date +%s%N) - t0) / 1000000))
want=$(grep -vx svc2 <<<"$want")
# A scrape that missed its 1 s timeout on a busy machine reads up == 0
# until the next one: the others must be up again, not at every instant.
wait_until 30 vm_has_all || fail "other services lost: [$(vm_jobs | tr '\n' ' ')]"
ok "up{job=\"svc2\"} absent $ms ms after the removal; $(vm_jobs | wc -l) services still up"

# ---------------------------------------------------------------- vmalert
va_alert_state() {
	get "$VA_URL/api/v1/alerts" | jq -r --arg a "$1" \
	    '.data.alerts[] | select(.labels.alertname == $a) | .state'
}
va_firing() { [ "$(va_alert_state "$1")" = firing ]; }
va_rule_query() {
	get "${2:-$VA_URL}/api/v1/rules" | jq -r --arg a "$1" \
	    '.data.groups[].rules[] | select(.name == $a) | .query'
}
va_reloads() {
	get "$VA_URL/metrics" | awk '$1 == "vmalert_config_last_reload_total" { print $2 }'
}

check "an alert announced through flowmon fires in vmalert"
reconfigure --data-urlencode serviceName=svc0 \
    --data-urlencode "targets=127.0.0.1:${PORTS[0]}" \
    --data-urlencode alertName=up --data-urlencode 'alertIf=up{job="svc0"} == 1'
wait_until 30 va_firing svc0_up || fail "svc0_up not firing in vmalert: $(get "$VA_URL/api/v1/alerts")"
# flowmon verifies each reload in vmalert's /metrics, which lags: its
# verdict comes after the alert may already fire.
flowmon_reload_ok() { flowmon_idle && [ "$(fm_metric flowmon_last_reload_successful)" = 1 ]; }
wait_until 30 flowmon_reload_ok || fail "flowmon says its reload failed, or still has one pending"
ok "svc0_up firing in vmalert; flowmon's reload verified successful"

check "changing the alert through flowmon changes it in vmalert, no restart"
reloads0=$(va_reloads)
reconfigure --data-urlencode serviceName=svc0 \
    --data-urlencode "targets=127.0.0.1:${PORTS[0]}" \
    --data-urlencode alertName=up --data-urlencode 'alertIf=up{job="svc0"} == 0'
changed() { [ "$(va_rule_query svc0_up)" = 'up{job="svc0"} == 0' ]; }
wait_until 30 changed || fail "vmalert's svc0_up is still [$(va_rule_query svc0_up)]"
resolved() { [ -z "$(va_alert_state svc0_up)" ]; }
wait_until 30 resolved || fail "svc0_up is still $(va_alert_state svc0_up)"
alive "$VA_PID" || fail "vmalert exited"
# vmalert's /metrics lags its state by up to a second.
more_reloads() { [ "$(va_reloads)" -gt "$reloads0" ]; }
wait_until 10 more_reloads || fail "vmalert counted no reload"
ok "svc0_up now 'up{job=\"svc0\"} == 0', no longer firing; same vmalert (pid $VA_PID), $(($(va_reloads) - reloads0)) reload(s)"

check "a rule promtool accepts but vmalert refuses: quarantined, the good change of the burst goes live"
# vmalert 1.79's templates lack Prometheus's toTime: promtool (run by
# flowmon before writing, when on PATH) passes the file, vmalert's reload
# fails after its 200.
fails0=$(fm_metric 'flowmon_reloads_total{outcome="failure"}')
reconfigure --data-urlencode serviceName=svcbad \
    --data-urlencode alertName=t --data-urlencode 'alertIf=vector(1) > 0' \
    --data-urlencode 'alertAnnotations=since={{ 1 | toTime }}'
reconfigure --data-urlencode serviceName=svc1 \
    --data-urlencode "targets=127.0.0.1:${PORTS[1]}" \
    --data-urlencode alertName=up --data-urlencode 'alertIf=up{job="svc1"} == 1'
quarantined() {
	[ -f "$DATA/rejected/svcbad.yml" ] && [ ! -e "$DATA/rules/svcbad.yml" ] &&
	    [ "$(fm_metric flowmon_rules_rejected)" = 1 ] && flowmon_idle
}
wait_until 60 quarantined || fail "svcbad.yml not quarantined: $(ls "$DATA/rules" "$DATA/rejected" 2>&1 | tr '\n' ' ')"
[ "$(fm_metric 'flowmon_reloads_total{outcome="failure"}')" -gt "$fails0" ] ||
	fail "flowmon counted no failed reload"
grep -q 'vmalert refused the new rules' "$FLOWMON_LOG" || fail "no refusal in flowmon's log"
if it_have promtool prometheus "promtool's verdict on the rules vmalert refused"; then
	promtool check rules "$DATA/rejected/svcbad.yml" >"$IT_TMP/promtool-bad.log" 2>&1 ||
		fail "promtool refuses svcbad.yml too: $(cat "$IT_TMP/promtool-bad.log")"
fi
grep -q 'function "toTime" not defined' "$IT_TMP/vmalert.log" ||
	fail "vmalert's log does not say why it refused"
fm_expect 200 /v1/docker-flow-monitor/services/svcbad
jq -e '.status == "rejected"' <<<"$HTTP_BODY" >/dev/null || fail "svcbad: $HTTP_BODY"
wait_until 30 va_firing svc1_up || fail "svc1_up (same burst) not firing in vmalert"
[ "$(va_rule_query svc0_up)" = 'up{job="svc0"} == 0' ] || fail "svc0_up lost"
va_ok() {
	[ "$(get "$VA_URL/metrics" | awk '$1 == "vmalert_config_last_reload_successful" { print $2 }')" = 1 ]
}
wait_until 10 va_ok || fail "vmalert's last reload is not successful"
wait_until 30 flowmon_reload_ok || fail "flowmon's last reload failed"
ok "rejected/svcbad.yml (promtool: valid), status rejected; svc1_up firing; vmalert and flowmon report success"

# ------------------------------------------------------ flowmon reloader
check "flowmon reloader keeps a second vmalert on the same rules in step"
vmalert_start vmalert2
VA2_URL=$S_URL
free_port RL_PORT
$FLOWMON reloader --data-dir "$DATA" --reload-url "$VA2_URL/-/reload" \
    --listen "127.0.0.1:$RL_PORT" --poll-interval 1s --reload-delay 300ms \
    >"$IT_TMP/reloader.log" 2>&1 &
RL_PID=$!
track "$RL_PID"
wait_alive 20 "$RL_PID" http_ok "http://127.0.0.1:$RL_PORT/metrics" ||
	fail "flowmon reloader did not start"
reconfigure --data-urlencode serviceName=svc1 \
    --data-urlencode "targets=127.0.0.1:${PORTS[1]}" \
    --data-urlencode alertName=up --data-urlencode 'alertIf=up{job="svc1"} >= 1'
in_step() {
	[ "$(va_rule_query svc1_up "$VA2_URL")" = 'up{job="svc1"} >= 1' ] &&
	    [ "$(va_rule_query svc1_up)" = 'up{job="svc1"} >= 1' ]
}
wait_until 30 in_step || fail "vmalert2 has [$(va_rule_query svc1_up "$VA2_URL")]"
rl_ok() {
	curl -sf "http://127.0.0.1:$RL_PORT/metrics" |
	    grep -qx 'flowmon_reloader_last_reload_successful 1' &&
	    curl -sf "http://127.0.0.1:$RL_PORT/metrics" |
	    grep -qx 'flowmon_reloader_reload_pending 0'
}
wait_until 20 rl_ok || fail "the reloader's last reload is not verified successful"
grep -q 'reload URL is vmalert' "$IT_TMP/reloader.log" ||
	fail "the reloader did not verify through vmalert's /metrics"
stop_pid "$RL_PID" 20 || fail "flowmon reloader ignored SIGTERM"
[ "$STOP_STATUS" = 0 ] || fail "flowmon reloader exited $STOP_STATUS"
ok "vmalert2 loaded the change through flowmon reloader, verified"

# ------------------------------------------------------ explain (issue 21)
check "explain with --prometheus-url from --reload-url: vmalert's rules, no targets"
explain_is() {
	fm "/v1/docker-flow-monitor/explain/$1"
	[ "$HTTP_CODE" = 200 ] && jq -e "$2" <<<"$HTTP_BODY" >/dev/null
}
wait_until 30 explain_is svc1 '.prometheus.url == "'"$VA_URL"'" and
    .prometheus.reachable and .prometheus.answered == {"targets": false,
    "rules": true} and .prometheus.targets == [] and
    .prometheus.alerts == [{"name": "svc1_up", "state": "firing",
    "active": 1, "health": "ok", "lastError": ""}] and .warnings == []' ||
	fail "explain/svc1: $HTTP_BODY"
ok "vmalert answers the rules (svc1_up firing), not the targets: no warning"
flowmon_stop

check "explain with both vmagents, victoria-metrics and vmalert: targets and rules put together"
flowmon_start "$DATA" --reload-url "$VA_URL/-/reload" --reload-delay 300ms \
    --prometheus-url "${AG_URL[0]},${AG_URL[1]},$VM_URL,$VA_URL"
for i in 0 1; do
	wait_until 30 explain_is svc$i '.prometheus.answered == {"targets": true,
	    "rules": true} and (.prometheus.targets | length) == 1 and
	    .prometheus.targets[0].health == "up" and
	    (.prometheus.alerts | length) == 1 and .warnings == []' ||
		fail "explain/svc$i: $HTTP_BODY"
done
# promtool let it back in at the start; vmalert refuses it again.
wait_until 60 explain_is svcbad '.state == "rejected" and
    .rules.state == "rejected" and ([.history[].event] | index("rejected"))' ||
	fail "explain/svcbad: $HTTP_BODY"
ok "svc0 and svc1 each with its one target up (from the vmagent that scrapes it) and its alert"

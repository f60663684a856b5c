#!/bin/bash
# it_docker.sh: flowmon's own Docker source (--docker-host, issue 14 item 1)
# against a fake Docker Engine API (tests/fake_docker.py) on a unix socket
# in the temp dir, serving /services, /services/<id>, /tasks, /nodes from
# JSON files this script edits, and /events as a stream of the lines the
# script appends to events.jsonl.
#
# Phase 1 (poll 1h, so only the start-up list and events act): a labelled
# service appears with its targets (nodeInfo from its tasks on the scrape
# network, node labels) and rules; unlabelled ones do not; a change plus
# an event updates it, and its tasks are re-listed until they converge; a
# remove event and a lost notify label remove; a node going down drops its
# labels; a webhook-created service is never touched.
# Phase 2 (poll 1s): a service gone from the list goes at the next poll;
# Docker unreachable, answering 500 or answering garbage removes nothing
# and writes nothing; once it answers again, the source resumes.
. "$(dirname "$0")/lib.sh"

it_require python3 python3

DATA=$IT_TMP/data
CTL=$IT_TMP/engine		# the fake engine's JSON files and logs
SOCK=$IT_TMP/docker.sock
API=/v1/docker-flow-monitor
mkdir -p "$CTL"
export DF_SCRAPE_TARGET_LABELS=env
export DF_NODE_TARGET_LABELS=zone
export FLOWMON_TASK_DNS=none

# ------------------------------------------------------ the fake engine
# tests/fake_docker.py, through lib.sh's docker_fake_* helpers.
engine_start() { docker_fake_start "$CTL" "$SOCK"; }
engine_stop() { docker_fake_stop; }
put() { docker_fake_put "$CTL" "$@"; }	# put FILE JQ_FILTER [JQ ARGS...]
event() { docker_fake_event "$CTL" "$@"; }	# event TYPE ACTION ID
streams() { grep -c connected "$CTL/streams.log" 2>/dev/null || echo 0; }

active() {
	curl -sf --max-time 5 "$FLOWMON_URL$API/services" |
	    jq -r '[.[] | select(.status == "active") | .serviceName] | join(" ")'
}
targets() { jq -c '[.[].targets[]] | sort' "$DATA/targets/$1.json" 2>/dev/null; }
exists() { [ -e "$1" ]; }
gone() { [ ! -e "$1" ]; }

cat >"$CTL/services.json" <<'EOF'
[
 {"ID": "w1", "Version": {"Index": 10},
  "Spec": {"Name": "stack_web", "Mode": {"Replicated": {"Replicas": 2}},
   "Labels": {"com.df.notify": "true", "com.df.shortName": "true",
    "com.docker.stack.namespace": "stack", "com.df.scrapePort": "9100",
    "com.df.scrapeNetwork": "stack_monitor", "com.df.env": "prod",
    "com.df.alertName": "down", "com.df.alertIf": "up == 0",
    "com.df.alertFor": "30s"},
   "TaskTemplate": {"ContainerSpec": {"Labels": {
    "com.df.alertName.1": "slow", "com.df.alertIf.1": "@resp_time_above:0.1,5m,0.99",
    "com.df.scrapePort": "9100", "com.docker.stack.namespace": "stack"}}}}},
 {"ID": "s1", "Version": {"Index": 11},
  "Spec": {"Name": "static", "Mode": {"Global": {}},
   "Labels": {"com.df.notify": "true", "com.df.scrapePort": "8080",
    "com.df.scrapeType": "static_configs"}}},
 {"ID": "p1", "Version": {"Index": 12},
  "Spec": {"Name": "plain", "Mode": {"Replicated": {"Replicas": 1}},
   "Labels": {"com.df.scrapePort": "8081", "com.df.scrapeType": "static_configs"}}},
 {"ID": "o1", "Version": {"Index": 13},
  "Spec": {"Name": "off", "Mode": {"Replicated": {"Replicas": 1}},
   "Labels": {"com.df.notify": "false", "com.df.scrapePort": "8082",
    "com.df.scrapeType": "static_configs"}}}
]
EOF
task() {	# task ID SERVICE NODE STATE ADDR: one task on stack_monitor
	jq -n --arg id "$1" --arg s "$2" --arg n "$3" --arg st "$4" --arg a "$5" \
	    '{ID: $id, ServiceID: $s, NodeID: $n, DesiredState: "running",
	      Status: {State: $st},
	      NetworksAttachments: [
	        {Network: {Spec: {Name: "ingress"}}, Addresses: ["10.255.0.9/16"]},
	        {Network: {Spec: {Name: "stack_monitor"}}, Addresses: [$a]}]}'
}
{ task t1 w1 n1 running 10.0.9.1/24; task t2 w1 n2 running 10.0.9.2/24; } |
    jq -s . >"$CTL/tasks.json"
cat >"$CTL/nodes.json" <<'EOF'
[
 {"ID": "n1", "Version": {"Index": 3},
  "Spec": {"Role": "manager", "Availability": "active",
   "Labels": {"com.df.zone": "eu"}},
  "Description": {"Hostname": "node-1", "Engine": {"Labels": {}}},
  "Status": {"State": "ready", "Addr": "192.0.2.1"}},
 {"ID": "n2", "Version": {"Index": 4},
  "Spec": {"Role": "worker", "Availability": "active",
   "Labels": {"com.df.zone": "us"}},
  "Description": {"Hostname": "node-2"},
  "Status": {"State": "ready", "Addr": "192.0.2.2"}}
]
EOF
: >"$CTL/events.jsonl"

# ============================================================ phase 1
check "start-up list: labelled services appear, unlabelled ones do not"
engine_start
flowmon_start "$DATA" --docker-host "unix://$SOCK" --docker-poll 1h
wait_until 20 exists "$DATA/targets/web.json" ||
	fail "no targets/web.json: $(tail -n 5 "$FLOWMON_LOG")"
wait_until 10 exists "$DATA/targets/static.json" || fail "no targets/static.json"
[ "$(active)" = "static web" ] || fail "active services: $(active)"
[ "$(targets web)" = '["10.0.9.1:9100","10.0.9.2:9100"]' ] ||
	fail "web targets: $(targets web)"
jq -e 'sort_by(.targets[0]) | [.[].labels] == [
    {"env": "prod", "job": "web", "node": "node-1", "service": "web", "zone": "eu"},
    {"env": "prod", "job": "web", "node": "node-2", "service": "web", "zone": "us"}]' \
    "$DATA/targets/web.json" >/dev/null ||
	fail "web target labels: $(jq -c . "$DATA/targets/web.json")"
[ "$(targets static)" = '["static:8080"]' ] || fail "static targets: $(targets static)"
wait_until 10 exists "$DATA/rules/web.yml" || fail "no rules/web.yml"
grep -q 'alert: web_down$' "$DATA/rules/web.yml" || fail "no alert web_down"
grep -q 'expr: up == 0$' "$DATA/rules/web.yml" || fail "web_down expr: $(cat "$DATA/rules/web.yml")"
for n in plain off; do
	gone "$DATA/state/$n.json" || fail "$n was applied without com.df.notify=true"
done
exists "$DATA/nodes/n1.json" && exists "$DATA/nodes/n2.json" || fail "node labels not stored"
# What the engine was asked: every service, no label filter (those
# skipped are worth a remark), and the event stream.
grep -q '^/services?status=true$' "$CTL/requests.log" ||
	fail "services not listed whole: $(cat "$CTL/requests.log")"
grep -q '^/events?filters=.*service.*node' "$CTL/requests.log" ||
	fail "events not followed with a type filter"
wait_until 10 eval '[ "$(streams)" -ge 1 ]' || fail "the event stream was not opened"
ok "web: $(targets web), rule web_down; static: $(targets static); plain and off absent"
jq -e '.params == {"alertFor": "30s", "alertIf": "up == 0", "alertName": "down",
    "distribute": "true", "env": "prod", "nodeInfo":
    "[[\"node-1\",\"10.0.9.1\",\"n1\"],[\"node-2\",\"10.0.9.2\",\"n2\"]]",
    "replicas": "2", "scrapeNetwork": "stack_monitor", "scrapePort": "9100",
    "serviceName": "web"}' \
    <<<"$(http_get "$FLOWMON_URL$API/services/web")" >/dev/null ||
	fail "web's record is not swarm-listener's parameters: $(http_get "$FLOWMON_URL$API/services/web" | jq -c .params)"
ok "web's record holds exactly swarm-listener's parameters"

check "explain says why plain and off are skipped, and web's container labels"
fm_expect 404 "$API/explain/plain"
printf '%s' "$HTTP_BODY" | jq -e '.Message | test("skips it: 2 com.df.[*] labels but no com.df.notify=true")' \
    >/dev/null || fail "explain/plain: $HTTP_BODY"
fm_expect 404 "$API/explain/off"
printf '%s' "$HTTP_BODY" | jq -e '.Message | test("com.df.notify=false, not true")' \
    >/dev/null || fail "explain/off: $HTTP_BODY"
fm_expect 200 "$API/explain/web"
# (No --reload-url here: explain warns about that too.)
printf '%s' "$HTTP_BODY" | jq -e '.source == "docker" and (.warnings | length == 2) and
    (.warnings[0] | startswith("no reload is configured")) and
    (.warnings[1] | test("^com.df.alertName.1, com.df.alertIf.1 are container labels"))' \
    >/dev/null || fail "explain/web: $HTTP_BODY"
ok "$(printf '%s' "$HTTP_BODY" | jq -r '.warnings[1]' | cut -c1-100)"

check "/metrics: Docker's task counts and update state of each service it applied"
# The list is asked with status=true; this engine's answer has no
# ServiceStatus (as one before API 1.41): counted from the tasks.
grep -q '^/services?status=true$' "$CTL/requests.log" ||
	fail "services not listed with status=true: $(grep '^/services' "$CTL/requests.log" | head -n 1)"
swarm() { fm_metric "flowmon_swarm_$1{service=\"$2\"}"; }
# Set just after the files are written: waited for.
wait_until 5 eval '[ "$(swarm replicas_desired web)/$(swarm replicas_running web)" = 2/2 ]' ||
	fail "web: desired/running $(swarm replicas_desired web)/$(swarm replicas_running web)"
[ "$(fm_metric 'flowmon_swarm_update_state{service="web",state="none"}')" = 1 ] ||
	fail "web's update state: $(curl -s "$FLOWMON_URL/metrics" | grep update_state)"
# A global service with no task: it wants none.
[ "$(swarm replicas_desired static)/$(swarm replicas_running static)" = 0/0 ] ||
	fail "static: $(swarm replicas_desired static)/$(swarm replicas_running static)"
! curl -s "$FLOWMON_URL/metrics" | grep -q 'service="\(plain\|off\)"' ||
	fail "a service not applied has swarm series"
ok "web 2/2, update state none; static (global, no task) 0/0; plain and off have none"

check "a webhook-created service lives beside the source"
reconfigure --data-urlencode serviceName=hook --data-urlencode targets=127.0.0.1:9999
[ "$(active)" = "hook static web" ] || fail "active: $(active)"
ok "hook created by webhook"

check "a label change plus an event updates web; a starting task is followed until it runs"
put services.json '(.[] | select(.ID == "w1") | .Spec) |=
    (.Labels["com.df.alertIf"] = "up == 2" | .Mode.Replicated.Replicas = 3)'
task t3 w1 n1 starting 10.0.9.3/24 >"$CTL/t3.json"
put tasks.json '. + $t' --slurpfile t "$CTL/t3.json"
event service update w1
wait_until 10 grep -q 'expr: up == 2$' "$DATA/rules/web.yml" ||
	fail "rule not updated after the event: $(cat "$DATA/rules/web.yml")"
[ "$(targets web)" = '["10.0.9.1:9100","10.0.9.2:9100"]' ] ||
	fail "a starting task became a target: $(targets web)"
ok "rule now up == 2; the starting task is not a target yet"
wait_until 5 eval '[ "$(swarm replicas_desired web)/$(swarm replicas_running web)" = 3/2 ]' ||
	fail "web while t3 starts: $(swarm replicas_desired web)/$(swarm replicas_running web)"
ok "web 3 desired, 2 running"
put tasks.json '(.[] | select(.ID == "t3") | .Status.State) = "running"'
wait_until 15 eval '[ "$(targets web)" = '"'"'["10.0.9.1:9100","10.0.9.2:9100","10.0.9.3:9100"]'"'"' ]' ||
	fail "the task that started after the event is not a target: $(targets web)"
ok "no second event needed: $(targets web)"
wait_until 5 eval '[ "$(swarm replicas_running web)" = 3 ]' ||
	fail "web's running tasks: $(swarm replicas_running web)"
ok "web 3 running"

check "a remove event removes a service the source applied"
put services.json 'map(select(.ID != "s1"))'
event service remove s1
wait_until 10 gone "$DATA/state/static.json" || fail "static not removed"
wait_until 10 gone "$DATA/targets/static.json" || fail "targets/static.json left behind"
wait_until 5 eval '[ -z "$(swarm replicas_desired static)" ]' ||
	fail "static's swarm series outlived it"
ok "static removed (Docker answered 404 for it)"

check "a new service by event; then its notify label set to false removes it"
put services.json '. + [{"ID": "l1", "Version": {"Index": 20},
    "Spec": {"Name": "later", "Mode": {"Replicated": {"Replicas": 1}},
    "Labels": {"com.df.notify": "true", "com.df.scrapePort": "7000",
    "com.df.scrapeType": "static_configs"}}}]'
event service create l1
wait_until 10 exists "$DATA/targets/later.json" || fail "later not created by its event"
put services.json '(.[] | select(.ID == "l1") | .Spec.Labels["com.df.notify"]) = "false"'
event service update l1
wait_until 10 gone "$DATA/state/later.json" || fail "later kept without com.df.notify=true"
ok "created, then removed when unlabelled"

check "a node going down drops its labels"
put nodes.json '(.[] | select(.ID == "n2") | .Status.State) = "down"'
event node update n2
wait_until 10 gone "$DATA/nodes/n2.json" || fail "nodes/n2.json kept for a down node"
wait_until 10 eval 'jq -e "[.[] | select(.labels.node == \"node-2\") | .labels.zone] == [null]" "$DATA/targets/web.json" >/dev/null' ||
	fail "node-2's target still has its zone: $(jq -c . "$DATA/targets/web.json")"
ok "n2 labels gone, web re-rendered"
[ "$(active)" = "hook web" ] || fail "active after phase 1: $(active)"
ok "hook untouched by every reconcile"

# ============================================================ phase 2
check "poll every 1s: a service added or dropped without any event"
flowmon_stop
flowmon_start "$DATA" --docker-host "unix://$SOCK" --docker-poll 1s --log-level debug
[ "$(active)" = "hook web" ] || fail "active after a restart: $(active)"
put services.json '. + [{"ID": "q1", "Version": {"Index": 30},
    "Spec": {"Name": "quiet", "Mode": {"Replicated": {"Replicas": 1}},
    "Labels": {"com.df.notify": "true", "com.df.scrapePort": "7001",
    "com.df.scrapeType": "static_configs"}}}]'
wait_until 10 exists "$DATA/targets/quiet.json" || fail "quiet not created by a poll"
put services.json 'map(select(.ID != "q1"))'
wait_until 10 gone "$DATA/state/quiet.json" || fail "quiet not removed by a poll"
ok "quiet created and removed by polls alone"

fails() { grep -c 'docker not answering' "$FLOWMON_LOG" || true; }
# wait_failures N: N more failed requests are logged than now.
wait_failures() {
	local want
	want=$(($(fails) + $1))
	wait_until 20 eval '[ "$(fails)" -ge '"$want"' ]'
}

check "Docker unreachable: nothing removed, nothing written"
before=$(snapshot_dir "$DATA")
engine_stop
wait_failures 3 || fail "no failed attempts logged: $(tail -n 5 "$FLOWMON_LOG")"
[ "$(snapshot_dir "$DATA")" = "$before" ] || fail "an unreachable Docker changed the data dir"
[ "$(active)" = "hook web" ] || fail "active while Docker is down: $(active)"
ok "$(fails) failed attempts logged, data dir byte- and mtime-identical"

check "Docker answering 500, then garbage: nothing removed, nothing written"
echo error >"$CTL/mode"
n0=$(streams)
engine_start
wait_until 20 eval '[ "$(streams)" -gt "$n0" ]' || fail "the event stream was not reopened"
wait_failures 3 || fail "500 answers not logged as failures"
grep -q 'answered 500: engine trouble' "$FLOWMON_LOG" || fail "Docker's message not logged"
echo garbage >"$CTL/mode"
wait_failures 3 || fail "garbage answers not logged as failures"
grep -q 'without JSON' "$FLOWMON_LOG" || fail "garbage not logged as such"
[ "$(snapshot_dir "$DATA")" = "$before" ] || fail "a bad answer changed the data dir"
[ "$(active)" = "hook web" ] || fail "active after bad answers: $(active)"
ok "500 and non-JSON answers changed nothing"

check "Docker answers again: the source resumes (web dropped from the list goes)"
answering() { grep -c 'docker answering' "$FLOWMON_LOG" || true; }
n0=$(answering)
rm -f "$CTL/mode"
wait_until 10 eval '[ "$(answering)" -gt "$n0" ]' || fail "no recovery logged"
put services.json 'map(select(.ID != "w1"))'
wait_until 10 gone "$DATA/state/web.json" || fail "web not removed after recovery"
wait_until 10 gone "$DATA/rules/web.yml" || fail "rules/web.yml left behind"
[ "$(active)" = "hook" ] || fail "active at the end: $(active)"
ok "web removed; hook, created by webhook, still there"

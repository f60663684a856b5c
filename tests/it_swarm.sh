#!/bin/bash
# it_swarm.sh: flowmon as a drop-in receiver for Docker Flow Swarm Listener
# (issue 4, items 1-3 and 6). Requests are replayed as raw bytes on a socket,
# shaped as swarm-listener's Go client sends them: the configured URL's own
# query first, then every parameter with keys sorted, `+` for spaces and
# upper-case %XX; GET by default, POST/PUT/DELETE with Content-Length: 0.
# Target files are asserted byte for byte; a reordered nodeInfo must leave
# the data dir untouched.
. "$(dirname "$0")/lib.sh"

it_require python3 python3

DATA=$IT_TMP/data
API=/v1/docker-flow-monitor
export DF_SCRAPE_TARGET_LABELS=env,domain
export DF_NODE_TARGET_LABELS=aws-region,role
# Every service here gets its targets from nodeInfo, targets or
# static_configs; no name is ever looked up.
export FLOWMON_TASK_DNS=none

# q KEY=VALUE...: the query string swarm-listener builds (Go's
# url.Values.Encode: keys sorted, QueryEscape, so space is `+` and every
# other byte but [A-Za-z0-9_.~-] is upper-case %XX).
q() {
	python3 -c '
import sys, urllib.parse
kv = sorted((a.split("=", 1) for a in sys.argv[1:]), key=lambda p: p[0])
sys.stdout.write("&".join(urllib.parse.quote_plus(k, safe="") + "=" +
    urllib.parse.quote_plus(v, safe="") for k, v in kv))' "$@"
}

# req METHOD TARGET [HEADER...]: the bytes of one request, as Go's client
# writes them.
req() {
	local m=$1 t=$2 h
	shift 2
	printf '%s %s HTTP/1.1\r\nHost: monitor:8080\r\n' "$m" "$t"
	printf 'User-Agent: Go-http-client/1.1\r\n'
	for h in "$@"; do
		printf '%s\r\n' "$h"
	done
	printf 'Accept-Encoding: gzip\r\n\r\n'
}

# send: writes stdin to flowmon on one connection, reads until flowmon
# closes it; the raw answer lands in $IT_TMP/resp. Sets RAW_CODES to the
# status codes of every answer, space separated, and RAW_BODY to the body
# of the last one. Feed it with < <(...), not a pipe, so they stay set.
send() {
	python3 -c '
import socket, sys
data = sys.stdin.buffer.read()
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.sendall(data)
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.buffer.write(out)' "$FLOWMON_PORT" >"$IT_TMP/resp" ||
		fail "no answer from flowmon on 127.0.0.1:$FLOWMON_PORT"
	RAW_CODES=$(grep -a -o 'HTTP/1\.1 [0-9][0-9][0-9] ' "$IT_TMP/resp" |
	    awk '{ printf "%s%s", sep, $2; sep = " " }')
	RAW_BODY=$(awk 'BEGIN { RS = "\r\n\r\n" } { last = $0 } END { print last }' \
	    "$IT_TMP/resp")
}

# swarm WANT METHOD TARGET [HEADER...]: one request on its own connection;
# fails unless the answer is WANT.
swarm() {
	local want=$1
	shift
	send < <(req "$@" 'Connection: close')
	[ "$RAW_CODES" = "$want" ] ||
		fail "$1 ${2:0:120}...: expected $want, got '$RAW_CODES': $RAW_BODY"
}

# want NAME: stdin, with \t for tabs, must be targets/NAME.json exactly.
want() {
	local f=$DATA/targets/$1.json
	printf '%b\n' "$(cat)" >"$IT_TMP/want.json"
	[ -f "$f" ] || fail "targets/$1.json is missing"
	cmp -s "$IT_TMP/want.json" "$f" || {
		diff -u "$IT_TMP/want.json" "$f" | cat -A | head -n 60 >&2
		fail "targets/$1.json differs from the expected bytes"
	}
}

mtime() { stat -c %Y.%y "$1"; }

flowmon_start "$DATA"

# ------------------------------------------------------------- nodes
check "node creates store the DF_NODE_TARGET_LABELS labels ('-' -> '_')"
swarm 200 GET "$API/node/reconfigure?$(q id=n1id hostname=node-1 \
    address=10.0.0.5 versionIndex=24 state=ready role=worker \
    availability=active aws-region=us-east-1 ignored=x)"
swarm 200 GET "$API/node/reconfigure?$(q id=n2id hostname=node-2 \
    address=10.0.0.6 versionIndex=25 state=ready role=manager \
    availability=active aws-region=eu-west-1)"
jq -e '.labels == {"aws_region": "us-east-1", "role": "worker"}' \
    "$DATA/nodes/n1id.json" >/dev/null || fail "nodes/n1id.json: $(cat "$DATA/nodes/n1id.json")"
ok "nodes/n1id.json holds aws_region and role only"

check "a node create without id is a 400"
swarm 400 GET "$API/node/reconfigure?$(q hostname=node-3 address=10.0.0.7)"
ok "400"

# ------------------------------------------------- create with nodeInfo
NI='[["node-1","10.0.0.21","n1id"],["node-2","10.0.0.22","n2id"],["node-1","10.0.0.20","n1id"]]'
NI_REORDERED='[["node-2","10.0.0.22","n2id"],["node-1","10.0.0.20","n1id"],["node-1","10.0.0.21","n1id"]]'
GODEMO=(serviceName=go-demo distribute=true replicas=3 scrapePort=8080
    env=prod alertName=memlimit 'alertIf=@service_mem_limit:0.8'
    alertFor=30s)

check "create: three tasks on two nodes, URL's own query first"
swarm 200 GET "$API/reconfigure?origin=swarm-listener&$(q "${GODEMO[@]}" \
    "nodeInfo=$NI")"
want go-demo <<'EOF'
[{
\t\t"targets":\t["10.0.0.20:8080"],
\t\t"labels":\t{
\t\t\t"aws_region":\t"us-east-1",
\t\t\t"env":\t"prod",
\t\t\t"job":\t"go-demo",
\t\t\t"node":\t"node-1",
\t\t\t"role":\t"worker",
\t\t\t"service":\t"go-demo"
\t\t}
\t}, {
\t\t"targets":\t["10.0.0.21:8080"],
\t\t"labels":\t{
\t\t\t"aws_region":\t"us-east-1",
\t\t\t"env":\t"prod",
\t\t\t"job":\t"go-demo",
\t\t\t"node":\t"node-1",
\t\t\t"role":\t"worker",
\t\t\t"service":\t"go-demo"
\t\t}
\t}, {
\t\t"targets":\t["10.0.0.22:8080"],
\t\t"labels":\t{
\t\t\t"aws_region":\t"eu-west-1",
\t\t\t"env":\t"prod",
\t\t\t"job":\t"go-demo",
\t\t\t"node":\t"node-2",
\t\t\t"role":\t"manager",
\t\t\t"service":\t"go-demo"
\t\t}
\t}]
EOF
grep -q 'alert: godemo_memlimit$' "$DATA/rules/go-demo.yml" ||
	fail "rules/go-demo.yml has no alert godemo_memlimit"
ok "one group per task, sorted by address, node labels last; rule godemo_memlimit"

check "the same create with nodeInfo reordered (POST, Content-Length: 0) touches nothing"
before=$(snapshot_dir "$DATA")
swarm 200 POST "$API/reconfigure?origin=swarm-listener&$(q "${GODEMO[@]}" \
    "nodeInfo=$NI_REORDERED")" 'Content-Length: 0'
printf '%s' "$RAW_BODY" | jq -e '.written == {"state": false,
    "targets": false, "rules": false}' >/dev/null ||
	fail "reordered nodeInfo reported a write: $RAW_BODY"
[ "$(snapshot_dir "$DATA")" = "$before" ] ||
	fail "a reordered nodeInfo changed the data dir"
ok "200, data dir byte- and mtime-identical"

check "bad nodeInfo is a 400 and changes nothing"
for bad in '[["node-1"]]' '[["a","10.0.0.1","id","x"]]' '[[1,2]]' \
    '[["node-1","10.0.0.1"' '{"node-1":"10.0.0.1"}' '["node-1","10.0.0.1"]'; do
	swarm 400 GET "$API/reconfigure?$(q "${GODEMO[@]}" "nodeInfo=$bad")"
	printf '%s' "$RAW_BODY" | jq -e '.Message | test("nodeInfo")' \
	    >/dev/null || fail "400 for $bad does not name nodeInfo: $RAW_BODY"
done
[ "$(snapshot_dir "$DATA")" = "$before" ] || fail "a refused create changed the data dir"
ok "6 malformed forms refused with 400 naming nodeInfo"

# ------------------------------------- static_configs, + and %XX decoding
check "static_configs service; a label value with space, slash and UTF-8"
swarm 200 PUT "$API/reconfigure?$(q serviceName=shop scrapePort=9090 \
    scrapeType=static_configs distribute=true 'domain=shop.example.com/a b' \
    'env=prüf & go')" 'Content-Length: 0'
want shop <<'EOF'
[{
\t\t"targets":\t["shop:9090"],
\t\t"labels":\t{
\t\t\t"domain":\t"shop.example.com/a b",
\t\t\t"env":\t"prüf & go",
\t\t\t"job":\t"shop",
\t\t\t"service":\t"shop"
\t\t}
\t}]
EOF
ok "shop:9090, '+' decoded to space, %2F and %C3%BC decoded"

# ---------------------------------------------------------- node changes
check "a node update re-renders exactly the services with tasks on it"
shop_mtime=$(mtime "$DATA/targets/shop.json")
godemo_mtime=$(mtime "$DATA/targets/go-demo.json")
swarm 200 GET "$API/node/reconfigure?$(q id=n1id hostname=node-1 \
    address=10.0.0.5 versionIndex=30 state=ready role=manager \
    availability=active aws-region=us-east-1)"
[ "$(mtime "$DATA/targets/shop.json")" = "$shop_mtime" ] ||
	fail "targets/shop.json was rewritten by a node change"
[ "$(mtime "$DATA/targets/go-demo.json")" != "$godemo_mtime" ] ||
	fail "targets/go-demo.json was not rewritten"
want go-demo <<'EOF'
[{
\t\t"targets":\t["10.0.0.20:8080"],
\t\t"labels":\t{
\t\t\t"aws_region":\t"us-east-1",
\t\t\t"env":\t"prod",
\t\t\t"job":\t"go-demo",
\t\t\t"node":\t"node-1",
\t\t\t"role":\t"manager",
\t\t\t"service":\t"go-demo"
\t\t}
\t}, {
\t\t"targets":\t["10.0.0.21:8080"],
\t\t"labels":\t{
\t\t\t"aws_region":\t"us-east-1",
\t\t\t"env":\t"prod",
\t\t\t"job":\t"go-demo",
\t\t\t"node":\t"node-1",
\t\t\t"role":\t"manager",
\t\t\t"service":\t"go-demo"
\t\t}
\t}, {
\t\t"targets":\t["10.0.0.22:8080"],
\t\t"labels":\t{
\t\t\t"aws_region":\t"eu-west-1",
\t\t\t"env":\t"prod",
\t\t\t"job":\t"go-demo",
\t\t\t"node":\t"node-2",
\t\t\t"role":\t"manager",
\t\t\t"service":\t"go-demo"
\t\t}
\t}]
EOF
ok "node-1's groups say role=manager; shop.json untouched"

check "a node update that changes no kept label writes nothing"
before=$(snapshot_dir "$DATA")
swarm 200 GET "$API/node/reconfigure?$(q id=n1id hostname=node-1 \
    address=10.0.0.5 versionIndex=31 state=down role=manager \
    availability=drain aws-region=us-east-1)"
[ "$(snapshot_dir "$DATA")" = "$before" ] || fail "the data dir changed"
ok "data dir identical"

check "node remove drops node-2's labels from its tasks' groups"
swarm 200 GET "$API/node/remove?$(q id=n2id hostname=node-2 address=10.0.0.6)"
[ ! -e "$DATA/nodes/n2id.json" ] || fail "nodes/n2id.json still there"
want go-demo <<'EOF'
[{
\t\t"targets":\t["10.0.0.20:8080"],
\t\t"labels":\t{
\t\t\t"aws_region":\t"us-east-1",
\t\t\t"env":\t"prod",
\t\t\t"job":\t"go-demo",
\t\t\t"node":\t"node-1",
\t\t\t"role":\t"manager",
\t\t\t"service":\t"go-demo"
\t\t}
\t}, {
\t\t"targets":\t["10.0.0.21:8080"],
\t\t"labels":\t{
\t\t\t"aws_region":\t"us-east-1",
\t\t\t"env":\t"prod",
\t\t\t"job":\t"go-demo",
\t\t\t"node":\t"node-1",
\t\t\t"role":\t"manager",
\t\t\t"service":\t"go-demo"
\t\t}
\t}, {
\t\t"targets":\t["10.0.0.22:8080"],
\t\t"labels":\t{
\t\t\t"env":\t"prod",
\t\t\t"job":\t"go-demo",
\t\t\t"node":\t"node-2",
\t\t\t"service":\t"go-demo"
\t\t}
\t}]
EOF
swarm 200 GET "$API/node/remove?$(q id=n2id hostname=node-2 address=10.0.0.6)"
ok "node-2's group keeps node and service only; a second remove is 200"

# ------------------------------------ 2-element nodeInfo, start-up round
check "older 2-element nodeInfo entries (GET with Content-Length: 0)"
swarm 200 GET "$API/reconfigure?$(q serviceName=api scrapePort=9000 \
    scrapeNetwork=monitoring 'nodeInfo=[["node-1","10.0.0.30"],["node-9","10.0.0.31"]]')" \
    'Content-Length: 0'
want api <<'EOF'
[{
\t\t"targets":\t["10.0.0.30:9000"],
\t\t"labels":\t{
\t\t\t"job":\t"api",
\t\t\t"node":\t"node-1",
\t\t\t"service":\t"api"
\t\t}
\t}, {
\t\t"targets":\t["10.0.0.31:9000"],
\t\t"labels":\t{
\t\t\t"job":\t"api",
\t\t\t"node":\t"node-9",
\t\t\t"service":\t"api"
\t\t}
\t}]
EOF
ok "no node id: node label only"

check "start-up round: a create without nodeInfo keeps the tasks of a scrapeNetwork service"
before=$(snapshot_dir "$DATA")
swarm 200 GET "$API/reconfigure?$(q serviceName=api scrapePort=9000 \
    scrapeNetwork=monitoring)"
[ "$(snapshot_dir "$DATA")" = "$before" ] || fail "the data dir changed"
jq -e '.params.nodeInfo | fromjson | length == 2' \
    "$DATA/state/api.json" >/dev/null || fail "state/api.json lost nodeInfo"
ok "nothing written, tasks kept"

# -------------------------------------------------- 64 KiB request line
check "a request line of 64 KiB (a service with hundreds of tasks)"
BIG=$(python3 -c '
import json
print(json.dumps([["node-%d" % (i % 7), "10.%d.%d.%d" % (i // 65536,
    i // 256 % 256, i % 256), "nodeid%02d" % (i % 7)] for i in range(1, 1201)],
    separators=(",", ":")))')
target="$API/reconfigure?origin=swarm-listener&$(q serviceName=big scrapePort=80 \
    distribute=true "nodeInfo=$BIG")"
[ "${#target}" -ge 65536 ] || fail "request line is only ${#target} bytes"
swarm 200 GET "$target"
n=$(jq length "$DATA/targets/big.json") || fail "targets/big.json does not parse"
[ "$n" = 1200 ] || fail "targets/big.json has $n groups, not 1200"
ok "${#target}-byte request target accepted, 1200 groups"

# ------------------------------------------------------------- methods
check "GET, POST, PUT and DELETE, with and without Content-Length: 0"
for m in GET POST PUT DELETE; do
	for cl in '' 'Content-Length: 0'; do
		swarm 200 "$m" "$API/reconfigure?$(q serviceName=m-$m \
		    scrapeType=static_configs scrapePort=7000 distribute=true)" \
		    ${cl:+"$cl"}
		[ -f "$DATA/targets/m-$m.json" ] || fail "$m create wrote no targets"
		swarm 200 "$m" "$API/remove?$(q serviceName=m-$m \
		    scrapeType=static_configs scrapePort=7000 distribute=true)" \
		    ${cl:+"$cl"}
		[ ! -e "$DATA/targets/m-$m.json" ] || fail "$m remove left targets"
	done
done
ok "create and remove answer 200 for every method"

check "two requests on one kept-alive connection"
send < <(req GET "$API/reconfigure?$(q serviceName=ka scrapePort=7001 \
    scrapeType=static_configs)"
  req GET "$API/remove?$(q serviceName=ka scrapePort=7001 \
    scrapeType=static_configs)" 'Connection: close')
[ "$RAW_CODES" = "200 200" ] || fail "answers: '$RAW_CODES'"
[ ! -e "$DATA/targets/ka.json" ] || fail "targets/ka.json left behind"
ok "200 200"

# ------------------------------------------------------------- removes
check "remove (DELETE, Content-Length: 0, with the labels) drops every file"
swarm 200 DELETE "$API/remove?origin=swarm-listener&$(q "${GODEMO[@]}")" \
    'Content-Length: 0'
for f in targets/go-demo.json rules/go-demo.yml state/go-demo.json; do
	[ ! -e "$DATA/$f" ] || fail "$f still there after remove"
done
ok "targets, rules and state of go-demo gone"

check "remove of an unknown service, and a second remove, answer 200"
swarm 200 GET "$API/remove?$(q serviceName=never-seen distribute=true)"
printf '%s' "$RAW_BODY" | jq -e '.Status == 200 and .Message == "" and
    .Alerts == [] and .serviceName == "never-seen"' >/dev/null ||
	fail "body: $RAW_BODY"
swarm 200 GET "$API/remove?$(q serviceName=go-demo distribute=true)"
ok "200 twice"

check "what is left survives a restart unchanged"
before=$(snapshot_dir "$DATA")
flowmon_stop
flowmon_start "$DATA"
[ "$(snapshot_dir "$DATA")" = "$before" ] || fail "a restart changed the data dir"
ok "api, big, shop and node n1id intact"

# ------------------------------------------------- DFM's exact answers
# dfm-compat.md section 5. DFM's own example uses alertIf=my-if and
# alertFor=my-for, which flowmon refuses (not PromQL, not a duration): the
# same request with a valid expression and duration must give DFM's bytes,
# flowmon's own fields only after them.
check "reconfigure answers DFM's bytes (dfm-compat.md example, valid alert)"
# starts_with BODY PREFIX: BODY is PREFIX, then "," (flowmon's fields) or "}".
starts_with() {
	case "$1" in
	"$2,"* | "$2}") return 0 ;;
	esac
	fail "answer is not DFM's:
  got:  $1
  want: $2(,...|})"
}
ALERT='{"alertFor":"5m","alertIf":"up == 0","alertName":"myalert","alertPersistent":false,"AlertNameFormatted":"myservice_myalert","serviceName":"my-service","replicas":0}'
swarm 200 GET "$API/reconfigure?serviceName=my-service&scrapePort=1234&alertName=myalert&alertIf=up%20%3D%3D%200&alertFor=5m"
starts_with "$RAW_BODY" '{"Status":200,"Message":"","Alerts":['"$ALERT"'],"scrapePort":"1234","scrapeType":"","serviceName":"my-service"'
ok "${RAW_BODY:0:100}..."

check "remove answers with the removed service's fields and alerts"
swarm 200 GET "$API/remove?serviceName=my-service"
starts_with "$RAW_BODY" '{"Status":200,"Message":"","Alerts":['"$ALERT"'],"scrapePort":"1234","scrapeType":"","serviceName":"my-service"'
ok "${RAW_BODY:0:100}..."

check "every field in DFM's order and type: shortcut expanded, labels, nodeInfo, replicas"
swarm 200 GET "$API/reconfigure?$(q serviceName=typed scrapePort=8080 \
    metricsPath=/m scrapeInterval=10s scrapeTimeout=5s scrapeType=static_configs \
    env=prod replicas=3 'nodeInfo=[["node-1","10.0.0.1","n1"]]' \
    alertName=mem 'alertIf=@service_mem_limit:0.8' alertPersistent=true \
    alertName.1=up alertIf.1=up alertLabels.1=team=a \
    alertAnnotations.1=summary=down)"
printf '%s' "$RAW_BODY" | jq -e '
    [keys_unsorted[]] == ["Status", "Message", "Alerts", "metricsPath",
      "scrapeInterval", "scrapeLabels", "scrapePort", "scrapeTimeout",
      "scrapeType", "serviceName", "nodeInfo", "result", "written"] and
    .Status == 200 and .scrapePort == "8080" and .scrapeType == "static_configs" and
    .scrapeLabels == {"env": "prod"} and .nodeInfo == [["node-1", "10.0.0.1", "n1"]] and
    [.Alerts[] | [keys_unsorted[]]] == [
      ["alertAnnotations", "alertIf", "alertLabels", "alertName",
       "alertPersistent", "AlertNameFormatted", "serviceName", "replicas"],
      ["alertAnnotations", "alertIf", "alertLabels", "alertName",
       "alertPersistent", "AlertNameFormatted", "serviceName", "replicas"]] and
    .Alerts[0].alertIf == "container_memory_usage_bytes{container_label_com_docker_swarm_service_name=\"typed\"}/container_spec_memory_limit_bytes{container_label_com_docker_swarm_service_name=\"typed\"} > 0.8" and
    .Alerts[0].alertLabels == {"receiver": "system", "service": "typed"} and
    .Alerts[0].alertPersistent == true and .Alerts[0].replicas == 3 and
    .Alerts[1] == {"alertAnnotations": {"summary": "down"}, "alertIf": "up",
      "alertLabels": {"team": "a"}, "alertName": "up", "alertPersistent": false,
      "AlertNameFormatted": "typed_up", "serviceName": "typed", "replicas": 3}' \
    >/dev/null || fail "not DFM's shape: $RAW_BODY"
swarm 200 GET "$API/remove?serviceName=typed"
printf '%s' "$RAW_BODY" | jq -e '[.Alerts[].AlertNameFormatted] == ["typed_up"]' \
    >/dev/null || fail "remove lists a persistent alert as removed: $RAW_BODY"
ok "keys and types as DFM's; a remove lists only the alerts that went"

check "refusals keep the shape: Status the number, Alerts [], serviceName"
swarm 400 GET "$API/reconfigure?$(q serviceName=typed scrapePort=70000)"
printf '%s' "$RAW_BODY" | jq -e '.Status == 400 and (.Message | test("scrapePort")) and
    .Alerts == [] and .scrapeType == "" and .serviceName == "typed"' >/dev/null ||
	fail "400 body: $RAW_BODY"
swarm 400 GET "$API/remove"
printf '%s' "$RAW_BODY" | jq -e '.Status == 400 and .Alerts == [] and
    .serviceName == ""' >/dev/null || fail "400 body: $RAW_BODY"
ok "400 with Status 400"

check "node endpoints answer DFM's bytes"
swarm 200 GET "$API/node/reconfigure?$(q id=n9 aws-region=us-east1 role=worker \
    hostname=node-9 versionIndex=3)"
starts_with "$RAW_BODY" '{"Status":200,"NodeID":"n9","Message":"","NodeLabel":{"aws_region":"us-east1","role":"worker"}'
swarm 200 GET "$API/node/remove?$(q id=n9 hostname=node-9 address=10.0.0.9)"
starts_with "$RAW_BODY" '{"Status":200,"NodeID":"n9","Message":"","NodeLabel":{"aws_region":"us-east1","role":"worker"}'
swarm 400 GET "$API/node/remove?hostname=node-9"
starts_with "$RAW_BODY" '{"Status":400,"NodeID":"","Message":"id is required (the node'"'"'s ID)","NodeLabel":{}'
ok "reconfigure, remove (with the labels removed), 400 without id"

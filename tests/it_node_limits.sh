#!/bin/bash
# tests/it_node_limits.sh: issue 20, one set of limits for node labels from
# every source, and target files measured as written, against the real
# daemon (the Docker source's node labels: it_docker_bounds.sh):
#   - swarm-listener's get-nodes answer: a 300 kB label and one that is
#     not UTF-8 are refused (not stored, a clear line), a good one stored;
#   - node/reconfigure: the same two refused with 400;
#   - a node record over --max-value-bytes on disk is not loaded at start;
#   - four 1,024-byte node labels and a 5,000-task nodeInfo: 400 naming
#     --max-target-bytes, nothing written; a node change that would push a
#     service's target file over it: 400 naming the service, nothing
#     written;
#   - a target file flowmon may write (--max-target-bytes 32 MiB, 21 MB
#     with its node labels) is read by the watcher as flowmon's, valid,
#     never "edited by hand ... too large".
# Run by tests/run-integration.sh with FLOWMON set (FLOWMON_WRAP optional).
. "$(dirname "$0")/lib.sh"

it_require python3 python3

API=/v1/docker-flow-monitor
DATA=$IT_TMP/data
CTL=$IT_TMP/listener
mkdir -p "$DATA" "$CTL"
export DF_NODE_TARGET_LABELS=zone,a,b,c,d
export FLOWMON_TASK_DNS=none
KB() { head -c "$1" /dev/zero | tr '\0' "${2:-z}"; }

# get-nodes from a plain file server: rows as swarm-listener sends them.
python3 - "$CTL/nodes.json" <<'EOF'
import json, sys
rows = [{"id": "n1", "hostname": "h1", "zone": "z" * 300000},
        {"id": "n2", "hostname": "h2", "zone": "BAD"},
        {"id": "n3", "hostname": "h3", "zone": "eu"}]
data = json.dumps(rows).encode().replace(b'"BAD"', b'"\xff\xfe"')
open(sys.argv[1], "wb").write(data)
EOF
free_port LPORT
python3 -m http.server --bind 127.0.0.1 --directory "$CTL" "$LPORT" >"$IT_TMP/http.log" 2>&1 &
track $!
wait_until 10 http_ok "http://127.0.0.1:$LPORT/nodes.json" || fail "file server down"

check "get-nodes: a 300 kB label and one not UTF-8 refused, a good one stored"
DF_GET_NODES_URL=http://127.0.0.1:$LPORT/nodes.json flowmon_start "$DATA" --promtool none
wait_until 20 grep -q 'msg="nodes reconciled"' "$FLOWMON_LOG" || fail "no nodes reconciled"
[ ! -e "$DATA/nodes/n1.json" ] && [ ! -e "$DATA/nodes/n2.json" ] ||
	fail "a refused node was stored: $(ls "$DATA/nodes")"
jq -e '.labels == {"zone": "eu"}' "$DATA/nodes/n3.json" >/dev/null || fail "n3: $(cat "$DATA/nodes/n3.json")"
grep -q 'msg="node from listener refused" id=n1 error="node label zone is 300000 bytes, more than --max-value-bytes (1024)"' \
    "$FLOWMON_LOG" || fail "no line for n1: $(grep -m 3 node "$FLOWMON_LOG")"
grep -q 'msg="node from listener refused" id=n2 error="node label zone is not valid UTF-8"' \
    "$FLOWMON_LOG" || fail "no line for n2"
ok "n1, n2 refused with a clear line; n3 stored"

check "node/reconfigure: the same two refused with 400"
fm "$API/node/reconfigure" -G --data-urlencode id=n4 --data-urlencode "zone=$(KB 2000)"
[ "$HTTP_CODE" = 400 ] && jq -e '.Message | contains("--max-value-bytes")' <<<"$HTTP_BODY" >/dev/null ||
	fail "2000 bytes: $HTTP_CODE $HTTP_BODY"
fm "$API/node/reconfigure?id=n4&zone=%FF%FE"
[ "$HTTP_CODE" = 400 ] && jq -e '.Message | contains("UTF-8")' <<<"$HTTP_BODY" >/dev/null ||
	fail "not UTF-8: $HTTP_CODE $HTTP_BODY"
[ ! -e "$DATA/nodes/n4.json" ] || fail "n4 stored"
ok "400 twice, nothing stored"

# node_info N NODE: nodeInfo of N tasks on NODE, into $IT_TMP/ni.
node_info() {
	seq 1 "$1" | awk -v n="$2" 'BEGIN { printf "[" } { printf "%s[\"h%d\",\"10.%d.%d.%d\",\"%s\"]", (NR > 1 ? "," : ""), $1, int($1 / 62500), int($1 / 250) % 250, $1 % 250 + 1, n } END { printf "]" }' \
	    >"$IT_TMP/ni"
}
node4k() {	# node4k ID: four labels of --max-value-bytes each
	fm "$API/node/reconfigure" -G --data-urlencode "id=$1" --data-urlencode "a=$(KB 1024 a)" \
	    --data-urlencode "b=$(KB 1024 b)" --data-urlencode "c=$(KB 1024 c)" \
	    --data-urlencode "d=$(KB 1024 d)"
}

check "four 1,024-byte node labels, 5,000 tasks: 400 naming --max-target-bytes, nothing written"
node4k n5
[ "$HTTP_CODE" = 200 ] || fail "n5: $HTTP_CODE $HTTP_BODY"
node_info 5000 n5
before=$(snapshot_dir "$DATA")
fm "$API/reconfigure" --data-urlencode serviceName=huge --data-urlencode scrapePort=9100 \
    --data-urlencode "nodeInfo@$IT_TMP/ni"
[ "$HTTP_CODE" = 400 ] || fail "huge: $HTTP_CODE $HTTP_BODY"
jq -e '.Message | test("target file of huge would be [0-9]+ bytes with its node labels.*--max-target-bytes \\(4194304\\)")' \
    <<<"$HTTP_BODY" >/dev/null || fail "message: $HTTP_BODY"
msg=$(jq -r .Message <<<"$HTTP_BODY")
[ "$(snapshot_dir "$DATA")" = "$before" ] || fail "the data dir changed"
fm_expect 404 "$API/services/huge"
ok "$msg"

check "a node change that would push a service over --max-target-bytes: 400, nothing written"
node_info 1100 n6
fm_expect 200 "$API/reconfigure" --data-urlencode serviceName=mid --data-urlencode scrapePort=9100 \
    --data-urlencode "nodeInfo@$IT_TMP/ni"
fm_expect 200 "$API/node/reconfigure?id=n6&zone=eu"
before=$(snapshot_dir "$DATA")
node4k n6
[ "$HTTP_CODE" = 400 ] || fail "n6: $HTTP_CODE $HTTP_BODY"
jq -e '.Message | test("node n6: the target file of mid would be [0-9]+ bytes.*--max-target-bytes")' \
    <<<"$HTTP_BODY" >/dev/null || fail "message: $HTTP_BODY"
[ "$(snapshot_dir "$DATA")" = "$before" ] || fail "the data dir changed"
jq -e '.labels == {"zone": "eu"}' "$DATA/nodes/n6.json" >/dev/null || fail "n6 changed"
ok "$(jq -r .Message <<<"$HTTP_BODY")"
flowmon_stop || fail "flowmon did not stop cleanly"

check "a node record over --max-value-bytes on disk is not loaded at start"
jq -n --arg z "$(KB 2000)" '{id: "n6", labels: {zone: $z}}' >"$DATA/nodes/n6.json"
flowmon_start "$DATA" --promtool none --max-target-bytes 33554432
grep -q 'msg="cannot load node record" node=n6 error="node label zone is 2000 bytes, more than --max-value-bytes (1024)"' \
    "$FLOWMON_LOG" || fail "no line: $(grep -m 3 'node' "$FLOWMON_LOG")"
jq -e 'all(.[]; .labels | has("zone") | not)' "$DATA/targets/mid.json" >/dev/null ||
	fail "targets/mid.json carries the label of the record refused"
ok "refused at start; targets/mid.json without it"

check "--max-target-bytes 32 MiB: a 21 MB target file is flowmon's and valid to the watcher"
node_info 5000 n5
fm_expect 200 "$API/reconfigure" --data-urlencode serviceName=huge --data-urlencode scrapePort=9100 \
    --data-urlencode "nodeInfo@$IT_TMP/ni"
size=$(stat -c %s "$DATA/targets/huge.json")
[ "$size" -gt $((16 << 20)) ] || fail "targets/huge.json only $size bytes"
huge_seen() {
	fm_expect 200 "$API/files"
	jq -e '.[] | select(.dir == "targets" and .file == "huge.json") |
	    .owner == "flowmon" and .valid == true' <<<"$HTTP_BODY" >/dev/null
}
wait_until 30 huge_seen || fail "/files: $(jq -c '.[] | select(.file == "huge.json")' <<<"$HTTP_BODY")"
! grep -q 'edited by hand' "$FLOWMON_LOG" || fail "$(grep -m 1 'edited by hand' "$FLOWMON_LOG")"
[ "$(fm_metric 'flowmon_file_edited_by_hand{dir="targets",file="huge.json"}' 2>/dev/null || echo 0)" = 0 ] ||
	fail "/metrics calls it edited by hand"
ok "targets/huge.json $size bytes: owner flowmon, valid"

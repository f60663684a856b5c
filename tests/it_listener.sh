#!/bin/bash
# it_listener.sh: start-up reconcile with swarm-listener (issue 4, item 5).
# A fake listener (python3 http.server) is down when flowmon starts: flowmon
# serves its data dir at once and retries with backoff; once the listener
# is up, flowmon converges to its get-services list (and get-nodes labels),
# and with --listener-prune removes what the listener does not list, but
# not a service created while the list was being fetched, nor the static
# SCRAPE_PORT_<n> / SERVICE_NAME_<n> services, nor anything at all when the
# listener answers an empty list (issue 13).
. "$(dirname "$0")/lib.sh"

it_require python3 python3

DATA=$IT_TMP/data
CTL=$IT_TMP/listener		# the fake listener's control files
API=/v1/docker-flow-monitor
mkdir -p "$CTL"
export DF_SCRAPE_TARGET_LABELS=env
export DF_NODE_TARGET_LABELS=role
export FLOWMON_TASK_DNS=none	# every service here has its own targets

# ---------------------------------------------------- the fake listener
# Binds only once $CTL/up exists (until then: connection refused). Serves
# get-nodes at once; get-services writes $CTL/asked and answers only once
# $CTL/answer exists, so the test can act while a fetch is in flight.
cat >"$CTL/services.json" <<'EOF'
[
 {"serviceName": "svc-a", "scrapePort": "8080", "distribute": "true",
  "replicas": "2", "env": "prod", "alertName": "replicas",
  "alertIf": "@replicas_running",
  "nodeInfo": "[[\"node-2\",\"10.0.1.2\",\"n2\"],[\"node-1\",\"10.0.1.1\",\"n1\"]]"},
 {"serviceName": "svc-b", "scrapePort": "9000", "scrapeType": "static_configs",
  "distribute": "true"},
 {"serviceName": "svc-net", "scrapePort": "7000", "scrapeNetwork": "mon",
  "nodeInfo": "[[\"node-1\",\"10.0.1.5\",\"n1\"]]", "distribute": "true"},
 {"serviceName": "bad", "scrapePort": "99999", "distribute": "true"}
]
EOF
cat >"$CTL/nodes.json" <<'EOF'
[
 {"id": "n1", "hostname": "node-1", "address": "10.0.0.1", "versionIndex": "3",
  "state": "ready", "role": "worker", "availability": "active"},
 {"id": "n2", "hostname": "node-2", "address": "10.0.0.2", "versionIndex": "4",
  "state": "ready", "role": "manager", "availability": "active"}
]
EOF
cat >"$CTL/listener.py" <<'EOF'
import http.server, json, os, socketserver, sys, time
port, ctl = int(sys.argv[1]), sys.argv[2]
while not os.path.exists(ctl + "/up"):
    time.sleep(0.05)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(ctl + "/requests.log", "a") as f:
            f.write(self.path + "\n")
        if self.path == "/v1/docker-flow-swarm-listener/get-services":
            open(ctl + "/asked", "w").close()
            while not os.path.exists(ctl + "/answer"):
                time.sleep(0.05)
            body = open(ctl + "/services.json", "rb").read()
        elif self.path == "/v1/docker-flow-swarm-listener/get-nodes":
            body = open(ctl + "/nodes.json", "rb").read()
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
S(("127.0.0.1", port), H).serve_forever()
EOF

free_port LPORT
python3 "$CTL/listener.py" "$LPORT" "$CTL" >"$IT_TMP/listener.log" 2>&1 &
LPID=$!
track "$LPID"

names() {
	curl -sf --max-time 5 "$FLOWMON_URL$API/services" |
	    jq -r '[.[] | select(.status == "active") | .serviceName] | join(" ")'
}
# Failed attempts at get-services so far (each round also tries get-nodes).
refused_attempts() {
	grep 'swarm-listener not answering' "$FLOWMON_LOG" |
	    grep -c 'get-services' || true
}
exists() { [ -e "$1" ]; }
gone() { [ ! -e "$1" ]; }

# ------------------------------------------------- what flowmon knew
check "data dir from an earlier run: old-svc and svc-b (port 9999)"
flowmon_start "$DATA"
reconfigure --data-urlencode serviceName=old-svc \
    --data-urlencode scrapePort=1234 --data-urlencode scrapeType=static_configs
reconfigure --data-urlencode serviceName=svc-b \
    --data-urlencode scrapePort=9999 --data-urlencode scrapeType=static_configs
flowmon_stop
ok "two services on disk"

# ------------------------------------------- listener down at start
check "listener down: flowmon serves from disk at once and retries"
export SCRAPE_PORT_1=9100 SERVICE_NAME_1=static-env
export DF_GET_NODES_URL=http://127.0.0.1:$LPORT/v1/docker-flow-swarm-listener/get-nodes
flowmon_start "$DATA" --listener-address "127.0.0.1:$LPORT" --listener-prune
unset SCRAPE_PORT_1 SERVICE_NAME_1 DF_GET_NODES_URL
[ "$(names)" = "old-svc static-env svc-b" ] ||
	fail "services while the listener is down: $(names)"
jq -e '.[0].targets == ["svc-b:9999"]' "$DATA/targets/svc-b.json" \
    >/dev/null || fail "svc-b changed before the listener answered"
wait_until 20 eval '[ "$(refused_attempts)" -ge 2 ]' ||
	fail "flowmon did not retry the listener"
ok "old-svc, svc-b from disk, static-env from SCRAPE_PORT_1; $(refused_attempts) refused attempts so far"

check "listener up; a service created while get-services is in flight"
touch "$CTL/up"
wait_until 40 exists "$CTL/asked" || fail "flowmon never asked get-services"
reconfigure --data-urlencode serviceName=fresh \
    --data-urlencode scrapePort=4321 --data-urlencode scrapeType=static_configs
touch "$CTL/answer"
wait_until 20 gone "$DATA/targets/old-svc.json" ||
	fail "old-svc was not pruned"
wait_until 10 eval 'grep -q "listener prune done" "$FLOWMON_LOG"' ||
	fail "the prune did not finish"
ok "asked, answered, pruned"

check "flowmon converged to the listener's list"
[ "$(names)" = "fresh static-env svc-a svc-b svc-net" ] ||
	fail "services: $(names)"
jq -e '[.[] | {t: .targets[0], node: .labels.node, role: .labels.role,
    env: .labels.env}] == [
      {t: "10.0.1.1:8080", node: "node-1", role: "worker", env: "prod"},
      {t: "10.0.1.2:8080", node: "node-2", role: "manager", env: "prod"}]' \
    "$DATA/targets/svc-a.json" >/dev/null ||
	fail "targets/svc-a.json: $(cat "$DATA/targets/svc-a.json")"
grep -q 'alert: svca_replicas$' "$DATA/rules/svc-a.yml" ||
	fail "rules/svc-a.yml has no svca_replicas"
jq -e '.[0].targets == ["svc-b:9000"]' "$DATA/targets/svc-b.json" \
    >/dev/null || fail "svc-b not updated to 9000"
jq -e '.[0].targets == ["static-env:9100"]' \
    "$DATA/targets/static-env.json" >/dev/null || fail "static-env targets"
jq -e '.[0].targets == ["fresh:4321"]' "$DATA/targets/fresh.json" \
    >/dev/null || fail "fresh was pruned"
jq -e '.labels == {"role": "worker"}' "$DATA/nodes/n1.json" >/dev/null ||
	fail "nodes/n1.json: $(cat "$DATA/nodes/n1.json")"
fm_expect 404 "$API/services/old-svc"
fm_expect 404 "$API/services/bad"
grep -q 'service from listener refused.*service=bad' "$FLOWMON_LOG" ||
	fail "the bad row was not logged"
ok "svc-a (node labels from get-nodes), svc-b:9000, svc-net, static-env, fresh; old-svc pruned; bad refused"

# ---------------------------------------------- without --listener-prune
check "without --listener-prune a service the listener does not list stays"
flowmon_stop
n0=$(grep -c get-services "$CTL/requests.log")
flowmon_start "$DATA" --listener-address "http://127.0.0.1:$LPORT/"
wait_until 20 eval '[ "$(grep -c get-services "$CTL/requests.log")" -gt "$n0" ]' ||
	fail "flowmon did not ask the listener"
wait_until 10 eval 'grep -q "services reconciled from swarm-listener" "$FLOWMON_LOG"' ||
	fail "no reconcile logged"
grep -q 'pruned' "$FLOWMON_LOG" && fail "pruned without --listener-prune"
[ "$(names)" = "fresh static-env svc-a svc-b svc-net" ] ||
	fail "services: $(names)"
ok "fresh and static-env kept (static-env from the earlier run's record)"

check "an identical reconcile writes nothing"
before=$(snapshot_dir "$DATA")
flowmon_stop
flowmon_start "$DATA" --listener-address "127.0.0.1:$LPORT"
wait_until 20 eval 'grep -q "services reconciled from swarm-listener" "$FLOWMON_LOG"' ||
	fail "no reconcile logged"
[ "$(snapshot_dir "$DATA")" = "$before" ] || fail "the data dir changed"
ok "data dir identical"

# ------------------------------------------- an empty answer (issue 13)
check "--listener-prune and a listener answering []: nothing is removed, the refusal is logged"
printf '[]\n' >"$CTL/services.json"
before=$(snapshot_dir "$DATA")
flowmon_stop
flowmon_start "$DATA" --listener-address "127.0.0.1:$LPORT" --listener-prune
wait_until 20 eval 'grep -q "msg=\"listener prune skipped: every swarm-listener listed no service; not removing them all\" services=5" "$FLOWMON_LOG"' ||
	fail "no prune refusal logged: $(grep -i prune "$FLOWMON_LOG")"
grep -q 'service pruned' "$FLOWMON_LOG" && fail "a service was pruned"
[ "$(names)" = "fresh static-env svc-a svc-b svc-net" ] ||
	fail "services: $(names)"
[ "$(snapshot_dir "$DATA")" = "$before" ] || fail "the data dir changed"
ok "5 services kept: $(grep -o 'msg="listener prune skipped.*' "$FLOWMON_LOG")"

#!/bin/bash
# tests/it_plan.sh: issue 22, `flowmon plan`, against the real daemon.
#   A daemon (with credentials and promtool) is fed, as swarm-listener
#   would send them, the parameters of tests/plan/stack.yml and
#   override.yml (written out by hand below: an oracle independent of the
#   plan's own mapping). Then the plan of those files says unchanged for
#   every service (exit 0 although it warns about cache and queue), against
#   the data dir and against the daemon's API with --reload-auth-file or
#   user:password in the URL (401 without: exit 2); never writing: the data
#   dir stays the same byte for byte and by mtime, the daemon's write
#   counters do not move. A live service of the stack absent from the files
#   is removed (exit 1); change.yml and a variable give changed with the
#   exact diff (exit 1), and once the daemon is sent the change the plan is
#   unchanged again; bad.yml gives refused (exit 2) with exactly the
#   Message of the daemon's 400 for the same parameters; a missing or
#   broken file exits 2 naming it; every stack of compose/ plans without a
#   refusal. --format json has the contract's shape, also when the plan
#   cannot be made (an "errors" list). --against takes the API's base
#   (.../v1/docker-flow-monitor) too. A URL's password in a label is
#   compared and shown redacted, from the data dir and through the API
#   (which shows it redacted), and never printed. Last, with a real
#   Prometheus: a rule only Prometheus refuses (flowmon with --promtool
#   none) ends rejected; the plan of the same labels says refused with
#   Prometheus's reason, from the data dir and through the API.
# Run by tests/run-integration.sh with FLOWMON set (FLOWMON_WRAP optional).
. "$(dirname "$0")/lib.sh"

API=/v1/docker-flow-monitor
DATA=$IT_TMP/data
STACK=$IT_TMP/shop		# the stack's name comes from this directory
USERS=$IT_TMP/users
CRED=$IT_TMP/cred
OUT=$IT_TMP/plan.out
ERR=$IT_TMP/plan.err
it_require promtool prometheus
ROOT=$(cd "$(dirname "$0")/.." && pwd)

printf 'swarm:l1st3ner\nops:0ps\n' >"$USERS"
printf 'ops:0ps\n' >"$CRED"
chmod 600 "$USERS" "$CRED"
mkdir -p "$STACK" "$DATA"
cp "$ROOT"/tests/plan/*.yml "$STACK"/
# The variables stack.yml reads: MEM_LIMIT set but empty.
export API_REPLICAS=3 API_PORT=9090 MEM_LIMIT=
unset DOWN_FOR

# run_plan [ARGS...]: flowmon plan in $STACK; PLAN_RC, output in $OUT and
# $ERR. The data dir must not change, not even an mtime.
run_plan() {
	local before after
	before=$(snapshot_dir "$DATA")
	# shellcheck disable=SC2086 # FLOWMON_WRAP is a command line
	(cd "$STACK" && ${FLOWMON_WRAP:+$FLOWMON_WRAP} "$FLOWMON" plan "$@") \
	    >"$OUT" 2>"$ERR"
	PLAN_RC=$?
	after=$(snapshot_dir "$DATA")
	[ "$before" = "$after" ] || fail "flowmon plan changed the data dir"
}

# expect_rc RC: the last plan exited RC.
expect_rc() {
	[ "$PLAN_RC" = "$1" ] ||
		fail "plan exited $PLAN_RC, not $1: $(cat "$OUT" "$ERR")"
}

# has_line LINE: the last plan printed exactly this line.
has_line() {
	grep -qxF -- "$1" "$OUT" || fail "no line \"$1\" in: $(cat "$OUT")"
}

# The parameters swarm-listener sends for each announced service of
# stack.yml + override.yml (com.df. stripped, the notify label left out,
# serviceName <stack>_<service>, replicas unless global, distribute).
WEB=(serviceName=shop_web distribute=true replicas=2 scrapePort=8080
    alertName=down alertIf=@service_down alertFor=1m
    metricsPath=/internal/metrics alertName.1=mem
    'alertIf.1=@service_mem_limit:0.8' alertFor.1=5m scrapeInterval=30s)
API_SVC=(serviceName=shop_api distribute=true replicas=3 scrapePort=9090
    scheme=https alertName=errors
    'alertIf=sum(rate(http_requests_total{job="shop_api",code=~"5.."}[5m])) > 1'
    'alertAnnotations=summary=costs $5 per error')
NODE=(serviceName=shop_node distribute=true scrapePort=8080 alertName=down
    alertIf=@service_down)

# send NAME=VALUE...: one reconfigure with these parameters, as
# swarm-listener sends it (a GET with a query); sets HTTP_CODE, HTTP_BODY.
send() {
	local a args=()
	for a in "$@"; do
		args+=(--data-urlencode "$a")
	done
	fm "$API/reconfigure" -G -u swarm:l1st3ner "${args[@]}"
}

written() {
	curl -sf --max-time 10 -u ops:0ps "$FLOWMON_URL/metrics" |
	    grep -E '^flowmon_files_(written|removed)_total'
}

flowmon_start "$DATA" --basic-auth-file "$USERS"
for svc in WEB API_SVC NODE; do
	declare -n p=$svc
	send "${p[@]}"
	[ "$HTTP_CODE" = 200 ] || fail "reconfigure $svc: $HTTP_CODE $HTTP_BODY"
	unset -n p
done
# A service of another stack: never part of this plan.
send serviceName=other_web scrapePort=80
[ "$HTTP_CODE" = 200 ] || fail "reconfigure other_web: $HTTP_BODY"

check "the same labels, planned against the data dir: unchanged, exit 0 (warnings alone change nothing)"
run_plan --data-dir "$DATA" stack.yml override.yml
expect_rc 0
has_line "shop_api: unchanged"
has_line "shop_node: unchanged"
has_line "shop_web: unchanged"
has_line "shop_cache: warning: com.df.notify, com.df.scrapePort are container labels (labels:), which swarm-listener never reads: put them under deploy.labels"
has_line "shop_queue: warning: 1 com.df.* label but com.df.notify=false, not true: swarm-listener and the Docker source skip this service"
! grep -q 'shop_db\|other_web\|^[-+@]' "$OUT" || fail "unexpected lines: $(cat "$OUT")"
grep -q 'stack shop: 0 new, 0 changed, 5 unchanged, 0 removed, 0 refused; 2 warnings' "$ERR" ||
	fail "no summary: $(cat "$ERR")"
ok "$(grep -c ': unchanged$' "$OUT") services unchanged, data dir untouched"

check "--format json: the contract's object"
run_plan --data-dir "$DATA" --format json stack.yml override.yml
expect_rc 0
jq -e '.services | map({(.serviceName): .status}) | add ==
    {"shop_api": "unchanged", "shop_cache": "unchanged",
     "shop_node": "unchanged", "shop_queue": "unchanged",
     "shop_web": "unchanged"}' "$OUT" >/dev/null || fail "statuses: $(cat "$OUT")"
jq -e '[.services[] | (.warnings | type) == "array" and
    (.reasons | type) == "array" and .diff == ""] | all' "$OUT" >/dev/null ||
	fail "keys: $(cat "$OUT")"
jq -e '.services[] | select(.serviceName == "shop_cache") | .warnings |
    length == 1' "$OUT" >/dev/null || fail "cache's warning: $(cat "$OUT")"
ok "5 services, warnings and reasons as arrays, diff strings"

check "against the running daemon with --reload-auth-file: unchanged, nothing written"
before=$(written)
run_plan --against "$FLOWMON_URL" --reload-auth-file "$CRED" stack.yml override.yml
expect_rc 0
has_line "shop_web: unchanged"
has_line "shop_api: unchanged"
has_line "shop_node: unchanged"
run_plan --against "http://ops:0ps@127.0.0.1:$FLOWMON_PORT" stack.yml override.yml
expect_rc 0
[ "$(written)" = "$before" ] || fail "write counters moved: $before / $(written)"
ok "exit 0 both ways; $(wc -l <<<"$before") write counters unchanged"

check "against the daemon without credentials: exit 2, saying why"
run_plan --against "$FLOWMON_URL" stack.yml override.yml
expect_rc 2
grep -q 'HTTP 401' "$ERR" || fail "no 401 named: $(cat "$ERR")"
ok "$(head -n 1 "$ERR")"

check "a live service of the stack absent from the files: removed, exit 1"
send serviceName=shop_old scrapePort=9000 alertName=down alertIf=@service_down
[ "$HTTP_CODE" = 200 ] || fail "reconfigure shop_old: $HTTP_BODY"
run_plan --data-dir "$DATA" stack.yml override.yml
expect_rc 1
has_line "shop_old: removed"
has_line "-label service=\"shop_old\""
has_line "+++ /dev/null"
! grep -q other_web "$OUT" || fail "another stack's service is listed"
run_plan --against "$FLOWMON_URL" --reload-auth-file "$CRED" stack.yml override.yml
expect_rc 1
has_line "shop_old: removed"
fm_expect 200 "$API/remove?serviceName=shop_old" -u swarm:l1st3ner
ok "removed, in the data dir and through the API"

check "a change to review: changed with the exact diff, exit 1"
run_plan --data-dir "$DATA" stack.yml override.yml change.yml
expect_rc 1
has_line "shop_web: changed"
has_line "shop_api: unchanged"
sed -n '/^--- live\/rules\/shop_web.yml$/,/^label service=/p' "$OUT" \
    >"$IT_TMP/diff.got"
cat >"$IT_TMP/diff.want" <<'EOF'
--- live/rules/shop_web.yml
+++ plan/rules/shop_web.yml
@@ -3,7 +3,7 @@
   rules:
   - alert: shop_web_down
     expr: up{job="shop_web"} == 0
-    for: 1m
+    for: 2m
     labels:
       receiver: system
       service: shop_web
--- live/targets/shop_web.settings
+++ plan/targets/shop_web.settings
@@ -1,5 +1,5 @@
-port: 8080
-targets: each task, <address>:8080
+port: 8081
+targets: each task, <address>:8081
 label __metrics_path__="/internal/metrics"
 label __scrape_interval__="30s"
 label job="shop_web"
EOF
cmp -s "$IT_TMP/diff.got" "$IT_TMP/diff.want" ||
	fail "diff: $(diff "$IT_TMP/diff.want" "$IT_TMP/diff.got" 2>&1 || cat "$IT_TMP/diff.got")"
ok "rules: for 1m -> 2m; settings: port 8080 -> 8081"

check "a variable from the environment changes the plan too"
DOWN_FOR=10m run_plan --data-dir "$DATA" stack.yml override.yml
expect_rc 1
has_line "-    for: 1m"
has_line "+    for: 10m"
ok "DOWN_FOR=10m: for 1m -> 10m"

check "the daemon sent the change: the plan is unchanged again"
send "${WEB[@]}" scrapePort=8081 alertFor=2m
[ "$HTTP_CODE" = 200 ] || fail "reconfigure the change: $HTTP_BODY"
run_plan --data-dir "$DATA" stack.yml override.yml change.yml
expect_rc 0
has_line "shop_web: unchanged"
ok "what the plan showed is what the daemon wrote"

check "bad labels: refused with the daemon's own 400 Message, exit 2"
run_plan --data-dir "$DATA" --format json stack.yml override.yml change.yml bad.yml
expect_rc 2
for svc in web api; do
	got=$(jq -r --arg s "shop_$svc" '.services[] | select(.serviceName == $s) |
	    select(.status == "refused") | .reasons[0]' "$OUT")
	[ -n "$got" ] || fail "shop_$svc not refused: $(cat "$OUT")"
	if [ "$svc" = web ]; then
		send "${WEB[@]}" scrapePort=8081 alertFor=2m \
		    'alertIf.1=sum(rate(errors_total[5m]) > 1'
	else
		send "${API_SVC[@]}" alertIf=@no_such_shortcut
	fi
	[ "$HTTP_CODE" = 400 ] || fail "the daemon took shop_$svc: $HTTP_CODE $HTTP_BODY"
	want=$(jq -r .Message <<<"$HTTP_BODY")
	[ "$got" = "$want" ] || fail "shop_$svc: plan says \"$got\", the daemon \"$want\""
	ok "shop_$svc: $got"
done
grep -q 'promtool check rules' <<<"$(jq -r '.services[].reasons[]' "$OUT")" ||
	fail "promtool did not judge the web alert: $(cat "$OUT")"
run_plan --data-dir "$DATA" stack.yml override.yml change.yml bad.yml
expect_rc 2
grep -q '^shop_web: refused: alertIf.1 (alert shop_web_mem): promtool check rules: ' "$OUT" ||
	fail "text form: $(cat "$OUT")"

check "a file that cannot be read: exit 2, naming it"
run_plan --data-dir "$DATA" stack.yml missing.yml
expect_rc 2
grep -q 'missing.yml' "$ERR" || fail "not named: $(cat "$ERR")"
printf 'services:\n  web: {\n' >"$STACK/broken.yml"
run_plan --data-dir "$DATA" stack.yml broken.yml
expect_rc 2
grep -q '^flowmon plan: broken.yml: line [0-9]*: not YAML' "$ERR" ||
	fail "not named: $(cat "$ERR")"
run_plan --data-dir "$DATA" --against "$FLOWMON_URL" stack.yml
expect_rc 2
ok "missing, broken, and two comparisons at once"

check "the stacks of compose/: every announced service planned, none refused"
for f in "$ROOT"/compose/*.yml; do
	run_plan --stack monitor "$f"
	[ "$PLAN_RC" = 0 ] || [ "$PLAN_RC" = 1 ] ||
		fail "$(basename "$f"): exit $PLAN_RC: $(cat "$OUT" "$ERR")"
done
run_plan --stack exporter "$ROOT/compose/exporters.yml"
expect_rc 1
has_line "exporter_cadvisor: new"
has_line "exporter_node-exporter: new"
has_line "+  - alert: exporter_nodeexporter_diskload"
has_line "+      severity: warning"
run_plan --stack monitor "$ROOT/compose/split.yml" "$ROOT/compose/split-nfs.yml"
expect_rc 1
has_line "monitor_flowmon: new"
has_line "+  - alert: monitor_flowmon_down"
run_plan --stack monitor "$ROOT/compose/dfm-proxy.yml"
expect_rc 1
has_line "monitor_monitor: new"
ok "$(ls "$ROOT"/compose/*.yml | wc -l) files"

check "--format json when the plan cannot be made: the object, with errors"
run_plan --data-dir "$DATA" --format json stack.yml missing.yml
expect_rc 2
jq -e '.services == [] and (.errors | length) == 1 and
    (.errors[0] | test("missing.yml"))' "$OUT" >/dev/null ||
	fail "stdout: $(cat "$OUT")"
run_plan --format json --against nope stack.yml
expect_rc 2
jq -e '.services == [] and (.errors[0] | startswith("--against \"nope\""))' \
    "$OUT" >/dev/null || fail "stdout: $(cat "$OUT")"
ok "$(jq -c .errors "$OUT")"

check "--against the API's base (.../v1/docker-flow-monitor/) works too"
run_plan --against "$FLOWMON_URL$API/" --reload-auth-file "$CRED" stack.yml override.yml change.yml
expect_rc 0
has_line "shop_web: unchanged"
ok "unchanged through $API/"

check "a URL's password in a label: compared and shown redacted"
cat >"$STACK/secret.yml" <<'EOF2'
services:
  vault:
    deploy:
      labels:
        com.df.notify: "true"
        com.df.scrapePort: "9000"
        com.df.alertName: down
        com.df.alertIf: "@service_down"
        com.df.alertAnnotations: "runbook=https://ops:hunter%2F2SEKRIT@wiki/x,other=https://TOKENABC@h/p"
EOF2
send serviceName=shop_vault distribute=true replicas=1 scrapePort=9000 \
    alertName=down alertIf=@service_down \
    'alertAnnotations=runbook=https://ops:hunter%2F2SEKRIT@wiki/x,other=https://TOKENABC@h/p'
[ "$HTTP_CODE" = 200 ] || fail "reconfigure shop_vault: $HTTP_BODY"
fm_expect 200 "$API/services/shop_vault" -u ops:0ps
! grep -q 'SEKRIT\|TOKENABC' <<<"$HTTP_BODY" || fail "/services shows the secret: $HTTP_BODY"
grep -q 'SEKRIT' "$DATA/rules/shop_vault.yml" || fail "the rule file lost the secret"
run_plan --data-dir "$DATA" stack.yml override.yml change.yml secret.yml
expect_rc 0
has_line "shop_vault: unchanged"
run_plan --against "$FLOWMON_URL" --reload-auth-file "$CRED" stack.yml override.yml change.yml secret.yml
expect_rc 0
has_line "shop_vault: unchanged"
sed -i 's|TOKENABC@h/p|TOKENXYZ@h/q|' "$STACK/secret.yml"
for cmp in "--data-dir $DATA" "--against $FLOWMON_URL --reload-auth-file $CRED"; do
	# shellcheck disable=SC2086 # two words each
	run_plan $cmp --format json stack.yml override.yml change.yml secret.yml
	expect_rc 1
	jq -e '.services[] | select(.serviceName == "shop_vault") |
	    .status == "changed" and
	    (.diff | contains(" runbook: https://ops:***@wiki/x\n")) and
	    (.diff | contains("-      other: https://***@h/p\n")) and
	    (.diff | contains("+      other: https://***@h/q\n"))' "$OUT" >/dev/null ||
		fail "$cmp: $(cat "$OUT")"
	! grep -q 'SEKRIT\|TOKEN' "$OUT" "$ERR" || fail "$cmp: the secret was printed"
done
ok "unchanged, then changed with *** in the diff, both ways"

flowmon_stop || fail "flowmon did not stop cleanly"

check "a rule Prometheus refused: the same labels are refused, with its reason"
DATA=$IT_TMP/data2
mkdir -p "$DATA"
prom_start "$DATA"
flowmon_start "$DATA" --basic-auth-file "$USERS" --promtool none
BAD_IF='sum(rate(errors_total[5m]) > 1'
send "${API_SVC[@]}" "alertIf=$BAD_IF"
[ "$HTTP_CODE" = 200 ] || fail "reconfigure: $HTTP_CODE $HTTP_BODY"
api_rejected() {
	fm "$API/services/shop_api" -u ops:0ps
	[ "$(jq -r .status <<<"$HTTP_BODY")" = rejected ]
}
wait_until 90 api_rejected || fail "shop_api not rejected in 90 s: $HTTP_BODY"
why=$(jq -r .rejected <<<"$HTTP_BODY")
printf 'services:\n  api:\n    deploy:\n      labels:\n        - com.df.alertIf=%s\n' \
    "$BAD_IF" >"$STACK/refused.yml"
run_plan --data-dir "$DATA" --promtool none stack.yml override.yml refused.yml
expect_rc 2
grep -qxF "shop_api: refused: Prometheus refused this very rule file (rejected/shop_api.yml): $why: it stays out until the alerts change" "$OUT" ||
	fail "not refused for the daemon's reason ($why): $(cat "$OUT")"
run_plan --against "$FLOWMON_URL" --reload-auth-file "$CRED" --promtool none \
    stack.yml override.yml refused.yml
expect_rc 2
grep -qxF "shop_api: refused: Prometheus refused this very rule file (rejected/shop_api.yml): $why: it stays out until the alerts change" "$OUT" ||
	fail "not refused through the API: $(cat "$OUT")"
ok "$(grep '^shop_api' "$OUT" | cut -c1-160)"
flowmon_stop || fail "flowmon did not stop cleanly"

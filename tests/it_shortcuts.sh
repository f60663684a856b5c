#!/bin/bash
# tests/it_shortcuts.sh: issue 3 end to end. A real Prometheus loads the
# alerts flowmon expands from DFM-style @shortcuts and fires them under
# DFM's alert names:
#   alertIf=@service_down on a loopback node_exporter: loaded with the
#     shortcut's expression, summary and labels, inactive while the target
#     is up, firing once the exporter is stopped (nothing listens any more);
#   alertIf.1=@service_down_or_@node_mem_usage:0.99, a compound: loaded with
#     the joined expression and summary and only the user's labels, firing;
#   an unknown shortcut: 400 naming it, data dir byte-identical.
# Run by tests/run-integration.sh with FLOWMON set (FLOWMON_WRAP optional).
. "$(dirname "$0")/lib.sh"

API=/v1/docker-flow-monitor
DATA=$IT_TMP/data
SVC=my-api
DOWN=myapi_isdown		# DFM: my-api + _ + is-down, '-' removed
COMP=myapi_downormem		# my-api + _ + down-or-mem

node_start
prom_start "$DATA"
flowmon_start "$DATA"
TARGET=127.0.0.1:$NODE_PORT

EXPR_DOWN="up{job=\"$SVC\"} == 0"
SUM_DOWN="A target of the service $SVC is down"
EXPR_COMP="$EXPR_DOWN or 1 - node_memory_MemAvailable_bytes{job=\"$SVC\"} / node_memory_MemTotal_bytes{job=\"$SVC\"} > 0.99"
SUM_COMP="$SUM_DOWN or Memory usage of a node of $SVC is over 0.99"

check "an unknown shortcut is refused with 400 and nothing is written"
before=$(snapshot_dir "$DATA")
fm "$API/reconfigure" -G --data-urlencode "serviceName=$SVC" \
    --data-urlencode "targets=$TARGET" --data-urlencode alertName=x \
    --data-urlencode 'alertIf=@no_such_shortcut:1'
[ "$HTTP_CODE" = 400 ] || fail "expected 400, got $HTTP_CODE: $HTTP_BODY"
jq -e '.Message | test("no_such_shortcut")' <<<"$HTTP_BODY" >/dev/null ||
	fail "Message does not name the shortcut: $HTTP_BODY"
[ "$(snapshot_dir "$DATA")" = "$before" ] || fail "the data dir changed"
ok "400: $(jq -r .Message <<<"$HTTP_BODY")"

check "reconfigure $SVC (target $TARGET) with alertIf=@service_down and alertIf.1=@service_down_or_@node_mem_usage:0.99"
reconfigure --data-urlencode "serviceName=$SVC" --data-urlencode "targets=$TARGET" \
    --data-urlencode alertName=is-down --data-urlencode alertIf=@service_down \
    --data-urlencode alertFor=1s \
    --data-urlencode alertName.1=down-or-mem \
    --data-urlencode 'alertIf.1=@service_down_or_@node_mem_usage:0.99' \
    --data-urlencode alertFor.1=1s --data-urlencode alertLabels.1=severity=page
jq -e --arg d "$DOWN" --arg c "$COMP" --arg ed "$EXPR_DOWN" --arg ec "$EXPR_COMP" \
    '[.Alerts[] | {AlertNameFormatted, alertIf}] ==
     [{AlertNameFormatted: $d, alertIf: $ed}, {AlertNameFormatted: $c, alertIf: $ec}]' \
    <<<"$HTTP_BODY" >/dev/null || fail "unexpected expansion in the reply: $HTTP_BODY"
ok "expanded: $(jq -c '[.Alerts[] | .alertIf]' <<<"$HTTP_BODY")"

check "Prometheus loads $DOWN with the shortcut's expression, summary and labels"
wait_until 30 prom_has_rule "$SVC" "$DOWN" ||
	fail "rule $DOWN not loaded: $(prom_api /api/v1/rules | jq -c '.data.groups')"
r=$(prom_rule "$SVC" "$DOWN")
jq -e --arg e "$EXPR_DOWN" --arg s "$SUM_DOWN" --arg svc "$SVC" \
    '.query == $e and .duration == 1 and .annotations.summary == $s and
     .labels == {receiver: "system", service: $svc}' <<<"$r" >/dev/null ||
	fail "rule $DOWN is not the @service_down expansion: $r"
ok "$(jq -c '{name, query, labels, annotations}' <<<"$r")"

check "Prometheus loads the compound $COMP: joined expression and summary, user's labels only"
r=$(prom_rule "$SVC" "$COMP") || fail "rule $COMP not loaded (same file as $DOWN)"
jq -e --arg e "$EXPR_COMP" --arg s "$SUM_COMP" \
    '.query == $e and .annotations.summary == $s and
     .labels == {severity: "page"}' <<<"$r" >/dev/null ||
	fail "rule $COMP is not the compound expansion: $r"
ok "$(jq -c '{name, query, labels, annotations}' <<<"$r")"

check "while $TARGET is up, neither alert is active"
wait_until 40 prom_target_is "$SVC" up ||
	fail "target of $SVC never up: $(prom_api /api/v1/targets | jq -c '.data.activeTargets')"
# Evaluated after the first successful scrape: 2 s past it, to the second.
t_up=$(date +%s)
evaluated_since() {
	prom_api /api/v1/rules | jq -e --arg g "$SVC" --argjson t "$1" \
	    '[.data.groups[] | select(.name == $g) | .rules[] |
	      .lastEvaluation | sub("\\.[0-9]+"; "") | fromdateiso8601 > $t] |
	     length == 2 and all' >/dev/null
}
wait_until 20 evaluated_since $((t_up + 2)) || fail "the rules of $SVC are not evaluated"
{ prom_no_alert "$DOWN" && prom_no_alert "$COMP"; } ||
	fail "an alert is active while the target is up: $(prom_api /api/v1/alerts | jq -c '.data.alerts')"
ok "target up, $DOWN and $COMP inactive"

check "stop the exporter (nothing listens on $TARGET): $DOWN and $COMP fire"
node_stop
port_is_free "$NODE_PORT" || fail "something still listens on $TARGET"
curl -s --max-time 2 -o /dev/null "http://$TARGET/metrics" &&
	fail "$TARGET still answers"
wait_until 20 prom_target_is "$SVC" down ||
	fail "target of $SVC not down: $(prom_target_health "$SVC")"
ok "target down"
wait_until 20 prom_alert_firing "$DOWN" ||
	fail "$DOWN not firing: $(prom_api /api/v1/alerts | jq -c '.data.alerts')"
a=$(prom_api /api/v1/alerts | jq -c --arg a "$DOWN" '.data.alerts[] | select(.labels.alertname == $a)')
jq -e --arg svc "$SVC" --arg t "$TARGET" --arg s "$SUM_DOWN" \
    '.labels.job == $svc and .labels.instance == $t and
     .labels.service == $svc and .labels.receiver == "system" and
     .annotations.summary == $s' <<<"$a" >/dev/null ||
	fail "alert $DOWN has unexpected labels: $a"
ok "$(jq -c '{labels, state}' <<<"$a")"
wait_until 20 prom_alert_firing "$COMP" ||
	fail "$COMP not firing: $(prom_api /api/v1/alerts | jq -c '.data.alerts')"
a=$(prom_api /api/v1/alerts | jq -c --arg a "$COMP" '.data.alerts[] | select(.labels.alertname == $a)')
jq -e '.labels.severity == "page" and (.labels | has("receiver") | not)' \
    <<<"$a" >/dev/null || fail "alert $COMP has unexpected labels: $a"
ok "$(jq -c '{labels, state}' <<<"$a")"

# ------------------------------------------- custom shortcut files, SIGHUP
check "a secrets-dir alertif-* file is merged over the table when SIGHUP comes"
flowmon_stop
SECRETS=$IT_TMP/secrets
mkdir -p "$SECRETS"
flowmon_start "$DATA" --secrets-dir "$SECRETS"
custom() {
	fm /v1/docker-flow-monitor/reconfigure -G \
	    --data-urlencode serviceName=custom-svc --data-urlencode alertName=c \
	    --data-urlencode 'alertIf=@cpu_above:0.9,5m'
}
custom
[ "$HTTP_CODE" = 400 ] || fail "@cpu_above known before its file exists: $HTTP_CODE $HTTP_BODY"
cat >"$SECRETS/alertif-mine" <<'YAML'
"@cpu_above":
  expanded: sum(rate(container_cpu_usage_seconds_total{container_label_com_docker_swarm_service_name="{{ .Alert.ServiceName }}"}[{{ index .Values 1 }}])) > {{ index .Values 0 }}
  annotations:
    summary: CPU of {{ .Alert.ServiceName }} is over {{ index .Values 0 }}
  labels:
    receiver: team
"@service_down":
  expanded: up{job="{{ .Alert.ServiceName }}"} < 1
YAML
kill -HUP "$FLOWMON_PID"
custom_ok() { custom; [ "$HTTP_CODE" = 200 ]; }
wait_until 20 custom_ok || fail "@cpu_above still refused after SIGHUP: $HTTP_BODY"
jq -e '.Alerts[0].alertIf == "sum(rate(container_cpu_usage_seconds_total{container_label_com_docker_swarm_service_name=\"custom-svc\"}[5m])) > 0.9" and
    .Alerts[0].alertLabels.receiver == "team" and
    .Alerts[0].alertAnnotations.summary == "CPU of custom-svc is over 0.9"' \
    <<<"$HTTP_BODY" >/dev/null || fail "custom shortcut expanded wrongly: $HTTP_BODY"
ok "@cpu_above expands from the file"
fm_expect 200 /v1/docker-flow-monitor/reconfigure -G \
    --data-urlencode serviceName=custom-svc --data-urlencode alertName=d \
    --data-urlencode 'alertIf=@service_down'
jq -e '.Alerts[0].alertIf == "up{job=\"custom-svc\"} < 1"' <<<"$HTTP_BODY" >/dev/null ||
	fail "the file's @service_down did not win over the built-in: $HTTP_BODY"
ok "a later file wins over the built-in entry of the same name"

check "--shortcuts FILE replaces the built-in table"
flowmon_stop
cat >"$IT_TMP/only.yaml" <<'YAML'
"@only":
  expanded: vector(1) > 0
YAML
flowmon_start "$DATA" --shortcuts "$IT_TMP/only.yaml" --secrets-dir "$IT_TMP/none"
fm /v1/docker-flow-monitor/reconfigure -G --data-urlencode serviceName=only-svc \
    --data-urlencode alertName=x --data-urlencode 'alertIf=@service_mem_limit:0.8'
[ "$HTTP_CODE" = 400 ] || fail "a built-in shortcut survived --shortcuts: $HTTP_CODE"
fm_expect 200 /v1/docker-flow-monitor/reconfigure -G --data-urlencode serviceName=only-svc \
    --data-urlencode alertName=x --data-urlencode 'alertIf=@only'
ok "@service_mem_limit unknown, @only expands"

check "an argument that makes invalid PromQL (a range of 5x) is refused by promtool"
flowmon_stop
it_require /usr/bin/promtool prometheus
flowmon_start "$DATA" --promtool /usr/bin/promtool
# The reload at start settles accepted/ (the rules of the two services
# changed while the last flowmon ran): the snapshot comes after it.
wait_until 30 rules_loaded "$DATA" || fail "the start-up reload did not settle"
before=$(snapshot_dir "$DATA")
fm_expect 400 /v1/docker-flow-monitor/reconfigure -G --data-urlencode serviceName=slow-svc \
    --data-urlencode alertName=slow --data-urlencode 'alertIf=@resp_time_above:0.1,5x,0.99'
jq -e '.Message | test("alertIf") and test("promtool") and test("duration")' \
    <<<"$HTTP_BODY" >/dev/null || fail "Message lacks the parameter or promtool's reason: $HTTP_BODY"
[ "$(snapshot_dir "$DATA")" = "$before" ] || fail "the data dir changed"
ok "400: $(jq -r .Message <<<"$HTTP_BODY" | head -c 160)"

#!/bin/bash
# tests/it_core.sh: issue 2 end to end, with the real Debian Prometheus and
# node_exporter on 127.0.0.1 and flowmon in between:
#   target-only reconfigure -> target up, job = service, no reload;
#   alert added -> rule loaded, alert firing under DFM's name, one reload;
#   a burst of rule changes -> one reload;
#   refused requests -> 400 naming the parameter, data dir byte-identical;
#   identical reconfigure (query or form body) -> nothing written, no reload;
#   remove -> target and rule gone, persistent alert kept;
#   restart on the same data dir -> same /services, nothing rewritten;
#   reloads Prometheus received == rule bursts (start-ups included).
# Run by tests/run-integration.sh with FLOWMON set (FLOWMON_WRAP optional).
. "$(dirname "$0")/lib.sh"

API=/v1/docker-flow-monitor
DATA=$IT_TMP/data
SVC=go-demo
ALERT=godemo_alwayson		# DFM: go-demo + _ + always-on, '-' removed

# Each burst of concurrent requests must cost one reload: a quiet time of
# 2 s holds a burst whose requests a busy machine spreads out.
IT_RELOAD_DELAY=2s
node_start
prom_start "$DATA"
flowmon_start "$DATA"
TARGET=127.0.0.1:$NODE_PORT

# Rule bursts so far, each of which must cost Prometheus exactly one
# reload. flowmon asks for one reload at every start, by design.
BURSTS=1

# settle: the reload of the latest burst has reached Prometheus, flowmon
# owes none, and Prometheus got no more reloads than bursts.
settle() {
	wait_until 30 prom_reloads_are "$BURSTS" ||
		fail "Prometheus received $(prom_reloads) reloads, expected $BURSTS"
	wait_until 30 flowmon_idle || fail "flowmon still has a reload pending"
	prom_reloads_are "$BURSTS" ||
		fail "Prometheus received $(prom_reloads) reloads for $BURSTS rule bursts"
}

# no_reload_asked TRIGGERS_BEFORE: the request just answered asked for no
# reload (flowmon triggers before it answers, so no waiting is needed).
no_reload_asked() {
	local t
	t=$(fm_metric flowmon_reload_triggers_total) ||
		fail "flowmon_reload_triggers_total missing from /metrics"
	[ "$t" = "$1" ] || fail "$2 asked for a reload (triggers $1 -> $t)"
	flowmon_idle || fail "$2 left a reload pending"
}

check "the start-up reload reaches Prometheus (1 reload)"
settle
ok "Prometheus reloads: $(prom_reloads)"

# ---------------------------------------------------------------- 1
check "reconfigure $SVC with targets=$TARGET only: target file, no rule file, no reload"
trig=$(fm_metric flowmon_reload_triggers_total)
reconfigure --data-urlencode "serviceName=$SVC" --data-urlencode "targets=$TARGET"
[ -f "$DATA/targets/$SVC.json" ] || fail "no targets/$SVC.json after a 200"
[ ! -e "$DATA/rules/$SVC.yml" ] || fail "rules/$SVC.yml exists for a service without alerts"
no_reload_asked "$trig" "a target-only change"
ok "$(jq -c . "$DATA/targets/$SVC.json")"

check "Prometheus scrapes $TARGET as job=$SVC and it is up (file_sd, no reload)"
wait_until 40 prom_target_is "$SVC" up ||
	fail "no single up target with job=$SVC: $(prom_api /api/v1/targets | jq -c '.data.activeTargets')"
t=$(prom_api /api/v1/targets | jq -c --arg j "$SVC" \
    '.data.activeTargets[] | select(.labels.job == $j)')
[ "$(jq -r .labels.service <<<"$t")" = "$SVC" ] || fail "label service is not $SVC: $t"
[ "$(jq -r .scrapeUrl <<<"$t")" = "http://$TARGET/metrics" ] || fail "wrong scrapeUrl: $t"
ok "$(jq -c '{labels, scrapeUrl, health}' <<<"$t")"
prom_reloads_are "$BURSTS" || fail "a target-only change reloaded Prometheus"

# ---------------------------------------------------------------- 2
ALERT_ARGS=(--data-urlencode "serviceName=$SVC" --data-urlencode "targets=$TARGET"
    --data-urlencode "alertName=always-on" --data-urlencode "alertIf=vector(1) > 0"
    --data-urlencode "alertFor=1s")
check "add alertName=always-on alertIf='vector(1) > 0' alertFor=1s (URL-encoded)"
reconfigure "${ALERT_ARGS[@]}"
BURSTS=$((BURSTS + 1))
name=$(jq -r '.Alerts[0].AlertNameFormatted' <<<"$HTTP_BODY")
[ "$name" = "$ALERT" ] || fail "reply names the alert '$name', DFM's name is $ALERT: $HTTP_BODY"
[ -f "$DATA/rules/$SVC.yml" ] || fail "no rules/$SVC.yml after a 200"
settle
ok "one reload (Prometheus reloads: $(prom_reloads))"

check "the rule is in /api/v1/rules, group $SVC, named $ALERT"
wait_until 10 prom_has_rule "$SVC" "$ALERT" ||
	fail "rule $ALERT not loaded: $(prom_api /api/v1/rules | jq -c '.data.groups')"
r=$(prom_rule "$SVC" "$ALERT")
[ "$(jq -r .query <<<"$r")" = "vector(1) > 0" ] || fail "wrong query: $r"
[ "$(jq -r .duration <<<"$r")" = 1 ] || fail "wrong for-duration: $r"
[ "$(jq -r .health <<<"$r")" != err ] || fail "rule evaluation fails: $r"
ok "$(jq -c '{name, query, duration, health}' <<<"$r")"

check "$ALERT is firing in /api/v1/alerts"
wait_until 20 prom_alert_firing "$ALERT" ||
	fail "$ALERT not firing: $(prom_api /api/v1/alerts | jq -c '.data.alerts')"
ok "state: $(prom_alert_state "$ALERT")"

# ---------------------------------------------------------------- 3
check "a burst: three services with alerts reconfigured at once -> one reload"
# persist-svc carries per-service scrape settings and a persistent alert,
# which must all survive its removal and a restart.
burst() {
	local tag=$1
	shift
	curl -s --max-time 30 -o "$IT_TMP/burst.$tag.body" -w '%{http_code}' \
	    -G "$@" "$FLOWMON_URL$API/reconfigure" >"$IT_TMP/burst.$tag.code"
}
pids=""
burst a --data-urlencode serviceName=burst-a --data-urlencode alertName=hi \
    --data-urlencode 'alertIf=up{job="burst-a"} == 0' & pids="$pids $!"
burst b --data-urlencode serviceName=burst-b --data-urlencode alertName=hi \
    --data-urlencode 'alertIf=sum(rate(x_total[5m])) > 1' \
    --data-urlencode 'alertLabels=severity=page,team=a=b' & pids="$pids $!"
burst p --data-urlencode serviceName=persist-svc --data-urlencode "targets=$TARGET" \
    --data-urlencode metricsPath=/metrics --data-urlencode scrapeInterval=2s \
    --data-urlencode scrapeTimeout=1s --data-urlencode alertName=kept \
    --data-urlencode 'alertIf=vector(0) > 1' --data-urlencode alertPersistent=true \
    & pids="$pids $!"
# shellcheck disable=SC2086
wait $pids
for tag in a b p; do
	[ "$(cat "$IT_TMP/burst.$tag.code")" = 200 ] ||
		fail "burst request $tag: HTTP $(cat "$IT_TMP/burst.$tag.code"): $(cat "$IT_TMP/burst.$tag.body")"
done
BURSTS=$((BURSTS + 1))
settle
for pair in burst-a:bursta_hi burst-b:burstb_hi persist-svc:persistsvc_kept; do
	prom_has_rule "${pair%%:*}" "${pair#*:}" ||
		fail "rule ${pair#*:} not loaded after the burst's reload"
done
ok "one reload for three rule files (Prometheus reloads: $(prom_reloads))"

check "persist-svc is scraped with its own interval (2s)"
persist_ok() {
	prom_api /api/v1/targets | jq -e '.data.activeTargets[] |
	    select(.labels.job == "persist-svc" and .health == "up" and
	           .discoveredLabels.__scrape_interval__ == "2s")' >/dev/null
}
wait_until 40 persist_ok ||
	fail "persist-svc not up with interval 2s: $(prom_api /api/v1/targets | jq -c '.data.activeTargets')"
ok "up, __scrape_interval__=2s"

# ---------------------------------------------------------------- 4
check "refused requests: 400, Message names the parameter, data dir byte-identical"
wait_until 30 rules_loaded "$DATA" || fail "the last reload did not settle"
before=$(snapshot_dir "$DATA")
trig=$(fm_metric flowmon_reload_triggers_total)
refuse() {	# PARAM DESCRIPTION PATH [CURL ARGS...]
	local param=$1 what=$2 msg
	shift 2
	fm "$@"
	[ "$HTTP_CODE" = 400 ] || fail "$what: expected 400, got $HTTP_CODE: $HTTP_BODY"
	[ "$(jq -r .Status <<<"$HTTP_BODY")" = 400 ] || fail "$what: Status is not 400: $HTTP_BODY"
	msg=$(jq -r .Message <<<"$HTTP_BODY")
	case "$msg" in
	*"$param"*) ok "$what -> 400: $msg" ;;
	*) fail "$what: Message does not name $param: $HTTP_BODY" ;;
	esac
}
refuse serviceName "serviceName=../x" "$API/reconfigure" -G \
    --data-urlencode serviceName=../x --data-urlencode "targets=$TARGET"
refuse serviceName "serviceName=a/b" "$API/reconfigure" -G \
    --data-urlencode serviceName=a/b --data-urlencode "targets=$TARGET"
refuse serviceName "serviceName=%2e%2e (raw)" \
    "$API/reconfigure?serviceName=%2e%2e&targets=$TARGET"
refuse serviceName "empty serviceName" "$API/reconfigure" -G \
    --data-urlencode serviceName= --data-urlencode alertName=x \
    --data-urlencode 'alertIf=vector(1)'
refuse serviceName "remove serviceName=../$SVC" "$API/remove" -G \
    --data-urlencode "serviceName=../$SVC"
refuse scrapePort "$SVC scrapePort=70000" "$API/reconfigure" -G \
    --data-urlencode "serviceName=$SVC" --data-urlencode scrapePort=70000 \
    --data-urlencode scrapeType=static_configs
refuse scrapePort "$SVC scrapePort=abc" "$API/reconfigure" -G \
    --data-urlencode "serviceName=$SVC" --data-urlencode scrapePort=abc \
    --data-urlencode scrapeType=static_configs
refuse scrapePort "$SVC scrapePort=0 (form body)" "$API/reconfigure" \
    --data-urlencode "serviceName=$SVC" --data-urlencode scrapePort=0 \
    --data-urlencode scrapeType=static_configs
after=$(snapshot_dir "$DATA")
[ "$before" = "$after" ] ||
	fail "a refused request changed the data dir: $(diff <(echo "$before") <(echo "$after"))"
no_reload_asked "$trig" "a refused request"
ok "data dir identical ($(grep -c ' f ' <<<"$before") files, sizes, mtimes, sha256)"

# ---------------------------------------------------------------- 5
check "identical reconfigure of $SVC (query string, then form body): mtimes unchanged, no reload"
wait_until 30 rules_loaded "$DATA" || fail "the last reload did not settle"
before=$(snapshot_dir "$DATA")
trig=$(fm_metric flowmon_reload_triggers_total)
reconfigure "${ALERT_ARGS[@]}"
ok "GET -> 200: $(jq -c '{result, written}' <<<"$HTTP_BODY")"
fm_expect 200 "$API/reconfigure" -X POST "${ALERT_ARGS[@]}"
ok "POST form -> 200: $(jq -c '{result, written}' <<<"$HTTP_BODY")"
after=$(snapshot_dir "$DATA")
[ "$before" = "$after" ] ||
	fail "an identical reconfigure touched the data dir: $(diff <(echo "$before") <(echo "$after"))"
no_reload_asked "$trig" "an identical reconfigure"
ok "data dir identical, mtimes included; no reload asked"

# ---------------------------------------------------------------- 6
check "remove $SVC and persist-svc (one burst): target and rule of $SVC gone, persistent alert kept"
pids=""
for s in "$SVC" persist-svc; do
	curl -s --max-time 30 -o "$IT_TMP/rm.$s.body" -w '%{http_code}' -G \
	    --data-urlencode "serviceName=$s" "$FLOWMON_URL$API/remove" \
	    >"$IT_TMP/rm.$s.code" & pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
for s in "$SVC" persist-svc; do
	[ "$(cat "$IT_TMP/rm.$s.code")" = 200 ] ||
		fail "remove $s: HTTP $(cat "$IT_TMP/rm.$s.code"): $(cat "$IT_TMP/rm.$s.body")"
done
BURSTS=$((BURSTS + 1))
[ ! -e "$DATA/targets/$SVC.json" ] || fail "targets/$SVC.json still there"
[ ! -e "$DATA/rules/$SVC.yml" ] || fail "rules/$SVC.yml still there"
[ ! -e "$DATA/targets/persist-svc.json" ] || fail "targets/persist-svc.json still there"
[ -f "$DATA/rules/persist-svc.yml" ] || fail "the persistent alert's rules/persist-svc.yml is gone"
# These were the last service target files: Prometheus 2.42 then keeps the
# deleted targets forever if the reload comes before its 5 s discovery tick
# and targets/*.json matches nothing, which flowmon's _flowmon.json (one
# group, no target) prevents. Make sure this step keeps testing that case.
left=$(cd "$DATA/targets" && ls -A)
[ "$left" = _flowmon.json ] || fail "targets/ should hold only _flowmon.json now, holds: $left"
settle
prom_no_rule_group "$SVC" || fail "rule group $SVC still loaded after the reload"
prom_has_rule persist-svc persistsvc_kept || fail "persistent alert persistsvc_kept was unloaded"
wait_until 10 prom_no_alert "$ALERT" || fail "alert $ALERT still active"
ok "rule group $SVC gone, persistsvc_kept loaded (Prometheus reloads: $(prom_reloads))"
gone() { prom_no_target "$SVC" && prom_no_target persist-svc; }
wait_until 40 gone ||
	fail "targets still there: $(prom_api /api/v1/targets | jq -c '.data.activeTargets')"
ok "targets of $SVC and persist-svc gone from /api/v1/targets"

# ---------------------------------------------------------------- 7
check "restart flowmon on the same data dir: same /services, nothing rewritten"
services_before=$(http_get "$FLOWMON_URL$API/services" | jq -S .) ||
	fail "GET /services failed"
jq -e 'length == 3 and
    ([.[].serviceName] == ["burst-a", "burst-b", "persist-svc"]) and
    (.[] | select(.serviceName == "persist-svc") |
     .status == "removed" and .params.scrapeInterval == "2s" and
     .params.metricsPath == "/metrics" and .alerts[0].persistent)' \
    <<<"$services_before" >/dev/null ||
	fail "unexpected /services before the restart: $(jq -c . <<<"$services_before")"
disk_before=$(snapshot_dir "$DATA")
flowmon_stop || fail "flowmon did not stop cleanly"
flowmon_start "$DATA"
BURSTS=$((BURSTS + 1))
services_after=$(http_get "$FLOWMON_URL$API/services" | jq -S .) ||
	fail "GET /services failed after the restart"
[ "$services_before" = "$services_after" ] ||
	fail "/services differs after the restart: $(diff <(echo "$services_before") <(echo "$services_after"))"
ok "/services identical ($(jq -c '[.[] | {serviceName, status}]' <<<"$services_after"))"
disk_after=$(snapshot_dir "$DATA")
[ "$disk_before" = "$disk_after" ] ||
	fail "start-up on a consistent data dir changed it: $(diff <(echo "$disk_before") <(echo "$disk_after"))"
ok "data dir untouched by the start-up"
settle
for pair in burst-a:bursta_hi burst-b:burstb_hi persist-svc:persistsvc_kept; do
	prom_has_rule "${pair%%:*}" "${pair#*:}" ||
		fail "rule ${pair#*:} not loaded after the restart"
done

# ---------------------------------------------------------------- 8
check "reloads received by Prometheus == rule bursts ($BURSTS: 2 start-ups, alert added, burst, remove)"
settle
n=$(prom_reloads)
ok200=$(curl -sf "$PROM_URL/metrics" | awk '/^prometheus_http_requests_total\{/ &&
    /handler="\/-\/reload"/ && /code="200"/ { n += $NF } END { printf "%d", n }')
[ "$ok200" = "$n" ] || fail "only $ok200 of $n reloads answered 200"
[ "$(curl -sf "$PROM_URL/metrics" | awk '$1 == "prometheus_config_last_reload_successful" { print $2 }')" = 1 ] ||
	fail "prometheus_config_last_reload_successful is not 1"
s=$(fm_metric 'flowmon_reloads_total{outcome="success"}')
[ "$s" = 1 ] || fail "the restarted flowmon counts $s successful reloads, expected 1"
ok "Prometheus received $n reloads, all 200, for $BURSTS bursts"

#!/bin/bash
# it_rules.sh: one bad alert never breaks alerting (issue 5). With promtool,
# a rule Prometheus would refuse is a 400 and nothing changes; without it,
# the failed reload is diagnosed, the bad file quarantined in rejected/ and
# every other change applies; Prometheus restarted on the directory starts.
. "$(dirname "$0")/lib.sh"

DATA=$IT_TMP/data
BAD='rate(x[5m]'
prom_start "$DATA"

# ------------------------------------------------- with promtool: refused
flowmon_start "$DATA" --promtool /usr/bin/promtool
for s in alpha beta gamma; do
	reconfigure --data-urlencode serviceName=$s \
	    --data-urlencode alertName=up --data-urlencode 'alertIf=vector(1) > 0'
done
check "three good services are loaded"
for s in alpha beta gamma; do
	wait_until 30 prom_has_rule $s ${s}_up || fail "rule ${s}_up not loaded"
done
ok "alpha_up, beta_up, gamma_up in /api/v1/rules"

check "with promtool, $BAD is a 400 naming alertIf and nothing changes"
before=$(snapshot_dir "$DATA")
fm_expect 400 /v1/docker-flow-monitor/reconfigure -G \
    --data-urlencode serviceName=delta --data-urlencode alertName=bad \
    --data-urlencode "alertIf=$BAD"
printf '%s' "$HTTP_BODY" | jq -e '.Message | test("alertIf") and
    test("unclosed left parenthesis")' >/dev/null ||
	fail "Message does not carry the parameter and promtool's reason: $HTTP_BODY"
[ "$(snapshot_dir "$DATA")" = "$before" ] || fail "the data dir changed"
fm_expect 404 /v1/docker-flow-monitor/services/delta
ok "400, data dir byte-identical"
flowmon_stop

# --------------------------------------- without promtool: quarantined
flowmon_start "$DATA" --promtool none
wait_until 30 flowmon_idle || fail "start-up reload never settled"
reloads0=$(prom_reloads)
check "without promtool, the bad rule is written, the reload fails and is diagnosed"
reconfigure --data-urlencode serviceName=delta --data-urlencode alertName=bad \
    --data-urlencode "alertIf=$BAD"
# A good change to another service in the same second.
reconfigure --data-urlencode serviceName=alpha \
    --data-urlencode alertName=up --data-urlencode 'alertIf=vector(1) > 0' \
    --data-urlencode alertName.1=second --data-urlencode 'alertIf.1=vector(2) > 0'
wait_until 40 prom_has_rule alpha alpha_second ||
	fail "the good change to alpha never reached Prometheus"
ok "alpha_second is live in /api/v1/rules"
moved_aside() { [ -f "$DATA/rejected/delta.yml" ] && [ ! -e "$DATA/rules/delta.yml" ]; }
wait_until 20 moved_aside || fail "delta.yml not moved from rules/ to rejected/: $(ls "$DATA/rules" "$DATA/rejected" 2>&1 | tr '\n' ' ')"
ok "rules/delta.yml moved to rejected/"
fm_expect 200 /v1/docker-flow-monitor/services/delta
printf '%s' "$HTTP_BODY" | jq -e '.status == "rejected" and
    (.rejected | test("Prometheus refused"))' >/dev/null ||
	fail "services/delta does not say rejected: $HTTP_BODY"
wait_until 10 eval '[ "$(fm_metric flowmon_rules_rejected)" = 1 ]' ||
	fail "flowmon_rules_rejected is not 1"
ok "services/delta is rejected with its reason; flowmon_rules_rejected 1"
for s in beta gamma; do
	prom_has_rule $s ${s}_up || fail "rule ${s}_up lost"
done
prom_no_rule_group delta || fail "delta's group is loaded"
wait_until 30 flowmon_idle || fail "reloads never settled"
wait_until 10 eval '[ "$(curl -sf "$PROM_URL/metrics" | awk "/^prometheus_config_last_reload_successful /{print \$2}")" = 1 ]' ||
	fail "Prometheus's last reload did not succeed"
say "reloads for the burst and its diagnosis: $(($(prom_reloads) - reloads0))"

check "an identical resend of the bad service keeps it quarantined, answered 200"
before=$(snapshot_dir "$DATA/rules")
reconfigure --data-urlencode serviceName=delta --data-urlencode alertName=bad \
    --data-urlencode "alertIf=$BAD"
[ "$(snapshot_dir "$DATA/rules")" = "$before" ] || fail "rules/ changed"
ok "rules/ untouched"

check "flowmon restarted: delta stays rejected, nothing re-enters rules/"
flowmon_stop
flowmon_start "$DATA" --promtool none
wait_until 30 flowmon_idle || fail "start-up reload never settled"
[ ! -e "$DATA/rules/delta.yml" ] || fail "restart healed the bad file back"
fm_expect 200 /v1/docker-flow-monitor/services/delta
printf '%s' "$HTTP_BODY" | jq -e '.status == "rejected"' >/dev/null ||
	fail "delta not rejected after restart: $HTTP_BODY"
ok "still rejected"

check "Prometheus stopped and started on the same directory starts"
old_port=$PROM_PORT
stop_pid "$PROM_PID" 30 || fail "prometheus did not stop"
PROM_PID=""
prom_start "$DATA" "$old_port"
for s in alpha beta gamma; do
	wait_until 30 prom_has_rule $s ${s}_up || fail "rule ${s}_up missing after restart"
done
ok "Prometheus started and loaded every good rule"

check "a later good reconfigure re-admits the service"
reconfigure --data-urlencode serviceName=delta --data-urlencode alertName=bad \
    --data-urlencode 'alertIf=rate(x[5m]) > 0'
wait_until 40 prom_has_rule delta delta_bad || fail "delta_bad never loaded"
wait_until 10 test ! -e "$DATA/rejected/delta.yml" || fail "rejected/delta.yml left behind"
fm_expect 200 /v1/docker-flow-monitor/services/delta
printf '%s' "$HTTP_BODY" | jq -e '.status == "active"' >/dev/null ||
	fail "delta not active again: $HTTP_BODY"
wait_until 10 eval '[ "$(fm_metric flowmon_rules_rejected)" = 0 ]' ||
	fail "flowmon_rules_rejected is not 0"
ok "delta active, loaded, rejected/ empty"

#!/bin/bash
# tests/it_alerts_stable.sh: issue 12, a bad rule never disturbs healthy
# alerts. The real Debian Prometheus, flowmon without promtool (so only a
# refused reload reveals the bad rule). Four services have a firing alert;
# in one burst each changes its alert's expression (same name and labels)
# and a fifth writes a rule Prometheus refuses (flowmon's own checks pass
# it). While the culprit is found by test reloads and set aside, every
# alert is polled in /api/v1/alerts every 200 ms: none may disappear or
# change its activeAt (Prometheus keeps an alert's state across a reload
# only while its group stays). Afterwards the four new expressions are
# live and the fifth service is rejected.
# Run by tests/run-integration.sh with FLOWMON set.
. "$(dirname "$0")/lib.sh"

DATA=$IT_TMP/data
SVCS="alpha beta gamma delta"
BAD='rate(x[5m]'

prom_start "$DATA"
flowmon_start "$DATA" --promtool none
wait_until 30 flowmon_idle || fail "start-up reload never settled"

# alerts_json: {alertname: activeAt} of the four alerts firing now.
alerts_json() { prom_firing_since '^(alpha|beta|gamma|delta)_up$'; }

all_firing() {
	[ "$(alerts_json | jq 'length')" = 4 ]
}

check "four services, each with an alert that fires at once"
for s in $SVCS; do
	reconfigure --data-urlencode serviceName=$s --data-urlencode alertName=up \
	    --data-urlencode 'alertIf=vector(1) > 0' --data-urlencode alertFor=0s \
	    --data-urlencode "alertLabels=team=$s"
done
wait_until 60 all_firing || fail "the four alerts never all fired: $(alerts_json)"
BEFORE=$(alerts_json)
ok "firing: $BEFORE"
wait_until 30 flowmon_idle || fail "reload never settled"
reloads0=$(prom_reloads)

check "one burst: four new expressions (same alert, same labels) and a rule Prometheus refuses"
pids=""
for s in $SVCS; do
	curl -s -o "$IT_TMP/burst.$s" -w '%{http_code}' --max-time 30 -G \
	    "$FLOWMON_URL/v1/docker-flow-monitor/reconfigure" \
	    --data-urlencode serviceName=$s --data-urlencode alertName=up \
	    --data-urlencode 'alertIf=vector(2) > 0' --data-urlencode alertFor=0s \
	    --data-urlencode "alertLabels=team=$s" >"$IT_TMP/code.$s" &
	pids="$pids $!"
done
curl -s -o "$IT_TMP/burst.omega" -w '%{http_code}' --max-time 30 -G \
    "$FLOWMON_URL/v1/docker-flow-monitor/reconfigure" \
    --data-urlencode serviceName=omega --data-urlencode alertName=bad \
    --data-urlencode "alertIf=$BAD" >"$IT_TMP/code.omega" &
pids="$pids $!"
# shellcheck disable=SC2086 # the pids of the five requests
wait $pids
for s in $SVCS omega; do
	[ "$(cat "$IT_TMP/code.$s")" = 200 ] ||
		fail "$s: HTTP $(cat "$IT_TMP/code.$s"): $(cat "$IT_TMP/burst.$s")"
done
ok "five 200s"

# new_live: the four groups run the new expression in /api/v1/rules.
new_live() {
	local s q
	for s in $SVCS; do
		q=$(prom_rule "$s" "${s}_up" | jq -r .query) || return 1
		[ "$q" = 'vector(2) > 0' ] || return 1
	done
}

# settled: omega set aside, the new expressions live, nothing pending.
settled() {
	[ -f "$DATA/rejected/omega.yml" ] && [ ! -e "$DATA/rules/omega.yml" ] &&
	    new_live && flowmon_idle
}

check "while the culprit is searched for, every alert stays, with its activeAt (polled every 200 ms)"
# The poller runs on its own, so the checks below do not slow it down.
poll_start "$IT_TMP/polls" alerts_json
wait_until 90 settled ||
	fail "not settled in 90 s: $(ls "$DATA/rules" "$DATA/rejected" 2>&1 | tr '\n' ' ')"
poll_stop "$IT_TMP/polls"
bad=$(awk -v want="$BEFORE" '{ t = $1; $1 = ""; sub(/^ /, "") } $0 != want { print t, $0 }' "$IT_TMP/polls" | head -n 3)
[ -z "$bad" ] || fail "alerts changed during the diagnosis (before: $BEFORE): $bad"
n=$(($(prom_reloads) - reloads0))
[ "$n" -ge 3 ] || fail "only $n reloads: the culprit was not searched for by reloads"
ok "$POLLS polls over $POLL_SPAN s, alerts unchanged: $BEFORE; $n reloads for the burst and its search"

check "afterwards: the new expressions are live, omega is rejected, Prometheus's last reload succeeded"
new_live || fail "the new expressions are not live"
fm_expect 200 /v1/docker-flow-monitor/services/omega
printf '%s' "$HTTP_BODY" | jq -e '.status == "rejected" and
    (.rejected | test("Prometheus refused"))' >/dev/null ||
	fail "services/omega is not rejected: $HTTP_BODY"
for s in $SVCS; do
	fm_expect 200 /v1/docker-flow-monitor/services/$s
	printf '%s' "$HTTP_BODY" | jq -e '.status == "active"' >/dev/null ||
		fail "services/$s is not active: $HTTP_BODY"
	printf '%s' "$HTTP_BODY" | jq -e '.rules.state == "loaded"' >/dev/null ||
		fail "services/$s's rule file is not loaded: $HTTP_BODY"
	grep -q 'vector(2) > 0' "$DATA/accepted/$s.yml" 2>/dev/null &&
	    cmp -s "$DATA/rules/$s.yml" "$DATA/accepted/$s.yml" ||
		fail "accepted/$s.yml is not the version Prometheus loaded last"
done
prom_no_rule_group omega || fail "omega's group is loaded"
[ "$(curl -sf "$PROM_URL/metrics" | awk '/^prometheus_config_last_reload_successful /{print $2}')" = 1 ] ||
	fail "Prometheus's last reload did not succeed"
ok "alpha..delta run vector(2) > 0 and are loaded (accepted/ holds them), omega rejected"

#!/bin/bash
# it_explain.sh: GET /v1/docker-flow-monitor/explain/<name> against a real
# Prometheus (issue 21): a target up and one down with its lastError, an
# alert firing, a rule only Prometheus refuses (--promtool none) shown
# rejected with its reason, a service whose files Prometheus's globs leave
# out (warnings), hostile label and annotation values back exactly as
# sent, secrets redacted, hand edits and heals, the history, Prometheus
# gone (reachable false), --prometheus-url none, and the auth of /services.
. "$(dirname "$0")/lib.sh"

DATA=$IT_TMP/data
API=/v1/docker-flow-monitor

# explain NAME: the answer in $EXPLAIN (must be 200).
explain() {
	fm_expect 200 "$API/explain/$1"
	EXPLAIN=$HTTP_BODY
}

# explain_is NAME JQ: the answer for NAME satisfies JQ.
explain_is() {
	fm "$API/explain/$1"
	[ "$HTTP_CODE" = 200 ] && printf '%s' "$HTTP_BODY" | jq -e "$2" >/dev/null
}

# Prometheus's globs leave out the files of services whose names start
# with x.
PROM_TARGETS_GLOB='[^x]*.json' PROM_RULES_GLOB='[^x]*.yml' prom_start "$DATA"
flowmon_start "$DATA" --promtool none
free_port DEAD		# nothing listens there

HOSTILE_SUMMARY='<script>document.title="pwned"</script> "q" & '"'s'"
HOSTILE_LABEL='"><img src=x onerror=alert(1)>&amp;'
reconfigure --data-urlencode serviceName=web \
    --data-urlencode "targets=127.0.0.1:$PROM_PORT,127.0.0.1:$DEAD" \
    --data-urlencode alertName=down --data-urlencode 'alertIf=up{job="web"} == 0' \
    --data-urlencode "alertLabels=team=$HOSTILE_LABEL" \
    --data-urlencode "alertAnnotations=summary=$HOSTILE_SUMMARY,runbook=https://ops:hunter2@wiki.example/web"

check "a target up, one down, an alert firing: the answer says so"
wait_until 60 explain_is web '
    .prometheus.reachable and
    ([.prometheus.targets[] | select(.health == "up")] | length) == 1 and
    ([.prometheus.targets[] | select(.health == "down")] | length) == 1 and
    (.prometheus.alerts | map(select(.name == "web_down" and
        .state == "firing")) | length) == 1' ||
	fail "explain/web never showed up/down/firing: $HTTP_BODY"
explain web
printf '%s' "$EXPLAIN" | jq -e --arg p "$PROM_URL" --arg d "$DATA" \
    --arg dead "http://127.0.0.1:$DEAD/metrics" '
    .serviceName == "web" and .source == "webhook" and .state == "active" and
    .targets.file == ($d + "/targets/web.json") and .targets.count == 2 and
    .rules.file == ($d + "/rules/web.yml") and .rules.state == "loaded" and
    .rules.reason == null and .rules.alerts == ["web_down"] and
    .prometheus.url == $p and
    (.prometheus.targets[] | select(.health == "down") |
        .scrapeUrl == $dead and (.lastError | test("connection refused"))) and
    .files.editedByHand == false and .files.healed == false and
    .warnings == [] and
    ([.history[].event] | index("received") != null and
        index("written") != null and index("reloaded") != null) and
    .history[0].event == "reloaded" and
    (.history[0].time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"))' \
    >/dev/null || fail "explain/web: $EXPLAIN"
ok "targets, rule state, alerts, files, history as expected"

check "hostile values come back exactly as sent; secrets do not"
printf '%s' "$EXPLAIN" | jq -e --arg s "$HOSTILE_SUMMARY" --arg l "$HOSTILE_LABEL" '
    (.parameters.alertAnnotations | startswith("summary=" + $s + ",runbook=")) and
    (.parameters.alertAnnotations | endswith("https://ops:***@wiki.example/web")) and
    .parameters.alertLabels == ("team=" + $l)' >/dev/null ||
	fail "parameters: $(printf '%s' "$EXPLAIN" | jq -c .parameters)"
printf '%s' "$EXPLAIN" | grep -q hunter2 && fail "the password is in the answer"
ok "hostile values intact, password as ***"

check "a rule only Prometheus refuses: rejected, with the reason"
reconfigure --data-urlencode serviceName=bad --data-urlencode alertName=broken \
    --data-urlencode 'alertIf=sum(rate(x[5m])'
wait_until 60 explain_is bad '.state == "rejected" and .rules.state == "rejected"' ||
	fail "explain/bad never said rejected: $HTTP_BODY"
explain bad
printf '%s' "$EXPLAIN" | jq -e '
    (.rules.reason | test("Prometheus")) and (.rules.file | test("/rejected/bad.yml$")) and
    ([.history[].event] | index("rejected") != null) and
    .prometheus.alerts == []' >/dev/null || fail "explain/bad: $EXPLAIN"
ok "rejected: $(printf '%s' "$EXPLAIN" | jq -r .rules.reason | cut -c1-100)"

check "files Prometheus's globs leave out: two warnings"
reconfigure --data-urlencode serviceName=xlost \
    --data-urlencode "targets=127.0.0.1:$PROM_PORT" \
    --data-urlencode alertName=up --data-urlencode 'alertIf=vector(1) > 0'
wait_until 60 explain_is xlost '.rules.state == "loaded"' ||
	fail "xlost's rule file was never reloaded: $HTTP_BODY"
explain xlost
printf '%s' "$EXPLAIN" | jq -e '
    .prometheus.targets == [] and .prometheus.ruleGroup == false and
    (.warnings | map(select(test("scrapes no target of .*/targets/xlost.json"))) | length) == 1 and
    (.warnings | map(select(test("runs no rule group xlost.*rule_files"))) | length) == 1' \
    >/dev/null || fail "explain/xlost: $EXPLAIN"
ok "$(printf '%s' "$EXPLAIN" | jq -r '.warnings | join(" / ")' | cut -c1-160)"

check "a hand edit and a heal show in files and history"
printf '# edited\n' >>"$DATA/rules/web.yml"
wait_until 30 explain_is web '.files.editedByHand and .files.rulesEdited and
    ([.history[].event] | index("edited") != null)' ||
	fail "the hand edit never showed: $HTTP_BODY"
rm "$DATA/targets/web.json"
wait_until 30 explain_is web '.files.healed and .files.healedCount >= 1 and
    ([.history[].event] | index("healed") != null)' ||
	fail "the heal never showed: $HTTP_BODY"
ok "editedByHand, healed"

check "unknown services and bad names are 404"
fm_expect 404 "$API/explain/nope"
fm_expect 404 "$API/explain/..%2Fetc"
fm_expect 404 "$API/explain/"
ok "404"

check "Prometheus gone: reachable false, the rest still answered"
stop_pid "$PROM_PID" 30
PROM_PID=""
wait_until 30 explain_is web '.prometheus.reachable == false and
    .prometheus.targets == [] and (.prometheus.error | length > 0) and
    .targets.count == 2' || fail "explain/web with Prometheus gone: $HTTP_BODY"
ok "$(printf '%s' "$HTTP_BODY" | jq -r .prometheus.error | cut -c1-120)"
flowmon_stop

check "--prometheus-url none: not asked"
flowmon_start "$DATA" --promtool none --prometheus-url none
explain web
printf '%s' "$EXPLAIN" | jq -e '.prometheus.url == null and
    .prometheus.reachable == false and .prometheus.targets == [] and
    .source == "webhook" and .history[0].event == "restored"' >/dev/null ||
	fail "explain/web with --prometheus-url none: $EXPLAIN"
ok "url null, reachable false; source kept in the record, history restored"
flowmon_stop

check "explain takes the credentials of /services"
printf 'reader:s3cret\n' >"$IT_TMP/users"
flowmon_start "$DATA" --promtool none --basic-auth-file "$IT_TMP/users"
fm_expect 401 "$API/explain/web"
fm_expect 401 "$API/explain/nope"
fm_expect 200 "$API/explain/web" -u reader:s3cret
fm_expect 401 "$API/explain/web" -u reader:wrong
flowmon_stop
flowmon_start "$DATA" --promtool none --basic-auth-file "$IT_TMP/users" --open-reads
fm_expect 200 "$API/explain/web"
ok "401 without, 200 with; open with --open-reads"

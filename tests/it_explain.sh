#!/bin/bash
# it_explain.sh: GET /v1/docker-flow-monitor/explain/<name> against a real
# Prometheus (issue 21): a target up and one down with its lastError, an
# alert firing, a rule only Prometheus refuses (--promtool none) shown
# rejected with its reason, a service whose files Prometheus's globs leave
# out (warnings), hostile label and annotation values back exactly as
# sent, secrets redacted, hand edits and heals, the history, Prometheus
# gone (reachable false), --prometheus-url none, and the auth of /services.
# Then (issue 21's audit): no reload configured (a warning per service
# with rules, no Prometheus URL known, not "none"); a Prometheus that
# takes connections and never answers costs one timeout, not two; a
# Prometheus behind basic auth (--web.config.file, a bcrypt user) is asked
# with --reload-auth-file's credentials, and without them explain says
# 401 and reachable false.
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
    .prometheus.error == "not asked: --prometheus-url none" and
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
flowmon_stop

check "no reload URL: a warning for each service with rules, no Prometheus URL known"
PROM_URL="" flowmon_start "$DATA" --promtool none
reconfigure --data-urlencode serviceName=nr --data-urlencode "targets=127.0.0.1:1" \
    --data-urlencode alertName=up --data-urlencode 'alertIf=vector(1) > 0'
explain nr
printf '%s' "$EXPLAIN" | jq -e --arg d "$DATA" '
    .rules.state == "pending" and .prometheus.url == null and
    .prometheus.reachable == false and
    .prometheus.error == "not asked: no Prometheus URL is known: no --prometheus-url, and no --reload-url to derive it from" and
    (.warnings | map(select(startswith("no reload is configured (no --reload-url, no --run-prometheus): " +
        $d + "/rules/nr.yml is written but flowmon never asks Prometheus to load it"))) | length) == 1' \
    >/dev/null || fail "explain/nr without a reload URL: $EXPLAIN"
reconfigure --data-urlencode serviceName=plain --data-urlencode "targets=127.0.0.1:1"
explain plain
printf '%s' "$EXPLAIN" | jq -e '.warnings == [] and .rules.state == "none"' >/dev/null ||
	fail "explain/plain (no rules) without a reload URL: $EXPLAIN"
ok "$(printf '%s' "$EXPLAIN" | jq -r .prometheus.error | cut -c1-100)"
flowmon_stop

# A Prometheus that takes connections and never answers: a listener that
# accepts them and never writes back.
free_port HUNG
python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
open(sys.argv[2], "w").close()
held = []
while True:
    held.append(s.accept()[0])
' "$HUNG" "$IT_TMP/hung.ready" >"$IT_TMP/hung.log" 2>&1 &
HUNG_PID=$!
track "$HUNG_PID"
wait_alive 10 "$HUNG_PID" test -e "$IT_TMP/hung.ready" || fail "the hung listener did not start"

# timed PATH: GET PATH, its time in seconds (curl's own measure of the
# request) in $T; must take the budget (3 s), not twice it (targets and
# rules asked one after the other: 6 s).
timed() {
	T=$(curl -s -o "$IT_TMP/body" -w '%{time_total}' --max-time 30 "$FLOWMON_URL$1")
	awk -v t="$T" 'BEGIN { exit !(t >= 2.9 && t < 5.0) }' ||
		fail "GET $1 took $T s: 3 s is the budget, 6 s both asks one after the other"
}

check "a Prometheus that never answers: explain and the page cost one timeout (3 s), not two"
# A fresh flowmon each: nothing cached, so each request asks.
PROM_URL="" flowmon_start "$DATA" --promtool none --prometheus-url "http://127.0.0.1:$HUNG"
timed "$API/explain/web"
t1=$T
jq -e '.prometheus.reachable == false and
    (.prometheus.error | test("targets\\?state=active: timeout")) and
    (.prometheus.error | test("rules\\?type=alert: timeout"))' "$IT_TMP/body" \
    >/dev/null || fail "explain/web: $(cat "$IT_TMP/body")"
flowmon_stop
PROM_URL="" flowmon_start "$DATA" --promtool none --prometheus-url "http://127.0.0.1:$HUNG"
timed /
grep -q 'Prometheus does not answer: GET http://127.0.0.1:'"$HUNG"'/api/v1/targets' "$IT_TMP/body" ||
	fail "the page: $(grep -o 'Prometheus does not answer[^<]*' "$IT_TMP/body")"
ok "explain in $t1 s, the page in $T s; both asks timed out"
flowmon_stop
stop_pid "$HUNG_PID" 10

# bcrypt PASSWORD: a bcrypt hash of PASSWORD (cost 4) for Prometheus's
# --web.config.file: python3's crypt module (Debian 12's python 3.11),
# else a few lines of C on libcrypt (libxcrypt, with build-essential).
bcrypt() {
	python3 -W ignore -c 'import crypt, sys
print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))' \
	    "$1" 2>/dev/null | grep '^\$2b\$' && return 0
	printf '%s\n' '#include <crypt.h>' '#include <stdio.h>' \
	    'int main(int argc, char **argv) {' \
	    '	char salt[CRYPT_GENSALT_OUTPUT_SIZE]; const char *h;' \
	    '	if (argc != 2 || !crypt_gensalt_rn("$2b$", 4, NULL, 0, salt, sizeof(salt)) ||' \
	    '	    !(h = crypt(argv[1], salt)) || h[0] != 0x24) return 1;' \
	    '	puts(h); return 0; }' >"$IT_TMP/bcrypt.c"
	cc -o "$IT_TMP/bcrypt" "$IT_TMP/bcrypt.c" -lcrypt && "$IT_TMP/bcrypt" "$1"
}

check "Prometheus behind basic auth: asked with --reload-auth-file's credentials; 401 said, not reachable"
HASH=$(bcrypt 's3cr3t/pw') || fail "no way to make a bcrypt hash (python3 crypt, cc -lcrypt)"
printf 'basic_auth_users:\n  prom: %s\n' "$HASH" >"$IT_TMP/web.yml"
printf 'prom:s3cr3t/pw\n' >"$IT_TMP/prom.cred"
DATA=$IT_TMP/data-auth
mkdir -p "$DATA/targets" "$DATA/rules"
sed "s|$IT_TMP/data/|$DATA/|g" "$IT_TMP/prometheus.yml" >"$IT_TMP/prometheus-auth.yml"
free_port AUTH_PORT
"$PROMETHEUS_BIN" --config.file="$IT_TMP/prometheus-auth.yml" \
    --storage.tsdb.path="$IT_TMP/tsdb-auth" --web.config.file="$IT_TMP/web.yml" \
    --web.listen-address="127.0.0.1:$AUTH_PORT" --web.enable-lifecycle \
    --log.level=warn >"$IT_TMP/prometheus-auth.log" 2>&1 &
AUTH_PID=$!
track "$AUTH_PID"
AUTH_URL=http://127.0.0.1:$AUTH_PORT
auth_ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' -u 'prom:s3cr3t/pw' "$AUTH_URL/-/ready")" = 200 ]; }
wait_alive 30 "$AUTH_PID" auth_ready || fail "prometheus with basic auth did not start"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$AUTH_URL/api/v1/targets")" = 401 ] ||
	fail "prometheus answers without credentials"
PROM_URL="" flowmon_start "$DATA" --promtool none --reload-url "$AUTH_URL/-/reload" \
    --reload-auth-file "$IT_TMP/prom.cred" --reload-delay 200ms
reconfigure --data-urlencode serviceName=web --data-urlencode "targets=127.0.0.1:$AUTH_PORT" \
    --data-urlencode alertName=up --data-urlencode 'alertIf=vector(1) > 0'
wait_until 60 explain_is web '.rules.state == "loaded" and .prometheus.reachable and
    .prometheus.error == "" and (.prometheus.alerts | length) == 1 and
    (.prometheus.targets | length) == 1' ||
	fail "explain/web behind basic auth: $HTTP_BODY"
ok "reloaded and asked with the credentials: $(printf '%s' "$HTTP_BODY" | jq -c '[.rules.state, .prometheus.reachable, .prometheus.targets[0].health]')"
flowmon_stop
PROM_URL="" flowmon_start "$DATA" --promtool none --reload-url "$AUTH_URL/-/reload"
explain web
printf '%s' "$EXPLAIN" | jq -e '.prometheus.reachable == false and
    .prometheus.targets == [] and .prometheus.alerts == [] and
    (.prometheus.error | test("api/v1/targets\\?state=active answered 401 \\(credentials: ")) and
    (.prometheus.error | test("api/v1/rules\\?type=alert answered 401"))' >/dev/null ||
	fail "explain/web without credentials: $EXPLAIN"
ok "$(printf '%s' "$EXPLAIN" | jq -r .prometheus.error | cut -c1-130)"

#!/bin/bash
# it_supervisor.sh: the drop-in layout (issue 8). flowmon --run-prometheus
# starts the real Prometheus with DFM's ARG_* variables as flags (argv, no
# shell) and the config it wrote from GLOBAL_*; kill -9 of the child brings
# it back; a rule written by a reconfigure is loaded through a reload of
# the child (SIGHUP, then the lifecycle API); SIGTERM to flowmon stops both.
. "$(dirname "$0")/lib.sh"

DATA=$IT_TMP/data
CONFIG=$IT_TMP/etc/prometheus.yml
free_port PPORT
PBASE=http://127.0.0.1:$PPORT/monitor
WRAP0=$FLOWMON_WRAP

# Variables with '-' cannot be exported by bash: env(1) passes them.
sv_env() {
	FLOWMON_WRAP="env ARG_WEB_ROUTE-PREFIX=/monitor
	    ARG_WEB_EXTERNAL-URL=$PBASE ARG_WEB_LISTEN-ADDRESS=127.0.0.1:$PPORT
	    ARG_STORAGE_TSDB_PATH=$IT_TMP/tsdb ARG_LOG_LEVEL=warn
	    GLOBAL_SCRAPE_INTERVAL=2s GLOBAL__EVALUATION_INTERVAL=1s $*
	    $WRAP0"
	FLOWMON_WRAP=$(printf '%s' "$FLOWMON_WRAP" | tr -s ' \n\t' ' ')
}

# The pid of the Prometheus flowmon started last, from its log.
child_pid() {
	sed -n 's/.*msg="prometheus started" pid=\([0-9]*\).*/\1/p' \
	    "$FLOWMON_LOG" | tail -n 1
}

# The child runs, is flowmon's child, and answers ready under /monitor.
child_ready() {
	local pid
	pid=$(child_pid)
	[ -n "$pid" ] && alive "$pid" &&
	    [ "$(ps -o ppid= -p "$pid" | tr -d ' ')" = "$FLOWMON_PID" ] &&
	    http_ok "$PBASE/-/ready"
}

flag() {
	curl -sf --max-time 5 "$PBASE/api/v1/status/flags" |
	    jq -r --arg f "$1" '.data[$f]'
}

# prom_* helpers of lib.sh, pointed at the child (PROM_URL is set only
# after flowmon_start, which would otherwise pass --reload-url).
point_prom_helpers() {
	PROM_URL=$PBASE
	PROM_PID=$(child_pid)
}

# ------------------------------------------------ start, flags, config
sv_env
flowmon_start "$DATA" --run-prometheus "$PROMETHEUS_BIN" \
    --prometheus-config "$CONFIG" --reload-delay 200ms
check "Prometheus starts as flowmon's child and is ready under /monitor"
wait_until 60 child_ready || fail "the child never became ready at $PBASE"
PID1=$(child_pid)
point_prom_helpers
ok "child pid $PID1 ready"

check "argv carries the ARG_* flags, unquoted, and no shell in between"
mapfile -t ARGV < <(tr '\0' '\n' </proc/"$PID1"/cmdline)
[ "${ARGV[0]}" = "$PROMETHEUS_BIN" ] || fail "argv[0] is ${ARGV[0]}"
for want in --web.route-prefix=/monitor "--web.external-url=$PBASE" \
    "--web.listen-address=127.0.0.1:$PPORT" \
    "--storage.tsdb.path=$IT_TMP/tsdb" --log.level=warn \
    "--config.file=$CONFIG"; do
	printf '%s\n' "${ARGV[@]}" | grep -qxF -- "$want" ||
		fail "argv lacks $want: ${ARGV[*]}"
done
printf '%s\n' "${ARGV[@]}" | grep -q alertmanager && fail "argv: ${ARGV[*]}"
ok "argv: ${ARGV[*]}"

check "/monitor/api/v1/status/flags shows them"
[ "$(flag web.route-prefix)" = /monitor ] || fail "web.route-prefix: $(flag web.route-prefix)"
[ "$(flag web.external-url)" = "$PBASE" ] || fail "web.external-url: $(flag web.external-url)"
[ "$(flag web.listen-address)" = "127.0.0.1:$PPORT" ] || fail "web.listen-address"
[ "$(flag storage.tsdb.path)" = "$IT_TMP/tsdb" ] || fail "storage.tsdb.path"
[ "$(flag config.file)" = "$CONFIG" ] || fail "config.file"
[ -d "$IT_TMP/tsdb" ] || fail "no TSDB in $IT_TMP/tsdb"
ok "route prefix, external URL, listen address, TSDB path, config file"

check "the loaded config is the one written from GLOBAL_*, with flowmon's job"
prom_api /api/v1/status/config | jq -r .data.yaml >"$IT_TMP/loaded.yml"
grep -q 'scrape_interval: 2s' "$IT_TMP/loaded.yml" || fail "no 2s scrape_interval"
grep -q "$DATA/targets/\*.json" "$IT_TMP/loaded.yml" || fail "no file_sd glob"
grep -q "$DATA/rules/\*.yml" "$IT_TMP/loaded.yml" || fail "no rule glob"
ok "scrape_interval 2s, file_sd job and rule glob over $DATA"

# ---------------------------------------------------- reload by SIGHUP
check "a rule written by a reconfigure is loaded (SIGHUP to the child)"
reconfigure --data-urlencode serviceName=web \
    --data-urlencode alertName=up --data-urlencode 'alertIf=vector(1) > 0'
wait_until 30 prom_has_rule web web_up || fail "web_up never loaded"
[ "$(child_pid)" = "$PID1" ] && alive "$PID1" || fail "the child was restarted, not reloaded"
wait_until 10 grep -q 'msg="reload succeeded" backend="prometheus child"' "$FLOWMON_LOG" ||
	fail "no reload through the child back end in the log"
ok "web_up in /monitor/api/v1/rules, same pid $PID1"

check "explain asks the child's API (--prometheus-url's default under --run-prometheus)"
explain_web() {
	fm /v1/docker-flow-monitor/explain/web
	[ "$HTTP_CODE" = 200 ] && jq -e --arg u "$PBASE" '.prometheus.url == $u and
	    .prometheus.reachable and .prometheus.ruleGroup and
	    .prometheus.alerts[0].name == "web_up"' <<<"$HTTP_BODY" >/dev/null
}
wait_until 30 explain_web || fail "explain/web: $HTTP_BODY"
ok "prometheus.url $PBASE, web_up seen there"

# ---------------------------------------------------------- kill -9
check "kill -9 of the child: it comes back with a new pid and is ready"
kill -KILL "$PID1"
wait_until 30 eval '[ "$(child_pid)" != "$PID1" ] && child_ready' ||
	fail "no new ready child after kill -9 of $PID1"
PID2=$(child_pid)
alive "$PID1" && fail "the killed child $PID1 is still there"
grep -q 'msg="prometheus exited, restarting" pid='"$PID1"' how="killed by signal 9"' \
    "$FLOWMON_LOG" || fail "the exit of $PID1 is not logged"
point_prom_helpers
wait_until 30 prom_has_rule web web_up || fail "web_up not loaded after the restart"
ok "new child $PID2 ready, web_up loaded again"

check "a second rule after the restart is loaded too"
reconfigure --data-urlencode serviceName=api \
    --data-urlencode alertName=down --data-urlencode 'alertIf=vector(0) > 1'
wait_until 30 prom_has_rule api api_down || fail "api_down never loaded"
ok "api_down loaded by child $PID2"

# ----------------------------------------------------------- SIGTERM
check "SIGTERM to flowmon stops both"
flowmon_stop || fail "flowmon did not stop cleanly"
wait_until 10 eval "! kill -0 $PID2 2>/dev/null" ||
	fail "the child $PID2 outlived flowmon"
grep -q 'msg="prometheus stopped" pid='"$PID2" "$FLOWMON_LOG" ||
	fail "the child's stop is not logged"
pgrep -f -- "--storage.tsdb.path=$IT_TMP/tsdb" >/dev/null &&
	fail "a Prometheus on $IT_TMP/tsdb is still running"
ok "flowmon exited 0, child $PID2 gone, no orphan"
PROM_PID=""
PROM_URL=""

# ------------------------------------------- reload by the lifecycle API
check "with ARG_WEB_ENABLE-LIFECYCLE the child is reloaded over HTTP"
sv_env ARG_WEB_ENABLE-LIFECYCLE=
flowmon_start "$DATA" --run-prometheus "$PROMETHEUS_BIN" \
    --prometheus-config "$CONFIG" --reload-delay 200ms
wait_until 60 child_ready || fail "the child never became ready"
point_prom_helpers
grep -q "reload=$PBASE/-/reload" "$FLOWMON_LOG" ||
	fail "the supervisor does not reload through $PBASE/-/reload"
before=$(prom_reloads)
reconfigure --data-urlencode serviceName=db \
    --data-urlencode alertName=slow --data-urlencode 'alertIf=vector(1) > 2'
wait_until 30 prom_has_rule db db_slow || fail "db_slow never loaded"
wait_until 10 eval '[ "$(prom_reloads)" -gt "$before" ]' || fail "no POST /-/reload reached the child"
ok "db_slow loaded through POST $PBASE/-/reload"
CHILD=$(child_pid)
flowmon_stop || fail "flowmon did not stop cleanly"
wait_until 10 eval "! kill -0 $CHILD 2>/dev/null" || fail "child $CHILD outlived flowmon"
PROM_PID=""
ok "stopped, child $CHILD gone"

# ------------------------------------------------------- refused at start
check "a bad variable is refused at start, naming it; nothing is started"
FLOWMON_WRAP="env SCRAPE_CONFIGS_0__JOB_NAME=x $WRAP0"
FLOWMON_WRAP=${FLOWMON_WRAP% }
free_port BADPORT
# shellcheck disable=SC2086 # FLOWMON_WRAP is a command line
${FLOWMON_WRAP:+$FLOWMON_WRAP} "$FLOWMON" --listen "127.0.0.1:$BADPORT" \
    --data-dir "$DATA" --run-prometheus "$PROMETHEUS_BIN" \
    --prometheus-config "$CONFIG" >"$IT_TMP/bad.log" 2>&1 &
BADPID=$!
track "$BADPID"
wait_until 30 eval "! kill -0 $BADPID 2>/dev/null" || fail "flowmon kept running"
wait "$BADPID" && fail "flowmon exited 0 on SCRAPE_CONFIGS_0__JOB_NAME"
grep -q 'SCRAPE_CONFIGS_0__JOB_NAME' "$IT_TMP/bad.log" ||
	fail "the message does not name the variable: $(cat "$IT_TMP/bad.log")"
grep -q 'prometheus started' "$IT_TMP/bad.log" && fail "Prometheus was started"
ok "$(grep -o 'err=.*' "$IT_TMP/bad.log" | head -n 1)"

# ------------------------------- the rule lifecycle with SIGHUP reloads
# Without the lifecycle API the child is reloaded by SIGHUP, which says
# nothing back: each reload is verified in the child's /metrics, a child
# (re)started tells what it loaded, and one that exits at start for a
# rule file gets it set aside. --promtool none: only Prometheus judges.
DATA2=$IT_TMP/data2
BAD='rate(x[5m]'
state_of() {	# state_of NAME: rules.state in /services/NAME
	fm "/v1/docker-flow-monitor/services/$1"
	jq -r '.rules.state // "none"' <<<"$HTTP_BODY"
}
state_is() { [ "$(state_of "$1")" = "$2" ]; }
reloads_seen() {	# attempts flowmon made, either outcome
	echo $(($(fm_metric 'flowmon_reloads_total{outcome="success"}') +
	    $(fm_metric 'flowmon_reloads_total{outcome="failure"}')))
}
rule_of() {	# rule_of NAME EXPR: a reconfigure with one alert, for 0s
	reconfigure --data-urlencode "serviceName=$1" --data-urlencode alertName=x \
	    --data-urlencode "alertIf=$2" --data-urlencode alertFor=0s
}
# stop_child: SIGSTOP the child once flowmon is idle; it answers nothing.
stop_child() {
	wait_until 60 flowmon_idle || fail "a reload is still pending"
	STOPPED=$(child_pid)
	kill -STOP "$STOPPED" || fail "cannot stop the child"
}
sv_env
PROM_URL=""	# flowmon_start would give it as --reload-url
flowmon_start "$DATA2" --run-prometheus "$PROMETHEUS_BIN" \
    --prometheus-config "$CONFIG" --reload-delay 200ms --promtool none
wait_until 60 child_ready || fail "the child never became ready"
point_prom_helpers

check "SIGHUP: a rule is loaded once Prometheus loaded it, not when the signal is sent"
rule_of keep 'vector(1) > 0'
wait_until 60 state_is keep loaded || fail "keep: $(state_of keep)"
prom_has_rule keep keep_x || fail "keep is loaded but Prometheus lacks keep_x"
stop_child
n=$(reloads_seen)
rule_of slow 'vector(2) > 0'
# The attempt for slow is over (its outcome counted): the child, stopped,
# cannot have loaded it.
wait_until 60 eval '[ "$(reloads_seen)" -gt "$n" ]' || fail "no reload attempt for slow"
[ "$(state_of slow)" = pending ] ||
	fail "slow is $(state_of slow) while Prometheus (stopped) cannot have loaded it"
kill -CONT "$STOPPED"
wait_until 60 state_is slow loaded || fail "slow: $(state_of slow)"
prom_has_rule slow slow_x || fail "slow is loaded but Prometheus lacks slow_x"
ok "slow pending while the child was stopped, loaded once it ran it"

check "SIGHUP: a rule only Prometheus refuses ends rejected, a good change beside it is loaded"
rule_of bad "$BAD"
rule_of good 'vector(3) > 0'
wait_until 90 state_is bad rejected || fail "bad: $(state_of bad)"
wait_until 60 state_is good loaded || fail "good: $(state_of good)"
[ ! -e "$DATA2/rules/bad.yml" ] || fail "rules/bad.yml left for Prometheus"
head -n 1 "$DATA2/rejected/bad.yml" | grep -q 'flowmon rejected this rule file' ||
	fail "rejected/bad.yml: $(head -n 2 "$DATA2/rejected/bad.yml")"
prom_has_rule good good_x && prom_has_rule keep keep_x && prom_no_rule_group bad ||
	fail "Prometheus runs $(prom_api /api/v1/rules | jq -c '[.data.groups[].name]')"
grep -q 'msg="reload failed" backend="prometheus child" error="Prometheus refused the reload' \
    "$FLOWMON_LOG" || fail "the refusal is not read from /metrics"
ok "bad rejected (rules/bad.yml gone), good and keep run"

check "a child killed and restarted: what it loaded at start is loaded, the states stay"
stop_child
rule_of late 'vector(4) > 0'
kill -KILL "$STOPPED"
wait_until 60 eval '[ "$(child_pid)" != "$STOPPED" ] && child_ready' ||
	fail "no ready child after kill -9 of $STOPPED"
point_prom_helpers
wait_until 60 state_is late loaded || fail "late: $(state_of late)"
for s in keep slow good; do
	state_is "$s" loaded || fail "$s: $(state_of "$s") after the restart"
done
state_is bad rejected || fail "bad: $(state_of bad) after the restart"
prom_has_rule late late_x && prom_has_rule keep keep_x || fail "the new child lacks late_x or keep_x"
ok "late loaded by child $(child_pid); keep, slow, good loaded, bad rejected"

check "a bad pending file at a child restart: set aside, Prometheus comes back, the culprit rejected"
stop_child
rule_of bad2 "$BAD"
rule_of good2 'vector(5) > 0'
kill -KILL "$STOPPED"
wait_until 60 grep -q 'msg="prometheus exited at start' "$FLOWMON_LOG" ||
	fail "the child did not exit at start on rules/bad2.yml"
wait_until 120 eval '[ "$(child_pid)" != "$STOPPED" ] && child_ready' ||
	fail "Prometheus never came back"
point_prom_helpers
wait_until 120 state_is bad2 rejected || fail "bad2: $(state_of bad2)"
wait_until 60 state_is good2 loaded || fail "good2: $(state_of good2)"
[ ! -e "$DATA2/rules/bad2.yml" ] || fail "rules/bad2.yml left"
for s in keep slow good late; do
	state_is "$s" loaded || fail "$s: $(state_of "$s")"
done
prom_has_rule good2 good2_x && prom_has_rule keep keep_x && prom_no_rule_group bad2 ||
	fail "Prometheus runs $(prom_api /api/v1/rules | jq -c '[.data.groups[].name]')"
ok "bad2 rejected, good2 and the others loaded, Prometheus $(child_pid) ready"
flowmon_stop || fail "flowmon did not stop cleanly"
PROM_PID=""
PROM_URL=""

# tests/lib.sh: helpers shared by the integration scripts (tests/it_*.sh).
# Sourced, never run. Needs bash, curl, jq, perl (Debian's perl-base), and
# Debian's prometheus and prometheus-node-exporter.
#
# Each script gets its own temp dir ($IT_TMP), its own free loopback ports
# and an EXIT trap that stops every process it started and removes the temp
# dir (kept, with its logs, when the script failed or IT_KEEP=1).
#
# $FLOWMON is the daemon under test (absolute path). $FLOWMON_WRAP, when set,
# is a command line put in front of it (valgrind): flowmon is then stopped
# with SIGTERM only and the script fails if the wrapper exits non-zero.
#
# Pass, fail, skip. A script passes (exit 0), fails (exit 1, through fail)
# or skips (exit 77); tests/run-integration.sh counts the three apart and
# lists every skip with its reason. A skip is never a pass and never
# silent:
#   it_require CMD PACKAGE   at the top, for every program the script needs
#                            that .ci/deps.sh installs (prometheus, promtool,
#                            vmagent, amtool, chromium, bindfs, python3...):
#                            missing, it is a skip, and with CI set (env CI
#                            non-empty) a failure: CI must have it.
#   it_skip "why"            the script (or all that is left of it) cannot
#                            run here for a reason no package mends (no
#                            mount namespace, no Docker engine): one line
#                            "SKIP: why", exit 77, under CI too.
#   it_have CMD PACKAGE "what"  for a part with a fallback: 0 if CMD is
#                            there; else with CI set a failure, without CI
#                            a "SKIP part" line (listed in the summary, the
#                            script still passes) and 1.
# Never `exit 0` after "cannot"/"skip": that counts as a pass.
# A fixed sleep is never a wait (wait_until polls with a timeout), and a
# time compared with another is taken from an event (the answer of a
# request, a log line), never after a sleep; a bound that holds only on an
# idle machine belongs in make bench.

set -u

: "${FLOWMON:?FLOWMON must be the absolute path of the flowmon binary}"
FLOWMON_WRAP=${FLOWMON_WRAP:-}
PROMETHEUS_BIN=${PROMETHEUS_BIN:-/usr/bin/prometheus}
NODE_EXPORTER_BIN=${NODE_EXPORTER_BIN:-/usr/bin/prometheus-node-exporter}

# No test may resolve an invented name: task DNS is off unless a test
# turns it on with --task-dns (a flag beats the variable).
export FLOWMON_TASK_DNS=${FLOWMON_TASK_DNS:-none}

IT_NAME=$(basename "$0" .sh)
IT_T0=$(date +%s%N)
[ -x "$FLOWMON" ] || {
	echo "$IT_NAME: FLOWMON=$FLOWMON is not an executable file" >&2
	exit 1
}

IT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/flowmon-$IT_NAME.XXXXXX") || {
	echo "$IT_NAME: cannot create a temp dir" >&2
	exit 1
}
IT_PIDS=""		# every process started, stopped by the trap
IT_PORTS=" "		# ports handed out by free_port, never given twice
IT_FAILED=0
IT_SKIPPED=0		# it_skip was called: exit 77
IT_NSTARTS=0		# flowmon starts, for log names

FLOWMON_PID=""
FLOWMON_PORT=""
FLOWMON_URL=""
FLOWMON_LOG=""
PROM_PID=""
PROM_PORT=""
PROM_URL=""
PROM_LOG=""
NODE_PID=""
NODE_PORT=""

# Seconds since the script started, with tenths.
elapsed() {
	local ns=$(($(date +%s%N) - IT_T0))
	printf '%d.%d' $((ns / 1000000000)) $((ns / 100000000 % 10))
}

say() { printf '[%s %6ss] %s\n' "$IT_NAME" "$(elapsed)" "$*"; }
check() { say "check: $*"; }
ok() { say "  ok: $*"; }

# Prints the tail of every log this script produced, then exits 1.
fail() {
	local f
	IT_FAILED=1
	say "FAIL: $*" >&2
	for f in "$IT_TMP"/*.log; do
		[ -f "$f" ] || continue
		echo "---- last lines of $f" >&2
		tail -n 25 "$f" >&2
	done
	exit 1
}

# it_skip_note KIND WHY: appends "script KIND: WHY" to $TEST_SKIP_LOG, the
# file tests/run-integration.sh reads for its summary (if it set one).
it_skip_note() {
	[ -n "${TEST_SKIP_LOG:-}" ] || return 0
	printf '%s %s: %s\n' "$IT_NAME" "$1" "$2" >>"$TEST_SKIP_LOG"
}

# it_skip WHY: this script cannot run (the rest of) its test here: says so
# on one line and exits 77, a skip, never a pass. For what no package
# mends; a missing program goes through it_require.
it_skip() {
	IT_SKIPPED=1
	say "SKIP: $*"
	it_skip_note skip "$*"
	exit 77
}

# it_require CMD PACKAGE: CMD (a name on PATH or a path) must exist. When
# it does not: with CI set, a failure (CI installs PACKAGE through
# .ci/deps.sh); without, a skip naming the package.
it_require() {
	command -v "$1" >/dev/null 2>&1 && return 0
	[ -n "${CI:-}" ] &&
		fail "$1 is missing: CI must have Debian's $2 (.ci/deps.sh)"
	it_skip "$1 is missing (Debian's $2: sh .ci/deps.sh as root installs it)"
}

# it_have CMD PACKAGE WHAT: 0 if CMD exists. Else, with CI set, a failure;
# without, one "SKIP part" line saying WHAT goes unchecked (listed in the
# summary; the script goes on and may pass) and 1.
it_have() {
	command -v "$1" >/dev/null 2>&1 && return 0
	[ -n "${CI:-}" ] &&
		fail "$1 is missing: CI must have Debian's $2 (.ci/deps.sh)"
	say "SKIP part: $3 ($1 is missing: Debian's $2)"
	it_skip_note part "$3 ($1 is missing: Debian's $2)"
	return 1
}

# wait_until TIMEOUT_SECONDS CMD [ARGS...]: runs CMD every 0.2 s until it
# succeeds (returns 0) or TIMEOUT_SECONDS have passed (returns 1).
wait_until() {
	local timeout=$1 deadline
	shift
	deadline=$(($(date +%s%N) + timeout * 1000000000))
	while :; do
		"$@" && return 0
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

# wait_alive TIMEOUT PID CMD [ARGS...]: wait_until, but gives up at once
# (returns 1) when process PID has exited.
wait_alive() {
	local timeout=$1 pid=$2 deadline
	shift 2
	deadline=$(($(date +%s%N) + timeout * 1000000000))
	while :; do
		"$@" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

# port_is_free PORT: 0 if a listening socket can be bound to 127.0.0.1:PORT
# with SO_REUSEADDR, as servers bind (so connections left in TIME_WAIT by a
# stopped server do not count, a listening socket does).
port_is_free() {
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
		    LocalPort => $ARGV[0], Proto => "tcp", Listen => 1,
		    ReuseAddr => 1);
		exit($s ? 0 : 1);' "$1"
}

# free_port VAR: sets VAR to a loopback port that could be bound just now,
# picked at random below the kernel's ephemeral range (so no outgoing
# connection takes it meanwhile) and never one handed out before here.
free_port() {
	local p _
	for _ in $(seq 1 300); do
		p=$((20000 + RANDOM % 12000))
		case "$IT_PORTS" in *" $p "*) continue ;; esac
		if port_is_free "$p"; then
			IT_PORTS="$IT_PORTS$p "
			printf -v "$1" '%s' "$p"
			return 0
		fi
	done
	fail "no free loopback port found"
}

# http_get URL: body on stdout, fails on a non-2xx answer or no answer.
http_get() { curl -sf --max-time 10 "$1"; }

# http_ok URL: 0 if URL answers 200.
http_ok() {
	[ "$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' "$1")" = 200 ]
}

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# stop_pid PID [TIMEOUT]: SIGTERM, wait up to TIMEOUT seconds (default 30),
# then SIGKILL. Sets STOP_STATUS to the exit status (wait's, 128+N for a
# signal); returns 1 if SIGKILL was needed.
STOP_STATUS=0
stop_pid() {
	local pid=$1 timeout=${2:-30} rc=0
	STOP_STATUS=0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	if ! wait_until "$timeout" eval "! kill -0 $pid 2>/dev/null"; then
		kill -KILL "$pid" 2>/dev/null
		rc=1
	fi
	wait "$pid" 2>/dev/null
	STOP_STATUS=$?
	IT_PIDS=$(printf '%s' "$IT_PIDS" | sed "s/ $pid / /")
	return $rc
}

track() { IT_PIDS="${IT_PIDS:- }$1 "; }

it_cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	[ "$IT_FAILED" = 1 ] && rc=1
	# A skip stays a skip (77), unless stopping what it started fails.
	[ "$IT_SKIPPED" = 1 ] && [ "$IT_FAILED" = 0 ] && rc=77
	# flowmon first: under valgrind its exit status is part of the verdict.
	if alive "$FLOWMON_PID"; then
		if ! flowmon_stop; then
			rc=1
		fi
	fi
	for pid in $IT_PIDS; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in $IT_PIDS; do
		wait_until 10 eval "! kill -0 $pid 2>/dev/null" ||
			kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if { [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; } || [ "${IT_KEEP:-0}" = 1 ]; then
		echo "[$IT_NAME] logs and data kept in $IT_TMP" >&2
	else
		rm -rf "$IT_TMP"
	fi
	if [ "$rc" -eq 0 ]; then
		say "PASS ($(elapsed) s)"
	elif [ "$rc" -eq 77 ]; then
		say "SKIPPED ($(elapsed) s)"
	else
		say "FAILED ($(elapsed) s)" >&2
	fi
	exit "$rc"
}
trap it_cleanup EXIT
trap 'IT_FAILED=1; exit 1' INT TERM

it_require curl curl
it_require jq jq
it_require perl perl-base
it_require "$PROMETHEUS_BIN" prometheus
it_require "$NODE_EXPORTER_BIN" prometheus-node-exporter

# ---------------------------------------------------------------- flowmon

# flowmon_start DATA_DIR [EXTRA ARGS...]: starts flowmon on a free port,
# reloading $PROM_URL (if Prometheus runs) after $IT_RELOAD_DELAY of quiet
# (500ms; a script that counts reloads per burst of concurrent requests
# sets more, so a busy machine's spread of the burst stays within it), and
# waits until it answers ping. Retries on another port if the first one was taken
# meanwhile. Sets FLOWMON_PID, FLOWMON_PORT, FLOWMON_URL, FLOWMON_LOG.
flowmon_start() {
	local data=$1 attempt reload=()
	shift
	[ -n "$PROM_URL" ] && reload=(--reload-url "$PROM_URL/-/reload"
	    --reload-delay "${IT_RELOAD_DELAY:-500ms}")
	for attempt in 1 2 3; do
		free_port FLOWMON_PORT
		IT_NSTARTS=$((IT_NSTARTS + 1))
		FLOWMON_LOG=$IT_TMP/flowmon.$IT_NSTARTS.log
		FLOWMON_URL=http://127.0.0.1:$FLOWMON_PORT
		# shellcheck disable=SC2086 # FLOWMON_WRAP is a command line
		${FLOWMON_WRAP:+$FLOWMON_WRAP} "$FLOWMON" \
		    --listen "127.0.0.1:$FLOWMON_PORT" --data-dir "$data" \
		    "${reload[@]}" "$@" >"$FLOWMON_LOG" 2>&1 &
		FLOWMON_PID=$!
		track "$FLOWMON_PID"
		# valgrind makes start-up slow: allow a minute.
		if wait_alive 60 "$FLOWMON_PID" flowmon_ready; then
			say "flowmon up on $FLOWMON_URL (pid $FLOWMON_PID${FLOWMON_WRAP:+, wrapped})"
			return 0
		fi
		if alive "$FLOWMON_PID"; then
			fail "flowmon (pid $FLOWMON_PID) did not answer ping within 60 s"
		fi
		wait "$FLOWMON_PID"
		say "flowmon exited with status $? at start (attempt $attempt)"
		FLOWMON_PID=""
		grep -qi 'cannot listen' "$FLOWMON_LOG" || fail "flowmon did not start"
	done
	fail "flowmon could not listen on any port"
}

flowmon_ready() {
	alive "$FLOWMON_PID" && http_ok "$FLOWMON_URL/v1/docker-flow-monitor/ping"
}

# valgrind_log PID: the --log-file of FLOWMON_WRAP for that pid, if any.
valgrind_log() {
	local pat
	# shellcheck disable=SC2086 # split the command line into its words
	pat=$(printf '%s\n' $FLOWMON_WRAP | sed -n 's/^--log-file=//p' |
	    tail -n 1)
	[ -n "$pat" ] && printf '%s\n' "${pat//%p/$1}"
}

# flowmon_stop: SIGTERM and wait for the exit. The exit status must be 0:
# with FLOWMON_WRAP, a valgrind error (leak or invalid access) makes it 99.
flowmon_stop() {
	local pid=$FLOWMON_PID f
	[ -n "$pid" ] || return 0
	FLOWMON_PID=""
	if ! stop_pid "$pid" 60; then
		say "FAIL: flowmon (pid $pid) ignored SIGTERM for 60 s: killed" >&2
		return 1
	fi
	if [ "$STOP_STATUS" -ne 0 ]; then
		say "FAIL: flowmon (pid $pid) exited with status $STOP_STATUS${FLOWMON_WRAP:+ under: $FLOWMON_WRAP}" >&2
		tail -n 20 "$FLOWMON_LOG" >&2
		f=$(valgrind_log "$pid")
		if [ -n "$f" ] && [ -f "$f" ]; then
			echo "---- $f" >&2
			grep -A 14 -E 'Invalid|uninitialised|definitely lost in|indirectly lost in|ERROR SUMMARY' \
			    "$f" | head -n 120 >&2
		fi
		return 1
	fi
	say "flowmon (pid $pid) stopped, exit status 0"
	return 0
}

# fm REQ_PATH [CURL ARGS...]: a request to flowmon. Sets HTTP_CODE and
# HTTP_BODY. Example: fm /v1/docker-flow-monitor/reconfigure -G
#   --data-urlencode serviceName=x
HTTP_CODE=""
HTTP_BODY=""
fm() {
	local path=$1
	shift
	HTTP_CODE=$(curl -s --max-time 30 -o "$IT_TMP/body" -w '%{http_code}' \
	    "$@" "$FLOWMON_URL$path") || HTTP_CODE=000
	HTTP_BODY=$(cat "$IT_TMP/body" 2>/dev/null)
}

# fm_expect CODE REQ_PATH [CURL ARGS...]: fm, failing unless CODE came back.
fm_expect() {
	local want=$1
	shift
	fm "$@"
	[ "$HTTP_CODE" = "$want" ] ||
		fail "$1: expected HTTP $want, got $HTTP_CODE: $HTTP_BODY"
}

# reconfigure [CURL --data-urlencode ARGS...]: GET with a query string, as
# swarm-listener sends it; must answer 200.
reconfigure() {
	fm_expect 200 /v1/docker-flow-monitor/reconfigure -G "$@"
}

# fm_metric SERIES: the value of one of flowmon's own series, exactly as
# written in /metrics (e.g. 'flowmon_reloads_total{outcome="success"}').
fm_metric() {
	curl -sf --max-time 10 "$FLOWMON_URL/metrics" |
	    awk -v s="$1" '$1 == s { print $2; found = 1 } END { exit !found }'
}

# flowmon_idle: no reload waiting or being retried.
flowmon_idle() { [ "$(fm_metric flowmon_reload_pending)" = 0 ]; }

# rules_loaded DATA_DIR: flowmon owes no reload and accepted/ is up to the
# last reload that succeeded: every rule file in rules/ has its twin in
# accepted/ and no other is there (the lifecycle's "loaded", src/lifecycle.c).
# flowmon moves accepted/ on its own time after each such reload, so a
# snapshot of a data dir with rules is taken once this holds.
rules_loaded() {
	local f
	flowmon_idle || return 1
	for f in "$1"/rules/*.yml; do
		[ -e "$f" ] || continue
		cmp -s "$f" "$1/accepted/${f##*/}" || return 1
	done
	for f in "$1"/accepted/*.yml; do
		[ -e "$f" ] || continue
		[ -e "$1/rules/${f##*/}" ] || return 1
	done
}

# ------------------------------------------------------------- Prometheus

# prom_start DATA_DIR [PORT]: Prometheus on PORT (a restart) or a free port with the file_sd job and
# rule glob of DESIGN.md over DATA_DIR, 1 s scrape and evaluation, lifecycle
# API on. Creates targets/ and rules/ first (Prometheus only watches a
# directory that exists). Waits for /-/ready. PROM_TARGETS_GLOB and
# PROM_RULES_GLOB, when set, replace the globs' file parts (*.json, *.yml).
prom_start() {
	local data=$1 port=${2:-} attempt
	mkdir -p "$data/targets" "$data/rules"
	cat >"$IT_TMP/prometheus.yml" <<-EOF
	global:
	  scrape_interval: 1s
	  scrape_timeout: 1s
	  evaluation_interval: 1s
	rule_files:
	  - '$data/rules/${PROM_RULES_GLOB:-*.yml}'
	scrape_configs:
	  - job_name: flowmon
	    file_sd_configs:
	      - files: ['$data/targets/${PROM_TARGETS_GLOB:-*.json}']
	        refresh_interval: 30s
	EOF
	for attempt in 1 2 3; do
		if [ -n "$port" ]; then
			PROM_PORT=$port
		else
			free_port PROM_PORT
		fi
		PROM_URL=http://127.0.0.1:$PROM_PORT
		PROM_LOG=$IT_TMP/prometheus.log
		"$PROMETHEUS_BIN" --config.file="$IT_TMP/prometheus.yml" \
		    --storage.tsdb.path="$IT_TMP/tsdb" \
		    --web.listen-address="127.0.0.1:$PROM_PORT" \
		    --web.enable-lifecycle --log.level=warn \
		    >"$PROM_LOG" 2>&1 &
		PROM_PID=$!
		track "$PROM_PID"
		if wait_alive 30 "$PROM_PID" prom_ready; then
			say "prometheus up on $PROM_URL (pid $PROM_PID)"
			return 0
		fi
		alive "$PROM_PID" && fail "prometheus did not become ready in 30 s"
		wait "$PROM_PID"
		say "prometheus exited with status $? at start (attempt $attempt)"
		PROM_PID=""
		grep -qi 'address already in use' "$PROM_LOG" ||
			fail "prometheus did not start"
	done
	fail "prometheus could not listen on any port"
}

prom_ready() { alive "$PROM_PID" && http_ok "$PROM_URL/-/ready"; }

# prom_api PATH: the JSON of a Prometheus API call (fails on no answer).
prom_api() { curl -sf --max-time 10 "$PROM_URL$1"; }

# prom_reloads: reload requests Prometheus has answered, any status
# (prometheus_http_requests_total{handler="/-/reload"}, summed over codes;
# 0 before the first one, when the series does not exist yet).
prom_reloads() {
	curl -sf --max-time 10 "$PROM_URL/metrics" | awk '
		/^prometheus_http_requests_total\{/ && /handler="\/-\/reload"/ {
			n += $NF
		}
		END { printf "%d\n", n }'
}

# prom_reloads_are N: Prometheus has received exactly N reload requests.
prom_reloads_are() { [ "$(prom_reloads)" = "$1" ]; }

# prom_target_health JOB: the health of every active target whose job
# label is JOB, one per line (up, down, unknown); nothing if none.
prom_target_health() {
	prom_api /api/v1/targets | jq -r --arg j "$1" \
	    '.data.activeTargets[] | select(.labels.job == $j) | .health'
}

# prom_target_is JOB HEALTH: JOB has exactly one target and it is HEALTH.
prom_target_is() { [ "$(prom_target_health "$1")" = "$2" ]; }

# prom_no_target JOB: no active target has job JOB.
prom_no_target() {
	local h
	h=$(prom_target_health "$1") || return 1
	[ -z "$h" ]
}

# prom_rule GROUP ALERT: the JSON of alerting rule ALERT in group GROUP.
prom_rule() {
	prom_api /api/v1/rules | jq -ce --arg g "$1" --arg a "$2" \
	    '[.data.groups[] | select(.name == $g) | .rules[] |
	      select(.name == $a)] | if length == 1 then .[0] else empty end'
}

prom_has_rule() { prom_rule "$1" "$2" >/dev/null; }

# prom_no_rule_group GROUP: Prometheus has no rule group named GROUP.
prom_no_rule_group() {
	prom_api /api/v1/rules | jq -e --arg g "$1" \
	    '[.data.groups[] | select(.name == $g)] | length == 0' >/dev/null
}

# prom_alert_state ALERT: the state of every alert named ALERT in
# /api/v1/alerts (pending, firing), one per line.
prom_alert_state() {
	prom_api /api/v1/alerts | jq -r --arg a "$1" \
	    '.data.alerts[] | select(.labels.alertname == $a) | .state'
}

# prom_alert_firing ALERT: at least one ALERT alert fires, none is pending.
prom_alert_firing() {
	local s
	s=$(prom_alert_state "$1") || return 1
	[ -n "$s" ] && ! printf '%s\n' "$s" | grep -qv '^firing$'
}

prom_no_alert() {
	local s
	s=$(prom_alert_state "$1") || return 1
	[ -z "$s" ]
}

# prom_firing_since REGEX: {alertname: activeAt} of the alerts firing now
# whose name matches REGEX (jq's test()), keys sorted, on one line.
prom_firing_since() {
	prom_api /api/v1/alerts | jq -cS --arg re "$1" '[.data.alerts[] |
	    select(.state == "firing" and (.labels.alertname | test($re))) |
	    {(.labels.alertname): .activeAt}] | add // {}'
}

# poll_start FILE CMD [ARGS...]: runs CMD every 0.2 s in the background
# until poll_stop, one line per run in FILE: the time (s.ns), then CMD's
# output with its line feeds as spaces. Sets POLL_PID.
POLL_PID=""
poll_start() {
	local file=$1
	shift
	rm -f "$file.stop"
	(
		while [ ! -e "$file.stop" ]; do
			printf '%s %s\n' "$(date +%s.%N)" \
			    "$("$@" 2>/dev/null | tr '\n' ' ')"
			sleep 0.2
		done
	) >"$file" 2>/dev/null &
	POLL_PID=$!
	track "$POLL_PID"
}

# poll_stop FILE: lets the poller make five more polls (a second or more:
# whatever was being waited for is then behind, however busy the machine),
# stops it after its current run, and fails unless it made at least 5
# polls. Sets POLLS (their number) and POLL_SPAN (the seconds they cover).
poll_stop() {
	local n
	n=$(wc -l <"$1")
	wait_until 60 poll_count_ge "$1" $((n + 5)) || fail "the poller stopped polling"
	touch "$1.stop"
	wait "$POLL_PID"
	POLLS=$(wc -l <"$1")
	[ "$POLLS" -ge 5 ] || fail "only $POLLS polls"
	POLL_SPAN=$(awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%.1f", b - a }' "$1")
}

poll_count_ge() { [ "$(wc -l <"$1")" -ge "$2" ]; }

# ---------------------------------------------------------- node_exporter

# node_start: node_exporter on a free loopback port, only a few cheap
# collectors. Sets NODE_PID and NODE_PORT; waits for /metrics.
node_start() {
	local attempt log=$IT_TMP/node_exporter.log
	for attempt in 1 2 3; do
		free_port NODE_PORT
		"$NODE_EXPORTER_BIN" \
		    --web.listen-address="127.0.0.1:$NODE_PORT" \
		    --collector.disable-defaults --collector.meminfo \
		    --collector.loadavg --collector.filesystem \
		    >"$log" 2>&1 &
		NODE_PID=$!
		track "$NODE_PID"
		if wait_alive 20 "$NODE_PID" node_ready; then
			say "node_exporter up on 127.0.0.1:$NODE_PORT (pid $NODE_PID)"
			return 0
		fi
		alive "$NODE_PID" && fail "node_exporter did not answer in 20 s"
		wait "$NODE_PID"
		NODE_PID=""
		say "node_exporter exited at start (attempt $attempt)"
	done
	fail "node_exporter could not listen on any port"
}

node_ready() {
	alive "$NODE_PID" && http_ok "http://127.0.0.1:$NODE_PORT/metrics"
}

node_stop() {
	stop_pid "$NODE_PID" 10
	NODE_PID=""
}

# ------------------------------------------------------------- data dir

# snapshot_dir DIR: every entry under DIR with its type, size and mtime
# (ns), then the SHA-256 of every file: equal snapshots mean nothing was
# created, removed, written or even touched. The data-dir lock file
# (.flowmon.lock) is left out: each daemon that takes the lock writes its
# pid and host into it, which is not data. So is state/.files.manifest,
# with state/'s own size and time: a clean stop writes it and the next
# start takes it (the records in state/ are compared as every file is).
snapshot_dir() {
	(
		cd "$1" || exit 1
		find . \( -path ./.flowmon.lock -o \
		    -path ./state/.files.manifest \) -prune -o \
		    -printf '%p %y %s %T@\n' | LC_ALL=C sort |
		    sed 's/^\(\.\/state d\) .*/\1/'
		find . \( -path ./.flowmon.lock -o \
		    -path ./state/.files.manifest \) -prune -o -type f -print0 |
		    LC_ALL=C sort -z | xargs -0 -r sha256sum
	)
}

# ------------------------------------------------------ a fake Docker engine

# docker_fake_start CTL SOCK: tests/fake_docker.py on the unix socket SOCK,
# serving the JSON files of the directory CTL (services.json, tasks.json,
# nodes.json; events.jsonl as the event stream). Sets DOCKER_FAKE_PID.
DOCKER_FAKE_PID=""
docker_fake_start() {
	it_require python3 python3
	python3 "$(dirname "${BASH_SOURCE[0]}")/fake_docker.py" "$2" "$1" \
	    >>"$IT_TMP/fake_docker.log" 2>&1 &
	DOCKER_FAKE_PID=$!
	track "$DOCKER_FAKE_PID"
	wait_until 10 test -S "$2" || fail "the fake Docker engine did not bind $2"
}
docker_fake_stop() {
	stop_pid "$DOCKER_FAKE_PID" 10
	DOCKER_FAKE_PID=""
}
# docker_fake_put CTL FILE JQ_FILTER [JQ ARGS...]: FILE = FILE | filter,
# replaced whole, so the engine never reads half of one.
docker_fake_put() {
	local f=$1/$2 flt=$3
	shift 3
	jq "$@" "$flt" "$f" >"$f.new" && mv "$f.new" "$f" || fail "jq $flt"
}
# docker_fake_event CTL TYPE ACTION ID: one event line on the stream.
docker_fake_event() {
	printf '{"Type":"%s","Action":"%s","Actor":{"ID":"%s","Attributes":{}},"scope":"swarm"}\n' \
	    "$2" "$3" "$4" >>"$1/events.jsonl"
}

#!/bin/bash
# tests/it_reloader.sh: issue 5 item 4, `flowmon reloader` for Prometheus
# replicas on a shared (NFS) volume, with two real Debian Prometheus on
# 127.0.0.1, each with its own reloader in polling-only mode (--no-inotify
# stands in for NFS, where inotify sees no write made by another host):
#   a rule the daemon writes reaches both: each reloader sees it within one
#   poll interval (the time of its own log line, so a busy machine's slow
#   Prometheus reload does not count), and reloads after the quiet delay;
#   a burst of 200 rule changes costs each Prometheus at most 2 reloads;
#   temp files and rewrites with the same bytes cost no reload;
#   each reloader serves its own /metrics and stops cleanly.
# The daemon runs without --reload-url: the reloaders do all reloading.
# Run by tests/run-integration.sh with FLOWMON set.
. "$(dirname "$0")/lib.sh"

API=/v1/docker-flow-monitor
DATA=$IT_TMP/shared
POLL_S=2
DELAY=1s
DELAY_S=1
mkdir -p "$DATA/targets" "$DATA/rules"

declare -a P_PID P_URL R_PID R_URL R_LOG

# prom_n N: Prometheus number N over the shared rules dir, its own config,
# TSDB and port. Sets P_PID[N], P_URL[N].
prom_n() {
	local n=$1 port attempt cfg=$IT_TMP/prometheus.$1.yml log=$IT_TMP/prometheus.$1.log
	cat >"$cfg" <<-EOF
	global:
	  evaluation_interval: 1s
	rule_files:
	  - '$DATA/rules/*.yml'
	EOF
	for attempt in 1 2 3; do
		free_port port
		"$PROMETHEUS_BIN" --config.file="$cfg" \
		    --storage.tsdb.path="$IT_TMP/tsdb.$n" \
		    --web.listen-address="127.0.0.1:$port" \
		    --web.enable-lifecycle --log.level=warn >"$log" 2>&1 &
		P_PID[n]=$!
		P_URL[n]=http://127.0.0.1:$port
		track "${P_PID[n]}"
		if wait_until 30 eval "alive ${P_PID[n]} && http_ok ${P_URL[n]}/-/ready"; then
			say "prometheus $n up on ${P_URL[n]} (pid ${P_PID[n]})"
			return 0
		fi
		alive "${P_PID[n]}" && fail "prometheus $n not ready in 30 s"
		wait "${P_PID[n]}"
		grep -qi 'address already in use' "$log" ||
			fail "prometheus $n did not start (attempt $attempt)"
	done
	fail "prometheus $n could not listen on any port"
}

# reloader_n N: `flowmon reloader` for Prometheus N, polling only. Sets
# R_PID[N], R_URL[N] (its /metrics server), R_LOG[N].
reloader_n() {
	local n=$1 port attempt
	for attempt in 1 2 3; do
		free_port port
		R_LOG[n]=$IT_TMP/reloader.$n.log
		R_URL[n]=http://127.0.0.1:$port
		"$FLOWMON" reloader --data-dir "$DATA" \
		    --reload-url "${P_URL[n]}/-/reload" \
		    --listen "127.0.0.1:$port" --no-inotify \
		    --poll-interval "${POLL_S}s" --reload-delay "$DELAY" \
		    >"${R_LOG[n]}" 2>&1 &
		R_PID[n]=$!
		track "${R_PID[n]}"
		if wait_until 20 eval "alive ${R_PID[n]} && http_ok ${R_URL[n]}/metrics"; then
			say "reloader $n up, metrics on ${R_URL[n]} (pid ${R_PID[n]})"
			return 0
		fi
		alive "${R_PID[n]}" && fail "reloader $n does not serve /metrics"
		wait "${R_PID[n]}"
		grep -qi 'cannot listen' "${R_LOG[n]}" ||
			fail "reloader $n did not start (attempt $attempt)"
	done
	fail "reloader $n could not listen on any port"
}

# r_metric N SERIES: a series of reloader N's /metrics.
r_metric() {
	curl -sf --max-time 10 "${R_URL[$1]}/metrics" |
	    awk -v s="$2" '$1 == s { print $2; found = 1 } END { exit !found }'
}

# r_idle N: reloader N owes no reload and its last one succeeded.
r_idle() {
	[ "$(r_metric "$1" flowmon_reloader_reload_pending)" = 0 ] &&
	    [ "$(r_metric "$1" flowmon_reloader_last_reload_successful)" = 1 ]
}

# p_reloads N: reload requests Prometheus N answered (its own counter).
p_reloads() {
	curl -sf --max-time 10 "${P_URL[$1]}/metrics" | awk '
		/^prometheus_http_requests_total\{/ && /handler="\/-\/reload"/ {
			n += $NF
		}
		END { printf "%d\n", n }'
}

# p_groups N PREFIX: rule groups of Prometheus N whose name starts so.
p_groups() {
	curl -sf --max-time 10 "${P_URL[$1]}/api/v1/rules" | jq --arg p "$2" \
	    '[.data.groups[] | select(.name | startswith($p))] | length'
}

p_groups_are() { [ "$(p_groups "$1" "$2")" = "$3" ]; }

# p_query N GROUP: the query of the only rule of GROUP in Prometheus N.
p_query() {
	curl -sf --max-time 10 "${P_URL[$1]}/api/v1/rules" | jq -r --arg g "$2" \
	    '.data.groups[] | select(.name == $g) | .rules[0].query'
}

p_query_is() { [ "$(p_query "$1" "$2")" = "$3" ]; }

# polls_after N COUNT: reloader N has polled more than COUNT times.
polls_after() {
	local p
	p=$(r_metric "$1" 'flowmon_reloader_scans_total{trigger="poll"}') || return 1
	[ "$p" -gt "$2" ]
}

# quiet N: reloader N is idle and has polled once more since, seeing
# nothing new: no reload can still be on its way.
quiet() {
	local p
	wait_until 30 r_idle "$1" || fail "reloader $1 still owes a reload"
	p=$(r_metric "$1" 'flowmon_reloader_scans_total{trigger="poll"}')
	wait_until $((POLL_S * 3 + 5)) polls_after "$1" "$p" ||
		fail "reloader $1 stopped polling"
	r_idle "$1" || fail "reloader $1 found a change nobody made"
}

prom_n 1
prom_n 2
reloader_n 1
reloader_n 2
flowmon_start "$DATA"

check "each reloader reloads its Prometheus once at start, then idles"
for n in 1 2; do
	wait_until 20 r_idle "$n" || fail "reloader $n: no good start-up reload: $(tail -n 5 "${R_LOG[n]}")"
	[ "$(r_metric "$n" 'flowmon_reloader_reloads_total{outcome="success"}')" = 1 ] ||
		fail "reloader $n: $(r_metric "$n" 'flowmon_reloader_reloads_total{outcome="success"}') start-up reloads"
	[ "$(r_metric "$n" flowmon_reloader_inotify)" = 0 ] ||
		fail "reloader $n uses inotify despite --no-inotify"
	wait_until 10 eval "[ \"\$(p_reloads $n)\" = 1 ]" ||
		fail "prometheus $n got $(p_reloads "$n") reloads, expected 1"
done
ok "one start-up reload each"

# ---------------------------------------------------------------- 1
# seen_ms N K: the epoch ms of reloader N's Kth "rule files changed" line.
changes_logged() { grep -c 'msg="rule files changed"' "${R_LOG[$1]}"; }
seen_ms() {
	local ts
	ts=$(grep 'msg="rule files changed"' "${R_LOG[$1]}" | sed -n "$2p" |
	    sed -n 's/^ts=\([^ ]*\) .*/\1/p')
	[ -n "$ts" ] && date -d "$ts" +%s%3N
}
# Seen within the poll interval, with 1.5 s for a late wake-up.
SEEN_MS=$((POLL_S * 1000 + 1500))
check "a rule written by the daemon reaches both; each reloader sees it within poll ${POLL_S}s"
c1=$(changes_logged 1) c2=$(changes_logged 2)
reconfigure --data-urlencode serviceName=first --data-urlencode alertName=up \
    --data-urlencode 'alertIf=up == 0'
t0=$(date +%s%N)
[ -f "$DATA/rules/first.yml" ] || fail "no rules/first.yml after a 200"
for n in 1 2; do
	wait_until 30 p_groups_are "$n" first 1 ||
		fail "prometheus $n has no group 'first' 30 s after the write"
	c=$(eval echo "\$c$n")
	seen=$(seen_ms "$n" $((c + 1))) || fail "reloader $n logged no change"
	dt=$((seen - t0 / 1000000))
	[ "$dt" -le "$SEEN_MS" ] ||
		fail "reloader $n saw the change $dt ms after the write (polls every ${POLL_S}s)"
	say "  reloader $n saw it after $dt ms; prometheus $n has it after $((($(date +%s%N) - t0) / 1000000)) ms"
done
for n in 1 2; do
	p_query_is "$n" first 'up == 0' || fail "prometheus $n: query $(p_query "$n" first)"
done
ok "both loaded rule firstup"

check "it cost each Prometheus exactly one more reload"
for n in 1 2; do
	quiet "$n"
	[ "$(p_reloads "$n")" = 2 ] || fail "prometheus $n: $(p_reloads "$n") reloads, expected 2"
	[ "$(r_metric "$n" flowmon_reloader_changes_total)" = 1 ] ||
		fail "reloader $n counted $(r_metric "$n" flowmon_reloader_changes_total) changes"
	[ "$(r_metric "$n" flowmon_reloader_rule_files)" = 1 ] ||
		fail "reloader $n sees $(r_metric "$n" flowmon_reloader_rule_files) rule files"
	ts=$(r_metric "$n" flowmon_reloader_last_change_timestamp_seconds)
	[ "$ts" -ge $((t0 / 1000000000 - 1)) ] || fail "reloader $n: last change at $ts"
done
ok "2 reloads each (start-up + this one)"

# ---------------------------------------------------------------- 2
check "temp files, other names and a rewrite with the same bytes: no reload"
before1=$(p_reloads 1) before2=$(p_reloads 2)
printf 'half' >"$DATA/rules/.first.yml.tmp.1.1"
printf 'notes' >"$DATA/rules/README"
cp "$DATA/rules/first.yml" "$DATA/rules/.x.tmp" && mv "$DATA/rules/.x.tmp" "$DATA/rules/first.yml"
for n in 1 2; do
	quiet "$n"
	[ "$(p_reloads "$n")" = "$(eval echo "\$before$n")" ] ||
		fail "prometheus $n was reloaded for a change that changed nothing"
done
rm -f "$DATA/rules/.first.yml.tmp.1.1" "$DATA/rules/README"
ok "no reload"

# ---------------------------------------------------------------- 3
N=200
check "a burst of $N rule changes (xargs -P8) costs each Prometheus at most 2 reloads"
before1=$(p_reloads 1) before2=$(p_reloads 2)
t0=$(date +%s%N)
# shellcheck disable=SC2016 # expanded by the inner bash
seq -w 1 "$N" | xargs -P8 -I{} bash -c '
	curl -s --max-time 60 -o /dev/null -w "%{http_code}\n" -G \
	    --data-urlencode serviceName=burst-{} --data-urlencode alertName=hi \
	    --data-urlencode "alertIf=up{job=\"burst-{}\"} > 1{}" \
	    "$0/v1/docker-flow-monitor/reconfigure"' "$FLOWMON_URL" \
    >"$IT_TMP/burst.codes"
say "  $N reconfigures answered in $((($(date +%s%N) - t0) / 1000000)) ms"
[ "$(grep -c '^200$' "$IT_TMP/burst.codes")" = "$N" ] ||
	fail "not every reconfigure answered 200: $(sort "$IT_TMP/burst.codes" | uniq -c | tr '\n' ' ')"
[ "$(find "$DATA/rules" -name 'burst-*.yml' | wc -l)" = "$N" ] ||
	fail "expected $N burst rule files"
for n in 1 2; do
	wait_until $((POLL_S + DELAY_S + 20)) p_groups_are "$n" burst- "$N" ||
		fail "prometheus $n has $(p_groups "$n" burst-) of $N burst groups"
	p_query_is "$n" burst-137 'up{job="burst-137"} > 1137' ||
		fail "prometheus $n: burst-137 query is $(p_query "$n" burst-137)"
done
ok "both loaded all $N groups"
for n in 1 2; do
	quiet "$n"
	after=$(p_reloads "$n")
	before=$(eval echo "\$before$n")
	cost=$((after - before))
	say "  prometheus $n: $cost reload(s) for the burst"
	[ "$cost" -ge 1 ] && [ "$cost" -le 2 ] ||
		fail "prometheus $n: the burst cost $cost reloads ($before -> $after), allowed 1..2"
	[ "$(r_metric "$n" 'flowmon_reloader_reloads_total{outcome="failure"}')" = 0 ] ||
		fail "reloader $n had failed reloads"
	[ "$(r_metric "$n" flowmon_reloader_rule_files)" = $((N + 1)) ] ||
		fail "reloader $n sees $(r_metric "$n" flowmon_reloader_rule_files) rule files"
done
ok "at most 2 reloads each"

# ---------------------------------------------------------------- 4
check "a removed rule file is unloaded too"
fm_expect 200 $API/remove -G --data-urlencode serviceName=first
for n in 1 2; do
	wait_until 30 p_groups_are "$n" first 0 ||
		fail "prometheus $n still has group 'first'"
done
ok "group 'first' gone from both"

check "SIGTERM stops each reloader cleanly (exit status 0)"
for n in 1 2; do
	stop_pid "${R_PID[n]}" 30 || fail "reloader $n ignored SIGTERM"
	[ "$STOP_STATUS" = 0 ] || fail "reloader $n exited with status $STOP_STATUS: $(tail -n 20 "${R_LOG[n]}")"
	grep -q 'flowmon reloader stopping' "${R_LOG[n]}" || fail "reloader $n did not log its stop"
done
ok "both stopped"

check "bad invocations exit 2 with a message"
out=$("$FLOWMON" reloader --data-dir "$DATA" 2>&1 </dev/null)
rc=$?
[ "$rc" = 2 ] && grep -q -- '--reload-url is required' <<<"$out" ||
	fail "without --reload-url: status $rc, '$out'"
out=$("$FLOWMON" reloader --reload-url ftp://x --data-dir "$DATA" 2>&1 </dev/null)
rc=$?
[ "$rc" = 2 ] && grep -q 'http://' <<<"$out" || fail "ftp URL: status $rc, '$out'"
out=$("$FLOWMON" reloader --reload-url http://x --poll-interval 1 2>&1 </dev/null)
rc=$?
[ "$rc" = 2 ] && grep -q 'poll-interval' <<<"$out" || fail "bad poll interval: status $rc, '$out'"
"$FLOWMON" reloader --help | grep -q -- '--no-inotify' || fail "--help does not list --no-inotify"
ok "exit 2 and a reason"

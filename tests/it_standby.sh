#!/bin/bash
# tests/it_standby.sh: issue 13, one writer per data dir, against the real
# daemon: with flowmon A serving a data dir,
#   - a second flowmon without --standby exits 1 at once, naming the lock
#     file and its holder (A's pid and host), and changes nothing;
#   - one with --standby (FLOWMON_STANDBY) answers ping 200 ("standby":
#     true) and every other endpoint 503 with Retry-After, changing nothing;
#   - A killed with SIGKILL: the standby takes the lock within about a
#     second (its poll is 250 ms; the time is read from its own log line,
#     so loading and this script's polling on a busy machine do not count)
#     and serves as the active daemon, with every record of A loaded, and
#     takes writes;
#   - an active daemon stopped with SIGTERM hands over to a waiting standby
#     the same way; a standby stopped with SIGTERM exits 0.
# Run by tests/run-integration.sh with FLOWMON set (FLOWMON_WRAP optional).
. "$(dirname "$0")/lib.sh"

API=/v1/docker-flow-monitor
DATA=$IT_TMP/data
mkdir -p "$DATA"

# start_other LOGNAME [ARGS...]: one more flowmon on DATA (not waited for);
# sets OTHER_PID, OTHER_URL, OTHER_PORT, OTHER_LOG.
start_other() {
	local name=$1
	shift
	free_port OTHER_PORT
	OTHER_URL=http://127.0.0.1:$OTHER_PORT
	OTHER_LOG=$IT_TMP/$name.log
	# shellcheck disable=SC2086 # FLOWMON_WRAP is a command line
	${FLOWMON_WRAP:+$FLOWMON_WRAP} "$FLOWMON" --listen "127.0.0.1:$OTHER_PORT" \
	    --data-dir "$DATA" --promtool none "$@" >"$OTHER_LOG" 2>&1 &
	OTHER_PID=$!
	track "$OTHER_PID"
}
# code_of URL [CURL ARGS...]: the status code of one request.
code_of() {
	local url=$1
	shift
	curl -s -o "$IT_TMP/body" -D "$IT_TMP/headers" --max-time 10 \
	    -w '%{http_code}' "$@" "$url"
}
standby_ping() {
	[ "$(code_of "$OTHER_URL$API/ping")" = 200 ] &&
	    jq -e '.standby == true' "$IT_TMP/body" >/dev/null
}
# lock_taken_after LOG T0: ms from T0 (epoch ms) to the standby's "data dir
# lock taken" line in LOG (its logfmt ts), or nothing if there is none.
lock_taken_after() {
	local ts
	ts=$(sed -n 's/^ts=\([^ ]*\) .*msg="data dir lock taken: the standby takes over".*/\1/p' "$1" |
	    head -n 1)
	[ -n "$ts" ] && echo $(($(date -d "$ts" +%s%3N) - $2))
}
services_are() {	# services_are URL N: /services lists N services
	[ "$(code_of "$1$API/services")" = 200 ] &&
	    [ "$(jq length "$IT_TMP/body")" = "$2" ]
}

flowmon_start "$DATA" --promtool none
A_PID=$FLOWMON_PID
for s in web api db; do
	reconfigure --data-urlencode serviceName=$s --data-urlencode targets=127.0.0.1:9100
done
before=$(snapshot_dir "$DATA")

check "a second flowmon without --standby exits 1 at once, naming the lock and its holder"
t0=$(date +%s%N)
start_other second
wait_until 10 eval "! kill -0 $OTHER_PID 2>/dev/null" || fail "the second flowmon is still running"
wait "$OTHER_PID"
rc=$?
dt=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" = 1 ] || fail "the second flowmon exited $rc, not 1"
[ "$dt" -lt 5000 ] || fail "the second flowmon took $dt ms to give up"
grep -q "level=error msg=\"the data dir is locked by another flowmon: run one per data dir, or add --standby\" lock=$DATA/.flowmon.lock holder=\"pid $A_PID on host $(hostname)\"" \
    "$OTHER_LOG" || fail "message: $(cat "$OTHER_LOG")"
[ "$(snapshot_dir "$DATA")" = "$before" ] || fail "the second flowmon changed the data dir"
ok "exit 1 after $dt ms: $(grep -o 'lock=.*' "$OTHER_LOG")"

check "a standby (FLOWMON_STANDBY): ping 200, every other endpoint 503 with Retry-After"
FLOWMON_STANDBY=true start_other standby
B_PID=$OTHER_PID
B_URL=$OTHER_URL
wait_alive 20 "$B_PID" standby_ping || fail "the standby does not answer ping: $(cat "$OTHER_LOG")"
grep -q "msg=\"standby: another flowmon holds the data dir, waiting for its lock\" lock=$DATA/.flowmon.lock holder=\"pid $A_PID on host" \
    "$OTHER_LOG" || fail "no standby line in the log: $(cat "$OTHER_LOG")"
for req in "$API/reconfigure?serviceName=x&targets=127.0.0.1:9100" \
    "$API/remove?serviceName=web" "$API/services" "$API/services/web" \
    "$API/sd" "$API/files" /metrics "$API/node/reconfigure?id=n1"; do
	code=$(code_of "$B_URL$req")
	[ "$code" = 503 ] || fail "standby: $req answered $code: $(cat "$IT_TMP/body")"
	grep -qi '^Retry-After: 1' "$IT_TMP/headers" || fail "standby: $req: 503 without Retry-After"
done
jq -e --arg l "$DATA/.flowmon.lock" '.Status == 503 and (.Message | contains($l))' \
    "$IT_TMP/body" >/dev/null || fail "503 body: $(cat "$IT_TMP/body")"
[ "$(snapshot_dir "$DATA")" = "$before" ] || fail "the standby changed the data dir"
ok "$(cat "$IT_TMP/body")"

check "SIGKILL the active flowmon: the standby takes the lock within about a second, serves, records loaded"
reconfigure --data-urlencode serviceName=last --data-urlencode targets=127.0.0.1:9200
t0=$(date +%s%N)
B_LOG=$OTHER_LOG
exec 3>&2 2>/dev/null
kill -KILL "$A_PID"
wait "$A_PID"
exec 2>&3 3>&-
FLOWMON_PID=""
IT_PIDS=$(printf '%s' "$IT_PIDS" | sed "s/ $A_PID / /")
wait_alive 10 "$B_PID" services_are "$B_URL" 4 || fail "the standby did not take over: $(tail -n 5 "$OTHER_LOG")"
dt=$((($(date +%s%N) - t0) / 1000000))
lk=$(lock_taken_after "$B_LOG" $((t0 / 1000000))) || fail "no takeover line: $(tail -n 5 "$B_LOG")"
[ "$lk" -lt 1500 ] || fail "the standby took the lock $lk ms after the kill (it polls every 250 ms)"
[ "$(code_of "$B_URL$API/ping")" = 200 ] && jq -e 'has("standby") | not' "$IT_TMP/body" >/dev/null ||
	fail "ping after the takeover: $(cat "$IT_TMP/body")"
code=$(code_of "$B_URL$API/reconfigure?serviceName=after&targets=127.0.0.1:9300")
[ "$code" = 200 ] || fail "reconfigure on the new active: $code $(cat "$IT_TMP/body")"
[ -f "$DATA/targets/after.json" ] || fail "no targets/after.json"
jq -e '.[0].targets == ["127.0.0.1:9200"]' "$DATA/targets/last.json" >/dev/null ||
	fail "the last acknowledged request of A is lost"
grep -q "pid $B_PID on host" "$DATA/.flowmon.lock" || fail "lock file: $(cat "$DATA/.flowmon.lock")"
ok "lock taken $lk ms after the kill, served after $dt ms with 4 services; reconfigure 200; the lock file names pid $B_PID"

check "SIGTERM the active flowmon: a waiting standby takes over; a standby stops with exit 0"
start_other standby2 --standby
C_PID=$OTHER_PID
C_URL=$OTHER_URL
C_LOG=$OTHER_LOG
wait_alive 20 "$C_PID" standby_ping || fail "the second standby does not answer ping"
start_other standby3 --standby
D_PID=$OTHER_PID
wait_alive 20 "$D_PID" standby_ping || fail "the third standby does not answer ping"
stop_pid "$D_PID" 20 || fail "a standby ignored SIGTERM"
[ "$STOP_STATUS" = 0 ] || fail "a standby exited $STOP_STATUS after SIGTERM"
t0=$(date +%s%N)
stop_pid "$B_PID" 20 || fail "the active flowmon ignored SIGTERM"
[ "$STOP_STATUS" = 0 ] || fail "the active flowmon exited $STOP_STATUS"
wait_alive 10 "$C_PID" services_are "$C_URL" 5 || fail "the second standby did not take over"
dt=$((($(date +%s%N) - t0) / 1000000))
# From the active one's exit (its last log line) to the lock taken.
gone=$(sed -n 's/^ts=\([^ ]*\) .*/\1/p' "$B_LOG" | tail -n 1)
lk=$(lock_taken_after "$C_LOG" "$(date -d "$gone" +%s%3N)") ||
	fail "no takeover line: $(tail -n 5 "$C_LOG")"
[ "$lk" -lt 1500 ] || fail "the standby took the lock $lk ms after the active one stopped (it polls every 250 ms)"
ok "standby exit 0; lock taken $lk ms after the active one stopped, served $dt ms after SIGTERM, 5 services"
stop_pid "$C_PID" 20 || fail "flowmon ignored SIGTERM"
[ "$STOP_STATUS" = 0 ] || fail "flowmon exited $STOP_STATUS"

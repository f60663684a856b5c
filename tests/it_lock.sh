#!/bin/bash
# tests/it_lock.sh: issue 20, one writer per data dir whatever happens to
# the lock file. A lock is on a file; `rm <data>/.flowmon.lock` makes the
# path name no file, and the next flowmon would lock a new one while the
# holder still runs. Against the real daemon:
#   1. active A and standby S; the lock file removed: A refuses the very
#      next write (500, Errno ENOLCK: the store checks the lock before each
#      change) and stops within a second with status 1 and an error line;
#      S takes over on a lock file of its own, with A's records;
#   2. active S, standby T; the lock file removed and a plain flowmon C
#      started at once (the issue's scenario): S stops, and from then on
#      exactly one of T and C is active, the other waits (503) or has
#      exited 1; a service removed through the active one is never written
#      back; SIGKILL of the active one: a waiting standby takes over, and
#      the removed service stays removed.
# Run by tests/run-integration.sh with FLOWMON set (FLOWMON_WRAP optional).
. "$(dirname "$0")/lib.sh"

API=/v1/docker-flow-monitor
DATA=$IT_TMP/data
LOCK=$DATA/.flowmon.lock
mkdir -p "$DATA"

# start_other NAME [ARGS...]: one more flowmon on DATA (not waited for);
# its pid, URL and log in PID_<NAME>, URL_<NAME>, LOG_<NAME>.
start_other() {
	local name=$1 port
	shift
	free_port port
	printf -v "URL_$name" 'http://127.0.0.1:%s' "$port"
	printf -v "LOG_$name" '%s/%s.log' "$IT_TMP" "$name"
	# shellcheck disable=SC2086 # FLOWMON_WRAP is a command line
	${FLOWMON_WRAP:+$FLOWMON_WRAP} "$FLOWMON" --listen "127.0.0.1:$port" \
	    --data-dir "$DATA" --promtool none "$@" >"$IT_TMP/$name.log" 2>&1 &
	printf -v "PID_$name" '%s' "$!"
	track "$!"
}
code_of() {	# code_of URL: the status code (000: no answer), body in $IT_TMP/body
	curl -s -o "$IT_TMP/body" --max-time 10 -w '%{http_code}' "$1"
}
# role URL: active (200 on /services), standby (503), or down.
role() {
	case $(code_of "$1$API/services") in
	200) echo active ;;
	503) echo standby ;;
	*) echo down ;;
	esac
}
is_role() { [ "$(role "$1")" = "$2" ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }
# exited_with PID STATUS: PID has exited with STATUS (reaped here).
exited_with() {
	local rc
	wait_until 10 gone "$1" || return 1
	wait "$1"
	rc=$?
	IT_PIDS=$(printf '%s' "$IT_PIDS" | sed "s/ $1 / /")
	[ "$rc" = "$2" ] || { say "pid $1 exited $rc, not $2"; return 1; }
}

flowmon_start "$DATA" --promtool none
PID_A=$FLOWMON_PID
URL_A=$FLOWMON_URL
for s in web api; do
	reconfigure --data-urlencode serviceName=$s --data-urlencode targets=127.0.0.1:9100
done
start_other S --standby
wait_alive 20 "$PID_S" is_role "$URL_S" standby || fail "S is not waiting as a standby"

check "lock file removed: A refuses the next write at once and stops with status 1"
rm "$LOCK"
code=$(code_of "$URL_A$API/reconfigure?serviceName=late&targets=127.0.0.1:9200")
case $code in
500) jq -e '.Errno == "ENOLCK" and (.Message | contains("no longer the file this flowmon locked"))' \
	"$IT_TMP/body" >/dev/null || fail "A's 500: $(cat "$IT_TMP/body")" ;;
000) ;;	# A had stopped already
*) fail "A answered $code to a write after its lock file went: $(cat "$IT_TMP/body")" ;;
esac
[ ! -e "$DATA/state/late.json" ] && [ ! -e "$DATA/targets/late.json" ] ||
	fail "A wrote after its lock file was removed"
FLOWMON_PID=""
exited_with "$PID_A" 1 || fail "A did not stop with status 1: $(tail -n 5 "$FLOWMON_LOG")"
grep -q "level=error msg=\"data dir lock lost: stopping\" lock=$LOCK" "$FLOWMON_LOG" ||
	fail "no clear error line from A: $(tail -n 5 "$FLOWMON_LOG")"
ok "write answered $code; A exited 1: $(grep -o 'msg="data dir lock lost.*' "$FLOWMON_LOG" | cut -c1-90)..."

check "the standby takes over on a lock file of its own, with A's records"
wait_alive 10 "$PID_S" is_role "$URL_S" active || fail "S did not take over: $(tail -n 5 "$LOG_S")"
[ "$(jq length "$IT_TMP/body")" = 2 ] || fail "S serves $(cat "$IT_TMP/body")"
grep -q "pid $PID_S on host" "$LOCK" || fail "lock file: $(cat "$LOCK" 2>&1)"
ok "S active with 2 services; $LOCK names pid $PID_S"

check "lock file removed and a plain flowmon C started at once: one writer"
start_other T --standby
wait_alive 20 "$PID_T" is_role "$URL_T" standby || fail "T is not waiting as a standby"
rm "$LOCK"
start_other C
exited_with "$PID_S" 1 || fail "S did not stop: $(tail -n 5 "$LOG_S")"
grep -q 'msg="data dir lock lost: stopping"' "$LOG_S" || fail "no error line from S"
# Settled: one of T and C active, the other waiting or exited 1.
settled() {
	local t c
	t=$(role "$URL_T")
	c=$(role "$URL_C")
	[ "$t $c" = "active down" ] && gone "$PID_C" && return 0
	[ "$t $c" = "standby active" ] && return 0
	[ "$t $c" = "active standby" ] && return 0	# C is a plain daemon: never
	return 1
}
wait_until 10 settled || fail "not settled: T $(role "$URL_T"), C $(role "$URL_C")"
if [ "$(role "$URL_C")" = active ]; then
	ACTIVE=C
	OTHER=T
else
	ACTIVE=T
	OTHER=C
	exited_with "$PID_C" 1 || fail "C did not exit 1"
	grep -q 'the data dir is locked by another flowmon' "$LOG_C" || fail "C: $(cat "$LOG_C")"
fi
active_url=URL_$ACTIVE
active_pid=PID_$ACTIVE
other_url=URL_$OTHER
grep -q "pid ${!active_pid} on host" "$LOCK" || fail "lock file: $(cat "$LOCK" 2>&1)"
ok "S exited 1; $ACTIVE active (the lock file names it), $OTHER $(role "${!other_url}")"

check "a service removed through the active one stays removed"
[ "$(code_of "${!active_url}$API/remove?serviceName=web")" = 200 ] ||
	fail "remove: $(cat "$IT_TMP/body")"
[ ! -e "$DATA/targets/web.json" ] && [ ! -e "$DATA/state/web.json" ] || fail "web's files stayed"
# Nothing but the active one may write: every other daemon refuses writes.
if [ "$OTHER" = T ]; then
	[ "$(code_of "$URL_T$API/reconfigure?serviceName=web&targets=127.0.0.1:9100")" = 503 ] ||
		fail "the standby took a write"
fi
ok "web removed; the other daemon takes no writes"

check "SIGKILL the active one: a waiting standby takes over; web stays removed"
if [ "$OTHER" = C ]; then
	start_other U --standby
	wait_alive 20 "$PID_U" is_role "$URL_U" standby || fail "U is not waiting as a standby"
	NEXT=U
else
	NEXT=T
fi
next_url=URL_$NEXT
next_pid=PID_$NEXT
kill -KILL "${!active_pid}"
wait "${!active_pid}" 2>/dev/null
IT_PIDS=$(printf '%s' "$IT_PIDS" | sed "s/ ${!active_pid} / /")
wait_alive 10 "${!next_pid}" is_role "${!next_url}" active || fail "$NEXT did not take over"
jq -e 'length == 1 and .[0].serviceName == "api"' "$IT_TMP/body" >/dev/null ||
	fail "$NEXT serves $(cat "$IT_TMP/body")"
[ ! -e "$DATA/targets/web.json" ] && [ ! -e "$DATA/state/web.json" ] || fail "web came back"
[ "$(code_of "${!next_url}$API/services/web")" = 404 ] || fail "services/web: $(cat "$IT_TMP/body")"
ok "$NEXT active with api only; web stays removed"

#!/bin/bash
# tests/it_start.sh: issue 20, small things the start and the parser say,
# against the real daemon:
#   - --reload-url none (as --help says) means no reload: it starts, and a
#     rule change asks for none;
#   - promtool missing from PATH (the default --promtool): one warning line
#     at start says rule files are not checked by promtool; --promtool
#     none says nothing;
#   - alertLabels=__name__=x is a 400 naming alertLabels, from flowmon's
#     own checks (promtool on or off), not one blaming alertIf;
#   - every URL option refused the same way: exit status 2 and the option
#     named, before anything starts (no data dir, no log line).
# Run by tests/run-integration.sh with FLOWMON set (FLOWMON_WRAP optional).
. "$(dirname "$0")/lib.sh"

API=/v1/docker-flow-monitor
it_require promtool prometheus

check "--reload-url none: starts, reloads nothing"
flowmon_start "$IT_TMP/d1" --reload-url none --promtool none
reconfigure --data-urlencode serviceName=web --data-urlencode targets=127.0.0.1:9100 \
    --data-urlencode alertName=down --data-urlencode 'alertIf=up == 0'
fm_metric 'flowmon_reloads_total{outcome="success"}' >"$IT_TMP/reloads" 2>/dev/null || echo 0 >"$IT_TMP/reloads"
[ "$(cat "$IT_TMP/reloads")" = 0 ] || fail "a reload was made: $(cat "$IT_TMP/reloads")"
fm_expect 200 $API/services/web
jq -e '.reload == null or .reload.lastError == null or .reload.lastError == ""' \
    <<<"$HTTP_BODY" >/dev/null || fail "services/web: $(jq -c .reload <<<"$HTTP_BODY")"
grep -q 'msg="flowmon started".*reload_url=""' "$FLOWMON_LOG" ||
	fail "start line: $(grep 'flowmon started' "$FLOWMON_LOG")"
! grep -q 'promtool is not on PATH' "$FLOWMON_LOG" || fail "--promtool none warned"
flowmon_stop || fail "flowmon did not stop cleanly"
ok "started with no reload URL; the rule change reloaded nothing"

check "promtool not on PATH: one warning at start"
# Started by hand: a PATH without promtool is the daemon's alone.
mkdir -p "$IT_TMP/bin"
free_port P2
env PATH="$IT_TMP/bin" "$FLOWMON" --listen "127.0.0.1:$P2" --data-dir "$IT_TMP/d2" \
    >"$IT_TMP/d2.log" 2>&1 &
P2_PID=$!
track "$P2_PID"
wait_alive 20 "$P2_PID" grep -qs 'msg="flowmon started"' "$IT_TMP/d2.log" ||
	fail "flowmon did not start: $(cat "$IT_TMP/d2.log")"
stop_pid "$P2_PID" 20 || fail "flowmon ignored SIGTERM"
[ "$(grep -c 'level=warn msg="promtool is not on PATH: rule files are not checked' "$IT_TMP/d2.log")" = 1 ] ||
	fail "no (or more than one) warning: $(head -n 5 "$IT_TMP/d2.log")"
ok "$(grep -o 'msg="promtool is not on PATH[^"]*"' "$IT_TMP/d2.log" | cut -c1-90)..."

check "alertLabels=__name__=x: 400 naming alertLabels, promtool on and off"
for pt in promtool none; do
	flowmon_start "$IT_TMP/d3-$pt" --promtool "$pt"
	fm "$API/reconfigure" -G --data-urlencode serviceName=web \
	    --data-urlencode targets=127.0.0.1:9100 --data-urlencode alertName=down \
	    --data-urlencode 'alertIf=up == 0' --data-urlencode 'alertLabels=severity=page,__name__=x'
	[ "$HTTP_CODE" = 400 ] || fail "--promtool $pt: $HTTP_CODE $HTTP_BODY"
	jq -e '.Message | startswith("alertLabels item 2: label __name__ is reserved")' \
	    <<<"$HTTP_BODY" >/dev/null || fail "--promtool $pt: $HTTP_BODY"
	[ ! -e "$IT_TMP/d3-$pt/state/web.json" ] || fail "a record was written"
	flowmon_stop || fail "flowmon did not stop cleanly"
done
ok "$(jq -r .Message <<<"$HTTP_BODY")"

check "a bad URL option: exit 2 naming it, before anything starts"
for opt in "--listener-address=sl/x" "--prometheus-url=prometheus:9090" \
    "--reload-url=http://u:pw@" "--get-nodes-url=ftp://h/" \
    "--alertmanager-url=http://am:9093,nope" "--docker-host=ftp://d"; do
	rc=0
	"$FLOWMON" --listen 127.0.0.1:1 --data-dir "$IT_TMP/d4" "$opt" \
	    >"$IT_TMP/d4.out" 2>"$IT_TMP/d4.err" || rc=$?
	[ "$rc" = 2 ] || fail "$opt: exit status $rc: $(cat "$IT_TMP/d4.err")"
	grep -q "^flowmon: ${opt%%=*} \"" "$IT_TMP/d4.err" ||
		fail "$opt: $(cat "$IT_TMP/d4.err")"
	! grep -q 'level=' "$IT_TMP/d4.err" || fail "$opt: started: $(cat "$IT_TMP/d4.err")"
	[ ! -e "$IT_TMP/d4" ] || fail "$opt: the data dir was made"
done
rc=0
LISTENER_ADDRESS="sl,sl/x" "$FLOWMON" --listen 127.0.0.1:1 --data-dir "$IT_TMP/d4" \
    2>"$IT_TMP/d4.err" || rc=$?
[ "$rc" = 2 ] && grep -q '^flowmon: LISTENER_ADDRESS ' "$IT_TMP/d4.err" ||
	fail "LISTENER_ADDRESS: $rc $(cat "$IT_TMP/d4.err")"
ok "$(head -n 1 "$IT_TMP/d4.err")"

#!/bin/bash
# tests/it_limits.sh: issue 7, limits, against the real daemon: each limit
# set low by its flag (or variable) and crossed once, with a clear 4xx and
# nothing on disk changed:
#   --max-body -> 413, --max-header-bytes -> 431 (414 for a long request
#   line), --max-alerts and --max-rule-bytes -> 400 naming the flag,
#   --max-connections -> 429 with Retry-After (ping exempt), --connection-timeout -> an
#   idle connection is closed; the daemon serves normally afterwards.
# Run by tests/run-integration.sh with FLOWMON set (FLOWMON_WRAP optional).
. "$(dirname "$0")/lib.sh"

API=/v1/docker-flow-monitor
DATA=$IT_TMP/data
mkdir -p "$DATA"

FLOWMON_MAX_CONNECTIONS=3 flowmon_start "$DATA" --max-body 2048 \
    --max-header-bytes 16384 --connection-timeout 2s --max-alerts 2 \
    --max-rule-bytes 2048

unchanged_since() {
	[ "$(snapshot_dir "$DATA")" = "$1" ] || fail "$2 changed the data dir"
}

before=$(snapshot_dir "$DATA")

check "--max-body 2048: a 4 KiB form body is refused with 413"
body="serviceName=web&targets=127.0.0.1:9100&pad=$(head -c 4096 /dev/zero | tr '\0' x)"
fm_expect 413 $API/reconfigure --data "$body"
grep -q 'larger than --max-body (2048 bytes)' <<<"$HTTP_BODY" ||
	fail "413 does not name the limit: $HTTP_BODY"
unchanged_since "$before" "a refused body"
ok "$HTTP_BODY"

check "--max-header-bytes 16384: 20 KiB of headers -> 431, a 20 KiB URL -> 414"
fm_expect 431 $API/ping -H "X-Padding: $(head -c 20000 /dev/zero | tr '\0' a)"
fm_expect 414 "$API/reconfigure?serviceName=web&pad=$(head -c 20000 /dev/zero | tr '\0' a)"
unchanged_since "$before" "a refused header"
fm_expect 200 $API/ping -H "X-Padding: $(head -c 8000 /dev/zero | tr '\0' a)"
ok "431 and 414 from libmicrohttpd; 8 KiB of headers still fine"

check "--max-alerts 2: a third alert is refused with 400"
fm_expect 400 $API/reconfigure -G --data-urlencode serviceName=web \
    --data-urlencode targets=127.0.0.1:9100 \
    --data-urlencode alertName.1=a --data-urlencode 'alertIf.1=up == 0' \
    --data-urlencode alertName.2=b --data-urlencode 'alertIf.2=up == 0' \
    --data-urlencode alertName.3=c --data-urlencode 'alertIf.3=up == 0'
grep -q 'has 3 alerts, more than --max-alerts (2)' <<<"$HTTP_BODY" ||
	fail "400 does not name the limit: $HTTP_BODY"
unchanged_since "$before" "too many alerts"
ok "$HTTP_BODY"
reconfigure --data-urlencode serviceName=web \
    --data-urlencode targets=127.0.0.1:9100 \
    --data-urlencode alertName.1=a --data-urlencode 'alertIf.1=up == 0' \
    --data-urlencode alertName.2=b --data-urlencode 'alertIf.2=up == 0'
ok "two alerts accepted"

check "--max-rule-bytes 2048: a rule file of ~3 KiB is refused with 400"
before=$(snapshot_dir "$DATA")
long="up{instance=\"$(head -c 1500 /dev/zero | tr '\0' i)\"} == 0"
fm_expect 400 $API/reconfigure -G --data-urlencode serviceName=web \
    --data-urlencode targets=127.0.0.1:9100 \
    --data-urlencode alertName.1=a --data-urlencode "alertIf.1=$long" \
    --data-urlencode alertName.2=b --data-urlencode "alertIf.2=$long"
grep -q 'more than --max-rule-bytes (2048)' <<<"$HTTP_BODY" ||
	fail "400 does not name the limit: $HTTP_BODY"
unchanged_since "$before" "a rule file over the limit"
ok "$(jq -r .Message <<<"$HTTP_BODY")"

check "--max-connections 3 (from FLOWMON_MAX_CONNECTIONS): a fourth connection gets 429"
exec 5<>/dev/tcp/127.0.0.1/"$FLOWMON_PORT" 6<>/dev/tcp/127.0.0.1/"$FLOWMON_PORT" \
    7<>/dev/tcp/127.0.0.1/"$FLOWMON_PORT"
over_limit() {
	HTTP_CODE=$(curl -s -D "$IT_TMP/headers" -o "$IT_TMP/body" -w '%{http_code}' \
	    --max-time 5 "$FLOWMON_URL$API/services")
	[ "$HTTP_CODE" = 429 ]
}
wait_until 5 over_limit || fail "4th connection got $HTTP_CODE, not 429"
grep -qi '^Retry-After: 1' "$IT_TMP/headers" || fail "429 without Retry-After"
grep -q 'too many connections' "$IT_TMP/body" || fail "429 body: $(cat "$IT_TMP/body")"
ok "$(cat "$IT_TMP/body")"
fm_expect 200 $API/ping
ok "ping, the health check, is still served"
exec 5>&- 6>&- 7>&-
wait_until 10 http_ok "$FLOWMON_URL$API/services" ||
	fail "services not 200 after the idle connections closed"
ok "served again once the connections closed"

check "--connection-timeout 2s: an idle connection is closed by the server"
exec 5<>/dev/tcp/127.0.0.1/"$FLOWMON_PORT"
t0=$(date +%s%N)
timeout 20 cat <&5 >/dev/null
rc=$?
exec 5>&-
dt=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" -ne 124 ] || fail "an idle connection stayed open for 20 s"
[ "$dt" -ge 1000 ] && [ "$dt" -le 10000 ] ||
	fail "idle connection closed after $dt ms, expected about 2000"
ok "closed after $dt ms"

check "bad limit values are refused at start"
for args in "--max-alerts 102" "--max-connections 0" "--max-header-bytes 100" \
    "--connection-timeout 0s" "--max-rule-bytes x"; do
	# shellcheck disable=SC2086
	if "$FLOWMON" --data-dir "$DATA" $args >"$IT_TMP/bad.log" 2>&1; then
		fail "flowmon accepted $args"
	fi
	grep -q "flowmon: ${args%% *} " "$IT_TMP/bad.log" ||
		fail "$args: no clear message: $(cat "$IT_TMP/bad.log")"
done
ok "$(head -n 1 "$IT_TMP/bad.log")"

check "the daemon still works normally"
reconfigure --data-urlencode serviceName=api --data-urlencode targets=127.0.0.1:9200
[ -f "$DATA/targets/api.json" ] || fail "no targets/api.json"
ok "reconfigure 200"

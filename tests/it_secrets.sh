#!/bin/bash
# tests/it_secrets.sh: issue 13, secrets never leave, against the real
# daemon:
#   - a reload URL and a listener address with user:password@ are shown as
#     user:***@ in the start log, in every reload error, in reload.lastError
#     of GET /services/<name> and in the listener's log lines; the password
#     appears in no log line and no answer;
#   - --reload-auth-file authenticates the reloads: user:password as basic
#     auth, a token (FLOWMON_RELOAD_AUTH_FILE) as a bearer token, checked by
#     a stand-in reload endpoint (tests/fake_reload.py); wrong credentials
#     are a clear reload error; a missing file keeps flowmon from starting;
#   - prometheus.yml written by --prometheus-config is 0600 when it holds a
#     password (basic_auth, or in a URL), 0644 when it holds none;
#   - issue 20: passwords holding / # ? @ % (percent-encoded) and a token
#     given as the URL's user name are hidden in the start line, reload
#     errors, reload.lastError and the listener's lines; unescaped, every
#     URL place (--reload-url, --get-nodes-url, --docker-host,
#     --listener-address, REMOTE_WRITE_1__URL) refuses them without ever
#     quoting the URL whole.
# Run by tests/run-integration.sh with FLOWMON set (FLOWMON_WRAP optional).
. "$(dirname "$0")/lib.sh"

API=/v1/docker-flow-monitor
FAKE=$(cd "$(dirname "$0")" && pwd)/fake_reload.py
PW=Sup3r-S3cret-pw
LPW=L1stener-pw-77

alert_reconfigure() {
	reconfigure --data-urlencode serviceName=web \
	    --data-urlencode targets=127.0.0.1:9100 --data-urlencode alertName=down \
	    --data-urlencode "alertIf=up == ${1:-0}"
}
# no_secret TEXT_FILE...: none of the passwords in any of the files.
no_secret() {
	local f s
	for f in "$@"; do
		for s in "$PW" "$LPW" "Pa55-w0rd" "tok-8d2e1f"; do
			! grep -qF -- "$s" "$f" || fail "$f holds \"$s\": $(grep -F -- "$s" "$f" | head -n 3)"
		done
	done
}

# ------------------------------------------------------------ redaction
check "reload URL and listener address with user:password@: shown as user:***@ everywhere"
free_port CLOSED
mkdir -p "$IT_TMP/d1"
LISTENER_ADDRESS="http://lis:$LPW@127.0.0.1:$CLOSED" flowmon_start "$IT_TMP/d1" \
    --promtool none --reload-delay 100ms \
    --reload-url "http://prom:$PW@127.0.0.1:$CLOSED/-/reload"
alert_reconfigure 0
grep -q "msg=\"flowmon started\".*reload_url=http://prom:\*\*\*@127.0.0.1:$CLOSED/-/reload" "$FLOWMON_LOG" ||
	fail "start line: $(grep 'flowmon started' "$FLOWMON_LOG")"
reload_failed_logged() {
	grep -q "msg=\"reload failed\".*POST http://prom:\*\*\*@127.0.0.1:$CLOSED/-/reload: connection refused" \
	    "$FLOWMON_LOG"
}
wait_until 15 reload_failed_logged || fail "no redacted reload error in the log"
listener_logged() {
	grep -q "msg=\"swarm-listener not answering, will retry\" url=http://lis:\*\*\*@127.0.0.1:$CLOSED" \
	    "$FLOWMON_LOG"
}
wait_until 15 listener_logged || fail "no redacted listener line in the log"
fm_expect 200 $API/services/web
jq -e --arg u "http://prom:***@127.0.0.1:$CLOSED/-/reload" \
    '.reload.lastError | contains($u)' <<<"$HTTP_BODY" >/dev/null ||
	fail "reload.lastError: $(jq -c .reload <<<"$HTTP_BODY")"
printf '%s\n' "$HTTP_BODY" >"$IT_TMP/answers"
for p in $API/services /metrics $API/files $API/sd; do
	fm_expect 200 "$p"
	printf '%s\n' "$HTTP_BODY" >>"$IT_TMP/answers"
done
no_secret "$FLOWMON_LOG" "$IT_TMP/answers"
ok "$(jq -r .reload.lastError <<<"$(head -n 1 "$IT_TMP/answers")")"
flowmon_stop || fail "flowmon did not stop cleanly"
no_secret "$FLOWMON_LOG"
ok "no password in the log or in any answer"

# --------------------------------------------- odd characters, tokens
# Base64 secrets hold '/', '+', '='; others '#', '?', '@', '%'. Each
# secret below is two halves around one such character; neither half may
# show anywhere. Percent-encoded (as they must be in a URL), they are
# taken and shown as user:***@; raw, the URL is refused without being
# quoted whole. A token given as the user name is hidden too.
ODD_HALVES="Kq7VwA Zx9LmB Hh3TqC Rr8PnD Ww2XzE Jj5KdF Mm4GsH Pp6YtJ Tt1NcK Bb0QvL"
odd_secret() {	# odd_secret N CHAR: the Nth secret (0..4) with CHAR in it
	set -- "$1" "$2" $ODD_HALVES
	local i=$1 c=$2
	shift 2
	shift $((2 * i))
	printf '%s%s%s' "$1" "$c" "$2"
}
no_odd_secret() {	# no_odd_secret FILE...: no half of any odd secret
	local f h
	for f in "$@"; do
		for h in $ODD_HALVES TOKEN4Xq9; do
			! grep -qF -- "$h" "$f" || fail "$f holds \"$h\": $(grep -F -- "$h" "$f" | head -n 3)"
		done
	done
}
enc() { jq -rn --arg s "$1" '$s | @uri'; }

check "passwords holding / # ? @ %, percent-encoded, and a token as user name: never shown"
i=0
ODD_RELOAD=""
for c in / '#' '?' @ %; do
	sec=$(odd_secret $i "$c")
	ODD_RELOAD="$ODD_RELOAD${ODD_RELOAD:+,}http://prom$i:$(enc "$sec")@127.0.0.1:$CLOSED/-/reload"
	i=$((i + 1))
done
ODD_RELOAD="$ODD_RELOAD,http://TOKEN4Xq9@127.0.0.1:$CLOSED/-/reload"
mkdir -p "$IT_TMP/d5"
LISTENER_ADDRESS="http://lis:$(enc "$(odd_secret 0 /)")@127.0.0.1:$CLOSED" \
DF_GET_NODES_URL="http://TOKEN4Xq9@127.0.0.1:$CLOSED/v1/docker-flow-swarm-listener/get-nodes" \
    flowmon_start "$IT_TMP/d5" --promtool none --reload-delay 100ms --reload-url "$ODD_RELOAD"
alert_reconfigure 0
grep -q "msg=\"flowmon started\".*reload_url=\"\?http://prom0:\*\*\*@127.0.0.1:$CLOSED/-/reload,.*,http://\*\*\*@127.0.0.1:$CLOSED/-/reload" "$FLOWMON_LOG" ||
	fail "start line: $(grep 'flowmon started' "$FLOWMON_LOG")"
odd_reload_failed() {
	grep -q "msg=\"reload failed\".*POST http://prom4:\*\*\*@127.0.0.1:$CLOSED/-/reload.*POST http://\*\*\*@127.0.0.1:$CLOSED/-/reload" \
	    "$FLOWMON_LOG"
}
wait_until 15 odd_reload_failed || fail "no redacted reload error in the log: $(grep 'reload failed' "$FLOWMON_LOG" | head -n 2)"
odd_listener_logged() {
	grep -q "url=http://lis:\*\*\*@127.0.0.1:$CLOSED" "$FLOWMON_LOG" &&
	    grep -q "url=http://\*\*\*@127.0.0.1:$CLOSED/v1/docker-flow-swarm-listener/get-nodes" "$FLOWMON_LOG"
}
wait_until 15 odd_listener_logged || fail "no redacted listener lines: $(grep listener "$FLOWMON_LOG" | head -n 3)"
fm_expect 200 $API/services/web
jq -e '.reload.lastError | contains("http://prom2:***@") and contains("http://***@")' \
    <<<"$HTTP_BODY" >/dev/null || fail "reload.lastError: $(jq -c .reload <<<"$HTTP_BODY")"
printf '%s\n' "$HTTP_BODY" >"$IT_TMP/odd-answers"
for p in $API/services /metrics $API/files $API/sd; do
	fm_expect 200 "$p"
	printf '%s\n' "$HTTP_BODY" >>"$IT_TMP/odd-answers"
done
flowmon_stop || fail "flowmon did not stop cleanly"
no_odd_secret "$FLOWMON_LOG" "$IT_TMP/odd-answers"
ok "start line, reload errors, reload.lastError, listener lines: user:***@ and ***@ only"

check "the same secrets unescaped: refused at start, the URL never quoted whole"
free_port BAD_PORT
n=0
for c in / '#' '?' @ %; do
	sec=$(odd_secret $n "$c")
	n=$((n + 1))
	for how in reload-url get-nodes-url docker-host listener remote-write; do
		log=$IT_TMP/refused-$n-$how.log
		case $how in
		reload-url) set -- --reload-url "http://prom:$sec@127.0.0.1:$CLOSED/-/reload" ;;
		get-nodes-url) set -- --get-nodes-url "http://lis:$sec@127.0.0.1:$CLOSED/x" ;;
		docker-host) set -- --docker-host "tcp://d:$sec@127.0.0.1:$CLOSED" ;;
		listener) set -- --listener-address "http://lis:$sec@127.0.0.1:$CLOSED" ;;
		remote-write) set -- --prometheus-config "$IT_TMP/refused.yml" ;;
		esac
		REMOTE_WRITE_1__URL="http://rw:$sec@127.0.0.1:$CLOSED/write" \
		timeout 20 "$FLOWMON" --listen "127.0.0.1:$BAD_PORT" --data-dir "$IT_TMP/d6" \
		    --promtool none "$@" >"$log" 2>&1 </dev/null &
		pid=$!
		# A URL the start does not use (a '%' that is no escape is one
		# libcurl takes) lets it start: stop it then.
		if wait_alive 10 "$pid" http_ok "http://127.0.0.1:$BAD_PORT$API/ping"; then
			[ "$c" = % ] || fail "$how with a raw '$c' in the password was taken"
			kill -TERM "$pid"
		fi
		wait "$pid"
		grep -qiE "error|refused|not a URL|percent-encode|must" "$log" ||
			[ "$c" = % ] || fail "$how: no clear message: $(cat "$log")"
		no_odd_secret "$log"
	done
done
ok "every URL place refused them (or, for a '%', hid it); no half of a secret in any message"

# ------------------------------------------------------ --reload-auth-file
free_port FAKE_PORT
FAKE_LOG=$IT_TMP/fake.log
FAKE_PID=""
fake_start() {	# fake_start EXPECTED_AUTHORIZATION
	[ -z "$FAKE_PID" ] || stop_pid "$FAKE_PID" 10
	: >"$FAKE_LOG"
	python3 "$FAKE" "$FAKE_PORT" "$FAKE_LOG" "$1" >"$IT_TMP/fake.out" 2>&1 &
	FAKE_PID=$!
	track "$FAKE_PID"
	wait_until 10 eval "curl -s -o /dev/null http://127.0.0.1:$FAKE_PORT/" ||
		fail "the fake reload endpoint did not start"
}
fake_saw() { grep -qx -- "$1" "$FAKE_LOG"; }
reload_ok() { [ "$(fm_metric 'flowmon_reloads_total{outcome="success"}')" -ge 1 ]; }

check "--reload-auth-file user:password: reloads carry basic auth"
fake_start "Basic $(printf 'prom:Pa55-w0rd' | base64)"
printf 'prom:Pa55-w0rd\n' >"$IT_TMP/reload-basic"
chmod 600 "$IT_TMP/reload-basic"
mkdir -p "$IT_TMP/d2"
flowmon_start "$IT_TMP/d2" --promtool none --reload-delay 100ms \
    --reload-url "http://127.0.0.1:$FAKE_PORT/-/reload" \
    --reload-auth-file "$IT_TMP/reload-basic"
alert_reconfigure 0
wait_until 15 reload_ok || fail "no successful reload: $(cat "$FAKE_LOG")"
fake_saw "200 Basic $(printf 'prom:Pa55-w0rd' | base64)" ||
	fail "the endpoint saw: $(cat "$FAKE_LOG")"
fm_expect 200 $API/services/web
jq -e '.reload.lastSuccess == true and .reload.lastError == ""' <<<"$HTTP_BODY" >/dev/null ||
	fail "reload: $(jq -c .reload <<<"$HTTP_BODY")"
no_secret "$FLOWMON_LOG"
ok "$(head -n 1 "$FAKE_LOG" | cut -c1-12)...: 200, reload.lastSuccess"
flowmon_stop || fail "flowmon did not stop cleanly"

check "FLOWMON_RELOAD_AUTH_FILE with a token: reloads carry a bearer token"
fake_start "Bearer tok-8d2e1f"
printf 'tok-8d2e1f\n' >"$IT_TMP/reload-token"
FLOWMON_RELOAD_AUTH_FILE=$IT_TMP/reload-token flowmon_start "$IT_TMP/d2" \
    --promtool none --reload-delay 100ms \
    --reload-url "http://127.0.0.1:$FAKE_PORT/-/reload"
alert_reconfigure 1
wait_until 15 reload_ok || fail "no successful reload: $(cat "$FAKE_LOG")"
fake_saw "200 Bearer tok-8d2e1f" || fail "the endpoint saw: $(cat "$FAKE_LOG")"
no_secret "$FLOWMON_LOG"
ok "200 Bearer"
flowmon_stop || fail "flowmon did not stop cleanly"

check "wrong credentials: a clear reload error, no secret in it"
printf 'tok-wrong\n' >"$IT_TMP/reload-wrong"
flowmon_start "$IT_TMP/d2" --promtool none --reload-delay 100ms \
    --reload-url "http://127.0.0.1:$FAKE_PORT/-/reload" \
    --reload-auth-file "$IT_TMP/reload-wrong"
alert_reconfigure 2
refused() {
	fm $API/services/web
	jq -e '.reload.lastError | contains("answered 401: unauthorized")' <<<"$HTTP_BODY" >/dev/null
}
wait_until 15 refused || fail "reload: $(jq -c .reload <<<"$HTTP_BODY")"
! grep -q 'tok-wrong' "$FLOWMON_LOG" || fail "the log holds the token"
ok "$(jq -r .reload.lastError <<<"$HTTP_BODY")"
flowmon_stop || fail "flowmon did not stop cleanly"

check "a missing --reload-auth-file keeps flowmon from starting"
free_port BAD_PORT
if "$FLOWMON" --listen "127.0.0.1:$BAD_PORT" --data-dir "$IT_TMP/d3" \
    --reload-url "http://127.0.0.1:$FAKE_PORT/-/reload" \
    --reload-auth-file "$IT_TMP/missing" >"$IT_TMP/bad.log" 2>&1; then
	fail "flowmon started without its reload auth file"
fi
grep -q -- '--reload-auth-file .*missing: No such file' "$IT_TMP/bad.log" ||
	fail "no clear message: $(cat "$IT_TMP/bad.log")"
ok "$(grep -o 'err=.*' "$IT_TMP/bad.log" | head -n 1)"

# ------------------------------------------------------ prometheus.yml mode
# write_config DIR [VAR=VALUE...]: flowmon writes DIR/prometheus.yml at
# start from the variables given; stopped once it has started.
write_config() {
	local dir=$1
	shift
	mkdir -p "$dir"
	# A log of an earlier start would say "flowmon started" too early.
	rm -f "$dir/flowmon.log"
	env "$@" "$FLOWMON" --listen "127.0.0.1:$BAD_PORT" --data-dir "$dir/data" \
	    --promtool none --prometheus-config "$dir/prometheus.yml" \
	    >"$dir/flowmon.log" 2>&1 &
	FLOWMON_PID=$!
	track "$FLOWMON_PID"
	wait_alive 20 "$FLOWMON_PID" grep -qs 'msg="flowmon started"' "$dir/flowmon.log" ||
		fail "flowmon did not start: $(cat "$dir/flowmon.log")"
	[ -f "$dir/prometheus.yml" ] || fail "no $dir/prometheus.yml"
	flowmon_stop || fail "flowmon did not stop cleanly"
}
check "prometheus.yml holding a password is 0600, one without is 0644"
write_config "$IT_TMP/c1" REMOTE_WRITE_1__URL=http://127.0.0.1:1/write \
    REMOTE_WRITE_1__BASIC_AUTH__USERNAME=rw REMOTE_WRITE_1__BASIC_AUTH__PASSWORD="$PW"
[ "$(stat -c %a "$IT_TMP/c1/prometheus.yml")" = 600 ] ||
	fail "basic_auth password: mode $(stat -c %a "$IT_TMP/c1/prometheus.yml")"
write_config "$IT_TMP/c2" REMOTE_WRITE_URL="http://rw:$PW@127.0.0.1:1/write"
[ "$(stat -c %a "$IT_TMP/c2/prometheus.yml")" = 600 ] ||
	fail "password in the URL: mode $(stat -c %a "$IT_TMP/c2/prometheus.yml")"
write_config "$IT_TMP/c3" REMOTE_WRITE_URL="http://127.0.0.1:1/write"
[ "$(stat -c %a "$IT_TMP/c3/prometheus.yml")" = 644 ] ||
	fail "no secret: mode $(stat -c %a "$IT_TMP/c3/prometheus.yml")"
# A config written 0644 by an older flowmon is made 0600 when it holds one.
chmod 644 "$IT_TMP/c1/prometheus.yml"
write_config "$IT_TMP/c1" REMOTE_WRITE_1__URL=http://127.0.0.1:1/write \
    REMOTE_WRITE_1__BASIC_AUTH__USERNAME=rw REMOTE_WRITE_1__BASIC_AUTH__PASSWORD="$PW"
[ "$(stat -c %a "$IT_TMP/c1/prometheus.yml")" = 600 ] ||
	fail "rewritten: mode $(stat -c %a "$IT_TMP/c1/prometheus.yml")"
no_secret "$IT_TMP/c1/flowmon.log" "$IT_TMP/c2/flowmon.log"
ok "0600, 0600, 0644; an old 0644 file made 0600"

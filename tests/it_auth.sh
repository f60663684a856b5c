#!/bin/bash
# tests/it_auth.sh: issue 7, authentication, against the real daemon:
#   every mutating endpoint (reconfigure, remove, node/reconfigure,
#   node/remove) with no, wrong, malformed and right credentials (basic and
#   bearer): 401 with WWW-Authenticate and nothing on disk changed, or 200
#   and the change made; a swarm-listener style URL with userinfo (and a
#   percent-encoded password) through curl; read endpoints closed too
#   unless --open-reads (ping always open; --auth-reads a deprecated
#   no-op); credentials checked before a body is read; no secret in the
#   log.
# Run by tests/run-integration.sh with FLOWMON set (FLOWMON_WRAP optional).
. "$(dirname "$0")/lib.sh"

API=/v1/docker-flow-monitor
DATA=$IT_TMP/data
USERS=$IT_TMP/users
TOKENS=$IT_TMP/tokens
PASS='l1st3ner@p:ss'		# '@' and ':' must survive the userinfo
PASS_URL='l1st3ner%40p%3Ass'
TOKEN=tok-4f0c8e1d9b2a7c63
NEXT_TOKEN=tok-next-rotation-0001

cat >"$USERS" <<EOF
# swarm-listener, then the operators
swarm:$PASS
ops:0ps-secret
EOF
printf '%s\n%s\n' "$TOKEN" "$NEXT_TOKEN" >"$TOKENS"
chmod 600 "$USERS" "$TOKENS"

mkdir -p "$DATA"
flowmon_start "$DATA" --basic-auth-file "$USERS" --bearer-token-file "$TOKENS"

# expect_401 WHAT PATH [CURL ARGS...]: 401, both challenges, a JSON body,
# and the data dir exactly as before.
expect_401() {
	local what=$1 path=$2 before after hdrs
	shift 2
	before=$(snapshot_dir "$DATA")
	hdrs=$IT_TMP/headers
	HTTP_CODE=$(curl -s --max-time 10 -D "$hdrs" -o "$IT_TMP/body" \
	    -w '%{http_code}' "$@" "$FLOWMON_URL$path") || HTTP_CODE=000
	HTTP_BODY=$(cat "$IT_TMP/body")
	[ "$HTTP_CODE" = 401 ] || fail "$what $path: expected 401, got $HTTP_CODE: $HTTP_BODY"
	grep -qi '^WWW-Authenticate: Basic realm="flowmon"' "$hdrs" ||
		fail "$what $path: no Basic challenge: $(cat "$hdrs")"
	grep -qi '^WWW-Authenticate: Bearer realm="flowmon"' "$hdrs" ||
		fail "$what $path: no Bearer challenge: $(cat "$hdrs")"
	[ "$(jq -r .Status <<<"$HTTP_BODY")" = 401 ] ||
		fail "$what $path: body's Status is not 401: $HTTP_BODY"
	after=$(snapshot_dir "$DATA")
	[ "$before" = "$after" ] || fail "$what $path changed the data dir"
}

# refused_every_way PATH QUERY: no, wrong, malformed credentials.
refused_every_way() {
	local path=$1 q=$2
	expect_401 "no credentials" "$path?$q"
	expect_401 "wrong password" "$path?$q" -u "swarm:wrong"
	expect_401 "unknown user" "$path?$q" -u "mallory:$PASS"
	expect_401 "right password of another user" "$path?$q" -u "ops:$PASS"
	expect_401 "wrong bearer" "$path?$q" -H "Authorization: Bearer ${TOKEN}x"
	expect_401 "bearer prefix" "$path?$q" -H "Authorization: Bearer ${TOKEN%?}"
	expect_401 "malformed basic" "$path?$q" -H "Authorization: Basic %%%"
	expect_401 "unknown scheme" "$path?$q" -H "Authorization: Token $TOKEN"
	expect_401 "POST form, no credentials" "$path" --data "$q"
	grep -q '"authentication required: no credentials"' <<<"$(
	    curl -s "$FLOWMON_URL$path?$q")" || fail "401 body does not say why"
}

check "ping stays open for health checks"
fm_expect 200 $API/ping

# ------------------------------------------------------------ reconfigure
Q="serviceName=web&targets=127.0.0.1:9100&alertName=down&alertIf=up%3D%3D0"
check "reconfigure refused without valid credentials (9 ways)"
refused_every_way $API/reconfigure "$Q"
[ ! -e "$DATA/targets/web.json" ] || fail "a refused reconfigure wrote targets/web.json"
ok "401 each time, data dir untouched"

check "reconfigure with basic auth (curl -u) is applied"
fm_expect 200 "$API/reconfigure?$Q" -u "swarm:$PASS"
[ -f "$DATA/targets/web.json" ] || fail "no targets/web.json after a 200"
[ -f "$DATA/rules/web.yml" ] || fail "no rules/web.yml after a 200"
ok "$HTTP_BODY"

check "reconfigure as swarm-listener sends it: credentials in the URL's userinfo"
url="http://swarm:$PASS_URL@127.0.0.1:$FLOWMON_PORT$API/reconfigure?serviceName=api&targets=127.0.0.1%3A9200"
code=$(curl -s -o "$IT_TMP/body" -w '%{http_code}' "$url")
[ "$code" = 200 ] || fail "userinfo URL: $code $(cat "$IT_TMP/body")"
[ -f "$DATA/targets/api.json" ] || fail "no targets/api.json after the userinfo URL"
ok "$(cat "$IT_TMP/body")"
code=$(curl -s -o /dev/null -w '%{http_code}' \
    "http://swarm:wrong@127.0.0.1:$FLOWMON_PORT$API/reconfigure?serviceName=api")
[ "$code" = 401 ] || fail "userinfo URL with a wrong password: $code"
ok "wrong password in the userinfo: 401"

check "reconfigure with a bearer token (both tokens of a rotation), POST form"
fm_expect 200 $API/reconfigure -H "Authorization: Bearer $TOKEN" \
    --data "serviceName=web&targets=127.0.0.1:9101"
jq -e '.[0].targets == ["127.0.0.1:9101"]' "$DATA/targets/web.json" >/dev/null ||
	fail "bearer reconfigure not applied: $(cat "$DATA/targets/web.json")"
fm_expect 200 "$API/reconfigure?$Q" -H "Authorization: bearer $NEXT_TOKEN"
ok "both tokens accepted"

# ------------------------------------------------------- node/reconfigure
NQ="id=node1&hostname=h1&address=10.0.0.1"
check "node/reconfigure refused without valid credentials"
refused_every_way $API/node/reconfigure "$NQ"
[ ! -e "$DATA/nodes/node1.json" ] || fail "a refused node/reconfigure wrote nodes/node1.json"
check "node/reconfigure with credentials"
fm_expect 200 "$API/node/reconfigure?$NQ" -u "ops:0ps-secret"
[ -f "$DATA/nodes/node1.json" ] || fail "no nodes/node1.json after a 200"
ok "$HTTP_BODY"

# ------------------------------------------------------------ node/remove
check "node/remove refused without valid credentials"
refused_every_way $API/node/remove "id=node1"
[ -f "$DATA/nodes/node1.json" ] || fail "a refused node/remove removed the node"
check "node/remove with a bearer token"
fm_expect 200 "$API/node/remove?id=node1" -H "Authorization: Bearer $TOKEN"
[ ! -e "$DATA/nodes/node1.json" ] || fail "nodes/node1.json still there after a 200"
ok "$HTTP_BODY"

# ----------------------------------------------------------------- remove
check "remove refused without valid credentials"
refused_every_way $API/remove "serviceName=web"
[ -f "$DATA/targets/web.json" ] || fail "a refused remove removed targets/web.json"
check "remove with basic auth, via DELETE"
fm_expect 200 "$API/remove?serviceName=web" -X DELETE -u "swarm:$PASS"
[ ! -e "$DATA/targets/web.json" ] || fail "targets/web.json still there after a 200"
[ ! -e "$DATA/rules/web.yml" ] || fail "rules/web.yml still there after a 200"
ok "$HTTP_BODY"

# ------------------------------------------------------------ read side
check "read endpoints need credentials too (closed by default with an auth file)"
for p in $API/services $API/services/api $API/sd /metrics; do
	expect_401 "read" "$p"
	fm_expect 200 "$p" -u "ops:0ps-secret"
	fm_expect 200 "$p" -H "Authorization: Bearer $TOKEN"
done
fm_expect 404 $API/services/nope -u "ops:0ps-secret"
expect_401 "read, unknown service" $API/services/nope
ok "services, services/api, sd, metrics: 401 without, 200 with credentials; an unknown service is 401 before it is 404 (names do not leak)"
# metric SERIES: one of flowmon's series, read with credentials.
metric() {
	curl -sf --max-time 10 -u "ops:0ps-secret" "$FLOWMON_URL/metrics" |
	    awk -v s="$1" '$1 == s { print $2; found = 1 } END { exit !found }'
}
# 10 refusals per endpoint, plus the wrong userinfo for reconfigure.
n=$(metric 'flowmon_http_requests_total{endpoint="reconfigure",code="401"}') ||
	fail "no 401 series for reconfigure in /metrics"
[ "$n" = 11 ] || fail "/metrics counts $n refused reconfigures, not 11"
n=$(metric 'flowmon_http_requests_total{endpoint="node_remove",code="401"}')
[ "$n" = 10 ] || fail "/metrics counts $n refused node removes, not 10"
ok "401s counted in /metrics by endpoint"

check "credentials are checked before the body is read"
# Headers announcing a 500 kB body, and only the first bytes of it: the
# 401 must come without waiting for (or reading) the rest. The rest never
# comes, so waiting for it would mean no answer before the 30 s connection
# timeout: an answer within 15 s shows flowmon did not wait, on any
# machine.
before=$(snapshot_dir "$DATA")
exec 5<>/dev/tcp/127.0.0.1/"$FLOWMON_PORT"
printf 'POST %s/reconfigure HTTP/1.1\r\nHost: flowmon\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 500000\r\n\r\nserviceName=early' \
    "$API" >&5
t0=$(date +%s%N)
status=$(timeout 15 head -n 1 <&5 | tr -d '\r')
dt=$((($(date +%s%N) - t0) / 1000000))
exec 5>&- 5<&-
case $status in
"HTTP/1.1 401"*) ;;
*) fail "a request without credentials waiting for its body got \"$status\" after $dt ms, not a 401" ;;
esac
[ "$dt" -lt 15000 ] || fail "the 401 took $dt ms"
[ "$(snapshot_dir "$DATA")" = "$before" ] || fail "the refused request changed the data dir"
# With Expect: 100-continue, curl must get its 401 and never a 100.
head -c 200000 /dev/zero | tr '\0' a >"$IT_TMP/big"
curl -s -v --max-time 10 -o /dev/null -H 'Expect: 100-continue' \
    --data-binary @"$IT_TMP/big" "$FLOWMON_URL$API/reconfigure" 2>"$IT_TMP/curl.err"
grep -q '< HTTP/1.1 401' "$IT_TMP/curl.err" || fail "no 401: $(grep '^<' "$IT_TMP/curl.err")"
! grep -q '< HTTP/1.1 100' "$IT_TMP/curl.err" || fail "100 Continue sent before the credentials were checked"
ok "401 after $dt ms with the body unsent; no 100 Continue"

check "no secret in the log"
for s in "$PASS" "$PASS_URL" "0ps-secret" "$TOKEN" "$NEXT_TOKEN" "mallory"; do
	! grep -qF -- "$s" "$FLOWMON_LOG" || fail "the log holds \"$s\""
done
grep -q 'msg="request refused".*reason="wrong credentials"' "$FLOWMON_LOG" ||
	fail "refusals are not logged"
ok "refusals logged with client and reason only"

# -------------------------------------------------------------- open-reads
check "--open-reads (FLOWMON_OPEN_READS): reads need no credentials, writes still do"
flowmon_stop || fail "flowmon did not stop cleanly"
FLOWMON_OPEN_READS=true flowmon_start "$DATA" --basic-auth-file "$USERS" \
    --bearer-token-file "$TOKENS"
fm_expect 200 $API/ping
for p in $API/services $API/services/api $API/sd /metrics; do
	fm_expect 200 "$p"
done
expect_401 "open-reads, reconfigure" "$API/reconfigure?serviceName=x&targets=127.0.0.1:9100"
ok "services, services/api, sd, metrics: 200 without credentials; reconfigure 401"

check "--auth-reads is accepted as a deprecated no-op, with a warning"
flowmon_stop || fail "flowmon did not stop cleanly"
FLOWMON_AUTH_READS=true flowmon_start "$DATA" --basic-auth-file "$USERS" \
    --bearer-token-file "$TOKENS"
grep -q 'level=warn msg="--auth-reads is deprecated and ignored' "$FLOWMON_LOG" ||
	fail "no deprecation warning in the log"
fm_expect 200 $API/ping
expect_401 "auth-reads" $API/services
fm_expect 200 $API/services -u "ops:0ps-secret"
ok "warning logged; reads closed as without it"

check "a bad credential file keeps flowmon from starting"
printf 'nocolon\n' >"$IT_TMP/bad-users"
free_port BAD_PORT
# Another data dir: this one is locked by the running flowmon.
if "$FLOWMON" --listen "127.0.0.1:$BAD_PORT" --data-dir "$IT_TMP/bad-data" \
    --basic-auth-file "$IT_TMP/bad-users" >"$IT_TMP/bad.log" 2>&1; then
	fail "flowmon started with a malformed --basic-auth-file"
fi
grep -q 'bad-users line 1: not user:password' "$IT_TMP/bad.log" ||
	fail "no clear message: $(cat "$IT_TMP/bad.log")"
if "$FLOWMON" --listen "127.0.0.1:$BAD_PORT" --data-dir "$IT_TMP/bad-data" \
    --bearer-token-file "$IT_TMP/missing" >"$IT_TMP/bad.log" 2>&1; then
	fail "flowmon started with a missing --bearer-token-file"
fi
grep -q -- '--bearer-token-file .*missing: No such file' "$IT_TMP/bad.log" ||
	fail "no clear message: $(cat "$IT_TMP/bad.log")"
ok "$(grep -o 'err=.*' "$IT_TMP/bad.log" | head -n 1)"

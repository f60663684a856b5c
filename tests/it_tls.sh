#!/bin/bash
# tests/it_tls.sh: issue 7, TLS through libmicrohttpd, with a CA and a
# server certificate made here by openssl:
#   curl --cacert CA over https succeeds (ping, an authenticated reconfigure
#   with userinfo, /sd); curl without the CA refuses the certificate; plain
#   HTTP to the TLS port fails at once without an HTTP answer, and the
#   daemon keeps serving; a key that does not match, or a lone --tls-cert,
#   keeps flowmon from starting with a clear message.
# Run by tests/run-integration.sh with FLOWMON set (FLOWMON_WRAP optional).
. "$(dirname "$0")/lib.sh"

API=/v1/docker-flow-monitor
DATA=$IT_TMP/data
PKI=$IT_TMP/pki
mkdir -p "$DATA" "$PKI"
it_require openssl openssl

check "make a CA and a certificate for 127.0.0.1 signed by it"
(
	cd "$PKI" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=flowmon test CA" \
	    -keyout ca.key -out ca.pem
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
	    -keyout server.key -out server.csr
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >ext.cnf
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	    -days 2 -extfile ext.cnf -out server.pem
	# A second key, for the mismatch case.
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.key
) >"$IT_TMP/openssl.log" 2>&1 || fail "openssl failed: $(tail -n 5 "$IT_TMP/openssl.log")"
chmod 600 "$PKI"/*.key
ok "$(openssl x509 -in "$PKI/server.pem" -noout -subject -issuer | tr '\n' ' ')"

printf 'swarm:s3cr3t\n' >"$IT_TMP/users"

# tls_ready: the daemon answers ping over https with the test CA.
tls_ready() {
	alive "$FLOWMON_PID" &&
	    [ "$(curl -s -o /dev/null --max-time 5 --cacert "$PKI/ca.pem" \
	    -w '%{http_code}' "$FLOWMON_URL$API/ping")" = 200 ]
}

# tls_start EXTRA ARGS...: flowmon on a free port with the test
# certificate, waiting for ping over https (lib.sh's flowmon_start speaks
# plain HTTP).
tls_start() {
	local attempt
	for attempt in 1 2 3; do
		free_port FLOWMON_PORT
		IT_NSTARTS=$((IT_NSTARTS + 1))
		FLOWMON_LOG=$IT_TMP/flowmon.$IT_NSTARTS.log
		FLOWMON_URL=https://127.0.0.1:$FLOWMON_PORT
		# shellcheck disable=SC2086 # FLOWMON_WRAP is a command line
		${FLOWMON_WRAP:+$FLOWMON_WRAP} "$FLOWMON" \
		    --listen "127.0.0.1:$FLOWMON_PORT" --data-dir "$DATA" \
		    --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key" \
		    "$@" >"$FLOWMON_LOG" 2>&1 &
		FLOWMON_PID=$!
		track "$FLOWMON_PID"
		if wait_until 60 tls_ready; then
			say "flowmon up on $FLOWMON_URL (pid $FLOWMON_PID)"
			return 0
		fi
		alive "$FLOWMON_PID" && fail "flowmon did not answer ping over TLS in 60 s"
		wait "$FLOWMON_PID"
		FLOWMON_PID=""
		grep -qi 'cannot listen' "$FLOWMON_LOG" || fail "flowmon did not start"
	done
	fail "flowmon could not listen on any port"
}

tls_start --basic-auth-file "$IT_TMP/users"

check "https with the test CA: ping"
fm_expect 200 $API/ping --cacert "$PKI/ca.pem"
ok "$HTTP_BODY"

check "https with the test CA: reconfigure with swarm-listener userinfo, then /sd"
code=$(curl -s --cacert "$PKI/ca.pem" -o "$IT_TMP/body" -w '%{http_code}' \
    "https://swarm:s3cr3t@127.0.0.1:$FLOWMON_PORT$API/reconfigure?serviceName=web&targets=127.0.0.1%3A9100")
[ "$code" = 200 ] || fail "reconfigure over TLS: $code $(cat "$IT_TMP/body")"
[ -f "$DATA/targets/web.json" ] || fail "no targets/web.json after a 200 over TLS"
fm_expect 200 $API/sd --cacert "$PKI/ca.pem" -u swarm:s3cr3t
jq -e '.[0].targets == ["127.0.0.1:9100"]' <<<"$HTTP_BODY" >/dev/null ||
	fail "/sd over TLS: $HTTP_BODY"
fm_expect 401 "$API/reconfigure?serviceName=web" --cacert "$PKI/ca.pem"
ok "200, targets written, /sd lists them; no credentials is still 401"

check "https without the CA: curl refuses the certificate"
curl -s -o /dev/null --max-time 10 "$FLOWMON_URL$API/ping"
rc=$?
[ "$rc" = 60 ] || fail "curl without the CA exited $rc, expected 60 (certificate)"
ok "curl exit 60"

check "plain HTTP to the TLS port fails at once, with no HTTP answer"
t0=$(date +%s%N)
code=$(curl -s -o "$IT_TMP/body" --max-time 10 -w '%{http_code}' \
    "http://127.0.0.1:$FLOWMON_PORT$API/ping")
rc=$?
dt=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" -ne 0 ] || fail "plain HTTP to the TLS port succeeded: $code $(cat "$IT_TMP/body")"
[ "$rc" -ne 28 ] || fail "plain HTTP to the TLS port hung until curl's timeout"
[ "$code" = 000 ] || fail "plain HTTP got an HTTP status: $code"
[ "$dt" -lt 5000 ] || fail "plain HTTP took $dt ms to fail"
ok "curl exit $rc after $dt ms"
for i in 1 2 3 4 5; do
	curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$FLOWMON_PORT$API/reconfigure?serviceName=x$i" || true
done
alive "$FLOWMON_PID" || fail "flowmon died after plain HTTP requests"
fm_expect 200 $API/ping --cacert "$PKI/ca.pem"
[ ! -e "$DATA/targets/x1.json" ] && [ ! -e "$DATA/state/x1.json" ] ||
	fail "a plain HTTP request reached the API"
ok "the daemon keeps serving over TLS"

flowmon_stop || fail "flowmon did not stop cleanly"

check "a key that does not match the certificate keeps flowmon from starting"
free_port BAD_PORT
if "$FLOWMON" --listen "127.0.0.1:$BAD_PORT" --data-dir "$DATA" \
    --tls-cert "$PKI/server.pem" --tls-key "$PKI/other.key" >"$IT_TMP/bad.log" 2>&1; then
	fail "flowmon started with a key that does not match"
fi
grep -q 'GnuTLS failed to setup x509 certificate/key: The certificate and the given key do not match' "$IT_TMP/bad.log" &&
    grep -q 'TLS set-up failed' "$IT_TMP/bad.log" ||
	fail "no clear message: $(cat "$IT_TMP/bad.log")"
ok "$(grep -o 'error="GnuTLS.*' "$IT_TMP/bad.log" | head -n 1)"

check "--tls-cert without --tls-key, or a non-PEM file, is refused"
"$FLOWMON" --listen "127.0.0.1:$BAD_PORT" --data-dir "$DATA" \
    --tls-cert "$PKI/server.pem" >"$IT_TMP/bad.log" 2>&1 &&
	fail "flowmon started with --tls-cert alone"
grep -q -- '--tls-cert and --tls-key go together' "$IT_TMP/bad.log" ||
	fail "no clear message: $(cat "$IT_TMP/bad.log")"
"$FLOWMON" --listen "127.0.0.1:$BAD_PORT" --data-dir "$DATA" \
    --tls-cert "$IT_TMP/users" --tls-key "$PKI/server.key" >"$IT_TMP/bad.log" 2>&1 &&
	fail "flowmon started with a non-PEM certificate"
grep -q -- "--tls-cert $IT_TMP/users is not PEM" "$IT_TMP/bad.log" ||
	fail "no clear message: $(cat "$IT_TMP/bad.log")"
ok "refused with a message naming the flag"

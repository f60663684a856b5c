#!/bin/bash
# tests/it_max_delay.sh: issue 12, --reload-max-delay. A rule change every
# 400 ms, for 8 s, never leaves the 1 s quiet time of --reload-delay to run
# out; with --reload-max-delay 3s a reload still comes at most 3 s after
# the first change waiting for it, again and again while the stream lasts,
# and once more after it. The reload endpoint is a stand-in that notes the
# time of each POST.
# Run by tests/run-integration.sh with FLOWMON set.
. "$(dirname "$0")/lib.sh"

it_require python3 python3
DATA=$IT_TMP/data
API=/v1/docker-flow-monitor

free_port RPORT
cat >"$IT_TMP/reload.py" <<'EOF'
# Answers POST /-/reload with 200 and appends the time (ms) to a file.
import http.server, sys, time
log = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        with open(log, "a") as f:
            f.write("%d\n" % (time.time() * 1000))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
: >"$IT_TMP/posts"
python3 "$IT_TMP/reload.py" "$RPORT" "$IT_TMP/posts" >"$IT_TMP/reload.log" 2>&1 &
track $!
wait_until 10 http_ok "http://127.0.0.1:$RPORT/" || fail "the stand-in endpoint did not start"

flowmon_start "$DATA" --reload-url "http://127.0.0.1:$RPORT/-/reload" \
    --reload-delay 1s --reload-max-delay 3s --promtool none
posts() { wc -l <"$IT_TMP/posts"; }
wait_until 10 eval '[ "$(posts)" -ge 1 ]' || fail "no start-up reload"
wait_until 10 flowmon_idle || fail "the start-up reload never settled"
n0=$(posts)

check "a rule change every 400 ms for 8 s, quiet time 1 s, bound 3 s"
first=$(($(date +%s%N) / 1000000))
for i in $(seq 1 20); do
	reconfigure --data-urlencode serviceName=stream --data-urlencode alertName=a \
	    --data-urlencode "alertIf=up == $i"
	sleep 0.4
done
last=$(($(date +%s%N) / 1000000))
during=$(awk -v n0="$n0" -v last="$last" 'NR > n0 && $1 <= last' "$IT_TMP/posts")
[ -n "$during" ] || fail "no reload while the changes kept coming ($(((last - first) / 1000)) s)"
# The first within the bound (plus a second for scheduling on a busy
# machine), and no gap between reloads longer than that while it lasted.
gaps=$(printf '%s\n' "$first" $during | awk 'NR > 1 { print $1 - prev } { prev = $1 }')
worst=$(printf '%s\n' $gaps | sort -n | tail -n 1)
[ "$worst" -le 4000 ] || fail "a change waited $worst ms for its reload (bound 3 s); gaps: $(echo $gaps)"
ok "$(printf '%s\n' $during | wc -l) reloads during the stream, gaps $(echo $gaps) ms"

check "after the stream: one more reload, then quiet"
wait_until 10 flowmon_idle || fail "a reload is still pending"
after=$(awk -v last="$last" '$1 > last' "$IT_TMP/posts" | wc -l)
[ "$after" -ge 1 ] || fail "no reload after the last change"
ok "$after reload after the stream; $(($(posts) - n0)) in all for 20 changes"

#!/bin/bash
# tests/it_diagnosis.sh: issue 12, a diagnosis cut short by a crash. A
# stand-in Prometheus reload endpoint reads rules/ as Prometheus would,
# slowly (0.7 s a reload), and refuses any reload while a rule file holds
# the word BAD. Two services are loaded; then one changes (good) and a
# third one is bad, both before the stand-in reads rules/ (it holds its
# answers meanwhile). While flowmon searches for the culprit by test
# reloads, the good change is set aside (rules/ holds its loaded version
# again): the stand-in holds that test reload, and flowmon is killed with
# SIGKILL right then. After a restart the set-aside version is back in
# rules/ at once (its record is the truth), the search starts over, the
# bad service ends up rejected and the good change is loaded; no loaded
# group is ever missing from a reload.
# Run by tests/run-integration.sh with FLOWMON set.
. "$(dirname "$0")/lib.sh"

it_require python3 python3
DATA=$IT_TMP/data
API=/v1/docker-flow-monitor
mkdir -p "$DATA/rules"

free_port RPORT
cat >"$IT_TMP/prom.py" <<'EOF'
# POST /-/reload: after a pause, 500 when a rule file holds BAD, else 200;
# each POST is logged as "<code> <file>=<first expr> ...". A POST is held
# (60 s at most) while the file HOLD exists, or while the file ARM exists
# and rules/good1.yml holds "vector(1) > 0".
import http.server, os, sys, time
rules, log, hold, arm = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
def held():
    if os.path.exists(hold):
        return True
    try:
        return (os.path.exists(arm) and
                "vector(1) > 0" in open(os.path.join(rules, "good1.yml")).read())
    except OSError:
        return False
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        end = time.monotonic() + 60
        while held() and time.monotonic() < end:
            time.sleep(0.05)
        time.sleep(0.7)
        files, bad = [], False
        for n in sorted(os.listdir(rules)):
            if n.startswith(".") or not n.endswith(".yml"):
                continue
            try:
                body = open(os.path.join(rules, n)).read()
            except OSError:
                continue
            bad = bad or "BAD" in body
            expr = [l.split("expr:", 1)[1].strip() for l in body.splitlines()
                    if "expr:" in l]
            files.append("%s=%s" % (n[:-4], (expr or ["?"])[0].replace(" ", "")))
        code = 500 if bad else 200
        with open(log, "a") as f:
            f.write("%d %s\n" % (code, " ".join(files)))
        self.send_response(code)
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
python3 "$IT_TMP/prom.py" "$RPORT" "$DATA/rules" "$IT_TMP/posts" \
    "$IT_TMP/hold" "$IT_TMP/arm" >"$IT_TMP/prom.log" 2>&1 &
track $!
wait_until 10 http_ok "http://127.0.0.1:$RPORT/" || fail "the stand-in did not start"

start() {
	flowmon_start "$DATA" --promtool none \
	    --reload-url "http://127.0.0.1:$RPORT/-/reload" --reload-delay 200ms
}
start
expr_of() { awk '/expr:/ { sub(/^.*expr: */, ""); print; exit }' "$DATA/rules/$1.yml" 2>/dev/null; }

check "two services loaded"
reconfigure --data-urlencode serviceName=good1 --data-urlencode alertName=a \
    --data-urlencode 'alertIf=vector(1) > 0'
reconfigure --data-urlencode serviceName=good2 --data-urlencode alertName=a \
    --data-urlencode 'alertIf=vector(2) > 0'
wait_until 20 eval 'tail -n 1 "$IT_TMP/posts" | grep -q "^200 .*good1=vector(1)>0.*good2"' ||
	fail "never loaded: $(tail -n 3 "$IT_TMP/posts")"
wait_until 20 flowmon_idle || fail "reload pending"
ok "good1, good2 loaded"

check "good1 changes, bad arrives; killed while good1 is set aside for a test reload"
# Both changes reach rules/ before any reload reads it, however slow this
# machine: the reloads are held until then.
touch "$IT_TMP/hold"
reconfigure --data-urlencode serviceName=good1 --data-urlencode alertName=a \
    --data-urlencode 'alertIf=vector(10) > 0'
grep -q 'vector(1) > 0' "$DATA/accepted/good1.yml" 2>/dev/null ||
	fail "accepted/good1.yml does not keep the loaded vector(1) version"
reconfigure --data-urlencode serviceName=bad --data-urlencode alertName=a \
    --data-urlencode 'alertIf=vector(3) > 0 # BAD'
# From now on a reload of rules/ with good1 set aside is held.
touch "$IT_TMP/arm"
rm -f "$IT_TMP/hold"
# Set aside: the record says vector(10), rules/ holds the loaded vector(1).
aside() { [ "$(expr_of good1)" = 'vector(1) > 0' ]; }
wait_until 20 aside || fail "good1 was never set aside: $(expr_of good1)"
kill -KILL "$FLOWMON_PID"
wait "$FLOWMON_PID" 2>/dev/null
FLOWMON_PID=""
rm -f "$IT_TMP/arm"
grep -q 'vector(10)' "$DATA/state/good1.json" || fail "good1's record lost"
aside || fail "good1 came back before the kill"
ok "SIGKILL with rules/good1.yml at its loaded version, its record at the new one"

check "restart: good1's new version is back at once, the search starts over"
posts0=$(wc -l <"$IT_TMP/posts")
start
[ "$(expr_of good1)" = 'vector(10) > 0' ] ||
	fail "rules/good1.yml after the restart: $(expr_of good1)"
ok "rules/good1.yml holds vector(10) > 0 again"
done_() {
	[ -f "$DATA/rejected/bad.yml" ] && [ ! -e "$DATA/rules/bad.yml" ] &&
	    flowmon_idle &&
	    tail -n 1 "$IT_TMP/posts" | grep -q '^200 good1=vector(10)>0 good2=vector(2)>0$'
}
wait_until 60 done_ || fail "not settled: $(tail -n 5 "$IT_TMP/posts" | tr '\n' '|')"
fm_expect 200 $API/services/bad
printf '%s' "$HTTP_BODY" | jq -e '.status == "rejected"' >/dev/null ||
	fail "bad is not rejected: $HTTP_BODY"
fm_expect 200 $API/services/good1
printf '%s' "$HTTP_BODY" | jq -e '.status == "active"' >/dev/null ||
	fail "good1 is not active: $HTTP_BODY"
ok "bad rejected, good1 active and loaded with vector(10) > 0"

check "no reload ever went without good1's and good2's groups"
# From the first reload that loaded both on.
missing=$(awk 'both && (!/ good1=/ || !/ good2=/) { print }
    /^200 .*good1=.* good2=/ { both = 1 }' "$IT_TMP/posts")
[ -z "$missing" ] || fail "a reload without a loaded group: $missing"
n=$(($(wc -l <"$IT_TMP/posts") - posts0))
ok "$(wc -l <"$IT_TMP/posts") reloads in all, $n after the restart; each had both groups"

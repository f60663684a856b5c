#!/bin/bash
# tests/it_nfs_rules.sh: issue 19, rule safety on a file system without
# extended attributes (most NFS volumes), after a crash. The data dir is a
# bindfs --xattr-none mount; the real Debian Prometheus reads its rules
# there; flowmon runs without promtool. Four services have a firing alert.
# A request writes a rule only Prometheus refuses (a fifth service) and
# another changes alpha's expression (same alert, same labels): both are
# answered 200, and flowmon is killed (SIGKILL) before its reload (a long
# --reload-delay). At the restart the first reload is refused and the
# culprit is searched for, from what the data dir says alone. Every 200 ms
# /api/v1/alerts is polled: none of the four alerts may disappear or change
# its activeAt, and alpha's expression may never go back once the new one
# is live. In the end alpha's change is live and the fifth is rejected.
# Run by tests/run-integration.sh with FLOWMON set; needs bindfs, FUSE and
# root (to mount).
. "$(dirname "$0")/lib.sh"

it_require bindfs bindfs
it_require python3 python3
REAL=$IT_TMP/real
DATA=$IT_TMP/data
API=/v1/docker-flow-monitor
SVCS="alpha beta gamma delta"
BAD='rate(x[5m]'
mkdir -p "$REAL" "$DATA"

# flowmon stops first (its verdict kept): with the mount gone its lock file
# is no longer the one it locked, and it would stop by itself with status
# 1. Then the mount goes (lazily: Prometheus may still hold files in it),
# and lib.sh's trap stops the rest and removes the temp dir.
nfs_cleanup() {
	local rc=$?
	if alive "$FLOWMON_PID" && ! flowmon_stop; then
		IT_FAILED=1
	fi
	umount -l "$DATA" 2>/dev/null
	(exit "$rc")
	it_cleanup
}
trap nfs_cleanup EXIT
bindfs -f --xattr-none "$REAL" "$DATA" >"$IT_TMP/bindfs.log" 2>&1 &
track $!
if ! wait_alive 10 $! mountpoint -q "$DATA"; then
	[ -n "${CI:-}" ] && fail "bindfs cannot mount here: $(cat "$IT_TMP/bindfs.log")"
	it_skip "bindfs cannot mount here (FUSE and root needed): $(head -c 200 "$IT_TMP/bindfs.log")"
fi
if touch "$DATA/x" && python3 -c 'import os,sys; os.setxattr(sys.argv[1], "user.t", b"1")' "$DATA/x" 2>/dev/null; then
	fail "the mount keeps extended attributes: the test would prove nothing"
fi
rm -f "$DATA/x"
ok "$DATA: bindfs --xattr-none, no extended attributes"

prom_start "$DATA"
flowmon_start "$DATA" --promtool none
wait_until 30 flowmon_idle || fail "start-up reload never settled"

# alerts_json: {alertname: activeAt} of the four alerts firing now.
alerts_json() { prom_firing_since '^(alpha|beta|gamma|delta)_up$'; }
all_firing() { [ "$(alerts_json | jq 'length')" = 4 ]; }
alpha_query() { prom_rule alpha alpha_up | jq -r .query; }

check "four services, each with an alert that fires at once"
for s in $SVCS; do
	reconfigure --data-urlencode serviceName=$s --data-urlencode alertName=up \
	    --data-urlencode 'alertIf=vector(1) > 0' --data-urlencode alertFor=0s \
	    --data-urlencode "alertLabels=team=$s"
done
wait_until 60 all_firing || fail "the four alerts never all fired: $(alerts_json)"
wait_until 30 flowmon_idle || fail "reload never settled"
BEFORE=$(alerts_json)
ok "firing: $BEFORE"

check "flowmon again, with a reload delay it never reaches: a bad rule and a good change, both 200, then SIGKILL"
flowmon_stop || fail "flowmon did not stop cleanly"
flowmon_start "$DATA" --promtool none --reload-delay 1h
reconfigure --data-urlencode serviceName=omega --data-urlencode alertName=bad \
    --data-urlencode "alertIf=$BAD"
reconfigure --data-urlencode serviceName=alpha --data-urlencode alertName=up \
    --data-urlencode 'alertIf=vector(2) > 0' --data-urlencode alertFor=0s \
    --data-urlencode "alertLabels=team=alpha"
grep -q 'rate(x' "$DATA/rules/omega.yml" || fail "rules/omega.yml not written"
grep -q 'vector(2)' "$DATA/rules/alpha.yml" || fail "rules/alpha.yml not written"
kill -KILL "$FLOWMON_PID"
wait "$FLOWMON_PID" 2>/dev/null
FLOWMON_PID=""
[ "$(alpha_query)" = 'vector(1) > 0' ] || fail "Prometheus reloaded before the kill"
[ "$(alerts_json)" = "$BEFORE" ] || fail "alerts changed before the kill: $(alerts_json)"
ok "killed before any reload; Prometheus still runs alpha's vector(1) > 0"

check "restart: the culprit is found; every alert stays, with its activeAt (polled every 200 ms)"
# The poller runs on its own, so the checks below do not slow it down:
# each line holds alpha's expression (spaces dropped), then the alerts.
poll_one() { alpha_query | tr -d ' '; alerts_json; }
poll_start "$IT_TMP/polls" poll_one
reloads0=$(prom_reloads)
flowmon_start "$DATA" --promtool none

settled() {
	[ -f "$DATA/rejected/omega.yml" ] && [ ! -e "$DATA/rules/omega.yml" ] &&
	    [ "$(alpha_query)" = 'vector(2) > 0' ] && flowmon_idle
}
wait_until 120 settled ||
	fail "not settled in 120 s: $(ls "$DATA/rules" "$DATA/rejected" 2>&1 | tr '\n' ' ') alpha: $(alpha_query)"
poll_stop "$IT_TMP/polls"
changed=$(awk -v want="$BEFORE" '{ t = $1; $1 = ""; $2 = ""; sub(/^ +/, "") }
    $0 != want { print t, $0 }' "$IT_TMP/polls" | head -n 3)
[ -z "$changed" ] || fail "alerts disappeared or changed activeAt (before: $BEFORE): $changed"
back=$(awk '$2 == "vector(2)>0" { new = 1 } new && $2 != "vector(2)>0" { print $1, $2 }' \
    "$IT_TMP/polls" | head -n 3)
[ -z "$back" ] || fail "alpha's expression went back after vector(2) > 0 was live: $back"
n=$(($(prom_reloads) - reloads0))
ok "$POLLS polls over $POLL_SPAN s, alerts unchanged: $BEFORE; $n reloads after the restart"

check "afterwards: alpha's change is live, omega is rejected with its reason, the rest loaded"
fm_expect 200 $API/services/omega
printf '%s' "$HTTP_BODY" | jq -e '.status == "rejected" and .rules.state == "rejected" and
    (.rules.reason | test("Prometheus refused"))' >/dev/null ||
	fail "services/omega is not rejected: $HTTP_BODY"
for s in $SVCS; do
	fm_expect 200 $API/services/$s
	printf '%s' "$HTTP_BODY" | jq -e '.status == "active" and .rules.state == "loaded"' \
	    >/dev/null || fail "services/$s is not active and loaded: $HTTP_BODY"
	cmp -s "$DATA/rules/$s.yml" "$DATA/accepted/$s.yml" ||
		fail "accepted/$s.yml is not what rules/ holds (what Prometheus loaded)"
done
prom_no_rule_group omega || fail "omega's group is loaded"
[ "$(fm_metric 'flowmon_rule_files{state="rejected"}')" = 1 ] &&
    [ "$(fm_metric 'flowmon_rule_files{state="loaded"}')" = 4 ] ||
	fail "flowmon_rule_files: $(curl -sf "$FLOWMON_URL/metrics" | grep '^flowmon_rule_files')"
ok "alpha runs vector(2) > 0, omega rejected, accepted/ holds what Prometheus runs"

check "another restart: omega stays rejected with the reason it was given"
flowmon_stop || fail "flowmon did not stop cleanly"
flowmon_start "$DATA" --promtool none
fm_expect 200 $API/services/omega
printf '%s' "$HTTP_BODY" | jq -e '.rules.state == "rejected" and
    (.rules.reason | test("Prometheus refused"))' >/dev/null ||
	fail "omega's rejection or its reason did not survive a restart: $HTTP_BODY"
wait_until 30 flowmon_idle || fail "start-up reload never settled"
[ "$(alerts_json)" = "$BEFORE" ] || fail "alerts changed at the restart: $(alerts_json)"
ok "omega rejected: $(printf '%s' "$HTTP_BODY" | jq -r .rules.reason)"

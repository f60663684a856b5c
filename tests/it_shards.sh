#!/bin/bash
# it_shards.sh: two Prometheus shards on one flowmon volume (issue 15).
#   flowmon --prometheus-config --shards 2 --shard 0|1 writes two configs
#   that promtool accepts; two real Prometheus servers load them and read
#   the same targets/ and rules/; ten services with ten distinct target
#   addresses are split between them exactly as Prometheus's hashmod of
#   the address says (computed here independently): every target is
#   scraped by exactly one shard, none by both, together all ten. Rules
#   are loaded by both, but an alert only fires on the shard that scrapes
#   its series; a rule change reloads both; a removed service leaves the
#   shard that had it.
. "$(dirname "$0")/lib.sh"

NSVC=10
MULTIPORT=$(cd "$(dirname "$0")" && pwd)/multiport.py
it_require python3 python3
PROMTOOL=""
it_have promtool prometheus "promtool check config of the shard configs" &&
    PROMTOOL=$(command -v promtool)
DATA=$IT_TMP/data
mkdir -p "$DATA/targets" "$DATA/rules"

# shard_of PORT...: the shard (of 2) Prometheus's hashmod gives each
# 127.0.0.1:PORT, one a line: the MD5 of the address, its last 8 bytes as
# a big-endian integer, mod 2.
shard_of() {
	python3 -c 'import hashlib, sys
for p in sys.argv[1:]:
    h = hashlib.md5(("127.0.0.1:" + p).encode()).digest()
    print(int.from_bytes(h[8:], "big") % 2)' "$@"
}

# ------------------------------------------------------------ targets
check "$NSVC distinct scrape targets on loopback, both shards represented"
PORTS=()
for i in $(seq 1 "$NSVC"); do
	free_port np
	PORTS+=("$np")
done
mapfile -t SHARD < <(shard_of "${PORTS[@]}")
# Ten addresses all hashing alike is a 1-in-512 draw: redraw the last one
# until both shards have a part, so the split is always shown.
while [ "$(printf '%s\n' "${SHARD[@]}" | sort -u | wc -l)" -lt 2 ]; do
	free_port np
	PORTS[NSVC - 1]=$np
	SHARD[NSVC - 1]=$(shard_of "$np")
done
python3 "$MULTIPORT" "${PORTS[@]}" >"$IT_TMP/multiport.log" 2>&1 &
MP_PID=$!
track "$MP_PID"
all_listen() {
	local p
	for p in "${PORTS[@]}"; do
		http_ok "http://127.0.0.1:$p/metrics" || return 1
	done
}
wait_alive 20 "$MP_PID" all_listen || fail "the target listeners did not come up"
n0=$(printf '%s\n' "${SHARD[@]}" | grep -c '^0$')
ok "ports ${PORTS[*]}; by hashmod: $n0 on shard 0, $((NSVC - n0)) on shard 1"

# ------------------------------------------------------------ configs
check "flowmon --prometheus-config --shards 2 --shard 0|1: two configs promtool accepts"
for s in 0 1; do
	FLOWMON_WRAP_SAVED=$FLOWMON_WRAP
	FLOWMON_WRAP="env GLOBAL_SCRAPE_INTERVAL=1s GLOBAL_SCRAPE_TIMEOUT=1s
	    GLOBAL_EVALUATION_INTERVAL=1s GLOBAL_EXTERNAL_LABELS-shard=$s
	    CONFIGS_DIR=$IT_TMP/no-secrets $FLOWMON_WRAP"
	# shellcheck disable=SC2086 # the flags are words
	flowmon_start "$DATA" --prometheus-config "$IT_TMP/shard$s.yml" \
	    --shards 2 --shard $s
	FLOWMON_WRAP=$FLOWMON_WRAP_SAVED
	flowmon_stop || fail "flowmon did not stop cleanly"
	grep -q 'action: hashmod' "$IT_TMP/shard$s.yml" || fail "shard $s: no hashmod"
	grep -q "regex: \"$s\"" "$IT_TMP/shard$s.yml" || fail "shard $s: does not keep $s"
	grep -q "$DATA/rules/\*.yml" "$IT_TMP/shard$s.yml" || fail "shard $s: no rule glob"
	if [ -n "$PROMTOOL" ]; then
		"$PROMTOOL" check config "$IT_TMP/shard$s.yml" \
		    >"$IT_TMP/promtool$s.log" 2>&1 ||
			fail "promtool refuses shard $s: $(cat "$IT_TMP/promtool$s.log")"
	fi
done
cmp -s <(grep -v '^#\|shard\|regex' "$IT_TMP/shard0.yml") \
    <(grep -v '^#\|shard\|regex' "$IT_TMP/shard1.yml") ||
	fail "the two configs differ beyond the shard: $(diff "$IT_TMP/shard0.yml" "$IT_TMP/shard1.yml")"
ok "shard0.yml and shard1.yml differ only in the shard kept${PROMTOOL:+ (promtool check config: both valid)}"

# ---------------------------------------------------------- Prometheus
# shard_start S: Prometheus on a free port with shard S's config. Sets
# P_URL[S], P_PID[S].
P_URL=()
P_PID=()
shard_ready() { alive "${P_PID[$1]}" && http_ok "${P_URL[$1]}/-/ready"; }
shard_start() {
	local s=$1 sport attempt
	for attempt in 1 2 3; do
		free_port sport
		P_URL[s]=http://127.0.0.1:$sport
		"$PROMETHEUS_BIN" --config.file="$IT_TMP/shard$s.yml" \
		    --storage.tsdb.path="$IT_TMP/tsdb$s" \
		    --web.listen-address="127.0.0.1:$sport" \
		    --web.enable-lifecycle --log.level=warn \
		    >"$IT_TMP/prometheus$s.log" 2>&1 &
		P_PID[s]=$!
		track "${P_PID[$s]}"
		if wait_alive 30 "${P_PID[$s]}" shard_ready "$s"; then
			say "prometheus shard $s up on ${P_URL[$s]} (pid ${P_PID[$s]})"
			return 0
		fi
		alive "${P_PID[$s]}" && fail "prometheus shard $s not ready in 30 s"
		grep -qi 'address already in use' "$IT_TMP/prometheus$s.log" ||
			fail "prometheus shard $s did not start"
	done
	fail "prometheus shard $s could not listen"
}
shard_start 0
shard_start 1

# shard_api S PATH: a Prometheus API answer of shard S.
shard_api() { curl -sf --max-time 10 "${P_URL[$1]}$2"; }

# shard_jobs S: "job health" of every active target of shard S, sorted.
shard_jobs() {
	shard_api "$1" /api/v1/targets | jq -r \
	    '.data.activeTargets[] | "\(.labels.job) \(.health)"' | sort
}

# The expected "job up" lines of shard S, sorted.
expected_jobs() {
	local i
	for i in $(seq 0 $((NSVC - 1))); do
		[ "${SHARD[$i]}" = "$1" ] && echo "svc$i up"
	done | sort
}

check "flowmon with both reload URLs; ten services, one target each"
flowmon_start "$DATA" --reload-url "${P_URL[0]}/-/reload,${P_URL[1]}/-/reload" \
    --reload-delay 300ms
for i in $(seq 0 $((NSVC - 1))); do
	reconfigure --data-urlencode "serviceName=svc$i" \
	    --data-urlencode "targets=127.0.0.1:${PORTS[$i]}"
done
ok "$NSVC target files written"

check "each shard scrapes exactly its hashmod part, all up"
split_seen() {
	[ "$(shard_jobs 0)" = "$(expected_jobs 0)" ] &&
	    [ "$(shard_jobs 1)" = "$(expected_jobs 1)" ]
}
if ! wait_until 60 split_seen; then
	say "shard 0 has: $(shard_jobs 0 | tr '\n' ' ')"
	say "shard 1 has: $(shard_jobs 1 | tr '\n' ' ')"
	fail "the shards did not settle on the hashmod split within 60 s"
fi
# None by both, together all: the job sets are disjoint and their union
# is every service.
both=$(comm -12 <(shard_jobs 0 | cut -d' ' -f1) <(shard_jobs 1 | cut -d' ' -f1))
[ -z "$both" ] || fail "scraped by both shards: $both"
union=$( (shard_jobs 0; shard_jobs 1) | cut -d' ' -f1 | sort -u | wc -l)
[ "$union" -eq "$NSVC" ] || fail "the shards together scrape $union of $NSVC"
# What a shard drops is what the other keeps.
dropped0=$(shard_api 0 /api/v1/targets | jq -r \
    '[.data.droppedTargets[].discoveredLabels.job | select(startswith("svc"))] | sort | .[]')
[ "$dropped0" = "$(shard_jobs 1 | cut -d' ' -f1)" ] ||
	fail "shard 0 dropped [$dropped0], shard 1 scrapes [$(shard_jobs 1 | cut -d' ' -f1 | tr '\n' ' ')]"
# The series follow: up of a service exists on its shard only.
for i in 0 $((NSVC - 1)); do
	s=${SHARD[$i]}
	o=$((1 - s))
	q="/api/v1/query?query=up%7Bjob%3D%22svc$i%22%7D"
	have() { [ "$(shard_api "$1" "$q" | jq '.data.result | length')" = "$2" ]; }
	wait_until 20 have "$s" 1 || fail "shard $s has no up{job=\"svc$i\"}"
	have "$o" 0 || fail "shard $o has up{job=\"svc$i\"} too"
done
ok "shard 0: $(shard_jobs 0 | cut -d' ' -f1 | tr '\n' ' ')| shard 1: $(shard_jobs 1 | cut -d' ' -f1 | tr '\n' ' ')"

# ------------------------------------------------------------- rules
# One service of each shard gets an alert on its own up: both shards load
# both rules (one reload each), each fires only where its series is.
A=""
B=""
for i in $(seq 0 $((NSVC - 1))); do
	[ -z "$A" ] && [ "${SHARD[$i]}" = 0 ] && A=$i
	[ -z "$B" ] && [ "${SHARD[$i]}" = 1 ] && B=$i
done
check "alerts on svc$A (shard 0) and svc$B (shard 1): rules on both, each fires on its own shard"
for i in $A $B; do
	reconfigure --data-urlencode "serviceName=svc$i" \
	    --data-urlencode "targets=127.0.0.1:${PORTS[$i]}" \
	    --data-urlencode "alertName=up" \
	    --data-urlencode "alertIf=up{job=\"svc$i\"} == 1"
done
shard_rules() {
	shard_api "$1" /api/v1/rules | jq -r '[.data.groups[].rules[].name] | sort | join(",")'
}
BOTH=$(printf 'svc%s_up\n' "$A" "$B" | sort | paste -sd, -)
rules_on_both() {
	[ "$(shard_rules 0)" = "$BOTH" ] && [ "$(shard_rules 1)" = "$BOTH" ]
}
wait_until 30 rules_on_both || fail "rules not loaded by both shards: [$(shard_rules 0)] [$(shard_rules 1)]"
shard_alerts() {
	shard_api "$1" /api/v1/alerts | jq -r \
	    '[.data.alerts[] | select(.state == "firing") | .labels.alertname] | sort | join(",")'
}
fires_apart() {
	[ "$(shard_alerts 0)" = "svc${A}_up" ] && [ "$(shard_alerts 1)" = "svc${B}_up" ]
}
wait_until 30 fires_apart || fail "alerts: shard 0 [$(shard_alerts 0)], shard 1 [$(shard_alerts 1)]"
ok "both rules on both shards; shard 0 fires svc${A}_up only, shard 1 svc${B}_up only"

# ------------------------------------------------------------ removal
check "removing svc$B: it leaves shard 1, shard 0 is unchanged"
fm_expect 200 /v1/docker-flow-monitor/remove -G --data-urlencode "serviceName=svc$B"
gone() { ! shard_jobs 1 | grep -q "^svc$B "; }
wait_until 30 gone || fail "svc$B still scraped by shard 1"
# All up again, not at every instant: a scrape past its 1 s timeout on a
# busy machine shows a target down until the next one.
shard0_same() { [ "$(shard_jobs 0)" = "$(expected_jobs 0)" ]; }
wait_until 30 shard0_same || fail "shard 0 changed: $(shard_jobs 0 | tr '\n' ' ')"
rule_gone() { [ "$(shard_rules 1)" = "svc${A}_up" ] && [ "$(shard_rules 0)" = "svc${A}_up" ]; }
wait_until 30 rule_gone || fail "svc${B}_up still loaded: [$(shard_rules 0)] [$(shard_rules 1)]"
ok "svc$B gone from shard 1 and from both rule sets"

# ---------------------------------------------------------------- stack
# stack_parses FILE: docker's own schema check (no daemon needed) where
# the CLI has `stack config`, else a YAML parse.
stack_parses() {
	if command -v docker >/dev/null && docker stack config --help >/dev/null 2>&1; then
		docker stack config -c "$1" >/dev/null 2>"$IT_TMP/stack.err" ||
			fail "docker stack config $1: $(grep -v 'Cannot connect' "$IT_TMP/stack.err")"
	else
		python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$1" ||
			fail "$1 does not parse"
	fi
}
check "compose/shards.yml: parses, its shard configs are flowmon's, flowmon reloads both"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
stack_parses "$ROOT/compose/shards.yml"
for s in 0 1; do
	cmp -s "$ROOT/compose/shards/prometheus-$s.yml" "$ROOT/tests/golden/shards-$s.yml" ||
		fail "compose/shards/prometheus-$s.yml differs from what flowmon renders (tests/golden/shards-$s.yml)"
	grep -q "source: prometheus-shard-$s" "$ROOT/compose/shards.yml" ||
		fail "prometheus-$s does not load its shard config"
done
grep -qx '      - FLOWMON_RELOAD_URL=http://prometheus-0:9090/-/reload,http://prometheus-1:9090/-/reload' \
    "$ROOT/compose/shards.yml" || fail "flowmon does not reload both shards"
ok "docker stack config (or YAML) accepts it; prometheus-0.yml and -1.yml equal the goldens"

#!/bin/bash
# tests/it_load.sh: issue 6, load: 64 concurrent keep-alive connections for
# LOAD_SECONDS (default 60) against the real daemon, each sending the mix of
# tests/load.lua (distinct reconfigures over a pool of 200 names, with and
# without alerts, churn reconfigure + remove, GET services, services/<name>
# and /metrics). Asserts:
#   - zero errors: no non-2xx answer, no socket error or timeout (wrk's own
#     report and the script's count agree);
#   - memory flat: RssAnon (flowmon's own memory; VmRSS also counts
#     shared library pages, which the kernel drops and reads back as the
#     machine's memory comes and goes) once idle after a 20 s warm-up of
#     the same mix (LOAD_WARMUP_SECONDS) and once idle after the run
#     differ by less than max(10 %, 4 MiB) (the bound is argued below);
#   - flowmon alive and consistent after: ping, no temp file, every target
#     file is JSON file_sd, every rule file passes promtool, `flowmon check`
#     finds nothing, every file on disk belongs to a service /services
#     lists and says what /services says, and a last reconfigure per name
#     is what ends up on disk.
# flowmon runs with --promtool none (a promtool run per rule change is a
# cost of its own, measured elsewhere) and --task-dns none.
# Under a sanitizer build (detected from the binary, or LOAD_SANITIZED=1)
# or FLOWMON_WRAP the RSS figures are printed but not asserted: ASan's
# quarantine and shadow memory grow RSS by design.
# Run by tests/run-integration.sh with FLOWMON set.
. "$(dirname "$0")/lib.sh"

API=/v1/docker-flow-monitor
LOAD_SECONDS=${LOAD_SECONDS:-60}
WARMUP_SECONDS=${LOAD_WARMUP_SECONDS:-20}
POOL=200
CONNS=64
DATA=$IT_TMP/data
LUA=$(cd "$(dirname "$0")" && pwd)/load.lua

it_require wrk wrk
it_require python3 python3
it_require promtool prometheus
case "$LOAD_SECONDS" in
'' | *[!0-9]* | 0) fail "LOAD_SECONDS=$LOAD_SECONDS is not a positive number of seconds" ;;
esac

SANITIZED=${LOAD_SANITIZED:-0}
if [ "$SANITIZED" = 0 ] && { [ -n "$FLOWMON_WRAP" ] ||
    grep -qa -e __asan_init -e __tsan_init -e __msan_init "$FLOWMON"; }; then
	SANITIZED=1
fi

mkdir -p "$DATA"
flowmon_start "$DATA" --promtool none --task-dns none --log-level warn

anon_kb() { awk '/^RssAnon:/ { print $2 }' "/proc/$FLOWMON_PID/status"; }
mem_status() { grep -E '^(VmRSS|RssAnon|RssFile|Threads):' "/proc/$FLOWMON_PID/status" | tr -s ' \t\n' ' '; }
nthreads() { awk '/^Threads:/ { print $2 }' "/proc/$FLOWMON_PID/status"; }
IDLE_THREADS=$(nthreads)

# settled: the connection threads of the last run have all exited, so the
# RSS read next is that of the idle daemon, comparable from run to run.
settled() { [ "$(nthreads)" -le "$IDLE_THREADS" ]; }

# run_wrk NAME SECONDS: one wrk run of tests/load.lua; fails on any error.
# Sets REQS, RPS, P50, P99, MAXLAT (wrk's figures, as printed).
run_wrk() {
	local name=$1 secs=$2 out=$IT_TMP/wrk-$1.out non2xx sock counted
	LOAD_RUN=$name LOAD_POOL=$POOL wrk -t2 -c$CONNS -d"${secs}s" \
	    --timeout 10s --latency -s "$LUA" "$FLOWMON_URL" >"$out" 2>&1 ||
		fail "wrk ($name) exited with status $?: $(cat "$out")"
	alive "$FLOWMON_PID" || fail "flowmon died during the $name run"
	REQS=$(awk '/ requests in / { print $1 }' "$out")
	RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
	P50=$(awk '$1 == "50%" { print $2 }' "$out")
	P99=$(awk '$1 == "99%" { print $2 }' "$out")
	MAXLAT=$(awk '$1 == "Latency" { print $4; exit }' "$out")
	non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
	sock=$(grep 'Socket errors:' "$out")
	counted=$(sed -n 's/^load: .*non2xx=\([0-9]*\).*/\1/p' "$out")
	[ -n "$REQS" ] && [ -n "$counted" ] ||
		fail "cannot read wrk's report ($name): $(cat "$out")"
	[ -z "$non2xx" ] && [ "$counted" = 0 ] ||
		fail "$name: ${non2xx:-$counted} non-2xx answers: $(grep '^load:' "$out")"
	[ -z "$sock" ] || fail "$name: $sock"
	say "$name: $(grep '^load: ' "$out")"
	say "$name: $REQS requests, $RPS req/s, latency p50 $P50 p99 $P99 max $MAXLAT, 0 errors"
}

check "warm-up: ${WARMUP_SECONDS}s of the mix, every pool name configured"
run_wrk warmup "$WARMUP_SECONDS"
http_get "$FLOWMON_URL$API/services" >"$IT_TMP/services.json" ||
	fail "GET services failed after the warm-up"
n=$(jq '[.[] | select(.serviceName | test("^load-[0-9]+$"))] | length' \
    "$IT_TMP/services.json")
[ "$n" = "$POOL" ] || fail "after the warm-up $n of the $POOL pool names are known"
wait_until 30 settled || fail "connection threads still running 30 s after wrk: $(nthreads)"
RSS0=$(anon_kb)
MEM0=$(mem_status)
ok "all $POOL pool names configured; idle: $MEM0"

check "$CONNS connections for ${LOAD_SECONDS}s: zero errors"
# RSS every second during the run, for the peak (reported, not asserted:
# 64 live connection threads and their buffers are the expected peak).
(
	while kill -0 "$FLOWMON_PID" 2>/dev/null; do
		awk '/^VmRSS:/ { print $2 }' "/proc/$FLOWMON_PID/status"
		sleep 1
	done
) >"$IT_TMP/rss.samples" 2>/dev/null &
SAMPLER=$!
track "$SAMPLER"
run_wrk load "$LOAD_SECONDS"
stop_pid "$SAMPLER" 5
PEAK=$(sort -n "$IT_TMP/rss.samples" | tail -n 1)
ok "$REQS requests in ${LOAD_SECONDS}s, $RPS req/s, p50 $P50, p99 $P99, peak RSS ${PEAK:-?} kB"

check "memory flat: RssAnon idle after the warm-up vs idle after the run"
wait_until 30 settled || fail "connection threads still running 30 s after wrk: $(nthreads)"
RSS1=$(anon_kb)
MEM1=$(mem_status)
GROWTH=$((RSS1 - RSS0))
# The bound: max(10 % of the idle RSS, 4 MiB), twice the largest growth
# seen in healthy runs, so a slower CI machine does not fail it. Idle RSS is comparable
# from run to run because flowmon hands freed pages back to the kernel
# when its last connection closes (malloc_trim in http_guard.c), so what
# stays resident is live data plus the pages it is scattered over in
# glibc's per-thread arenas (up to 8 per core). The warm-up creates every
# pool entry and every arena; what still moves afterwards is that
# scattering, which settles within a minute or two of this mix: idle RSS
# about 20 MB after the 20 s warm-up, about 21 MB after the run, the same
# after ten more minutes (growth measured 1.0 to 1.3 MB; 1.8 MB at most
# with a 15 s warm-up). VmRSS also counts shared library pages, which the
# kernel may drop and read back as memory comes and goes on a busy machine
# (one VmRSS reading grew by 13 MB in a run beside other work; its split
# was not kept): flowmon's own memory is RssAnon, the figure asserted. A
# leak does not settle: the run sends over 100,000
# requests here, so a leak of some 40 bytes per request (one forgotten
# parameter or path string) already adds more than the bound. The figure
# printed is the smallest per-request leak the run would catch; a run too
# short or too slow to catch a 1 KiB leak (a forgotten rendered file) is
# a failure, not a pass.
LIMIT=$((RSS0 / 10))
[ "$LIMIT" -ge 4096 ] || LIMIT=4096
CATCH=$((LIMIT * 1024 / REQS))
if [ "$SANITIZED" = 1 ]; then
	say "sanitizer or wrapper build: RssAnon $RSS0 -> $RSS1 kB ($GROWTH kB), not asserted"
else
	[ "$CATCH" -le 1024 ] ||
		fail "only $REQS requests: the RSS bound would miss a leak of $CATCH bytes per request"
	[ "$GROWTH" -lt "$LIMIT" ] ||
		fail "RssAnon grew from $RSS0 kB to $RSS1 kB ($GROWTH kB, bound $LIMIT kB) over $REQS requests (before: $MEM0; after: $MEM1)"
	ok "RssAnon $RSS0 -> $RSS1 kB ($GROWTH kB, bound $LIMIT kB: catches a leak of $CATCH bytes per request); after: $MEM1"
fi

check "flowmon alive and consistent after the load"
fm_expect 200 $API/ping
temps=$(find "$DATA" -name '.*.tmp.*')
[ -z "$temps" ] || fail "temp files left: $temps"
for f in "$DATA"/targets/*.json; do
	jq -e 'type == "array" and all(.[]; (.targets | type) == "array")' \
	    "$f" >/dev/null || fail "$f is not a file_sd target list: $(head -c 300 "$f")"
done
nt=$(find "$DATA/targets" -name '*.json' | wc -l)
nr=$(find "$DATA/rules" -name '*.yml' | wc -l)
[ "$nr" -gt 0 ] || fail "no rule file at all: the mix sends alerts"
promtool check rules "$DATA"/rules/*.yml >"$IT_TMP/promtool.out" 2>&1 ||
	fail "promtool refuses a rule file: $(grep -v SUCCESS "$IT_TMP/promtool.out" | head -n 20)"
"$FLOWMON" check --data-dir "$DATA" --promtool none >"$IT_TMP/check.out" 2>&1 ||
	fail "flowmon check: $(cat "$IT_TMP/check.out")"
ok "$nt target files parse, $nr rule files pass promtool, flowmon check: $(tail -n 1 "$IT_TMP/check.out")"

# disk_matches_api SERVICES_JSON: every service's files hold what the API
# says (the targets it was given, one rule per alert, in order), and no file
# on disk belongs to no service.
disk_matches_api() {
	python3 - "$1" "$DATA" <<-'EOF'
	import json, os, re, sys
	services = json.load(open(sys.argv[1]))
	data = sys.argv[2]
	bad = []
	names = set()
	for s in services:
	    name = s["serviceName"]
	    names.add(name)
	    tf = os.path.join(data, "targets", name + ".json")
	    rf = os.path.join(data, "rules", name + ".yml")
	    want = s["params"].get("targets")
	    if want is None:
	        if os.path.exists(tf):
	            bad.append(f"{name}: target file but no targets")
	    else:
	        got = [t for g in json.load(open(tf)) for t in g["targets"]]
	        if got != want.split(","):
	            bad.append(f"{name}: targets {got} on disk, {want} in the API")
	    alerts = [a["alert"] for a in s["alerts"]]
	    if not alerts:
	        if os.path.exists(rf):
	            bad.append(f"{name}: rule file but no alerts")
	    else:
	        got = re.findall(r"^  - alert: (\S+)$", open(rf).read(), re.M)
	        if got != alerts:
	            bad.append(f"{name}: alerts {got} on disk, {alerts} in the API")
	for kind, ext in (("targets", ".json"), ("rules", ".yml"), ("state", ".json")):
	    for f in os.listdir(os.path.join(data, kind)):
	        if f.endswith(ext) and f[:-len(ext)] not in names | {"_flowmon"}:
	            bad.append(f"{kind}/{f} belongs to no known service")
	print("\n".join(bad[:20]))
	sys.exit(1 if bad else 0)
	EOF
}
http_get "$FLOWMON_URL$API/services" >"$IT_TMP/services.json" ||
	fail "GET services failed after the load"
out=$(disk_matches_api "$IT_TMP/services.json") ||
	fail "files and API disagree: $out"
ok "every file on disk matches /services ($(jq length "$IT_TMP/services.json") services)"

check "a last reconfigure per pool name is what stays on disk"
for i in 0 77 199; do
	reconfigure --data-urlencode "serviceName=load-$i" \
	    --data-urlencode "targets=127.0.0.1:$((9000 + i))" \
	    --data-urlencode alertName=final --data-urlencode 'alertIf=up == 0'
	jq -e --arg t "127.0.0.1:$((9000 + i))" '.[0].targets == [$t]' \
	    "$DATA/targets/load-$i.json" >/dev/null ||
		fail "targets/load-$i.json: $(cat "$DATA/targets/load-$i.json")"
	grep -q "alert: load$i""_final" "$DATA/rules/load-$i.yml" ||
		fail "rules/load-$i.yml: $(cat "$DATA/rules/load-$i.yml")"
done
alive "$FLOWMON_PID" || fail "flowmon died"
ok "load-0, load-77, load-199 hold their last request"

#!/bin/bash
# tests/it_names.sh: issue 13, hostile file names: files in targets/ whose
# names are not UTF-8, or hold a double quote, a backslash or a line feed,
# must not break GET /files (valid UTF-8 JSON, U+FFFD for a bad byte) nor
# /metrics (label values escaped as the exposition format says): a real
# Prometheus scrapes flowmon's own /metrics through file_sd and keeps it
# up, with the series of each file.
# Run by tests/run-integration.sh with FLOWMON set (FLOWMON_WRAP optional).
. "$(dirname "$0")/lib.sh"

API=/v1/docker-flow-monitor
DATA=$IT_TMP/data
mkdir -p "$DATA/targets" "$DATA/rules"

flowmon_start "$DATA" --promtool none
# Operator files Prometheus cannot use, with hostile names.
printf 'nope' >"$DATA/targets/x$(printf '\303')y.json"
printf 'nope' >"$DATA/targets/q\"uo\\te.json"
printf 'nope' >"$DATA/targets/new
line.json"
# flowmon's own metrics, scraped by Prometheus as a file_sd target.
printf '[{"targets": ["127.0.0.1:%s"], "labels": {"job": "self"}}]\n' \
    "$FLOWMON_PORT" >"$DATA/targets/self.json"

seen_all() {
	curl -sf --max-time 5 "$FLOWMON_URL$API/files" >"$IT_TMP/files.json" &&
	    [ "$(jq '[.[] | select(.valid == false)] | length' "$IT_TMP/files.json")" = 3 ]
}
wait_until 20 seen_all || fail "the watcher did not report the three files: $(cat "$IT_TMP/files.json")"

check "GET /files: valid UTF-8 JSON, each name readable"
fm_expect 200 $API/files
python3 - "$IT_TMP/files.json" <<'EOF' || fail "/files: $(cat "$IT_TMP/files.json")"
import json, sys
raw = open(sys.argv[1], "rb").read()
files = json.loads(raw.decode("utf-8", errors="strict"))
names = sorted(f["file"] for f in files if not f["valid"])
want = sorted(["x\ufffdy.json", 'q"uo\\te.json', "new\nline.json"])
if names != want:
    sys.exit("names %r, want %r" % (names, want))
EOF
ok "$(jq -c '[.[] | select(.valid == false) | .file]' "$IT_TMP/files.json")"

check "/metrics: valid UTF-8, label values escaped"
curl -sf --max-time 10 "$FLOWMON_URL/metrics" >"$IT_TMP/metrics.txt" || fail "no /metrics"
python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' \
    "$IT_TMP/metrics.txt" || fail "/metrics is not UTF-8"
for want in 'file="x\xef\xbf\xbdy.json"' 'file="q\\"uo\\\\te.json"' 'file="new\\nline.json"'; do
	grep -qF "flowmon_file_invalid{dir=\"targets\",$(printf "$want")," "$IT_TMP/metrics.txt" ||
		fail "no series with $want: $(grep flowmon_file_invalid "$IT_TMP/metrics.txt")"
done
ok "$(grep -c '^flowmon_file_invalid{' "$IT_TMP/metrics.txt") invalid-file series"

check "Prometheus scrapes flowmon's /metrics (up == 1) and reads the three series"
prom_start "$DATA"
self_up() {
	prom_api '/api/v1/query?query=up%7Bjob%3D%22self%22%7D' |
	    jq -e '.data.result | length == 1 and .[0].value[1] == "1"' >/dev/null
}
wait_until 40 self_up || fail "Prometheus: $(prom_api '/api/v1/targets' | jq -c '.data.activeTargets[] | select(.labels.job == "self") | {health, lastError}')"
prom_api '/api/v1/query?query=flowmon_file_invalid%7Bjob%3D%22self%22%7D' >"$IT_TMP/q.json"
python3 - "$IT_TMP/q.json" <<'EOF' || fail "series: $(cat "$IT_TMP/q.json")"
import json, sys
r = json.load(open(sys.argv[1]))["data"]["result"]
names = sorted(x["metric"]["file"] for x in r)
want = sorted(["x\ufffdy.json", 'q"uo\\te.json', "new\nline.json"])
if names != want:
    sys.exit("names %r, want %r" % (names, want))
EOF
ok "up 1; flowmon_file_invalid for the three names, as written"

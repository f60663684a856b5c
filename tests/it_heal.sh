#!/bin/bash
# tests/it_heal.sh: issue 13, the store and the registry under a hostile or
# unlucky operator, with the real daemon and the real Debian Prometheus on
# 127.0.0.1:
#   targets/web.json and rules/web.yml deleted by hand -> written again from
#   the record within seconds, logged, counted (flowmon_files_healed_total),
#   Prometheus reloaded and still running the rule;
#   targets/web.json edited by hand -> /files says so, counted
#   (flowmon_files_edited_total); the identical reconfigure rewrites it;
#   a symbolic link in targets/ -> not followed, /files says why;
#   rm -rf targets/ under the daemon (made again by hand, or not) -> the
#   next reconfigure succeeds and writes into the directory that is there;
#   --max-services 3 -> a new fourth service is refused with 400 naming the
#   limit and its flag, nothing written; updates go on; a remove makes room;
#   a long name whose shortened file name another service's record holds ->
#   409, nothing written;
#   a symbolic link as rules/ at start -> exit status 1, the path named;
#   flowmon check reports it.
# Run by tests/run-integration.sh with FLOWMON set (FLOWMON_WRAP optional).
. "$(dirname "$0")/lib.sh"

API=/v1/docker-flow-monitor
DATA=$IT_TMP/data

prom_start "$DATA"
flowmon_start "$DATA" --max-services 3
RELOADS=1	# flowmon reloads once at start
wait_until 30 prom_reloads_are "$RELOADS" || fail "no start-up reload"

# file_json DIR FILE: the /files entry of DIR/FILE (fails if not listed).
file_json() {
	http_get "$FLOWMON_URL$API/files" | jq -ce --arg d "$1" --arg f "$2" \
	    '.[] | select(.dir == $d and .file == $f)'
}

file_owner_is() {
	local j
	j=$(file_json "$1" "$2") || return 1
	[ "$(jq -r .owner <<<"$j")" = "$3" ]
}

both_back() { [ -f "$DATA/targets/web.json" ] && [ -f "$DATA/rules/web.yml" ]; }

metric_is() { [ "$(fm_metric "$1")" = "$2" ]; }

# dir_state: names, sizes, modes and contents of state/, targets/ and
# rules/ (what a refused request must not change).
dir_state() {
	(cd "$DATA" && find state targets rules -printf '%p %y %s %i\n' |
	    LC_ALL=C sort && find state targets rules -type f -print0 |
	    LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

# ---------------------------------------------------------------- heal
check "a flowmon file deleted by hand is written again from its record"
reconfigure --data-urlencode serviceName=web \
    --data-urlencode targets=127.0.0.1:9 --data-urlencode alertName=x \
    --data-urlencode 'alertIf=vector(1) > 0'
RELOADS=$((RELOADS + 1))
wait_until 30 prom_reloads_are "$RELOADS" || fail "no reload for web's rule"
wait_until 10 prom_has_rule web web_x || fail "web_x not loaded"
wait_until 20 file_owner_is targets web.json flowmon ||
	fail "/files does not list targets/web.json as flowmon's"
cp "$DATA/targets/web.json" "$IT_TMP/web.json.orig"
cp "$DATA/rules/web.yml" "$IT_TMP/web.yml.orig"
metric_is 'flowmon_files_healed_total{dir="targets"}' 0 ||
	fail "healed count not 0 at first: $(fm_metric 'flowmon_files_healed_total{dir="targets"}')"

rm "$DATA/targets/web.json" "$DATA/rules/web.yml"
t0=$(date +%s%N)
wait_until 20 both_back || fail "targets/web.json or rules/web.yml not back after 20 s"
dt=$((($(date +%s%N) - t0) / 1000000))
cmp -s "$DATA/targets/web.json" "$IT_TMP/web.json.orig" ||
	fail "targets/web.json came back different"
cmp -s "$DATA/rules/web.yml" "$IT_TMP/web.yml.orig" ||
	fail "rules/web.yml came back different"
ok "both back after $dt ms, byte for byte"
wait_until 10 grep -q 'msg="flowmon file vanished: written again from the record" service=web file=.*/targets/web.json' "$FLOWMON_LOG" ||
	fail "no log line for targets/web.json"
wait_until 10 grep -q 'msg="flowmon file vanished: written again from the record" service=web file=.*/rules/web.yml' "$FLOWMON_LOG" ||
	fail "no log line for rules/web.yml"
ok "$(grep -m1 'flowmon file vanished' "$FLOWMON_LOG")"
wait_until 10 metric_is 'flowmon_files_healed_total{dir="targets"}' 1 ||
	fail "flowmon_files_healed_total{targets} is $(fm_metric 'flowmon_files_healed_total{dir="targets"}'), want 1"
wait_until 10 metric_is 'flowmon_files_healed_total{dir="rules"}' 1 ||
	fail "flowmon_files_healed_total{rules} is $(fm_metric 'flowmon_files_healed_total{dir="rules"}'), want 1"
ok "flowmon_files_healed_total: targets 1, rules 1"
# The rewritten rule file asked for a reload: Prometheus still runs it.
RELOADS=$((RELOADS + 1))
wait_until 30 prom_reloads_are "$RELOADS" ||
	fail "Prometheus received $(prom_reloads) reloads, expected $RELOADS"
prom_has_rule web web_x || fail "web_x gone from Prometheus"
wait_until 20 file_owner_is targets web.json flowmon ||
	fail "/files: targets/web.json is not flowmon's after the heal: $(file_json targets web.json)"
ok "one reload, web_x still loaded, /files lists it as flowmon's"

# ---------------------------------------------------------------- edit
check "a flowmon file edited by hand: reported, counted, rewritten by the identical reconfigure"
tmp=$DATA/targets/.web.json.tmp.edit
printf '[{"targets":["127.0.0.1:10"],"labels":{"job":"web"}}]\n' >"$tmp"
mv "$tmp" "$DATA/targets/web.json"
wait_until 20 file_owner_is targets web.json 'flowmon, edited by hand' ||
	fail "/files: targets/web.json not reported edited: $(file_json targets web.json)"
wait_until 10 grep -q 'flowmon file edited by hand.*file=targets/web.json' "$FLOWMON_LOG" ||
	fail "the edit was not logged"
wait_until 10 metric_is 'flowmon_files_edited_total{dir="targets"}' 1 ||
	fail "flowmon_files_edited_total{targets} is $(fm_metric 'flowmon_files_edited_total{dir="targets"}'), want 1"
ok "reported, logged, counted"
# Edits are no vanished files: nothing healed.
metric_is 'flowmon_files_healed_total{dir="targets"}' 1 || fail "an edit was healed"
reconfigure --data-urlencode serviceName=web \
    --data-urlencode targets=127.0.0.1:9 --data-urlencode alertName=x \
    --data-urlencode 'alertIf=vector(1) > 0'
[ "$(jq -r .result <<<"$HTTP_BODY")" = "service configured" ] ||
	fail "identical reconfigure after an edit: $HTTP_BODY"
[ "$(jq -r .written.targets <<<"$HTTP_BODY")" = true ] ||
	fail "the edited target file was not rewritten: $HTTP_BODY"
cmp -s "$DATA/targets/web.json" "$IT_TMP/web.json.orig" ||
	fail "targets/web.json is not the record's again"
reconfigure --data-urlencode serviceName=web \
    --data-urlencode targets=127.0.0.1:9 --data-urlencode alertName=x \
    --data-urlencode 'alertIf=vector(1) > 0'
[ "$(jq -r .result <<<"$HTTP_BODY")" = "no change" ] ||
	fail "a second identical reconfigure wrote: $HTTP_BODY"
wait_until 20 file_owner_is targets web.json flowmon ||
	fail "/files: targets/web.json not flowmon's after the rewrite"
ok "rewritten (result \"service configured\"), then \"no change\""

# ------------------------------------------------------ a link in targets
check "a symbolic link in targets/ is not followed: /files says so"
printf 'not for prometheus\n' >"$IT_TMP/secret"
ln -s "$IT_TMP/secret" "$DATA/targets/evil.json"
link_reported() {
	local j
	j=$(file_json targets evil.json) || return 1
	[ "$(jq -r .valid <<<"$j")" = false ] &&
	    grep -q 'a symbolic link: flowmon follows no link' <<<"$(jq -r .reason <<<"$j")"
}
wait_until 20 link_reported || fail "/files: $(file_json targets evil.json || echo 'not listed')"
ok "$(file_json targets evil.json | jq -c '{owner, valid, reason}')"
rm "$DATA/targets/evil.json"

# --------------------------------------------------------- rm -rf targets
check "rm -rf targets; mkdir targets under the daemon: the next reconfigure writes into the new directory"
rm -rf "$DATA/targets"
mkdir "$DATA/targets"
ino=$(stat -c %i "$DATA/targets")
reconfigure --data-urlencode serviceName=api --data-urlencode targets=127.0.0.1:11
[ -f "$DATA/targets/api.json" ] || fail "targets/api.json not in the new directory"
[ "$(stat -c %i "$DATA/targets")" = "$ino" ] || fail "targets/ was replaced again"
jq -e '.[0].targets == ["127.0.0.1:11"]' "$DATA/targets/api.json" >/dev/null ||
	fail "targets/api.json: $(cat "$DATA/targets/api.json")"
wait_until 20 test -f "$DATA/targets/web.json" || fail "targets/web.json not healed into the new directory"
wait_until 20 test -f "$DATA/targets/_flowmon.json" || fail "the sentinel not written into the new directory"
wait_until 10 grep -q 'directory of the data dir was replaced or went stale: reopened.*/targets' "$FLOWMON_LOG" ||
	fail "the reopen was not logged"
ok "api.json, web.json and _flowmon.json in the new targets/"

check "rm -rf targets alone: made again, the next reconfigure succeeds"
rm -rf "$DATA/targets"
reconfigure --data-urlencode serviceName=api --data-urlencode targets=127.0.0.1:12
jq -e '.[0].targets == ["127.0.0.1:12"]' "$DATA/targets/api.json" >/dev/null ||
	fail "targets/api.json: $(cat "$DATA/targets/api.json" 2>&1)"
wait_until 20 test -f "$DATA/targets/web.json" || fail "targets/web.json not healed"
wait_until 20 test -f "$DATA/targets/_flowmon.json" || fail "the sentinel not written again"
ok "targets/ made again; api.json, web.json and _flowmon.json there"

# ---------------------------------------------------------- max-services
check "--max-services 3: a new fourth service is refused with 400, nothing written"
reconfigure --data-urlencode serviceName=db --data-urlencode targets=127.0.0.1:13
before=$(dir_state)
fm_expect 400 "$API/reconfigure" -G --data-urlencode serviceName=x4 \
    --data-urlencode targets=127.0.0.1:14
msg=$(jq -r .Message <<<"$HTTP_BODY")
grep -qF 'a new service would exceed --max-services 3 (FLOWMON_MAX_SERVICES)' <<<"$msg" ||
	fail "400 without the limit and its flag: $HTTP_BODY"
[ "$(jq -r .Status <<<"$HTTP_BODY")" = 400 ] || fail "Status: $HTTP_BODY"
[ "$(dir_state)" = "$before" ] || fail "the refused request changed the data dir"
ok "$msg"
reconfigure --data-urlencode serviceName=web \
    --data-urlencode targets=127.0.0.1:9,127.0.0.1:15 --data-urlencode alertName=x \
    --data-urlencode 'alertIf=vector(1) > 0'
[ "$(jq -r .written.targets <<<"$HTTP_BODY")" = true ] || fail "update of web: $HTTP_BODY"
fm_expect 200 "$API/remove" -G --data-urlencode serviceName=db
reconfigure --data-urlencode serviceName=x4 --data-urlencode targets=127.0.0.1:14
[ -f "$DATA/state/x4.json" ] || fail "x4 not written after a remove made room"
[ "$(fm_metric 'flowmon_services{state="active"}')" = 3 ] ||
	fail "flowmon_services{active} is $(fm_metric 'flowmon_services{state="active"}')"
ok "updates go on; a remove makes room"
fm_expect 200 "$API/remove" -G --data-urlencode serviceName=x4

# ------------------------------------------------------------ long names
check "a long name whose file name another service's record holds: 409, nothing written"
LONG=$(printf 'l%.0s' $(seq 1 236))-0001
reconfigure --data-urlencode "serviceName=$LONG" --data-urlencode targets=127.0.0.1:16
base=$(cd "$DATA/state" && ls | grep '~')
[ -n "$base" ] || fail "no shortened file name in state/: $(ls "$DATA/state")"
flowmon_stop || fail "flowmon did not stop cleanly"
# Another service's record under that file name (a copy from another data
# dir, or two names whose hashes collide).
jq '.service = "other" | .params.serviceName = "other"' "$DATA/state/$base" >"$IT_TMP/rec"
cp "$IT_TMP/rec" "$DATA/state/$base"
flowmon_start "$DATA" --max-services 10
wait_until 20 test -f "$DATA/targets/_flowmon.json" || fail "no sentinel after the restart"
before=$(dir_state)
fm_expect 409 "$API/reconfigure" -G --data-urlencode "serviceName=$LONG" \
    --data-urlencode targets=127.0.0.1:17
msg=$(jq -r .Message <<<"$HTTP_BODY")
grep -qF 'service other has that file name already' <<<"$msg" ||
	fail "409 without the owner: $HTTP_BODY"
[ "$(jq -r .Status <<<"$HTTP_BODY")" = 409 ] || fail "Status: $HTTP_BODY"
[ "$(dir_state)" = "$before" ] || fail "the refused request changed the data dir"
grep -q 'reconfigure refused' "$FLOWMON_LOG" || fail "the refusal was not logged"
ok "$msg"

# ------------------------------------------------------------- symlinks
check "a symbolic link as rules/ at start: exit status 1, the path named"
D2=$IT_TMP/linked
mkdir -p "$D2/elsewhere"
ln -s elsewhere "$D2/rules"
free_port P2
timeout 20 "$FLOWMON" --listen "127.0.0.1:$P2" --data-dir "$D2" >"$IT_TMP/linked.log" 2>&1
rc=$?
[ "$rc" = 1 ] || fail "flowmon exited $rc with a linked rules/: $(cat "$IT_TMP/linked.log")"
grep -qF "$D2/rules is a symbolic link: refused" "$IT_TMP/linked.log" ||
	fail "no clear message: $(cat "$IT_TMP/linked.log")"
[ -z "$(ls -A "$D2/elsewhere")" ] || fail "something was written through the link"
ok "exit 1: $(grep -o 'err=.*' "$IT_TMP/linked.log" | head -n 1)"
"$FLOWMON" check --data-dir "$D2" >"$IT_TMP/check.out" 2>&1
rc=$?
[ "$rc" = 1 ] || fail "flowmon check exited $rc: $(cat "$IT_TMP/check.out")"
grep -qF "$D2/rules: cannot open: a symbolic link" "$IT_TMP/check.out" ||
	fail "flowmon check: $(cat "$IT_TMP/check.out")"
ok "flowmon check: $(head -n 1 "$IT_TMP/check.out")"

#!/bin/bash
# tests/it_files.sh: issue 5 item 5, files flowmon did not write, with the
# real Debian Prometheus on 127.0.0.1:
#   a valid rule file written by an operator -> reloaded, listed by
#   GET /files as operator / valid;
#   an invalid one (and an invalid target file, a file the glob does not
#   read) -> listed invalid with the reason, no reload;
#   a hand edit of a flowmon rule file -> reported ("flowmon, edited by
#   hand"), reloaded when valid, not when invalid, and replaced from the
#   record at the next reconfigure of the service;
#   flowmon's own writes never count as hand edits.
# Run by tests/run-integration.sh with FLOWMON set (FLOWMON_WRAP optional).
. "$(dirname "$0")/lib.sh"

API=/v1/docker-flow-monitor
DATA=$IT_TMP/data

prom_start "$DATA"
flowmon_start "$DATA"
RELOADS=1	# flowmon reloads once at start

# settle: Prometheus got exactly RELOADS reloads and flowmon owes none.
settle() {
	wait_until 30 prom_reloads_are "$RELOADS" ||
		fail "Prometheus received $(prom_reloads) reloads, expected $RELOADS"
	wait_until 30 flowmon_idle || fail "flowmon still has a reload pending"
	prom_reloads_are "$RELOADS" ||
		fail "Prometheus received $(prom_reloads) reloads, expected $RELOADS"
}

# put DIR/FILE CONTENT: writes a file the way tools do it: a temp file in
# the same directory (named so no glob reads it), renamed over the name.
put() {
	local tmp
	tmp=$DATA/$(dirname "$1")/.$(basename "$1").tmp.edit
	printf '%s' "$2" >"$tmp" && mv "$tmp" "$DATA/$1"
}

# file_json DIR FILE: the /files entry of DIR/FILE (fails if not listed).
file_json() {
	http_get "$FLOWMON_URL$API/files" | jq -ce --arg d "$1" --arg f "$2" \
	    '.[] | select(.dir == $d and .file == $f)'
}

# file_is DIR FILE OWNER VALID: listed so.
file_is() {
	local j
	j=$(file_json "$1" "$2") || return 1
	[ "$(jq -r .owner <<<"$j")" = "$3" ] && [ "$(jq -r .valid <<<"$j")" = "$4" ]
}

# expect_file DIR FILE OWNER VALID: waits (inotify: at once; polling: 15 s)
# until /files says so.
expect_file() {
	wait_until 20 file_is "$@" ||
		fail "/files: $1/$2 is not owner='$3' valid=$4: $(file_json "$1" "$2" || echo 'not listed')"
}

not_listed() { ! file_json "$1" "$2" >/dev/null; }

triggers() { fm_metric flowmon_files_reload_triggers_total; }

check "start: the start-up reload; /files lists flowmon's sentinel target file"
settle
expect_file targets _flowmon.json flowmon true
ok "$(http_get "$FLOWMON_URL$API/files" | jq -c '[.[] | .file]')"

# ---------------------------------------------------------------- 1
check "flowmon's own files: owner flowmon, valid; no hand-edit reload"
reconfigure --data-urlencode serviceName=svc --data-urlencode targets=127.0.0.1:9 \
    --data-urlencode alertName=mem --data-urlencode 'alertIf=vector(2) > 1'
RELOADS=$((RELOADS + 1))
ORIGINAL=$(cat "$DATA/rules/svc.yml")
expect_file rules svc.yml flowmon true
expect_file targets svc.json flowmon true
settle
wait_until 10 prom_has_rule svc svc_mem || fail "svc_mem not loaded"
[ "$(triggers)" = 0 ] || fail "flowmon's own write counted as a hand edit"
ok "$(file_json rules svc.yml)"

# ---------------------------------------------------------------- 2
check "an operator's valid rule file: reloaded, listed operator / valid"
put rules/ops.yml 'groups:
- name: ops
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
  - alert: OpsAlwaysOn
    expr: vector(1) > 0
    labels:
      severity: info
'
expect_file rules ops.yml operator true
RELOADS=$((RELOADS + 1))
settle
wait_until 10 prom_has_rule ops OpsAlwaysOn ||
	fail "ops.yml not loaded: $(prom_api /api/v1/rules | jq -c '[.data.groups[].name]')"
[ "$(triggers)" = 1 ] || fail "flowmon_files_reload_triggers_total is $(triggers), expected 1"
[ "$(fm_metric 'flowmon_files{dir="rules",owner="operator",valid="true"}')" = 1 ] ||
	fail "flowmon_files{rules,operator,true} is not 1"
[ "$(jq -r .reason <<<"$(file_json rules ops.yml)")" = "" ] || fail "a valid file has a reason"
ok "$(file_json rules ops.yml)"

# ---------------------------------------------------------------- 3
check "an operator's invalid rule file: listed invalid with the reason, no reload"
put rules/broken.yml 'groups:
- name: broken
  rules:
  - alert: Broken
    expr: rate(x[5m]
'
put targets/ops.json '[{"targets": "127.0.0.1:9"}]'
put rules/notes.txt 'not a rule file'
expect_file rules broken.yml operator false
expect_file targets ops.json operator false
expect_file rules notes.txt operator false
why=$(jq -r .reason <<<"$(file_json rules broken.yml)")
case "$why" in
*"promtool check rules"*|*parse*|*expr*) ;;
*) fail "the reason does not say what is wrong: '$why'" ;;
esac
say "  broken.yml: $why"
grep -q 'targets is not an array' <<<"$(file_json targets ops.json)" ||
	fail "targets/ops.json reason: $(file_json targets ops.json)"
grep -q 'does not end in .yml' <<<"$(file_json rules notes.txt)" ||
	fail "rules/notes.txt reason: $(file_json rules notes.txt)"
settle
[ "$(triggers)" = 1 ] || fail "an invalid file asked for a reload"
[ "$(fm_metric 'flowmon_file_invalid{dir="rules",file="broken.yml",owner="operator"}')" = 1 ] ||
	fail "no flowmon_file_invalid series for broken.yml"
[ "$(fm_metric 'flowmon_files{dir="rules",owner="operator",valid="false"}')" = 2 ] ||
	fail "flowmon_files{rules,operator,false} is not 2"
[ "$(fm_metric 'flowmon_files{dir="targets",owner="operator",valid="false"}')" = 1 ] ||
	fail "flowmon_files{targets,operator,false} is not 1"
prom_no_rule_group broken || fail "Prometheus loaded broken.yml"
ok "listed invalid, Prometheus untouched"

check "the operator removes the invalid rule file: unlisted (a reload, as for any removal)"
rm -f "$DATA/rules/broken.yml" "$DATA/rules/notes.txt" "$DATA/targets/ops.json"
wait_until 20 not_listed rules broken.yml || fail "broken.yml still listed"
wait_until 20 not_listed targets ops.json || fail "ops.json still listed"
RELOADS=$((RELOADS + 1))
settle
[ "$(fm_metric 'flowmon_files{dir="rules",owner="operator",valid="false"}')" = 0 ] ||
	fail "flowmon_files{rules,operator,false} is not 0"
ok "gone"

# ---------------------------------------------------------------- 4
check "a valid hand edit of flowmon's rule file: reported, reloaded"
put rules/svc.yml "${ORIGINAL/vector(2) > 1/vector(3) > 1}
"
expect_file rules svc.yml 'flowmon, edited by hand' true
RELOADS=$((RELOADS + 1))
settle
wait_until 10 eval '[ "$(prom_rule svc svc_mem | jq -r .query)" = "vector(3) > 1" ]' ||
	fail "the hand edit is not live: $(prom_rule svc svc_mem)"
[ "$(fm_metric 'flowmon_file_edited_by_hand{dir="rules",file="svc.yml"}')" = 1 ] ||
	fail "no flowmon_file_edited_by_hand series for svc.yml"
wait_until 10 grep -q 'flowmon file edited by hand' "$FLOWMON_LOG" || fail "the edit was not logged"
ok "live in Prometheus and reported"

check "the next reconfigure of svc (same parameters) replaces it from the record"
reconfigure --data-urlencode serviceName=svc --data-urlencode targets=127.0.0.1:9 \
    --data-urlencode alertName=mem --data-urlencode 'alertIf=vector(2) > 1'
[ "$(jq -r .written.rules <<<"$HTTP_BODY")" = true ] ||
	fail "the reconfigure did not rewrite the rule file: $HTTP_BODY"
[ "$(cat "$DATA/rules/svc.yml")" = "$ORIGINAL" ] || fail "rules/svc.yml is not the record's"
expect_file rules svc.yml flowmon true
RELOADS=$((RELOADS + 1))
settle
wait_until 10 eval '[ "$(prom_rule svc svc_mem | jq -r .query)" = "vector(2) > 1" ]' ||
	fail "the record's rule is not live: $(prom_rule svc svc_mem)"
ok "back to the record, one reload"

# ---------------------------------------------------------------- 5
check "an invalid hand edit of flowmon's rule file: reported invalid, no reload"
t=$(triggers)
put rules/svc.yml "${ORIGINAL/vector(2) > 1/rate(x[5m]}
"
expect_file rules svc.yml 'flowmon, edited by hand' false
settle
[ "$(triggers)" = "$t" ] || fail "an invalid hand edit asked for a reload"
[ "$(prom_rule svc svc_mem | jq -r .query)" = "vector(2) > 1" ] ||
	fail "Prometheus changed: $(prom_rule svc svc_mem)"
[ "$(fm_metric 'flowmon_files{dir="rules",owner="edited",valid="false"}')" = 1 ] ||
	fail "flowmon_files{rules,edited,false} is not 1"
ok "$(file_json rules svc.yml | jq -c '{owner, valid, reason}')"

check "an edit of flowmon's target file is reported too (Prometheus reads it without reload)"
put targets/svc.json '[{"targets":["127.0.0.1:10"],"labels":{"job":"svc"}}]'
expect_file targets svc.json 'flowmon, edited by hand' true
settle
ok "reported, no reload"

check "the next reconfigure replaces both"
reconfigure --data-urlencode serviceName=svc --data-urlencode targets=127.0.0.1:9 \
    --data-urlencode alertName=mem --data-urlencode 'alertIf=vector(2) > 1'
expect_file rules svc.yml flowmon true
expect_file targets svc.json flowmon true
[ "$(cat "$DATA/rules/svc.yml")" = "$ORIGINAL" ] || fail "rules/svc.yml is not the record's"
RELOADS=$((RELOADS + 1))
settle
[ "$(fm_metric 'flowmon_files{dir="rules",owner="edited",valid="false"}')" = 0 ] ||
	fail "an edit is still reported"
ok "both flowmon's again"

# ---------------------------------------------------------------- 6
check "a burst of flowmon's own writes: never a hand edit"
t=$(triggers)
for i in $(seq 1 20); do
	reconfigure --data-urlencode serviceName=own-$i --data-urlencode alertName=a \
	    --data-urlencode "alertIf=vector($i) > 0"
done
wait_until 20 file_is rules own-20.yml flowmon true || fail "own-20.yml not listed as flowmon's"
# A name too long for a file name is stored under a shortened one (prefix,
# '~', hash): still flowmon's.
LONG=long-$(printf 'x%.0s' $(seq 1 240))
reconfigure --data-urlencode "serviceName=$LONG" --data-urlencode alertName=a \
    --data-urlencode 'alertIf=vector(1) > 0'
short=$(cd "$DATA/rules" && ls | grep '^long-.*~')
[ -n "$short" ] || fail "no shortened rule file for the 245-byte name"
expect_file rules "$short" flowmon true
[ "$(triggers)" = "$t" ] || fail "flowmon's own writes triggered hand-edit reloads"
[ "$(http_get "$FLOWMON_URL$API/files" | jq '[.[] | select(.owner != "flowmon")] | length')" = 1 ] ||
	fail "files not flowmon's: $(http_get "$FLOWMON_URL$API/files" | jq -c '[.[] | select(.owner != "flowmon")]')"
ok "only ops.yml is not flowmon's"

check "GET only: POST /files is 405"
fm_expect 405 $API/files -X POST
ok "405"

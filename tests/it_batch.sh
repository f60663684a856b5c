#!/bin/bash
# tests/it_batch.sh: issue 12, group commit of rule checks. Fifteen
# reconfigures at once, twelve good and three with a rule promtool refuses,
# against flowmon with the real promtool behind a wrapper held at its start
# until all fifteen requests have reached flowmon, so the requests pile up
# while the first runs wait and the rest are checked together: every good
# request is answered 200 and its files are on disk; each bad one gets its
# own 400 naming its alertIf.N and promtool's reason, and nothing of it
# reaches the disk. A target-only request sent while promtool is held is
# answered: it never waits for a rule check.
# Run by tests/run-integration.sh with FLOWMON set.
. "$(dirname "$0")/lib.sh"

it_require "${PROMTOOL:-promtool}" prometheus
PROMTOOL=${PROMTOOL:-$(command -v promtool)}
DATA=$IT_TMP/data
API=/v1/docker-flow-monitor
cat >"$IT_TMP/promtool" <<EOF
#!/bin/sh
# promtool, held at its start while $IT_TMP/hold exists (60 s at most):
# requests arriving meanwhile wait together.
n=0
while [ -e "$IT_TMP/hold" ] && [ \$n -lt 600 ]; do
	sleep 0.1
	n=\$((n + 1))
done
exec "$PROMTOOL" "\$@"
EOF
chmod +x "$IT_TMP/promtool"
touch "$IT_TMP/hold"

flowmon_start "$DATA" --promtool "$IT_TMP/promtool"

# conns: established connections to flowmon's port (/proc/net/tcp, the
# local address in hex, state 01).
conns() {
	awk -v p="$(printf ':%04X' "$FLOWMON_PORT")" \
	    '$2 ~ p "$" && $4 == "01" { n++ } END { print n + 0 }' /proc/net/tcp
}

metric_or_0() { fm_metric "$1" || echo 0; }

# send NAME CURL-ARGS...: one reconfigure in the background; its status
# code lands in $IT_TMP/code.NAME, its body in $IT_TMP/body.NAME.
PIDS=""
send() {
	local name=$1
	shift
	curl -s -o "$IT_TMP/body.$name" -w '%{http_code}' --max-time 60 -G \
	    "$FLOWMON_URL$API/reconfigure" --data-urlencode "serviceName=$name" \
	    "$@" >"$IT_TMP/code.$name" &
	PIDS="$PIDS $!"
}

check "fifteen reconfigures at once: twelve good, three refused by promtool"
files0=$(metric_or_0 flowmon_promtool_files_total)
batches0=$(metric_or_0 flowmon_promtool_batches_total)
for i in $(seq 1 12); do
	send good$i --data-urlencode alertName=one --data-urlencode "alertIf=up == $i" \
	    --data-urlencode alertName.2=two --data-urlencode "alertIf.2=rate(x[5m]) > $i"
done
send bad1 --data-urlencode alertName=one --data-urlencode 'alertIf=up == 0' \
    --data-urlencode alertName.2=two --data-urlencode 'alertIf.2=rate(x[5m]'
send bad2 --data-urlencode alertName.3=slow --data-urlencode 'alertIf.3=rate(x[5x]) > 0'
send bad3 --data-urlencode alertName=tmpl --data-urlencode 'alertIf=up == 0' \
    --data-urlencode 'alertAnnotations=summary={{ .Broken '
# All fifteen connected, and promtool still held: no rule check can end.
wait_until 30 eval '[ "$(conns)" -ge 15 ]' ||
	fail "only $(conns) of the fifteen requests reached flowmon"
# A target-only request meanwhile: no rule file changes, no check; were it
# to wait for one it would get no answer while promtool is held.
fm_expect 200 $API/reconfigure -G --data-urlencode serviceName=plain \
    --data-urlencode targets=127.0.0.1:9
[ -z "$(find "$DATA" -name 'good*')" ] ||
	fail "a rule request was answered while promtool was held"
ok "a target-only request answered while promtool was held and fifteen rule requests waited"
rm -f "$IT_TMP/hold"
# shellcheck disable=SC2086 # the pids of the fifteen requests
wait $PIDS

for i in $(seq 1 12); do
	code=$(cat "$IT_TMP/code.good$i")
	[ "$code" = 200 ] || fail "good$i: HTTP $code: $(cat "$IT_TMP/body.good$i")"
	grep -q "up == $i" "$DATA/rules/good$i.yml" 2>/dev/null ||
		fail "good$i: rules/good$i.yml does not hold its rule"
	[ -f "$DATA/state/good$i.json" ] || fail "good$i: no record"
done
ok "twelve 200s, each rule file and record on disk"

# refused NAME PARAM REASON: a 400 naming PARAM with promtool's REASON, and
# no file of NAME anywhere in the data dir.
refused() {
	local name=$1 param=$2 reason=$3 code msg
	code=$(cat "$IT_TMP/code.$name")
	[ "$code" = 400 ] || fail "$name: HTTP $code: $(cat "$IT_TMP/body.$name")"
	msg=$(jq -r .Message "$IT_TMP/body.$name")
	case "$msg" in
	"$param "*"promtool check rules"*"rules/$name.yml"*"$reason"*) ;;
	*) fail "$name: Message does not name $param and \"$reason\": $msg" ;;
	esac
	[ -z "$(find "$DATA" -name "$name.*")" ] ||
		fail "$name: files on disk: $(find "$DATA" -name "$name.*")"
	fm_expect 404 $API/services/$name
	ok "$name -> 400: $msg"
}
refused bad1 alertIf.2 "unclosed left parenthesis"
refused bad2 alertIf.3 "bad duration"
refused bad3 alertIf "template"

files=$(($(metric_or_0 flowmon_promtool_files_total) - files0))
batches=$(($(metric_or_0 flowmon_promtool_batches_total) - batches0))
[ "$files" -ge 15 ] || fail "promtool checked $files files, want 15"
[ "$batches" -lt "$files" ] || fail "$files files in $batches batches: none was checked with another"
ok "promtool checked $files files in $batches batches ($(metric_or_0 flowmon_promtool_runs_total) processes in all)"

check "a later good version of a refused service is accepted"
reconfigure --data-urlencode serviceName=bad1 --data-urlencode alertName=one \
    --data-urlencode 'alertIf=up == 0' --data-urlencode alertName.2=two \
    --data-urlencode 'alertIf.2=rate(x[5m]) > 0'
grep -q 'rate(x\[5m\]) > 0' "$DATA/rules/bad1.yml" || fail "rules/bad1.yml missing"
ok "bad1 written"

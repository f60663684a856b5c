#!/bin/bash
# it_silence.sh: deploy silences (--silence-deploys, issue 23) against two
# real Alertmanagers (Debian's prometheus-alertmanager on 127.0.0.1, not
# clustered, as they may not be) and a fake Docker engine
# (tests/fake_docker.py) whose services this script puts in and out of a
# rolling update by editing UpdateStatus.
#
#  - no deploy: no silence anywhere
#  - web updating: one silence in each Alertmanager, created by flowmon,
#    its comment naming web and the update, ending within --silence-ttl;
#    real alerts pushed to Alertmanager show it holds web's alerts and no
#    other's (web2, whose name starts the same, and api stay active); a
#    service without alerts gets none
#  - renewed under the same ID while the update lasts
#  - a --standby reads no Docker and makes no silence; the active flowmon
#    killed, the silence still ends within the ttl; the standby, taking
#    over, takes the silences over too (same IDs, renewed) and expires a
#    duplicate
#  - completed: expired in both; a rollback silences again until it ends
#  - one Alertmanager down, then a black hole: the other still gets its
#    silence, the failure is logged once, Docker changes are still applied
#    at once; back up, it gets its silence too
. "$(dirname "$0")/lib.sh"

AM_BIN=${ALERTMANAGER_BIN:-/usr/bin/prometheus-alertmanager}
it_require "$AM_BIN" prometheus-alertmanager
it_require python3 python3

DATA=$IT_TMP/data
CTL=$IT_TMP/engine
SOCK=$IT_TMP/docker.sock
TTL=15			# --silence-ttl, seconds: renewed every 5 s
mkdir -p "$CTL"

# ---------------------------------------------------------- Alertmanagers
# am_start N [PORT]: Alertmanager number N on PORT (a restart, same data)
# or a free port; sets AM<N>_PID, AM<N>_URL.
am_start() {
	local n=$1 port=${2:-} pid
	[ -n "$port" ] || free_port port
	mkdir -p "$IT_TMP/am$n"
	cat >"$IT_TMP/am$n/am.yml" <<-'EOF'
	route:
	  receiver: keep
	receivers:
	  - name: keep
	EOF
	"$AM_BIN" --config.file="$IT_TMP/am$n/am.yml" \
	    --storage.path="$IT_TMP/am$n" --cluster.listen-address= \
	    --web.listen-address="127.0.0.1:$port" >>"$IT_TMP/am$n.log" 2>&1 &
	pid=$!
	track "$pid"
	printf -v "AM${n}_PID" '%s' "$pid"
	printf -v "AM${n}_URL" '%s' "http://127.0.0.1:$port"
	wait_alive 30 "$pid" http_ok "http://127.0.0.1:$port/-/ready" ||
		fail "Alertmanager $n did not start"
}

# silences URL: flowmon's silences in force there (active or pending).
silences() {
	http_get "$1/api/v2/silences" | jq -c '[.[] | select(.createdBy == "flowmon"
	    and (.status.state == "active" or .status.state == "pending"))]'
}
n_silences() { silences "$1" | jq length; }
has_silences() { [ "$(n_silences "$1")" = "$2" ]; }
# silence_of URL SERVICE: the one silence of SERVICE there (JSON).
silence_of() {
	silences "$1" | jq -ce --arg s "$2" '[.[] | select(.comment |
	    startswith("flowmon deploy silence: service " + $s + " "))] |
	    if length == 1 then .[0] else error("not one") end'
}
# seconds until the silence's end, from now
left() { jq -r '.endsAt | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601 - now | floor' <<<"$1"; }

# push URL NAME...: firing alerts named NAME into Alertmanager.
push() {
	local url=$1
	shift
	printf '%s\n' "$@" | jq -R '{labels: {alertname: ., severity: "page"}}' |
	    jq -s . | curl -sf --max-time 10 -H 'Content-Type: application/json' \
	    -d @- "$url/api/v2/alerts" >/dev/null || fail "cannot push alerts to $url"
}
# alert_state URL NAME: active or suppressed.
alert_state() {
	http_get "$1/api/v2/alerts" | jq -r --arg a "$2" \
	    '.[] | select(.labels.alertname == $a) | .status.state'
}

# ------------------------------------------------------------- the engine
# svc ID NAME STATE [ALERTS...]: a service with com.df.* labels for each
# alert (name=expr) and UpdateStatus.State STATE ("" for none).
svc() {
	local id=$1 name=$2 state=$3 i=0 labels='{"com.df.notify": "true",
	    "com.df.scrapePort": "8080", "com.df.scrapeType": "static_configs"}'
	shift 3
	for a in "$@"; do
		local k=""
		[ "$i" -gt 0 ] && k=".$i"
		labels=$(jq -c --arg k "$k" --arg n "${a%%=*}" --arg e "${a#*=}" \
		    '. + {("com.df.alertName" + $k): $n, ("com.df.alertIf" + $k): $e}' <<<"$labels")
		i=$((i + 1))
	done
	jq -n --arg id "$id" --arg name "$name" --arg st "$state" --argjson l "$labels" \
	    '{ID: $id, Version: {Index: 1},
	      Spec: {Name: $name, Labels: $l, Mode: {Replicated: {Replicas: 2}},
	        TaskTemplate: {ContainerSpec: {Image: ("acme/" + $name + ":2")}}},
	      ServiceStatus: {RunningTasks: 2, DesiredTasks: 2, CompletedTasks: 0}}
	     + (if $st == "" then {} else {UpdateStatus: {State: $st,
	        Message: "update in progress"}} end)'
}
{
	svc w1 web "" "down=up == 0" "mem=up > 1"
	svc w2 web2 "" "down=up == 0"
	svc a1 api "" "down=up == 0"
	svc q1 quiet ""
} | jq -s . >"$CTL/services.json"
echo '[]' >"$CTL/tasks.json"
echo '[]' >"$CTL/nodes.json"
: >"$CTL/events.jsonl"
# state ID STATE: UpdateStatus.State of service ID, and its event.
state() {
	if [ -z "$2" ]; then
		docker_fake_put "$CTL" services.json '(.[] | select(.ID == $id)) |= del(.UpdateStatus)' --arg id "$1"
	else
		docker_fake_put "$CTL" services.json '(.[] | select(.ID == $id) | .UpdateStatus) =
		    {State: $st, Message: ($st + " message")}' --arg id "$1" --arg st "$2"
	fi
	docker_fake_event "$CTL" service update "$1"
}

start() {
	flowmon_start "$DATA" --docker-host "unix://$SOCK" --docker-poll 2s \
	    --alertmanager-url "$AM1_URL, $AM2_URL/" --silence-deploys \
	    --silence-ttl ${TTL}s --log-level debug "$@"
}

docker_fake_start "$CTL" "$SOCK"
am_start 1
am_start 2
start
wait_until 10 test -e "$DATA/rules/web.yml" || fail "web not applied"
wait_until 10 test -e "$DATA/rules/api.yml" || fail "api not applied"

check "no deploy: no silence in either Alertmanager"
wait_until 10 grep -q 'docker reconciled' "$FLOWMON_LOG" || fail "no full round"
for u in "$AM1_URL" "$AM2_URL"; do
	has_silences "$u" 0 || fail "$u: $(silences "$u")"
done
[ "$(fm_metric "flowmon_deploy_silences{alertmanager=\"$AM1_URL\"}")" = 0 ] ||
	fail "metrics: $(curl -s "$FLOWMON_URL/metrics" | grep deploy_silence)"
ok "none"

check "web updating: one silence in each Alertmanager, exactly web's alerts"
state w1 updating
state q1 updating
for u in "$AM1_URL" "$AM2_URL"; do
	wait_until 15 has_silences "$u" 1 || fail "$u: $(silences "$u")"
	s=$(silence_of "$u" web) || fail "$u: not one silence of web: $(silences "$u")"
	jq -e '.matchers == [{"name": "alertname", "value": "^(?:web_down|web_mem)$",
	    "isRegex": true, "isEqual": true}]' <<<"$s" >/dev/null ||
		fail "$u: matchers $(jq -c .matchers <<<"$s")"
	jq -e '.comment | test("web is being deployed .*updating.*acme/web:2")' <<<"$s" >/dev/null ||
		fail "$u: comment $(jq -r .comment <<<"$s")"
	l=$(left "$s")
	[ "$l" -le "$TTL" ] && [ "$l" -gt 0 ] || fail "$u: ends in $l s, not within $TTL s"
done
ok "$(jq -r '.matchers[0].value' <<<"$s"), ending within ${TTL}s; quiet (no alerts) has none"
wait_until 5 eval '[ "$(fm_metric "flowmon_deploy_silences{alertmanager=\"$AM2_URL\"}")" = 1 ]' ||
	fail "metrics: $(curl -s "$FLOWMON_URL/metrics" | grep deploy_silence)"

check "Alertmanager holds web's alerts, not web2's nor api's"
push "$AM1_URL" web_down web_mem web2_down api_down webXdown
held() {
	[ "$(alert_state "$AM1_URL" web_down)" = suppressed ] &&
	    [ "$(alert_state "$AM1_URL" web_mem)" = suppressed ]
}
wait_until 10 held || fail "web's alerts not suppressed: $(http_get "$AM1_URL/api/v2/alerts" | jq -c '[.[] | {a: .labels.alertname, s: .status}]')"
for a in web2_down api_down webXdown; do
	[ "$(alert_state "$AM1_URL" $a)" = active ] || fail "$a is $(alert_state "$AM1_URL" $a)"
done
ok "web_down and web_mem suppressed; web2_down, api_down, webXdown active"

check "renewed under the same ID while the update lasts"
s1=$(silence_of "$AM1_URL" web)
id1=$(jq -r .id <<<"$s1")
renewed() {
	local s
	s=$(silence_of "$AM1_URL" web) || return 1
	[ "$(jq -r .id <<<"$s")" = "$id1" ] &&
	    [ "$(jq -r .endsAt <<<"$s")" \> "$(jq -r .endsAt <<<"$s1")" ]
}
wait_until $((TTL + 5)) renewed || fail "not renewed: $s1 -> $(silences "$AM1_URL")"
[ "$(http_get "$AM1_URL/api/v2/silences" | jq length)" = 1 ] ||
	fail "renewing made more silences: $(http_get "$AM1_URL/api/v2/silences" | jq -c '[.[] | {id, status}]')"
ok "$id1 ends at $(silence_of "$AM1_URL" web | jq -r .endsAt), was $(jq -r .endsAt <<<"$s1")"

check "a standby does nothing of it; flowmon killed, the silence lapses by itself"
active_pid=$FLOWMON_PID
start --standby
[ "$(curl -s -o /dev/null -w '%{http_code}' "$FLOWMON_URL/metrics")" = 503 ] ||
	fail "the standby's /metrics is not 503"
! grep -q 'docker source started\|deploy silences on' "$FLOWMON_LOG" ||
	fail "the standby reads Docker or silences: $(cat "$FLOWMON_LOG")"
s=$(silence_of "$AM2_URL" web) || fail "no silence on AM2"
id2=$(jq -r .id <<<"$s")
# A duplicate, as two flowmons racing would leave (starting a second
# ahead, as flowmon makes them). Made before the kill: the standby polls
# the lock every 250 ms and may take over at once, and it looks for
# duplicates when it takes over.
dup=$(jq -c '{matchers, startsAt: ((now + 1) | strftime("%Y-%m-%dT%H:%M:%S.000Z")),
    endsAt: ((now + 600) | todate), createdBy, comment}' <<<"$s" |
    curl -sf -H 'Content-Type: application/json' -d @- "$AM2_URL/api/v2/silences" |
    jq -r .silenceID) || fail "cannot add a duplicate"
has_silences "$AM2_URL" 2 || fail "the duplicate is not there"
kill -KILL "$active_pid"
wait "$active_pid" 2>/dev/null
silences "$AM2_URL" | jq -e --arg id "$id2" 'any(.[]; .id == $id)' >/dev/null ||
	fail "silence gone with flowmon"
l=$(left "$s")
[ "$l" -le "$TTL" ] || fail "left to run after the crash: $l s"
ok "it ends in $l s (<= ${TTL} s) without flowmon"
say "the standby takes over"
wait_until 15 has_silences "$AM2_URL" 1 || fail "the duplicate stayed: $(silences "$AM2_URL")"
[ "$(silence_of "$AM1_URL" web | jq -r .id)" = "$id1" ] ||
	fail "AM1: not taken over: $(silences "$AM1_URL")"
case $(silence_of "$AM2_URL" web | jq -r .id) in
"$id2"|"$dup") ;;
*) fail "AM2: neither $id2 nor $dup kept: $(silences "$AM2_URL")" ;;
esac
kept=$(silence_of "$AM2_URL" web | jq -r .id)
grep -q 'deploy silence expired.*a second one' "$FLOWMON_LOG" || fail "the duplicate's expiry not logged"
! grep -q 'deploy silence created' "$FLOWMON_LOG" || fail "a new silence was created: $(grep 'deploy silence created' "$FLOWMON_LOG")"
# Taken over means renewed by the new flowmon, same IDs.
e1=$(silence_of "$AM1_URL" web | jq -r .endsAt)
wait_until $((TTL + 5)) eval '[ "$(silence_of "$AM1_URL" web | jq -r .endsAt)" \> "$e1" ]' ||
	fail "the new flowmon does not renew $id1"
[ "$(silence_of "$AM1_URL" web | jq -r .id)" = "$id1" ] || fail "AM1's silence replaced"
[ "$(silence_of "$AM2_URL" web | jq -r .id)" = "$kept" ] || fail "AM2's silence replaced"
ok "same IDs ($id1, $kept), renewed, duplicate expired, nothing created"

check "update completed: expired in both Alertmanagers"
state w1 completed
for u in "$AM1_URL" "$AM2_URL"; do
	wait_until 15 has_silences "$u" 0 || fail "$u: $(silences "$u")"
done
st=$(http_get "$AM1_URL/api/v2/silence/$id1" | jq -r .status.state)
[ "$st" = expired ] || fail "$id1 is $st"
wait_until 10 eval '[ "$(alert_state "$AM1_URL" web_down)" = active ]' ||
	fail "web_down still $(alert_state "$AM1_URL" web_down)"
ok "$id1 expired; web_down active again"

check "a rollback silences again until it ends"
state w1 rollback_started
for u in "$AM1_URL" "$AM2_URL"; do
	wait_until 15 has_silences "$u" 1 || fail "$u: $(silences "$u")"
	silence_of "$u" web | jq -e '.comment | test("rollback_started")' >/dev/null ||
		fail "$u: $(silences "$u")"
done
state w1 rollback_completed
for u in "$AM1_URL" "$AM2_URL"; do
	wait_until 15 has_silences "$u" 0 || fail "$u: $(silences "$u")"
done
ok "silenced during rollback_started, expired at rollback_completed"

check "one Alertmanager down: the other gets its silence, the failure is logged once"
am2_port=${AM2_URL##*:}
stop_pid "$AM2_PID" 10
state a1 updating
wait_until 15 has_silences "$AM1_URL" 1 || fail "AM1: $(silences "$AM1_URL")"
silence_of "$AM1_URL" api >/dev/null || fail "AM1: not api's: $(silences "$AM1_URL")"
failed() { grep -c 'deploy silences failed, will retry' "$FLOWMON_LOG"; }
wait_until 10 eval '[ "$(failed)" = 1 ]' || fail "failure not logged"
n_err=$(fm_metric "flowmon_deploy_silence_errors_total{alertmanager=\"$AM2_URL\"}")
wait_until 10 eval '[ "$(fm_metric "flowmon_deploy_silence_errors_total{alertmanager=\"$AM2_URL\"}")" -gt "$n_err" ]' ||
	fail "no retry counted"
[ "$(failed)" = 1 ] || fail "the failure was logged $(failed) times"
ok "api silenced in AM1; AM2's failure logged once, retried"

check "a black hole in its place: Docker changes are still applied at once"
# Accepts and never answers: a silence request hangs there.
perl -MIO::Socket::INET -e '
	my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0],
	    Listen => 16, ReuseAddr => 1) or die "bind: $!";
	my @c; while (my $c = $s->accept) { push @c, $c; print STDERR "accepted\n"; }' \
	"$am2_port" 2>"$IT_TMP/hole.log" &
HOLE=$!
track "$HOLE"
wait_until 60 grep -q accepted "$IT_TMP/hole.log" || fail "no silence request reached the black hole"
docker_fake_put "$CTL" services.json '(.[] | select(.ID == "a1") | .Spec.Labels["com.df.alertIf"]) = "up == 7"'
docker_fake_event "$CTL" service update a1
wait_until 10 grep -q 'expr: up == 7$' "$DATA/rules/api.yml" ||
	fail "a Docker change waited for Alertmanager: $(cat "$DATA/rules/api.yml")"
ok "api's rule rewritten while a silence request hangs"
stop_pid "$HOLE" 5

check "the Alertmanager back: it gets its silence; the recovery is logged"
am_start 2 "$am2_port"
wait_until 90 has_silences "$AM2_URL" 1 || fail "AM2: $(silences "$AM2_URL")"
silence_of "$AM2_URL" api >/dev/null || fail "AM2: $(silences "$AM2_URL")"
wait_until 10 grep -q 'alertmanager answers again' "$FLOWMON_LOG" || fail "recovery not logged"
state a1 completed
for u in "$AM1_URL" "$AM2_URL"; do
	wait_until 15 has_silences "$u" 0 || fail "$u: $(silences "$u")"
done
ok "api silenced in AM2 too, then expired in both"

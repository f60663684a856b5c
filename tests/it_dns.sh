#!/bin/bash
# it_dns.sh: task DNS (issue 4, item 4). A service with neither nodeInfo,
# targets nor scrapeType=static_configs is scraped at every address of its
# --task-dns name, looked up off the request path, refreshed every
# --dns-refresh, and its file is rewritten only when the address set
# changes. Only names from /etc/hosts are ever looked up: the template
# `local%s` with the service `host` yields `localhost`. (A name that stops
# resolving is covered by tests/check_dns.c with a fake resolver.)
. "$(dirname "$0")/lib.sh"

it_require python3 python3

DATA=$IT_TMP/data
API=/v1/docker-flow-monitor

mtime() { stat -c %Y.%y "$1"; }

# The target file flowmon must write for service host on port $1 (and
# metricsPath $2, if given): localhost's addresses as getaddrinfo gives them
# (any family, stream sockets), sorted and unique, in one group.
expected() {
	python3 - "$@" <<'EOF'
import socket, sys
port, path = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
addrs = sorted({ai[4][0] for ai in socket.getaddrinfo("localhost", None, 0,
    socket.SOCK_STREAM)})
t = ", ".join('"%s:%s"' % ("[%s]" % a if ":" in a else a, port) for a in addrs)
labels = ([("__metrics_path__", path)] if path else []) + [("job", "host"),
    ("service", "host")]
out = '[{\n\t\t"targets":\t[%s],\n\t\t"labels":\t{\n' % t
out += ",\n".join('\t\t\t"%s":\t"%s"' % kv for kv in labels)
out += "\n\t\t}\n\t}]\n"
sys.stdout.write(out)
EOF
}

same_as_expected() {
	expected "$@" >"$IT_TMP/want.json"
	cmp -s "$IT_TMP/want.json" "$DATA/targets/host.json"
}

dns_field() {
	curl -sf --max-time 5 "$FLOWMON_URL$API/services/host" | jq -r ".dns.$1"
}

lookups_at_least() { [ "$(dns_field lookups)" -ge "$1" ] 2>/dev/null; }

# ------------------------------------------- a new service: looked up soon
# A refresh of an hour: the first lookup can only come from the wake-up a
# new service gives the DNS thread.
flowmon_start "$DATA" --task-dns 'local%s' --dns-refresh 1h

check "the create answers before any lookup; the lookup follows off the request path"
fm_expect 200 "$API/reconfigure" -G --data-urlencode serviceName=host \
    --data-urlencode scrapePort=9100
printf '%s' "$HTTP_BODY" | jq -e '.written.targets == false' >/dev/null ||
	fail "the create wrote targets itself: $HTTP_BODY"
wait_until 15 test -f "$DATA/targets/host.json" ||
	fail "targets/host.json did not appear within 15 s"
wait_until 5 same_as_expected 9100 || {
	diff -u "$IT_TMP/want.json" "$DATA/targets/host.json" | cat -A >&2
	fail "targets/host.json is not localhost's addresses"
}
[ "$(dns_field name)" = localhost ] || fail "dns.name is $(dns_field name)"
[ "$(dns_field error)" = null ] || fail "dns.error is $(dns_field error)"
ok "targets/host.json = localhost's addresses, services/host shows dns.name localhost"

check "a reconfigure keeps the resolved set: no target-less gap"
fm_expect 200 "$API/reconfigure" -G --data-urlencode serviceName=host \
    --data-urlencode scrapePort=9100 --data-urlencode metricsPath=/m
same_as_expected 9100 /m || {
	diff -u "$IT_TMP/want.json" "$DATA/targets/host.json" | cat -A >&2
	fail "targets/host.json after the reconfigure"
}
ok "rewritten at once with __metrics_path__ and the same addresses"

check "nodeInfo takes over from DNS, and DNS comes back without it"
fm_expect 200 "$API/reconfigure" -G --data-urlencode serviceName=host \
    --data-urlencode scrapePort=9100 \
    --data-urlencode 'nodeInfo=[["node-1","10.0.0.9","n1"]]'
jq -e '.[0].targets == ["10.0.0.9:9100"]' "$DATA/targets/host.json" \
    >/dev/null || fail "nodeInfo did not replace the DNS targets"
fm_expect 200 "$API/reconfigure" -G --data-urlencode serviceName=host \
    --data-urlencode scrapePort=9100
wait_until 15 same_as_expected 9100 ||
	fail "DNS targets did not come back within 15 s"
ok "10.0.0.9:9100, then localhost's addresses again"

check "a restart neither rewrites the file nor drops targets"
before=$(mtime "$DATA/targets/host.json")
flowmon_stop
flowmon_start "$DATA" --task-dns 'local%s' --dns-refresh 1h
wait_until 15 lookups_at_least 1 || fail "no lookup after the restart"
[ "$(mtime "$DATA/targets/host.json")" = "$before" ] ||
	fail "targets/host.json was rewritten at start"
same_as_expected 9100 || fail "targets/host.json changed"
ok "same bytes, same mtime after the first lookup"

# ------------------------------------------------------------- refresh
check "refresh rounds with an unchanged set rewrite nothing"
flowmon_stop
flowmon_start "$DATA" --task-dns 'local%s' --dns-refresh 300ms
before=$(mtime "$DATA/targets/host.json")
wait_until 20 lookups_at_least 4 || fail "fewer than 4 lookups in 20 s"
[ "$(mtime "$DATA/targets/host.json")" = "$before" ] ||
	fail "targets/host.json was rewritten by a refresh"
ok "$(dns_field lookups) lookups, file untouched"

check "a static_configs or targets service is never looked up"
fm_expect 200 "$API/reconfigure" -G --data-urlencode serviceName=other \
    --data-urlencode scrapePort=9100 --data-urlencode scrapeType=static_configs
curl -sf "$FLOWMON_URL$API/services/other" | jq -e 'has("dns") | not' \
    >/dev/null || fail "services/other has a dns part"
ok "no dns part in services/other"

check "--task-dns none: no lookups, the last set stays on disk"
flowmon_stop
flowmon_start "$DATA" --task-dns none
same_as_expected 9100 || fail "targets/host.json changed"
[ "$(dns_field lookups)" = 0 ] || fail "lookups: $(dns_field lookups)"
ok "file kept, 0 lookups"

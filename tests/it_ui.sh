#!/bin/bash
# it_ui.sh: the status page (GET / and /ui/services/<name>, issue 21)
# rendered by headless Chromium against a real Prometheus: the DOM holds
# the figures, the problems first (a target down, a rule Prometheus
# refuses, a refused unknown service), the services and one service's
# page; hostile label and annotation values (<script>, an <img onerror>,
# quotes, &) show as text and no script from them runs (the title and the
# DOM are checked after rendering); the security headers, the filter and
# the pages, 400 and 404 pages, and the auth of /services. Screenshots are
# kept in build/ui-screenshots/ (UI_SHOTS to put them elsewhere).
. "$(dirname "$0")/lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
it_require "$CHROMIUM" chromium
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHOTS=${UI_SHOTS:-$ROOT/build/ui-screenshots}
mkdir -p "$SHOTS" || fail "cannot make $SHOTS"
DATA=$IT_TMP/data
API=/v1/docker-flow-monitor

# chromium_run OUT MODE URL [SIZE]: renders URL in a fresh profile; MODE
# dom writes the DOM after load (and a second of virtual time for any
# timer a script might have set) to OUT, MODE png a screenshot.
chromium_run() {
	local out=$1 mode=$2 url=$3 size=${4:-1280,900} prof
	prof=$(mktemp -d "$IT_TMP/chromium.XXXXXX")
	local args=(--headless --no-sandbox --disable-gpu --disable-quic
	    --no-first-run --disable-background-networking
	    --disable-component-update --disable-sync
	    --user-data-dir="$prof" --window-size="$size"
	    --virtual-time-budget=1000)
	if [ "$mode" = dom ]; then
		timeout 90 "$CHROMIUM" "${args[@]}" --dump-dom "$url" \
		    >"$out" 2>>"$IT_TMP/chromium.log" ||
			fail "chromium could not render $url: $(tail -n 3 "$IT_TMP/chromium.log")"
	else
		timeout 90 "$CHROMIUM" "${args[@]}" --screenshot="$out" "$url" \
		    >>"$IT_TMP/chromium.log" 2>&1 ||
			fail "chromium could not take $url: $(tail -n 3 "$IT_TMP/chromium.log")"
		[ "$(head -c 8 "$out" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] ||
			fail "$out is not a PNG"
	fi
	rm -rf "$prof"
}

# dom_has FILE TEXT / dom_lacks FILE TEXT: the rendered DOM holds (not) TEXT.
dom_has() { grep -qF -- "$2" "$1" || fail "the page lacks [$2]: $(head -c 600 "$1")"; }
dom_lacks() { ! grep -qiF -- "$2" "$1" || fail "the page holds [$2]: $(grep -iF -- "$2" "$1" | head -c 300)"; }

explain_is() {
	fm "$API/explain/$1"
	[ "$HTTP_CODE" = 200 ] && printf '%s' "$HTTP_BODY" | jq -e "$2" >/dev/null
}

prom_start "$DATA"
flowmon_start "$DATA" --promtool none
free_port DEAD

# No comma in them: alertLabels and alertAnnotations split on commas.
SCRIPT='<script>document.title="pwned";document.body.className="pwned"</script>'
IMG='"><img src=x onerror="document.title=&quot;pwned2&quot;">'
reconfigure --data-urlencode serviceName=web \
    --data-urlencode "targets=127.0.0.1:$PROM_PORT,127.0.0.1:$DEAD" \
    --data-urlencode alertName=down --data-urlencode 'alertIf=up{job="web"} == 0'
reconfigure --data-urlencode serviceName=hostile \
    --data-urlencode "targets=127.0.0.1:$PROM_PORT" \
    --data-urlencode alertName=x --data-urlencode 'alertIf=vector(1) > 1' \
    --data-urlencode "alertAnnotations=summary=$SCRIPT" \
    --data-urlencode "alertLabels=team=$IMG 'quoted' & more"
reconfigure --data-urlencode serviceName=bad --data-urlencode alertName=broken \
    --data-urlencode 'alertIf=sum(rate(x[5m])'
fm_expect 400 "$API/reconfigure" -G --data-urlencode serviceName=ghost \
    --data-urlencode scrapePort=x
wait_until 60 explain_is web '([.prometheus.targets[] | select(.health == "down")] | length) == 1 and
    (.prometheus.alerts[0].state == "firing")' || fail "web never showed down and firing: $HTTP_BODY"
wait_until 60 explain_is bad '.rules.state == "rejected"' || fail "bad never rejected: $HTTP_BODY"
wait_until 30 explain_is hostile '.rules.state == "loaded" and
    ([.prometheus.targets[] | select(.health == "up")] | length) == 1' ||
	fail "hostile never loaded and up: $HTTP_BODY"

check "headers: HTML, a Content-Security-Policy that allows no script, no sniffing"
curl -s -D "$IT_TMP/headers" -o /dev/null "$FLOWMON_URL/"
grep -qi '^content-type: text/html; charset=utf-8' "$IT_TMP/headers" || fail "content type: $(cat "$IT_TMP/headers")"
grep -qi "^content-security-policy: default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'" \
    "$IT_TMP/headers" || fail "CSP: $(grep -i security "$IT_TMP/headers")"
grep -qi '^x-content-type-options: nosniff' "$IT_TMP/headers" || fail "no nosniff"
fm_expect 200 / -I
ok "text/html, CSP default-src 'none', nosniff; HEAD answered"

check "the overview in Chromium: figures, problems first, refused and listed services"
chromium_run "$IT_TMP/overview.html" dom "$FLOWMON_URL/"
D=$IT_TMP/overview.html
dom_has "$D" "<title>status - flowmon</title>"
dom_has "$D" 'id="f-services"><b>3</b>'
dom_has "$D" 'id="f-targets"><b>2 / 3</b>'
dom_has "$D" 'id="f-firing"><b>1</b>'
dom_has "$D" 'id="f-rejected"><b>1</b>'
dom_has "$D" 'last reload, succeeded'
dom_has "$D" '<a href="/ui/services/bad">bad</a>: rule file rejected: Prometheus refused'
dom_has "$D" '<a href="/ui/services/web">web</a>: 1 of 2 targets down'
dom_has "$D" '<b>ghost</b>'
dom_has "$D" 'scrapePort "x" is not a port'
# Rows: the two with problems first, then hostile.
order=$(grep -o 'href="/ui/services/[a-z]*">' "$D" | sed -n '/<\/section>/q;p' |
    sed 's/.*services\/\([a-z]*\)".*/\1/' | tr '\n' ' ')
case "$order" in
"bad web bad web hostile ") ;;
*) fail "links in order: [$order], want the problems (bad web), then the table (bad web hostile)" ;;
esac
dom_lacks "$D" 'class="pwned"'
dom_lacks "$D" '<script'
ok "3 services, 2/3 targets up, 1 firing, 1 rejected; bad and web first; ghost refused"
chromium_run "$SHOTS/overview.png" png "$FLOWMON_URL/"
chromium_run "$SHOTS/overview-phone.png" png "$FLOWMON_URL/" 390,844

check "a service page with hostile values: shown as text, no script ran"
chromium_run "$IT_TMP/hostile.html" dom "$FLOWMON_URL/ui/services/hostile"
D=$IT_TMP/hostile.html
dom_has "$D" "<title>hostile - flowmon</title>"
dom_has "$D" '<h1>hostile</h1>'
# Text nodes come back with <, > and & escaped: the value is text.
dom_has "$D" 'summary=&lt;script&gt;document.title="pwned";document.body.className="pwned"&lt;/script&gt;'
dom_has "$D" 'team="&gt;&lt;img src=x onerror="document.title=&amp;quot;pwned2&amp;quot;"&gt; '"'quoted'"' &amp; more'
dom_lacks "$D" 'class="pwned"'
dom_lacks "$D" '<img'
dom_lacks "$D" '<script'
dom_has "$D" 'id="scraped"'
dom_has "$D" '<td class="ok">up</td>'
dom_has "$D" 'id="rule-state">loaded<'
ok "title and body untouched; the values are text"
chromium_run "$SHOTS/service-hostile.png" png "$FLOWMON_URL/ui/services/hostile" 1280,1400

check "the page of a rejected service, and of one with a target down"
chromium_run "$IT_TMP/bad.html" dom "$FLOWMON_URL/ui/services/bad"
dom_has "$IT_TMP/bad.html" 'id="rule-state">rejected<'
dom_has "$IT_TMP/bad.html" 'id="rule-reason">Prometheus refused'
dom_has "$IT_TMP/bad.html" 'sum(rate(x[5m])'
chromium_run "$IT_TMP/web.html" dom "$FLOWMON_URL/ui/services/web"
dom_has "$IT_TMP/web.html" "http://127.0.0.1:$DEAD/metrics</td><td class=\"bad\">down</td><td>"
dom_has "$IT_TMP/web.html" 'connection refused'
dom_has "$IT_TMP/web.html" '<td>web_down</td><td class="bad">firing</td>'
chromium_run "$SHOTS/service-web.png" png "$FLOWMON_URL/ui/services/web" 1280,1200
ok "rejected with its reason and file; the down target with its error; web_down firing"

check "the filter and the pages work without JavaScript (query parameters)"
chromium_run "$IT_TMP/filtered.html" dom "$FLOWMON_URL/?q=HOST&state=all"
dom_has "$IT_TMP/filtered.html" 'Services (1, filtered)'
dom_has "$IT_TMP/filtered.html" 'value="HOST"'
chromium_run "$IT_TMP/problems.html" dom "$FLOWMON_URL/?state=problems"
dom_has "$IT_TMP/problems.html" 'Services (2, filtered)'
grep -q '/ui/services/hostile' "$IT_TMP/problems.html" && fail "hostile listed among problems"
fm_expect 400 "/?state=bogus"
printf '%s' "$HTTP_BODY" | grep -qF 'state &quot;bogus&quot; is not one of' || fail "400 page: $HTTP_BODY"
fm_expect 400 "/?page=0"
fm_expect 404 /ui/services/nope
printf '%s' "$HTTP_BODY" | grep -qF 'service nope is not known' || fail "404 page: $HTTP_BODY"
fm_expect 404 "/ui/services/%3Cscript%3E"
printf '%s' "$HTTP_BODY" | grep -q '<script' && fail "the 404 page echoes markup"
ok "q and state filter, bad parameters 400, unknown services 404"

check "a page past the last shows the last"
chromium_run "$IT_TMP/page5.html" dom "$FLOWMON_URL/?page=5"
dom_has "$IT_TMP/page5.html" '<span id="page">page 1 of 1</span>'
dom_has "$IT_TMP/page5.html" 'href="/ui/services/hostile">hostile</a></td>'
ok "/?page=5 of one page: page 1, its services"

check "secrets: the rule file, the parameters, a refusal, /services and the log show none"
reconfigure --data-urlencode serviceName=secret --data-urlencode "targets=127.0.0.1:$PROM_PORT" \
    --data-urlencode alertName=up --data-urlencode 'alertIf=vector(1) > 1' \
    --data-urlencode 'alertAnnotations=runbook=http://bob:hunter%2F2SEKRIT@wiki/x,other=https://TOKENABC@h/p'
fm_expect 400 "$API/reconfigure" -G --data-urlencode serviceName=ghost2 \
    --data-urlencode 'scrapePort=http://u:SEKRIT2@h/'
chromium_run "$IT_TMP/secret.html" dom "$FLOWMON_URL/ui/services/secret"
D=$IT_TMP/secret.html
dom_has "$D" 'runbook: http://bob:***@wiki/x'
dom_has "$D" 'other: https://***@h/p'
dom_has "$D" 'runbook=http://bob:***@wiki/x,other=https://***@h/p</td>'
dom_lacks "$D" SEKRIT
dom_lacks "$D" TOKENABC
chromium_run "$IT_TMP/secret-overview.html" dom "$FLOWMON_URL/"
dom_has "$IT_TMP/secret-overview.html" '<b>ghost2</b>'
dom_has "$IT_TMP/secret-overview.html" 'http://u:***@h/'
dom_lacks "$IT_TMP/secret-overview.html" SEKRIT
fm_expect 200 "$API/services/secret"
! grep -q 'SEKRIT\|TOKENABC' <<<"$HTTP_BODY" || fail "/services/secret: $HTTP_BODY"
fm_expect 200 "$API/explain/secret"
! grep -q 'SEKRIT\|TOKENABC' <<<"$HTTP_BODY" || fail "explain/secret: $HTTP_BODY"
! grep -q 'SEKRIT\|TOKENABC' "$FLOWMON_LOG" || fail "the log: $(grep 'SEKRIT\|TOKENABC' "$FLOWMON_LOG")"
grep -q SEKRIT "$DATA/rules/secret.yml" || fail "the rule file Prometheus reads lost its URL"
ok "*** on the page, in the refusal, /services, explain and the log; the file itself intact"
flowmon_stop

check "the page takes the credentials of /services"
printf 'viewer:pw\n' >"$IT_TMP/users"
flowmon_start "$DATA" --promtool none --basic-auth-file "$IT_TMP/users"
fm_expect 401 /
grep -qi '^www-authenticate: basic' < <(curl -s -D - -o /dev/null "$FLOWMON_URL/") ||
	fail "no Basic challenge"
fm_expect 401 /ui/services/web
fm_expect 200 / -u viewer:pw
fm_expect 200 /ui/services/web -u viewer:pw
ok "401 with a Basic challenge without credentials, 200 with"
flowmon_stop

check "no reload configured: the page says so, and that no Prometheus URL is known"
PROM_URL="" flowmon_start "$DATA" --promtool none
reconfigure --data-urlencode serviceName=nr --data-urlencode "targets=127.0.0.1:1" \
    --data-urlencode alertName=up --data-urlencode 'alertIf=vector(1) > 0'
chromium_run "$IT_TMP/noreload.html" dom "$FLOWMON_URL/"
D=$IT_TMP/noreload.html
dom_has "$D" 'id="no-reload">No reload is configured (no --reload-url, no --run-prometheus): 1 rule file is written, but flowmon never asks Prometheus to load it'
dom_has "$D" 'id="f-reload"><b>none</b><span class="warn">no reload configured</span>'
dom_has "$D" '<span id="prom-off">not asked (no Prometheus URL is known: no --prometheus-url, and no --reload-url to derive it from)</span>'
dom_lacks "$D" 'last reload'
dom_lacks "$D" '--prometheus-url none'
chromium_run "$IT_TMP/noreload-nr.html" dom "$FLOWMON_URL/ui/services/nr"
dom_has "$IT_TMP/noreload-nr.html" 'no reload is configured (no --reload-url, no --run-prometheus)'
chromium_run "$SHOTS/overview-no-reload.png" png "$FLOWMON_URL/"
ok "the notice, the figure, the Prometheus line; the service's warning"
say "screenshots: $(cd "$SHOTS" && ls *.png | tr '\n' ' ')in $SHOTS"

#!/bin/bash
# tests/it_docs.sh: the manual page flowmon.8 renders without warnings and
# documents every flag `flowmon --help` lists, with its variable, and every
# sub-command; so a new flag cannot ship undocumented.
# Run by tests/run-integration.sh with FLOWMON set.
. "$(dirname "$0")/lib.sh"

MAN=$(cd "$(dirname "$0")/.." && pwd)/flowmon.8
[ -f "$MAN" ] || fail "no flowmon.8 at the repository root"

check "flowmon.8 renders without warnings"
# The text checked below is the source with its escapes undone, so the
# checks do not depend on groff; groff (Debian's groff-base) adds the
# warning check where it is installed.
sed -e 's/\\-/-/g' -e 's/\\e/\\/g' -e 's/\\f[BIRP]//g' "$MAN" >"$IT_TMP/man.txt"
if command -v groff >/dev/null; then
	warn=$(groff -man -ww -z "$MAN" 2>&1)
	[ -z "$warn" ] || fail "groff warnings: $warn"
	ok "groff: no warning"
else
	say "groff not installed: rendering not checked"
fi

check "every flag of --help, with its variable, is in the manual"
"$FLOWMON" --help >"$IT_TMP/help.txt" || fail "--help exited $?"
n=0
while read -r flag env; do
	grep -q -- "^\\.B[IR]* $flag\\b" "$IT_TMP/man.txt" ||
		fail "flowmon.8 does not document $flag"
	if [ -n "$env" ]; then
		grep -q -- "$env" "$IT_TMP/man.txt" ||
			fail "flowmon.8 does not name $env (the variable of $flag)"
	fi
	n=$((n + 1))
done < <(awk '
	/^  --/ { if (f) print f, ""; f = $1; next }
	/^ +env [A-Z_]+,/ && f { e = $2; sub(",", "", e); print f, e; f = ""; next }
	END { if (f) print f, "" }' "$IT_TMP/help.txt")
[ "$n" -ge 20 ] || fail "only $n flags parsed from --help"
ok "$n flags documented"

check "sub-commands, endpoints, signals and files are covered"
for s in 'flowmon check' 'flowmon reloader' SIGHUP SIGTERM \
    /v1/docker-flow-monitor/reconfigure /v1/docker-flow-monitor/remove \
    /v1/docker-flow-monitor/node/reconfigure /v1/docker-flow-monitor/node/remove \
    /v1/docker-flow-monitor/ping /v1/docker-flow-monitor/services \
    /v1/docker-flow-monitor/files /v1/docker-flow-monitor/sd /metrics \
    http_sd_configs 'EXIT STATUS' 'targets/' 'rules/' 'state/'; do
	grep -qF -- "$s" "$IT_TMP/man.txt" || fail "flowmon.8 does not mention $s"
done
ok "all present"

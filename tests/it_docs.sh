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
if it_have groff groff-base "flowmon.8's rendering"; then
	warn=$(groff -man -ww -z "$MAN" 2>&1)
	[ -z "$warn" ] || fail "groff warnings: $warn"
	ok "groff: no warning"
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

check "every flag of flowmon plan --help is in the manual"
"$FLOWMON" plan --help >"$IT_TMP/plan-help.txt" || fail "plan --help exited $?"
n=0
for flag in $(awk '/^  --/ { print $1 }' "$IT_TMP/plan-help.txt"); do
	grep -q -- "^\\.B[IR]* $flag\\b\|\\.BR* $flag\\b\|^\\.B $flag$" "$IT_TMP/man.txt" ||
		fail "flowmon.8 does not document plan's $flag"
	n=$((n + 1))
done
[ "$n" -ge 10 ] || fail "only $n flags parsed from plan --help"
ok "$n flags of plan documented"

check "sub-commands, endpoints, signals and files are covered"
for s in 'flowmon check' 'flowmon reloader' 'flowmon plan' SIGHUP SIGTERM \
    /v1/docker-flow-monitor/reconfigure /v1/docker-flow-monitor/remove \
    /v1/docker-flow-monitor/node/reconfigure /v1/docker-flow-monitor/node/remove \
    /v1/docker-flow-monitor/ping /v1/docker-flow-monitor/services \
    /v1/docker-flow-monitor/files /v1/docker-flow-monitor/sd /metrics \
    http_sd_configs 'EXIT STATUS' 'targets/' 'rules/' 'state/'; do
	grep -qF -- "$s" "$IT_TMP/man.txt" || fail "flowmon.8 does not mention $s"
done
ok "all present"

check "README's Two commands: the commands as typed, what each installs as .ci/deps.sh lists it"
ROOT=$(dirname "$MAN")
sed -n '/^## Two commands/,/^## Try it/p' "$ROOT/README.md" >"$IT_TMP/two.md"
grep -qxF '    make run     # builds and starts flowmon on 127.0.0.1:8080, data dir ./var' "$IT_TMP/two.md" ||
	fail "README: the make run line changed"
grep -qxF '    make test    # installs what is missing (as root), builds, runs every test' "$IT_TMP/two.md" ||
	fail "README: the make test line changed"
tr -d '`\n' <"$IT_TMP/two.md" | tr -s ' ' >"$IT_TMP/two.txt"
for m in build test; do
	want=$(sh "$ROOT/.ci/deps.sh" "list-$m" | tr '\n' ' ')
	[ "$m" = test ] && want=$(sh "$ROOT/.ci/deps.sh" list-test |
	    grep -vxF -f <(sh "$ROOT/.ci/deps.sh" list-build) | tr '\n' ' ')
	grep -qF -- "list-$m: ${want% }." "$IT_TMP/two.txt" ||
		fail "README's $m list is not .ci/deps.sh's: $want"
done
# make run's first step is the build packages, before any compiling.
# (A make of its own: not the flags of a make this test may run under.)
first=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -s -n \
    -C "$ROOT" run 2>/dev/null | head -n 1)
[ "$first" = "sh .ci/deps.sh build" ] || fail "make -n run starts with: $first"
ok "both lines as typed; build and test lists match; make run starts with the deps step"

#!/bin/bash
# tests/it_check.sh: issue 7, `flowmon check`, on a data dir the real daemon
# wrote, then damaged one way at a time:
#   good dir -> exit 0, no output; a torn target file, a rule file with bad
#   PromQL (found by promtool), a stray temp file -> exit 1, exactly one
#   line naming the file; check never changes the dir; a missing dir ->
#   exit 2; and the next daemon start repairs what check reported. A
#   service name over 213 bytes (stored under a shortened file name) is
#   found through the store's naming, not called an invalid name.
# Run by tests/run-integration.sh with FLOWMON set (FLOWMON_WRAP optional).
. "$(dirname "$0")/lib.sh"

API=/v1/docker-flow-monitor
DATA=$IT_TMP/data
OUT=$IT_TMP/check.out
ERR=$IT_TMP/check.err
it_require promtool prometheus

# run_check [ARGS...]: flowmon check on $DATA; sets CHECK_RC, output in
# $OUT (problems) and $ERR (notes and summary). The dir must not change.
run_check() {
	local before after
	before=$(snapshot_dir "$DATA")
	# shellcheck disable=SC2086 # FLOWMON_WRAP is a command line
	${FLOWMON_WRAP:+$FLOWMON_WRAP} "$FLOWMON" check --data-dir "$DATA" "$@" \
	    >"$OUT" 2>"$ERR"
	CHECK_RC=$?
	after=$(snapshot_dir "$DATA")
	[ "$before" = "$after" ] || fail "flowmon check changed the data dir"
}

# expect_one_problem FILE TEXT: exit 1 and exactly one line, about FILE.
expect_one_problem() {
	run_check
	[ "$CHECK_RC" = 1 ] || fail "check exited $CHECK_RC, not 1: $(cat "$OUT" "$ERR")"
	[ "$(wc -l <"$OUT")" = 1 ] || fail "expected one problem line: $(cat "$OUT")"
	grep -qF "$DATA/$1: " "$OUT" || fail "the line does not name $1: $(cat "$OUT")"
	grep -qF "$2" "$OUT" || fail "the line does not say \"$2\": $(cat "$OUT")"
	grep -q '1 problem$' "$ERR" || fail "no summary: $(cat "$ERR")"
	ok "$(cat "$OUT")"
}

expect_clean() {
	run_check "$@"
	[ "$CHECK_RC" = 0 ] || fail "check exited $CHECK_RC on a good dir: $(cat "$OUT" "$ERR")"
	[ ! -s "$OUT" ] || fail "check printed problems for a good dir: $(cat "$OUT")"
}

mkdir -p "$DATA"
flowmon_start "$DATA"
reconfigure --data-urlencode serviceName=web --data-urlencode targets=127.0.0.1:9100 \
    --data-urlencode alertName=down --data-urlencode 'alertIf=up == 0' \
    --data-urlencode alertFor=30s
reconfigure --data-urlencode serviceName=api --data-urlencode targets=127.0.0.1:9200 \
    --data-urlencode 'alertName=mem' --data-urlencode 'alertIf=@service_mem_limit:0.8'
reconfigure --data-urlencode serviceName=db --data-urlencode targets=127.0.0.1:9300
# A 240-byte service name: the store keeps its files under a shortened
# base name (213 bytes ending in ~<hash>), the record holds the name.
LONG=l$(printf 'o%.0s' $(seq 239))
reconfigure --data-urlencode "serviceName=$LONG" --data-urlencode targets=127.0.0.1:9400 \
    --data-urlencode alertName=down --data-urlencode 'alertIf=up == 0'
fm_expect 200 "$API/node/reconfigure?id=n1&hostname=h1"

check "a good dir, while the daemon runs: exit 0, no problem"
expect_clean
grep -q "$DATA: 0 problems" "$ERR" || fail "no summary: $(cat "$ERR")"
ok "$(cat "$ERR")"

check "a service name over 213 bytes: its shortened files pass, as the daemon loads them"
LONG_STATE=$(find "$DATA/state" -name "${LONG:0:196}~*.json")
[ -n "$LONG_STATE" ] || fail "no shortened state file for the 240-byte name: $(ls "$DATA/state")"
[ -n "$(find "$DATA/rules" -name "${LONG:0:196}~*.yml")" ] || fail "no shortened rule file"
expect_clean
ok "$(basename "$LONG_STATE"): no problem"
flowmon_stop || fail "flowmon did not stop cleanly"

check "the data dir from FLOWMON_DATA_DIR, as for the daemon"
FLOWMON_DATA_DIR=$DATA "$FLOWMON" check >"$OUT" 2>"$ERR" ||
	fail "check with FLOWMON_DATA_DIR exited $?: $(cat "$OUT" "$ERR")"
ok "exit 0"

check "a torn target file (the first half of web.json)"
cp "$DATA/targets/web.json" "$IT_TMP/web.json.good"
head -c $(($(wc -c <"$IT_TMP/web.json.good") / 2)) "$IT_TMP/web.json.good" \
    >"$DATA/targets/web.json"
expect_one_problem targets/web.json "invalid file_sd file: not JSON"
cp "$IT_TMP/web.json.good" "$DATA/targets/web.json"
expect_clean

check "a rule file with bad PromQL (promtool finds it)"
cp "$DATA/rules/web.yml" "$IT_TMP/web.yml.good"
sed -i 's/expr: .*/expr: rate(up[5m] > 0/' "$DATA/rules/web.yml"
grep -q 'rate(up\[5m\] > 0' "$DATA/rules/web.yml" || fail "sed did not break the rule"
expect_one_problem rules/web.yml "invalid rule file: promtool check rules: rules/web.yml"
grep -q 'parse error' "$OUT" || fail "promtool's reason is missing: $(cat "$OUT")"
check "the same file without promtool: valid YAML, but not its record"
run_check --promtool none
[ "$CHECK_RC" = 1 ] || fail "check --promtool none exited $CHECK_RC"
grep -qF "$DATA/rules/web.yml: does not match state/web.json" "$OUT" ||
	fail "no mismatch reported: $(cat "$OUT")"
ok "$(cat "$OUT")"
cp "$IT_TMP/web.yml.good" "$DATA/rules/web.yml"
expect_clean

check "a stray temp file left by a crashed writer"
printf '[{"targets": ["127.0.0.1:92' >"$DATA/targets/.api.json.tmp.999999999.7"
touch -d '2 hours ago' "$DATA/targets/.api.json.tmp.999999999.7"
expect_one_problem targets/.api.json.tmp.999999999.7 "stray temp file"
[ -e "$DATA/targets/.api.json.tmp.999999999.7" ] || fail "check removed the temp file"

check "all three at once: three lines, exit 1"
head -c 10 "$IT_TMP/web.json.good" >"$DATA/targets/web.json"
sed -i 's/expr: .*/expr: rate(up[5m] > 0/' "$DATA/rules/web.yml"
run_check
[ "$CHECK_RC" = 1 ] && [ "$(wc -l <"$OUT")" = 3 ] ||
	fail "expected 3 problems, exit 1: rc $CHECK_RC $(cat "$OUT")"
ok "$(tr '\n' '|' <"$OUT")"

check "the next daemon start repairs all of it"
flowmon_start "$DATA"
flowmon_stop || fail "flowmon did not stop cleanly"
expect_clean
cmp -s "$DATA/targets/web.json" "$IT_TMP/web.json.good" ||
	fail "targets/web.json not rewritten from its record"
cmp -s "$DATA/rules/web.yml" "$IT_TMP/web.yml.good" ||
	fail "rules/web.yml not rewritten from its record"
ok "check is clean again; files equal the originals"

check "a record that no longer parses"
printf '{"service": "db", "removed": false, "params": {"serviceName": "db", "scrapePort": "http"}}\n' \
    >"$DATA/state/db.json"
expect_one_problem state/db.json "record does not load"

check "a data dir that does not exist: exit 2"
"$FLOWMON" check --data-dir "$IT_TMP/nope" >"$OUT" 2>"$ERR"
rc=$?
[ "$rc" = 2 ] || fail "exit $rc for a missing data dir"
grep -q 'No such file' "$ERR" || fail "no reason given: $(cat "$ERR")"
ok "$(cat "$ERR")"

check "flowmon --help lists every flag with its variable and default"
"$FLOWMON" --help >"$OUT" || fail "--help exited $?"
for f in listen data-dir reload-url reload-delay promtool shortcuts secrets-dir \
    task-dns listener-address log-level max-body basic-auth-file \
    bearer-token-file auth-reads tls-cert tls-key max-header-bytes \
    max-connections connection-timeout max-alerts max-rule-bytes; do
	grep -q -- "--$f" "$OUT" || fail "--help does not list --$f"
done
grep -q 'flowmon check \[--data-dir DIR\]' "$OUT" || fail "--help does not show check"
n_flags=$(grep -c '^  --' "$OUT")
n_env=$(grep -c 'env [A-Z_]*, default ' "$OUT")
[ $((n_flags - 2)) = "$n_env" ] ||
	fail "$n_flags flags but $n_env env/default lines (--help and --version have none)"
"$FLOWMON" --version | grep -q '^flowmon [0-9]' || fail "--version"
ok "$n_env flags, each with its variable and default; --version works"

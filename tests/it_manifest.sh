#!/bin/bash
# tests/it_manifest.sh: issue 24, the manifest of targets/ and rules/
# (state/.files.manifest) that lets a start read only the files that moved
# while flowmon was down:
#   a clean stop writes it, a start takes it (it is gone once flowmon
#   answers), and a start on files that did not move reads none of them;
#   a hand edit while flowmon was down that keeps the size and puts the
#   mtime back (only the change time shows it) is read and judged at the
#   next start: an operator's rule file made invalid is reported invalid,
#   flowmon's target file is written again from its record;
#   after a crash (SIGKILL) there is no manifest and the start reads every
#   file; nor after a manifest that does not parse (torn).
# Run by tests/run-integration.sh with FLOWMON set (FLOWMON_WRAP optional).
. "$(dirname "$0")/lib.sh"

API=/v1/docker-flow-monitor
DATA=$IT_TMP/data
MANIFEST=$DATA/state/.files.manifest
# Same size, one letter apart: the second is not a rule file.
GOOD='groups:
- name: op
  rules:
  - record: op:x
    expr: vector(1)
'
BAD=${GOOD/record/recxrd}

# The first scan's own count, from its log line (files=N read=M): a later
# poll reads again what flowmon wrote within 2 s of its last look.
reads() {
	sed -n 's/.*msg="first scan of targets\/ and rules\/ done".* read=\([0-9]*\).*/\1/p' \
	    "$FLOWMON_LOG"
}
scanned() { [ -n "$(reads)" ]; }

# file_valid DIR FILE true|false: /files says so of DIR/FILE.
file_valid() {
	http_get "$FLOWMON_URL$API/files" | jq -e --arg d "$1" --arg f "$2" \
	    --argjson v "$3" '[.[] | select(.dir == $d and .file == $f and
	    .valid == $v)] | length == 1' >/dev/null
}
files_listed() { http_get "$FLOWMON_URL$API/files" | jq length; }

# settled: no file under targets/ or rules/ changed in the last 3 s, so a
# look now takes identities a later start may trust (a change time within
# 2 s of a look proves nothing: watch.h, WATCH_RACY_MS).
settled() {
	[ -z "$(find "$DATA/targets" "$DATA/rules" -type f \
	    -newerct "@$(($(date +%s) - 3))" -print -quit)" ]
}

# edit_in_place FILE TEXT: FILE gets TEXT in place (same inode), its
# mtime put back: only its change time says it moved.
edit_in_place() {
	touch -r "$1" "$IT_TMP/stamp"
	printf '%s' "$2" >"$1"
	touch -r "$IT_TMP/stamp" "$1"
}

check "a clean stop writes the manifest, a start takes it"
flowmon_start "$DATA"
reconfigure --data-urlencode serviceName=a \
    --data-urlencode targets=127.0.0.1:9100
reconfigure --data-urlencode serviceName=b \
    --data-urlencode targets=127.0.0.1:9200 --data-urlencode alertName=up \
    --data-urlencode 'alertIf=up == 0'
printf '%s' "$GOOD" >"$DATA/rules/op.yml"
wait_until 20 file_valid rules op.yml true ||
	fail "/files does not list rules/op.yml as valid"
flowmon_stop || fail "flowmon did not stop cleanly"
[ -s "$MANIFEST" ] || fail "no state/.files.manifest after a clean stop"
ok "state/.files.manifest written ($(wc -l <"$MANIFEST") lines)"
# The files were read within 2 s of their writes: this start reads them
# again, at a moment that lets the next one trust them.
wait_until 10 settled || fail "files under targets/ and rules/ keep changing"
flowmon_start "$DATA"
[ ! -e "$MANIFEST" ] || fail "the manifest is still there once flowmon answers"
wait_until 20 scanned || fail "no first scan"
flowmon_stop || fail "flowmon did not stop cleanly"
[ -s "$MANIFEST" ] || fail "no manifest after the second clean stop"
ok "taken at start, written again at the stop"

check "a start on files that did not move reads none of them"
flowmon_start "$DATA"
wait_until 20 scanned || fail "no first scan"
n=$(files_listed)
[ "$(reads)" = 0 ] ||
	fail "the first scan read $(reads) of $n files, none moved"
file_valid rules op.yml true || fail "rules/op.yml no longer valid"
flowmon_stop || fail "flowmon did not stop cleanly"
ok "$n files listed, 0 read"

check "an edit while down, size and mtime kept, is read and judged"
cp "$DATA/targets/a.json" "$IT_TMP/a.json.orig"
edit_in_place "$DATA/rules/op.yml" "$BAD"
edit_in_place "$DATA/targets/a.json" \
    "$(sed 's/127.0.0.1:9100/127.0.0.1:9101/' "$IT_TMP/a.json.orig")
"
cmp -s "$DATA/targets/a.json" "$IT_TMP/a.json.orig" &&
	fail "the edit of targets/a.json did not take"
[ "$(stat -c %s "$DATA/targets/a.json")" = "$(stat -c %s "$IT_TMP/a.json.orig")" ] ||
	fail "the edit of targets/a.json changed its size"
flowmon_start "$DATA"
wait_until 20 scanned || fail "no first scan"
wait_until 10 file_valid rules op.yml false ||
	fail "rules/op.yml, edited while flowmon was down, still listed valid"
cmp -s "$DATA/targets/a.json" "$IT_TMP/a.json.orig" ||
	fail "targets/a.json, edited while flowmon was down, not written again from its record"
# rules/op.yml and the new targets/a.json; nothing else moved.
[ "$(reads)" = 2 ] || fail "the first scan read $(reads) files, not 2"
ok "rules/op.yml invalid, targets/a.json written again, 2 files read"

check "after a crash the start reads every file"
kill -KILL "$FLOWMON_PID"
wait "$FLOWMON_PID" 2>/dev/null
FLOWMON_PID=""
[ ! -e "$MANIFEST" ] || fail "a manifest outlived a crash"
flowmon_start "$DATA"
wait_until 20 scanned || fail "no first scan"
n=$(files_listed)
[ "$(reads)" = "$n" ] || fail "the first scan read $(reads) of $n files"
file_valid rules op.yml false || fail "rules/op.yml not invalid"
flowmon_stop || fail "flowmon did not stop cleanly"
ok "no manifest, all $n files read"

check "a torn manifest is none: the start reads every file"
[ -s "$MANIFEST" ] || fail "no manifest after the clean stop"
# Half of it: the last line cut short.
head -c "$(($(stat -c %s "$MANIFEST") / 2 + 3))" "$MANIFEST" >"$IT_TMP/torn"
cat "$IT_TMP/torn" >"$MANIFEST"
flowmon_start "$DATA"
wait_until 20 scanned || fail "no first scan"
grep -q 'msg="the manifest of targets/ and rules/ does not parse' \
    "$FLOWMON_LOG" || fail "no warning of the torn manifest"
[ ! -e "$MANIFEST" ] || fail "the torn manifest is still there"
n=$(files_listed)
[ "$(reads)" = "$n" ] || fail "the first scan read $(reads) of $n files"
file_valid rules op.yml false || fail "rules/op.yml not invalid"
flowmon_stop || fail "flowmon did not stop cleanly"
ok "warned, all $n files read"

#!/bin/bash
# tests/it_changes.sh: issue 20, each change is all or nothing. The data
# dir lives on a small tmpfs whose state/, targets/ and rules/ are each a
# bind mount of themselves, so that each one alone can be made read-only
# (the write there fails with EROFS), and the tmpfs can be filled
# (ENOSPC). For a new service, an update and a remove, failing at each of
# the three writes (record, target file, rule file): the answer is a 5xx
# naming the write that failed, and the record, the target file and the
# rule file are exactly as they were (a new service leaves nothing), on
# disk and in /services/<name>; no temp file is left; and a restart
# rewrites nothing ("outputs rewritten from record" never appears), so no
# failed change goes live later. The same for a node change (node/
# reconfigure, node/remove), which re-renders the target file of every
# service with a task on the node: failing at the node record (nodes/
# read-only), at the first target file (targets/ read-only), at each
# target file in turn (chattr +i on it) and at the third of its writes
# (a full tmpfs), the node record, every target file, /services, the
# http_sd view (rendered with the labels in memory) and the labels the
# node endpoints answer with are as before.
# Needs mount(2) in a private mount namespace: as root (the integration
# tests run as root), or through a user namespace; a skip (it_skip) saying
# why when neither works.
# Run by tests/run-integration.sh with FLOWMON set.

if [ -z "${CHANGES_NS:-}" ]; then
	if unshare -m --propagation private true 2>/dev/null; then
		CHANGES_NS=root exec unshare -m --propagation private bash "$0" "$@"
	elif unshare -rm --propagation private true 2>/dev/null; then
		CHANGES_NS=user exec unshare -rm --propagation private bash "$0" "$@"
	fi
	CHANGES_NS=none
fi

. "$(dirname "$0")/lib.sh"

API=/v1/docker-flow-monitor

if [ "$CHANGES_NS" = none ]; then
	it_skip "no private mount namespace (unshare -m and unshare -rm both failed: not root, and user namespaces are off)"
fi
FSR=$IT_TMP/fs.real
FS=$IT_TMP/fs
D=$FS/data
mkdir -p "$FSR" "$FS"
if ! mount -t tmpfs -o size=512k,mode=0755 tmpfs "$FSR" 2>"$IT_TMP/mount.err" ||
    ! mount --bind "$FSR" "$FS" 2>>"$IT_TMP/mount.err"; then
	it_skip "cannot mount a tmpfs ($(cat "$IT_TMP/mount.err"))"
fi
KINDS="state targets rules"
unmount_all() {
	local k
	for k in $KINDS nodes; do umount -l "$D/$k" 2>/dev/null; done
	umount -l "$D/.flowmon.lock" "$FS" "$FSR" 2>/dev/null
}
# shellcheck disable=SC2154 # rc is set by the trap itself
trap 'rc=$?; unmount_all; (exit $rc); it_cleanup' EXIT
mkdir -p "$D"
# The lock file is open for writing, which keeps a mount from going
# read-only: bound from outside the tmpfs (as in it_faults.sh).
: >"$IT_TMP/lock.real"
: >"$D/.flowmon.lock"
mount --bind "$IT_TMP/lock.real" "$D/.flowmon.lock" || fail "cannot bind the lock file"
for k in $KINDS nodes; do
	mkdir -p "$D/$k"
	mount --bind "$D/$k" "$D/$k" || fail "cannot bind $k/ on itself"
done
ro() { mount -o "remount,bind,ro" "$D/$1" || fail "cannot make $1/ read-only"; }
rw() { mount -o "remount,bind,rw" "$D/$1" || fail "cannot make $1/ writable"; }

# files_of: every file of the data dir but the filler and the lock, with
# its SHA-256: equal outputs mean no file was created, removed or changed.
files_of() {
	(
		cd "$D" || exit 1
		find . -type f ! -name .flowmon.lock -print0 | LC_ALL=C sort -z |
		    xargs -0 -r sha256sum
	)
}
no_temp_files() {
	local t
	t=$(find "$D" -name '.*.tmp.*')
	[ -z "$t" ] || fail "temp files left: $t"
}
# service NAME: /services/NAME as code and body, the generation-free view.
service() {
	fm "$API/services/$1"
	printf '%s %s' "$HTTP_CODE" "$(jq -cS 'del(.dns)' <<<"$HTTP_BODY" 2>/dev/null)"
}

export DF_NODE_TARGET_LABELS=zone
flowmon_start "$D" --promtool none
say "data dir on a 512 KiB tmpfs, state/ targets/ rules/ bound on themselves (namespace: $CHANGES_NS)"

q() {	# q NAME PORT ALERT-FOR: the query of a reconfigure with all three files
	printf 'serviceName=%s&targets=127.0.0.1:%s&alertName=down&alertIf=%s&alertFor=%s' \
	    "$1" "$2" "$(jq -rn '"up == 0" | @uri')" "$3"
}
fm_expect 200 "$API/reconfigure?$(q web 9100 1m)"
fm_expect 200 "$API/reconfigure?$(q db 9300 1m)"

# refused KIND ERRNO REQUEST NAME: with KIND/ read-only (or none: as it is),
# REQUEST is a 5xx whose Message names KIND/NAME.* and whose Errno is
# ERRNO, and nothing changed: files, temp files, /services/NAME.
refused() {
	local kind=$1 errno=$2 path=$3 name=$4 before view
	before=$(files_of)
	view=$(service "$name")
	[ "$kind" = none ] || ro "$kind"
	fm "$path"
	[ "$kind" = none ] || rw "$kind"
	case $HTTP_CODE in 5??) ;; *) fail "$path with $kind/ read-only: got $HTTP_CODE: $HTTP_BODY" ;; esac
	jq -e --arg e "$errno" --arg k "$kind" --arg n "$name" \
	    '.Errno == $e and (.Message | contains(($k | if . == "none" then "" else . end) + "/" + $n + "."))' \
	    <<<"$HTTP_BODY" >/dev/null ||
		fail "$path: $HTTP_CODE without the failing write in Message/Errno: $HTTP_BODY"
	[ "$(files_of)" = "$before" ] ||
		fail "$path failed at $kind/ but the data dir changed: $(diff <(echo "$before") <(files_of))"
	no_temp_files
	[ "$(service "$name")" = "$view" ] ||
		fail "$path failed at $kind/ but /services/$name changed: $view -> $(service "$name")"
	say "  $HTTP_CODE $(jq -c '{Message, Errno}' <<<"$HTTP_BODY")"
}

check "a new service failing at the record, the target file, the rule file: nothing left"
for k in $KINDS; do
	refused "$k" EROFS "$API/reconfigure?$(q fresh 9500 1m)" fresh
done
[ ! -e "$D/state/fresh.json" ] && [ ! -e "$D/targets/fresh.json" ] &&
    [ ! -e "$D/rules/fresh.yml" ] || fail "fresh left files: $(ls -R "$D")"
fm_expect 404 "$API/services/fresh"
ok "three 500s, no file of fresh anywhere, /services/fresh 404"

check "an update (new target, new alertFor) failing at each write: the old record, targets and rules"
for k in $KINDS; do
	refused "$k" EROFS "$API/reconfigure?$(q web 9200 5m)" web
done
jq -e '.[0].targets == ["127.0.0.1:9100"]' "$D/targets/web.json" >/dev/null ||
	fail "targets/web.json: $(cat "$D/targets/web.json")"
grep -q 'for: 1m' "$D/rules/web.yml" || fail "rules/web.yml: $(cat "$D/rules/web.yml")"
fm_expect 200 "$API/services/web"
jq -e '.params.targets == "127.0.0.1:9100" and .params.alertFor == "1m"' <<<"$HTTP_BODY" >/dev/null ||
	fail "/services/web does not show the last acknowledged state: $HTTP_BODY"
ok "web still on 9100 with for: 1m, on disk and in /services/web"

check "a remove failing at each of its writes: every file back"
for k in $KINDS; do
	refused "$k" EROFS "$API/remove?serviceName=db" db
done
[ -f "$D/state/db.json" ] && [ -f "$D/targets/db.json" ] && [ -f "$D/rules/db.yml" ] ||
	fail "db lost files: $(ls -R "$D")"
ok "db keeps its record, target file and rule file"

check "a full data dir: room for the record, not for the rule file"
# 100 alerts as @shortcuts: the record names each shortcut (about 5 KiB),
# the rule file holds each one expanded (over 40 KiB). With 16 KiB free the
# record and the target file are written and the rule file is not.
many="serviceName=web&targets=127.0.0.1:9200"
for i in $(seq 1 100); do
	many="$many&alertName.$i=m$i&alertIf.$i=@service_mem_limit:0.$((i % 9 + 1))"
done
dd if=/dev/zero of="$FS/filler" bs=4k 2>/dev/null
truncate -s -16K "$FS/filler"
sync
refused none ENOSPC "$API/reconfigure?$many" web
grep -q 'alert: web_down' "$D/rules/web.yml" || fail "rules/web.yml: $(cat "$D/rules/web.yml")"
grep -q '127.0.0.1:9100' "$D/state/web.json" || fail "state/web.json: $(cat "$D/state/web.json")"
rm -f "$FS/filler"
ok "500 ENOSPC at rules/web.yml; the old record, targets and rules stay"

check "a node change failing at any of its writes: node record, target files, views as before"
# na, nb, nc have a task on n1 each; other has one on n2.
for s in na:1 nb:2 nc:3 other:4; do
	n=n1
	[ "${s%:*}" = other ] && n=n2
	reconfigure --data-urlencode "serviceName=${s%:*}" --data-urlencode scrapePort=9100 \
	    --data-urlencode "nodeInfo=[[\"h\",\"10.0.0.${s#*:}\",\"$n\"]]"
done
fm_expect 200 "$API/node/reconfigure?id=n1&zone=eu"
jq -e '.[0].labels.zone == "eu"' "$D/targets/na.json" >/dev/null || fail "targets/na.json: $(cat "$D/targets/na.json")"
# views: /services of the four and the http_sd view.
views() {
	local s
	for s in na nb nc other; do service "$s"; echo; done
	fm "$API/sd"
	printf '%s %s\n' "$HTTP_CODE" "$(jq -cS . <<<"$HTTP_BODY")"
}
# node_refused HOW WHAT ERRNO REQUEST: with WHAT (a kind dir: HOW ro; a
# file: HOW immutable; HOW none: as it is) failing, REQUEST is a 5xx with
# Errno ERRNO and nothing changed: files, temp files, views.
node_refused() {
	local how=$1 what=$2 errno=$3 path=$4 before view
	before=$(files_of)
	view=$(views)
	case $how in
	ro) ro "$what" ;;
	immutable) chattr +i "$D/$what" || fail "chattr +i $what" ;;
	esac
	fm "$path"
	case $how in
	ro) rw "$what" ;;
	immutable) chattr -i "$D/$what" ;;
	esac
	case $HTTP_CODE in 5??) ;; *) fail "$path with $what failing: got $HTTP_CODE: $HTTP_BODY" ;; esac
	jq -e --arg e "$errno" '.Errno == $e' <<<"$HTTP_BODY" >/dev/null ||
		fail "$path: $HTTP_CODE without Errno $errno: $HTTP_BODY"
	[ "$(files_of)" = "$before" ] ||
		fail "$path failed at $what but the data dir changed: $(diff <(echo "$before") <(files_of))"
	no_temp_files
	[ "$(views)" = "$view" ] ||
		fail "$path failed at $what but the views changed: $(diff <(echo "$view") <(views))"
	say "  $HTTP_CODE $(jq -c '{Message, Errno}' <<<"$HTTP_BODY")"
}
for req in "node/reconfigure?id=n1&zone=us" "node/remove?id=n1"; do
	node_refused ro nodes EROFS "$API/$req"
	node_refused ro targets EROFS "$API/$req"
	for s in na nb nc; do
		node_refused immutable "targets/$s.json" EPERM "$API/$req"
	done
done
# Room for the node record and one target file (a page each), not two:
# fails at the third write, whichever services come first.
dd if=/dev/zero of="$FS/filler" bs=4k 2>/dev/null
truncate -s -8K "$FS/filler"
sync
node_refused none - ENOSPC "$API/node/reconfigure?id=n1&zone=us"
rm -f "$FS/filler"
ok "every failure a 5xx, nodes/n1.json and targets/n[abc].json as they were, views unchanged"

check "a restart rewrites nothing: no failed change goes live"
before=$(files_of)
views_before="$(service web) $(service db) $(service fresh) $(views)"
flowmon_stop || fail "flowmon did not stop cleanly"
flowmon_start "$D" --promtool none
grep 'outputs rewritten from record' "$FLOWMON_LOG" &&
	fail "a restart rewrote outputs from a record"
[ "$(files_of)" = "$before" ] || fail "a restart changed files: $(diff <(echo "$before") <(files_of))"
[ "$(service web) $(service db) $(service fresh) $(views)" = "$views_before" ] ||
	fail "the services changed across the restart"
ok "same files, same /services and http_sd view after the restart"

check "writable again: the same requests go through"
fm_expect 200 "$API/reconfigure?$(q fresh 9500 1m)"
fm_expect 200 "$API/reconfigure?$(q web 9200 5m)"
fm_expect 200 "$API/remove?serviceName=db"
jq -e '.[0].targets == ["127.0.0.1:9200"]' "$D/targets/web.json" >/dev/null &&
    grep -q 'for: 5m' "$D/rules/web.yml" && [ -f "$D/rules/fresh.yml" ] &&
    [ ! -e "$D/state/db.json" ] && [ ! -e "$D/targets/db.json" ] &&
    [ ! -e "$D/rules/db.yml" ] || fail "files wrong after the retries: $(ls -R "$D")"
fm_expect 200 "$API/node/remove?id=n1"
jq -e '.NodeLabel == {"zone": "eu"}' <<<"$HTTP_BODY" >/dev/null ||
	fail "node/remove does not answer with the labels kept: $HTTP_BODY"
for s in na nb nc; do
	jq -e '.[0].labels | has("zone") | not' "$D/targets/$s.json" >/dev/null ||
		fail "targets/$s.json keeps zone: $(cat "$D/targets/$s.json")"
done
[ ! -e "$D/nodes/n1.json" ] || fail "nodes/n1.json left"
no_temp_files
ok "fresh written, web updated, db removed, n1 removed (it answered zone=eu)"

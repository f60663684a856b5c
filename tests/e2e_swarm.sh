#!/bin/bash
# e2e_swarm.sh (make e2e): flowmon's images and stacks on a real Docker
# engine and a one-node swarm, with locally built images only.
#
#  1. an engine: the running one, else dockerd started here (and stopped at
#     the end); none can start: a loud notice and exit $E2E_NO_ENGINE_RC
#     (77; .ci/run passes 0)
#  2. the base image debian:12-slim, made by debootstrap from apt's own
#     mirror when the engine lacks it (tests/e2e/base_image.sh)
#  3. both Dockerfile targets with the legacy builder and with BuildKit:
#     each builds only the stages it uses, ships promtool, runs as flowmon
#     and reports healthy; the stand-ins of tests/e2e/Dockerfile
#  4. the real Docker Flow Swarm Listener, built from source by
#     ../shared/third_party/build-swarm-listener.sh (cached in
#     build/swarm-listener/) into an image named as the stacks name it
#     (tests/e2e/swarm-listener.Dockerfile); without ../shared/third_party
#     (a clone outside this project's CI) that part is skipped, loudly,
#     counted in the last line, and the drop-in reads Docker instead
#  5. a one-node swarm (made here and left at the end, unless one runs)
#     with compose/dfm-proxy.yml (drop-in, fed by that swarm-listener) and
#     compose/split.yml (flowmon reading Docker itself, deploy silences
#     on) deployed, and the README's one-service layout
#  6. plain `docker service create/update/rm` of a labelled service: up
#     targets, a firing alert (in Alertmanager too), a label update that
#     changes the rule, 3 replicas give 3 targets and Docker's counts on
#     /metrics (and in Prometheus), a slow rolling update silenced in
#     Alertmanager exactly while it runs, a killed flowmon task comes back
#     with the same targets and rules, a flowmon on an empty data dir gets
#     every service back from swarm-listener's get-services, a removal
#     removes both; webhooks keep working beside the other sources; the
#     requests swarm-listener sent are logged (flowmon's debug log) and a
#     few shown
#
# Only 127.0.0.1 and the swarm's own overlay networks are reached. Every
# wait polls with a timeout. The trap removes what the test made.
# E2E_KEEP=1 keeps the temp dir; E2E_BUILDKIT=0 skips the BuildKit builds;
# E2E_THIRD_PARTY names another directory for swarm-listener's source (one
# that does not exist shows the skip).
set -u
cd "$(dirname "$0")/.." || exit 1

DOCKER=${DOCKER:-/usr/bin/docker}
[ -x "$DOCKER" ] || DOCKER=$(command -v docker || echo docker)
NO_ENGINE_RC=${E2E_NO_ENGINE_RC:-77}
E2E_BUILDKIT=${E2E_BUILDKIT:-1}
TAG=e2e
IMG_FLOWMON=flowmon:$TAG
IMG_DROPIN=flowmon-prometheus:$TAG
IMG_PROM=flowmon-e2e/prometheus:$TAG
IMG_AM=flowmon-e2e/alertmanager:$TAG
IMG_LISTENER=dockerflow/docker-flow-swarm-listener:latest	# the stacks' name
THIRD_PARTY=${E2E_THIRD_PARTY:-../shared/third_party}	# swarm-listener's source
SL_DIR=build/swarm-listener	# the listener's binary, kept between runs
DROP=fme2e-drop			# stack: compose/dfm-proxy.yml
SPLIT=fme2e-split		# stack: compose/split.yml
SELF=fme2e-self			# the README's single service
APP=fme2eapp			# the labelled service under test
MONITOR_NETWORK=fme2e-monitor
PROXY_NETWORK=fme2e-proxy

T0=$(date +%s%N)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/flowmon-e2e.XXXXXX") || exit 1
FAILED=0
SKIPPED=0
PARTS_SKIPPED=""		# what did not run, and why
NPARTS_SKIPPED=0
LISTENER=0			# 1: the real swarm-listener feeds the drop-in
DOCKERD_PID=""
SWARM_MADE=0
LABEL_ADDED=0
NODE=""
MADE_NETWORKS=""
CONTAINERS=""
VOLUMES_BEFORE=""
BG_PIDS=""			# background builds

# ------------------------------------------------------------- helpers
elapsed() {
	local ns=$(($(date +%s%N) - T0))
	printf '%d.%d' $((ns / 1000000000)) $((ns / 100000000 % 10))
}
say() { printf '[e2e_swarm %6ss] %s\n' "$(elapsed)" "$*"; }
check() { say "check: $*"; }
ok() { say "  ok: $*"; }
loud() {
	printf '\n%s\n' "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
	printf '!!! %s\n' "$@" >&2
	printf '%s\n\n' "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
}

# What went wrong, from the swarm's side: tasks and the last log lines of
# every service this test made.
diagnose() {
	local s
	"$DOCKER" info >/dev/null 2>&1 || return 0
	for s in $("$DOCKER" service ls -q --filter label=com.docker.stack.namespace=$DROP 2>/dev/null) \
	    $("$DOCKER" service ls -q --filter label=com.docker.stack.namespace=$SPLIT 2>/dev/null) \
	    $("$DOCKER" service ls -q --filter name=$APP --filter name=$SELF 2>/dev/null); do
		echo "---- service $("$DOCKER" service inspect -f '{{.Spec.Name}}' "$s" 2>/dev/null)" >&2
		"$DOCKER" service ps --no-trunc --format '{{.Name}} {{.CurrentState}} {{.Error}}' "$s" 2>&1 | head -n 5 >&2
		"$DOCKER" service logs --tail 25 --raw "$s" 2>&1 | tail -n 25 >&2
	done
}

fail() {
	FAILED=1
	say "FAIL: $*" >&2
	diagnose
	[ -n "$DOCKERD_PID" ] && { echo "---- last lines of dockerd's log" >&2; tail -n 15 "$TMP/dockerd.log" >&2; }
	exit 1
}

# wait_until TIMEOUT CMD [ARGS...]: CMD every 0.5 s until it succeeds or
# TIMEOUT seconds have passed (then 1).
wait_until() {
	local deadline=$(($(date +%s) + $1))
	shift
	while :; do
		"$@" && return 0
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.5
	done
}

http_ok() { [ "$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' "$1")" = 200 ]; }
http_get() { curl -sf --max-time 10 "$1"; }

# free_port VAR: a TCP port nothing listens on, on any address (ports are
# published in host mode, on every address of the node).
PORTS_GIVEN=" "
free_port() {
	local p _
	for _ in $(seq 1 300); do
		p=$((20000 + RANDOM % 12000))
		case "$PORTS_GIVEN" in *" $p "*) continue ;; esac
		if perl -MIO::Socket::INET -e 'exit(IO::Socket::INET->new(
		    LocalAddr => "0.0.0.0", LocalPort => $ARGV[0], Proto => "tcp",
		    Listen => 1, ReuseAddr => 1) ? 0 : 1)' "$p"; then
			PORTS_GIVEN="$PORTS_GIVEN$p "
			printf -v "$1" '%s' "$p"
			return 0
		fi
	done
	fail "no free port found"
}

engine_up() { "$DOCKER" info >/dev/null 2>&1; }

# ------------------------------------------------------------- cleanup
gone() { [ -z "$("$DOCKER" ps -aq "$@" 2>/dev/null)" ]; }

cleanup() {
	local rc=$? c n v
	trap - EXIT INT TERM
	[ "$FAILED" = 1 ] && rc=1
	say "cleaning up"
	for c in $BG_PIDS; do
		pkill -TERM -P "$c" 2>/dev/null
		kill -TERM "$c" 2>/dev/null
		wait "$c" 2>/dev/null
	done
	if engine_up; then
		for c in $CONTAINERS; do
			"$DOCKER" rm -f "$c" >/dev/null 2>&1
		done
		"$DOCKER" service rm $APP $SELF >/dev/null 2>&1
		"$DOCKER" stack rm $DROP $SPLIT >/dev/null 2>&1
		wait_until 90 gone --filter label=com.docker.stack.namespace=$DROP &&
		    wait_until 90 gone --filter label=com.docker.stack.namespace=$SPLIT &&
		    wait_until 60 gone --filter label=com.docker.swarm.service.name=$APP &&
		    wait_until 60 gone --filter label=com.docker.swarm.service.name=$SELF ||
			say "warning: containers of the test are still there"
		for n in $MADE_NETWORKS; do
			wait_until 30 "$DOCKER" network rm "$n" >/dev/null 2>&1 ||
				say "warning: cannot remove network $n"
		done
		# Volumes of the stacks and the anonymous ones of the tasks.
		for v in $("$DOCKER" volume ls -q 2>/dev/null); do
			case " $VOLUMES_BEFORE " in *" $v "*) continue ;; esac
			"$DOCKER" volume rm "$v" >/dev/null 2>&1 ||
				say "warning: cannot remove volume $v"
		done
		[ "$LABEL_ADDED" = 1 ] &&
			"$DOCKER" node update --label-rm flowmon "$NODE" >/dev/null 2>&1
		if [ "$SWARM_MADE" = 1 ]; then
			"$DOCKER" swarm leave --force >/dev/null 2>&1 ||
				say "warning: cannot leave the swarm"
		fi
	fi
	if [ -n "$DOCKERD_PID" ]; then
		kill -TERM "$DOCKERD_PID" 2>/dev/null
		wait_until 30 eval "! kill -0 $DOCKERD_PID 2>/dev/null" ||
			kill -KILL "$DOCKERD_PID" 2>/dev/null
		wait "$DOCKERD_PID" 2>/dev/null
		say "dockerd stopped"
	fi
	if [ "$SKIPPED" = 0 ] && { [ "$rc" -ne 0 ] || [ "${E2E_KEEP:-0}" = 1 ]; }; then
		echo "[e2e_swarm] logs kept in $TMP" >&2
	else
		rm -rf "$TMP"
	fi
	if [ "$SKIPPED" = 1 ]; then
		say "SKIPPED: no Docker engine, nothing was tested (exit $rc)"
	elif [ "$rc" -eq 0 ] && [ -n "$PARTS_SKIPPED" ]; then
		say "PASS, but $NPARTS_SKIPPED part(s) SKIPPED:$PARTS_SKIPPED ($(elapsed) s)"
	elif [ "$rc" -eq 0 ]; then
		say "PASS ($(elapsed) s)"
	else
		say "FAILED ($(elapsed) s)" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'FAILED=1; exit 1' INT TERM

# skip_part WHAT WHY: WHAT does not run here; said loudly now and counted
# in the last line.
skip_part() {
	PARTS_SKIPPED="$PARTS_SKIPPED $1 ($2);"
	NPARTS_SKIPPED=$((NPARTS_SKIPPED + 1))
	loud "make e2e: $1 is SKIPPED: $2"
}

no_engine() {
	SKIPPED=1
	loud "make e2e: NO DOCKER ENGINE: $*" \
	    "The end-to-end test of the images and the swarm did NOT run."
	exit "$NO_ENGINE_RC"
}

# ------------------------------------------------------------ compose/
check "each file in compose/ is deployed here or says what it lacks"
for f in compose/*.yml; do
	case $f in
	compose/split.yml|compose/dfm-proxy.yml) ;;	# deployed below
	*) sed -n '/^[^#]/q; p' "$f" | grep -q 'Not deployed by make e2e' ||
		fail "$f: no header saying what it needs that this machine lacks" ;;
	esac
done
ok "split.yml and dfm-proxy.yml deployed; $(ls compose/*.yml | grep -vc 'split.yml$\|dfm-proxy.yml$') with a header"

# ------------------------------------------------------------- 1. engine
check "a Docker engine"
if engine_up; then
	ok "one runs: $("$DOCKER" version -f 'server {{.Server.Version}}, client {{.Client.Version}}')"
else
	[ "$(id -u)" = 0 ] || no_engine "none runs and only root may start dockerd"
	command -v dockerd >/dev/null 2>&1 ||
		no_engine "none runs and dockerd is not installed (apt-get install docker.io)"
	dockerd >"$TMP/dockerd.log" 2>&1 &
	DOCKERD_PID=$!
	if ! wait_until 60 engine_up; then
		tail -n 20 "$TMP/dockerd.log" >&2
		kill -TERM "$DOCKERD_PID" 2>/dev/null
		wait_until 20 eval "! kill -0 $DOCKERD_PID 2>/dev/null" ||
			kill -KILL "$DOCKERD_PID" 2>/dev/null
		wait "$DOCKERD_PID" 2>/dev/null
		DOCKERD_PID=""
		no_engine "dockerd did not start (its log is above)"
	fi
	ok "dockerd started here (pid $DOCKERD_PID), stopped at the end"
fi
for t in curl jq perl; do
	command -v $t >/dev/null || fail "$t is missing (make deps)"
done
VOLUMES_BEFORE=$("$DOCKER" volume ls -q | tr '\n' ' ')

# ----------------------------------------------- swarm-listener's binary
# Built while the images build (15-75 s, about 260 Go packages from Debian
# the first time, which the script installs), and kept in $SL_DIR while it
# is newer than every file of the source and the build script.
sl_stale() {
	[ ! -x "$SL_DIR/docker-flow-swarm-listener" ] || [ -n "$(find \
	    "$THIRD_PARTY/build-swarm-listener.sh" \
	    "$THIRD_PARTY/docker-flow-swarm-listener" \
	    -newer "$SL_DIR/docker-flow-swarm-listener" -print -quit)" ]
}
sl_build() {
	local t1
	t1=$(date +%s)
	if ! sh "$THIRD_PARTY/build-swarm-listener.sh" "$SL_DIR" >"$TMP/sl-build.log" 2>&1; then
		echo "build-swarm-listener.sh: $(tail -n 15 "$TMP/sl-build.log")" >&2
		return 1
	fi
	echo "swarm-listener built from $THIRD_PARTY ($(($(date +%s) - t1)) s): $(tail -n 1 "$TMP/sl-build.log")"
}
if [ -d "$THIRD_PARTY/docker-flow-swarm-listener" ] &&
    [ -f "$THIRD_PARTY/build-swarm-listener.sh" ]; then
	LISTENER=1
	if sl_stale; then
		sl_build >"$TMP/sl.out" 2>"$TMP/sl.err" &
		BG_sl=$!
		BG_PIDS="$BG_PIDS $BG_sl"
	fi
else
	skip_part "the real swarm-listener" "no $THIRD_PARTY beside this clone: the drop-in stack reads Docker itself instead"
fi

# --------------------------------------------------------- 2. base image
check "the base image debian:12-slim"
if "$DOCKER" image inspect debian:12-slim >/dev/null 2>&1; then
	ok "cached: $("$DOCKER" image inspect -f '{{index .Config.Labels "org.flowmon.base"}}' debian:12-slim 2>/dev/null)"
else
	DOCKER=$DOCKER sh tests/e2e/base_image.sh debian:12-slim >"$TMP/base.log" 2>&1 ||
		fail "cannot make debian:12-slim: $(tail -n 5 "$TMP/base.log")"
	ok "$(tail -n 1 "$TMP/base.log")"
fi

# -------------------------------------------------------------- 3. images
# The stages a target of a Dockerfile uses: its FROM chain and every
# COPY --from, transitively.
stages_used() {
	awk -v want="$2" '
		toupper($1) == "FROM" {
			cur = (toupper($3) == "AS") ? $4 : ""
			order[++n] = cur; parent[cur] = $2
		}
		toupper($1) == "COPY" {
			for (i = 2; i <= NF; i++)
				if ($i ~ /^--from=/) { sub(/^--from=/, "", $i); dep[cur] = dep[cur] " " $i }
		}
		function use(s,   k, d, m) {
			if (s == "" || !(s in parent) || (s in used)) return
			used[s] = 1; use(parent[s])
			m = split(dep[s], d, " "); for (k = 1; k <= m; k++) use(d[k])
		}
		END { use(want); for (s in used) print s }' "$1" | sort
}
# The stages a build log shows being built.
stages_built() {
	if [ "$1" = legacy ]; then
		grep -E '^Step [0-9]+/[0-9]+ : FROM ' "$2" |
		    awk 'toupper($(NF - 1)) == "AS" { print $NF }'
	else
		grep -oE '^#[0-9]+ \[[A-Za-z0-9_.-]+ [0-9]+/[0-9]+\]' "$2" |
		    awk '{ print substr($2, 2) }'
	fi | sort -u
}

# build BUILDER DOCKERFILE TARGET TAG [any]: builds, then checks from the
# log that only the stages TARGET uses were built (not with "any"). Prints what it found on
# stdout, or why it failed on stderr (and returns 1): builds run in the
# background, side by side.
build() {
	local b=$1 f=$2 t=$3 tag=$4 log="$TMP/build-$1-$3.log" ctx=.
	local t1 used built extra old
	[ "$f" = Dockerfile ] || ctx=$(dirname "$f")
	t1=$(date +%s)
	old=$("$DOCKER" image inspect -f '{{.Id}}' "$tag" 2>/dev/null)
	if [ "$b" = legacy ]; then
		DOCKER_BUILDKIT=0 "$DOCKER" build --target "$t" -t "$tag" -f "$f" "$ctx" >"$log" 2>&1
	else
		DOCKER_BUILDKIT=1 "$DOCKER" build --progress=plain --target "$t" -t "$tag" -f "$f" "$ctx" >"$log" 2>&1
	fi || { echo "$b build of $f --target $t: $(tail -n 15 "$log")" >&2; return 1; }
	# The image this tag named before, unless still used: no heap of
	# untagged images from run to run.
	[ -n "$old" ] && [ "$old" != "$("$DOCKER" image inspect -f '{{.Id}}' "$tag")" ] &&
		"$DOCKER" rmi "$old" >/dev/null 2>&1
	built=$(stages_built "$b" "$log")
	if [ "${5:-}" = any ]; then
		echo "$b $f --target $t ($(($(date +%s) - t1)) s)"
		return 0
	fi
	used=$(stages_used "$f" "$t")
	extra=$(comm -13 <(echo "$used") <(echo "$built"))
	if [ -n "$extra" ]; then
		echo "$b build of $f --target $t built stages it does not use: $extra" >&2
		return 1
	fi
	if [ "$b" = legacy ] && [ "$built" != "$used" ]; then
		echo "$b build of $f --target $t built [$(echo $built)], not [$(echo $used)]" >&2
		return 1
	fi
	echo "$b $f --target $t: stages $(echo $built) ($(($(date +%s) - t1)) s)"
}
# bg_wait NAME: waits for the background builds NAME ($BG_NAME).
bg_wait() {
	local pid
	eval "pid=\$BG_$1"
	wait "$pid" || fail "$(cat "$TMP/$1.err")"
	while read -r line; do ok "$line"; done <"$TMP/$1.out"
}

BUILDKIT=0
if [ "$E2E_BUILDKIT" = 0 ]; then
	say "BuildKit builds skipped (E2E_BUILDKIT=0)"
elif ! printf 'FROM debian:12-slim\n' |
    DOCKER_BUILDKIT=1 "$DOCKER" build -q - >"$TMP/buildkit-probe.log" 2>&1; then
	loud "BuildKit is not available from this engine/client: $(tail -n 2 "$TMP/buildkit-probe.log")" \
	    "the BuildKit builds of both targets did NOT run"
else
	BUILDKIT=1
fi
check "both Dockerfile targets with the legacy builder$([ $BUILDKIT = 1 ] && echo " and BuildKit"), each building only its stages; the stand-ins of tests/e2e/Dockerfile"
# BuildKit has a cache of its own: its builds run beside the legacy ones,
# and so does the stand-in for prom/alertmanager.
if [ $BUILDKIT = 1 ]; then
	( build buildkit Dockerfile flowmon-prometheus flowmon-prometheus:$TAG-buildkit &&
	    build buildkit Dockerfile flowmon flowmon:$TAG-buildkit ) >"$TMP/bk.out" 2>"$TMP/bk.err" &
	BG_bk=$!
	BG_PIDS="$BG_PIDS $BG_bk"
fi
build legacy tests/e2e/Dockerfile alertmanager $IMG_AM any >"$TMP/standin.out" 2>"$TMP/standin.err" &
BG_standin=$!
BG_PIDS="$BG_PIDS $BG_standin"
build legacy Dockerfile flowmon $IMG_FLOWMON >"$TMP/l1.out" 2>"$TMP/l1.err" || fail "$(cat "$TMP/l1.err")"
ok "$(cat "$TMP/l1.out")"
build legacy Dockerfile flowmon-prometheus $IMG_DROPIN >"$TMP/l2.out" 2>"$TMP/l2.err" || fail "$(cat "$TMP/l2.err")"
ok "$(cat "$TMP/l2.out")"
old=$("$DOCKER" image inspect -f '{{.Id}}' $IMG_PROM 2>/dev/null)
DOCKER_BUILDKIT=0 "$DOCKER" build --build-arg DROPIN=$IMG_DROPIN --target prometheus -t $IMG_PROM \
    -f tests/e2e/Dockerfile tests/e2e >"$TMP/build-legacy-prometheus.log" 2>&1 ||
	fail "stand-in prometheus: $(tail -n 15 "$TMP/build-legacy-prometheus.log")"
[ -n "$old" ] && [ "$old" != "$("$DOCKER" image inspect -f '{{.Id}}' $IMG_PROM)" ] &&
	"$DOCKER" rmi "$old" >/dev/null 2>&1
ok "stand-in $IMG_PROM"
if [ $BUILDKIT = 1 ]; then
	bg_wait bk
	for p in "$IMG_FLOWMON flowmon:$TAG-buildkit" "$IMG_DROPIN flowmon-prometheus:$TAG-buildkit"; do
		set -- $p
		a=$("$DOCKER" image inspect -f '{{.Config.User}} {{json .Config.Healthcheck}} {{json .Config.Entrypoint}} {{json .Config.Env}}' "$1")
		b=$("$DOCKER" image inspect -f '{{.Config.User}} {{json .Config.Healthcheck}} {{json .Config.Entrypoint}} {{json .Config.Env}}' "$2")
		[ "$a" = "$b" ] || fail "$1 and $2 differ: $a / $b"
	done
	ok "BuildKit's images: the same user, health check, entry point and environment"
fi
bg_wait standin

check "the images run as flowmon, report healthy, and check rules with promtool"
u=$("$DOCKER" image inspect -f '{{.Config.User}}' $IMG_FLOWMON)
[ "$u" = flowmon ] || fail "$IMG_FLOWMON runs as '$u'"
u=$("$DOCKER" image inspect -f '{{.Config.User}}' $IMG_DROPIN)
[ "$u" = flowmon ] || fail "$IMG_DROPIN runs as '$u'"
"$DOCKER" run --rm --entrypoint promtool $IMG_FLOWMON --version >"$TMP/promtool.log" 2>&1 ||
	fail "no promtool in $IMG_FLOWMON: $(cat "$TMP/promtool.log")"
c1=$("$DOCKER" run -d --init $IMG_FLOWMON) || fail "docker run $IMG_FLOWMON"
CONTAINERS="$CONTAINERS $c1"
c2=$("$DOCKER" run -d --init $IMG_DROPIN) || fail "docker run $IMG_DROPIN"
CONTAINERS="$CONTAINERS $c2"
healthy() { [ "$("$DOCKER" inspect -f '{{.State.Health.Status}}' "$1" 2>/dev/null)" = healthy ]; }
wait_until 60 healthy "$c1" || fail "$IMG_FLOWMON is not healthy: $("$DOCKER" logs "$c1" 2>&1 | tail -n 5)"
wait_until 60 healthy "$c2" || fail "$IMG_DROPIN is not healthy: $("$DOCKER" logs "$c2" 2>&1 | tail -n 5)"
"$DOCKER" exec "$c2" curl -sf -o /dev/null http://127.0.0.1:9090/-/ready ||
	fail "$IMG_DROPIN: its Prometheus is not ready"
# Its web UI has what it loads (the image leaves out unused JS data).
for p in /classic/graph /classic/static/moment-timezone/moment-timezone-with-data.min.js; do
	"$DOCKER" exec "$c2" curl -sf -o /dev/null "http://127.0.0.1:9090$p" ||
		fail "$IMG_DROPIN: Prometheus's web UI lacks $p"
done
for c in "$c1" "$c2"; do
	uids=$("$DOCKER" top "$c" -eo pid,uid,comm | awk 'NR > 1 && $3 != "docker-init" { print $2 }' | sort -u)
	[ "$uids" = 10001 ] || fail "processes of $c run as uid(s) $(echo $uids), not 10001 only"
	# A rule promtool refuses and flowmon's own checks would not.
	out=$("$DOCKER" exec "$c" curl -s -w ' %{http_code}' \
	    'http://127.0.0.1:8080/v1/docker-flow-monitor/reconfigure?serviceName=x&scrapePort=1&alertName=a&alertIf=up%20%3D%3D')
	case $out in
	*promtool*' 400') ;;
	*) fail "a rule promtool refuses was not refused by promtool in $c: $out" ;;
	esac
done
"$DOCKER" rm -f "$c1" "$c2" >/dev/null
CONTAINERS=""
ok "healthy, uid 10001 (flowmon and Prometheus), promtool refuses a bad rule"

if [ "$LISTENER" = 1 ]; then
	check "the real swarm-listener as $IMG_LISTENER (tests/e2e/swarm-listener.Dockerfile)"
	if [ -n "${BG_sl:-}" ]; then
		bg_wait sl
	else
		ok "cached: $SL_DIR/docker-flow-swarm-listener"
	fi
	old=$("$DOCKER" image inspect -f '{{.Id}}' $IMG_LISTENER 2>/dev/null)
	DOCKER_BUILDKIT=0 "$DOCKER" build -f tests/e2e/swarm-listener.Dockerfile \
	    -t $IMG_LISTENER "$SL_DIR" >"$TMP/build-listener.log" 2>&1 ||
		fail "swarm-listener image: $(tail -n 15 "$TMP/build-listener.log")"
	[ -n "$old" ] && [ "$old" != "$("$DOCKER" image inspect -f '{{.Id}}' $IMG_LISTENER)" ] &&
		"$DOCKER" rmi "$old" >/dev/null 2>&1
	ok "$IMG_LISTENER: $("$DOCKER" image inspect -f '{{index .Config.Labels "org.flowmon.e2e"}}' $IMG_LISTENER)"
fi

# Does this build of flowmon read Docker itself? Until it does, the test
# plays swarm-listener: it sends the calls swarm-listener would send.
if "$DOCKER" run --rm $IMG_FLOWMON --help 2>&1 | grep -q -- '--docker-host'; then
	SOURCE=docker
else
	SOURCE=webhook
	loud "this flowmon has no --docker-host: the test sends swarm-listener's" \
	    "notifications itself (webhook mode); the Docker source is NOT tested"
fi

# -------------------------------------------------------------- 4. swarm
check "a one-node swarm"
state=$("$DOCKER" info -f '{{.Swarm.LocalNodeState}}')
case $state in
inactive)
	"$DOCKER" swarm init --advertise-addr 127.0.0.1 >"$TMP/swarm.log" 2>&1 ||
		fail "docker swarm init: $(cat "$TMP/swarm.log")"
	SWARM_MADE=1
	ok "made here (left at the end)" ;;
active)
	[ "$("$DOCKER" info -f '{{.Swarm.ControlAvailable}}')" = true ] ||
		fail "this node is in a swarm but not a manager"
	ok "one runs; this node is a manager" ;;
*)
	fail "swarm state '$state'" ;;
esac
NODE=$("$DOCKER" info -f '{{.Swarm.NodeID}}')
if [ "$("$DOCKER" node inspect -f '{{index .Spec.Labels "flowmon"}}' "$NODE")" != true ]; then
	"$DOCKER" node update --label-add flowmon=true "$NODE" >/dev/null ||
		fail "cannot label the node"
	LABEL_ADDED=1
fi
for n in $MONITOR_NETWORK $PROXY_NETWORK; do
	"$DOCKER" network rm "$n" >/dev/null 2>&1	# left by an aborted run
	"$DOCKER" network create -d overlay --attachable "$n" >/dev/null ||
		fail "cannot create the overlay network $n"
	MADE_NETWORKS="$MADE_NETWORKS $n"
done
ok "node $NODE labelled flowmon=true, overlay networks $MONITOR_NETWORK, $PROXY_NETWORK"

free_port DROP_PROM
free_port DROP_API
free_port SPLIT_PROM
free_port SPLIT_API
free_port SELF_PROM
free_port LISTENER_PORT
DROP_PROM_URL=http://127.0.0.1:$DROP_PROM/monitor	# ARG_WEB_ROUTE-PREFIX
DROP_API_URL=http://127.0.0.1:$DROP_API
SPLIT_PROM_URL=http://127.0.0.1:$SPLIT_PROM
SPLIT_API_URL=http://127.0.0.1:$SPLIT_API
SELF_PROM_URL=http://127.0.0.1:$SELF_PROM
LISTENER_URL=http://127.0.0.1:$LISTENER_PORT/v1/docker-flow-swarm-listener

# dnsrr: no service VIP works here (no IPVS), and the stacks call
# services by name (swarm-listener calls monitor, flowmon swarm-listener).
export DOCKER_GID MONITOR_NETWORK PROXY_NETWORK ENDPOINT_MODE=dnsrr LISTENER_PORT
DOCKER_GID=$(stat -c %g /var/run/docker.sock) || fail "no /var/run/docker.sock"
export ALERTMANAGER_IMAGE=$IMG_AM

check "compose/dfm-proxy.yml (drop-in$([ $LISTENER = 1 ] && echo ", the real swarm-listener")) and compose/split.yml deploy with local images"
# Without the real swarm-listener, the drop-in reads Docker itself.
drop_files=(-c compose/dfm-proxy.yml -c tests/e2e/dfm-proxy.local.yml)
[ "$LISTENER" = 1 ] || drop_files+=(-c tests/e2e/dfm-proxy.docker.yml)
FLOWMON_PROMETHEUS_IMAGE=$IMG_DROPIN PROMETHEUS_PORT=$DROP_PROM FLOWMON_PORT=$DROP_API \
    "$DOCKER" stack deploy --resolve-image never "${drop_files[@]}" \
    $DROP >"$TMP/deploy-drop.log" 2>&1 ||
	fail "stack deploy dfm-proxy.yml: $(cat "$TMP/deploy-drop.log")"
FLOWMON_IMAGE=$IMG_FLOWMON PROMETHEUS_IMAGE=$IMG_PROM PROMETHEUS_PORT=$SPLIT_PROM \
    FLOWMON_PORT=$SPLIT_API \
    "$DOCKER" stack deploy --resolve-image never -c compose/split.yml \
    -c tests/e2e/split.local.yml $SPLIT >"$TMP/deploy-split.log" 2>&1 ||
	fail "stack deploy split.yml: $(cat "$TMP/deploy-split.log")"
if [ "$SOURCE" = docker ]; then
	# The README's "Swarm without swarm-listener", with other names and
	# a free port.
	"$DOCKER" service create --detach --name $SELF --network $MONITOR_NETWORK \
	    --constraint node.role==manager --endpoint-mode dnsrr --init \
	    --mount type=bind,src=/var/run/docker.sock,dst=/var/run/docker.sock \
	    --group "$(stat -c %g /var/run/docker.sock)" \
	    --mount type=volume,src=$SELF-data,dst=/var/lib/flowmon \
	    --mount type=volume,src=$SELF-tsdb,dst=/prometheus \
	    --env FLOWMON_DOCKER_HOST=unix:///var/run/docker.sock \
	    --publish mode=host,target=9090,published=$SELF_PROM \
	    --label com.df.notify=true --label com.df.scrapePort=8080 \
	    --label com.df.alertName=down --label com.df.alertIf=@service_down \
	    $IMG_DROPIN >"$TMP/self.log" 2>&1 ||
		fail "docker service create $SELF: $(cat "$TMP/self.log")"
fi

# The running task's container of service $1 (one replica).
task_container() {
	"$DOCKER" ps -q --filter "label=com.docker.swarm.service.name=$1" \
	    --filter status=running | head -n 1
}
service_healthy() {
	local c
	c=$(task_container "$1")
	[ -n "$c" ] && healthy "$c"
}
wait_until 180 service_healthy ${DROP}_monitor || fail "$DROP monitor is not healthy"
wait_until 60 http_ok "$DROP_PROM_URL/-/ready" || fail "$DROP: Prometheus is not ready"
wait_until 60 http_ok "$DROP_API_URL/v1/docker-flow-monitor/ping" || fail "$DROP: flowmon does not answer"
wait_until 180 service_healthy ${SPLIT}_flowmon || fail "$SPLIT flowmon is not healthy"
wait_until 120 http_ok "$SPLIT_PROM_URL/-/ready" || fail "$SPLIT: Prometheus is not ready"
wait_until 60 http_ok "$SPLIT_API_URL/v1/docker-flow-monitor/ping" || fail "$SPLIT: flowmon does not answer"
# Prometheus has found its Alertmanager on the overlay network.
has_am() { http_get "$1/api/v1/alertmanagers" | jq -e '.data.activeAlertmanagers | length == 1' >/dev/null; }
wait_until 60 has_am "$DROP_PROM_URL" || fail "$DROP: no active Alertmanager"
wait_until 60 has_am "$SPLIT_PROM_URL" || fail "$SPLIT: no active Alertmanager"
if [ "$LISTENER" = 1 ]; then
	wait_until 120 http_ok "$LISTENER_URL/ping" || fail "swarm-listener does not answer on :$LISTENER_PORT"
	# Its first round: a create for every labelled service.
	wait_until 60 eval 'http_get "$DROP_API_URL/v1/docker-flow-monitor/services/${SPLIT}_flowmon" >/dev/null' ||
		fail "swarm-listener's first round did not reach $DROP's flowmon"
fi
ok "both stacks healthy; Prometheus on 127.0.0.1:$DROP_PROM/monitor and :$SPLIT_PROM; Alertmanagers found$([ $LISTENER = 1 ] && echo "; swarm-listener on :$LISTENER_PORT, its first round applied")"

# ------------------------------------------------------- Prometheus views
# targets URL JOB: "scrapeUrl health" of JOB's active targets, sorted.
targets() {
	http_get "$1/api/v1/targets?state=active" |
	    jq -r --arg j "$2" '.data.activeTargets[] | select(.labels.job == $j) | "\(.scrapeUrl) \(.health)"' |
	    sort
}
# n_up URL JOB N: JOB has exactly N active targets, all up.
n_up() {
	local t
	t=$(targets "$1" "$2") || return 1
	[ "$(printf '%s' "$t" | grep -c .)" = "$3" ] || return 1
	[ "$3" = 0 ] || ! printf '%s\n' "$t" | grep -qv ' up$'
}
# rules URL GROUP: "name<TAB>query" of the rules of GROUP.
rules() {
	http_get "$1/api/v1/rules" |
	    jq -r --arg g "$2" '.data.groups[] | select(.name == $g) | .rules[] | "\(.name)\t\(.query)"' | sort
}
has_rule() { rules "$1" "$2" | cut -f1 | grep -qxF "$3"; }
no_group() {
	http_get "$1/api/v1/rules" | jq -e --arg g "$2" '[.data.groups[] | select(.name == $g)] | length == 0' >/dev/null
}
firing() {
	http_get "$1/api/v1/alerts" |
	    jq -e --arg a "$2" '[.data.alerts[] | select(.labels.alertname == $a and .state == "firing")] | length > 0' >/dev/null
}
# Everything Prometheus scrapes and evaluates, for before/after; split's
# flowmon is left out of the targets: killed, it comes back elsewhere.
snapshot() {
	http_get "$1/api/v1/targets?state=active" |
	    jq -r '.data.activeTargets[] | "target \(.labels.job) \(.scrapeUrl)"' |
	    grep -v "^target ${SPLIT}_flowmon " | sort
	http_get "$1/api/v1/rules" |
	    jq -r '.data.groups[] | .name as $g | .rules[] | "rule \($g) \(.name) \(.query)"' | sort
}
# in_alertmanager SERVICE ALERT: Alertmanager of SERVICE holds ALERT.
in_alertmanager() {
	local c
	c=$(task_container "$1")
	[ -n "$c" ] &&
	    "$DOCKER" exec "$c" amtool alert query -o json \
	    --alertmanager.url=http://127.0.0.1:9093 "alertname=$2" 2>/dev/null |
	    jq -e 'length > 0' >/dev/null
}

# ------------------------------------------------ swarm-listener's part
# In webhook mode the test sends what swarm-listener would send for the
# service's labels (reference/swarm-listener-mapping.md 2.3 and 3).
listener_notify() {
	local what=$1 svc=$2 q="" k v url
	if [ "$what" = create ]; then
		while IFS=$'\t' read -r k v; do
			q="$q&$(jq -rn --arg k "${k#com.df.}" --arg v "$v" '"\($k|@uri)=\($v|@uri)"')"
		done < <("$DOCKER" service inspect "$svc" |
		    jq -r '.[0].Spec.Labels | to_entries[] | select(.key | startswith("com.df.")) |
			select(.key != "com.df.notify") | "\(.key)\t\(.value)"')
		q="serviceName=$svc&distribute=true&replicas=$("$DOCKER" service inspect -f '{{.Spec.Mode.Replicated.Replicas}}' "$svc")$q"
		LAST_Q=$q
	else
		q="serviceName=$svc&distribute=true"
	fi
	for url in "$DROP_API_URL" "$SPLIT_API_URL"; do
		v=$(curl -s -o "$TMP/notify.out" -w '%{http_code}' --max-time 10 \
		    "$url/v1/docker-flow-monitor/$([ "$what" = create ] && echo reconfigure || echo remove)?$q")
		[ "$v" = 200 ] || fail "notify $what $svc at $url: $v $(cat "$TMP/notify.out")"
	done
}
notify() { [ "$SOURCE" = docker ] || listener_notify "$@"; }

# ----------------------------------------------------------- 5. scenario
WAIT=${E2E_WAIT:-90}

if [ "$SOURCE" = docker ]; then
	check "split.yml's flowmon, labelled com.df.notify=true, monitors itself"
	wait_until $WAIT n_up "$SPLIT_PROM_URL" ${SPLIT}_flowmon 1 ||
		fail "no up target ${SPLIT}_flowmon: $(targets "$SPLIT_PROM_URL" ${SPLIT}_flowmon)"
	wait_until $WAIT has_rule "$SPLIT_PROM_URL" ${SPLIT}_flowmon "${SPLIT//-/}_flowmon_down" ||
		fail "no rule ${SPLIT//-/}_flowmon_down: $(rules "$SPLIT_PROM_URL" ${SPLIT}_flowmon)"
	ok "target ${SPLIT}_flowmon up, rule ${SPLIT//-/}_flowmon_down loaded (reloaded over HTTP)"
fi

check "webhooks: a reconfigure to flowmon's API gives a target and a firing rule"
q="serviceName=e2e-hook&targets=127.0.0.1:8080&alertName=alive&alertIf=$(jq -rn '"up{job=\"e2e-hook\"} == 1"|@uri')"
code=$(curl -s -o "$TMP/hook.out" -w '%{http_code}' --max-time 10 "$DROP_API_URL/v1/docker-flow-monitor/reconfigure?$q")
[ "$code" = 200 ] || fail "reconfigure e2e-hook: $code $(cat "$TMP/hook.out")"
wait_until $WAIT n_up "$DROP_PROM_URL" e2e-hook 1 || fail "no up target for e2e-hook: $(targets "$DROP_PROM_URL" e2e-hook)"
wait_until $WAIT firing "$DROP_PROM_URL" e2ehook_alive || fail "e2ehook_alive does not fire"
ok "e2e-hook: 127.0.0.1:8080 up, e2ehook_alive firing"

check "docker service create $APP (com.df.notify, scrapePort, alertName, alertIf): up targets, a firing alert"
# A health check every 2 s (the image's waits 10 s): a task counts as
# running once healthy, so scaling and updating go faster.
"$DOCKER" service create --detach --name $APP --network $MONITOR_NETWORK \
    --endpoint-mode dnsrr --health-interval 2s \
    --label com.df.notify=true --label com.df.scrapePort=8080 \
    --label com.df.scrapeNetwork=$MONITOR_NETWORK \
    --label com.df.alertName=up --label "com.df.alertIf=up{job=\"$APP\"} == 1" \
    --label com.df.alertName.1=missing --label com.df.alertIf.1=@swarm_replicas_missing \
    $IMG_FLOWMON >"$TMP/app.log" 2>&1 || fail "docker service create $APP: $(cat "$TMP/app.log")"
app_running() {
	[ "$("$DOCKER" service ps -q --filter desired-state=running --filter "name=$APP" $APP 2>/dev/null |
	    while read -r t; do "$DOCKER" inspect -f '{{.Status.State}}' "$t"; done | grep -c '^running$')" = "$1" ]
}
wait_until 60 app_running 1 || fail "$APP does not run"
notify create $APP
for u in "$DROP_PROM_URL" "$SPLIT_PROM_URL"; do
	wait_until $WAIT n_up "$u" $APP 1 || fail "$u: no up target for $APP: $(targets "$u" $APP)"
	wait_until $WAIT firing "$u" ${APP}_up || fail "$u: ${APP}_up does not fire"
done
wait_until $WAIT in_alertmanager ${DROP}_alert-manager ${APP}_up ||
	fail "${APP}_up did not reach $DROP's Alertmanager"
wait_until $WAIT in_alertmanager ${SPLIT}_alertmanager ${APP}_up ||
	fail "${APP}_up did not reach $SPLIT's Alertmanager"
ok "1 target up and ${APP}_up firing in both layouts, and in both Alertmanagers"

if [ "$SOURCE" = docker ]; then
	check "the README's single service monitors itself"
	wait_until 180 service_healthy $SELF || fail "$SELF is not healthy"
	wait_until $WAIT n_up "$SELF_PROM_URL" $SELF 1 || fail "$SELF: no up target for itself: $(targets "$SELF_PROM_URL" $SELF)"
	wait_until $WAIT has_rule "$SELF_PROM_URL" $SELF ${SELF//-/}_down || fail "$SELF: no rule ${SELF//-/}_down"
	wait_until $WAIT n_up "$SELF_PROM_URL" $APP 1 || fail "$SELF: no up target for $APP"
	ok "$SELF scrapes itself (rule ${SELF//-/}_down) and $APP"
fi

check "docker service update of the labels changes the alert"
"$DOCKER" service update --detach --label-add com.df.alertName=down \
    --label-add com.df.alertIf=@service_down $APP >"$TMP/update.log" 2>&1 ||
	fail "docker service update $APP: $(cat "$TMP/update.log")"
notify create $APP
changed() {
	has_rule "$1" $APP ${APP}_down && ! has_rule "$1" $APP ${APP}_up &&
	    ! firing "$1" ${APP}_up
}
for u in "$DROP_PROM_URL" "$SPLIT_PROM_URL"; do
	wait_until $WAIT changed "$u" || fail "$u: the rules of $APP did not change: $(rules "$u" $APP)"
	rules "$u" $APP | grep -q "^${APP}_down	up{.*job=\"$APP\".*} == 0" ||
		fail "$u: ${APP}_down is not @service_down: $(rules "$u" $APP)"
done
n_up "$DROP_PROM_URL" $APP 1 || fail "the target of $APP changed with its labels"
ok "${APP}_up gone, ${APP}_down is up{job=\"$APP\"} == 0 and does not fire"

check "docker service scale $APP=3 gives 3 targets"
"$DOCKER" service update --detach --replicas 3 $APP >"$TMP/scale.log" 2>&1 ||
	fail "docker service update --replicas 3: $(cat "$TMP/scale.log")"
wait_until 60 app_running 3 || fail "$APP does not run 3 tasks"
notify create $APP
for u in "$DROP_PROM_URL" "$SPLIT_PROM_URL"; do
	wait_until $WAIT n_up "$u" $APP 3 || fail "$u: not 3 up targets for $APP: $(targets "$u" $APP)"
done
ok "3 targets up in both layouts"

if [ "$SOURCE" = docker ]; then
	check "Docker's counts on split's flowmon /metrics and in its Prometheus (job flowmon-swarm, honor_labels)"
	# fm_swarm URL NAME: flowmon_swarm_NAME{service="$APP"} on URL/metrics.
	fm_swarm() {
		http_get "$1/metrics" | awk -v s="flowmon_swarm_$2{service=\"$APP\"}" '$1 == s { print $2 }'
	}
	counted() { [ "$(fm_swarm "$SPLIT_API_URL" replicas_desired)/$(fm_swarm "$SPLIT_API_URL" replicas_running)" = 3/3 ]; }
	wait_until $WAIT counted ||
		fail "split's flowmon: desired/running $(fm_swarm "$SPLIT_API_URL" replicas_desired)/$(fm_swarm "$SPLIT_API_URL" replicas_running)"
	ls_replicas=$("$DOCKER" service ls --filter name=$APP --format '{{.Replicas}}')
	[ "$ls_replicas" = 3/3 ] || fail "docker service ls says $ls_replicas"
	# prom_value URL QUERY: the one value of an instant query.
	prom_value() {
		http_get "$1/api/v1/query?query=$(jq -rn --arg q "$2" '$q|@uri')" |
		    jq -r '.data.result | if length == 1 then .[0].value[1] else "n=\(length)" end'
	}
	in_prom() {
		[ "$(prom_value "$SPLIT_PROM_URL" "flowmon_swarm_replicas_desired{service=\"$APP\"}")" = 3 ] &&
		    [ "$(prom_value "$SPLIT_PROM_URL" "flowmon_swarm_replicas_running{service=\"$APP\"}")" = 3 ]
	}
	wait_until $WAIT in_prom ||
		fail "Prometheus: $(prom_value "$SPLIT_PROM_URL" "flowmon_swarm_replicas_running{service=\"$APP\"}")"
	# @swarm_replicas_missing is loaded, evaluates, and does not fire at 3/3.
	rule_ok() {
		http_get "$SPLIT_PROM_URL/api/v1/rules" | jq -e --arg g $APP --arg r ${APP}_missing \
		    '[.data.groups[] | select(.name == $g) | .rules[] | select(.name == $r and .health == "ok" and .state == "inactive")] | length == 1' >/dev/null
	}
	wait_until $WAIT rule_ok || fail "${APP}_missing: $(rules "$SPLIT_PROM_URL" $APP)"
	ok "desired 3, running 3 on /metrics, in Prometheus and in docker service ls ($ls_replicas); ${APP}_missing loaded, inactive"

	check "a slow rolling update: a silence of $APP's alerts in Alertmanager exactly while Docker reports updating"
	update_state() { "$DOCKER" service inspect -f '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' $APP; }
	# am_silences ARGS: flowmon's silences in split's Alertmanager (amtool
	# lists those in force; --expired the others).
	am_silences() {
		local c
		c=$(task_container ${SPLIT}_alertmanager)
		[ -n "$c" ] && "$DOCKER" exec "$c" amtool silence query -o json "$@" \
		    --alertmanager.url=http://127.0.0.1:9093 2>/dev/null |
		    jq -c '[.[] | select(.createdBy == "flowmon")]'
	}
	silenced_now() { am_silences | jq -e 'length == 1' >/dev/null; }
	"$DOCKER" service update --detach --update-parallelism 1 --update-delay 4s \
	    --update-monitor 2s --env-add E2E_ROLL=1 $APP >"$TMP/roll.log" 2>&1 ||
		fail "docker service update (rolling): $(cat "$TMP/roll.log")"
	wait_until 30 eval '[ "$(update_state)" = updating ]' || fail "no update under way: $(update_state)"
	wait_until 30 silenced_now || fail "no silence while updating: $(am_silences)"
	st=$(update_state)
	[ "$st" = updating ] || fail "the silence came after the update ($st)"
	sil=$(am_silences | jq -c '.[0]')
	jq -e --arg a $APP '.matchers == [{"name": "alertname", "value": ("^(?:" + $a + "_down|" + $a + "_missing)$"),
	    "isRegex": true, "isEqual": true}] and (.comment | test("service " + $a + " is being deployed .*updating"))' \
	    <<<"$sil" >/dev/null || fail "not a silence of exactly $APP's alerts: $sil"
	sid=$(jq -r .id <<<"$sil")
	am_silences_drop() {
		local c
		c=$(task_container ${DROP}_alert-manager)
		[ -n "$c" ] && "$DOCKER" exec "$c" amtool silence query -o json \
		    --alertmanager.url=http://127.0.0.1:9093 2>/dev/null | jq -e 'length == 0' >/dev/null
	}
	am_silences_drop || fail "a silence in $DROP's Alertmanager, whose flowmon does not silence"
	ok "silence $sid while Docker says $st: $(jq -r '.matchers[0].value' <<<"$sil")"
	wait_until 180 eval '[ "$(update_state)" = completed ]' || fail "the update did not complete: $(update_state)"
	expired() {
		am_silences | jq -e 'length == 0' >/dev/null &&
		    am_silences --expired | jq -e --arg id "$sid" '[.[] | select(.id == $id and .status.state == "expired")] | length == 1' >/dev/null
	}
	wait_until 30 expired || fail "the silence outlived the update: $(am_silences) / $(am_silences --expired)"
	ok "update completed: silence $sid expired"
	for u in "$DROP_PROM_URL" "$SPLIT_PROM_URL"; do
		wait_until $WAIT n_up "$u" $APP 3 || fail "$u: not 3 up targets after the update: $(targets "$u" $APP)"
	done
	ok "the new tasks: 3 targets up in both layouts"
fi

check "docker kill of the flowmon tasks: Swarm restarts them, with the same targets and rules"
# flowmon's view of its services: names and parameters (nodeInfo lists
# the same tasks in any order).
fm_services() {
	http_get "$1/v1/docker-flow-monitor/services" |
	    jq -cS 'map({serviceName, params: (.params | del(.nodeInfo))}) | sort_by(.serviceName)'
}
drop_before=$(snapshot "$DROP_PROM_URL")
split_before=$(snapshot "$SPLIT_PROM_URL")
drop_services=$(fm_services "$DROP_API_URL")
split_services=$(fm_services "$SPLIT_API_URL")
printf '%s\n' "$drop_before" | grep -q "^target $APP " || fail "no $APP in the snapshot"
printf '%s' "$drop_services" | grep -q "\"$APP\"" || fail "no $APP in flowmon's services"
old_drop=$(task_container ${DROP}_monitor)
old_split=$(task_container ${SPLIT}_flowmon)
"$DOCKER" kill "$old_drop" "$old_split" >/dev/null || fail "docker kill"
# restarted SERVICE OLD-CONTAINER
restarted() {
	local c
	c=$(task_container "$1")
	[ -n "$c" ] && [ "$c" != "$2" ] && healthy "$c"
}
wait_until 120 restarted ${DROP}_monitor "$old_drop" || fail "Swarm did not restart $DROP's monitor"
wait_until 120 restarted ${SPLIT}_flowmon "$old_split" || fail "Swarm did not restart $SPLIT's flowmon"
wait_until 60 http_ok "$DROP_PROM_URL/-/ready" || fail "Prometheus is not ready after the restart"
# same URL BEFORE: Prometheus scrapes and evaluates what it did before, and
# the 3 targets of the service are up again.
same() { [ "$(snapshot "$1")" = "$2" ] && n_up "$1" $APP 3; }
for l in drop split; do
	if [ $l = drop ]; then u=$DROP_PROM_URL; b=$drop_before; else u=$SPLIT_PROM_URL; b=$split_before; fi
	if ! wait_until $WAIT same "$u" "$b"; then
		diff <(echo "$b") <(snapshot "$u") >&2
		fail "$l: not the same targets and rules after the restart"
	fi
done
# Killed, split's flowmon has a new address: both find it.
for u in "$DROP_PROM_URL" "$SPLIT_PROM_URL"; do
	new=$(task_container ${SPLIT}_flowmon)
	ip=$("$DOCKER" inspect -f "{{(index .NetworkSettings.Networks \"$MONITOR_NETWORK\").IPAddress}}" "$new")
	at_new() { [ "$(targets "$1" ${SPLIT}_flowmon)" = "http://$ip:8080/metrics up" ]; }
	wait_until $WAIT at_new "$u" ||
		fail "$u: ${SPLIT}_flowmon is not up at its new address $ip: $(targets "$u" ${SPLIT}_flowmon)"
done
[ "$(fm_services "$DROP_API_URL")" = "$drop_services" ] ||
	fail "$DROP: flowmon's services changed: $drop_services -> $(fm_services "$DROP_API_URL")"
[ "$(fm_services "$SPLIT_API_URL")" = "$split_services" ] ||
	fail "$SPLIT: flowmon's services changed: $split_services -> $(fm_services "$SPLIT_API_URL")"
ok "drop-in: $(echo "$drop_before" | grep -c '^target') targets, $(echo "$drop_before" | grep -c '^rule') rules; split: $(echo "$split_before" | grep -c '^target') targets, $(echo "$split_before" | grep -c '^rule') rules; as before; split's flowmon up at $ip"

if [ "$LISTENER" = 1 ]; then
	check "$DROP's flowmon on an empty data dir: every service back from swarm-listener's get-services (LISTENER_ADDRESS)"
	listed=$(http_get "$LISTENER_URL/get-services" | jq -c '[.[].serviceName] | sort') ||
		fail "swarm-listener's get-services does not answer"
	printf '%s' "$listed" | jq -e --arg a $APP 'index($a) != null' >/dev/null ||
		fail "swarm-listener does not list $APP: $listed"
	# What came from swarm-listener (the webhook's e2e-hook did not).
	want=$(printf '%s' "$drop_services" | jq -c 'map(select(.serviceName != "e2e-hook"))')
	old_drop=$(task_container ${DROP}_monitor)
	"$DOCKER" service update --detach --mount-rm /var/lib/flowmon \
	    --mount-add type=volume,src=${DROP}_monitor-empty,dst=/var/lib/flowmon \
	    ${DROP}_monitor >"$TMP/empty.log" 2>&1 ||
		fail "docker service update ${DROP}_monitor: $(cat "$TMP/empty.log")"
	wait_until 120 restarted ${DROP}_monitor "$old_drop" || fail "$DROP's monitor did not restart"
	recovered() { [ "$(fm_services "$DROP_API_URL")" = "$want" ]; }
	wait_until $WAIT recovered ||
		fail "$DROP: not every service back: $want -> $(fm_services "$DROP_API_URL")"
	wait_until $WAIT n_up "$DROP_PROM_URL" $APP 3 || fail "no 3 up targets of $APP after the recovery: $(targets "$DROP_PROM_URL" $APP)"
	wait_until $WAIT has_rule "$DROP_PROM_URL" $APP ${APP}_down || fail "no rule ${APP}_down after the recovery"
	# The new task's own log says where they came from.
	reconciled() {
		"$DOCKER" logs "$(task_container ${DROP}_monitor)" 2>&1 |
		    grep 'msg="services reconciled from swarm-listener"' >"$TMP/reconcile.log"
	}
	wait_until 30 reconciled || fail "the new task did not reconcile from swarm-listener"
	ok "$(printf '%s' "$want" | jq length) services back, $APP with 3 up targets and its rules: $(tail -n 1 "$TMP/reconcile.log" | sed 's/^ts=[^ ]* //')"
	# The webhook's service, for the last check.
	code=$(curl -s -o "$TMP/hook.out" -w '%{http_code}' --max-time 10 "$DROP_API_URL/v1/docker-flow-monitor/reconfigure?$q")
	[ "$code" = 200 ] || fail "reconfigure e2e-hook again: $code $(cat "$TMP/hook.out")"
	wait_until $WAIT n_up "$DROP_PROM_URL" e2e-hook 1 || fail "no up target for e2e-hook"
fi

check "docker service scale $APP=0: no target left in either layout (swarm-listener sends no nodeInfo then)"
"$DOCKER" service update --detach --replicas 0 $APP >"$TMP/scale0.log" 2>&1 ||
	fail "docker service update --replicas 0: $(cat "$TMP/scale0.log")"
for u in "$DROP_PROM_URL" "$SPLIT_PROM_URL"; do
	wait_until $WAIT n_up "$u" $APP 0 || fail "$u: targets of $APP scaled to 0: $(targets "$u" $APP)"
	has_rule "$u" $APP ${APP}_down || fail "$u: the rules of $APP went with its tasks"
done
ok "no target, the rules kept"

check "docker service rm $APP removes its targets and its rules"
"$DOCKER" service rm $APP >/dev/null || fail "docker service rm $APP"
notify remove $APP
removed() { n_up "$1" "${2:-$APP}" 0 && no_group "$1" "${2:-$APP}"; }
for u in "$DROP_PROM_URL" "$SPLIT_PROM_URL"; do
	wait_until $WAIT removed "$u" || fail "$u: $APP is still there: $(targets "$u" $APP) $(rules "$u" $APP)"
done
[ "$SOURCE" = docker ] && { wait_until $WAIT removed "$SELF_PROM_URL" || fail "$SELF: $APP is still there"; }
ok "no target, no rule group for $APP"

check "the webhook's service is still there beside the Docker source, and a remove takes it away"
n_up "$DROP_PROM_URL" e2e-hook 1 || fail "e2e-hook lost its target"
code=$(curl -s -o "$TMP/hook.out" -w '%{http_code}' --max-time 10 "$DROP_API_URL/v1/docker-flow-monitor/remove?serviceName=e2e-hook")
[ "$code" = 200 ] || fail "remove e2e-hook: $code $(cat "$TMP/hook.out")"
wait_until $WAIT removed "$DROP_PROM_URL" e2e-hook || fail "e2e-hook is still there"
ok "e2e-hook removed"

if [ "$LISTENER" = 1 ]; then
	check "what swarm-listener sent $DROP's flowmon (flowmon's debug log of each request as it came)"
	# Every task of the monitor, the killed and replaced ones too; health
	# checks and the test's own webhooks left out.
	# (docker service logs: the tasks' stderr, flowmon's log, on stderr)
	"$DOCKER" service logs --raw ${DROP}_monitor 2>&1 |
	    sed -n 's/.*msg="http request" uri=//p' | sed 's/^"\(.*\)"$/\1/' |
	    grep -v '/ping$' | grep 'distribute=\|/node/' >"$TMP/listener-requests.log"
	cp "$TMP/listener-requests.log" build/e2e-listener-requests.log 2>/dev/null
	for e in reconfigure remove node/reconfigure; do
		n=$(grep -c "^/v1/docker-flow-monitor/$e?" "$TMP/listener-requests.log")
		[ "$n" -gt 0 ] || fail "no $e from swarm-listener in the log"
		printf -v "n_${e//\//_}" '%s' "$n"
	done
	grep -q "^/v1/docker-flow-monitor/reconfigure?.*nodeInfo=.*serviceName=$APP" "$TMP/listener-requests.log" ||
		fail "no create of $APP with nodeInfo"
	grep -q "^/v1/docker-flow-monitor/remove?.*serviceName=$APP" "$TMP/listener-requests.log" ||
		fail "no remove of $APP"
	# flowmon refused none of them; swarm-listener retried only while
	# flowmon was restarting (its log kept beside the requests).
	"$DOCKER" service logs --raw ${DROP}_monitor 2>&1 |
	    grep -E 'msg="(reconfigure refused|cannot apply)' >"$TMP/refused.log" &&
		fail "flowmon refused what swarm-listener sent: $(head -n 3 "$TMP/refused.log")"
	"$DOCKER" service logs --raw ${DROP}_swarm-listener >build/e2e-swarm-listener.log 2>&1
	ok "$n_reconfigure reconfigure, $n_remove remove, $n_node_reconfigure node/reconfigure, none refused (build/e2e-listener-requests.log, build/e2e-swarm-listener.log: $(grep -c '^.*Retrying' build/e2e-swarm-listener.log) retries); for instance:"
	{
		grep -m 1 "^/v1/docker-flow-monitor/reconfigure?.*nodeInfo=.*serviceName=$APP" "$TMP/listener-requests.log"
		grep -m 1 "^/v1/docker-flow-monitor/reconfigure?.*serviceName=${SPLIT}_flowmon" "$TMP/listener-requests.log"
		grep -m 1 "^/v1/docker-flow-monitor/reconfigure?.*replicas=0&.*serviceName=$APP" "$TMP/listener-requests.log"
		grep -m 1 "^/v1/docker-flow-monitor/remove?.*serviceName=$APP" "$TMP/listener-requests.log"
		grep -m 1 "^/v1/docker-flow-monitor/node/reconfigure?" "$TMP/listener-requests.log"
	} | cut -c 1-400 | sed 's/^/      /'
fi

say "notifications: $([ "$LISTENER" = 1 ] && echo "the real swarm-listener (drop-in), ")$([ "$SOURCE" = docker ] && echo "flowmon's Docker source" || echo "sent by the test (webhook mode)")"

#!/bin/bash
# it_compose.sh: the deployment files of issue 8 parse and say what they
# must. There is no Docker engine here: the Swarm stacks go through
# `docker stack config` (the CLI's own schema check, no daemon needed) or
# `docker compose config` where those exist, else a YAML parse (python3's
# yaml), else a structural check; the Dockerfile's stages are checked from
# its text. The environments of the stacks' flowmon services then go
# through flowmon itself: the prometheus.yml it writes from them must pass
# `promtool check config`.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || fail "no repository root"
STACKS=(compose/split.yml compose/dfm-proxy.yml compose/proxy.yml
    compose/exporters.yml)

# ------------------------------------------------------------- parsing
have_stack_config() {
	command -v docker >/dev/null &&
	    docker stack config --help >/dev/null 2>&1
}
have_compose() {
	command -v docker >/dev/null && docker compose version >/dev/null 2>&1
}
have_pyyaml() {
	command -v python3 >/dev/null && python3 -c 'import yaml' 2>/dev/null
}

# Structural fallback: no tabs, known top-level keys, every service has an
# image, indentation in steps of two.
yaml_shape() {
	awk -v f="$1" '
		/\t/ { print f ":" NR ": tab"; bad = 1 }
		/^[^ #]/ && !/^(version|services|volumes|networks|configs|secrets|x-[a-z-]+):/ {
			print f ":" NR ": unknown top-level key: " $0; bad = 1
		}
		/^[^ #]/ { top = $1 }
		top == "services:" && /^  [a-z][a-z0-9_-]*:$/ {
			if (svc != "" && !img) { print f ": service " svc " has no image"; bad = 1 }
			svc = $1; img = 0
		}
		top == "services:" && /^    image: / { img = 1 }
		/^ +[^ ]/ { n = match($0, /[^ ]/) - 1; if (n % 2) { print f ":" NR ": odd indentation"; bad = 1 } }
		END {
			if (svc != "" && !img) { print f ": service " svc " has no image"; bad = 1 }
			exit bad
		}' "$1"
}

check "every stack parses"
tool=""
for f in "${STACKS[@]}" compose/split-nfs.yml; do
	[ -f "$f" ] || fail "$f is missing"
	args=(-c "$f")
	[ "$f" = compose/split-nfs.yml ] && args=(-c compose/split.yml -c "$f")
	if have_stack_config; then
		tool="docker stack config"
		out=$(docker stack config "${args[@]}" 2>&1 >/dev/null |
		    grep -v 'Cannot connect to the Docker daemon')
		docker stack config "${args[@]}" >/dev/null 2>&1 ||
			fail "docker stack config $f: $out"
	elif have_compose; then
		tool="docker compose config"
		cargs=()
		for a in "${args[@]}"; do [ "$a" = -c ] && a=-f; cargs+=("$a"); done
		docker compose "${cargs[@]}" config -q ||
			fail "docker compose config $f"
	elif have_pyyaml; then
		tool="python3 yaml"
		python3 -c 'import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
assert isinstance(d, dict), "not a map"
for name, s in (d.get("services") or {}).items():
    assert "image" in s, name + " has no image"' "$f" ||
			fail "$f does not parse as YAML"
	else
		tool="structural check"
		yaml_shape "$f" || fail "$f"
	fi
done
ok "${#STACKS[@]} stacks and the NFS override ($tool)"

# ------------------------------------------------------------- content
# The value of "- NAME=value" in the environment of service SVC of FILE
# (the files keep one item a line).
env_of() {
	awk -v svc="  $2:" '
		/^  [a-z]/ { in_svc = ($0 == svc) }
		in_svc && /^    environment:/ { in_env = 1; next }
		in_svc && in_env && /^      - / { sub(/^      - /, ""); print; next }
		/^    [a-z]/ { in_env = 0 }' "$1"
}

has_env() {
	env_of "$1" "$2" | grep -qxF -- "$3" || fail "$1: $2 lacks $3"
}

check "swarm-listeners notify flowmon of services and nodes, with node info"
for pair in compose/split.yml:flowmon compose/dfm-proxy.yml:monitor; do
	f=${pair%%:*}
	m=${pair##*:}
	for v in "DF_NOTIFY_CREATE_SERVICE_URL=http://$m:8080/v1/docker-flow-monitor/reconfigure" \
	    "DF_NOTIFY_REMOVE_SERVICE_URL=http://$m:8080/v1/docker-flow-monitor/remove" \
	    "DF_NOTIFY_CREATE_NODE_URL=http://$m:8080/v1/docker-flow-monitor/node/reconfigure" \
	    "DF_NOTIFY_REMOVE_NODE_URL=http://$m:8080/v1/docker-flow-monitor/node/remove" \
	    DF_INCLUDE_NODE_IP_INFO=true; do
		has_env "$f" swarm-listener "$v"
	done
	grep -q 'image: dockerflow/docker-flow-swarm-listener' "$f" ||
		fail "$f: no dockerflow/docker-flow-swarm-listener"
done
ok "split.yml and dfm-proxy.yml"

check "split layout: official Prometheus and flowmon share the volume at one path"
grep -q 'image: ${PROMETHEUS_IMAGE:-prom/prometheus:' compose/split.yml || fail "no prom/prometheus"
grep -q -- '- flowmon-data:/var/lib/flowmon:ro' compose/split.yml ||
	fail "Prometheus does not mount the shared volume read-only"
grep -q -- '- flowmon-data:/var/lib/flowmon$' compose/split.yml ||
	fail "flowmon does not mount the shared volume"
grep -q -- '--config.file=/var/lib/flowmon/prometheus.yml' compose/split.yml ||
	fail "Prometheus does not read flowmon's prometheus.yml"
has_env compose/split.yml flowmon FLOWMON_PROMETHEUS_CONFIG=/var/lib/flowmon/prometheus.yml
has_env compose/split.yml flowmon FLOWMON_RELOAD_URL=http://prometheus:9090/-/reload
grep -q -- '--web.enable-lifecycle' compose/split.yml || fail "no lifecycle API"
grep -q 'type: nfs' compose/split-nfs.yml || fail "no NFS volume example"
ok "shared volume, config, reload URL, NFS override"

check "drop-in layout: DFM's proxy stack at /monitor on the flowmon-prometheus image"
grep -q 'flowmon-prometheus' compose/dfm-proxy.yml || fail "not the drop-in image"
has_env compose/dfm-proxy.yml monitor ARG_WEB_ROUTE-PREFIX=/monitor
has_env compose/dfm-proxy.yml monitor 'ARG_WEB_EXTERNAL-URL=http://${DOMAIN:-localhost}/monitor'
has_env compose/dfm-proxy.yml monitor LISTENER_ADDRESS=swarm-listener
for l in com.df.servicePath=/monitor com.df.port=9090 com.df.notify=true; do
	grep -q -- "- $l" compose/dfm-proxy.yml || fail "dfm-proxy.yml lacks $l"
done
grep -q 'image: dockerflow/docker-flow-proxy' compose/proxy.yml || fail "no proxy"
ok "route prefix, external URL, proxy labels"

check "exporters carry com.df.* labels"
for s in cadvisor node-exporter; do
	awk -v svc="  $s:" '/^  [a-z]/ { in_svc = ($0 == svc) }
	    in_svc' compose/exporters.yml >"$IT_TMP/$s.yml"
	grep -q -- '- com.df.notify=true' "$IT_TMP/$s.yml" || fail "$s: no notify"
	grep -q -- '- com.df.scrapePort=' "$IT_TMP/$s.yml" || fail "$s: no scrapePort"
	grep -q -- '- com.df.alertIf' "$IT_TMP/$s.yml" || fail "$s: no alert"
done
ok "cadvisor and node-exporter"

# ----------------------------------------------- their prometheus.yml
# flowmon started with the environment a stack gives it writes the
# prometheus.yml Prometheus will load; promtool must accept it.
gen_config() {
	local file=$1 svc=$2 out=$3 vars=()
	mapfile -t vars < <(env_of "$file" "$svc" |
	    sed -e 's/\${[A-Z_]*:-\([^}]*\)}/\1/g' |
	    grep -E '^(GLOBAL_|ALERTING_|SCRAPE_CONFIGS_|REMOTE_|ARG_ALERTMANAGER_URL=|CONFIGS_DIR=)')
	FLOWMON_WRAP="env CONFIGS_DIR=$IT_TMP/no-secrets ${vars[*]} $WRAP0"
	flowmon_start "$IT_TMP/data-$svc" --prometheus-config "$out"
	flowmon_stop || fail "flowmon did not stop cleanly"
	[ -s "$out" ] || fail "no $out"
}
WRAP0=$FLOWMON_WRAP
PROMTOOL=""
it_have promtool prometheus "promtool check config of the stacks' prometheus.yml" &&
    PROMTOOL=$(command -v promtool)
check "the stacks' environments give a prometheus.yml promtool accepts"
for pair in compose/split.yml:flowmon compose/dfm-proxy.yml:monitor; do
	f=${pair%%:*}
	s=${pair##*:}
	gen_config "$f" "$s" "$IT_TMP/$s.prometheus.yml"
	grep -q "$IT_TMP/data-$s/targets/\*.json" "$IT_TMP/$s.prometheus.yml" ||
		fail "$s: no file_sd job over its data dir"
	grep -q 'alertmanager:9093\|alert-manager:9093' "$IT_TMP/$s.prometheus.yml" ||
		fail "$s: ARG_ALERTMANAGER_URL not in the config"
	if [ -n "$PROMTOOL" ]; then
		"$PROMTOOL" check config "$IT_TMP/$s.prometheus.yml" \
		    >"$IT_TMP/$s.promtool.log" 2>&1 ||
			fail "promtool refuses $s's config: $(cat "$IT_TMP/$s.promtool.log")"
	fi
done
FLOWMON_WRAP=$WRAP0
ok "split.yml's flowmon and dfm-proxy.yml's monitor${PROMTOOL:+ (promtool check config)}"

# ----------------------------------------------------------- Dockerfile
check "Dockerfile: Debian 12 slim stages, both targets, non-root, health check"
[ -f Dockerfile ] || fail "no Dockerfile"
# stage name, its parent (image or stage), and what it sets, one line per
# stage: name parent user healthcheck
awk '
	toupper($1) == "FROM" {
		if (name != "") print name, parent, user, hc
		parent = $2; name = (toupper($3) == "AS") ? $4 : "stage" ++n
		user = "-"; hc = "-"
	}
	toupper($1) == "USER" { user = $2 }
	toupper($1) == "HEALTHCHECK" { hc = "yes" }
	END { if (name != "") print name, parent, user, hc }' Dockerfile >"$IT_TMP/stages"
grep -A3 -i '^HEALTHCHECK' Dockerfile | grep -q '/v1/docker-flow-monitor/ping' ||
	fail "no HEALTHCHECK on /v1/docker-flow-monitor/ping"
# Every stage starts from debian:12-slim or from another stage.
while read -r name parent user hc; do
	if ! grep -q "^$parent " "$IT_TMP/stages"; then
		[ "$parent" = debian:12-slim ] ||
			fail "stage $name is FROM $parent, not debian:12-slim"
	fi
done <"$IT_TMP/stages"
# What a target inherits: walk up the stages for USER and HEALTHCHECK.
resolve() {
	local stage=$1 what=$2 col v parent
	[ "$what" = user ] && col=3 || col=4
	while [ -n "$stage" ]; do
		v=$(awk -v s="$stage" -v c="$col" '$1 == s { print $c }' "$IT_TMP/stages")
		[ -n "$v" ] || break
		[ "$v" != - ] && { printf '%s\n' "$v"; return; }
		parent=$(awk -v s="$stage" '$1 == s { print $2 }' "$IT_TMP/stages")
		stage=$parent
	done
	printf '%s\n' -
}
for t in flowmon flowmon-prometheus; do
	grep -q "^$t " "$IT_TMP/stages" || fail "no target $t"
	u=$(resolve "$t" user)
	case $u in
	-|root|0|0:*|root:*) fail "target $t runs as '${u/-/root (no USER)}'" ;;
	esac
	[ "$(resolve "$t" hc)" = yes ] || fail "target $t has no HEALTHCHECK"
done
# The legacy builder builds every stage up to the target: each stage
# before a target must be one the target uses (its FROM chain or a
# COPY --from), so neither target builds the other's stages.
awk 'toupper($1) == "FROM" { cur = (toupper($3) == "AS") ? $4 : ""; print cur, $2 }
     toupper($1) == "COPY" { for (i = 2; i <= NF; i++) if ($i ~ /^--from=/) { sub(/^--from=/, "", $i); print cur, $i } }' \
    Dockerfile >"$IT_TMP/deps"
for t in flowmon flowmon-prometheus; do
	used=" $t "
	for _ in 1 2 3 4 5 6; do
		for s in $used; do
			for d in $(awk -v s="$s" '$1 == s { print $2 }' "$IT_TMP/deps"); do
				case $used in *" $d "*) ;; *) used="$used$d " ;; esac
			done
		done
	done
	for s in $(awk -v t="$t" '$1 == t { exit } { print $1 }' "$IT_TMP/stages"); do
		case $used in *" $s "*) ;; *) fail "--target $t: the legacy builder also builds stage $s, which $t does not use" ;; esac
	done
done
ok "$(cut -d' ' -f1 "$IT_TMP/stages" | tr '\n' ' ')"

check "Dockerfile: .ci/deps.sh's build packages in the build stage, run-time libraries only after"
# flowmon's build needs (the -dev packages of the Makefile's PKGS) are
# .ci/deps.sh's build list (what make run installs); its test list holds
# them too.
build_pkgs=$(sh .ci/deps.sh list-build) || fail ".ci/deps.sh list-build failed"
for p in build-essential pkg-config libmicrohttpd-dev libcjson-dev \
    libyaml-dev libcurl4-openssl-dev; do
	printf '%s\n' $build_pkgs | grep -qxF -- "$p" ||
		fail ".ci/deps.sh's build list no longer has $p"
done
test_pkgs=$(sh .ci/deps.sh list-test) || fail ".ci/deps.sh list-test failed"
for p in $build_pkgs; do
	printf '%s\n' $test_pkgs | grep -qxF -- "$p" ||
		fail ".ci/deps.sh's test list lacks the build package $p"
done
awk 'toupper($1) == "FROM" { n++ } n == 1' Dockerfile >"$IT_TMP/build-stage"
awk 'toupper($1) == "FROM" { n++ } n > 1' Dockerfile >"$IT_TMP/run-stages"
for p in $build_pkgs; do
	grep -qw -- "$p" "$IT_TMP/build-stage" || fail "build stage lacks $p"
	grep -qw -- "$p" "$IT_TMP/run-stages" && fail "$p installed in a run-time stage"
done
for lib in libmicrohttpd12 libcjson1 libyaml-0-2 libcurl4; do
	grep -qw -- "$lib" "$IT_TMP/run-stages" || fail "run-time stage lacks $lib"
	dpkg-query -W "$lib" >/dev/null 2>&1 ||
		say "note: $lib is not installed here (Debian 12 name?)"
done
grep -q -- '--from=build' "$IT_TMP/run-stages" || fail "the binary is not copied from the build stage"
awk 'toupper($1) == "FROM" { on = ($4 == "flowmon-prometheus") } on' Dockerfile >"$IT_TMP/dropin"
grep -qw prometheus "$IT_TMP/dropin" || fail "flowmon-prometheus does not install Debian's prometheus"
grep -q 'FLOWMON_RUN_PROMETHEUS=/usr/bin/prometheus' "$IT_TMP/dropin" ||
	fail "flowmon-prometheus does not run Prometheus"
grep -q 'ARG_CONFIG_FILE=' "$IT_TMP/dropin" || fail "no DFM default ARG_CONFIG_FILE"
ok "$(echo $build_pkgs) in the build stage only"

# --------------------------------------------------------------- etc/
check "etc/: Alertmanager example and systemd unit"
if it_have amtool prometheus-alertmanager "amtool check-config etc/alertmanager.yml"; then
	amtool check-config etc/alertmanager.yml >"$IT_TMP/amtool.log" 2>&1 ||
		fail "amtool refuses etc/alertmanager.yml: $(cat "$IT_TMP/amtool.log")"
elif have_pyyaml; then
	python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' \
	    etc/alertmanager.yml || fail "etc/alertmanager.yml is not YAML"
fi
for k in NoNewPrivileges=yes ProtectSystem=strict ReadWritePaths=/var/lib/flowmon \
    User=flowmon 'ExecStart=/usr/local/bin/flowmon'; do
	grep -qxF -- "$k" etc/flowmon.service || fail "flowmon.service lacks $k"
done
if command -v systemd-analyze >/dev/null; then
	# The binary and the manual are not installed here: those two
	# complaints are expected, any other is not.
	out=$(systemd-analyze verify "$ROOT/etc/flowmon.service" 2>&1 |
	    grep -v 'is not executable\|man flowmon\|Failed to prepare filename' || true)
	[ -z "$out" ] || fail "systemd-analyze verify: $out"
fi
ok "alertmanager.yml accepted, flowmon.service hardened and verified"

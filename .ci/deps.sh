#!/bin/sh
# Installs the Debian 12 packages flowmon's build and tests need, if missing.
# The same list is used by the Dockerfile's build stage. `deps.sh e2e`
# installs what make e2e needs besides: a Docker engine and debootstrap
# (for the base image where no registry is reachable).
set -eu
PKGS="build-essential pkg-config libmicrohttpd-dev libcjson-dev libyaml-dev
libcurl4-openssl-dev check curl jq valgrind openssl groff-base python3
clang libclang-rt-14-dev wrk prometheus prometheus-alertmanager
prometheus-node-exporter victoria-metrics"
[ "${1:-}" = e2e ] && PKGS="docker.io debootstrap curl jq"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages:$missing (run as root or apt-get install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
# Debian's packages start their daemons where an init system runs; tests
# start their own on loopback, so stop the packaged ones if they came up.
for s in prometheus prometheus-alertmanager prometheus-node-exporter \
    victoria-metrics; do
	service "$s" stop >/dev/null 2>&1 || true
done

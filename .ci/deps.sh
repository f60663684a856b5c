#!/bin/sh
# .ci/deps.sh [MODE]: installs the Debian 12 packages MODE needs, if
# missing. MODE is one of
#   build   what `make` needs to compile build/flowmon (make run uses it);
#           the Dockerfile's build stage installs the same list
#   test    build, plus what the tests need (the default; make test)
#   e2e     what make e2e needs besides: a Docker engine and debootstrap
#           (for the base image where no registry is reachable), and,
#           where ../shared/third_party is (this project's CI), the Go
#           packages that build the real swarm-listener from its source
#   list-build, list-test, list-e2e
#           print that mode's packages, one a line, and exit
# As root it installs what is missing (apt-get); as another user, when
# something is missing, it prints one line naming the packages and the
# command that installs them, and exits 1.
set -eu
BUILD_PKGS="build-essential pkg-config libmicrohttpd-dev libcjson-dev
libyaml-dev libcurl4-openssl-dev"
TEST_PKGS="$BUILD_PKGS check curl jq valgrind openssl groff-base python3
clang libclang-rt-14-dev wrk prometheus prometheus-alertmanager
prometheus-node-exporter victoria-metrics bindfs chromium"
E2E_PKGS="docker.io debootstrap curl jq"
# build-swarm-listener.sh's list (it installs them too, as root).
[ -d "$(dirname "$0")/../../shared/third_party" ] &&
	E2E_PKGS="$E2E_PKGS golang-go golang-github-docker-docker-dev
golang-github-prometheus-client-golang-dev
golang-github-stretchr-testify-dev golang-golang-x-net-dev"

mode=${1:-test}
case $mode in
build) PKGS=$BUILD_PKGS ;;
test) PKGS=$TEST_PKGS ;;
e2e) PKGS=$E2E_PKGS ;;
list-build | list-test | list-e2e)
	case $mode in
	list-build) PKGS=$BUILD_PKGS ;;
	list-test) PKGS=$TEST_PKGS ;;
	*) PKGS=$E2E_PKGS ;;
	esac
	# shellcheck disable=SC2086
	printf '%s\n' $PKGS
	exit 0
	;;
*)
	echo "usage: $0 [build|test|e2e|list-build|list-test|list-e2e]" >&2
	exit 2
	;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: not a Debian system (no dpkg-query): packages not checked" >&2
	exit 0
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages:$missing; install them with: sudo apt-get install --no-install-recommends$missing (or run it again as root)" >&2
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

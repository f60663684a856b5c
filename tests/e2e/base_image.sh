#!/bin/sh
# base_image.sh [TAG]: makes the base image the Dockerfiles start from
# (default debian:12-slim) when the engine lacks it and no registry can be
# reached: Debian 12 by debootstrap (minbase) from the mirror apt on this
# machine uses, imported into the engine. Needs root, debootstrap, docker.
# DEBIAN_MIRROR overrides the mirror; DOCKER the client (/usr/bin/docker).
set -eu
TAG=${1:-debian:12-slim}
DOCKER=${DOCKER:-/usr/bin/docker}
SUITE=bookworm

if "$DOCKER" image inspect "$TAG" >/dev/null 2>&1; then
	echo "base_image: $TAG is there"
	exit 0
fi

# The first deb source of $SUITE itself (not -updates, not -security) in
# apt's configuration: one-line sources.list files, then deb822 .sources.
apt_mirror() {
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v s="$SUITE" '
			$1 == "deb" {
				sub(/\[[^]]*\]/, "")	# [arch=... signed-by=...]
				$0 = $0
				if ($3 == s) { print $2; exit }
			}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		# deb822: paragraphs separated by blank lines.
		awk -v s="$SUITE" '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " s " ") && uris != "") {
					split(uris, u, " "); print u[1]; found = 1; exit
				}
				types = suites = uris = ""
			}
			/^[ \t]*$/ { flush(); next }
			/^#/ { next }
			tolower($1) == "types:" { $1 = ""; types = $0 }
			tolower($1) == "suites:" { $1 = ""; suites = $0 }
			tolower($1) == "uris:" { $1 = ""; uris = $0 }
			tolower($1) == "enabled:" && tolower($2) == "no" { types = "" }
			END { if (!found) flush() }' "$f"
	done
}

mirror=${DEBIAN_MIRROR:-$(apt_mirror | head -n 1 | sed 's/^ *//')}
if [ -z "$mirror" ]; then
	echo "base_image: no '$SUITE' deb source in apt's configuration; set DEBIAN_MIRROR" >&2
	exit 1
fi
command -v debootstrap >/dev/null || {
	echo "base_image: debootstrap is missing (apt-get install debootstrap)" >&2
	exit 1
}
work=$(mktemp -d "${TMPDIR:-/tmp}/flowmon-base.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "base_image: debootstrap --variant=minbase $SUITE from $mirror"
if ! debootstrap --variant=minbase "$SUITE" "$work/rootfs" "$mirror" \
    >"$work/debootstrap.log" 2>&1; then
	tail -n 20 "$work/debootstrap.log" >&2
	exit 1
fi
# What a slim image leaves out: downloaded packages and index files
# (apt-get update fetches them again).
rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb \
    "$work"/rootfs/var/cache/apt/*.bin "$work"/rootfs/var/lib/apt/lists/* \
    "$work"/rootfs/var/log/* "$work"/rootfs/tmp/*
tar -C "$work/rootfs" --numeric-owner -c . |
	"$DOCKER" import -c 'CMD ["bash"]' \
	    -c "LABEL org.flowmon.base=\"debootstrap $SUITE minbase\"" - "$TAG" >/dev/null
echo "base_image: $TAG imported ($("$DOCKER" image inspect -f '{{.Size}}' "$TAG") bytes)"

#!/bin/bash
# Fetch the base tree (Debian's linux-source-6.1), record its package
# version and tarball sha256, and unpack it once into build/src.
#
# usage: scripts/fetch-source.sh
# The pinned package version is preferred; when the archive no longer
# offers it, the candidate version is used with a warning (the series
# must still apply to it without fuzz).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

PKG=linux-source-6.1
PIN=${KAISER_SOURCE_PIN:-6.1.192-2}
TARBALL=/usr/src/linux-source-6.1.tar.xz
SRCROOT=$(dirname "$SRC")
STAMP=$SRCROOT/.unpacked

mkdir -p "$LOGS" "$SRCROOT"
installed=$(dpkg-query -W -f='${Version}' "$PKG" 2>/dev/null || true)
if [ "$installed" != "$PIN" ]; then
	SUDO=
	[ "$(id -u)" = 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	if apt-cache madison "$PKG" 2>/dev/null | awk '{print $3}' | grep -qx "$PIN"; then
		note "installing $PKG=$PIN (pinned base tree)"
		$SUDO apt-get install -y --no-install-recommends --allow-downgrades "$PKG=$PIN" \
			>>"$LOGS/apt.log" 2>&1 || die "apt-get install $PKG=$PIN failed; see $LOGS/apt.log"
	elif [ -z "$installed" ]; then
		warn "$PKG $PIN is no longer offered; using the archive's candidate instead"
		$SUDO apt-get install -y --no-install-recommends "$PKG" \
			>>"$LOGS/apt.log" 2>&1 || die "apt-get install $PKG failed (network?); see $LOGS/apt.log"
	else
		warn "$PKG $PIN is not offered here; using the installed $installed instead"
	fi
	installed=$(dpkg-query -W -f='${Version}' "$PKG" 2>/dev/null || true)
fi
[ -r "$TARBALL" ] || die "$TARBALL missing although $PKG $installed is installed"

want="$PKG $installed"
if [ -f "$STAMP" ] && [ "$(head -1 "$STAMP")" = "$want" ] && [ -d "$SRC" ]; then
	exit 0
fi

t0=$(now)
sha=$(sha256sum "$TARBALL" | cut -d' ' -f1)
note "unpacking $PKG $installed (sha256 $sha) into $SRC"
tmp=$(mktemp -d "$SRCROOT/.unpack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -C "$tmp" -xf "$TARBALL" || die "could not unpack $TARBALL"
[ -f "$tmp/linux-source-6.1/Makefile" ] || die "$TARBALL does not hold linux-source-6.1/"
rm -rf "$SRC" "$STAMP"
mv "$tmp/linux-source-6.1" "$SRC"
printf '%s\nsha256 %s\nunpacked %s\n' "$want" "$sha" "$(date -u +%FT%TZ)" >"$STAMP"
echo "base tree: $want, $TARBALL sha256 $sha, unpacked in $(($(now) - t0)) s" | tee -a "$LOGS/source.log" >&2

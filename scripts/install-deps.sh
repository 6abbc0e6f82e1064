#!/bin/bash
# Install, with apt, the Debian packages the harness needs, saying which
# and why.  Does nothing when everything is already present.
#
# usage: scripts/install-deps.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# package | test that it is present | why the harness needs it
NEEDS=(
	"qemu-system-x86|command -v qemu-system-x86_64|boots the guest kernels (TCG)"
	"linux-source-6.1|dpkg -s linux-source-6.1|the base tree the series applies to"
	"busybox-static|dpkg -s busybox-static|the guest's shell and tools, in the initramfs"
	"gcc-multilib|echo 'int main(void){return 0;}' | gcc -m32 -static -x c -o /dev/null -|the 32-bit x86 selftests"
	"quilt|command -v quilt|applies patches/series to the base tree"
	"ccache|command -v ccache|caches kernel compiles between flavours and runs"
	"make|command -v make|builds everything"
	"bc|command -v bc|kernel build"
	"flex|command -v flex|kernel build (Kconfig)"
	"bison|command -v bison|kernel build (Kconfig)"
	"libelf-dev|test -e /usr/include/libelf.h|kernel build (objtool)"
	"libssl-dev|test -e /usr/include/openssl/ssl.h|kernel build (certificate tools)"
	"lz4|command -v lz4|kernel build (LZ4-compressed bzImage)"
	"xz-utils|command -v xz|unpacks the kernel source tarball"
	"cpio|command -v cpio|packs the initramfs"
	"rsync|command -v rsync|refreshes the patched tree from the pristine one"
	"python3|command -v python3|the KTAP parser and the result matrix"
	"file|command -v file|checks that guest binaries are static"
)

missing=()
for n in "${NEEDS[@]}"; do
	IFS='|' read -r pkg test why <<<"$n"
	if ! (eval "$test") >/dev/null 2>&1; then
		missing+=("$pkg")
		note "need $pkg: $why"
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || die "not root and no sudo: install these packages by hand: ${missing[*]}"
	SUDO=sudo
fi
command -v apt-get >/dev/null || die "no apt-get on this machine: install these packages by hand: ${missing[*]}"

mkdir -p "$LOGS"
log=$LOGS/apt.log
note "installing with apt-get: ${missing[*]} (log: $log)"
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update >"$log" 2>&1; then
	die "apt-get update failed (no network to the package mirror?); see $log"
fi
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
	die "apt-get install ${missing[*]} failed; see $log"
fi
note "installed: ${missing[*]}"

#!/bin/bash
# Install, with apt, the Debian packages the harness needs, saying which
# and why; does nothing when all are installed.  Whether a package is
# installed is dpkg's own answer (dpkg-query), never a hand-written test.
# After an install, checks that the toolchain can do what the harness asks
# of it (static 64- and 32-bit links).
#
# usage: scripts/install-deps.sh [--missing | --list]
#   --missing   print the packages that are not installed, one a line;
#               install nothing
#   --list      print every package of the table, one a line
# The base tree (linux-source-6.1) is not here: scripts/fetch-source.sh
# installs it, at its pinned version.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# package<TAB>why the harness needs it.  Columns are separated by one tab,
# so a reason may hold any other character.
TABLE=$(
	cat <<'EOF'
make	builds everything
gcc	compiles the kernels, the selftests and the guest programs
libc6-dev	static 64-bit guest programs and selftests (gcc -static)
gcc-multilib	the 32-bit x86 selftests (gcc -m32 -static)
bc	kernel build
flex	kernel build (Kconfig)
bison	kernel build (Kconfig)
libelf-dev	kernel build (objtool)
libssl-dev	kernel build (certificate tools)
lz4	kernel build (LZ4-compressed bzImage)
xz-utils	unpacks the kernel source tarball
quilt	applies patches/series to the base tree
rsync	refreshes the patched tree from the pristine one
ccache	caches kernel compiles between flavours and runs
busybox-static	the guest's shell and tools, in the initramfs
cpio	packs the initramfs
file	checks that guest binaries are static
qemu-system-x86	boots the guest kernels (TCG)
bochs	make check's PCID lane: an emulated CPU with PCID and INVPCID, which TCG lacks
bochs-term	a display for Bochs, which needs one (the lane itself runs headless, over rfb)
bochsbios	Bochs's BIOS
vgabios	Bochs's VGA BIOS
xorriso	makes the ISO that Bochs boots the guest kernels from
isolinux	the boot loader on that ISO
syslinux-common	isolinux's ldlinux.c32
python3	the KTAP parser and the result matrix
gnuplot-nox	make bench's chart (build/bench/results.png)
sparse	make lint's semantic checks of the series' C files (C=2)
stress-ng	make torture's and make check's stressors, copied into the torture initramfs
EOF
)

mode=install
case "${1:-}" in
'') ;;
--missing) mode=missing ;;
--list) mode=list ;;
*) die "usage: $0 [--missing | --list]" ;;
esac

pkgs=() whys=()
while IFS= read -r row; do
	pkg=${row%%$'\t'*}
	why=${row#*$'\t'}
	case "$pkg" in '' | *[!a-z0-9.+-]*) die "$0: malformed table row (package<TAB>why): '$row'" ;; esac
	[ "$why" != "$row" ] && [ -n "$why" ] && [ "${why#*$'\t'}" = "$why" ] ||
		die "$0: malformed table row (package<TAB>why): '$row'"
	pkgs+=("$pkg")
	whys+=("$why")
done <<<"$TABLE"

if [ "$mode" = list ]; then
	printf '%s\n' "${pkgs[@]}"
	exit 0
fi

command -v dpkg-query >/dev/null ||
	die "no dpkg-query: not a Debian system? install these by hand: ${pkgs[*]}"
# dpkg's own answer, one query for the whole table: a line "PKG<TAB>ii "
# for each installed package (other states for packages known but not
# installed; nothing, and exit status 1, for packages dpkg never heard of).
declare -A installed=()
while IFS=$'\t' read -r pkg st; do
	if [[ $st == ii* ]]; then installed[$pkg]=1; fi
done < <(dpkg-query -W -f='${Package}\t${db:Status-Abbrev}\n' "${pkgs[@]}" 2>/dev/null || true)

missing=()
for i in "${!pkgs[@]}"; do
	[ -n "${installed[${pkgs[$i]}]:-}" ] && continue
	missing+=("${pkgs[$i]}")
	[ "$mode" = missing ] || note "need ${pkgs[$i]}: ${whys[$i]}"
done
if [ "$mode" = missing ]; then
	[ ${#missing[@]} -eq 0 ] || printf '%s\n' "${missing[@]}"
	exit 0
fi
if [ ${#missing[@]} -eq 0 ]; then
	note "packages: nothing to do, all ${#pkgs[@]} installed"
	exit 0
fi

command -v apt-get >/dev/null || die "no apt-get on this machine: install these packages by hand: ${missing[*]}"
SUDO=
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || die "not root and no sudo: install these packages by hand as root: ${missing[*]}"
	SUDO=sudo
fi

mkdir -p "$LOGS"
log=$LOGS/apt.log
t0=$(now)
note "installing with apt-get: ${missing[*]} (log: $log)"
# sudo resets the environment: pass apt's setting through env.
apt_get() {
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get "$@"
}
# apt-get update exits 0 when it could not fetch an index (it warns and
# goes on with old lists, or none): the log says so.
if ! apt_get update >"$log" 2>&1 ||
	grep -qE '^[WE]: (Failed to fetch|Some index files failed to download)' "$log"; then
	why=$(grep -m1 -E '^[WE]: ' "$log" | cut -c1-160 || true)
	die "apt-get update failed (no network to the package mirror?)${why:+: $why}; log: $log"
fi
if ! apt_get install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
	why=$(grep -m1 '^E: ' "$log" | cut -c1-160 || true)
	die "apt-get install ${missing[*]} failed${why:+: $why}; log: $log"
fi
note "installed ${missing[*]} in $(($(now) - t0)) s"

# What the harness asks of the toolchain, checked once after an install:
# a package can be installed and still not work (a broken multilib).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'int main(void) { return 0; }\n' >"$tmp/t.c"
gcc -static -o "$tmp/t64" "$tmp/t.c" >"$tmp/cc.log" 2>&1 ||
	die "gcc -static cannot link a trivial program (libc6-dev): $(head -1 "$tmp/cc.log")"
gcc -m32 -static -o "$tmp/t32" "$tmp/t.c" >"$tmp/cc.log" 2>&1 ||
	die "gcc -m32 -static cannot link a trivial program (gcc-multilib): $(head -1 "$tmp/cc.log")"

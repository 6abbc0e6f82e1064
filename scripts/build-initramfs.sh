#!/bin/bash
# Build the test guest's initramfs, build/initramfs.cpio.gz: busybox-static,
# guest/init, the guest helpers (guest/*.c), make bench's guest program
# (bench/*.c), and the kernel's
# tools/testing/selftests/x86 from the patched tree, as static 64- and
# 32-bit binaries.  With --torture, build/initramfs-torture.cpio.gz: the
# same and Debian's stress-ng with the shared libraries it loads (40 MB
# more to unpack at every boot, so only the torture boots carry it).
#
# usage: scripts/build-initramfs.sh [--torture]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

torture=
case "${1:-}" in
--torture) torture=1 ;;
"") ;;
*) die "usage: $0 [--torture]" ;;
esac
hold_build_lock

OUT=$BUILD/initramfs${torture:+-torture}.cpio.gz
STRESS_NG=/usr/bin/stress-ng
[ -z "$torture" ] || [ -x "$STRESS_NG" ] || die "no $STRESS_NG (install stress-ng: make deps)"
[ -f "$TREE/.series-stamp" ] || die "no patched tree in $TREE (run scripts/patch-tree.sh)"
BUSYBOX=/bin/busybox
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' ||
	die "$BUSYBOX is not a static busybox (install busybox-static)"

mkdir -p "$LOGS"
log=$LOGS/initramfs.log
t0=$(now)
note "building the initramfs and the x86 selftests (log: $log)"

# The selftests, built out of the source tree with the patched tree's own
# UAPI headers.
ST=$BUILD/selftests
HDR=$BUILD/headers
mkdir -p "$ST"
{
	make -C "$TREE" O="$BUILD/obj-headers" ARCH=x86_64 INSTALL_HDR_PATH="$HDR" headers_install &&
	make -C "$TREE/tools/testing/selftests/x86" OUTPUT="$ST" CC="gcc -static" \
		KHDR_INCLUDES="-isystem $HDR/include" -j"$(nproc)" all
} >"$log" 2>&1 || die "building the x86 selftests failed; see $log"

# Every test the Makefile knows must have been built, in both widths.
expected=$(make -s -C "$TREE/tools/testing/selftests/x86" OUTPUT="$ST" CC="gcc -static" \
	-f Makefile -f - print-tests <<<'print-tests: ; @echo $(notdir $(BINARIES_64) $(BINARIES_32))' 2>>"$log")
[ -n "$expected" ] || die "could not list the x86 selftests; see $log"
for t in $expected; do
	[ -x "$ST/$t" ] || die "selftest $t was not built; see $log"
	file "$ST/$t" | grep -q 'statically linked' || die "selftest $t is not static; see $log"
done

stage=$(mktemp -d "$BUILD/.initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
# mktemp's 0700 would become the guest's /: nobody but root could use it.
chmod 755 "$stage"
mkdir -p "$stage"/{bin,sbin,usr/bin,proc,sys,dev,tmp,harness,selftests}
cp "$BUSYBOX" "$stage/bin/busybox"
for a in $("$BUSYBOX" --list); do
	[ "$a" = busybox ] || ln -s busybox "$stage/bin/$a"
done
cp "$TOP/guest/init" "$stage/init"
chmod +x "$stage/init"
# The guest helpers, and make bench's guest program
for c in "$TOP"/guest/*.c "$TOP"/bench/*.c; do
	gcc -O2 -Wall -Werror -static -o "$stage/harness/$(basename "$c" .c)" "$c" >>"$log" 2>&1 ||
		die "building $c failed; see $log"
done
# kbench's 32-bit build: the entries a 32-bit process takes (its vDSO's)
gcc -m32 -O2 -Wall -Werror -static -o "$stage/harness/kbench32" "$TOP/bench/kbench.c" >>"$log" 2>&1 ||
	die "building bench/kbench.c with -m32 failed; see $log"
for t in $expected; do
	cp "$ST/$t" "$stage/selftests/"
done
echo $expected | tr ' ' '\n' | sort >"$stage/selftests/LIST"
if [ -n "$torture" ]; then
	# stress-ng and what its ELF interpreter loads, each at its own path
	cp "$STRESS_NG" "$stage/usr/bin/"
	libs=$(ldd "$STRESS_NG" | sed -n 's|.*=> \(/[^ ]*\) .*|\1|p; s|^[[:space:]]*\(/[^ ]*\) (0x.*|\1|p')
	[ -n "$libs" ] || die "ldd found no libraries for $STRESS_NG"
	for l in $libs; do
		mkdir -p "$stage/$(dirname "$l")"
		cp -L "$l" "$stage/$l"
	done
	# The interpreter's canonical path, where the binary looks for it
	mkdir -p "$stage/lib64"
	[ -e "$stage/lib64/ld-linux-x86-64.so.2" ] || cp -L /lib64/ld-linux-x86-64.so.2 "$stage/lib64/"
fi

(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9n) >"$OUT.tmp" ||
	die "packing the initramfs failed"
mv "$OUT.tmp" "$OUT"
note "initramfs${torture:+ (torture)}: $(echo $expected | wc -w) selftests${torture:+, stress-ng}, built in $(($(now) - t0)) s"
echo "$OUT"

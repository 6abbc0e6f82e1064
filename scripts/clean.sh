#!/bin/bash
# make clean / make distclean: remove what the harness built, not while
# another harness run uses build/, and never through a mount point (make
# check-fresh bind-mounts /dev, /proc and /sys into its Debian root: rm -rf
# across such a mount would delete the host's files).
#
# usage: scripts/clean.sh          kernel builds, logs and results (keeps
#                                  the unpacked source and the fresh root)
#        scripts/clean.sh --all    all of build/
set -euo pipefail
. "$(dirname "$0")/lib.sh"

case "${1:-}" in
"") what=("$BUILD"/obj-* "$LOGS" "$BUILD/results" "$BUILD/selftests" "$BUILD/headers"
	"$BUILD/initramfs.cpio.gz" "$BUILD/bench" "$BUILD/matrix.md") ;;
--all) what=("$BUILD") ;;
*) die "usage: $0 [--all]" ;;
esac
[ -d "$BUILD" ] || exit 0
hold_build_lock
if mounts=$(awk -v b="$BUILD/" 'index($2 "/", b) == 1 { print $2 }' /proc/self/mounts) && [ -n "$mounts" ]; then
	die "file systems are mounted under $BUILD ($(echo $mounts)): unmount them first (umount -R)"
fi
rm -rf "${what[@]}"

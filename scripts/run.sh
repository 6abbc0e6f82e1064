#!/bin/bash
# make run: install what is missing, fetch the base tree, apply the series,
# build the KAISER kernel and the initramfs, and boot it.  On a terminal: a
# busybox shell on the serial console (Ctrl-A X leaves QEMU).  Otherwise:
# the isolation report, then power-off; exit status 0 on a clean boot.
# Where a PTI kernel is already built (make kernel FLAVOUR=pti), the report
# also says how many pages of kernel address space upstream PTI's user page tables map; no
# second kernel is built on the way to the first shell.
#
# usage: scripts/run.sh [extra kernel parameters]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

"$TOP/scripts/install-deps.sh"
"$TOP/scripts/fetch-source.sh"
"$TOP/scripts/patch-tree.sh"
"$TOP/scripts/build-kernel.sh" kaiser >/dev/null
"$TOP/scripts/build-initramfs.sh" >/dev/null

# The figure to compare with, upstream PTI's user page tables, only when
# the pti kernel is built and up to date with the series.
compare="for comparison with upstream PTI: make kernel FLAVOUR=pti, then make run again"
pti=$BUILD/obj-pti/arch/x86/boot/bzImage
if [ -f "$pti" ] && [ "$pti" -nt "$TREE/.series-stamp" ]; then
	pti_pages=unknown
	if "$TOP/scripts/boot.sh" --suite report --name run-pti --args "pti=on" pti 2>/dev/null; then
		pti_pages=$(sed -n 's/^user page tables: \([0-9]*\) pages of kernel address space.*/\1/p' "$LOGS/run-pti.log")
	fi
	compare="for comparison, upstream PTI (pti=on): ${pti_pages:-unknown} pages of kernel address space mapped in its user page tables, espfix aside"
fi

if [ -t 0 ] && [ -t 1 ]; then
	echo "$compare"
	exec "$TOP/scripts/boot.sh" --suite shell --name run --args "$*" kaiser
fi
set +e
"$TOP/scripts/boot.sh" --suite report --name run --args "$*" kaiser
rc=$?
set -e
sed -n '/^harness: report begin/,/^harness: report end/p' "$LOGS/run.log" | sed '1d;$d'
echo "$compare"
exit $rc

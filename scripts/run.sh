#!/bin/bash
# make run: build the KAISER kernel (or, while the series does not define
# CONFIG_KAISER yet, the 'none' kernel) and boot it.  On a terminal: a
# busybox shell on the serial console (Ctrl-A X leaves QEMU).  Otherwise:
# the isolation report, then power-off; exit status 0 on a clean boot.
# Either way it first boots upstream PTI (pti=on) briefly, to print how many
# kernel pages its user page tables map next to KAISER's figure.
#
# usage: scripts/run.sh [extra kernel parameters]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$TOP/scripts/install-deps.sh"
"$TOP/scripts/fetch-source.sh"
"$TOP/scripts/patch-tree.sh"
flavour=kaiser
if ! tree_has_kaiser; then
	echo "CONFIG_KAISER is not in this series yet: booting the 'none' kernel instead" >&2
	flavour=none
fi
"$TOP/scripts/build-kernel.sh" "$flavour" >/dev/null
"$TOP/scripts/build-kernel.sh" pti >/dev/null
"$TOP/scripts/build-initramfs.sh" >/dev/null

# The figure to compare with: upstream PTI's user page tables.
pti_pages=unknown
if "$TOP/scripts/boot.sh" --suite report --name run-pti --args "pti=on" pti 2>/dev/null; then
	pti_pages=$(sed -n 's/^user page tables: \([0-9]*\) kernel pages.*/\1/p' "$LOGS/run-pti.log")
fi
compare="for comparison, upstream PTI (pti=on): ${pti_pages:-unknown} kernel pages mapped in its user page tables"

if [ -t 0 ] && [ -t 1 ]; then
	echo "$compare"
	exec "$TOP/scripts/boot.sh" --suite shell --name run --args "$*" "$flavour"
fi
set +e
"$TOP/scripts/boot.sh" --suite report --name run --args "$*" "$flavour"
rc=$?
set -e
sed -n '/^harness: report begin/,/^harness: report end/p' "$LOGS/run.log" | sed '1d;$d'
echo "$compare"
exit $rc

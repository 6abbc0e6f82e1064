#!/bin/bash
# make run: build the KAISER kernel (or, while the series does not define
# CONFIG_KAISER yet, the 'none' kernel) and boot it.  On a terminal: a
# busybox shell on the serial console (Ctrl-A X leaves QEMU).  Otherwise:
# the isolation report, then power-off; exit status 0 on a clean boot.
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
"$TOP/scripts/build-initramfs.sh" >/dev/null

if [ -t 0 ] && [ -t 1 ]; then
	exec "$TOP/scripts/boot.sh" --suite shell --name run --args "$*" "$flavour"
fi
set +e
"$TOP/scripts/boot.sh" --suite report --name run --args "$*" "$flavour"
rc=$?
set -e
sed -n '/^harness: report begin/,/^harness: report end/p' "$LOGS/run.log" | sed '1d;$d'
exit $rc

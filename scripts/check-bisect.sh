#!/bin/bash
# Check that the series is bisectable: apply it one patch at a time to a
# scratch tree and build every flavour after each patch.  Slow (a full
# rebuild after every patch that touches a widely included header), so
# it is not part of make check: run it before mailing the series.
#
# usage: scripts/check-bisect.sh [FLAVOUR...]   (default: kaiser pti none)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

# The kaiser flavour is buildable only from the patch that adds the
# CONFIG_KAISER symbol on.
tree_has_kaiser() {
	grep -qs '^config KAISER$' "$1"/arch/x86/Kconfig "$1"/arch/x86/Kconfig.* "$1"/security/Kconfig*
}

flavours=${*:-kaiser pti none}
for f in $flavours; do check_flavour "$f"; done
"$TOP/scripts/fetch-source.sh" || exit 1

BT=$BUILD/bisect
mkdir -p "$BT" "$LOGS"
log=$LOGS/bisect.log
: >"$log"
rsync -r --checksum --links --delete --exclude=/.pc --exclude=/patches "$SRC"/ "$BT/tree"/
rm -rf "$BT/tree/.pc" "$BT/tree/patches"
ln -s "$PATCHES" "$BT/tree/patches"
echo "bisect: applied patch by patch" >"$BT/tree/.series-stamp"
export QUILTRC=$TOP/scripts/quiltrc

failed=0 n=0
while [ -n "$(cd "$BT/tree" && quilt next 2>/dev/null)" ]; do
	n=$((n + 1))
	p=$(cd "$BT/tree" && quilt next)
	(cd "$BT/tree" && quilt push --fuzz=0 -q) >>"$log" 2>&1 || { echo "patch $n, $p, does not apply"; exit 1; }
	for f in $flavours; do
		if [ "$f" = kaiser ] && ! tree_has_kaiser "$BT/tree"; then
			echo "after $p: kaiser: no CONFIG_KAISER yet"
			continue
		fi
		if ALLOW_UNKNOWN_SYMBOLS=1 TREE=$BT/tree BUILD=$BT LOGS=$BT/logs \
			"$TOP/scripts/build-kernel.sh" "$f" >>"$log" 2>&1; then
			echo "after $p: $f builds"
		else
			echo "after $p: $f FAILS to build; see $BT/logs/build-$f.log"
			failed=$((failed + 1))
		fi
	done
done
echo "bisect: $n patches, $failed failed builds"
[ $failed = 0 ]

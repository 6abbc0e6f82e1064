#!/bin/bash
# CONFIG_KAISER from a user's starting point, make defconfig: KAISER must
# be offered there (not hidden behind PTI, which defaults to y), choosing
# it must turn PTI off, and a configuration that turned PTI off must stay
# without either.  Runs only Kconfig, in build/obj-kconfig; KTAP on stdout.
#
# usage: scripts/check-kconfig.sh
set -uo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

OBJ=$BUILD/obj-kconfig
LOG=$LOGS/kconfig.log
mkdir -p "$OBJ" "$LOGS"
: >"$LOG"
kmake() {
	make -C "$TREE" O="$OBJ" ARCH=x86_64 "$@" >>"$LOG" 2>&1
}
# has PATTERN...: every pattern is a whole line of the .config
has() {
	local p
	for p in "$@"; do
		grep -qxF "$p" "$OBJ/.config" || return 1
	done
}
lacks() {	# lacks SYMBOL: not =y
	! grep -q "^$1=y" "$OBJ/.config"
}
now_has() {	# for a failure's reason
	grep -E 'CONFIG_(KAISER|PAGE_TABLE_ISOLATION)[= ]' "$OBJ/.config" | tr '\n' ';'
}

failed=0
result() {
	[ "$1" = pass ] || failed=1
	ktap_result "$@"
}
ktap_begin
KTAP_N=0
if ! kmake defconfig; then
	result fail "make defconfig" "see $LOG"
	ktap_end
	exit 1
fi
# "is not set" is written only for a symbol the user could have set.
if has "# CONFIG_KAISER is not set" "CONFIG_PAGE_TABLE_ISOLATION=y"; then
	result pass "defconfig: PTI as upstream, KAISER offered (visible, off)"
else
	result fail "defconfig: PTI as upstream, KAISER offered" "$(now_has)"
fi

"$TREE/scripts/config" --file "$OBJ/.config" --enable KAISER
kmake olddefconfig
if has "CONFIG_KAISER=y" && lacks CONFIG_PAGE_TABLE_ISOLATION; then
	result pass "defconfig + CONFIG_KAISER=y: KAISER on, PTI off"
else
	result fail "defconfig + CONFIG_KAISER=y: KAISER on, PTI off" "$(now_has)"
fi

kmake defconfig
"$TREE/scripts/config" --file "$OBJ/.config" --disable PAGE_TABLE_ISOLATION
kmake olddefconfig
if lacks CONFIG_KAISER && lacks CONFIG_PAGE_TABLE_ISOLATION; then
	result pass "a configuration without PTI stays without page-table isolation"
else
	result fail "a configuration without PTI stays without page-table isolation" "$(now_has)"
fi
ktap_end
exit $failed

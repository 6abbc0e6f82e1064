#!/bin/bash
# Build one kernel flavour (kaiser, pti or none) out of tree, from
# tinyconfig plus configs/guest.config plus configs/<flavour>.config, and
# print the path of its bzImage.
#
# usage: scripts/build-kernel.sh FLAVOUR
# Exits 77 (the "skipped" status) when FLAVOUR is kaiser and the series
# does not define CONFIG_KAISER yet.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

flavour=${1:-}
[ -n "$flavour" ] || die "usage: $0 FLAVOUR (one of: $FLAVOURS)"
check_flavour "$flavour"
[ -f "$CONFIGS/$flavour.config" ] || die "no $CONFIGS/$flavour.config"
[ -f "$TREE/.series-stamp" ] || die "no patched tree in $TREE (run scripts/patch-tree.sh)"

if [ "$flavour" = kaiser ] && ! tree_has_kaiser; then
	echo "kaiser: CONFIG_KAISER not in this series yet" >&2
	exit 77
fi

OBJ=$BUILD/obj-$flavour
mkdir -p "$OBJ" "$LOGS"
log=$LOGS/build-$flavour.log
CC=gcc
command -v ccache >/dev/null && CC="ccache gcc"
# Paths relative to build/, so that another tree under build/ with the
# same sources (scripts/check-bisect.sh's) hits the same cache entries.
export CCACHE_BASEDIR=$BUILD
JOBS=${JOBS:-$(nproc)}
kmake() {
	make -C "$TREE" O="$OBJ" ARCH=x86_64 CC="$CC" HOSTCC="$CC" -j"$JOBS" "$@"
}

t0=$(now)
note "building the $flavour kernel (log: $log)"
# Regenerate the configuration every time: Kbuild rebuilds only what
# depends on a symbol whose value changed, so this costs nothing when the
# fragments did not change.
{
	kmake tinyconfig &&
	"$TREE"/scripts/kconfig/merge_config.sh -m -O "$OBJ" "$OBJ/.config" \
		"$CONFIGS/guest.config" "$CONFIGS/$flavour.config" &&
	kmake olddefconfig
} >"$log" 2>&1 || die "configuring the $flavour kernel failed; see $log"

# Every option a fragment asks for must have survived olddefconfig: a
# dependency that silently drops one would test the wrong kernel.  When
# building the series patch by patch (scripts/check-bisect.sh), options
# that a later patch introduces are not in the tree yet: skip those.
known=
if [ -n "${ALLOW_UNKNOWN_SYMBOLS:-}" ]; then
	known=$(mktemp)
	grep -rhoE '^(menu)?config [A-Za-z0-9_]+' --include='Kconfig*' "$TREE" |
		awk '{ print "CONFIG_" $2 }' | sort -u >"$known"
fi
bad=
while read -r line; do
	case "$line" in
	CONFIG_*=*)
		[ -n "$known" ] && ! grep -qxF "${line%%=*}" "$known" && continue
		grep -qxF "$line" "$OBJ/.config" || bad="$bad ${line}"
		;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }
		sym=${sym%% *}
		grep -q "^$sym=" "$OBJ/.config" && bad="$bad ${sym}=n"
		;;
	esac
done < <(cat "$CONFIGS/guest.config" "$CONFIGS/$flavour.config")
[ -n "$known" ] && rm -f "$known"
[ -z "$bad" ] || die "$flavour: the configuration dropped or contradicts:$bad (see $OBJ/.config)"

if ! kmake bzImage >>"$log" 2>&1; then
	grep -E 'error|Error' "$log" | head -5 >&2
	die "building the $flavour kernel failed; see $log"
fi
echo "$(date -u +%FT%TZ) $flavour built in $(($(now) - t0)) s" >>"$LOGS/timings.log"
note "$flavour kernel built in $(($(now) - t0)) s"
echo "$OBJ/arch/x86/boot/bzImage"

#!/bin/bash
# Build one kernel flavour (kaiser, pti, none or kaiser-hardened) out of
# tree, from tinyconfig plus the flavour's fragments in configs/ (see
# flavour_fragments in scripts/lib.sh), and print the path of its bzImage.
# An objtool warning fails the build.
#
# usage: scripts/build-kernel.sh [--layout-gap BYTES] FLAVOUR
#   --layout-gap BYTES   make bench's second build of a flavour, in
#                        build/obj-FLAVOUR-layout2: the same code, linked
#                        with a gap of BYTES (a multiple of 16, so that
#                        function alignment holds) between the boot code
#                        and the rest of the kernel's text, so that every
#                        function sits at another offset in its cache line
#                        and page.  What differs between the figures of the
#                        two builds is what code layout alone moves.
# A build prints a progress line every 30 s: elapsed time and compile
# steps done, against the step count of the last full build.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

gap=
if [ "${1:-}" = --layout-gap ]; then
	gap=${2:-}
	shift 2 || die "usage: $0 [--layout-gap BYTES] FLAVOUR"
	case "$gap" in '' | *[!0-9]*) die "--layout-gap takes a number of bytes, not '$gap'" ;; esac
	[ $((gap % 16)) -eq 0 ] && [ "$gap" -gt 0 ] ||
		die "--layout-gap must be a positive multiple of 16 (function alignment), not $gap"
fi
flavour=${1:-}
[ -n "$flavour" ] || die "usage: $0 [--layout-gap BYTES] FLAVOUR (one of: $FLAVOURS)"
check_flavour "$flavour"
hold_build_lock
read -ra fragments <<<"$(flavour_fragments "$flavour")"
for f in "${fragments[@]}"; do
	[ -f "$f" ] || die "no $f"
done
[ -f "$TREE/.series-stamp" ] || die "no patched tree in $TREE (run scripts/patch-tree.sh)"

OBJ=$BUILD/obj-$flavour${gap:+-layout2}
mkdir -p "$OBJ" "$LOGS"
log=$LOGS/build-$flavour${gap:+-layout2}.log
CC=gcc
command -v ccache >/dev/null && CC="ccache gcc"
# Paths relative to build/, so that another tree under build/ with the
# same sources (scripts/check-bisect.sh's) hits the same cache entries.
# ccache also hashes the locale (it changes the compiler's messages): one
# fixed locale, so that a build from a login shell, CI or make
# check-fresh's clean environment share the cache.
export CCACHE_BASEDIR=$BUILD LANG=C.UTF-8
unset LC_ALL LC_CTYPE LC_MESSAGES
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
		"${fragments[@]}" &&
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
done < <(cat "${fragments[@]}")
[ -n "$known" ] && rm -f "$known"
[ -z "$bad" ] || die "$flavour: the configuration dropped or contradicts:$bad (see $OBJ/.config)"

# Kbuild prints one "  CC      path" style line per step; a full build's
# count, kept in $OBJ, is what the next build's progress is measured by.
steps() { grep -cE '^  [A-Z0-9_]+ +[^ ]' "$log" || true; }
kmake bzImage >>"$log" 2>&1 &
make_pid=$!
# A background job of a script ignores Ctrl-C: pass it on.
trap 'kill "$make_pid" 2>/dev/null; wait "$make_pid"; die "interrupted while building the $flavour kernel; see $log"' INT TERM
last=$(cat "$OBJ/.build-steps" 2>/dev/null || true)
next=30
while kill -0 "$make_pid" 2>/dev/null; do
	sleep 1
	elapsed=$(($(now) - t0))
	if [ "$elapsed" -ge "$next" ]; then
		note "$flavour kernel: $elapsed s, $(steps) build steps done${last:+ (a full build has $last)}"
		next=$((elapsed + 30))
	fi
done
if ! wait "$make_pid"; then
	grep -E 'error|Error' "$log" | head -5 >&2
	die "building the $flavour kernel failed; see $log"
fi
n=$(steps)

# The layout gap goes into the generated linker script after every
# build: Kbuild regenerates the script, without it, whenever its sources
# change.  Editing it makes vmlinux older than its script: only the link
# and the bzImage are redone.
if [ -n "$gap" ]; then
	lds=$OBJ/arch/x86/kernel/vmlinux.lds
	marker="/* make bench's layout gap: $gap bytes */"
	if ! grep -qF "$marker" "$lds"; then
		grep -q 'KEEP(\*(\.head\.text))' "$lds" ||
			die "no KEEP(*(.head.text)) in $lds to put the layout gap after"
		sed -i -e "/make bench's layout gap/d" \
			-e "s|KEEP(\*(\.head\.text))|&\n  . = . + $gap; $marker|" "$lds"
		kmake bzImage >>"$log" 2>&1 || die "relinking the $flavour kernel with a layout gap failed; see $log"
	fi
fi

# objtool prints its warnings only when it checks an object, and Kbuild
# checks only what it rebuilds: a second build would forget the first
# one's warnings.  Keep them in $OBJ/objtool-warnings.txt, dropping those
# of every object this build remade (vmlinux.o is remade by its LD step).
warnings=$OBJ/objtool-warnings.txt
touch "$warnings"
objtool_warnings "$warnings" "$log" >"$warnings.new"
mv "$warnings.new" "$warnings"
ours=$(objtool_not_base_tree "$warnings")
if [ -n "$ours" ]; then
	head -5 <<<"$ours" >&2
	die "objtool: $(wc -l <<<"$ours") warning(s) in the $flavour kernel; see $warnings"
fi
# Only a build that compiled most of the tree sets the yardstick.
[ "$n" -gt "${last:-0}" ] && echo "$n" >"$OBJ/.build-steps"
note "$flavour kernel built in $(($(now) - t0)) s"
echo "$OBJ/arch/x86/boot/bzImage"

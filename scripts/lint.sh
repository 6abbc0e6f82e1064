#!/bin/bash
# make lint: the series' static checks, in KTAP.
#   - scripts/checkpatch.pl --strict on every patch of patches/series,
#     each report compared with tests/checkpatch-known.txt: a report not
#     listed there fails, and so does a listed one that is gone (the list
#     stays exact);
#   - scripts/kernel-doc -none on KAISER's C files: no warning;
# and, unless --patches-only (what make check runs: the builds below take
# minutes, and make check's own builds already fail on objtool warnings):
#   - every C and assembler file of the series that the kaiser or the
#     kaiser-hardened configuration builds, compiled with W=1 and checked
#     with sparse (C=2), in the patched tree and in the base tree: no
#     warning that the base tree does not have, and none at all in
#     KAISER's own files;
#   - objtool: no warning but the base tree's (tests/objtool-base-tree.txt)
#     in any flavour's last build.
#
# usage: scripts/lint.sh [--patches-only]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
patches_only=
case "${1:-}" in
--patches-only) patches_only=1 ;;
"") ;;
*) die "usage: $0 [--patches-only]" ;;
esac
hold_build_lock

[ -f "$TREE/.series-stamp" ] || die "no patched tree in $TREE (make tree)"
KNOWN=$TOP/tests/checkpatch-known.txt
[ -f "$KNOWN" ] || die "no $KNOWN"
out=$BUILD/lint
rm -rf "$out"
mkdir -p "$out"

ktap_begin
# checkpatch reads the base tree's MAINTAINERS and spelling lists: run it
# from an empty directory, so that it does not take the harness's
# repository for the kernel tree.
mkdir -p "$out/cwd"
while read -r p; do
	case "$p" in '' | '#'*) continue ;; esac
	n=${p:0:4}
	(cd "$out/cwd" && perl "$SRC/scripts/checkpatch.pl" --strict --root="$SRC" --terse \
		--no-summary --show-types "$TOP/patches/$p") 2>&1 |
		sed -n "s|^[^ ]*:[0-9]*: |$n |p; s|^[^ ]*: \(ERROR\|WARNING\|CHECK\)|$n \1|p" >>"$out/checkpatch.txt" || true
done <"$TOP/patches/series"
export LC_ALL=C
sort "$out/checkpatch.txt" | uniq -c | sed 's/^ *//' | sort >"$out/checkpatch.count"
{ grep -v '^#' "$KNOWN" | grep . || true; } | sort >"$out/known.count"
new=$(comm -13 "$out/known.count" "$out/checkpatch.count")
gone=$(comm -23 "$out/known.count" "$out/checkpatch.count")
total=$(wc -l <"$out/checkpatch.txt")
errors=$(grep -c ' ERROR:' "$out/checkpatch.txt" || true)
warnings=$(grep -c ' WARNING:' "$out/checkpatch.txt" || true)
what="checkpatch --strict: $(grep -vc '^#' "$TOP/patches/series") patches, $errors errors, $warnings warnings, $((total - errors - warnings)) checks, all of them in tests/checkpatch-known.txt"
if [ -z "$new" ] && [ -z "$gone" ]; then
	ktap_result pass "$what"
else
	[ -n "$new" ] && sed 's/^/# new: /' <<<"$new"
	[ -n "$gone" ] && sed 's/^/# gone (take it out of the list): /' <<<"$gone"
	ktap_result fail "$what" "$(echo "$new" | grep -c . || true) report(s) not listed, $(echo "$gone" | grep -c . || true) listed but gone"
fi

files=(arch/x86/mm/kaiser.c arch/x86/mm/kaiser_test.c arch/x86/include/asm/kaiser.h)
if (cd "$TREE" && perl scripts/kernel-doc -Werror -none "${files[@]}") >"$out/kernel-doc.txt" 2>&1 &&
	! grep -q . "$out/kernel-doc.txt"; then
	ktap_result pass "kernel-doc -none: ${files[*]}: no warning"
else
	sed 's/^/# /' "$out/kernel-doc.txt" | head -10
	ktap_result fail "kernel-doc -none: ${files[*]}: no warning" "$(head -1 "$out/kernel-doc.txt")"
fi

[ -n "$patches_only" ] && { ktap_end; exit 0; }

# The series' compiled files: C and assembler outside tools/ (whose
# selftests are built and run by make check).  A header the series
# touches is checked through every file here that includes it.
mapfile -t files < <(sed -n 's|^diff --git a/\([^ ]*\) b/.*|\1|p' "$TOP"/patches/0*.patch |
	grep -E '\.[cS]$' | grep -vE '^(tools|Documentation|scripts)/' | sort -u)

CC=gcc
command -v ccache >/dev/null && CC="ccache gcc"
export CCACHE_BASEDIR=$BUILD LANG=C.UTF-8
unset LC_ALL LC_CTYPE LC_MESSAGES
command -v sparse >/dev/null || die "no sparse (make deps installs it)"

# lint_build FLAVOUR SIDE TREE: compile, in $out/obj-FLAVOUR-SIDE, with
# the flavour's last configuration, the objects of the series' files that
# it builds and TREE has; their W=1 and sparse reports, one a line with
# the line and column numbers taken out (they move with every patch),
# go to $out/FLAVOUR-SIDE.warnings.  The directory is made anew: an
# up-to-date object would print no warning at all.
lint_build() {
	local flavour=$1 side=$2 tree=$3 obj=$out/obj-$1-$2 objs=() f o
	for f in "${files[@]}"; do
		o=${f%.*}.o
		# Built in this configuration (Kbuild left its command file), and
		# there to build on this side (a file the series adds is not).
		[ -f "$BUILD/obj-$flavour/$(dirname "$o")/.$(basename "$o").cmd" ] && [ -f "$tree/$f" ] &&
			objs+=("$o")
	done
	rm -rf "$obj"
	mkdir -p "$obj"
	cp "$BUILD/obj-$flavour/.config" "$obj/.config"
	{
		make -C "$tree" O="$obj" ARCH=x86_64 CC="$CC" HOSTCC="$CC" olddefconfig &&
		make -C "$tree" O="$obj" ARCH=x86_64 CC="$CC" HOSTCC="$CC" -j"$(nproc)" W=1 C=2 "${objs[@]}"
	} >"$obj.log" 2>&1 || { sed 's/^/# /' "$obj.log" | tail -5; return 1; }
	grep -E ': (warning|error): ' "$obj.log" |
		sed -E "s#^($tree/|(\.\./)+${tree#"$BUILD"/}/)##; s#^([^: ]+):[0-9]+(:[0-9]+)?: #\1: #" |
		sort >"$out/$flavour-$side.warnings"
	echo "${#objs[@]}" >"$out/$flavour-$side.count"
}

lint_flavours="kaiser kaiser-hardened"
for f in $lint_flavours; do
	[ -f "$BUILD/obj-$f/.config" ] || die "no $BUILD/obj-$f: build it first (make lint does)"
done
built=ok
for f in $lint_flavours; do
	note "W=1 and sparse: the $f configuration, patched and base trees"
	lint_build "$f" series "$TREE" && lint_build "$f" base "$SRC" || built=
done
what="W=1 and sparse (C=2), configurations $lint_flavours: no warning the base tree does not have"
if [ -z "$built" ]; then
	ktap_result fail "$what" "a lint build failed; see $out/obj-*.log"
else
	new= total=0 n=0
	for f in $lint_flavours; do
		total=$((total + $(wc -l <"$out/$f-series.warnings")))
		n=$((n + $(cat "$out/$f-series.count")))
		new+=$(comm -23 "$out/$f-series.warnings" "$out/$f-base.warnings" | sed "s|^|$f: |")$'\n'

	done
	new=$(grep . <<<"$new" || true)
	if [ -z "$new" ]; then
		ktap_result pass "$what ($n objects, $total warnings, all also in the base tree)"
	else
		sed 's/^/# new: /' <<<"$new" | head -20
		ktap_result fail "$what" "$(grep -c . <<<"$new") new warning(s)"
	fi
	ours=$(cat "$out"/*-series.warnings | grep -E '^arch/x86/(mm/kaiser(_test)?\.c|include/asm/kaiser\.h|entry/kaiser_cr3\.S): ' || true)
	what="W=1 and sparse: no warning at all in kaiser.c, kaiser_test.c, kaiser.h and kaiser_cr3.S"
	if [ -z "$ours" ]; then
		ktap_result pass "$what"
	else
		sed 's/^/# /' <<<"$ours" | head -10
		ktap_result fail "$what" "$(grep -c . <<<"$ours") warning(s)"
	fi
fi

what="objtool: no warning but the base tree's in the last build of the kaiser, pti, none and kaiser-hardened kernels"
bad= seen=
for f in kaiser pti none kaiser-hardened; do
	w=$BUILD/obj-$f/objtool-warnings.txt
	[ -f "$w" ] || { bad+="$f: never built; "; continue; }
	seen+=" $f"
	ours=$(objtool_not_base_tree "$w")
	[ -z "$ours" ] || bad+="$f: $(grep -c . <<<"$ours") warning(s); "
done
if [ -z "$bad" ]; then
	ktap_result pass "$what (${seen# })"
else
	ktap_result fail "$what" "${bad%; }"
fi
ktap_end

#!/bin/bash
# Do the tests catch the bugs they were written for?  Each file in
# tests/mutations/ is a patch that puts one fixed bug back into the
# patched tree, with a header naming the check that must catch it and a
# regex its failure must match:
#
#   # check: report     (boot kaiser=on, 2 vCPUs: KUnit, the boot audit)
#   # check: report-pcid   (the same in Bochs, on an Ivy Bridge: PCID
#                        without INVPCID, so that the owed flushes show)
#   # check: selftest T (boot kaiser=on, 2 vCPUs, and run the x86 selftest
#                        T alone: a failing T is a catch)
#   # check: selftest-pcid T   (the same in Bochs, on the Ivy Bridge)
#   # check: nmi-boot   (scripts/check-nmi-boot.sh)
#   # check: leaks      (scripts/check-leaks.sh)
#   # check: build      (the mutant must not build: objtool, the linker)
#   # check: shadow-relocs   (scripts/check-shadow-relocs.py on the mutant's
#                        build: KASLR-rewritten bytes in the trampoline page)
#   # expect: REGEX     (in the failing boot's log and verdict, or the
#                        build's errors)
#   # flavour: F        (optional; default kaiser, e.g. kaiser-hardened)
#   # every-check: yes  (optional: make check runs this one too, with
#                        --every-check, because no other test here can
#                        see the bug: the TLB flush decisions, which no
#                        emulated TLB here shows (QEMU's and Bochs's
#                        flush everything on each CR3 write))
#
# Each mutant is built from a copy of build/tree (hard links, which patch
# breaks for the files it changes) in build/mutants/, whose layout mirrors
# build/ so that ccache hits.  A mutant that builds and passes its check
# is a test that cannot fail: that fails this script.  KTAP on stdout.
#
# usage: scripts/check-mutations.sh [--every-check | NAME...]   (default: all)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

MUT=$BUILD/mutants
if [ "${1:-}" = --every-check ]; then
	mapfile -t files < <(grep -l '^# every-check: yes$' "$TOP"/tests/mutations/*.patch)
	[ ${#files[@]} -gt 0 ] || die "no mutation in tests/mutations/ is marked '# every-check: yes'"
elif [ $# -gt 0 ]; then
	files=()
	for n in "$@"; do
		[ -f "$TOP/tests/mutations/$n.patch" ] || die "no mutation tests/mutations/$n.patch"
		files+=("$TOP/tests/mutations/$n.patch")
	done
else
	files=("$TOP"/tests/mutations/*.patch)
fi
for f in "${files[@]}"; do
	grep -qE '^# check: (report|report-pcid|nmi-boot|leaks|build|shadow-relocs|selftest [a-z0-9_]+|selftest-pcid [a-z0-9_]+)$' "$f" &&
		grep -q '^# expect: .' "$f" ||
		die "$f: needs a '# check: report|report-pcid|nmi-boot|leaks|build|shadow-relocs|selftest T|selftest-pcid T' and a '# expect: REGEX' line"
done
[ -f "$TREE/.series-stamp" ] || die "no patched tree in $TREE (run scripts/patch-tree.sh)"
[ -f "$BUILD/initramfs.cpio.gz" ] || die "no initramfs (make initramfs)"
mkdir -p "$MUT/results"
ln -sf "$BUILD/initramfs.cpio.gz" "$MUT/initramfs.cpio.gz"

ktap_begin
for f in "${files[@]}"; do
	name=$(basename "$f" .patch)
	check=$(sed -n 's/^# check: //p' "$f")
	selftest=${check#* }
	check=${check%% *}
	expect=$(sed -n 's/^# expect: //p' "$f")
	flavour=$(sed -n 's/^# flavour: //p' "$f")
	flavour=${flavour:-kaiser}
	out=$MUT/results/$name
	rm -rf "$out" "$MUT/tree"
	mkdir -p "$out"
	cp -al "$TREE" "$MUT/tree"
	# Files a mutation ever changed are real copies, newer than any
	# object built from them, so that make rebuilds them every time.
	for p in "$TOP"/tests/mutations/*.patch; do
		for g in $(sed -n 's|^+++ b/||p' "$p"); do
			cp --remove-destination "$TREE/$g" "$MUT/tree/$g" && touch "$MUT/tree/$g"
		done
	done
	if ! (cd "$MUT/tree" && patch -p1 -s --no-backup-if-mismatch) <"$f" >"$out/patch.log" 2>&1; then
		ktap_result fail "$name: applies to the patched tree" "$(head -1 "$out/patch.log")"
		continue
	fi
	echo "# $name: building $flavour"
	BUILD=$MUT TREE=$MUT/tree LOGS=$out "$TOP/scripts/build-kernel.sh" "$flavour" >/dev/null 2>"$out/build.err"
	built=$?
	if [ "$check" != build ] && [ $built != 0 ]; then
		ktap_result fail "$name: the mutant builds" "$(tail -1 "$out/build.err")"
		continue
	fi
	case "$check" in
	build)
		rc=$built
		evidence="$out/build.err"
		;;
	report)
		BUILD=$MUT LOGS=$out "$TOP/scripts/boot.sh" --suite report --smp 2 --silence 60 --timeout 180 \
			--name "$name" --args kaiser=on "$flavour" 2>"$out/verdict"
		rc=$?
		# The report suite passes whatever KUnit says; the lanes count
		# KUnit's results on their own.  Here a failed case is a catch.
		grep -aqE '^\[ *[0-9]+\.[0-9]+\] +not ok ' "$out/$name.log" && rc=1
		evidence="$out/$name.log $out/verdict"
		;;
	report-pcid)
		BUILD=$MUT LOGS=$out "$TOP/scripts/boot-bochs.sh" --suite report \
			--model corei7_ivy_bridge_3770k --silence 120 --timeout 300 \
			--name "$name" --args kaiser=on "$flavour" 2>"$out/verdict"
		rc=$?
		grep -aqE '^\[ *[0-9]+\.[0-9]+\] +not ok ' "$out/$name.log" && rc=1
		evidence="$out/$name.log $out/verdict"
		;;
	selftest)
		BUILD=$MUT LOGS=$out "$TOP/scripts/boot.sh" --suite selftests --smp 2 --silence 120 --timeout 300 \
			--name "$name" --args "kaiser=on harness.only=$selftest" "$flavour" 2>"$out/verdict"
		rc=$?
		evidence="$out/$name.log $out/verdict"
		;;
	selftest-pcid)
		BUILD=$MUT LOGS=$out "$TOP/scripts/boot-bochs.sh" --suite selftests \
			--model corei7_ivy_bridge_3770k --silence 120 --timeout 600 \
			--name "$name" --args "kaiser=on harness.only=$selftest" "$flavour" 2>"$out/verdict"
		rc=$?
		evidence="$out/$name.log $out/verdict"
		;;
	nmi-boot)
		BUILD=$MUT "$TOP/scripts/check-nmi-boot.sh" >"$out/nmi-boot.ktap" 2>"$out/verdict"
		rc=$?
		grep -q '^not ok' "$out/nmi-boot.ktap" && rc=1
		evidence="$out/nmi-boot.ktap $out/verdict $MUT/results/nmi-boot/*.verdict"
		;;
	shadow-relocs)
		python3 "$TOP/scripts/check-shadow-relocs.py" "$MUT/obj-$flavour" >"$out/shadow-relocs.log" 2>&1
		rc=$?
		evidence="$out/shadow-relocs.log"
		;;
	leaks)
		BUILD=$MUT "$TOP/scripts/check-leaks.sh" >"$out/leaks.ktap" 2>"$out/verdict"
		rc=$?
		grep -q '^not ok' "$out/leaks.ktap" && rc=1
		evidence="$out/leaks.ktap $out/verdict"
		;;
	esac
	# shellcheck disable=SC2086
	if [ $rc = 0 ]; then
		ktap_result fail "$name: caught" "the mutant passed its $check check"
	elif hit=$(grep -hEo -m1 -- "$expect" $evidence 2>/dev/null | head -1) && [ -n "$hit" ]; then
		ktap_result pass "$name: caught by $check: $hit"
	else
		ktap_result fail "$name: caught for the right reason" "failed, but nothing matches /$expect/: $(tail -1 "$out/verdict" 2>/dev/null || tail -1 "$out/build.err")"
	fi
done
rm -rf "$MUT/tree"
ktap_end

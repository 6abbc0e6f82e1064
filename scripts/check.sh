#!/bin/bash
# make check: the whole test suite, as a list of stages in the order
# kunit_tool runs its own (config, build, run, parse).  Each stage reports
# in KTAP to build/results/STAGE.ktap; this script nests them into one
# document, build/results/check.ktap, and counts it once, at the end, with
# scripts/ktap.py.  The last line is 'N passed, N failed, N skipped'; the
# exit status is 1 on any failure.
#
# usage: scripts/check.sh [LANE...]     (default: every lane of tests/lanes.tsv)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

S=$TOP/scripts
RESULTS=$BUILD/results
CHECK=$RESULTS/check.ktap
lanes=$("$S/tables.py" lanes "$@" | cut -f1) || exit 1
rm -rf "$RESULTS"
mkdir -p "$RESULTS" "$LOGS"
echo "KTAP version 1" >"$CHECK"
n=0
times=()

. "$S/stages.sh"

finish() {
	echo "1..$n" >>"$CHECK"
	echo
	if compgen -G "$RESULTS/*/visible.txt" >/dev/null; then
		echo "== pages of kernel address space, espfix aside, mapped in the page tables user space runs on (ptdump of current_user)"
		for f in "$RESULTS"/*/visible.txt; do
			[ -s "$f" ] && echo "$(basename "$(dirname "$f")"): $(cat "$f")"
		done
	fi
	echo "stage times: $(IFS=,; echo "${times[*]}" | sed 's/,/, /g')"
	echo "results: $CHECK; the test matrix: $BUILD/matrix.md"
	# Named here, next to the count, so that the tail of a log is enough.
	"$S/ktap.py" --failed "$CHECK" | sed 's/^/FAILED: /'
	"$S/ktap.py" --count "$CHECK"
	exit
}

# config and build: nothing runs if one of these fails
step deps "the packages the harness needs are installed" "$S/install-deps.sh" || finish
stage harness-selftests "$TOP/tests/harness-selftests.sh"
stage harness-selftests-deps "$TOP/tests/harness-selftests-deps.sh"
step source "the base tree is fetched and unpacked" "$S/fetch-source.sh" || finish
sed -n '1,2s/^/base tree: /p' "$(dirname "$SRC")/.unpacked"
step tree "patches/series applies without fuzz ($(grep -cvE '^\s*(#|$)' "$PATCHES/series") patches)" \
	"$S/patch-tree.sh" || finish
# make check-mutations builds each one; here only whether they still
# apply, so that a change to the series cannot leave them behind.
step mutations-apply "every bug in tests/mutations/ can still be put back into the patched tree" \
	bash -c "for m in '$TOP'/tests/mutations/*.patch; do
		patch -p1 -s -F0 --dry-run -d '$TREE' <\"\$m\" || { echo \"\$m no longer applies\"; exit 1; }
	done"
# The series as mail: checkpatch and kernel-doc (make lint), and
# patches/ being git format-patch output of the series' history.
stage lint "$S/lint.sh" --patches-only
stage format-series "$S/format-series.sh" --check
built=1
for f in none pti kaiser kaiser-hardened; do
	step "kernel-$f" "the $f kernel builds, objtool-clean" "$S/build-kernel.sh" "$f" || built=0
done
[ $built = 1 ] || finish
# KAISER is PTI's alternative, never its companion.
step kaiser-without-pti "the kaiser flavour has no PTI: CONFIG_PAGE_TABLE_ISOLATION off, pti.c not compiled" \
	bash -c "! grep -qs '^CONFIG_PAGE_TABLE_ISOLATION=y' '$BUILD/obj-kaiser/.config' &&
		[ ! -e '$BUILD/obj-kaiser/arch/x86/mm/pti.o' ]"
# What a Meltdown read through the user tables could learn of KASLR from
# the code they map: nothing, from the SYSCALL trampoline's page or the
# entry text's alias (whose one such place the boot code rewrites).
step shadow-relocs "nothing that KASLR rewrites at boot is in the SYSCALL trampoline's page, nothing but __per_cpu_offset's in the rest of the entry text" \
	python3 "$S/check-shadow-relocs.py" "$BUILD/obj-kaiser"
tail -1 "$RESULTS/shadow-relocs.log" | sed 's/^check-shadow-relocs: [a-zA-Z]*: /shadow-relocs: /'
stage kconfig "$S/check-kconfig.sh"
step initramfs "the initramfs with the x86 selftests builds" "$S/build-initramfs.sh" || finish
step initramfs-torture "the torture initramfs (the same, and stress-ng) builds" \
	"$S/build-initramfs.sh" --torture || finish

# run
stage boot-options "$S/check-boot-options.sh"
# Not beside Bochs: a 2-vCPU QEMU guest left one host core runs 4 times
# slower, not 2 (its vCPUs wait for each other; measured 2026-12-01).
for lane in $lanes; do
	stage "lane-$lane" "$S/run-lane.sh" "$lane"
done
stage isolation "$S/check-isolation.sh"
stage vsyscall "$S/check-vsyscall.sh"
stage nmi-boot "$S/check-nmi-boot.sh"
stage pcid "$S/check-pcid.sh"
stage leaks "$S/check-leaks.sh"
# The TLB flush decisions are invisible to the emulated TLBs: only mutants
# show that their tests can fail (the others: make check-mutations).  They
# build and boot beside the short torture, which runs for a fixed time and
# is judged by what fails.  Not beside the bench: under a loaded host
# QEMU's -icount figures moved by an instruction (getppid 243.3 for 244.1).
stage_begin mutations-pcid "$S/check-mutations.sh" --every-check
stage torture "$S/run-torture.sh" --short
stage_end mutations-pcid
stage bench "$S/bench.sh" --check

# parse: every lane's selftests against its reference lane
stage matrix "$S/matrix.py" "$RESULTS" "$BUILD/matrix.md" $lanes
grep -E '^(# |not ok )' "$RESULTS/matrix.ktap" | sed -e 's/^# /  /' -e 's/^not ok [0-9]* /  FAIL  /'
finish

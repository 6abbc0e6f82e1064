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

# stage NAME COMMAND...: a check that reports in KTAP on its stdout; its
# stderr (progress, and each result as it comes) goes to the console.
stage() {
	local name=$1 t0 rc
	shift
	echo "== $name"
	t0=$(now)
	"$@" >"$RESULTS/$name.ktap"
	rc=$?
	nest "$name" "$rc" "$RESULTS/$name.ktap" "$(($(now) - t0))"
	return $rc
}

# step NAME DESCRIPTION COMMAND...: a step that is one result: its exit
# status.  Its output goes to build/results/NAME.log, the end of it to
# the console when it fails.
step() {
	local name=$1 what=$2 t0 rc
	shift 2
	echo "== $name"
	t0=$(now)
	"$@" >"$RESULTS/$name.log" 2>&1
	rc=$?
	{
		KTAP_N=0
		ktap_begin
		if [ $rc = 0 ]; then
			ktap_result pass "$what"
		else
			tail -5 "$RESULTS/$name.log" >&2
			ktap_result fail "$what" "exit status $rc; see $RESULTS/$name.log"
		fi
		ktap_end
	} >"$RESULTS/$name.ktap"
	nest "$name" "$rc" "$RESULTS/$name.ktap" "$(($(now) - t0))"
	return $rc
}

# stage_begin NAME COMMAND... / stage_end NAME: a stage that runs in the
# background while the next ones run in the foreground, for a stage that
# mostly waits on one core (Bochs) beside stages whose figures do not
# depend on the host's load.  Its progress goes to
# build/results/NAME.progress, shown when it ends.
declare -A bg_pid bg_t0
stage_begin() {
	local name=$1
	shift
	echo "== $name (in the background)"
	bg_t0[$name]=$(now)
	"$@" >"$RESULTS/$name.ktap" 2>"$RESULTS/$name.progress" &
	bg_pid[$name]=$!
}

stage_end() {
	local name=$1 rc
	wait "${bg_pid[$name]}"
	rc=$?
	echo "== $name (ended)"
	cat "$RESULTS/$name.progress"
	nest "$name" "$rc" "$RESULTS/$name.ktap" "$(($(now) - ${bg_t0[$name]}))"
	return $rc
}

nest() {	# nest NAME STATUS KTAP SECONDS
	n=$((n + 1))
	sed 's/^/    /' "$3" >>"$CHECK"
	if [ "$2" = 0 ]; then
		echo "ok $n $1" >>"$CHECK"
	else
		echo "not ok $n $1 # exit status $2" >>"$CHECK"
	fi
	times+=("$1 $4 s")
	echo "$1: $("$S/ktap.py" --count "$3" | sed 's/^$/no results/') in $4 s"
}

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
stage kconfig "$S/check-kconfig.sh"
step initramfs "the initramfs with the x86 selftests builds" "$S/build-initramfs.sh" || finish

# run
stage boot-options "$S/check-boot-options.sh"
for lane in $lanes; do
	stage "lane-$lane" "$S/run-lane.sh" "$lane"
done
stage isolation "$S/check-isolation.sh"
stage vsyscall "$S/check-vsyscall.sh"
stage nmi-boot "$S/check-nmi-boot.sh"
stage pcid "$S/check-pcid.sh"
# The TLB flush decisions are invisible to the emulated TLBs: only mutants
# show that their tests can fail (the others: make check-mutations).  They
# build and boot beside the stress run, which runs for a fixed time and is
# judged by what fails.  Not beside the bench: under a loaded host QEMU's
# -icount figures moved by an instruction (getppid 243.3 for 244.1).
stage_begin mutations-pcid "$S/check-mutations.sh" --every-check
stage stress "$S/run-stress.sh"
stage_end mutations-pcid
stage bench "$S/bench.sh" --check

# parse: every lane's selftests against its reference lane
stage matrix "$S/matrix.py" "$RESULTS" "$BUILD/matrix.md" $lanes
grep -E '^(# |not ok )' "$RESULTS/matrix.ktap" | sed -e 's/^# /  /' -e 's/^not ok [0-9]* /  FAIL  /'
finish

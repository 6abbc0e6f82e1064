#!/bin/bash
# make check-debug: the kaiser flavour with the kernel's memory and
# locking debuggers (kaiser-debug: configs/debug.config, KASAN, kmemleak,
# DEBUG_PAGEALLOC, DEBUG_VM, DEBUG_ENTRY, lockdep) under kaiser=on on 2
# vCPUs: the x86 selftests (lane kaiser-debug-smp2 of
# tests/lanes-debug.tsv, compared test by test with none-smp2, which runs
# first), then the short torture with CPU hotplug, then kmemleak's scan,
# which must report nothing the series allocated.  Any KASAN, lockdep or
# DEBUG_VM report is a kernel warning in the log, and fails its boot.
# Too slow for make check (a KASAN kernel under TCG); the README states
# its last result.  Results in build/results-debug/; the last line is
# 'N passed, N failed, N skipped'.
#
# usage: scripts/check-debug.sh
set -uo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

S=$TOP/scripts
RESULTS=$BUILD/results-debug
CHECK=$RESULTS/check-debug.ktap
rm -rf "$RESULTS"
mkdir -p "$RESULTS" "$LOGS"
echo "KTAP version 1" >"$CHECK"
n=0
times=()
. "$S/stages.sh"

t0=$(now)
# Each lane's logs go to build/results/LANE/, where matrix.py finds them
# (the none-smp2 lane's replace make check's, with the same kernel).
export BUILD
for lane in none-smp2 kaiser-debug-smp2; do
	stage "lane-$lane" "$S/run-lane.sh" "$lane"
done
stage matrix "$S/matrix.py" "$BUILD/results" "$RESULTS/matrix.md" none-smp2 kaiser-debug-smp2
stage torture "$S/run-torture.sh" --short --flavour kaiser-debug

echo "1..$n" >>"$CHECK"
echo "stage times: $(IFS=,; echo "${times[*]}" | sed 's/,/, /g'); $(($(now) - t0)) s in all"
"$S/ktap.py" --count "$CHECK"

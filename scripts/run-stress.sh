#!/bin/bash
# The stress run: the kaiser kernel under kaiser=on on 2 vCPUs runs
# guest/stress.c's signal, timer and fork storms, a fork+exec shell loop
# and a loop over the LDT, espfix and signal-return selftests (guest/init's
# stress suite) for SECONDS, while NMIs are injected from outside through
# QMP every 2 s.  Reports in KTAP on stdout; logs in build/results/stress/.
#
# usage: scripts/run-stress.sh [SECONDS]     (default: $STRESS_SECONDS or 180)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

secs=${1:-${STRESS_SECONDS:-180}}
case "$secs" in '' | *[!0-9]*) die "SECONDS must be a number, not '$secs'" ;; esac
OUT=$BUILD/results/stress
rm -rf "$OUT"
mkdir -p "$OUT"
export LOGS=$OUT
name=stress-kaiser-on

ktap_begin
echo "# $secs s of storms under kaiser=on, 2 vCPUs, NMIs injected every 2 s"
"$TOP/scripts/boot.sh" --suite stress --smp 2 --silence 300 --timeout $((secs + 600)) --name $name \
	--args "kaiser=on harness.seconds=$secs" kaiser 2>"$OUT/$name.verdict" &
boot=$!
# NMIs from outside, on every vCPU: they land in user mode, in the kernel,
# and in the few instructions between a CR3 switch and SYSRET or IRET,
# where only the paranoid entry's CR3 check helps.  They start once the
# kernel has its IDT (5 s in); qmp.py ends when the guest does.
sleep 5
"$TOP/scripts/qmp.py" "$OUT/$name.qmp" --every 2 inject-nmi >"$OUT/nmi.txt" 2>&1
wait $boot
rc=$?
grep '^# stress: [0-9]* workers\|^# shell loop\|^# selftest loop' "$OUT/$name.log"
if [ $rc = 0 ]; then
	ktap_result pass "$name: $secs s of storms, every worker ok, clean log"
else
	grep '^# ' "$OUT/$name.log" | tail -8
	ktap_result fail "$name: $secs s of storms" "$(tail -1 "$OUT/$name.verdict")"
fi
nmis=$(grep -c 'NMI received for unknown reason' "$OUT/$name.log")
if [ "$nmis" -gt 0 ]; then
	ktap_result pass "$name: the guest survived $nmis injected NMIs ($(sed 's/^qmp.py: //' "$OUT/nmi.txt" | tr '\n' ' '))"
else
	ktap_result fail "$name: injected NMIs" "none reached the guest ($(tr '\n' ' ' <"$OUT/nmi.txt"))"
fi
ktap_end

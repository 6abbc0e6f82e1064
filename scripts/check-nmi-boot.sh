#!/bin/bash
# NMIs on CPUs that run on init_mm's page tables.  Until /init runs, every
# CPU is on init_top_pgt, and KAISER's paranoid entries (NMI, #MC, #DB,
# #DF) read a set CR3 bit 12 as "on a shadow PGD" and clear it: an
# init_top_pgt on an odd page would turn the first NMI there into a
# triple fault.  The kaiser kernel under kaiser=on, 2 vCPUs, boots to its
# report while QMP injects an NMI every 20 ms from the kernel's first
# line on.  Passes when the guest ends cleanly and NMIs reached the
# kernel before /init ran.  KTAP on stdout; logs in build/results/nmi-boot/.
#
# usage: scripts/check-nmi-boot.sh
set -uo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

OUT=$BUILD/results/nmi-boot
rm -rf "$OUT"
mkdir -p "$OUT"
export LOGS=$OUT
name=nmi-boot-kaiser-on

ktap_begin
echo "# NMIs every 20 ms from the kernel's first line on, kaiser=on, 2 vCPUs"
"$TOP/scripts/boot.sh" --suite report --smp 2 --silence 120 --timeout 600 --name $name \
	--args "kaiser=on" kaiser 2>"$OUT/$name.verdict" &
boot=$!
# Not from power-on: the firmware and the kernel's real-mode setup run
# with NMIs masked at the CMOS port, a mask QMP's inject-nmi does not
# honour, and an NMI there resets the guest before the kernel has run
# (seen when a loaded host made QEMU slow to start).  No machine sends
# NMIs there.  The kernel's first line comes after its early IDT, which
# takes them.
for _ in $(seq 600); do
	grep -aqs 'Linux version' "$OUT/$name.log.part" && break
	kill -0 $boot 2>/dev/null || break
	sleep 0.1
done
"$TOP/scripts/qmp.py" --wait 30 "$OUT/$name.qmp" --every 0.02 inject-nmi >"$OUT/nmi.txt" 2>&1
wait $boot
rc=$?
if [ $rc = 0 ]; then
	ktap_result pass "$name: booted to its report under a stream of NMIs"
else
	ktap_result fail "$name: boot under a stream of NMIs" "$(tail -1 "$OUT/$name.verdict")"
fi
# The kernel reports an NMI nobody claims (rate-limited); count those
# before the kernel hands over to /init.
early=$(sed -n '/Run \/init as init process/q; p' "$OUT/$name.log" 2>/dev/null |
	grep -c 'NMI received for unknown reason')
if [ "${early:-0}" -gt 0 ]; then
	ktap_result pass "$name: $early NMIs reported before /init, on init_mm ($(sed 's/^qmp.py: //' "$OUT/nmi.txt"))"
else
	ktap_result fail "$name: NMIs before /init" "none reported ($(tr '\n' ' ' <"$OUT/nmi.txt"))"
fi
ktap_end

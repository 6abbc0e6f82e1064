#!/bin/bash
# Boot one kernel in Bochs, the emulator whose CPU models have PCID and
# INVPCID (QEMU's TCG has neither), with the harness initramfs, under a
# hard time limit; the serial log goes to build/logs/NAME.log.  What it
# proves is that the PCID code paths run, not that they flush enough:
# Bochs 2.7 ignores NOFLUSH and keeps no PCID tag in its TLB.
#
# usage: scripts/boot-bochs.sh [options] FLAVOUR
#   --suite S       report (default), selftests or bench; see guest/init
#   --args "..."    extra kernel parameters
#   --smp N         CPUs (1 or 2; default 1)
#   --model M       Bochs CPU model: corei7_haswell_4770 (the default)
#                   and corei7_skylake_x have PCID and INVPCID,
#                   corei7_ivy_bridge_3770k PCID without INVPCID
#   --name NAME     log name (default bochs-FLAVOUR)
#   --silence S     no serial output for S seconds is a hang (default 300)
#   --timeout S     hard limit for the whole boot (default 900)
#
# Bochs boots from an ISO (isolinux: the kernel, the initramfs and the
# command line), built next to the log.  Its display is VNC (rfb) with
# no wait for a client, the one headless display this Debian build has;
# it listens on a port, so Bochs runs in a network namespace of its own.
# Its exit status is not the guest's: the verdict is read from the
# guest's end-of-run marker.  Exit status as scripts/boot.sh's: 0 when
# the guest reported success and the log checker found nothing, 3 when
# the log is clean but the guest reported failing tests, 1 otherwise,
# with one line saying what went wrong and where the log is.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

suite=report args= smp=1 model=corei7_haswell_4770 name= silence=300 timeout=900
while [ $# -gt 0 ]; do
	case "$1" in
	--suite) suite=$2; shift 2 ;;
	--args) args=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--model) model=$2; shift 2 ;;
	--name) name=$2; shift 2 ;;
	--silence) silence=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	-*) die "boot-bochs.sh: unknown option '$1' (see the usage in $0)" ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || die "usage: $0 [options] FLAVOUR"
flavour=$1
check_flavour "$flavour"
case "$suite" in
report | selftests | bench) ;;
*) die "unknown suite '$suite' for Bochs (report, selftests or bench)" ;;
esac
case "$smp" in [12]) ;; *) die "--smp must be 1 or 2 under Bochs, not '$smp'" ;; esac
case "$model" in
corei7_haswell_4770 | corei7_skylake_x | corei7_ivy_bridge_3770k) ;;
*) die "--model must be corei7_haswell_4770, corei7_skylake_x or corei7_ivy_bridge_3770k (the models with PCID), not '$model'" ;;
esac
case "$timeout" in '' | *[!0-9]*) die "--timeout must be a number of seconds, not '$timeout'" ;; esac
case "$silence" in '' | *[!0-9]*) die "--silence must be a number of seconds, not '$silence'" ;; esac
name=${name:-bochs-$flavour}
kernel=$BUILD/obj-$flavour/arch/x86/boot/bzImage
initrd=$BUILD/initramfs.cpio.gz
BOCHS=${BOCHS:-bochs}
ISOLINUX=${ISOLINUX:-/usr/lib/ISOLINUX/isolinux.bin}
LDLINUX=${LDLINUX:-/usr/lib/syslinux/modules/bios/ldlinux.c32}

command -v "$BOCHS" >/dev/null || die "$BOCHS not found (install bochs: scripts/install-deps.sh)"
command -v xorriso >/dev/null || die "xorriso not found (install xorriso: scripts/install-deps.sh)"
for f in "$ISOLINUX" "$LDLINUX"; do
	[ -f "$f" ] || die "no $f (install isolinux and syslinux-common: scripts/install-deps.sh)"
done
[ -f "$kernel" ] || die "no kernel at $kernel (make kernel FLAVOUR=$flavour)"
[ -f "$initrd" ] || die "no initramfs at $initrd (make initramfs)"

mkdir -p "$LOGS"
log=$LOGS/$name.log
dir=$LOGS/$name.bochs
rm -rf "$log" "$log.part" "$dir"
mkdir -p "$dir/iso/isolinux"

# The guest's command line as boot.sh gives it, but for the baud rate
# (Bochs's serial port runs at the speed the guest sets).
cmdline="console=ttyS0,115200 earlyprintk=serial panic=-1 harness.suite=$suite $args"
cp "$kernel" "$dir/iso/bzImage"
cp "$initrd" "$dir/iso/initrd.gz"
cp "$ISOLINUX" "$LDLINUX" "$dir/iso/isolinux/"
cat >"$dir/iso/isolinux/isolinux.cfg" <<EOF
default linux
prompt 0
timeout 0
label linux
  kernel /bzImage
  append initrd=/initrd.gz $cmdline
EOF
xorriso -as mkisofs -quiet -o "$dir/boot.iso" -b isolinux/isolinux.bin \
	-c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table \
	"$dir/iso" >"$dir/xorriso.log" 2>&1 ||
	die "xorriso could not make the boot ISO: $(tail -1 "$dir/xorriso.log"); log: $dir/xorriso.log"
rm -rf "$dir/iso"

# clock: sync=none makes emulated time follow the instruction count (ips
# instructions per emulated second), whatever the host's load.  The
# speaker is off and sound goes nowhere: this build's sound plugin
# aborts ("buffer overflow detected") when the host has no sound card.
# A triple fault ends Bochs (panic, fatal) instead of resetting the CPU.
cat >"$dir/bochsrc" <<EOF
megs: 512
cpu: model=$model, count=$smp, ips=100000000, reset_on_triple_fault=0
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-master: type=cdrom, path=$dir/boot.iso, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=$log.part
display_library: rfb, options="timeout=0"
clock: sync=none, time0=1
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
log: $dir/bochs.log
panic: action=fatal
error: action=report
info: action=ignore
debug: action=ignore
EOF
# The built-in debugger stops before the first instruction: continue.
echo c >"$dir/debugger.rc"

t0=$(now)
unshare --net "$BOCHS" -q -f "$dir/bochsrc" -rc "$dir/debugger.rc" </dev/null >"$dir/bochs.out" 2>&1 &
bpid=$!
trap 'kill -KILL "$bpid" 2>/dev/null; die "interrupted while booting $name; log: $log.part"' INT TERM
trap 'kill -KILL "$bpid" 2>/dev/null || true' EXIT
trap 'echo "$name: boot-bochs.sh failed at line $LINENO; log: $log.part" >&2' ERR
# With panic=-1 the guest reboots at once after a panic, and Bochs would
# boot it again: the panic line ends the boot.
watch_guest "$bpid" "$log.part" "$name" "$silence" "$timeout" \
	'Kernel panic - not syncing|reboot: Restarting system'
stop=$WATCH_STOP
trap - ERR
set +e
wait "$bpid"
set -e
trap - INT TERM
# The ISO is the kernel and the initramfs again, 20 MB a boot: not kept.
rm -f "$dir/boot.iso"
if [ -f "$log.part" ]; then
	tr -d '\r' <"$log.part" >"$log" && rm -f "$log.part"
else
	touch "$log"
fi
secs=$(($(now) - t0))

# Bochs's own complaints (a PANIC is fatal) say why a guest stopped early.
bochs_panic=$(grep -a -h -E '>>PANIC<<|buffer overflow|\[CPU0  \] .*(triple|shutdown)' "$dir/bochs.out" "$dir/bochs.log" 2>/dev/null | grep -v 'soft power off' | head -1 | cut -c1-160 || true)
result=$(sed -n 's/^harness: end of run: suite=[a-z]* result=\([a-z]*\)$/\1/p' "$log" | tail -1)
if ! problem=$("$TOP/scripts/check-log.sh" "$log"); then
	[ -n "$stop" ] && problem="$stop; $problem"
	[ -n "$bochs_panic" ] && problem="$problem; Bochs: $bochs_panic"
	echo "$name: FAILED in $secs s: $problem; log: $log" >&2
	exit 1
fi
case "$result" in
ok) echo "$name: ok in $secs s; log: $log" >&2 ;;
failed)
	echo "$name: booted and ran cleanly in $secs s, some tests failed; log: $log" >&2
	exit 3
	;;
*)
	echo "$name: FAILED in $secs s: the end-of-run marker has no result I know ('$result'); log: $log" >&2
	exit 1
	;;
esac

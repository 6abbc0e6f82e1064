#!/bin/bash
# Boot one kernel in QEMU (TCG) with the harness initramfs, under a hard
# time limit, with the serial log in build/logs/NAME.log and a QMP socket
# in build/logs/NAME.qmp for tests that inspect the guest from outside.
#
# usage: scripts/boot.sh [options] FLAVOUR
#   --suite S       report (default), selftests, bench, stress, spin,
#                   torture, leaks, or shell (interactive); see guest/init
#   --initramfs F   boot F instead of build/initramfs.cpio.gz (the torture
#                   suite needs build/initramfs-torture.cpio.gz)
#   --args "..."    extra kernel parameters
#   --smp N         vCPUs (default 2)
#   --cpu MODEL     QEMU -cpu (default max,vendor=GenuineIntel: Meltdown-affected)
#   --name NAME     log name (default FLAVOUR)
#   --silence S     a guest that prints nothing on its serial console for S
#                   seconds is hung and is stopped (default 300)
#   --timeout S     hard limit for the whole boot, however busy the guest
#                   (default 1800): a slow guest is told from a hung one
#   --icount        count time in guest instructions (-icount shift=0,
#                   sleep=off): one guest nanosecond per instruction,
#                   deterministic; for make bench
#   --layout2       boot make bench's second build of FLAVOUR, the one
#                   linked with a layout gap (build/obj-FLAVOUR-layout2;
#                   scripts/build-kernel.sh --layout-gap)
#
# Exit status: 0 when the guest reached its end-of-run marker reporting
# success and the log checker found nothing; 3 when the log is clean but
# the guest reported failing tests (the caller judges those from the
# KTAP in the log); 1 otherwise, with one line saying what went wrong and
# where the log is.  Every 30 s it prints how long the boot has run and
# which test the guest is running.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

suite=report args= smp=2 cpu=max,vendor=GenuineIntel name= silence=300 timeout=1800 icount= obj=
initrd=$BUILD/initramfs.cpio.gz
while [ $# -gt 0 ]; do
	case "$1" in
	--suite) suite=$2; shift 2 ;;
	--args) args=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--cpu) cpu=$2; shift 2 ;;
	--name) name=$2; shift 2 ;;
	--silence) silence=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--icount) icount=1; shift ;;
	--layout2) obj=-layout2; shift ;;
	--initramfs) initrd=$2; shift 2 ;;
	-*) die "boot.sh: unknown option '$1' (see the usage in $0)" ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || die "usage: $0 [options] FLAVOUR"
flavour=$1
check_flavour "$flavour"
case "$suite" in
report | selftests | bench | stress | spin | torture | leaks | shell) ;;
*) die "unknown suite '$suite' (report, selftests, bench, stress, spin, torture, leaks or shell)" ;;
esac
case "$smp" in [1-4]) ;; *) die "--smp must be 1 to 4, not '$smp'" ;; esac
case "$timeout" in '' | *[!0-9]*) die "--timeout must be a number of seconds, not '$timeout'" ;; esac
case "$silence" in '' | *[!0-9]*) die "--silence must be a number of seconds, not '$silence'" ;; esac
name=${name:-$flavour}
kernel=$BUILD/obj-$flavour$obj/arch/x86/boot/bzImage
QEMU=${QEMU:-qemu-system-x86_64}

command -v "$QEMU" >/dev/null || die "$QEMU not found (install qemu-system-x86: scripts/install-deps.sh)"
[ -f "$kernel" ] || die "no kernel at $kernel (${obj:+scripts/build-kernel.sh --layout-gap 4144 $flavour, or }make kernel FLAVOUR=$flavour)"
[ -f "$initrd" ] || die "no initramfs at $initrd (make initramfs; for the torture one, scripts/build-initramfs.sh --torture)"

mkdir -p "$LOGS"
# QEMU runs inside $LOGS (below): every path it is given is absolute.
LOGS=$(cd "$LOGS" && pwd)
kernel=$(realpath "$kernel")
initrd=$(realpath "$initrd")
log=$LOGS/$name.log
qmp=$LOGS/$name.qmp
rm -f "$log" "$qmp"

# panic=-1 and -no-reboot: a panicking guest ends QEMU at once instead of
# hanging until the time limit.
cmdline="console=ttyS0 earlyprintk=serial panic=-1 harness.suite=$suite $args"
qemu=("$QEMU" -accel tcg -cpu "$cpu" -smp "$smp" -m 512M
	-kernel "$kernel" -initrd "$initrd" -append "$cmdline"
	-no-reboot -nographic -nodefaults
	-device isa-debug-exit,iobase=0xf4,iosize=0x04
	-qmp "unix:$name.qmp,server=on,wait=off")
[ -n "$icount" ] && qemu+=(-icount shift=0,sleep=off)

if [ "$suite" = shell ]; then
	# Interactive: the serial console and QEMU's monitor on this
	# terminal (Ctrl-A X quits), and a copy of everything in the log.
	set +e
	(cd "$LOGS" && exec "${qemu[@]}" -serial mon:stdio) | tee "$log"
	status=${PIPESTATUS[0]}
	# 1: the guest powered off through qemu-exit; 0: Ctrl-A X
	[ "$status" = 1 ] || [ "$status" = 0 ] || die "QEMU exited with status $status; log: $log"
	exit 0
fi

# The guest is alive while its serial log grows: a test that still
# prints gets time up to --timeout, a silent one is hung after --silence.
t0=$(now)
# QEMU binds the QMP socket by its bare name from inside $LOGS: a socket
# path holds at most 107 bytes, and a checkout deep in a CI's directory
# tree with a mutant's results beneath it is longer than that.
(cd "$LOGS" && exec "${qemu[@]}" -serial "file:$log.part") </dev/null >"$log.qemu" 2>&1 &
qpid=$!
trap 'kill -KILL "$qpid" 2>/dev/null; die "interrupted while booting $name; log: $log.part"' INT TERM
# Whatever ends this script, QEMU does not outlive its watcher, and an
# unexpected error says where it happened.
trap 'kill -KILL "$qpid" 2>/dev/null || true' EXIT
trap 'echo "$name: boot.sh failed at line $LINENO; log: $log.part" >&2' ERR
watch_guest "$qpid" "$log.part" "$name" "$silence" "$timeout"
stop=$WATCH_STOP
# QEMU's status is the verdict, not an error.
trap - ERR
set +e
wait "$qpid"
status=$?
set -e
trap - INT TERM
# The serial console ends lines with CR LF; keep the log plain text.
if [ -f "$log.part" ]; then
	tr -d '\r' <"$log.part" >"$log" && rm -f "$log.part"
else
	touch "$log"
fi
secs=$(($(now) - t0))

# QEMU's exit status carries the guest's verdict (guest/qemu-exit.c):
# 1 = the guest reported success, 3 = it reported failures.
[ -n "$stop" ] && status=stopped
case $status in
stopped) verdict=$stop ;;
1) verdict=ok ;;
3) verdict=tests-failed ;;
0) verdict="the guest stopped without reporting a result (panic or reset)" ;;
*) verdict="QEMU failed with status $status: $(head -c 300 "$log.qemu")" ;;
esac
if grep -q . "$log.qemu"; then
	cat "$log.qemu" >>"$log"
fi
rm -f "$log.qemu"

if ! problem=$("$TOP/scripts/check-log.sh" "$log"); then
	# A stopped guest has no end-of-run marker: say why it was stopped,
	# and what else the log shows.
	if [ -n "$stop" ]; then
		case "$problem" in
		"no end-of-run marker"*) problem=$stop ;;
		*) problem="$stop; $problem" ;;
		esac
	elif [ "$status" = 0 ]; then
		# QEMU ended the guest itself (-no-reboot): a reset, such as
		# a triple fault, or a panic.
		problem="the guest stopped without reporting a result (panic or reset); $problem"
	fi
	echo "$name: FAILED in $secs s: $problem; log: $log" >&2
	exit 1
fi
case "$verdict" in
ok) echo "$name: ok in $secs s; log: $log" >&2 ;;
tests-failed)
	echo "$name: booted and ran cleanly in $secs s, some tests failed; log: $log" >&2
	exit 3
	;;
*)
	echo "$name: FAILED in $secs s: $verdict; log: $log" >&2
	exit 1
	;;
esac

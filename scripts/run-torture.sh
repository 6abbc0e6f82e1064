#!/bin/bash
# The torture runs: stress-ng's OS-level stressors (guest/init's torture
# suite, from build/initramfs-torture.cpio.gz) on 2 vCPUs, with NMIs
# injected from outside through QMP every 2 s while they run.  Each
# stressor is a result of its own: it passes when stress-ng reports its
# metrics and no failure for it; one the guest kernel cannot run is a
# skip, never a pass.  A boot whose log the log checker finds a warning,
# an oops or a hang in fails as a whole.  KTAP on stdout; logs in
# build/results/torture-FLAVOUR/ (torture-short-FLAVOUR/ for --short).
#
# Beside stress-ng run guest/stress.c's signal, timer and fork storms and
# a loop over the LDT and signal-return selftests (see guest/init).
#
#   make torture (no option): for TORTURE_SECONDS (default 300) each,
#     the kaiser kernel under kaiser=on, with the last CPU taken offline
#     and back every 30 s; the same stressors on the none kernel, so that
#     a failure of the base kernel's own is told apart; and the kaiser
#     kernel under kaiser=on vsyscall=emulate.
#   --short (make check): kaiser=on for 60 s, the last CPU offline and
#     back every 15 s; then the isolation selftest on every CPU and, from
#     outside, scripts/check-isolation.py's walk of the user page tables
#     while the CPU that went offline runs user code.
#
#   --short --flavour F: the short run on flavour F (make check-debug:
#     kaiser-debug), with kmemleak's report at the end.
#
# usage: scripts/run-torture.sh [--short [--flavour F]]
set -uo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

short= flavour=kaiser extra=
while [ $# -gt 0 ]; do
	case "$1" in
	--short) short=1; shift ;;
	--flavour) flavour=${2:-}; shift 2 || die "usage: $0 [--short [--flavour F]]" ;;
	*) die "usage: $0 [--short [--flavour F]]" ;;
	esac
done
check_flavour "$flavour"
[ "$flavour" = kaiser ] || [ -n "$short" ] || die "--flavour goes with --short"
# A debug kernel runs some ten times slower under TCG: fewer stressors,
# for longer, or most would not finish one operation (2026-12-01: 13 of
# 26 reported nothing in 60 s; in 180 s, all but mmap, which maps and
# touches 256 MiB per operation), and kmemleak's report at the end.  It
# runs 4-level paging, for the reason tests/lanes-debug.tsv gives.
case "$flavour" in
*-debug) extra=" no5lvl harness.kmemleak=1 harness.stressors=fork,exec,vfork,signal,sigsegv,munmap,mprotect,madvise,fault,tlb-shootdown,x86syscall" ;;
esac
secs=${TORTURE_SECONDS:-300}
[ -n "$short" ] && secs=60
[ -n "$short" ] && [ "${flavour%-debug}" != "$flavour" ] && secs=180
case "$secs" in '' | *[!0-9]* | 0) die "TORTURE_SECONDS must be a positive number, not '$secs'" ;; esac
INITRD=$BUILD/initramfs-torture.cpio.gz
[ -f "$INITRD" ] || die "no $INITRD (scripts/build-initramfs.sh --torture)"
OUT=$BUILD/results/torture${short:+-short}-$flavour
rm -rf "$OUT"
mkdir -p "$OUT"
export LOGS=$OUT

# Where the series allocates per process or per mapping (a kmemleak
# backtrace through one of these is the series' leak): KAISER's own
# functions, the order-1 PGD, the LDT's alias.
SERIES_ALLOCATORS='^(kaiser_[a-z0-9_]+|_?pgd_alloc|map_ldt_struct|alloc_ldt_struct|ldt_dup_context|write_ldt)\+'

# torture NAME FLAVOUR "ARGS": one boot, its stressors' results, and, with
# harness.spin_after in ARGS, the page-table walk from outside.
torture() {
	local name=$1 flavour=$2 args=$3 rc iso=
	echo "# $name: $secs s of stress-ng on the $flavour kernel, '$args', 2 vCPUs, NMIs every 2 s"
	"$TOP/scripts/boot.sh" --suite torture --initramfs "$INITRD" --smp 2 --silence 300 \
		--timeout $((secs + 900)) --name "$name" \
		--args "harness.seconds=$secs $args" "$flavour" 2>"$OUT/$name.verdict" &
	local boot=$!
	# NMIs start once the kernel has its IDT; they stop with the stressors,
	# which frees the QMP socket for the page-table walk.
	sleep 5
	"$TOP/scripts/qmp.py" --wait 60 "$OUT/$name.qmp" --every 2 --for "$((secs + 30))" inject-nmi \
		>"$OUT/$name.nmi" 2>&1
	case "$args" in
	*harness.spin_after=*)
		for _ in $(seq 1 3000); do
			grep -qs '^harness: spinning' "$OUT/$name.log.part" && break
			kill -0 $boot 2>/dev/null || break
			sleep 0.2
		done
		if grep -qs '^harness: spinning' "$OUT/$name.log.part"; then
			python3 "$TOP/scripts/check-isolation.py" --qmp "$OUT/$name.qmp" \
				--system-map "$BUILD/obj-$flavour/System.map" --expect isolated \
				--boot-log "$OUT/$name.log.part" >"$OUT/$name.isolation" 2>&1
			iso=$?
		else
			echo "the guest never started spinning" >"$OUT/$name.isolation"
			iso=1
		fi
		;;
	esac
	wait $boot
	rc=$?
	local log=$OUT/$name.log
	sed 's/^/# /' "$OUT/$name.nmi"
	# Each stressor: its metrics line, a failure line, or a skip
	local s
	for s in $(sed -n 's/^harness: torture for [0-9]* s on [0-9]* CPUs: stress-ng //p' "$log"); do
		local m fail skip
		m=$(grep -E "^# sng: stress-ng: metrc: \[[0-9]+\] $s +[0-9]+ " "$log" | head -1 | awk '{print $7}')
		fail=$(grep -E "^# sng: stress-ng: fail: .*\<$s\>" "$log" | head -1 | sed 's/^# sng: //')
		skip=$(grep -E "^# sng: .*\<$s\>.*(skipp|not supported|not implemented)" "$log" | head -1 | sed 's/^# sng: //')
		if [ -n "$fail" ]; then
			ktap_result fail "$name: stress-ng $s" "$fail"
		elif [ -n "$m" ] && [ "$m" -gt 0 ]; then
			ktap_result pass "$name: stress-ng $s: $m bogo ops"
		elif [ -n "$skip" ]; then
			ktap_result skip "$name: stress-ng $s" "$skip"
		else
			ktap_result fail "$name: stress-ng $s" "no metrics and no reason (see $log)"
		fi
	done
	grep -h '^# \(stress: [0-9]* workers\|shell loop\|selftest loop\|hotplug\)' "$log"
	grep -qs '^harness: torture for' "$log" ||
		ktap_result fail "$name: the torture ran" "it never started: $(tail -1 "$OUT/$name.verdict")"
	if [ $rc = 0 ]; then
		ktap_result pass "$name: every stressor, the selftest loop${args:+ and the rest of '$args'}: ok, clean log"
	else
		grep '^# ' "$log" | grep -v '^# sng: stress-ng: \(metrc\|info\)' | tail -8
		ktap_result fail "$name: the boot" "$(tail -1 "$OUT/$name.verdict")"
	fi
	case "$args" in
	*harness.kmemleak=1*)
		local leaks
		leaks=$(sed -n 's/^harness: kmemleak: \([0-9]*\) unreferenced objects$/\1/p' "$log")
		if [ -z "$leaks" ]; then
			ktap_result fail "$name: kmemleak's scan" "no kmemleak report in $log"
		else
			# An object is the series' when its allocation backtrace
			# runs through the series' allocating code.
			local ours
			ours=$(sed -n 's/^# kmemleak: //p' "$log" | awk -v re="$SERIES_ALLOCATORS" '
				/^unreferenced object/ { obj = $0; next }
				/^ +\[<[0-9a-f]+>\] / && $2 ~ re && !(obj in seen) { seen[obj] = 1; print obj " from " $2 }')
			[ "$leaks" = 0 ] || sed -n 's/^\(# kmemleak: \)/\1/p' "$log" | head -40
			if [ -z "$ours" ]; then
				ktap_result pass "$name: kmemleak: $leaks unreferenced objects, none allocated by the series' code"
			else
				sed 's/^/# ours: /' <<<"$ours"
				ktap_result fail "$name: kmemleak: nothing the series allocated leaks" \
					"$(grep -c . <<<"$ours") object(s) from the series' code"
			fi
		fi
		;;
	esac
	if [ -n "$iso" ]; then
		sed 's/^/# /' "$OUT/$name.isolation"
		[ "$iso" = 0 ] &&
			ktap_result pass "$name: after the hotplug, from outside: $(tail -1 "$OUT/$name.isolation" | sed 's/^check-isolation: //')" ||
			ktap_result fail "$name: after the hotplug, from outside" "$(tail -1 "$OUT/$name.isolation")"
	fi
}

ktap_begin
if [ -n "$short" ]; then
	torture "torture-$flavour-on" "$flavour" "kaiser=on harness.hotplug=15 harness.spin_after=40$extra"
else
	torture torture-kaiser-on kaiser "kaiser=on harness.hotplug=30"
	torture torture-none none ""
	torture torture-kaiser-vsyscall kaiser "kaiser=on vsyscall=emulate"
fi
ktap_end

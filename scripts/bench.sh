#!/bin/bash
# make bench: measure what each mitigation costs, side by side in one run,
# and write build/bench/results.csv, results.md and results.png
# (scripts/bench-report.py makes them from the figures this collects).
#
# The modes: none (the kernel without isolation), pti (pti=on), kaiser
# (kaiser=on) and kaiser-off (the kaiser kernel booted nokaiser).  Each
# boots on 1 vCPU under QEMU's -icount shift=0,sleep=off, where a guest
# nanosecond is one guest instruction, so that a figure is the same on
# every boot of one kernel, and runs bench/kbench.c's operations.  Each
# flavour is built twice, the second time with a layout gap
# (scripts/build-kernel.sh --layout-gap): what the two builds' figures
# differ by is what code layout alone moves, the spread each figure is
# reported with and the noise the --check comparisons allow.  The 32-bit
# vDSO's entry is SYSENTER on Intel and SYSCALL on AMD: the Intel boots
# (-cpu max,vendor=GenuineIntel, Meltdown-affected) measure
# sysenter_getppid, and a short boot of each on the AMD model
# (vendor=AuthenticAMD) measures syscall32_getppid.
#
# Without --check it also measures:
#   - wall-clock time under plain TCG (no -icount), one boot per mode:
#     TCG drops its whole software TLB on every CR3 write, so these say
#     little about hardware;
#   - under Bochs on a CPU with PCID and INVPCID (Haswell, 1 CPU, clock:
#     sync=none), where the TSC ticks once per instruction: none, pti and
#     kaiser with PCID and with nopcid, kaiser booted twice because two
#     Bochs boots do not repeat exactly (they part at some 17 s of guest
#     time); the run fails if the two differ by more than BOCHS_SPREAD
#     percent (default 5) on a row.
# and copies the table and the chart into README.md and bench/.
#
# usage: scripts/bench.sh [--check]
#   --check   the short version for make check: QEMU -icount only, 5 ms a
#             figure (exact all the same: the icount figures of one build
#             do not move), the AMD model's boot on the first build only,
#             and the goals asserted in KTAP on stdout (the table then
#             goes to stderr); see scripts/bench-report.py
# BENCH_MS (default 50; 5 with --check) guest milliseconds a figure
# takes, BENCH_RUNS (default 3) runs per figure, the median kept.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

check=
case "${1:-}" in
--check) check=1 ;;
"") ;;
*) die "usage: $0 [--check]" ;;
esac
BENCH_MS=${BENCH_MS:-$([ -n "$check" ] && echo 5 || echo 50)}
BENCH_RUNS=${BENCH_RUNS:-3}
case "$BENCH_MS$BENCH_RUNS" in *[!0-9]*) die "BENCH_MS and BENCH_RUNS must be whole numbers" ;; esac
LAYOUT_GAP=4144
WALL_MS=1000

# mode, flavour, kernel parameters; 'none' first: the reference
modes=(
	"none none"
	"pti pti pti=on"
	"kaiser kaiser kaiser=on"
	"kaiser-off kaiser nokaiser"
)
# The Bochs modes: name, flavour, kernel parameters ('_' for a space).
bochs_modes=(
	"none none"
	"pti pti pti=on"
	"kaiser kaiser kaiser=on"
	"kaiser-again kaiser kaiser=on"
	"kaiser-nopcid kaiser kaiser=on_nopcid"
	"pti-nopcid pti pti=on_nopcid"
)
BOCHS_MODEL=corei7_haswell_4770
BOCHS_OPS=getppid,read64,page_fault,pipe_pingpong,fork_exit
AMD_CPU=max,vendor=AuthenticAMD

out=$BUILD/bench
rm -rf "$out"
mkdir -p "$out/qemu" "$out/amd" "$out/wall" "$out/bochs"

# figures LOG FIELD: kbench's figures in LOG ("kbench: NAME NS ns/op TSC
# tsc/op (N ops, R runs, spread S%)") as NAME <tab> VALUE <tab> S, VALUE
# being ns/op (FIELD 3) or TSC ticks per op (FIELD 5) and S how far its
# runs in this boot spread, in percent; its memory figures ("kbench-memory: NAME KB
# kB/process") as mem:NAME <tab> KB; and the pages of kernel address
# space the user page tables map, as visible <tab> PAGES.
figures() {
	awk -v f="$2" '
		$1 == "kbench:" { s = $NF; sub(/%\)$/, "", s); print $2 "\t" $f "\t" s }
		$1 == "kbench-memory:" { print "mem:" $2 "\t" $3 }' "$1"
	sed -n 's/^user page tables: \([0-9]*\) pages of kernel address space.*/visible\t\1/p' "$1"
}

# bench_boot NAME FLAVOUR ARGS OUT [boot.sh options]: one boot, its figures in OUT.
# nokaslr: one layout for every boot, so that the same kernel gives the
# same -icount figures (the layout builds vary the layout on purpose).
bench_boot() {
	local name=$1 flavour=$2 args=$3 dest=$4
	shift 4
	"$TOP/scripts/boot.sh" --suite bench --smp 1 --timeout 1200 --name "$name" \
		--args "$args nokaslr harness.bench_runs=$BENCH_RUNS" "$@" "$flavour" >&2 ||
		die "the $name benchmark boot failed (log: $LOGS/$name.log)"
	figures "$LOGS/$name.log" 3 >"$dest"
	grep -q . "$dest" || die "no kbench figures in $LOGS/$name.log"
}

for f in none pti kaiser; do
	"$TOP/scripts/build-kernel.sh" --layout-gap "$LAYOUT_GAP" "$f" >/dev/null
	for o in "obj-$f" "obj-$f-layout2"; do
		[ -f "$BUILD/$o/vmlinux" ] || die "no $BUILD/$o/vmlinux (make kernel FLAVOUR=$f)"
		printf '%s\t%s\n' "$o" "$(size "$BUILD/$o/vmlinux" | awk 'NR == 2 { print $1 }')"
	done
done >"$out/text-size.tsv"

t0=$(now)
for m in "${modes[@]}"; do
	set -- $m
	mode=$1 flavour=$2 args=${3:-}
	for layout in 1 2; do
		opt=()
		[ "$layout" = 2 ] && opt=(--layout2)
		bench_boot "bench-$mode-$layout" "$flavour" "$args harness.bench_ms=$BENCH_MS" \
			"$out/qemu/$mode.$layout.tsv" --icount "${opt[@]}"
		[ -n "$check" ] && [ "$layout" = 2 ] && continue
		bench_boot "bench-$mode-$layout-amd" "$flavour" \
			"$args harness.bench_ms=$BENCH_MS harness.bench=syscall32_getppid" \
			"$out/amd/$mode.$layout.tsv" --icount --cpu "$AMD_CPU" "${opt[@]}"
	done
done
note "QEMU -icount boots: $(($(now) - t0)) s"

if [ -z "$check" ]; then
	t0=$(now)
	for m in "${modes[@]}"; do
		set -- $m
		bench_boot "bench-$1-wall" "$2" "${3:-} harness.bench_ms=$WALL_MS" "$out/wall/$1.tsv"
	done
	note "wall-clock boots: $(($(now) - t0)) s"
	t0=$(now)
	for m in "${bochs_modes[@]}"; do
		set -- $m
		mode=$1 flavour=$2 args=${3:-}
		name=bench-bochs-$mode
		"$TOP/scripts/boot-bochs.sh" --suite bench --model "$BOCHS_MODEL" --timeout 1800 \
			--args "${args//_/ } nokaslr harness.bench=$BOCHS_OPS harness.bench_ms=$BENCH_MS harness.bench_runs=1" \
			--name "$name" "$flavour" >&2 ||
			die "the Bochs $mode benchmark boot failed (log: $LOGS/$name.log)"
		figures "$LOGS/$name.log" 5 | grep -v '^visible\|^mem:' >"$out/bochs/$mode.tsv"
		grep -q '^getppid' "$out/bochs/$mode.tsv" || die "no kbench figures in $LOGS/$name.log"
	done
	note "Bochs boots: $(($(now) - t0)) s"
fi

# The base tree: the Debian package and version, and the tarball's sha256
base=$(head -2 "$(dirname "$SRC")/.unpacked" 2>/dev/null | tr '\n' ' ')
[ -n "$base" ] || die "no $(dirname "$SRC")/.unpacked: which base tree is this? (make source)"
report=(--check)
[ -z "$check" ] && report=("--readme=$TOP/README.md" "--chart-copy=$TOP/bench/results.png")
"$TOP/scripts/bench-report.py" --out "$out" --base "$base" \
	--ms "$BENCH_MS" --runs "$BENCH_RUNS" --gap "$LAYOUT_GAP" \
	--bochs-model "$BOCHS_MODEL" --bochs-spread "${BOCHS_SPREAD:-5}" \
	"${report[@]}"

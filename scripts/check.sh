#!/bin/bash
# The whole test suite (make check): the harness self-tests, then every
# flavour built from the patched tree, then every lane of tests/lanes.tsv
# booted in QEMU running the x86 selftests (and whatever KUnit tests the
# kernel carries), compared lane by lane with the 'none' flavour; then,
# with KAISER built: its page tables inspected from outside the guest, a
# stress run, and the entry-cost budget of make bench.
# Ends with the line 'N passed, N failed, N skipped'; exits 1 on any
# failure.
#
# usage: scripts/check.sh [LANE...]     (default: every lane)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

RESULTS=$BUILD/results
LANES=$TOP/tests/lanes.tsv
TCG=$TOP/tests/selftests-under-tcg.tsv
only_lanes=" $* "
passed=0 failed=0 skipped=0
declare -A flavour_state      # built | skip:<why> | failed
timings=()

count() {	# count passed|failed|skipped WHAT
	case $1 in
	passed) passed=$((passed + 1)); echo "ok: $2" ;;
	failed) failed=$((failed + 1)); echo "FAIL: $2" ;;
	skipped) skipped=$((skipped + 1)); echo "skip: $2" ;;
	esac
}
add_counts() {	# add_counts "P passed, F failed, S skipped"
	local line=$1
	passed=$((passed + $(echo "$line" | sed -nE 's/.*\b([0-9]+) passed.*/\1/p')))
	failed=$((failed + $(echo "$line" | sed -nE 's/.*\b([0-9]+) failed.*/\1/p')))
	local s
	s=$(echo "$line" | sed -nE 's/.*\b([0-9]+) skipped.*/\1/p')
	skipped=$((skipped + ${s:-0}))
}
stage() {	# stage NAME COMMAND...: run, time, and fail the suite on error
	local t0 rc
	t0=$(now)
	"${@:2}"
	rc=$?
	timings+=("$1: $(($(now) - t0)) s")
	return $rc
}
finish() {
	echo
	echo "stage times: $(IFS=';'; echo "${timings[*]}" | sed 's/;/; /g')"
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" = 0 ]
	exit
}

mkdir -p "$LOGS"
echo "== dependencies"
stage deps "$TOP/scripts/install-deps.sh" || { count failed "installing dependencies"; finish; }

echo "== harness self-tests"
stage harness-selftests "$TOP/tests/harness-selftests.sh" >"$LOGS/harness-selftests.log" 2>&1
out=$(cat "$LOGS/harness-selftests.log")
echo "$out" | grep -vE '^(ok |harness-selftests: )' || true
line=$(echo "$out" | tail -1)
if echo "$line" | grep -qE '^harness-selftests: [0-9]+ passed, [0-9]+ failed'; then
	add_counts "$line"
	echo "$line"
else
	count failed "harness self-tests did not finish: $line"
fi

echo "== base tree"
stage source "$TOP/scripts/fetch-source.sh" || { count failed "fetching the base tree"; finish; }
cat "$(dirname "$SRC")/.unpacked" | head -2 | sed 's/^/base tree: /'
stage patch "$TOP/scripts/patch-tree.sh" || { count failed "applying patches/series"; finish; }
count passed "patches/series applies without fuzz ($(grep -cvE '^\s*(#|$)' "$PATCHES/series") patches)"

echo "== kernels"
for f in none pti kaiser; do
	stage "kernel-$f" "$TOP/scripts/build-kernel.sh" "$f" >"$LOGS/check-kernel-$f.out" 2>&1
	rc=$?
	out=$(cat "$LOGS/check-kernel-$f.out")
	case $rc in
	0) flavour_state[$f]=built; count passed "$f kernel builds" ;;
	77) flavour_state[$f]="skip:$(echo "$out" | tail -1 | sed 's/^kaiser: //')"
	    count skipped "$f kernel: ${flavour_state[$f]#skip:}" ;;
	*) flavour_state[$f]=failed; echo "$out" | tail -5; count failed "$f kernel build" ;;
	esac
done
# KAISER is PTI's alternative, never its companion.
if [ "${flavour_state[kaiser]}" = built ]; then
	if grep -qs '^CONFIG_PAGE_TABLE_ISOLATION=y' "$BUILD/obj-kaiser/.config"; then
		count failed "the kaiser flavour also enables CONFIG_PAGE_TABLE_ISOLATION"
	elif [ -e "$BUILD/obj-kaiser/arch/x86/mm/pti.o" ]; then
		count failed "the kaiser flavour compiled arch/x86/mm/pti.c"
	else
		count passed "the kaiser flavour has no PTI: CONFIG_PAGE_TABLE_ISOLATION off, pti.c not compiled"
	fi
fi

echo "== initramfs"
if ! stage initramfs "$TOP/scripts/build-initramfs.sh" >/dev/null 2>"$LOGS/check-initramfs.out"; then
	cat "$LOGS/check-initramfs.out"
	count failed "building the initramfs"
	finish
fi
count passed "initramfs with the x86 selftests builds"

if [ "${flavour_state[kaiser]}" = built ]; then
	echo "== boot options (kaiser flavour)"
	t0=$(now)
	"$TOP/scripts/check-boot-options.sh" >"$LOGS/boot-options.out" 2>&1
	grep -v '^ok: ' "$LOGS/boot-options.out"
	line=$(tail -1 "$LOGS/boot-options.out")
	if echo "$line" | grep -qE '^boot-options: [0-9]+ passed, [0-9]+ failed'; then
		add_counts "$line"
	else
		count failed "the boot option checks did not finish: $line"
	fi
	timings+=("boot-options: $(($(now) - t0)) s")
fi

# Selftests that must run on another CPU model (see the TSV): one extra
# boot per model, and the lane's main boot excludes them all.
declare -A by_cpu retries
while IFS=$'\t' read -r t action _; do
	case "$action" in
	cpu=*) by_cpu[${action#cpu=}]+="${by_cpu[${action#cpu=}]:+,}$t" ;;
	retry=*) retries[$t]=${action#retry=} ;;
	esac
done < <(grep -vE '^\s*(#|$)' "$TCG" | tr -s '\t')

# KAISER audits its shadow page tables at boot: when it is active, the
# audit line must be there and report no violation.
check_audit() {	# check_audit LANE FLAVOUR LOG
	local audit
	[ "$2" = kaiser ] || return 0
	audit=$(sed -n 's/^\[ *[0-9.]*\] KAISER: \([0-9]* kernel pages visible to user space, [0-9]* violations\).*/\1/p' "$3")
	if grep -q '^cpuinfo isolation flags: .*kaiser' "$3"; then
		case "$audit" in
		*", 0 violations") count passed "$1: boot audit: $audit" ;;
		"") count failed "$1: KAISER is active but its boot audit did not report" ;;
		*) count failed "$1: boot audit: $audit" ;;
		esac
	elif [ -n "$audit" ]; then
		count failed "$1: KAISER is off but audited: $audit"
	else
		count passed "$1: KAISER off, no audit"
	fi
}

echo "== lanes"
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
# Tabs separate the columns (runs of tabs count as one); the kernel
# parameters, last, may contain spaces.
awk -v only="$only_lanes" '/^[[:space:]]*(#|$)/ { next }
	only == "  " || index(only, " " $1 " ") { print }' "$LANES" >"$RESULTS/lanes.tsv"
[ -s "$RESULTS/lanes.tsv" ] || { count failed "no lane matches '$*' (see $LANES)"; finish; }
while IFS=$'\t' read -r lane flavour smp vendor ref args; do
	state=${flavour_state[$flavour]:-failed}
	case "$state" in
	skip:*) echo "${state#skip:}" >"$RESULTS/$lane.skip"; continue ;;
	failed) echo "$lane: the $flavour kernel did not build" ; continue ;;
	esac
	case $vendor in
	intel) main_cpu=max,vendor=GenuineIntel ;;
	amd) main_cpu=max,vendor=AuthenticAMD ;;
	*) count failed "$lane: unknown cpu '$vendor' in $LANES (intel or amd)"; continue ;;
	esac
	# The TSV names Intel models: a lane on AMD takes the same model with
	# the vendor changed, and runs in its main boot what needs only AMD.
	declare -A lane_cpu=()
	excluded=("${!retries[@]}")
	for model in "${!by_cpu[@]}"; do
		m=${model/vendor=GenuineIntel/vendor=${main_cpu#max,vendor=}}
		[ "$m" = "$main_cpu" ] && continue
		lane_cpu[$m]+="${lane_cpu[$m]:+,}${by_cpu[$model]}"
		excluded+=(${by_cpu[$model]//,/ })
	done
	t0=$(now)
	: >"$RESULTS/$lane.tsv.part"
	lane_ok=1
	boots=(main "${!lane_cpu[@]}")
	for boot in "${boots[@]}"; do
		if [ "$boot" = main ]; then
			name=$lane cpu=$main_cpu sel="harness.exclude=$(IFS=,; echo "${excluded[*]}")"
		else
			name=$lane-$(echo "$boot" | sed -e 's/^max,//' -e 's/vendor=//' -e 's/[^A-Za-z0-9-]/_/g')
			cpu=$boot sel="harness.only=${lane_cpu[$boot]}"
		fi
		"$TOP/scripts/boot.sh" --suite selftests --smp "$smp" --cpu "$cpu" --name "$name" --timeout 400 \
			--args "$args $sel" "$flavour" 2>"$RESULTS/$name.boot"
		rc=$?
		case $rc in
		0 | 3) count passed "$name: boots, runs its suite and powers off with a clean log" ;;
		*) count failed "$(tail -1 "$RESULTS/$name.boot")"; lane_ok=0 ;;
		esac
		"$TOP/scripts/ktap.py" --user "$LOGS/$name.log" >>"$RESULTS/$lane.tsv.part"
		[ $boot = main ] && check_audit "$lane" "$flavour" "$LOGS/$name.log"
		[ $boot = main ] && sed -n "s/^user page tables: /$lane: /p" "$LOGS/$name.log" >>"$RESULTS/visible.txt"
		# KUnit results the kernel printed at boot, once per lane
		if [ $boot = main ] && "$TOP/scripts/ktap.py" --kernel "$LOGS/$name.log" >"$RESULTS/$name.kunit"; then
			while IFS=$'\t' read -r t r c; do
				case $r in
				pass) count passed "$name: KUnit $t" ;;
				skip) count skipped "$name: KUnit $t: $c" ;;
				*) count failed "$name: KUnit $t: $c" ;;
				esac
			done <"$RESULTS/$name.kunit"
		fi
	done
	# Tests that hang now and then whatever the kernel: a boot each, retried.
	for t in "${!retries[@]}"; do
		name=$lane-$t
		for try in $(seq 1 "${retries[$t]}"); do
			"$TOP/scripts/boot.sh" --suite selftests --smp "$smp" --cpu "$main_cpu" --name "$name" --timeout 45 \
				--args "$args harness.only=$t harness.timeout=30" "$flavour" 2>"$RESULTS/$name.boot"
			rc=$?
			if [ $rc = 0 ] || [ $rc = 3 ]; then
				count passed "$name: boots and runs $t cleanly (try $try of ${retries[$t]})"
				"$TOP/scripts/ktap.py" --user "$LOGS/$name.log" >>"$RESULTS/$lane.tsv.part"
				break
			fi
			cp "$LOGS/$name.log" "$LOGS/$name.try$try.log"
			echo "note: $name: try $try of ${retries[$t]} failed: $(tail -1 "$RESULTS/$name.boot" | sed 's/; log: .*//'); log: $LOGS/$name.try$try.log"
			if [ "$try" = "${retries[$t]}" ]; then
				count failed "$name: $t did not run cleanly in ${retries[$t]} tries"
				lane_ok=0
			fi
		done
	done
	# Only a lane whose boots all ended cleanly has results to compare.
	[ $lane_ok = 1 ] && mv "$RESULTS/$lane.tsv.part" "$RESULTS/$lane.tsv"
	timings+=("$lane: $(($(now) - t0)) s")
done <"$RESULTS/lanes.tsv"

if [ "${flavour_state[kaiser]}" = built ]; then
	echo "== isolation seen from outside the guest (QMP, a user process spinning)"
	t0=$(now)
	for m in "iso-kaiser-on kaiser kaiser=on isolated" "iso-nokaiser kaiser nokaiser whole" \
		"iso-pti-on pti pti=on any"; do
		set -- $m
		[ "${flavour_state[$2]}" = built ] || continue
		if "$TOP/scripts/check-isolation.sh" "$1" "$2" "$3" "$4" >"$RESULTS/$1.out" 2>&1; then
			count passed "$1: $(tail -1 "$RESULTS/$1.out" | sed 's/^check-isolation: //'): $(grep 'pages of kernel address space' "$RESULTS/$1.out" | sed 's/^ *//')"
		else
			cat "$RESULTS/$1.out"
			count failed "$1: $(tail -1 "$RESULTS/$1.out")"
		fi
	done
	timings+=("isolation: $(($(now) - t0)) s")

	echo "== vsyscall=emulate: the vsyscall page readable from user space (test_vsyscall_64)"
	t0=$(now)
	for m in "vsyscall-none none" "vsyscall-kaiser-on kaiser kaiser=on"; do
		set -- $m
		"$TOP/scripts/boot.sh" --suite selftests --smp 1 --name "$1" \
			--args "${3:-} vsyscall=emulate harness.only=test_vsyscall_64" "$2" 2>"$RESULTS/$1.boot"
		rc=$?
		r=$("$TOP/scripts/ktap.py" --user "$LOGS/$1.log" | awk -F'\t' '$1 == "test_vsyscall_64" { print $2 }')
		if { [ $rc = 0 ] || [ $rc = 3 ]; } && [ "$r" = pass ]; then
			count passed "$1: test_vsyscall_64 passes with vsyscall=emulate"
		else
			count failed "$1: test_vsyscall_64 with vsyscall=emulate: ${r:-no result} ($(tail -1 "$RESULTS/$1.boot"))"
		fi
	done
	timings+=("vsyscall: $(($(now) - t0)) s")

	secs=${STRESS_SECONDS:-180}
	echo "== stress: signal, fork and shell storms under kaiser=on, 2 vCPUs, $secs s, NMIs injected"
	t0=$(now)
	"$TOP/scripts/boot.sh" --suite stress --smp 2 --timeout $((secs + 300)) --name stress-kaiser-on \
		--args "kaiser=on harness.seconds=$secs" kaiser 2>"$RESULTS/stress.boot" &
	boot=$!
	# NMIs from outside, every 2 s, on every vCPU: they land in user mode,
	# in the kernel, and in the few instructions between a CR3 switch and
	# SYSRET or IRET, where only the paranoid entry's CR3 check helps.
	sleep 5
	"$TOP/scripts/qmp.py" "$LOGS/stress-kaiser-on.qmp" --every 2 inject-nmi >"$RESULTS/stress.nmi" 2>&1
	if wait $boot; then
		grep '^# stress: [0-9]* workers\|^# shell loop\|^# selftest loop' "$LOGS/stress-kaiser-on.log" | sed 's/^# /  /'
		count passed "stress-kaiser-on: $secs s of storms, every worker ok, clean log"
	else
		grep '^# ' "$LOGS/stress-kaiser-on.log" | tail -8
		count failed "$(tail -1 "$RESULTS/stress.boot")"
	fi
	nmis=$(grep -c 'NMI received for unknown reason' "$LOGS/stress-kaiser-on.log")
	if [ "$nmis" -gt 0 ]; then
		count passed "stress-kaiser-on: the guest survived $nmis injected NMIs ($(cat "$RESULTS/stress.nmi" | sed 's/^qmp.py: //'))"
	else
		count failed "stress-kaiser-on: no injected NMI reached the guest ($(cat "$RESULTS/stress.nmi"))"
	fi
	timings+=("stress: $(($(now) - t0)) s")

	if [ "${flavour_state[pti]}" = built ] && [ "${flavour_state[none]}" = built ]; then
		echo "== entry cost (make bench, QEMU -icount: guest instructions)"
		t0=$(now)
		"$TOP/scripts/bench.sh" --check >"$RESULTS/bench.out" 2>&1
		grep -E '^(\||getppid over)' "$RESULTS/bench.out"
		grep -qE '^(ok|FAIL): ' "$RESULTS/bench.out" || count failed "make bench did not finish: $(tail -1 "$RESULTS/bench.out")"
		while read -r verdict rest; do
			case $verdict in
			ok:) count passed "bench: $rest" ;;
			FAIL:) count failed "bench: $rest" ;;
			esac
		done < <(grep -E '^(ok|FAIL): ' "$RESULTS/bench.out")
		timings+=("bench: $(($(now) - t0)) s")
	fi
fi

if [ -s "$RESULTS/visible.txt" ]; then
	echo "== kernel pages mapped in the page tables user space runs on (ptdump of current_user)"
	cat "$RESULTS/visible.txt"
fi

echo "== selftest matrix (each lane against the none flavour)"
out=$("$TOP/scripts/matrix.py" "$RESULTS/lanes.tsv" "$TCG" "$RESULTS" "$BUILD/matrix.md")
echo "$out" | grep -v '^matrix: '
line=$(echo "$out" | tail -1)
if echo "$line" | grep -qE '^matrix: [0-9]+ passed'; then
	add_counts "$line"
else
	count failed "the result matrix could not be computed"
fi
finish

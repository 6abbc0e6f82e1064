#!/bin/bash
# Run one lane of the test matrix (tests/lanes.tsv): boot its kernel and
# run the x86 selftests, in as many boots as tests/selftests-under-tcg.tsv
# asks for (the main boot, one per other CPU model, one per retried test),
# and report in KTAP on stdout: each boot's verdict, the KAISER boot audit
# and the KUnit results the kernel printed.  The selftest results are
# judged later, against the reference lane, by scripts/matrix.py.
#
# Everything about the lane goes to build/results/LANE/: the serial logs
# (NAME.log), each boot's verdict line (NAME.verdict), the selftest
# results (results.tsv, only when every boot ended cleanly), the KUnit
# results (kunit.tsv) and the pages of kernel address space its user
# page tables map (visible.txt).
#
# usage: scripts/run-lane.sh LANE
set -uo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

[ $# -eq 1 ] || die "usage: $0 LANE"
def=$("$TOP/scripts/tables.py" lanes "$1") || exit 1
IFS=$'\t' read -r lane flavour smp model _ args <<<"$def"
OUT=$BUILD/results/$lane
rm -rf "$OUT"
mkdir -p "$OUT"
export LOGS=$OUT

ktap_begin
[ -f "$BUILD/obj-$flavour/arch/x86/boot/bzImage" ] || {
	ktap_result fail "$lane: boots" "no $flavour kernel built"
	ktap_end
	exit 1
}

: >"$OUT/results.tsv.part"
clean=1
while IFS=$'\t' read -r name cpu tries silence limit select; do
	for try in $(seq 1 "$tries"); do
		note "$name: booting $flavour on $smp vCPU(s), -cpu $cpu${args:+, $args}${select:+, $select}"
		"$TOP/scripts/boot.sh" --suite selftests --smp "$smp" --cpu "$cpu" --name "$name" \
			--silence "$silence" --timeout "$limit" --args "$args $select" "$flavour" \
			2> >(tee "$OUT/$name.verdict" >&2)
		rc=$?
		wait	# for tee
		verdict=$(tail -1 "$OUT/$name.verdict")
		# A retried test is known to hang now and then on every flavour:
		# the guest as a whole (the boot fails) or the test alone (the
		# guest's runtest stops it and reports it hung).
		if [ "$rc" = 3 ] && [ "$tries" -gt 1 ] && grep -q '^not ok [0-9]* [^ ]* # hung:' "$OUT/$name.log"; then
			verdict="the test hung: $(grep -m1 '^not ok [0-9]* [^ ]* # hung:' "$OUT/$name.log")"
			[ "$try" -lt "$tries" ] || break
		elif [ "$rc" = 0 ] || [ "$rc" = 3 ]; then
			break
		fi
		if [ "$try" -lt "$tries" ]; then
			# Keep the failed try's log and say so, then try again.
			mv "$OUT/$name.log" "$OUT/$name.try$try.log"
			echo "# $name: try $try of $tries failed: ${verdict%%; log: *}; log: $OUT/$name.try$try.log"
		fi
	done
	what="boots, runs its suite and powers off with a clean log"
	[ "$tries" -gt 1 ] && what="$what (try $try of $tries)"
	if [ "$rc" = 0 ] || [ "$rc" = 3 ]; then
		ktap_result pass "$name: $what"
		"$TOP/scripts/ktap.py" --user "$OUT/$name.log" >>"$OUT/results.tsv.part"
	else
		ktap_result fail "$name: $what" "$verdict"
		clean=0
	fi
	if [ "$name" = "$lane" ]; then
		[ "$flavour" = kaiser ] && ktap_audit "$lane" "$OUT/$name.log"
		sed -n "s/^user page tables: //p" "$OUT/$name.log" >"$OUT/visible.txt"
		ktap_kunit "$lane" "$OUT/$name.log" "$OUT/kunit.tsv"
	fi
done < <("$TOP/scripts/tables.py" boots "$lane")

# Only a lane whose boots all ended cleanly has results to compare.
[ $clean = 1 ] && mv "$OUT/results.tsv.part" "$OUT/results.tsv"
ktap_end
[ $clean = 1 ]

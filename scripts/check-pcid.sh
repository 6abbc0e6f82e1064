#!/bin/bash
# The PCID lane of make check: the kaiser and pti kernels on an emulated
# CPU that has PCID and INVPCID (Bochs, scripts/boot-bochs.sh), in the
# boots tests/pcid-lane.tsv lists.  A selftests boot runs the x86
# selftests but those tests/selftests-under-bochs.tsv leaves out and
# reports each as a result of its own; every boot must end cleanly; the guest must show the PCID flags and
# the isolation flag the table expects; KAISER's boot audit and KUnit
# results count as in the QEMU lanes.  What this proves, and what not:
# Bochs ignores NOFLUSH and keeps no PCID tag in its TLB, so these boots
# show that the PCID code runs without a fault or a wrong result, not
# that it flushes enough.
#
# KTAP on stdout; logs in build/results/pcid/.
#
# usage: scripts/check-pcid.sh [BOOT...]   (default: every boot of the table)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

OUT=$BUILD/results/pcid
rm -rf "$OUT"
mkdir -p "$OUT"
export LOGS=$OUT
table=$("$TOP/scripts/tables.py" pcid-lane) || exit 1

# expect_flags NAME LOG KIND WANT: the report's "cpuinfo KIND flags:"
# line is WANT (comma-separated; '-' for none).
expect_flags() {
	local want=${4//,/ } got
	[ "$want" = - ] && want=none
	got=$(sed -n "s/^cpuinfo $3 flags: //p" "$2" | xargs)
	if [ "$got" = "$want" ]; then
		ktap_result pass "$1: cpuinfo $3 flags: $got"
	else
		ktap_result fail "$1: cpuinfo $3 flags" "'$got', expected '$want'"
	fi
}

ktap_begin
while IFS=$'\t' read -r name flavour smp model suite tlb isolation args; do
	[ $# -gt 0 ] && [[ " $* " != *" $name "* ]] && continue
	note "$name: booting $flavour in Bochs ($model, $smp CPU(s)), $args"
	"$TOP/scripts/boot-bochs.sh" --suite "$suite" --smp "$smp" --model "$model" \
		--name "$name" --args "$args" "$flavour" </dev/null 2>"$OUT/$name.verdict"
	rc=$?
	verdict=$(tail -1 "$OUT/$name.verdict")
	note "$verdict"
	if [ $rc != 0 ] && [ $rc != 3 ]; then
		ktap_result fail "$name: boots in Bochs, runs its $suite suite and powers off with a clean log" "$verdict"
		continue
	fi
	ktap_result pass "$name: boots in Bochs, runs its $suite suite and powers off with a clean log"
	log=$OUT/$name.log

	# What the guest was given.  nopcid takes PCID away, not INVPCID.
	expect_flags "$name" "$log" tlb "$tlb"
	expect_flags "$name" "$log" isolation "$isolation"

	[ "$flavour" = kaiser ] && ktap_audit "$name" "$log"
	ktap_kunit "$name" "$log" "$OUT/$name.kunit.tsv"

	[ "$suite" = selftests ] || continue
	# Each selftest that ran is a result of its own: the table leaves out
	# the ones Bochs cannot run, so there is no reference lane to hold
	# them against, and a failure is a failure.
	if ! "$TOP/scripts/ktap.py" --user "$log" >"$OUT/$name.tsv"; then
		ktap_result fail "$name: selftests" "no selftest results in $log"
		continue
	fi
	ktap_results "$name:" "$OUT/$name.tsv"
done <<<"$table"
ktap_end

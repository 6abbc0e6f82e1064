#!/bin/bash
# The vsyscall page under vsyscall=emulate: test_vsyscall_64 must pass on
# the 'none' kernel and under kaiser=on, where the page is copied into the
# user page tables.  KTAP on stdout; logs in build/results/vsyscall/.
#
# usage: scripts/check-vsyscall.sh
set -uo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

OUT=$BUILD/results/vsyscall
rm -rf "$OUT"
mkdir -p "$OUT"
export LOGS=$OUT
ktap_begin
for m in "vsyscall-none none" "vsyscall-kaiser-on kaiser kaiser=on"; do
	set -- $m
	"$TOP/scripts/boot.sh" --suite selftests --smp 1 --name "$1" \
		--args "${3:-} vsyscall=emulate harness.only=test_vsyscall_64" "$2" 2>"$OUT/$1.verdict"
	rc=$?
	r=$("$TOP/scripts/ktap.py" --user "$OUT/$1.log" | awk -F'\t' '$1 == "test_vsyscall_64" { print $2 }')
	if { [ $rc = 0 ] || [ $rc = 3 ]; } && [ "$r" = pass ]; then
		ktap_result pass "$1: test_vsyscall_64 passes with vsyscall=emulate"
	else
		ktap_result fail "$1: test_vsyscall_64 with vsyscall=emulate" "${r:-no result} ($(tail -1 "$OUT/$1.verdict"))"
	fi
done
ktap_end

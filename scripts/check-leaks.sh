#!/bin/bash
# make check's leak check: boot the kaiser kernel under kaiser=on
# vsyscall=emulate on 2 vCPUs and run guest/leakcheck.c (the leaks
# suite): 10,000 processes created and reaped, then 1,000 that each
# install an LDT, then 1,000 that call and read the vsyscall page; after
# each phase MemFree, PageTables, KernelStack and SUnreclaim must be back
# within the bounds leakcheck.c states.  KTAP on stdout, one result per
# phase and counter; the log goes to build/results/leaks/.
#
# usage: scripts/check-leaks.sh [FORKS LDTS VSYSCALLS]
set -uo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

counts=
if [ $# -gt 0 ]; then
	[ $# -eq 3 ] || die "usage: $0 [FORKS LDTS VSYSCALLS]"
	for n in "$@"; do
		case "$n" in '' | *[!0-9]*) die "process counts are numbers, not '$n'" ;; esac
	done
	counts="harness.leaks=$1,$2,$3"
fi
OUT=$BUILD/results/leaks
rm -rf "$OUT"
mkdir -p "$OUT"
export LOGS=$OUT
name=leaks-kaiser-on

ktap_begin
"$TOP/scripts/boot.sh" --suite leaks --smp 2 --silence 300 --timeout 900 --name $name \
	--args "kaiser=on vsyscall=emulate $counts" kaiser 2>"$OUT/$name.verdict"
rc=$?
log=$OUT/$name.log
n=0
while IFS= read -r line; do
	case "$line" in
	"leakcheck: ok "*) ktap_result pass "${line#leakcheck: ok }" ;;
	"leakcheck: not ok "*) ktap_result fail "${line#leakcheck: not ok }" "leakcheck.c says so (its line above)" ;;
	*) continue ;;
	esac
	n=$((n + 1))
done <"$log"
[ $n -gt 0 ] || ktap_result fail "$name: leakcheck ran" "no result in $log: $(tail -1 "$OUT/$name.verdict")"
case $rc in
0 | 3) ktap_result pass "$name: clean log" ;;
*) ktap_result fail "$name: clean log" "$(tail -1 "$OUT/$name.verdict")" ;;
esac
ktap_end

#!/bin/bash
# Boot the kaiser kernel once per row of tests/boot-options.tsv and check
# what each boot option did: the one decision line, the cpuinfo flag, the
# meltdown vulnerabilities line, no "unknown parameter" report, and for a
# malformed value a warning that names it.  Reports in KTAP on stdout;
# the logs go to build/results/boot-options/.
#
# usage: scripts/check-boot-options.sh
set -uo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

OUT=$BUILD/results/boot-options
rm -rf "$OUT"
mkdir -p "$OUT"
export LOGS=$OUT
ok() { ktap_result pass "boot option '$1': $2"; }
nok() { ktap_result fail "boot option '$1': $2"; }

ktap_begin
rows=$("$TOP/scripts/tables.py" boot-options) || exit 1
n=0
while IFS=$'\t' read -r args model line flag meltdown; do
	n=$((n + 1))
	[ "$args" = - ] && args=
	name=option-$n
	what="${args:-no option} on ${model#max,vendor=}"
	if ! "$TOP/scripts/boot.sh" --name "$name" --cpu "$model" --args "$args" kaiser 2>/dev/null; then
		nok "$what" "the boot failed; see $LOGS/$name.log"
		continue
	fi
	log=$LOGS/$name.log
	# The kernel's own lines, without their timestamps
	klines=$(sed -n 's/^\[ *[0-9]*\.[0-9]*\] //p' "$log")
	decisions=$(echo "$klines" | grep -E '^KAISER: (enabled|disabled)')
	if [ "$(echo "$decisions" | grep -c .)" != 1 ]; then
		nok "$what" "expected one decision line, got: $(echo "$decisions" | tr '\n' '|')"
	elif ! echo "$decisions" | grep -qE -- "$line"; then
		nok "$what" "decision line '$decisions' does not match /$line/"
	else
		ok "$what" "$decisions"
	fi
	got=$(sed -n 's/^cpuinfo isolation flags: //p' "$log" | tr -d ' ')
	[ "$got" = "$flag" ] && ok "$what" "cpuinfo flags: $got" ||
		nok "$what" "cpuinfo isolation flags '$got', expected '$flag'"
	got=$(sed -n 's/^meltdown: //p' "$log")
	[ "$got" = "$meltdown" ] && ok "$what" "meltdown: $got" ||
		nok "$what" "meltdown '$got', expected '$meltdown'"
	if echo "$klines" | grep -A3 'Unknown kernel command line parameters' | grep -qE 'kaiser|pti|mitigations'; then
		nok "$what" "reported as an unknown kernel parameter"
	fi
	for a in $args; do
		case $a in
		kaiser=on | kaiser=off | kaiser=auto | pti=on | pti=off | pti=auto | nokaiser | nopti | mitigations=*) ;;
		*)
			echo "$klines" | grep -qF "KAISER: unknown value in '$a'" &&
				ok "$what" "'$a' is reported by name" ||
				nok "$what" "no warning naming '$a'"
			;;
		esac
	done
done <<<"$rows"
ktap_end

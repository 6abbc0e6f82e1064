#!/bin/bash
# Boot the kaiser kernel once per row of tests/boot-options.tsv and check
# what each boot option did: the one decision line, the cpuinfo flag, the
# meltdown vulnerabilities line, no "unknown parameter" report, and for a
# malformed value a warning that names it.  Ends with the line
# 'boot-options: N passed, N failed'.
#
# usage: scripts/check-boot-options.sh
set -uo pipefail
. "$(dirname "$0")/lib.sh"

TABLE=$TOP/tests/boot-options.tsv
pass=0 fail=0 n=0
ok() { pass=$((pass + 1)); echo "ok: boot option '$1': $2"; }
nok() { fail=$((fail + 1)); echo "FAIL: boot option '$1': $2"; }

while IFS=$'\t' read -r args cpu line flag meltdown; do
	n=$((n + 1))
	[ "$args" = - ] && args=
	case $cpu in
	intel) model=max,vendor=GenuineIntel ;;
	amd) model=max,vendor=AuthenticAMD ;;
	*) nok "$args" "unknown cpu '$cpu' in $TABLE"; continue ;;
	esac
	name=option-$n
	if ! "$TOP/scripts/boot.sh" --name "$name" --cpu "$model" --args "$args" kaiser 2>/dev/null; then
		nok "$args" "the boot failed; see $LOGS/$name.log"
		continue
	fi
	log=$LOGS/$name.log
	what="${args:-no option} on $cpu"
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
done < <(grep -vE '^\s*(#|$)' "$TABLE" | tr -s '\t')

echo "boot-options: $pass passed, $fail failed"
[ $fail = 0 ]

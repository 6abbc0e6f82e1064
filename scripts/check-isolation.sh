#!/bin/bash
# Check from outside the guest which kernel memory the page tables of a
# running user process map: boot FLAVOUR with ARGS in the 'spin' suite
# (a user-mode busy loop), let scripts/check-isolation.py stop the VM
# while a vCPU runs user code and walk the tables behind its CR3, and
# let the guest finish.  Prints the region table; exits 0 when EXPECT
# (isolated, whole or any; see check-isolation.py) holds.
#
# Without arguments, make check's stage: kaiser=on must be isolated,
# nokaiser must map the whole kernel, pti=on is reported; then kaiser=on
# boots a second time, and scripts/kaslr-moves.py holds the two against
# each other: of what the user tables map, nothing may move with the
# image that KASLR moved.  KTAP on stdout, logs in
# build/results/isolation/.
#
# usage: scripts/check-isolation.sh [NAME FLAVOUR "ARGS" EXPECT]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

if [ $# -eq 0 ]; then
	OUT=$BUILD/results/isolation
	rm -rf "$OUT"
	mkdir -p "$OUT"
	ktap_begin
	for m in "iso-kaiser-on kaiser kaiser=on isolated" "iso-nokaiser kaiser nokaiser whole" \
		"iso-pti-on pti pti=on any" "iso-kaiser-on-2 kaiser kaiser=on isolated"; do
		set -- $m
		if LOGS=$OUT "$0" "$@" >"$OUT/$1.out" 2>&1; then
			sed 's/^/# /' "$OUT/$1.out"
			ktap_result pass "$1: $(tail -1 "$OUT/$1.out" | sed 's/^check-isolation: //'): $(grep 'pages of kernel address space' "$OUT/$1.out" | sed 's/^ *//')"
		else
			sed 's/^/# /' "$OUT/$1.out"
			ktap_result fail "$1" "$(tail -1 "$OUT/$1.out")"
		fi
	done
	rc=0
	python3 "$TOP/scripts/kaslr-moves.py" \
		"$OUT/iso-kaiser-on.map" "$OUT/iso-kaiser-on-2.map" >"$OUT/kaslr-moves.out" 2>&1 || rc=$?
	sed 's/^/# /' "$OUT/kaslr-moves.out"
	what="kaslr-moves: two kaiser=on boots"
	case $rc in
	0) ktap_result pass "$what: $(tail -1 "$OUT/kaslr-moves.out" | sed 's/^kaslr-moves: ok: //')" ;;
	2) ktap_result skip "$what" "$(tail -1 "$OUT/kaslr-moves.out" | sed 's/^kaslr-moves: //')" ;;
	*) ktap_result fail "$what" "$(tail -1 "$OUT/kaslr-moves.out" | sed 's/^kaslr-moves: //')" ;;
	esac
	ktap_end
	exit 0
fi
[ $# -eq 4 ] || die "usage: $0 [NAME FLAVOUR \"ARGS\" EXPECT]"
name=$1 flavour=$2 args=$3 expect=$4
check_flavour "$flavour"
map=$BUILD/obj-$flavour/System.map
[ -f "$map" ] || die "no $map (make kernel FLAVOUR=$flavour)"

"$TOP/scripts/boot.sh" --suite spin --smp 2 --timeout 300 --name "$name" \
	--args "harness.seconds=20 $args" "$flavour" 2>"$LOGS/$name.boot" &
boot=$!
# Wait for the guest's spin marker (the log is $name.log.part until QEMU ends).
for _ in $(seq 1 600); do
	grep -qs '^harness: spinning' "$LOGS/$name.log.part" && break
	kill -0 $boot 2>/dev/null || break
	sleep 0.2
done
rc=0
if grep -qs '^harness: spinning' "$LOGS/$name.log.part"; then
	python3 "$TOP/scripts/check-isolation.py" --qmp "$LOGS/$name.qmp" \
		--system-map "$map" --expect "$expect" --boot-log "$LOGS/$name.log.part" \
		--map-out "$LOGS/$name.map" || rc=$?
else
	echo "check-isolation: the guest never started spinning"
	rc=1
fi
wait $boot || { echo "check-isolation: $(tail -1 "$LOGS/$name.boot")"; rc=1; }
exit $rc

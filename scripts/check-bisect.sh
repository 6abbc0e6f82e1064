#!/bin/bash
# Check that the series is bisectable: apply it one patch at a time to a
# scratch tree and build every flavour after each patch.  Slow, so it is
# not part of make check: a patch that changes a header rebuilds every
# file that includes it, in every flavour, and ccache cannot help (the
# line markers of the preprocessed files move), so three builds after
# each of 20 patches take hours on a 2-core machine.  It therefore
# resumes: an interrupted run leaves its tree, its objects and its state
# in $BUILD/bisect, and the next run goes on after the last patch whose
# builds finished, as long as patches/ and the flavours are the same.
# Any change to either starts it over.
#
# usage: scripts/check-bisect.sh [--restart] [FLAVOUR...]
#        (default flavours: kaiser pti none)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

restart=0
if [ "${1:-}" = --restart ]; then
	restart=1
	shift
fi
hold_build_lock

# The kaiser flavour is buildable only from the patch that adds the
# CONFIG_KAISER symbol on.
tree_has_kaiser() {
	grep -qs '^config KAISER$' "$1"/arch/x86/Kconfig "$1"/arch/x86/Kconfig.* "$1"/security/Kconfig*
}

flavours=${*:-kaiser pti none}
for f in $flavours; do check_flavour "$f"; done
"$TOP/scripts/fetch-source.sh" || exit 1

BT=$BUILD/bisect
STATE=$BT/state
mkdir -p "$BT" "$LOGS"
log=$LOGS/bisect.log
export QUILTRC=$TOP/scripts/quiltrc

# What the state is valid for: the flavours, the series and every patch.
key=$({
	echo "$flavours"
	cd "$PATCHES" && cat series $(grep -v '^#' series)
} | sha256sum | cut -c1-16)
total=$(grep -vc '^#' "$PATCHES/series")

state_get() {
	sed -n "s/^$1 //p" "$STATE" 2>/dev/null | tail -1
}

# Resume only where the tree is exactly the base plus the patches the
# state says were pushed: the last of them may still lack some builds.
resume=0
if [ $restart = 0 ] && [ "$(state_get key)" = "$key" ]; then
	pushed=$(grep -c '^pushed ' "$STATE")
	applied=$(cd "$BT/tree" 2>/dev/null && quilt applied 2>/dev/null | wc -l)
	if [ "$applied" = "$pushed" ] &&
	   [ -z "$(cd "$BT/tree" && quilt diff -z 2>/dev/null)" ]; then
		resume=1
	else
		note "the state in $STATE does not match its tree ($pushed patches pushed, $applied applied): starting over"
	fi
elif [ $restart = 0 ] && [ -f "$STATE" ]; then
	note "patches/ or the flavours changed since the last bisect run: starting over"
fi

if [ $resume = 1 ] && [ -n "$(state_get finished)" ]; then
	sed -n 's/^result //p' "$STATE"
	echo "$(state_get summary) (this series was checked already: --restart checks it again)"
	[ "$(grep -c '^result .*FAILS' "$STATE")" = 0 ]
	exit
fi
if [ $resume = 1 ]; then
	runs=$(($(state_get runs) + 1))
	note "resuming the bisect check of $(state_get started) ($pushed of $total patches pushed; run $runs)"
	sed -i "s/^runs .*/runs $runs/" "$STATE"
	: >>"$log"
else
	: >"$log"
	rsync -r --checksum --links --delete --exclude=/.pc --exclude=/patches "$SRC"/ "$BT/tree"/
	rm -rf "$BT/tree/.pc" "$BT/tree/patches"
	ln -s "$PATCHES" "$BT/tree/patches"
	echo "bisect: applied patch by patch" >"$BT/tree/.series-stamp"
	printf 'key %s\nstarted %s\nruns 1\nseconds 0\n' "$key" "$(date -u '+%Y-%m-%d %H:%M UTC')" >"$STATE"
fi

# result LINE: print it and keep it for the runs that resume.
result() {
	echo "$1"
	echo "result $1" >>"$STATE"
}

# The builds of the patch on top, for every flavour.
build_top() {
	local p=$1 f t0=$(now)

	for f in $flavours; do
		if [ "$f" = kaiser ] && ! tree_has_kaiser "$BT/tree"; then
			result "after $p: kaiser: no CONFIG_KAISER yet"
			continue
		fi
		if ALLOW_UNKNOWN_SYMBOLS=1 TREE=$BT/tree BUILD=$BT LOGS=$BT/logs \
			"$TOP/scripts/build-kernel.sh" "$f" >>"$log" 2>&1; then
			result "after $p: $f builds"
		else
			result "after $p: $f FAILS to build; see $BT/logs/build-$f.log"
		fi
	done
	echo "built $p" >>"$STATE"
	sed -i "s/^seconds .*/seconds $(($(state_get seconds) + $(now) - t0))/" "$STATE"
}

# A run stopped between the push and the last build of a patch: finish
# that patch's builds (make redoes only what is missing).
top=$(cd "$BT/tree" && quilt top 2>/dev/null)
if [ $resume = 1 ] && [ -n "$top" ] && ! grep -qx "built $top" "$STATE"; then
	sed -i "/^result after $top: /d" "$STATE"
fi
# What the earlier runs found, then the patch they left unfinished
[ $resume = 1 ] && sed -n 's/^result //p' "$STATE"
if [ $resume = 1 ] && [ -n "$top" ] && ! grep -qx "built $top" "$STATE"; then
	build_top "$top"
fi

while [ -n "$(cd "$BT/tree" && quilt next 2>/dev/null)" ]; do
	p=$(cd "$BT/tree" && quilt next)
	n=$(($(grep -c '^pushed ' "$STATE") + 1))
	(cd "$BT/tree" && quilt push --fuzz=0 -q) >>"$log" 2>&1 ||
		die "patch $n of $total, $p, does not apply; see $log"
	echo "pushed $p" >>"$STATE"
	build_top "$p"
done

failed=$(grep -c '^result .*FAILS' "$STATE")
s=$(state_get seconds)
finished=$(date -u '+%Y-%m-%d %H:%M UTC')
summary="bisect: $total patches, $failed failed builds, $((s / 3600)) h $((s % 3600 / 60)) min of builds in $(state_get runs) run(s), started $(state_get started), finished $finished"
printf 'finished %s\nsummary %s\n' "$finished" "$summary" >>"$STATE"
echo "$summary"
[ "$failed" = 0 ]

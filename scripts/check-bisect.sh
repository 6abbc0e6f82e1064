#!/bin/bash
# Check that the series is bisectable: apply it one patch at a time to a
# scratch tree and build every flavour after each patch, naming each
# patch that breaks one.  Not part of make check: a patch that changes a
# header rebuilds every file that includes it, in every flavour, and
# ccache cannot help (the line markers of the preprocessed files move),
# so three builds after each of 20 patches take hours on a 2-core
# machine, more than one working session.
#
# So each build that passes is recorded in tests/bisect-record.tsv
# (committed, so that the record travels with the series), under a key
# of everything the build was made from: the base tree's version and
# sha256, the flavour's Kconfig fragments, and patches 1 to k.  A run
# builds only the steps no record vouches for, wherever it runs: an
# interrupted run goes on where it stopped, and after a change to patch
# k the steps from k on are built again, not the whole series.  The
# record is rewritten to hold the current series' steps only.  The tree
# and its objects stay in $BUILD/bisect between runs, so that resuming
# rebuilds only what changed.  --restart ignores the record.
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

flavours=${*:-kaiser pti none}
for f in $flavours; do check_flavour "$f"; done
"$TOP/scripts/fetch-source.sh" || exit 1

BT=$BUILD/bisect
PUSHED=$BT/pushed		# NAME SHA256 of each patch pushed onto $BT/tree
RECORD=${BISECT_RECORD:-$TOP/tests/bisect-record.tsv}
mkdir -p "$BT" "$LOGS" "$(dirname "$RECORD")"
log=$LOGS/bisect.log
: >"$log"
export QUILTRC=$TOP/scripts/quiltrc

mapfile -t series < <(grep -vE '^\s*(#|$)' "$PATCHES/series" | sed 's/[[:space:]].*//')
total=${#series[@]}
[ "$total" -gt 0 ] || die "$PATCHES/series lists no patch"
for p in "${series[@]}"; do
	[ -f "$PATCHES/$p" ] || die "$PATCHES/series names $p, which does not exist"
done

# The key of step K (1-based) in flavour F: a hash of F, the base tree's
# identity, F's fragments and patches 1..K, each patch by its content.
base_id=$(sed -n 1,2p "$(dirname "$SRC")/.unpacked" 2>/dev/null)
declare -A key
for f in $flavours; do
	h=$({ echo "$f"; echo "$base_id"; cat $(flavour_fragments "$f") 2>/dev/null; } | sha256sum | cut -c1-64)
	for ((k = 1; k <= total; k++)); do
		h=$({ echo "$h"; cat "$PATCHES/${series[k - 1]}"; } | sha256sum | cut -c1-64)
		key[$k,$f]=${h:0:16}
	done
done

# Records: KEY <tab> PATCH <tab> FLAVOUR <tab> SECONDS <tab> DATE
declare -A recorded
if [ $restart = 0 ] && [ -f "$RECORD" ]; then
	while IFS=$'\t' read -r k p f s d; do
		case "$k" in '#'* | '') continue ;; esac
		recorded[$k]="$s	$d"
	done <"$RECORD"
fi

# The kaiser flavour is buildable only from the patch that adds the
# CONFIG_KAISER symbol on; before it there is nothing to build.
tree_has_kaiser() {
	grep -qs '^config KAISER$' "$1"/arch/x86/Kconfig "$1"/arch/x86/Kconfig.* "$1"/security/Kconfig*
}
kaiser_from=0
for ((k = 1; k <= total; k++)); do
	if grep -qE '^\+config KAISER$' "$PATCHES/${series[k - 1]}"; then
		kaiser_from=$k
		break
	fi
done
needs_build() {		# K F
	[ "$2" != kaiser ] || { [ $kaiser_from -gt 0 ] && [ "$1" -ge $kaiser_from ]; }
}

# The first step that no record vouches for.
target=$((total + 1))
for ((k = 1; k <= total && target > total; k++)); do
	for f in $flavours; do
		if needs_build $k "$f" && [ -z "${recorded[${key[$k,$f]}]:-}" ]; then
			target=$k
			break
		fi
	done
done

# The tree: base plus the patches of $PUSHED, unless quilt disagrees.
reset_tree() {
	rsync -r --checksum --links --delete --exclude=/.pc --exclude=/patches "$SRC"/ "$BT/tree"/
	rm -rf "$BT/tree/.pc" "$BT/tree/patches"
	ln -s "$PATCHES" "$BT/tree/patches"
	echo "bisect: applied patch by patch" >"$BT/tree/.series-stamp"
	: >"$PUSHED"
}
applied() {
	(cd "$BT/tree" && quilt applied 2>/dev/null | wc -l)
}
if [ $target -le $total ]; then
	if [ ! -d "$BT/tree" ] || [ ! -f "$PUSHED" ] || [ "$(applied)" != "$(wc -l <"$PUSHED")" ] ||
	   [ -n "$(cd "$BT/tree" && quilt diff -z 2>/dev/null)" ]; then
		reset_tree
	fi
	# Keep the longest prefix of what is pushed that is still the series,
	# but nothing beyond the step to build first.
	keep=0
	while read -r p sha; do
		[ $keep -lt $target ] && [ "$p" = "${series[keep]:-}" ] &&
			[ "$sha" = "$(sha256sum <"$PATCHES/$p" | cut -c1-64)" ] || break
		keep=$((keep + 1))
	done <"$PUSHED"
	# quilt pop puts back each file as it was, mtime included, older than
	# the objects built from the patched file: touch it, or make would
	# not rebuild them.
	while [ "$(applied)" -gt $keep ]; do
		files=$(cd "$BT/tree" && quilt files 2>/dev/null)
		(cd "$BT/tree" && quilt pop -f -q) >>"$log" 2>&1 || { reset_tree; keep=0; break; }
		(cd "$BT/tree" && for x in $files; do [ ! -e "$x" ] || touch "$x"; done)
	done
	head -n $keep "$PUSHED" >"$PUSHED.new" && mv "$PUSHED.new" "$PUSHED"
fi

push() {		# K: push patch K, which must apply without fuzz
	local p=${series[$1 - 1]}
	(cd "$BT/tree" && quilt push --fuzz=0 -q) >>"$log" 2>&1 ||
		die "patch $1 of $total, $p, does not apply; see $log"
	echo "$p $(sha256sum <"$PATCHES/$p" | cut -c1-64)" >>"$PUSHED"
}

t0=$(now)
built=0
failed=0
first_failure=
if [ $target -gt 1 ]; then
	echo "bisect: patches 1 to $((target - 1)) of $total are vouched for by $RECORD in every flavour"
fi
for ((k = 1; k <= total; k++)); do
	p=${series[k - 1]}
	if [ $k -ge $target ]; then
		while [ "$(applied)" -lt $k ]; do push $(($(applied) + 1)); done
	fi
	for f in $flavours; do
		if ! needs_build $k "$f"; then
			[ $k -ge $target ] && echo "after $p: $f: no CONFIG_KAISER yet"
			continue
		fi
		r=${recorded[${key[$k,$f]}]:-}
		if [ -n "$r" ]; then
			[ $k -ge $target ] && echo "after $p: $f builds (recorded ${r#*	})"
			continue
		fi
		[ "$f" != kaiser ] || tree_has_kaiser "$BT/tree" ||
			die "patch $kaiser_from adds 'config KAISER', but the tree after $p has no such symbol"
		b0=$(now)
		if ALLOW_UNKNOWN_SYMBOLS=1 TREE=$BT/tree BUILD=$BT LOGS=$BT/logs \
			"$TOP/scripts/build-kernel.sh" "$f" >>"$log" 2>&1; then
			s=$(($(now) - b0))
			recorded[${key[$k,$f]}]="$s	$(date -u '+%Y-%m-%d %H:%M UTC')"
			printf '%s\t%s\t%s\t%s\n' "${key[$k,$f]}" "$p" "$f" "${recorded[${key[$k,$f]}]}" >>"$RECORD"
			echo "after $p: $f builds ($s s)"
		else
			echo "after $p: $f FAILS to build; see $BT/logs/build-$f.log"
			failed=$((failed + 1))
			[ -n "$first_failure" ] || first_failure="patch $k, $p, breaks the $f build"
		fi
		built=$((built + 1))
	done
done

# The record keeps the current series' steps, in order, and nothing else.
{
	echo "# scripts/check-bisect.sh: the builds that passed, one per patch and flavour, keyed by"
	echo "# the base tree, the flavour's Kconfig fragments and the series up to the patch."
	printf '# key\tpatch\tflavour\tseconds\tdate\n'
	for ((k = 1; k <= total; k++)); do
		for f in $flavours; do
			r=${recorded[${key[$k,$f]}]:-}
			[ -n "$r" ] && printf '%s\t%s\t%s\t%s\n' "${key[$k,$f]}" "${series[k - 1]}" "$f" "$r"
		done
	done
} >"$RECORD.new" && mv "$RECORD.new" "$RECORD"

secs=0
dates=()
for ((k = 1; k <= total; k++)); do
	for f in $flavours; do
		r=${recorded[${key[$k,$f]}]:-}
		[ -n "$r" ] || continue
		secs=$((secs + ${r%%	*}))
		dates+=("${r#*	}")
	done
done
span=
[ ${#dates[@]} -gt 0 ] && span=", recorded $(printf '%s\n' "${dates[@]}" | sort | sed -n '1p;$p' | paste -sd/ | sed 's|/| to |')"
if [ $built = 0 ] && [ $failed = 0 ]; then
	echo "bisect: $total patches, $flavours: every build vouched for by the record, nothing to build$span (--restart builds them all again)"
else
	echo "bisect: $total patches, $flavours: $failed failed builds, $built built in this run ($(($(now) - t0)) s)," \
		"$((secs / 3600)) h $((secs % 3600 / 60)) min of passing builds in the record$span"
fi
[ -z "$first_failure" ] || echo "bisect: the first failure: $first_failure"
[ "$failed" = 0 ]

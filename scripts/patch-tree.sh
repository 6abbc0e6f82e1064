#!/bin/bash
# Make build/tree the pristine base tree with patches/series applied by
# quilt.  Each patch must apply exactly: fuzz or an offset stops the build
# and names the patch.  The tree is only rebuilt when the series changed,
# and never over unrefreshed quilt edits.
#
# usage: scripts/patch-tree.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

[ -d "$SRC" ] || die "no pristine tree in $SRC (run scripts/fetch-source.sh)"
[ -f "$PATCHES/series" ] || die "no $PATCHES/series"
command -v quilt >/dev/null || die "quilt not installed (run scripts/install-deps.sh)"

# The series as applied: the series file and every patch it lists.
series_patches() {
	sed -e 's/#.*//' -e 's/[[:space:]].*//' "$PATCHES/series" | grep -v '^$' || true
}
stamp_of_series() {
	(
		cd "$PATCHES"
		sha256sum series
		for p in $(series_patches); do
			[ -f "$p" ] || die "patches/series lists $p, which does not exist"
			sha256sum "$p"
		done
		cat "$(dirname "$SRC")/.unpacked" 2>/dev/null
	) | sha256sum | cut -d' ' -f1
}

want=$(stamp_of_series)
STAMP=$TREE/.series-stamp
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
	exit 0
fi

export QUILTRC=$TOP/scripts/quiltrc
# A digest of the files the applied patches touch, as they are now:
# taken when the series is applied, it tells later whether anyone has
# edited the tree since.
touched_state() {
	(
		cd "$TREE"
		find .pc -mindepth 2 -type f ! -name '.*' | sed 's|^\.pc/[^/]*/||' | sort -u |
			while read -r f; do sha256sum "$f" 2>/dev/null || echo "absent $f"; done
	) | sha256sum | cut -d' ' -f1
}
APPLIED=$TREE/.series-applied-state
# Someone may be working in the tree with quilt: refuse to throw away
# edits that are not yet refreshed into patches/.  quilt diff -z holds
# the files against the top patch as patches/ has it now, so a tree left
# as it was applied is no one's work, whatever it says: the patches
# changed under it (a git pull), not the tree.
if [ -d "$TREE/.pc" ] && [ "$(cat "$APPLIED" 2>/dev/null)" != "$(touched_state)" ] &&
   [ -n "$(cd "$TREE" && quilt diff -z 2>/dev/null)" ]; then
	top=$(cd "$TREE" && quilt top 2>/dev/null || echo '?')
	die "$TREE has edits not refreshed into patches/$top: run 'quilt refresh' there (or 'quilt diff -z' to see them) first"
fi

note "applying patches/series to $TREE"
rm -f "$STAMP" "$APPLIED"
mkdir -p "$TREE"
# Copy changed files only, by content, and let them take the current time
# so that make rebuilds whatever a previous series had touched.
rsync -r --checksum --links --delete --exclude=/.pc --exclude=/patches "$SRC"/ "$TREE"/
rm -rf "$TREE/.pc" "$TREE/patches"
ln -s "$PATCHES" "$TREE/patches"

n=0
for p in $(series_patches); do
	n=$((n + 1))
	if ! out=$(cd "$TREE" && quilt push --fuzz=0 2>&1); then
		echo "$out" | tail -20 >&2
		die "patch $n, patches/$p, does not apply to the base tree"
	fi
	if echo "$out" | grep -Eq '^Hunk #[0-9]+ succeeded at .*(offset|fuzz)'; then
		echo "$out" | grep -E '^Hunk #[0-9]+ succeeded at' >&2
		die "patch $n, patches/$p, applies only with an offset or fuzz: rebase it (quilt push; quilt refresh)"
	fi
done
touched_state >"$APPLIED"
echo "$want" >"$STAMP"
note "applied $n patches"

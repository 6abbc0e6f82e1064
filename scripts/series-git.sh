#!/bin/bash
# The series as a git history: build/series-git holds the pristine base
# tree as one commit (tagged 'base'; built once per base tree, then
# reused) and each patch of patches/series applied on top with 'git am',
# committed with its author's date, so that the same patches always give
# the same commits.  make series and scripts/format-series.sh start from
# it.  Prints the repository's path.
#
# usage: scripts/series-git.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

REPO=$BUILD/series-git
mkdir -p "$LOGS"
stamp=$(dirname "$SRC")/.unpacked
[ -f "$stamp" ] || die "no base tree in $SRC (make source)"
base_id=$(head -2 "$stamp" | tr '\n' ' ')
# One identity and clock for the base commit: the same base tree is the
# same commit everywhere.
export GIT_AUTHOR_NAME="KAISER harness" GIT_AUTHOR_EMAIL="harness@kaiser.invalid"
export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
export GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z"
# gc.auto=0: no background 'git gc --auto' after git am, which would
# repack the whole kernel and outlive this script holding the build lock.
g() { git -C "$REPO" -c core.autocrlf=false -c advice.detachedHead=false -c gc.auto=0 -c maintenance.auto=false "$@"; }

if [ "$(cat "$REPO/.base-id" 2>/dev/null)" != "$base_id" ]; then
	t0=$(now)
	note "committing the base tree ($base_id) to $REPO"
	rm -rf "$REPO"
	mkdir -p "$REPO"
	rsync -a "$SRC/" "$REPO/"
	{
		g init -q -b main &&
			g add -A -f &&
			g commit -q -m "Linux ${base_id%% sha256*}" -m "The base tree of the KAISER series: $base_id" &&
			g tag base
	} >"$LOGS/series-git.log" 2>&1 || die "committing the base tree failed; see $LOGS/series-git.log"
	echo "$base_id" >"$REPO/.base-id"
	note "base tree committed in $(($(now) - t0)) s"
fi

g checkout -q -f --detach base
g clean -q -fdx -e /.base-id
g branch -q -f main base
g checkout -q main
n=0
while read -r p; do
	case "$p" in '' | '#'*) continue ;; esac
	n=$((n + 1))
	f=$TOP/patches/$p
	[ -f "$f" ] || die "patches/series names $p, which is not in patches/"
	grep -q '^Subject: ' "$f" || die "$p has no Subject: line: git am needs its mail header"
	# The author's date is the commit's date: a patch without a Date:
	# line gets a fixed one, so that its commit does not change by the hour.
	date=$(sed -n 's/^Date: //p;/^$/q' "$f")
	GIT_COMMITTER_DATE=${date:-$GIT_COMMITTER_DATE} GIT_AUTHOR_DATE=${date:-$GIT_AUTHOR_DATE} \
		g am -q --keep-cr --committer-date-is-author-date "$f" >>"$LOGS/series-git.log" 2>&1 || {
		g am --abort >/dev/null 2>&1 || true
		die "$p does not apply with git am onto the base and the patches before it; see $LOGS/series-git.log"
	}
done <"$TOP/patches/series"
[ "$n" -gt 0 ] || die "patches/series lists no patch"
echo "$REPO"

#!/bin/bash
# Rewrite patches/ as 'git format-patch' output (From <sha> line, Date,
# the '---' separator, a diffstat, diff --git and index lines), named as
# format-patch names them, and patches/series to match: from the git
# history of the series (scripts/series-git.sh), so that the text of
# every change stays exactly what it was.  Run it after 'quilt refresh',
# which keeps a patch's header but not its diffstat.  With --check, change
# nothing and fail if patches/ is not what it would write (make check).
#
# usage: scripts/format-series.sh [--check]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

check=
case "${1:-}" in
--check) check=1 ;;
"") ;;
*) die "usage: $0 [--check]" ;;
esac

repo=$("$TOP/scripts/series-git.sh")
out=$BUILD/formatted-patches
rm -rf "$out"
mkdir -p "$out"
# --no-signature: no "-- 2.39.5" trailer that changes with git's version.
git -C "$repo" format-patch -q --no-signature --no-numbered --no-cover-letter --filename-max-length=100 \
	-o "$out" base..main
(cd "$out" && ls -1 -- *.patch) >"$out/series"

if [ -n "$check" ]; then
	ktap_begin
	if diff -u "$TOP/patches/series" "$out/series" >"$out/series.diff"; then
		ktap_result pass "format-series: patches/series is the series as git format-patch names it"
	else
		ktap_result fail "format-series: patches/series is the series as git format-patch names it" \
			"$(grep -E '^[-+][^-+]' "$out/series.diff" | head -2 | tr '\n' ' ')(scripts/format-series.sh rewrites it)"
	fi
	stale=
	while read -r p; do
		cmp -s "$TOP/patches/$p" "$out/$p" || stale="$stale $p"
	done <"$out/series"
	if [ -z "$stale" ]; then
		ktap_result pass "format-series: every patch is git format-patch output of its commit"
	else
		ktap_result fail "format-series: every patch is git format-patch output of its commit" \
			"differ:$stale (run scripts/format-series.sh after quilt refresh)"
	fi
	ktap_end
	exit
fi

# Replace patches/ in one step per file: the new names first, then the
# old names that are gone.
while read -r p; do
	cmp -s "$out/$p" "$TOP/patches/$p" || cp "$out/$p" "$TOP/patches/$p"
done <"$out/series"
while read -r p; do
	case "$p" in '' | '#'*) continue ;; esac
	grep -qxF "$p" "$out/series" || {
		rm -f "$TOP/patches/$p"
		note "removed patches/$p (now $(sed -n "$(grep -nxF "$p" "$TOP/patches/series" | cut -d: -f1)p" "$out/series"))"
	}
done <"$TOP/patches/series"
cp "$out/series" "$TOP/patches/series"
note "patches/: $(wc -l <"$out/series") patches in git format-patch form"

#!/bin/bash
# make lint: the series' static checks, in KTAP.
#   - scripts/checkpatch.pl --strict on every patch of patches/series,
#     each report compared with tests/checkpatch-known.txt: a report not
#     listed there fails, and so does a listed one that is gone (the list
#     stays exact);
#   - scripts/kernel-doc -none on KAISER's C files: no warning.
# make check runs these.
#
# usage: scripts/lint.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

[ -f "$TREE/.series-stamp" ] || die "no patched tree in $TREE (make tree)"
KNOWN=$TOP/tests/checkpatch-known.txt
[ -f "$KNOWN" ] || die "no $KNOWN"
out=$BUILD/lint
rm -rf "$out"
mkdir -p "$out"

ktap_begin
# checkpatch reads the base tree's MAINTAINERS and spelling lists: run it
# from an empty directory, so that it does not take the harness's
# repository for the kernel tree.
mkdir -p "$out/cwd"
while read -r p; do
	case "$p" in '' | '#'*) continue ;; esac
	n=${p:0:4}
	(cd "$out/cwd" && perl "$SRC/scripts/checkpatch.pl" --strict --root="$SRC" --terse \
		--no-summary --show-types "$TOP/patches/$p") 2>&1 |
		sed -n "s|^[^ ]*:[0-9]*: |$n |p; s|^[^ ]*: \(ERROR\|WARNING\|CHECK\)|$n \1|p" >>"$out/checkpatch.txt" || true
done <"$TOP/patches/series"
export LC_ALL=C
sort "$out/checkpatch.txt" | uniq -c | sed 's/^ *//' | sort >"$out/checkpatch.count"
{ grep -v '^#' "$KNOWN" | grep . || true; } | sort >"$out/known.count"
new=$(comm -13 "$out/known.count" "$out/checkpatch.count")
gone=$(comm -23 "$out/known.count" "$out/checkpatch.count")
total=$(wc -l <"$out/checkpatch.txt")
errors=$(grep -c ' ERROR:' "$out/checkpatch.txt" || true)
warnings=$(grep -c ' WARNING:' "$out/checkpatch.txt" || true)
what="checkpatch --strict: $(grep -vc '^#' "$TOP/patches/series") patches, $errors errors, $warnings warnings, $((total - errors - warnings)) checks, all of them in tests/checkpatch-known.txt"
if [ -z "$new" ] && [ -z "$gone" ]; then
	ktap_result pass "$what"
else
	[ -n "$new" ] && sed 's/^/# new: /' <<<"$new"
	[ -n "$gone" ] && sed 's/^/# gone (take it out of the list): /' <<<"$gone"
	ktap_result fail "$what" "$(echo "$new" | grep -c . || true) report(s) not listed, $(echo "$gone" | grep -c . || true) listed but gone"
fi

files=(arch/x86/mm/kaiser.c arch/x86/mm/kaiser_test.c arch/x86/include/asm/kaiser.h)
if (cd "$TREE" && perl scripts/kernel-doc -Werror -none "${files[@]}") >"$out/kernel-doc.txt" 2>&1 &&
	! grep -q . "$out/kernel-doc.txt"; then
	ktap_result pass "kernel-doc -none: ${files[*]}: no warning"
else
	sed 's/^/# /' "$out/kernel-doc.txt" | head -10
	ktap_result fail "kernel-doc -none: ${files[*]}: no warning" "$(head -1 "$out/kernel-doc.txt")"
fi
ktap_end

#!/bin/bash
# make series: the series as the mail a maintainer receives, in
# build/mail/: 'git format-patch --cover-letter --thread -v N' of the
# series' git history (scripts/series-git.sh), N from patches/VERSION,
# each patch addressed To its maintainers and Cc its reviewers and lists
# (scripts/get_maintainer.pl of the patched tree), the cover letter
# written from patches/cover-letter.txt with the last make check's
# matrix (build/matrix.md), the last make bench's table (README.md's
# block, which make bench writes) and the base tree's version and
# sha256.  Then it checks its own output: the mail, applied with git am
# onto a fresh copy of the base, must give the patched tree exactly.
#
# usage: scripts/make-series.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
hold_build_lock

version=$(tr -d ' \n' <"$TOP/patches/VERSION" 2>/dev/null || true)
case "$version" in '' | *[!0-9]*) die "patches/VERSION must hold the series' version, a number, not '$version'" ;; esac
matrix=$BUILD/matrix.md
[ -f "$matrix" ] || die "no $matrix: the cover letter quotes the last make check's matrix (run make check)"
grep -q 'make bench writes from here' "$TOP/README.md" ||
	die "README.md has no make bench block for the cover letter to quote"
grep -q 'no `make bench` has run yet' "$TOP/README.md" &&
	die "README.md has no make bench table yet (run make bench)"

repo=$("$TOP/scripts/series-git.sh")
MAIL=$BUILD/mail
rm -rf "$MAIL"
mkdir -p "$MAIL"
git -C "$repo" format-patch -q --cover-letter --thread=shallow -v "$version" \
	-o "$MAIL" base..main
cover=$(ls "$MAIL"/v"$version"-0000-cover-letter.patch)
n=$(ls "$MAIL"/v"$version"-*.patch | grep -vc -- '-0000-cover-letter')

# To: each patch's maintainers; Cc: its reviewers and lists.  The cover
# letter goes to everyone any patch goes to.
gm() {
	(cd "$repo" && perl scripts/get_maintainer.pl --rolestats --no-git --no-git-fallback "$@")
}
address() {
	local f=$1 who=$2
	local to cc
	# One address a line, folded as RFC 5322 allows.
	to=$(grep -E '\((maintainer|supporter)[:)]' <<<"$who" | sed 's/ (.*//' | sort -u | sed '$!s/$/,/' | paste -sd'\t' | sed 's/\t/\\n /g')
	cc=$(grep -vE '\((maintainer|supporter)[:)]' <<<"$who" | sed 's/ (.*//' | grep . | sort -u | sed '$!s/$/,/' | paste -sd'\t' | sed 's/\t/\\n /g' || true)
	[ -n "$to" ] || die "get_maintainer.pl named no maintainer for $(basename "$f")"
	# The headers end at the first empty line.
	awk -v to="$to" -v cc="$cc" 'done == 0 && $0 == "" { print "To: " to; if (cc != "") print "Cc: " cc; done = 1 } { print }' \
		"$f" >"$f.tmp" && mv "$f.tmp" "$f"
}
all=
for f in "$MAIL"/v"$version"-*.patch; do
	[ "$f" = "$cover" ] && continue
	who=$(gm "$f")
	all+=$who$'\n'
	address "$f" "$who"
done

# The cover letter: subject, blurb from the template, and the figures.
base=$(head -2 "$(dirname "$SRC")/.unpacked" | tr '\n' ' ' | sed 's/ $//')
# What checkpatch still reports, and why (make lint checks the list).
"$TOP/scripts/lint.sh" >"$MAIL/lint.ktap" 2>/dev/null ||
	die "make lint fails: the mail would carry reports nobody listed (see $MAIL/lint.ktap)"
python3 - "$cover" "$TOP/patches/cover-letter.txt" "$matrix" "$TOP/README.md" "$base" \
	"$BUILD/lint/checkpatch.count" <<'EOF'
import re
import sys
cover, template, matrix, readme, base, cpcount = sys.argv[1:]
subject, body = open(template).read().split("\n", 1)
block = open(readme).read()
block = block[block.index("make bench writes from here"):block.index("make bench wrote up to here")]
# The first table of make bench's block: the -icount figures.
lines = block.split("\n")
start = next(i for i, l in enumerate(lines) if l.startswith("| operation"))
bench = []
for l in lines[start:]:
    if not l.startswith("|"):
        break
    bench.append(l)
visible = next((l for l in lines if l.startswith("| kernel pages visible")), None)
if visible:
    cells = [c.strip() for c in visible.strip("|").split("|")]
    vis = f"{cells[3]} under kaiser=on, {cells[2]} under pti=on"
else:
    vis = "(no make bench figure of the visible pages)"
pkg, ver = base.split(" sha256")[0].split()[:2]
short = f"Linux {ver.split('-')[0]} (Debian's {pkg} {ver})"
sha = base.split(" sha256 ")[1].split()[0] if " sha256 " in base else "unknown"
body = (body.replace("@BASE_SHORT@", short).replace("@BASE@", f"Debian's {pkg} {ver}, whose source tarball has sha256 {sha}")
        .replace("@VISIBLE@", vis)
        .replace("@MATRIX@", open(matrix).read().strip().split("\n\n")[0])
        .replace("@BENCH@", "\n".join(bench)))
reports = [l.split(" ", 2) for l in open(cpcount).read().splitlines() if l.strip()]
if reports:
    per = {}
    for count, patch, what in reports:
        kind = what.split(":")[0]
        per.setdefault(patch, {}).setdefault(kind, 0)
        per[patch][kind] += int(count)
    cp = ("; ".join(
        f"patch {int(p)}: " + ", ".join(f"{n} {k.lower()}{'s' if n > 1 else ''}" for k, n in sorted(kinds.items()))
        for p, kinds in sorted(per.items())) +
        "; each with its reason in the harness's tests/checkpatch-known.txt.")
else:
    cp = "no error, no warning, no check."
body = body.replace("@CHECKPATCH@", cp)
left = re.findall(r"@[A-Z_]+@", body)
if left:
    sys.exit(f"make-series: the cover letter template still has {left}")
text = open(cover).read()
if "*** SUBJECT HERE ***" not in text or "*** BLURB HERE ***" not in text:
    sys.exit("make-series: git format-patch's cover letter has no SUBJECT/BLURB to fill")
text = text.replace("*** SUBJECT HERE ***", subject.strip()).replace("*** BLURB HERE ***", body.strip())
open(cover, "w").write(text)
EOF
address "$cover" "$(printf '%s' "$all" | grep . | sort -u)"
grep -q '\*\*\*' "$cover" && die "the cover letter still has a *** placeholder: $cover"

# The mail must rebuild the patched tree: git am onto a fresh copy of
# the base, then compare trees.
check=$BUILD/mail-check
rm -rf "$check"
git clone -q --shared --no-checkout "$repo" "$check"
git -C "$check" -c advice.detachedHead=false checkout -q base
ls "$MAIL"/v"$version"-*.patch | grep -v -- '-0000-cover-letter' |
	xargs git -C "$check" -c gc.auto=0 -c user.name=check -c user.email=check@kaiser.invalid am -q ||
	die "the mail in $MAIL does not apply with git am onto the base tree"
[ "$(git -C "$check" rev-parse 'HEAD^{tree}')" = "$(git -C "$repo" rev-parse 'main^{tree}')" ] ||
	die "git am of the mail gives another tree than the series"
rm -rf "$check"
note "$MAIL: v$version, a cover letter and $n patches; git am of them onto the base gives the series' tree"

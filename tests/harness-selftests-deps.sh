#!/bin/bash
# Self-tests of scripts/install-deps.sh, against fake dpkg-query, apt-get,
# sudo, id and gcc first on a PATH that holds nothing else of the system's
# package tools: every package of the table is found missing when (and only
# when) dpkg says so, apt is called as it should be and each failure gives
# one line naming the log; and every tool the harness scripts invoke has
# its package in the table.  No root, no network, no real apt.  Reports in
# KTAP, as tests/harness-selftests.sh does; the last lines are the plan and
# a comment with the counts.
#
# usage: tests/harness-selftests-deps.sh
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
S=$TOP/scripts
DEPS=$S/install-deps.sh
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# install-deps.sh writes nothing outside $TMP (its log: LOGS, below).
export BUILD=$TMP/build
pass=0 fail=0

echo "KTAP version 1"
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) ${1//#/no.}"; }
nok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) ${1//#/no.}${2:+ # ${2//$'\n'/ }}"; }
# expect STATUS "DESCRIPTION" [PATTERN] -- COMMAND...: the command exits
# with STATUS and its output (stdout+stderr) matches PATTERN.
expect() {
	local want=$1 desc=$2 pat=$3 out rc
	shift 4
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" != "$want" ]; then
		nok "$desc" "exit status $rc, expected $want; output: $(echo "$out" | tail -2 | tr '\n' ' ')"
	elif [ -n "$pat" ] && ! grep -qE -- "$pat" <<<"$out"; then
		nok "$desc" "output does not match /$pat/: $(echo "$out" | tail -2 | tr '\n' ' ')"
	else
		ok "$desc"
	fi
}

# --- the fakes, one directory each so that a test can leave one out
F=$TMP/fake
mkdir -p $F/dpkg $F/apt $F/sudo $F/misc $F/tools
CALLS=$TMP/calls # every apt-get and sudo call, one a line
cat >$F/dpkg/dpkg-query <<'EOF'
#!/bin/sh
# dpkg-query -W -f='${Package}\t${db:Status-Abbrev}\n' PKG...: as dpkg
# does, a line "PKG<TAB>ii " for each installed package, "rc " for those in
# FAKE_REMOVED (removed, configuration files left), and for those in
# FAKE_MISSING (never installed) a complaint and exit status 1.
if [ "$1" != -W ] || [ "$2" != '-f=${Package}\t${db:Status-Abbrev}\n' ]; then
	echo "fake dpkg-query: unexpected arguments: $*" >&2
	exit 2
fi
shift 2
rc=0
for p in "$@"; do
	case " $FAKE_MISSING " in *" $p "*)
		echo "dpkg-query: no packages found matching $p" >&2
		rc=1
		continue ;;
	esac
	case " $FAKE_REMOVED " in
	*" $p "*) printf '%s\trc \n' "$p" ;;
	*) printf '%s\tii \n' "$p" ;;
	esac
done
exit $rc
EOF
cat >$F/apt/apt-get <<'EOF'
#!/bin/bash
# FAKE_APT: ok, update-fails, update-warns (exits 0, as apt-get does when
# it cannot reach a mirror), install-fails.
echo "apt-get $*" >>"$FAKE_CALLS"
echo "DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-}"
case "$1:$FAKE_APT" in
update:update-fails)
	echo "E: The repository 'http://deb.debian.org/debian bookworm Release' does not have a Release file."
	exit 100 ;;
update:update-warns)
	echo "W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary failure resolving 'deb.debian.org'"
	echo "W: Some index files failed to download. They have been ignored, or old ones used instead."
	exit 0 ;;
install:install-fails)
	echo "E: Unable to locate package ${!#}"
	exit 100 ;;
esac
exit 0
EOF
cat >$F/sudo/sudo <<'EOF'
#!/bin/bash
echo "sudo $*" >>"$FAKE_CALLS"
exec "$@"
EOF
cat >$F/misc/id <<'EOF'
#!/bin/sh
[ "$*" = -u ] && { echo "${FAKE_UID:-0}"; exit 0; }
echo "fake id: unexpected arguments: $*" >&2
exit 2
EOF
cat >$F/misc/gcc <<'EOF'
#!/bin/sh
# FAKE_GCC=no-m32: a multilib that does not link.
case " $* " in
*" -m32 "*) [ "${FAKE_GCC:-}" = no-m32 ] && { echo "/usr/bin/ld: cannot find -lc: No such file or directory"; exit 1; } ;;
esac
exit 0
EOF
chmod +x $F/*/*
# The system tools the script needs, and nothing else of /usr/bin.
for t in bash cat cut date dirname env grep head mkdir mktemp rm tr; do
	ln -s "$(command -v $t)" $F/tools/$t
done

# deps [DIR...] -- ARGS: run install-deps.sh with the fakes in DIRs (all of
# them by default) and the tools on PATH, its log under $TMP/logs.
deps() {
	local path=
	while [ "$1" != -- ]; do path=$path$F/$1:; shift; done
	shift
	[ -n "$path" ] || path=$F/dpkg:$F/apt:$F/sudo:$F/misc:
	env PATH="$path$F/tools" LOGS=$TMP/logs FAKE_CALLS=$CALLS "$DEPS" "$@"
}
reset() {
	: >$CALLS
	rm -rf $TMP/logs
	export FAKE_MISSING= FAKE_REMOVED= FAKE_APT=ok FAKE_UID=0 FAKE_GCC=ok
}
reset

# --- the table
table=$("$DEPS" --list)
n=$(echo "$table" | grep -c .)
[ "$n" -ge 10 ] && [ -z "$(echo "$table" | grep -vE '^[a-z0-9][a-z0-9.+-]+$')" ] &&
	ok "--list: $n package names, one a line" || nok "--list: package names, one a line" "$(echo "$table" | tr '\n' ' ')"
grep -qx linux-source-6.1 <<<"$table" && nok "--list: linux-source-6.1 is fetch-source.sh's, not in the table" ||
	ok "--list: linux-source-6.1 is fetch-source.sh's, not in the table"
[ -z "$(echo "$table" | sort | uniq -d)" ] && ok "--list: no package twice" ||
	nok "--list: no package twice" "$(echo "$table" | sort | uniq -d | tr '\n' ' ')"

# --- presence is dpkg's answer, package by package: a presence test that
# always passes would leave its package out.
for p in $table; do
	reset
	out=$(FAKE_MISSING=$p deps -- --missing 2>&1)
	[ "$out" = "$p" ] && ok "--missing: only $p not installed: exactly $p" ||
		nok "--missing: only $p not installed: exactly $p" "printed '$(echo "$out" | tr '\n' ' ')'"
done
reset
out=$(FAKE_REMOVED="quilt file" deps -- --missing 2>&1)
[ "$out" = "$(printf 'quilt\nfile')" ] || [ "$out" = "$(printf 'file\nquilt')" ] &&
	ok "--missing: removed packages (dpkg status rc) are missing" ||
	nok "--missing: removed packages (dpkg status rc) are missing" "printed '$(echo "$out" | tr '\n' ' ')'"
out=$(FAKE_MISSING="cpio quilt" FAKE_APT=install-fails deps -- --missing 2>&1)
rc=$?
[ $rc = 0 ] && { [ "$out" = "$(printf 'quilt\ncpio')" ] || [ "$out" = "$(printf 'cpio\nquilt')" ]; } &&
	[ ! -s $CALLS ] && ok "--missing: installs nothing, exits 0" ||
	nok "--missing: installs nothing, exits 0" "status $rc, printed '$(echo "$out" | tr '\n' ' ')', calls: $(tr '\n' ' ' <$CALLS)"

# --- everything installed
reset
out=$(deps -- --missing 2>&1)
[ -z "$out" ] && ok "--missing: all installed: prints nothing" || nok "--missing: all installed: prints nothing" "printed '$out'"
expect 0 "all installed: nothing to do" "nothing to do" -- deps --
[ ! -s $CALLS ] && ok "all installed: apt-get is never called" || nok "all installed: apt-get is never called" "$(tr '\n' ' ' <$CALLS)"

# --- installing
reset
out=$(FAKE_MISSING="quilt gcc-multilib" deps -- 2>&1)
rc=$?
[ $rc = 0 ] && ok "one missing, apt works: exit 0" || nok "one missing, apt works: exit 0" "status $rc: $(echo "$out" | tail -1)"
grep -qx "==> need quilt: .*patches/series.*" <<<"$out" && grep -qx "==> need gcc-multilib: .*32-bit.*" <<<"$out" &&
	ok "missing packages are named, each with why" || nok "missing packages are named, each with why" "$(echo "$out" | tr '\n' '|')"
[ "$(cat $CALLS)" = "$(printf 'apt-get update\napt-get install -y --no-install-recommends gcc-multilib quilt')" ] &&
	ok "apt-get update, then install -y --no-install-recommends of exactly the missing" ||
	nok "apt-get update, then install of exactly the missing" "calls: $(tr '\n' '|' <$CALLS)"
grep -qx DEBIAN_FRONTEND=noninteractive $TMP/logs/apt.log 2>/dev/null &&
	ok "apt's output goes to LOGS/apt.log, non-interactive" || nok "apt's output goes to LOGS/apt.log, non-interactive"
reset
out=$(FAKE_MISSING=quilt FAKE_UID=1000 deps -- 2>&1)
[ $? = 0 ] && grep -q "^sudo env DEBIAN_FRONTEND=noninteractive apt-get install " $CALLS &&
	ok "not root: apt-get through sudo" || nok "not root: apt-get through sudo" "$(tr '\n' '|' <$CALLS) $out"

# --- failures: one error line, naming what went wrong (and the log)
# one_error DESC PATTERN -- COMMAND...: the command exits non-zero with
# exactly one 'error:' line, which matches PATTERN.
one_error() {
	local desc=$1 pat=$2 out rc errs
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	errs=$(echo "$out" | grep '^error:')
	if [ $rc = 0 ]; then
		nok "$desc" "exit status 0; output: $(echo "$out" | tail -2 | tr '\n' ' ')"
	elif [ "$(echo "$errs" | grep -c .)" != 1 ]; then
		nok "$desc" "expected one error line, got: $(echo "$out" | tr '\n' '|')"
	elif ! grep -qE -- "$pat" <<<"$errs"; then
		nok "$desc" "error line does not match /$pat/: $errs"
	else
		ok "$desc"
	fi
}
LOG=$TMP/logs/apt.log
reset
FAKE_APT=install-fails FAKE_MISSING=quilt one_error "apt-get install fails: one line, apt's reason and the log" \
	"apt-get install quilt failed: E: Unable to locate package quilt; log: $LOG\$" -- deps --
reset
FAKE_APT=update-fails FAKE_MISSING=quilt one_error "apt-get update fails: 'no network to the package mirror?' and the log" \
	"apt-get update failed \(no network to the package mirror\?\).*; log: $LOG\$" -- deps --
grep -q "install" $CALLS && nok "apt-get update fails: no install attempted" || ok "apt-get update fails: no install attempted"
reset
FAKE_APT=update-warns FAKE_MISSING=quilt one_error "apt-get update cannot fetch but exits 0: still 'no network to the package mirror?'" \
	"apt-get update failed \(no network to the package mirror\?\): W: Failed to fetch .*; log: $LOG\$" -- deps --
reset
FAKE_MISSING="quilt cpio" one_error "no apt-get: one line naming the packages" \
	"no apt-get on this machine: .*quilt cpio" -- deps dpkg sudo misc -- 
reset
FAKE_MISSING=quilt FAKE_UID=1000 one_error "not root and no sudo: one line" \
	"not root and no sudo: .*quilt" -- deps dpkg apt misc --
reset
FAKE_MISSING=quilt one_error "no dpkg-query: one line" "no dpkg-query" -- deps apt sudo misc --
reset
FAKE_MISSING=gcc-multilib FAKE_GCC=no-m32 one_error "installed, but gcc -m32 -static cannot link: one line" \
	"gcc -m32 -static cannot link a trivial program \(gcc-multilib\)" -- deps --
reset
expect 1 "an unknown option is refused" "usage: .*--missing \| --list" -- deps -- --bogus

# --- the table cannot be mis-split: a row without its tab is refused, a
# reason holding a '|' is only text.
mkdir -p $TMP/s
cp $S/lib.sh $TMP/s/
sed 's/^make\tbuilds everything$/&\nbogus builds | nothing/' $DEPS >$TMP/s/install-deps.sh
chmod +x $TMP/s/install-deps.sh
expect 1 "a table row without a tab is refused" "malformed table row .*bogus builds" -- $TMP/s/install-deps.sh --list
sed 's/^make\tbuilds everything$/&\nbogus\techo x | gcc -m32 -x c -/' $DEPS >$TMP/s/install-deps.sh
out=$(FAKE_MISSING=bogus PATH=$F/dpkg:$F/tools:$PATH $TMP/s/install-deps.sh --missing 2>&1)
[ "$out" = bogus ] && ok "a reason holding '|' is text, presence still dpkg's" || nok "a reason holding '|' is text" "printed '$out'"

# --- every tool the harness invokes has its package in the table:
# package<TAB>what in the scripts, the Makefile or the kernel configs says
# the harness uses it (an extended regular expression).  The 32-bit
# selftests are built by the kernel's own Makefile (-m32): the harness
# says "32-bit" where it asks for them.
USERS=$(ls $S/*.sh $S/*.py $TOP/Makefile $TOP/configs/*.config 2>/dev/null | grep -v '/install-deps\.sh$')
while IFS=$'\t' read -r pkg re; do
	users=$(grep -lE -- "$re" $USERS | sed "s|^$TOP/||" | tr '\n' ' ')
	if [ -z "$users" ]; then
		nok "tools: $pkg" "no harness file matches /$re/ any more: update this map"
	elif grep -qx -- "$pkg" <<<"$table"; then
		ok "tools: /$re/ (${users% }): $pkg is in the table"
	else
		nok "tools: /$re/ (${users% }): $pkg is in the table" "install-deps.sh does not list $pkg"
	fi
done <<'EOF'
gcc-multilib	-m32|32-bit
qemu-system-x86	qemu-system-x86_64
bochs	BOCHS:-bochs
bochsbios	BIOS-bochs-latest
vgabios	vgabios\.bin
xorriso	(^|[^a-z])xorriso( |$)
isolinux	/usr/lib/ISOLINUX/isolinux\.bin
syslinux-common	/usr/lib/syslinux/modules/bios/ldlinux\.c32
quilt	(^|[^a-z_])quilt[^a-z_.]
cpio	(^|[^a-z])cpio( |$)
busybox-static	busybox
lz4	KERNEL_LZ4|lz4
rsync	(^|[^a-z])rsync( |$)
python3	python3
ccache	(^|[^a-z])ccache( |$)
gcc	(^|[^a-z-])gcc( |"|$)
xz-utils	\.tar\.xz
file	(^|[^a-z_$-])file (-L )?"
make	(^|[^a-z_])make( |$)
EOF

echo "1..$((pass + fail))"
echo "# harness-selftests-deps: $pass passed, $fail failed"
[ $fail = 0 ]

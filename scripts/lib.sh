# Shared helpers for the harness scripts: where things live, how to fail.
# Sourced, never run.  Every path below can be overridden from the
# environment so that the harness self-tests can point the scripts at a
# scratch tree.

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${BUILD:-$TOP/build}
PATCHES=${PATCHES:-$TOP/patches}
CONFIGS=${CONFIGS:-$TOP/configs}
SRC=${SRC:-$BUILD/src/linux-source-6.1}     # pristine, unpacked once
TREE=${TREE:-$BUILD/tree}                    # SRC + patches/series, via quilt
LOGS=${LOGS:-$BUILD/logs}
FLAVOURS="kaiser pti none kaiser-hardened"

# One clear line on stderr, then a non-zero exit.
die() {
	echo "error: $*" >&2
	exit 1
}

note() {
	echo "==> $*" >&2
}

warn() {
	echo "warning: $*" >&2
}

check_flavour() {
	case " $FLAVOURS " in
	*" $1 "*) ;;
	*) die "unknown FLAVOUR '$1' (choose one of: $FLAVOURS)" ;;
	esac
}

# The Kconfig fragments of a flavour, in merge order: the guest's, then
# the flavour's own.  A flavour NAME-hardened is NAME built the way entry
# code is reviewed (configs/hardened.config: ORC, DEBUG_ENTRY, IBT,
# return thunks), so that objtool checks what the plain build does not.
flavour_fragments() {
	case "$1" in
	*-hardened) echo "$CONFIGS/guest.config $CONFIGS/${1%-hardened}.config $CONFIGS/hardened.config" ;;
	*) echo "$CONFIGS/guest.config $CONFIGS/$1.config" ;;
	esac
}

# objtool_warnings OLD LOG: the objtool warnings a kernel build leaves,
# from the list OLD the previous builds left and the build log LOG.
# objtool checks an object only when Kbuild remakes it, so a warning
# stands until its object is remade: OLD's lines for objects LOG shows
# remade (a CC, AS or LD step) give way to LOG's own warnings.
objtool_warnings() {
	awk '
		FILENAME == ARGV[1] { old[++n] = $0; next }
		/^  (CC|AS|LD) .* [^ ]+\.o$/ { remade[$NF] = 1 }
		/: warning: objtool: / { new[++m] = $0 }
		END {
			for (i = 1; i <= n; i++) {
				obj = old[i]
				sub(/: warning: objtool: .*/, "", obj)
				if (!(obj in remade))
					print old[i]
			}
			for (i = 1; i <= m; i++)
				print new[i]
		}' "$1" "$2" | sort -u
}

# objtool_not_base_tree WARNINGS: the warnings the series is answerable
# for, i.e. all but the base tree's own (tests/objtool-base-tree.txt,
# whole lines).
objtool_not_base_tree() {
	grep -vxF -f <(grep -v '^#' "${OBJTOOL_BASE_TREE:-$TOP/tests/objtool-base-tree.txt}") "$1" || true
}

# One harness run at a time per build/: two runs compiling into the same
# obj-<flavour> corrupt each other's builds ("fixdep: parse error"), and
# the failure would name a kernel build, not the cause.  Every script that
# writes under build/ calls this first; the scripts it runs inherit the
# lock through KAISER_HARNESS_LOCK and do not take it again.  The lock is
# flock(1)'s, so it goes away with its holder, however that ends.
hold_build_lock() {
	[ -n "${KAISER_HARNESS_LOCK:-}" ] && return 0
	mkdir -p "$BUILD" || die "cannot create $BUILD"
	exec {BUILD_LOCK_FD}>>"$BUILD/.lock"
	if ! flock -n "$BUILD_LOCK_FD"; then
		die "$BUILD is in use by another harness run ($(cat "$BUILD/.lock.owner" 2>/dev/null ||
			echo 'owner unknown')): wait for it to end, or stop it"
	fi
	echo "pid $$, ${HARNESS_TARGET:-$(basename "$0")}, since $(date +%T)" >"$BUILD/.lock.owner"
	export KAISER_HARNESS_LOCK=$$
	# Ctrl-C: one line, and the exit status a shell expects.  Every
	# output the next run trusts is renamed into place or stamped only
	# once complete, so nothing half-written survives.
	trap 'echo "error: interrupted (${HARNESS_TARGET:-$(basename "$0")}); partial outputs are redone by the next run" >&2; exit 130' INT TERM
}

# Seconds since the epoch, for stage timings.
now() {
	date +%s
}

# KTAP, the format every check of make check reports in (kselftest's and
# KUnit's): results on stdout, numbered, the plan last; each result is
# echoed to stderr as well, so the console shows it as it happens.
# scripts/ktap.py --count counts them once, at the end.
KTAP_N=0
ktap_begin() {
	echo "KTAP version 1"
}
ktap_result() {	# ktap_result pass|fail|skip DESCRIPTION [REASON]
	local desc=${2//#/no.} why=${3:-}
	why=${why//$'\n'/ }
	KTAP_N=$((KTAP_N + 1))
	case $1 in
	pass) echo "ok $KTAP_N $desc"; echo "  ok    $desc" >&2 ;;
	skip) echo "ok $KTAP_N $desc # SKIP $why"; echo "  skip  $desc: $why" >&2 ;;
	*) echo "not ok $KTAP_N $desc${why:+ # $why}"; echo "  FAIL  $desc${why:+: $why}" >&2 ;;
	esac
}
ktap_end() {
	echo "1..$KTAP_N"
}

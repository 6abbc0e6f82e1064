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
FLAVOURS="kaiser pti none"

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

# Does the patched tree define CONFIG_KAISER yet?  The kaiser flavour is
# only buildable once the series adds the symbol.
tree_has_kaiser() {
	grep -qs '^config KAISER$' "$TREE"/arch/x86/Kconfig "$TREE"/arch/x86/Kconfig.* \
		"$TREE"/security/Kconfig* 2>/dev/null
}

# Seconds since the epoch, for stage timings.
now() {
	date +%s
}

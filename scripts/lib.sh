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
FLAVOURS="kaiser pti none kaiser-hardened kaiser-debug"

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
# return thunks), so that objtool checks what the plain build does not;
# NAME-debug is NAME with the kernel's memory and locking debuggers
# (configs/debug.config: KASAN, kmemleak, DEBUG_PAGEALLOC, lockdep).
flavour_fragments() {
	case "$1" in
	*-hardened) echo "$CONFIGS/guest.config $CONFIGS/${1%-hardened}.config $CONFIGS/hardened.config" ;;
	*-debug) echo "$CONFIGS/guest.config $CONFIGS/${1%-debug}.config $CONFIGS/debug.config" ;;
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

# watch_guest PID LOG NAME SILENCE TIMEOUT [END_RE]: wait for the emulator
# PID to end while the guest's serial log LOG grows.  A guest that keeps
# printing gets time up to TIMEOUT seconds, a silent one is hung after
# SILENCE; either way the emulator is stopped and WATCH_STOP says why
# (it is empty when the emulator ended by itself).  END_RE is for an
# emulator that resets rather than exits when the guest gives up (Bochs
# after a panic): once a log line matches it, the guest is done and is
# stopped too.  A progress note, with the test the guest is running, every
# BOOT_PROGRESS seconds (30; the self-tests use 1).
watch_guest() {
	local pid=$1 log=$2 name=$3 silence=$4 timeout=$5 end_re=${6:-}
	local every=${BOOT_PROGRESS:-30} t0 t s size=0 heard next test hit
	t0=$(now)
	heard=$t0 next=$((t0 + every))
	WATCH_STOP=
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		t=$(now)
		s=$(stat -c %s "$log" 2>/dev/null || echo 0)
		[ "$s" != "$size" ] && size=$s heard=$t
		hit=
		[ -n "$end_re" ] && hit=$(grep -aE -m1 "$end_re" "$log" 2>/dev/null | tr -d '\r' | cut -c1-120 || true)
		if [ -n "$hit" ]; then
			sleep 3	# what the guest still prints
			WATCH_STOP="stopped after the guest printed '$hit'"
		elif [ $((t - heard)) -ge "$silence" ]; then
			WATCH_STOP="hung: no output for $silence s"
		elif [ $((t - t0)) -ge "$timeout" ]; then
			WATCH_STOP="still running at its $timeout s limit (last output $((t - heard)) s before)"
		elif [ "$t" -ge "$next" ]; then
			# Not every suite names its tests (stress does not): no
			# match is no error here.
			test=$(grep -a '^# harness: running ' "$log" 2>/dev/null | tail -1 | sed 's/^# harness: //' || true)
			note "$name: $((t - t0)) s${test:+, $test}"
			next=$((t + every))
		fi
		if [ -n "$WATCH_STOP" ]; then
			kill -TERM "$pid" 2>/dev/null || true
			sleep 2
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
	done
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

# ktap_audit NAME LOG: KAISER audits its shadow page tables at boot.  When
# it is active (the guest's report shows the kaiser cpuinfo flag), the
# audit line must be in LOG and report no violation; when it is off, there
# must be none.
ktap_audit() {
	local name=$1 log=$2 audit
	audit=$(sed -n 's/^\[ *[0-9.]*\] KAISER: \([0-9]* kernel pages visible to user space, [0-9]* violations\).*/\1/p' "$log")
	if grep -q '^cpuinfo isolation flags: .*kaiser' "$log"; then
		case "$audit" in
		*", 0 violations") ktap_result pass "$name: boot audit: $audit" ;;
		"") ktap_result fail "$name: boot audit" "KAISER is active but its boot audit did not report" ;;
		*) ktap_result fail "$name: boot audit: $audit" ;;
		esac
	elif [ -n "$audit" ]; then
		ktap_result fail "$name: boot audit" "KAISER is off but audited: $audit"
	else
		ktap_result pass "$name: KAISER off, no audit"
	fi
}

# ktap_results PREFIX TSV: one result for each row of scripts/ktap.py's
# output in TSV (name, pass|skip|fail, comment), named PREFIX NAME.
ktap_results() {
	local prefix=$1 t r c
	while IFS=$'\t' read -r t r c; do
		case $r in
		pass) ktap_result pass "$prefix $t" ;;
		skip) ktap_result skip "$prefix $t" "${c#SKIP }" ;;
		*) ktap_result fail "$prefix $t" "$c" ;;
		esac
	done <"$2"
}

# ktap_kunit NAME LOG TSV: one result for each KUnit case the kernel ran
# at boot, as LOG shows them; the cases are kept in TSV (scripts/ktap.py
# --kernel).  A kernel without KUnit output adds nothing.
ktap_kunit() {
	"$TOP/scripts/ktap.py" --kernel "$2" >"$3" || return 0
	ktap_results "$1: KUnit" "$3"
}

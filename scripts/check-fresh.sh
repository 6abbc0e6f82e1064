#!/bin/bash
# make check-fresh: prove that the README's `make run` works on a machine
# that has never seen the project.  A minimal Debian bookworm root
# (debootstrap --variant=minbase, from the host's own mirror, with the
# host's apt configuration and resolver) gets a copy of the project and
# `make` (what a user installs by hand before the first `make run`); then
# `make run` runs in it through chroot, with no terminal and a minimal
# environment, and must install everything else itself, build the kernel,
# boot it and print the isolation report.  The host's ccache is shared
# with the root, so the kernel build is mostly cache hits.
#
# usage: scripts/check-fresh.sh [--keep-root]
#   --keep-root   reuse build/fresh/root if its debootstrap completed (for
#                 working on this script: the root is then no longer fresh)
# Needs root.  The inner make run's output: build/fresh/make-run.log.
# Last line: 'check-fresh: ok in N s' or 'check-fresh: FAILED: why; log: path'.
# FRESH_MIRROR overrides the Debian mirror (default: the host's, from apt).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SUITE=bookworm
keep_root=
case "${1:-}" in
'') ;;
--keep-root) keep_root=1 ;;
*) die "usage: $0 [--keep-root]" ;;
esac

T0=$(now)
FRESH=$BUILD/fresh
# One line, the log to read, non-zero exit.  On the script's own stderr
# ($err), also from a trap that fires while a command's output goes to a
# log.
exec {err}>&2
fail() {
	echo "check-fresh: FAILED: $1${2:+; log: $2}" >&$err
	exit 1
}
[ "$(id -u)" = 0 ] || fail "must run as root (debootstrap, mount and chroot need it): sudo make check-fresh"
mkdir -p "$FRESH"
FRESH=$(cd "$FRESH" && pwd -P) # /proc/self/mountinfo has physical paths
ROOT=$FRESH/root
STAMP=$FRESH/root.done       # written last: the root is complete
BASE=$FRESH/root.packages    # the root's packages before make run
RUNLOG=$FRESH/make-run.log
DEST=$TOP                    # the project's place in the root
exec {lock}>"$FRESH/.lock"
flock -n "$lock" || fail "another check-fresh is using $FRESH"

# --- the root's mounts (/proc, /sys, /dev, the host's ccache) exist only
# in a mount namespace of each command's own (unshare): the host never
# sees them and they end with the command, however it ends, so no rm -rf
# of build/ can reach the host's /dev or cache through them.  What runs in
# the root is stopped on every way out.
mounts_under() { # mounts the host sees under $1, deepest first
	awk -v d="$1" '{ p = $5; gsub(/\\040/, " ", p); if (p == d || index(p, d "/") == 1) print p }' \
		/proc/self/mountinfo | sort -r
}
in_root_pids() { # processes whose root directory is $ROOT
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ] && echo "${p#/proc/}"
	done
	return 0
}
tree_pids() { # PID and its descendants (debootstrap's subshells outlive it)
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v top="$1" '
		{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); parent[$1] = f[2] }
		END {
			want[top] = 1
			for (more = 1; more;) {
				more = 0
				for (p in parent)
					if (!(p in want) && (parent[p] in want)) { want[p] = 1; more = 1 }
			}
			for (p in want) print p
		}'
}
# CMD... in the background, waited for: bash runs a trap (Ctrl-C, a kill)
# only once the foreground command has ended, and these take minutes.
bg=
waited() {
	local rc=0
	"$@" &
	bg=$!
	wait "$bg" || rc=$?
	bg=
	return "$rc"
}
stop_root() {
	local m pids
	[ -z "$bg" ] || kill -TERM $(tree_pids "$bg") 2>/dev/null || true
	pids=$(in_root_pids)
	if [ -n "$pids" ]; then
		kill -TERM $pids 2>/dev/null || true
		sleep 2
		pids=$(in_root_pids)
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
	fi
	# Only an older check-fresh, which mounted in the host's namespace,
	# can have left any.
	for m in $(mounts_under "$ROOT"); do
		umount "$m" 2>/dev/null || umount -l "$m" ||
			echo "check-fresh: WARNING: could not unmount $m: do it by hand before removing build/" >&2
	done
}
interrupted() {
	echo "check-fresh: FAILED: interrupted; nothing is left running or mounted in $ROOT" >&$err
	exit "$1"
}
trap 'stop_root' EXIT
trap 'interrupted 130' INT
trap 'interrupted 143' TERM
trap 'interrupted 129' HUP

# A command in the root, as a user's shell on a new machine runs it: no
# terminal, a minimal environment.  (ccache hashes the locale: the kernel
# build sets its own, so the host's cache is hit all the same.)
cache=$(ccache -k cache_dir 2>/dev/null || true)
cache=${cache:-${HOME:-/root}/.cache/ccache}
in_root() {
	env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb \
		unshare --mount --propagation private -- /bin/sh -c '
			r=$1 c=$2
			shift 2
			for d in /proc /sys /dev; do
				mount --bind "$d" "$r$d" || exit 125
			done
			mount --bind "$c" "$r/root/.cache/ccache" || exit 125
			exec chroot "$r" "$@"' sh "$ROOT" "$cache" "$@" </dev/null
}

stop_root

# --- debootstrap, on the host
hostlog=$FRESH/host-apt.log
if ! command -v debootstrap >/dev/null; then
	note "installing debootstrap on this machine with apt-get (log: $hostlog)"
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get install -y --no-install-recommends debootstrap ||
		{ apt-get update && apt-get install -y --no-install-recommends debootstrap; }; } >"$hostlog" 2>&1 || {
		why=$(grep -m1 '^E: ' "$hostlog" | cut -c1-160 || true)
		fail "debootstrap is not installed and apt-get could not install it (no network to the package mirror?)${why:+: $why}" "$hostlog"
	}
	command -v debootstrap >/dev/null || fail "apt-get installed debootstrap, but it is not on PATH ($PATH)" "$hostlog"
fi

# The host's own Debian mirror, as apt sees it (one-line and deb822
# sources alike), and its proxy if it has one.
MIRROR=${FRESH_MIRROR:-$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(TARGET_OF)' 2>/dev/null |
	awk -v s="$SUITE" '!found && $2 == s && $3 == "deb" { sub(/\/$/, "", $1); print $1; found = 1 }')}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
eval "$(apt-config shell proxy Acquire::http::Proxy 2>/dev/null)"
if [ -n "${proxy:-}" ] && [ -z "${http_proxy:-}" ]; then
	export http_proxy=$proxy
fi

t=$(now)
if [ -n "$keep_root" ] && [ -f "$STAMP" ] && [ -f "$BASE" ] && [ -d "$ROOT" ]; then
	note "reusing $ROOT ($(head -1 "$STAMP")): --keep-root, so not a fresh machine"
	fresh_root=
else
	# Nothing runs in it or is mounted under it (stop_root, above):
	# remove it whole.  The stamp goes first, so that an interrupted
	# removal is never trusted.
	rm -f "$STAMP" "$BASE" "$FRESH/root.packages.after" "$FRESH/make-run.status"
	if [ -e "$ROOT" ]; then
		[ -z "$(mounts_under "$ROOT")" ] || fail "still mounted under $ROOT: $(mounts_under "$ROOT" | tr '\n' ' ')"
		rm -rf --one-file-system "$ROOT" || fail "could not remove the old $ROOT"
	fi
	log=$FRESH/debootstrap.log
	note "debootstrap --variant=minbase $SUITE from $MIRROR into $ROOT (log: $log)"
	if ! waited debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >"$log" 2>&1; then
		why=$(grep -m1 -E '^E: ' "$log" | cut -c1-160 || true)
		if grep -qiE "couldn't download|Failed getting release file|unable to resolve|connection refused|Temporary failure" "$log"; then
			fail "debootstrap could not download from $MIRROR (no network to the mirror, or no $SUITE there?)${why:+: $why}" "$log"
		fi
		fail "debootstrap failed${why:+: $why}" "$log"
	fi
	fresh_root=1
fi
t_debootstrap=$(($(now) - t))

# --- the root as a new machine on this network: the host's resolver and
# apt configuration (sources, proxies, keys), no services started by
# package scripts (nothing runs an init in a chroot).
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
cp -a /etc/apt/. "$ROOT/etc/apt/"
if [ -d /usr/share/keyrings ]; then
	mkdir -p "$ROOT/usr/share/keyrings"
	cp -an /usr/share/keyrings/. "$ROOT/usr/share/keyrings/"
fi
printf '#!/bin/sh\n# check-fresh: no services in this chroot\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod +x "$ROOT/usr/sbin/policy-rc.d"

# --- the project: the committed tree, or the working tree when it has
# changes not committed yet.  A reused root keeps its build/.
mkdir -p "$ROOT$DEST"
find "$ROOT$DEST" -mindepth 1 -maxdepth 1 ! -name build -exec rm -rf {} +
head=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || true)
changes=$(git -C "$TOP" status --porcelain 2>/dev/null | grep -c . || true)
if [ -n "$head" ] && [ "$changes" = 0 ]; then
	note "project: the committed tree (git archive HEAD, $head) into $ROOT$DEST"
	git -C "$TOP" archive HEAD | tar -x -C "$ROOT$DEST" || fail "could not copy the project into the root"
else
	note "project: the working tree${head:+ (HEAD $head with $changes uncommitted changes)}, without build/ and .git, into $ROOT$DEST"
	tar -C "$TOP" --exclude=./build --exclude=./.git -cf - . | tar -x -C "$ROOT$DEST" ||
		fail "could not copy the project into the root"
fi

# --- the mount points in the root (see in_root)
mkdir -p "$cache" "$ROOT/proc" "$ROOT/sys" "$ROOT/dev" "$ROOT/root/.cache/ccache"
in_root /bin/true || fail "could not mount /proc, /sys, /dev and $cache into the root (unshare --mount, mount --bind)"

# --- make, as the user installs it by hand (apt-get install make), and
# nothing else.
aptlog=$FRESH/apt.log
t=$(now)
if [ -n "$fresh_root" ]; then
	note "installing make in the root, as a user does before the first make run (log: $aptlog)"
	waited in_root apt-get update >"$aptlog" 2>&1 && ! grep -qE '^[WE]: (Failed to fetch|Some index files)' "$aptlog" ||
		fail "apt-get update in the root failed (no network to the package mirror?)" "$aptlog"
	waited in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends make >>"$aptlog" 2>&1 ||
		fail "apt-get install make in the root failed" "$aptlog"
	in_root dpkg-query -W -f='${Package}\n' | sort >"$BASE"
	echo "debootstrap --variant=minbase $SUITE $MIRROR, $(date -u +%FT%TZ)" >"$STAMP"
fi
t_make=$(($(now) - t))

# --- make run
t=$(now)
note "make run in the root (log: $RUNLOG)"
# The console shows the inner notes; the log gets everything.
rm -f "$FRESH/make-run.status"
waited_make_run() {
	{
		in_root /bin/sh -c 'cd "$1" && exec make run' sh "$DEST" 2>&1
		echo $? >"$FRESH/make-run.status"
	} | tee "$RUNLOG" | grep --line-buffered -E '^(==>|error:|warning:)' | sed -u 's/^/    root| /' >&2
}
waited waited_make_run || true
rc=$(cat "$FRESH/make-run.status" 2>/dev/null || echo "unknown")
t_run=$(($(now) - t))
in_root dpkg-query -W -f='${Package}\n' | sort >"$FRESH/root.packages.after"
added=$(comm -13 "$BASE" "$FRESH/root.packages.after")
stop_root

# --- what it took
took() { # took NAME ERE: "NAME N s" from the last log line "ERE N s"
	local n
	n=$(sed -nE "s/$2 ([0-9]+) s\b.*/\1/p" "$RUNLOG" | tail -1)
	if [ -n "$n" ]; then echo "$1 $n s"; else echo "$1 (not this run)"; fi
}
echo "check-fresh: make run installed $(echo "$added" | grep -c .) packages in the root:"
echo "$added" | tr '\n' ' ' | fold -s -w 76 | sed 's/^/    /'
echo
if [ -n "$fresh_root" ]; then
	echo "check-fresh: times: debootstrap $t_debootstrap s, make installed $t_make s, make run $t_run s, of which:"
else
	echo "check-fresh: times: debootstrap and make reused, make run $t_run s, of which:"
fi
echo "    $(took 'packages (install-deps)' '^==> installed .* in'), $(took 'base tree unpacked' '^base tree: .* unpacked in')," \
	"$(took 'kernel build' '^==> kaiser kernel built in'), $(took initramfs '^==> initramfs: .* built in'), $(took boot '^run: ok in')"

[ "$rc" = 0 ] || fail "make run exited with status $rc: $(grep -m1 -E '^error:|FAILED' "$RUNLOG" | cut -c1-200)" "$RUNLOG"
grep -q '^user page tables: ' "$RUNLOG" && grep -q 'KAISER: ' "$RUNLOG" ||
	fail "make run exited 0 but printed no isolation report ('user page tables:' and a 'KAISER:' boot line)" "$RUNLOG"
echo "check-fresh: the isolation report:"
sed -n -e '/^user page tables: /p' -e '/KAISER: /p' "$RUNLOG" | sed 's/^/    /'
echo "check-fresh: ok in $(($(now) - T0)) s"

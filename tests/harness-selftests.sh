#!/bin/bash
# Harness self-tests: the log checker, the KTAP parser, the result matrix,
# the option handling of the scripts, the patch applier, the QEMU runner's
# verdicts (against a fake QEMU) and the guest's test runner.  Fast, no
# kernel build, no real QEMU.  Ends with
# 'harness-selftests: N passed, N failed'.
#
# usage: tests/harness-selftests.sh
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
S=$TOP/scripts
SAMPLES=$TOP/tests/samples
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) $1"; }
nok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) $1${2:+: $2}"; }
# expect STATUS "DESCRIPTION" [PATTERN] -- COMMAND...: the command exits
# with STATUS and its output (stdout+stderr) matches PATTERN.
expect() {
	local want=$1 desc=$2 pat=$3 out rc
	shift 4
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" != "$want" ]; then
		nok "$desc" "exit status $rc, expected $want; output: $(echo "$out" | tail -2 | tr '\n' ' ')"
	elif [ -n "$pat" ] && ! echo "$out" | grep -qE -- "$pat"; then
		nok "$desc" "output does not match /$pat/: $(echo "$out" | tail -2 | tr '\n' ' ')"
	else
		ok "$desc"
	fi
}

# --- log checker
expect 0 "check-log: a clean log (test output may say BUG:/WARNING:) passes" "" -- $S/check-log.sh $SAMPLES/clean.log
expect 1 "check-log: a kernel WARNING fails" "kernel trouble: .*WARNING: CPU: 0" -- $S/check-log.sh $SAMPLES/warning.log
expect 1 "check-log: a kernel line interleaved into test output fails" "double fault|RIP:" -- $S/check-log.sh $SAMPLES/rip-interleaved.log
expect 1 "check-log: a missing end-of-run marker fails" "no end-of-run marker" -- $S/check-log.sh $SAMPLES/no-marker.log
expect 1 "check-log: a kernel panic fails" "Kernel panic" -- $S/check-log.sh $SAMPLES/panic.log
expect 1 "check-log: a general protection fault fails" "general protection" -- $S/check-log.sh $SAMPLES/gpf.log
expect 1 "check-log: BUG: fails" "BUG: unable" -- $S/check-log.sh $SAMPLES/bug.log
expect 1 "check-log: Oops fails" "Oops" -- $S/check-log.sh $SAMPLES/oops.log
expect 1 "check-log: kernel BUG fails" "kernel BUG at" -- $S/check-log.sh $SAMPLES/kernel-bug.log
expect 1 "check-log: an absent log fails" "no log at" -- $S/check-log.sh $TMP/absent.log

# --- KTAP parser
out=$($S/ktap.py --user $SAMPLES/clean.log)
[ "$out" = "$(cat $SAMPLES/user.expected)" ] && ok "ktap: the guest's KTAP, test output ignored" ||
	nok "ktap: the guest's KTAP" "got: $(echo "$out" | tr '\n\t' '|,')"
out=$($S/ktap.py --kernel $SAMPLES/kunit.log)
[ "$out" = "$(cat $SAMPLES/kunit.expected)" ] && ok "ktap: nested KUnit KTAP behind printk timestamps" ||
	nok "ktap: nested KUnit KTAP" "got: $(echo "$out" | tr '\n\t' '|,')"
expect 2 "ktap: a log without KTAP says so by its status" "" -- $S/ktap.py --kernel $SAMPLES/clean.log
printf 'KTAP version 1\n1..3\nok 1 a\nnot ok 2 b # kernel tainted\nBail out! b tainted the kernel\n' >$TMP/bail.log
expect 0 "ktap: a Bail out! is reported" "<bail-out>	fail" -- $S/ktap.py --user $TMP/bail.log

# --- result matrix
M=$TMP/matrix
mkdir -p $M/r
printf 'ref\tnone\t2\tintel\t-\nlane\tpti\t2\tintel\tref\tpti=on\nskipped\tkaiser\t2\tintel\tref\tkaiser=on\n' >$M/lanes.tsv
printf 'flaky\ttcg-fail\tTCG does it wrong\n' >$M/tcg.tsv
printf 'a\tpass\t\nb\tpass\t\nflaky\tfail\texit status 1\nself\tskip\tSKIP\n' >$M/r/ref.tsv
printf 'a\tpass\t\nb\tfail\texit status 1\nflaky\tfail\texit status 1\nself\tskip\tSKIP\n' >$M/r/lane.tsv
echo "CONFIG_KAISER not in this series yet" >$M/r/skipped.skip
expect 1 "matrix: a test failing where 'none' passes is a regression" "FAIL: lane: b: exit status 1; passes on ref: a regression" -- $S/matrix.py $M/lanes.tsv $M/tcg.tsv $M/r
expect 1 "matrix: counts pass/fail/skip per (lane, test), a skipped lane once" "^matrix: 3 passed, 1 failed, 5 skipped$" -- $S/matrix.py $M/lanes.tsv $M/tcg.tsv $M/r
printf 'a\tpass\t\nb\tpass\t\nflaky\tpass\t\nself\tskip\tSKIP\n' >$M/r/ref.tsv
expect 1 "matrix: a known TCG failure that passes on 'none' is not excused" "FAIL: lane: flaky" -- $S/matrix.py $M/lanes.tsv $M/tcg.tsv $M/r
rm $M/r/lane.tsv
expect 1 "matrix: a lane that did not finish fails" "FAIL: lane: no results" -- $S/matrix.py $M/lanes.tsv $M/tcg.tsv $M/r
printf 'a\tpass\t\nb\tpass\t\nflaky\tfail\t\nself\tskip\tSKIP\n' >$M/r/ref.tsv
cp $M/r/ref.tsv $M/r/lane.tsv
expect 0 "matrix: all passing but known TCG failures is a pass" "^matrix: 4 passed, 0 failed, 5 skipped$" -- $S/matrix.py $M/lanes.tsv $M/tcg.tsv $M/r

# --- option handling
expect 1 "build-kernel: an unknown FLAVOUR is refused by name" "unknown FLAVOUR 'bogus'" -- $S/build-kernel.sh bogus
expect 1 "boot: an unknown option is refused" "unknown option '--bogus'" -- $S/boot.sh --bogus none
expect 1 "boot: a bad --smp is refused" "--smp must be 1 to 4" -- $S/boot.sh --smp 9 none
expect 1 "boot: an unknown suite is refused" "unknown suite 'nope'" -- $S/boot.sh --suite nope none
expect 1 "boot: an absent QEMU is named" "qemu-absent not found" -- env QEMU=qemu-absent $S/boot.sh none

# --- the QEMU runner's verdicts, against a fake QEMU that writes the serial
# log it is told to and exits as the real one would
mkdir -p $TMP/b/obj-none/arch/x86/boot
: >$TMP/b/obj-none/arch/x86/boot/bzImage
: >$TMP/b/initramfs.cpio.gz
cat >$TMP/fake-qemu <<'FAKE'
#!/bin/bash
for a in "$@"; do case "$a" in file:*) log=${a#file:} ;; esac; done
case "$FAKE_MODE" in
ok) cp "$FAKE_LOG" "$log"; exit 1 ;;
failed) cp "$FAKE_LOG" "$log"; exit 3 ;;
panic) cp "$FAKE_LOG" "$log"; exit 0 ;;
hang) cp "$FAKE_LOG" "$log"; sleep 60 ;;
esac
FAKE
chmod +x $TMP/fake-qemu
run_fake() { env BUILD=$TMP/b QEMU=$TMP/fake-qemu FAKE_MODE=$1 FAKE_LOG=$2 $S/boot.sh --name fake ${3:+--timeout $3} none; }
expect 0 "boot: guest reports success, clean log: ok" "fake: ok" -- run_fake ok $SAMPLES/clean.log
expect 3 "boot: guest reports failing tests, clean log: status 3" "some tests failed" -- run_fake failed $SAMPLES/clean.log
expect 1 "boot: guest reports success but the log has a WARNING: fails" "FAILED.*WARNING" -- run_fake ok $SAMPLES/warning.log
expect 1 "boot: a panicking guest fails, naming the panic" "FAILED.*Kernel panic" -- run_fake panic $SAMPLES/panic.log
expect 1 "boot: a hanging guest is stopped by the time limit" "FAILED.*no end-of-run marker" -- run_fake hang $SAMPLES/no-marker.log 2
[ -f $TMP/b/logs/fake.log ] && [ ! -e $TMP/b/logs/fake.log.part ] && ok "boot: the serial log is renamed into place, no .part left" ||
	nok "boot: the serial log is renamed into place"

# --- the patch applier, on a tiny fake tree
if command -v quilt >/dev/null; then
	P=$TMP/p
	mkdir -p $P/src/linux-source-6.1 $P/patches
	seq 1 40 >$P/src/linux-source-6.1/file
	seq 1 10 >$P/src/linux-source-6.1/asm-offsets.c
	echo "test source" >$P/src/.unpacked
	printf -- '--- a/file\n+++ b/file\n@@ -10,3 +10,3 @@\n 10\n-11\n+eleven\n 12\n' >$P/patches/0001-good.patch
	printf -- '--- a/file\n+++ b/file\n@@ -20,3 +20,3 @@\n 19\n-20\n+twenty\n 21\n' >$P/patches/0002-offset.patch
	printf -- '--- a/file\n+++ b/file\n@@ -30,3 +30,3 @@\n 30\n-nothere\n+x\n 32\n' >$P/patches/0003-bad.patch
	printf -- '--- a/asm-offsets.c\n+++ b/asm-offsets.c\n@@ -4,3 +4,3 @@\n 4\n-5\n+five\n 6\n' >$P/patches/0004-clean.patch
	pt() { env BUILD=$P SRC=$P/src/linux-source-6.1 TREE=$P/tree PATCHES=$P/patches $S/patch-tree.sh; }
	echo 0001-good.patch >$P/patches/series
	expect 0 "patch-tree: a clean series applies" "applied 1 patches" -- pt
	grep -qx eleven $P/tree/file && ok "patch-tree: the patched tree holds the change" || nok "patch-tree: the patched tree holds the change"
	grep -qx 11 $P/src/linux-source-6.1/file && ! grep -qx eleven $P/src/linux-source-6.1/file && ok "patch-tree: the pristine tree is untouched" || nok "patch-tree: the pristine tree is untouched"
	printf '0001-good.patch\n0002-offset.patch\n' >$P/patches/series
	expect 1 "patch-tree: an offset stops the build, naming the patch" "patch 2, patches/0002-offset.patch, applies only with an offset" -- pt
	printf '0001-good.patch\n0004-clean.patch\n' >$P/patches/series
	expect 0 "patch-tree: a file named like 'offset' is no offset" "applied 2 patches" -- pt
	printf '0001-good.patch\n0003-bad.patch\n' >$P/patches/series
	expect 1 "patch-tree: a patch that does not apply stops the build, naming it" "patch 2, patches/0003-bad.patch, does not apply" -- pt
	printf '0001-good.patch\n' >$P/patches/series
	expect 0 "patch-tree: back to a good series" "" -- pt
	(cd $P/tree && QUILTRC=$TOP/scripts/quiltrc quilt add file >/dev/null 2>&1; echo unrefreshed >>file)
	echo "# touch" >>$P/patches/series
	expect 1 "patch-tree: refuses to discard unrefreshed quilt edits" "not refreshed" -- pt
	grep -qx unrefreshed $P/tree/file && ok "patch-tree: the unrefreshed edit is still there" || nok "patch-tree: the unrefreshed edit is still there"
	printf 'missing.patch\n' >$P/patches/series
	expect 1 "patch-tree: a series naming a missing patch is refused" "missing.patch, which does not exist" -- pt
else
	nok "patch-tree tests" "quilt is not installed (scripts/install-deps.sh)"
fi

# --- the guest side
# Sleep durations unique to this run, so that a concurrent run's sleeps
# are not mistaken for ours.
m1=$((100000 + $$ * 3)) m2=$((100001 + $$ * 3)) m3=$((100002 + $$ * 3))
if gcc -O2 -Wall -Werror -static -o $TMP/runtest $TOP/guest/runtest.c 2>$TMP/cc.log; then
	t0=$(date +%s)
	expect 124 "runtest: a test over its time limit is stopped with status 124" "killing its process group" -- $TMP/runtest 1 /bin/sh -c "sleep $m1 & exec sleep $m2"
	sleep 0.2
	pgrep -f "sleep ($m1|$m2)\$" >/dev/null && nok "runtest: the test's children die with it" "$(pgrep -af "sleep ($m1|$m2)\$")" || ok "runtest: the test's children die with it"
	expect 3 "runtest: passes the test's exit status through" "" -- $TMP/runtest 5 /bin/sh -c 'exit 3'
	expect 139 "runtest: a test killed by SIGSEGV gives 128+11" "" -- $TMP/runtest 5 /bin/sh -c 'kill -SEGV $$'
	expect 0 "runtest: a finished test's background children are killed" "" -- $TMP/runtest 5 /bin/sh -c "sleep $m3 & exit 0"
	sleep 0.2
	pgrep -f "sleep $m3\$" >/dev/null && nok "runtest: no stray child after a test" || ok "runtest: no stray child after a test"
else
	nok "runtest: builds" "$(head -3 $TMP/cc.log)"
fi
gcc -O2 -Wall -Werror -static -o $TMP/qemu-exit $TOP/guest/qemu-exit.c 2>$TMP/cc.log && ok "qemu-exit: builds" || nok "qemu-exit: builds" "$(head -3 $TMP/cc.log)"
if command -v busybox >/dev/null; then
	expect 0 "guest/init: busybox sh parses it" "" -- busybox sh -n $TOP/guest/init
fi

echo "harness-selftests: $pass passed, $fail failed"
[ $fail = 0 ]

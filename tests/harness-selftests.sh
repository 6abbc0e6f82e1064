#!/bin/bash
# Harness self-tests: the log checker, the KTAP parser, the result matrix,
# the option handling of the scripts, the patch applier, the QEMU runner's
# verdicts (against a fake QEMU) and the guest's test runner.  Fast, no
# kernel build, no real QEMU.  Reports in KTAP, as every check of make
# check does; the last lines are the plan and a comment with the counts.
#
# usage: tests/harness-selftests.sh
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
S=$TOP/scripts
SAMPLES=$TOP/tests/samples
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# Every script run here works in a scratch build/, never in the real one
# (which another harness run may hold).
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

# --- log checker
expect 0 "check-log: a clean log (test output may say BUG:/WARNING:) passes" "" -- $S/check-log.sh $SAMPLES/clean.log
expect 1 "check-log: a kernel WARNING fails" "kernel trouble: .*WARNING: CPU: 0" -- $S/check-log.sh $SAMPLES/warning.log
expect 0 "check-log: bugs.c's advice on a vulnerable CPU ('WARNING: See .../hw-vuln/') passes" "" -- $S/check-log.sh $SAMPLES/advice.log
expect 1 "check-log: a WARN() after such advice still fails" "kernel trouble: .*WARNING: CPU: 0" -- $S/check-log.sh $SAMPLES/advice-warning.log
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

# --- KTAP counting (make check's one parser)
cat >$TMP/nested.ktap <<'KTAP'
KTAP version 1
1..4
    KTAP version 1
    1..3
    ok 1 a
    not ok 2 b # why
    ok 3 c # SKIP x
ok 1 stage-one
    KTAP version 1
    1..1
not ok 2 stage-that-died # exit status 1
ok 3 a-leaf
    KTAP version 1
    1..2
        1..1
        ok 1 x
    ok 1 y
not ok 4 stage-with-a-result-missing
KTAP
expect 1 "ktap --count: leaves once, a stage that died without results and every result a plan misses fail" \
	"^3 passed, 3 failed, 1 skipped$" -- $S/ktap.py --count $TMP/nested.ktap
expect 1 "ktap --failed: each failure by its path, with its comment" \
	"^stage-one/b  # why$" -- $S/ktap.py --failed $TMP/nested.ktap
expect 1 "ktap --failed: a result a plan misses is named under its stage" \
	"^stage-with-a-result-missing/1 of 2 planned results never came$" -- $S/ktap.py --failed $TMP/nested.ktap
printf 'KTAP version 1\n1..2\nok 1 a\nok 2 b # SKIP why\n' >$TMP/good.ktap
expect 0 "ktap --count: passes and skips only: status 0" "^1 passed, 0 failed, 1 skipped$" -- $S/ktap.py --count $TMP/good.ktap
expect 0 "ktap --failed: nothing failed, nothing named" "^$" -- $S/ktap.py --failed $TMP/good.ktap

# --- the tables under tests/, read in one place
T=$TMP/tables
mkdir -p $T
printf 'ref\tnone\t2\tintel\t-\nlane\tpti\t2\tintel\tref\tpti=on no5lvl\namd\tnone\t2\tamd\t-\n' >$T/lanes.tsv
printf 'flaky\ttcg-fail\tTCG does it wrong\nnosmap\tcpu:-smap\t\tSMAP trouble\nonamd\tcpu:vendor=AuthenticAMD\twhy\nhangs\tretry=3\twhy\n' >$T/selftests-under-tcg.tsv
printf -- '-\tintel amd\nkaiser=on nokaiser\tintel\npti\tamd\nmitigations=off kaiser=auto\tintel\n' >$T/boot-options.tsv
tb() { env KAISER_TABLES=$T $S/tables.py "$@"; }
expect 0 "tables: a lane's kernel parameters keep their spaces" "^lane	pti	2	max,vendor=GenuineIntel	ref	pti=on no5lvl$" -- tb lanes lane
expect 1 "tables: an unknown lane is named" "no lane bogus" -- tb lanes bogus
expect 0 "tables: a CPU change is applied to the lane's model" "^ref-GenuineIntel_-smap	max,vendor=GenuineIntel,-smap	1	.*harness.only=nosmap$" -- tb boots ref
expect 0 "tables: a change to the lane's own model runs in the main boot" "^amd	max,vendor=AuthenticAMD	1	[0-9]+	[0-9]+	harness.exclude=hangs,nosmap$" -- tb boots amd
expect 0 "tables: a retried test gets boots of its own" "^ref-hangs	max,vendor=GenuineIntel	3	.*harness.only=hangs harness.timeout=" -- tb boots ref
expect 0 "tables: an empty boot option is '-', one boot per CPU" "^-	amd	max,vendor=AuthenticAMD	KAISER: disabled: CPU not affected by Meltdown	none	Not affected	-$" -- tb boot-options
expect 0 "tables: of kaiser= and nokaiser, the last counts" "^kaiser=on nokaiser	intel	max,vendor=GenuineIntel	KAISER: disabled by 'nokaiser' on the command line	none	Vulnerable	-$" -- tb boot-options
expect 0 "tables: a switch without a value warns and means auto" "^pti	amd	.*	KAISER: disabled: CPU not affected by Meltdown	none	Not affected	KAISER: 'pti' needs a value \(on, off or auto\); using auto$" -- tb boot-options
expect 0 "tables: mitigations=off turns auto off" "^mitigations=off kaiser=auto	intel	.*	KAISER: disabled: mitigations=off	none	Vulnerable	-$" -- tb boot-options
printf 'x\tcpu=max\twhy\n' >$T/selftests-under-tcg.tsv
expect 1 "tables: an unknown action is refused with its line" "selftests-under-tcg.tsv:1: unknown action 'cpu=max'" -- tb boots ref
printf 'x\tnone\t2\tarm\t-\n' >$T/lanes.tsv
expect 1 "tables: an unknown CPU vendor is refused with its line" "lanes.tsv:1: unknown cpu 'arm'" -- tb lanes
printf 'boot\tkaiser\t2\tcorei7_skylake_x\tselftests\tpcid,invpcid\tkaiser\tkaiser=on nosmep\nrep\tpti\t1\tcorei7_haswell_4770\treport\t-\t-\tpti=off\n' >$T/pcid-lane.tsv
printf 'b\twhy\na\twhy\n' >$T/selftests-under-bochs.tsv
expect 0 "tables: a PCID-lane selftests boot leaves out the tests Bochs cannot run" "^boot	kaiser	2	corei7_skylake_x	selftests	pcid,invpcid	kaiser	kaiser=on nosmep harness.exclude=a,b$" -- tb pcid-lane
expect 0 "tables: a PCID-lane report boot runs no selftests" "^rep	pti	1	corei7_haswell_4770	report	-	-	pti=off$" -- tb pcid-lane
printf 'x\tkaiser\t1\tpentium\treport\t-\t-\n' >$T/pcid-lane.tsv
expect 1 "tables: a Bochs model without PCID is refused with its line" "pcid-lane.tsv:1: unknown Bochs model 'pentium'" -- tb pcid-lane

# --- result matrix
M=$TMP/matrix
mkdir -p $M/r/ref $M/r/lane
printf 'ref\tnone\t2\tintel\t-\nlane\tpti\t2\tintel\tref\tpti=on\n' >$M/lanes.tsv
printf 'flaky\ttcg-fail\tTCG does it wrong\n' >$M/selftests-under-tcg.tsv
mx() { env KAISER_TABLES=$M $S/matrix.py $M/r $M/matrix.md >$M/out; rc=$?; cat $M/out; $S/ktap.py --count $M/out; return $rc; }
printf 'a\tpass\t\nb\tpass\t\nflaky\tfail\texit status 1\nself\tskip\tSKIP\n' >$M/r/ref/results.tsv
printf 'a\tpass\t\nb\tfail\texit status 1\nflaky\tfail\texit status 1\nself\tskip\tSKIP\n' >$M/r/lane/results.tsv
expect 1 "matrix: a test failing where 'none' passes is a regression" "^not ok [0-9]+ lane: b # exit status 1; passes on ref: a regression" -- mx
expect 1 "matrix: one result per (lane, test)" "^3 passed, 1 failed, 4 skipped$" -- mx
grep -q '^| 2 | lane | pti | 2 | intel | pti=on | 1 passed, 1 failed, 2 skipped |$' $M/matrix.md &&
	ok "matrix: the markdown table has the lane's counts" || nok "matrix: the markdown table has the lane's counts" "$(head -4 $M/matrix.md)"
printf 'a\tpass\t\nb\tpass\t\nflaky\tpass\t\nself\tskip\tSKIP\n' >$M/r/ref/results.tsv
expect 1 "matrix: a known TCG failure that passes on 'none' is not excused" "^not ok [0-9]+ lane: flaky" -- mx
rm $M/r/lane/results.tsv
expect 1 "matrix: a lane that did not finish fails" "^not ok [0-9]+ lane: a # did not run" -- mx
printf 'a\tpass\t\nb\tpass\t\nflaky\tfail\t\nself\tskip\tSKIP\n' >$M/r/ref/results.tsv
cp $M/r/ref/results.tsv $M/r/lane/results.tsv
expect 0 "matrix: all passing but known TCG failures is a pass" "^4 passed, 0 failed, 4 skipped$" -- mx

# --- one harness run at a time per build/
L=$TMP/lock
mkdir -p $L
echo "pid 4242, make check, since 12:00:00" >$L/.lock.owner
(exec 9>>$L/.lock; flock 9; sleep 30) &
holder=$!
sleep 0.3
expect 1 "lock: a second run is refused in one line naming the holder" "in use by another harness run \(pid 4242, make check" -- \
	env -u KAISER_HARNESS_LOCK BUILD=$L $S/build-kernel.sh none
[ ! -e $L/obj-none ] && ok "lock: the refused run touched nothing" || nok "lock: the refused run touched nothing"
kill $holder 2>/dev/null; wait $holder 2>/dev/null

# --- kernel builds: fragments per flavour, objtool warnings across builds
lib() { (. $S/lib.sh && "$@"); }
expect 0 "flavours: kaiser-hardened is kaiser's fragments plus hardened.config" \
	"guest.config [^ ]*/kaiser.config [^ ]*/hardened.config$" -- lib flavour_fragments kaiser-hardened
expect 0 "flavours: a plain flavour is the guest's fragment and its own" \
	"guest.config [^ ]*/pti.config$" -- lib flavour_fragments pti
W=$TMP/objtool
mkdir -p $W
printf '%s\n' 'a.o: warning: objtool: old_a(): missing int3 after ret' \
	'vmlinux.o: warning: objtool: old_v(): call to foo() leaves .noinstr.text section' >$W/old
printf '%s\n' '  CC      b.o' 'b.o: warning: objtool: new_b(): RET before UNTRAIN' >$W/log1
expect 0 "objtool: a warning stands while its object is not remade" \
	"^a.o: warning: objtool: old_a" -- lib objtool_warnings $W/old $W/log1
expect 0 "objtool: a new warning is added" "^b.o: warning: objtool: new_b" -- lib objtool_warnings $W/old $W/log1
: >$W/none
expect 0 "objtool: the first build's warnings are all there is (no earlier list)" \
	"" -- bash -c "[ \"\$(. $S/lib.sh && objtool_warnings $W/none $W/log1)\" = 'b.o: warning: objtool: new_b(): RET before UNTRAIN' ]"
printf '%s\n' '# the base tree says so' 'vmlinux.o: warning: objtool: old_v(): call to foo() leaves .noinstr.text section' >$W/base
expect 0 "objtool: the base tree's own warnings do not count, the others do" "" -- bash -c \
	"[ \"\$(. $S/lib.sh && OBJTOOL_BASE_TREE=$W/base objtool_not_base_tree $W/old)\" = 'a.o: warning: objtool: old_a(): missing int3 after ret' ]"
printf '%s\n' '  CC      a.o' '  LD      vmlinux.o' >$W/log2
expect 0 "objtool: remaking the objects (vmlinux.o by LD) clears their warnings" \
	"" -- bash -c "[ -z \"\$(. $S/lib.sh && objtool_warnings $W/old $W/log2)\" ]"

# --- option handling
expect 1 "build-kernel: an unknown FLAVOUR is refused by name" "unknown FLAVOUR 'bogus'" -- $S/build-kernel.sh bogus
expect 1 "boot: an unknown option is refused" "unknown option '--bogus'" -- $S/boot.sh --bogus none
expect 1 "boot: a bad --smp is refused" "--smp must be 1 to 4" -- $S/boot.sh --smp 9 none
expect 1 "boot: an unknown suite is refused" "unknown suite 'nope'" -- $S/boot.sh --suite nope none
expect 1 "boot: an absent QEMU is named" "qemu-absent not found" -- env QEMU=qemu-absent $S/boot.sh none
expect 1 "run-torture: an unknown option is refused" "usage: .*--short" -- $S/run-torture.sh --bogus
expect 1 "run-torture: a TORTURE_SECONDS that is not a number is refused" "TORTURE_SECONDS must be a positive number, not 'soon'" -- env TORTURE_SECONDS=soon $S/run-torture.sh
expect 1 "run-torture: --flavour without --short is refused" "--flavour goes with --short" -- $S/run-torture.sh --flavour kaiser-debug
expect 1 "run-torture: no torture initramfs is named" "initramfs-torture.cpio.gz \\(scripts/build-initramfs.sh --torture\\)" -- $S/run-torture.sh --short
expect 1 "check-leaks: a count that is not a number is refused" "process counts are numbers, not 'many'" -- $S/check-leaks.sh 10 many 10
expect 1 "check-boot-options: an unknown option is refused" "usage: .*--write-readme" -- $S/check-boot-options.sh --bogus
expect 1 "lint: an unknown option is refused" "usage: .*--patches-only" -- $S/lint.sh --bogus
expect 1 "build-initramfs: an unknown option is refused" "usage: .*--torture" -- $S/build-initramfs.sh --bogus
expect 2 "qmp: --every with --for but no command is refused before connecting" "usage: qmp.py" -- $S/qmp.py /nonexistent.qmp --every 1 --for 2

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
hang) cp "$FAKE_LOG" "$log"; exec sleep 60 ;;
slow) for i in 1 2 3 4 5 6; do echo "# harness: running test$i" >>"$log"; sleep 0.5; done
      cat "$FAKE_LOG" >>"$log"; exit 1 ;;
quiet) for i in 1 2 3 4 5 6; do echo "no test names here" >>"$log"; sleep 0.5; done
      cat "$FAKE_LOG" >>"$log"; exit 1 ;;
busy) while :; do echo "# harness: running forever" >>"$log"; sleep 0.5; done ;;
esac
FAKE
chmod +x $TMP/fake-qemu
expect 1 "boot: a missing --initramfs is named" "no initramfs at /nonexistent.cpio.gz" -- env BUILD=$TMP/b QEMU=$TMP/fake-qemu $S/boot.sh --initramfs /nonexistent.cpio.gz none
run_fake() { env BUILD=$TMP/b BOOT_PROGRESS=${BOOT_PROGRESS:-30} QEMU=$TMP/fake-qemu FAKE_MODE=$1 FAKE_LOG=$2 $S/boot.sh --name fake ${3:+--silence $3} ${4:+--timeout $4} none; }
expect 0 "boot: guest reports success, clean log: ok" "fake: ok" -- run_fake ok $SAMPLES/clean.log
out=$(run_fake ok $SAMPLES/clean.log 2>&1)
[ "$(wc -l <<<"$out")" = 1 ] && ok "boot: a guest that passes gets one line, its verdict" ||
	nok "boot: a guest that passes gets one line, its verdict" "$(tr '\n' ' ' <<<"$out")"
expect 3 "boot: guest reports failing tests, clean log: status 3" "some tests failed" -- run_fake failed $SAMPLES/clean.log
expect 1 "boot: guest reports success but the log has a WARNING: fails" "FAILED.*WARNING" -- run_fake ok $SAMPLES/warning.log
expect 1 "boot: a panicking guest fails, naming the panic" "FAILED.*Kernel panic" -- run_fake panic $SAMPLES/panic.log
expect 1 "boot: a guest that resets says so, and shows its last line" "FAILED in [0-9]+ s: the guest stopped without reporting a result \(panic or reset\); no end-of-run marker \(last line: " -- run_fake panic $SAMPLES/no-marker.log
expect 1 "boot: a silent guest is stopped as hung" "FAILED in [0-9]+ s: hung: no output for 2 s; log:" -- run_fake hang $SAMPLES/no-marker.log 2
expect 0 "boot: a guest that keeps printing past the silence limit is slow, not hung" "fake: ok" -- run_fake slow $SAMPLES/clean.log 2
# The stress suite names no test: its progress notes must not end the
# runner (a grep without a match under pipefail once did, silently,
# leaving QEMU running without its watcher).
BOOT_PROGRESS=1 expect 0 "boot: progress notes for a guest that names no test, then its verdict" "==> fake: [0-9]+ s$" -- run_fake quiet $SAMPLES/clean.log
expect 1 "boot: a guest still printing at the hard limit is stopped, saying so" "FAILED in [0-9]+ s: still running at its 3 s limit" -- run_fake busy $SAMPLES/no-marker.log 2 3
[ -f $TMP/b/logs/fake.log ] && [ ! -e $TMP/b/logs/fake.log.part ] && ok "boot: the serial log is renamed into place, no .part left" ||
	nok "boot: the serial log is renamed into place"

# --- the Bochs runner's verdicts, against a fake Bochs that writes the
# serial log named in its bochsrc.  Bochs's exit status says nothing of
# the guest's: only the end-of-run marker does.
cat >$TMP/fake-bochs <<'FAKE'
#!/bin/bash
while [ $# -gt 0 ]; do [ "$1" = -f ] && rc=$2; shift; done
log=$(sed -n 's/^com1: .*dev=//p' "$rc")
case "$FAKE_MODE" in
ok) cp "$FAKE_LOG" "$log"; exit 0 ;;
failed) sed 's/result=ok$/result=failed/' "$FAKE_LOG" >"$log"; exit 0 ;;
reboot) cp "$FAKE_LOG" "$log"; exec sleep 60 ;;
sound) echo "*** buffer overflow detected ***: terminated" >&2; exit 134 ;;
esac
FAKE
printf '#!/bin/sh\nwhile [ $# -gt 1 ]; do [ "$1" = -o ] && : >"$2"; shift; done\n' >$TMP/xorriso
chmod +x $TMP/fake-bochs $TMP/xorriso
: >$TMP/isolinux.bin
run_bochs() { env BUILD=$TMP/b PATH=$TMP:$PATH BOCHS=$TMP/fake-bochs ISOLINUX=$TMP/isolinux.bin LDLINUX=$TMP/isolinux.bin FAKE_MODE=$1 FAKE_LOG=$2 $S/boot-bochs.sh --name fakebx ${3:+--silence $3} none; }
expect 0 "boot-bochs: the guest's marker says ok, clean log: ok" "fakebx: ok" -- run_bochs ok $SAMPLES/kunit.log
expect 3 "boot-bochs: the guest's marker says failed: status 3" "some tests failed" -- run_bochs failed $SAMPLES/kunit.log
expect 1 "boot-bochs: a guest that panics and reboots is stopped at the panic" "FAILED in [0-9]+ s: stopped after the guest printed .*Kernel panic" -- run_bochs reboot $SAMPLES/panic.log 30
expect 1 "boot-bochs: Bochs dying before the guest prints says why" "FAILED.*Bochs: \*\*\* buffer overflow detected" -- run_bochs sound $SAMPLES/kunit.log
expect 1 "boot-bochs: a model without PCID is refused" "--model must be corei7_haswell_4770, corei7_skylake_x or corei7_ivy_bridge_3770k" -- $S/boot-bochs.sh --model pentium none
expect 1 "boot-bochs: an absent Bochs is named" "bochs-absent not found" -- env BOCHS=bochs-absent $S/boot-bochs.sh none

# --- the outside isolation check holds its frame count against the boot
# audit's: the audit's frames plus the spinning process's LDT, exactly
printf '[    2.9] KAISER: 37 kernel pages visible to user space, 0 violations (65574 pages of kernel address space)\n' >$TMP/audit.log
audit() { python3 -c "import sys; sys.path.insert(0, '$S'); import importlib.util as u
s = u.spec_from_file_location('ci', '$S/check-isolation.py'); m = u.module_from_spec(s); s.loader.exec_module(m)
p = m.compare_audit(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])); print(p); sys.exit(1 if p else 0)" "$@"; }
expect 0 "check-isolation: the audit's frames plus the LDT's agree" "" -- audit $TMP/audit.log 38 1
expect 1 "check-isolation: one frame more than the audit saw is a problem" "39 frames visible here, but the audit's 37 plus 1 of LDT make 38" -- audit $TMP/audit.log 39 1
expect 1 "check-isolation: a log without the audit line is a problem" "no KAISER audit line" -- audit $SAMPLES/clean.log 38 1
# --- what KASLR rewrites in the code the user tables map: a fake relocs tool
# and a fake vmlinux whose entry text holds, at +0x100, a displacement into
# __per_cpu_offset[] and, at +0x200, some other address in the image
R=$TMP/relocs-obj
mkdir -p $R/arch/x86/tools
printf 'CONFIG_NR_CPUS=8\n' >$R/.config
printf '.text\n.fill 0x100,1,0xcc\n.long 0x81800008\n.fill 0xfc,1,0xcc\n.long 0x81234567\n' |
	as -o $R/vmlinux.o - && ld -e 0 -Ttext=0xffffffff81000000 -o $R/vmlinux $R/vmlinux.o
printf 'ffffffff81000000 T __entry_text_start\nffffffff81000000 T kaiser_entry_SYSCALL_64\nffffffff81000080 T __kaiser_syscall_trampoline_end\nffffffff81003000 T __entry_text_end\nffffffff81800000 D __per_cpu_offset\n' >$R/System.map
printf '#!/bin/sh\nprintf "\\t.long 0x00000000\\n\\t.long 0x81000100\\n\\t.long 0x81200000\\n"\n' >$R/arch/x86/tools/relocs
chmod +x $R/arch/x86/tools/relocs
expect 0 "check-shadow-relocs: none in the trampoline, one into __per_cpu_offset in the rest" \
	"ok: 0 in the SYSCALL trampoline's page .*, 1 in the rest of the entry text .*, 1 of them into __per_cpu_offset" -- $S/check-shadow-relocs.py $R
printf '#!/bin/sh\nprintf "\\t.long 0x00000000\\n\\t.long 0x81000100\\n\\t.long 0x81000200\\n"\n' >$R/arch/x86/tools/relocs
expect 1 "check-shadow-relocs: another address in the rest of the entry text fails, named" \
	"holds 0xffffffff81234567 .*FAIL: 0 in the SYSCALL trampoline's page .*, 2 in the rest .*, 1 of them into __per_cpu_offset" -- \
	bash -c "$S/check-shadow-relocs.py $R | tr '\\n' ' '; exit \${PIPESTATUS[0]}"
printf '#!/bin/sh\nprintf "\\t.long 0x00000000\\n\\t.long 0x81000040\\n"\n' >$R/arch/x86/tools/relocs
expect 1 "check-shadow-relocs: one in the trampoline fails, named" \
	"kaiser_entry_SYSCALL_64\+0x40.*FAIL: 1 in the SYSCALL trampoline" -- \
	bash -c "$S/check-shadow-relocs.py $R | tr '\n' ' '; exit \${PIPESTATUS[0]}"
expect 2 "check-shadow-relocs: no kernel built, said so" "no .*relocs" -- $S/check-shadow-relocs.py $TMP/nowhere

# --- two boots' user tables held against each other: what moved with the image
printf '# slide 0x1000000\n0xfffffe0000001000 0x1000 CPU entry area\n0xffffffff82000000 0x2000 entry text\n0xffffffffff600000 0x1000 vsyscall page\n' >$TMP/moves1.map
printf '# slide 0x3200000\n0xfffffe0000abc000 0x1000 CPU entry area\n0xffffffff84200000 0x2000 entry text\n0xffffffffff600000 0x1000 vsyscall page\n' >$TMP/moves2.map
expect 0 "kaslr-moves: the entry text moved with the image, allowed; the rest stayed or went elsewhere" \
	"ok: 2 pages moved with the image \(entry text: 2\), 1 stayed, 1 moved elsewhere" -- \
	$S/kaslr-moves.py --allow "entry text" $TMP/moves1.map $TMP/moves2.map
expect 1 "kaslr-moves: a page that moves with the image and is not allowed to fails" \
	"FAIL: 2 pages moved with the image.*not allowed to: entry text" -- $S/kaslr-moves.py $TMP/moves1.map $TMP/moves2.map
expect 2 "kaslr-moves: two boots with one slide tell nothing" "nothing to tell" -- \
	$S/kaslr-moves.py $TMP/moves1.map $TMP/moves1.map
slide() { python3 -c "import sys; sys.path.insert(0, '$S'); import importlib.util as u
s = u.spec_from_file_location('ci', '$S/check-isolation.py'); m = u.module_from_spec(s); s.loader.exec_module(m)
print(hex(m.kaslr_slide(sys.argv[1], {'_text': 0xffffffff81000000})))" "$@"; }
printf 'cpus: 2\nkernel text: ffffffff9b200000\nharness: spinning\n' >$TMP/kaslr.log
expect 0 "check-isolation: the report's kernel text line gives KASLR's slide" "^0x1a200000$" -- slide $TMP/kaslr.log
expect 0 "check-isolation: no kernel text line, no slide" "^0x0$" -- slide $SAMPLES/clean.log

# --- the mutation runner: what it refuses before building anything
expect 1 "check-mutations: an unknown mutation is named" "no mutation tests/mutations/nope.patch" -- env BUILD=$TMP/b $S/check-mutations.sh nope
for m in $TOP/tests/mutations/*.patch; do
	n=$(basename $m .patch)
	grep -qE '^# check: (report|report-pcid|nmi-boot|leaks|build|shadow-relocs|selftest [a-z0-9_]+|selftest-pcid [a-z0-9_]+)$' $m &&
		grep -q '^# expect: .' $m && grep -q '^+++ b/' $m &&
		ok "mutation $n: names its check, the failure it expects, and a change" ||
		nok "mutation $n: names its check, the failure it expects, and a change"
done

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
	# A git pull: a patch changes under a tree nobody edited
	sed -i 's/^+eleven$/+ELEVEN/' $P/patches/0001-good.patch
	expect 0 "patch-tree: a patch changed under a tree nobody edited is applied anew" "" -- pt
	grep -qx ELEVEN $P/tree/file && ok "patch-tree: ... and the tree has the new patch" ||
		nok "patch-tree: ... and the tree has the new patch" "$(sed -n 11p $P/tree/file)"
	(cd $P/tree && QUILTRC=$TOP/scripts/quiltrc quilt add file >/dev/null 2>&1; echo unrefreshed >>file)
	echo "# touch" >>$P/patches/series
	expect 1 "patch-tree: refuses to discard unrefreshed quilt edits" "not refreshed" -- pt
	grep -qx unrefreshed $P/tree/file && ok "patch-tree: the unrefreshed edit is still there" || nok "patch-tree: the unrefreshed edit is still there"
	printf 'missing.patch\n' >$P/patches/series
	expect 1 "patch-tree: a series naming a missing patch is refused" "missing.patch, which does not exist" -- pt
else
	nok "patch-tree tests" "quilt is not installed (scripts/install-deps.sh)"
fi

# --- the bisect check's resuming, against a stub kernel build on a tiny
# fake series: the real check-bisect.sh, its TOP pointing at the stubs
if command -v quilt >/dev/null; then
	B=$TMP/bis
	mkdir -p $B/scripts $B/src/arch/x86 $B/patches
	cp $TOP/scripts/quiltrc $B/scripts/
	printf '#!/bin/bash\nexit 0\n' >$B/scripts/fetch-source.sh
	# The stub build fails where the tree has BREAK-<flavour>, and once,
	# at the build STOP names, interrupts the check as Ctrl-C would.
	cat >$B/scripts/build-kernel.sh <<-'STUB'
	#!/bin/bash
	n=$(($(cat "$STUB/count" 2>/dev/null || echo 0) + 1))
	echo $n >"$STUB/count"
	if [ -f "$STUB/STOP" ] && [ "$(cat "$STUB/STOP")" = $n ]; then
		rm "$STUB/STOP"
		kill -TERM $PPID
		exit 1
	fi
	[ ! -e "$TREE/BREAK-$1" ]
	STUB
	chmod +x $B/scripts/*.sh
	echo 'config FOO' >$B/src/arch/x86/Kconfig
	echo a >$B/src/file
	printf -- '--- a/file\n+++ b/file\n@@ -1 +1,2 @@\n a\n+b\n' >$B/patches/0001-a.patch
	printf -- '--- a/arch/x86/Kconfig\n+++ b/arch/x86/Kconfig\n@@ -1 +1,2 @@\n config FOO\n+config KAISER\n' >$B/patches/0002-k.patch
	printf -- '--- a/file\n+++ b/file\n@@ -1,2 +1,3 @@\n a\n b\n+c\n' >$B/patches/0003-c.patch
	printf '0001-a.patch\n0002-k.patch\n0003-c.patch\n' >$B/patches/series
	# A run of its own, as from a shell: make check's lock, inherited, would
	# leave it without its own Ctrl-C handling.
	bis() { env -u KAISER_HARNESS_LOCK STUB=$B TOP=$B BUILD=$B/build SRC=$B/src PATCHES=$B/patches LOGS=$B/logs $S/check-bisect.sh "$@"; }
	builds() { echo $(($(cat $B/count) - $1)); }
	echo 4 >$B/STOP		# the pti build after 0002, the fourth
	expect 130 "bisect-check: an interrupted run stops" "interrupted" -- bis
	expect 0 "bisect-check: the next run goes on where the record stops, and finishes" \
		"patches 1 to 1 of 3 are vouched for.*after 0002-k.patch: kaiser builds \(recorded .*after 0002-k.patch: pti builds \([0-9]+ s\).*after 0003-c.patch: none builds.*0 failed builds, 5 built in this run" -- \
		bash -c "$(declare -f bis); B=$B S=$S; bis 2>&1 | tr '\n' ' '"
	[ "$(builds 0)" = 9 ] && ok "bisect-check: resuming builds only what the record lacks" ||
		nok "bisect-check: resuming builds only what the record lacks" "$(builds 0) builds, expected 9"
	[ "$(grep -vc '^#' $B/tests/bisect-record.tsv)" = 8 ] && ok "bisect-check: the record holds the 8 builds of the series" ||
		nok "bisect-check: the record holds the 8 builds of the series" "$(cat $B/tests/bisect-record.tsv)"
	expect 0 "bisect-check: a checked series is not built again" "every build vouched for by the record, nothing to build" -- bis
	[ "$(builds 0)" = 9 ] && ok "bisect-check: ... and builds nothing" || nok "bisect-check: ... and builds nothing" "$(builds 9) builds"
	printf -- '--- /dev/null\n+++ b/BREAK-pti\n@@ -0,0 +1 @@\n+x\n' >>$B/patches/0003-c.patch
	expect 1 "bisect-check: a changed patch is built again from itself on, and a broken build is named" \
		"patches 1 to 2 of 3 are vouched for.*after 0003-c.patch: pti FAILS to build.*1 failed builds, 3 built.*first failure: patch 3, 0003-c.patch, breaks the pti build" -- \
		bash -c "$(declare -f bis); B=$B S=$S; bis 2>&1 | tr '\n' ' '; exit \${PIPESTATUS[0]}"
	[ "$(builds 9)" = 3 ] && ok "bisect-check: ... with the 3 builds of that patch only" ||
		nok "bisect-check: ... with the 3 builds of that patch only" "$(builds 9) builds"
	[ -e $B/build/bisect/tree/BREAK-pti ] && [ "$(wc -l <$B/build/bisect/pushed)" = 3 ] &&
		ok "bisect-check: the tree holds the changed patch" || nok "bisect-check: the tree holds the changed patch" "$(cat $B/build/bisect/pushed)"
	printf -- '--- a/file\n+++ b/file\n@@ -1,2 +1,2 @@\n a\n-nothere\n+x\n' >$B/patches/0003-c.patch
	expect 1 "bisect-check: a patch that does not apply stops it, naming the patch" \
		"patch 3 of 3, 0003-c.patch, does not apply" -- bis
	printf -- '--- a/file\n+++ b/file\n@@ -1,2 +1,3 @@\n a\n b\n+c\n' >$B/patches/0003-c.patch
	expect 0 "bisect-check: --restart builds every step again" "0 failed builds, 8 built in this run" -- bis --restart
else
	nok "bisect-check tests" "quilt is not installed (scripts/install-deps.sh)"
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
	expect 0 "runtest: a test that keeps printing past the silence limit is slow, not hung" "^3$" -- \
		$TMP/runtest 1 /bin/sh -c 'for i in 1 2 3; do sleep 0.6; echo $i; done'
	expect 125 "runtest: a test still printing at its ceiling is stopped with status 125" "still printing after 2 s" -- \
		$TMP/runtest -c 2 1 /bin/sh -c 'while :; do echo .; sleep 0.3; done'
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

# --- make bench's report (scripts/bench-report.py) on made-up figures
# fake_bench DIR KAISER_GETPPID KAISER_OFF_FORK KAISER_VISIBLE: the files
# scripts/bench.sh collects, none's figures fixed, two builds each.
fake_bench() {
	local d=$1 m l
	mkdir -p "$d/qemu" "$d/amd"
	for m in none pti kaiser kaiser-off; do
		for l in 1 2; do
			{
				printf 'getppid\t%s\t0.1\n' "$(case $m in none) echo 240 ;; pti) echo 250 ;; kaiser) echo "$2" ;; *) echo 241 ;; esac)"
				printf 'fork_exit\t%s\t0.5\n' "$(case $m in kaiser-off) echo "$3" ;; *) echo 200000 ;; esac)"
				printf 'read64\t%s\t0\n' "$((510 + l))"
				printf 'mem:pagetables\t20\n'
				case $m in none) ;; pti) printf 'visible\t530\n' ;; kaiser) printf 'visible\t%s\n' "$4" ;; *) printf 'visible\t136000\n' ;; esac
			} >"$d/qemu/$m.$l.tsv"
		done
		printf 'syscall32_getppid\t260\t0\n' >"$d/amd/$m.1.tsv"
	done
	printf 'obj-none\t100\nobj-pti\t101\nobj-kaiser\t102\n' >"$d/text-size.tsv"
}
report() { $S/bench-report.py --out "$1" --base test --ms 5 --runs 3 --gap 4144 --bochs-model m --bochs-spread 5 --check; }
if command -v gnuplot >/dev/null; then
	fake_bench $TMP/b-good 249 204000 21
	expect 1 "bench-report: --check fails on the operations a real run must have" "^not ok 3 bench: a figure for every operation in every mode; missing: pipe_pingpong" -- report $TMP/b-good
	head -1 $TMP/b-good/results.csv | grep -qx 'operation,flavour,ns_per_op,ratio_to_none' &&
		grep -qx 'getppid,kaiser,249.0,1.0375' $TMP/b-good/results.csv &&
		ok "bench-report: results.csv has the header and the ratios" ||
		nok "bench-report: results.csv has the header and the ratios" "$(head -3 $TMP/b-good/results.csv | tr '\n' ' ')"
	[ "$(head -c 4 $TMP/b-good/results.png | od -An -c | tr -d ' ')" = '211PNG' ] &&
		ok "bench-report: results.png is a PNG" || nok "bench-report: results.png is a PNG"
	fake_bench $TMP/b-slow 253 204000 21
	expect 1 "bench-report: kaiser's getppid past pti's plus the noise fails" \
		"^not ok 4 bench: getppid: kaiser \+3.0 over pti" -- report $TMP/b-slow
	fake_bench $TMP/b-off 249 210000 21
	expect 1 "bench-report: kaiser-off's fork_exit past its allowance fails" \
		"^not ok [0-9]+ bench: fork_exit: kaiser-off at 1.0500" -- report $TMP/b-off
	fake_bench $TMP/b-vis 249 204000 60
	expect 1 "bench-report: kaiser showing more than a tenth of pti's pages fails" \
		"^not ok [0-9]+ bench: kernel pages visible to user space: kaiser 60" -- report $TMP/b-vis
	fake_bench $TMP/b-missing 249 204000 21
	rm $TMP/b-missing/qemu/pti.2.tsv
	expect 1 "bench-report: figures missing from a build are left out and fail --check" \
		"missing: getppid, read64, .*page tables of pti, visible pages of pti$" -- report $TMP/b-missing
fi
gcc -O2 -Wall -Werror -static -o $TMP/kbench $TOP/bench/kbench.c 2>$TMP/cc.log &&
	gcc -m32 -O2 -Wall -Werror -static -o $TMP/kbench32 $TOP/bench/kbench.c 2>>$TMP/cc.log &&
	ok "kbench: builds 64- and 32-bit" || nok "kbench: builds 64- and 32-bit" "$(head -3 $TMP/cc.log)"
expect 2 "kbench: an unknown operation is an error" "no operation 'bogus'" -- $TMP/kbench -m 1 bogus
expect 2 "kbench: a figure of no time is a usage error" "usage" -- $TMP/kbench -m 0 getppid
expect 0 "kbench: prints its figure in the format bench.sh reads" \
	"^kbench: getppid [0-9.]+ ns/op [0-9.]+ tsc/op \([0-9]+ ops, 1 runs, spread [0-9.]+%\)$" -- $TMP/kbench -m 1 -r 1 getppid

echo "1..$((pass + fail))"
echo "# harness-selftests: $pass passed, $fail failed"
[ $fail = 0 ]

# KAISER for Linux/x86: build, boot and test the patch series in QEMU.
# Every target is a thin wrapper around one script in scripts/; `make help`
# lists them.

FLAVOUR ?= kaiser
ARGS ?=
SMP ?= 2
SUITE ?= report
LANES ?=

S := scripts
# Named in build/.lock.owner, so that a second run can say who holds build/.
export HARNESS_TARGET := make $(or $(MAKECMDGOALS),help)

.PHONY: help run check check-fresh check-mutations check-pcid check-debug bench torture series lint kernel initramfs boot deps source tree clean distclean test-harness bisect-check

help:
	@echo 'KAISER for Linux/x86: targets'
	@echo '  make run                  build the KAISER kernel and boot it in QEMU (shell on a'
	@echo '                            terminal, else the isolation report); ARGS="nokaiser" adds'
	@echo '                            kernel parameters'
	@echo '  make check                the whole test suite; ends with "N passed, N failed, N skipped"'
	@echo '                            (LANES="none-smp2 pti-on-smp2" runs only those lanes)'
	@echo '  make check-fresh          make run inside a new minimal Debian root (debootstrap, root'
	@echo '                            needed): proves the install path on a machine that never saw it'
	@echo '  make check-mutations      put each fixed bug back (tests/mutations/), rebuild, and check'
	@echo '                            that the test written for it fails (slow: a build per mutant)'
	@echo '  make check-debug          the kaiser kernel with KASAN, kmemleak, DEBUG_PAGEALLOC, lockdep:'
	@echo '                            x86 selftests, short torture, kmemleak scan (slow: not in make check)'
	@echo '  make check-pcid           only the PCID lane: the kaiser and pti kernels under Bochs, on'
	@echo '                            CPU models with PCID and INVPCID (tests/pcid-lane.tsv)'
	@echo '  make bench                what none, pti, kaiser and kaiser-off cost per operation, side'
	@echo '                            by side (QEMU -icount, TCG wall clock, Bochs with PCID):'
	@echo '                            build/bench/results.csv, .md and .png, copied into README.md'
	@echo '  make torture              stress-ng on the kaiser kernel (kaiser=on, CPU hotplug; and with'
	@echo '                            vsyscall=emulate) and on none, TORTURE_SECONDS (300) each, NMIs via QMP'
	@echo '  make series               the series as mail in build/mail/ (git format-patch, cover letter,'
	@echo '                            To/Cc from get_maintainer.pl), checked with git am onto the base'
	@echo '  make lint                 checkpatch --strict on every patch, kernel-doc on the KAISER files,'
	@echo '                            W=1 and sparse on what the series touches, objtool (builds first)'
	@echo '  make kernel FLAVOUR=F     build one flavour (kaiser, pti, none, kaiser-hardened); prints its bzImage'
	@echo '  make initramfs            build build/initramfs.cpio.gz (busybox + x86 selftests)'
	@echo '  make boot FLAVOUR=F [ARGS=...] [SMP=n] [SUITE=report|selftests|stress|spin|bench]'
	@echo '                            boot one kernel non-interactively; log in build/logs/'
	@echo '  make test-harness         only the harness self-tests (no kernel build)'
	@echo '  make bisect-check         build every flavour after every patch (slow)'
	@echo '  make deps | source | tree install packages | unpack the base tree | apply the series'
	@echo '  make clean                remove kernel builds and logs (keeps the unpacked source)'
	@echo '  make distclean            remove build/ entirely'

run:
	@$(S)/run.sh $(ARGS)

check:
	@$(S)/check.sh $(LANES)

check-mutations:
	@$(S)/check-mutations.sh

check-pcid: tree
	@for f in pti kaiser; do $(S)/build-kernel.sh $$f >/dev/null || exit 1; done
	@$(S)/build-initramfs.sh >/dev/null
	@$(S)/check-pcid.sh

check-debug: tree
	@for f in none kaiser-debug; do $(S)/build-kernel.sh $$f >/dev/null || exit 1; done
	@$(S)/build-initramfs.sh >/dev/null
	@$(S)/build-initramfs.sh --torture >/dev/null
	@$(S)/check-debug.sh

check-fresh:
	@$(S)/check-fresh.sh $(if $(KEEP_ROOT),--keep-root)

bench: tree
	@for f in none pti kaiser; do $(S)/build-kernel.sh $$f >/dev/null || exit 1; done
	@$(S)/build-initramfs.sh >/dev/null
	@$(S)/bench.sh

torture: tree
	@for f in none kaiser; do $(S)/build-kernel.sh $$f >/dev/null || exit 1; done
	@$(S)/build-initramfs.sh --torture >/dev/null
	@$(S)/run-torture.sh

series: tree
	@$(S)/make-series.sh

lint: tree
	@for f in kaiser pti none kaiser-hardened; do $(S)/build-kernel.sh $$f >/dev/null || exit 1; done
	@$(S)/lint.sh

deps:
	@$(S)/install-deps.sh

source: deps
	@$(S)/fetch-source.sh

tree: source
	@$(S)/patch-tree.sh

kernel: tree
	@$(S)/build-kernel.sh $(FLAVOUR)

initramfs: tree
	@$(S)/build-initramfs.sh

boot:
	@$(S)/boot.sh --suite $(SUITE) --smp $(SMP) --args "$(ARGS)" $(FLAVOUR)

test-harness:
	@tests/harness-selftests.sh
	@tests/harness-selftests-deps.sh

bisect-check:
	@$(S)/check-bisect.sh

clean:
	@$(S)/clean.sh

distclean:
	@$(S)/clean.sh --all

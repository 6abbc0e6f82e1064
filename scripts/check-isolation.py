#!/usr/bin/env python3
"""Inspect, from outside the guest, the page tables a user process runs on.

Connects to a running guest's QMP socket (scripts/boot.sh makes one; the
guest should be in the 'spin' suite, a user-mode busy loop), stops the VM
at a moment when a vCPU executes user code (CPL 3), reads that vCPU's CR3
and, through physical memory reads, walks the kernel half of the page
tables behind it.  Every mapped page is sorted into the regions of
DESIGN.md's allowlist (the entry text's alias in the fixmap, CPU entry
area, espfix, LDT, vsyscall page) or found outside it.  The VM is resumed
afterwards.

It counts what the kernel's boot audit counts, by the same definition:
"kernel pages visible to user space" are the distinct page frames the
kernel half maps, what a Meltdown-style read through these tables can
reach; "pages of kernel address space" are the 4 KiB pages of virtual
address space that map them (espfix alone maps a few frames 65536
times).  With --boot-log, the two walks are held against each other:
this one must find the audit's frames plus the process's own LDT.

  --expect isolated   KAISER: CR3 selects the shadow (bit 12 set), the
                      entry text's alias and the process's LDT
                      (guest/spin.c installs one) are mapped, nothing
                      outside the allowlist, and nothing at an address
                      KASLR chose (the image, the modules, the direct
                      map, vmalloc, vmemmap)
  --expect whole      no isolation: CR3 is the kernel PGD and the kernel
                      image is mapped
  --expect any        just report (PTI, for comparison)
  --map-out FILE      write what was found, for scripts/kaslr-moves.py:
                      a '# slide ADDR' line, then 'ADDR SIZE REGION' per
                      leaf (espfix left out: its slot is fixed)
  --boot-log FILE     the guest's console log: when it has KAISER's
                      audit line, the frame counts must agree; its
                      'kernel text:' line (guest/init's report) says
                      where KASLR put the kernel, which moves every
                      symbol of the System.map by the same slide

Prints one line per region and a verdict line; exits 1 when the
expectation does not hold, 2 on a usage or QMP problem.

usage: check-isolation.py --qmp SOCKET --system-map FILE --expect MODE
                          [--boot-log FILE]
"""
import argparse
import os
import re
import sys
import tempfile
import time

from qmp import connect, send

PAGE = 4096
SHADOW_BIT = 1 << 12
ADDR_MASK = 0x000FFFFFFFFFF000
CEA_BASE = 0xFFFFFE0000000000
ESPFIX_BASE = 0xFFFFFF0000000000
P4D_SIZE = 1 << 39
VSYSCALL = 0xFFFFFFFFFF600000
# The fixmap's two PMDs (arch/x86/include/asm/fixmap.h), where KAISER
# runs the entry text from (kaiser_alias_entry_text())
FIXMAP = (0xFFFFFFFFFF400000, 0xFFFFFFFFFF800000)
MODULES = (0xFFFFFFFFA0000000, 0xFFFFFFFFFF000000)
# The regions whose place no KASLR secret decides: a probe that finds a
# page there learns nothing of where the kernel image, the direct map,
# vmalloc or the modules are.  (The CPU entry areas are drawn at random
# in their slot with KASLR, independently of the rest.)
KASLR_FREE = {"entry text alias", "CPU entry area", "espfix", "LDT", "vsyscall page"}


def parse_cpus(text):
    """{cpu index: {"cpl": n, "cr3": v, "cr4": v}} from 'info registers -a'."""
    cpus, cur = {}, None
    for line in text.splitlines():
        if line.startswith("CPU#"):
            cur = int(line[4:].split()[0].rstrip(":"))
            cpus[cur] = {}
        if cur is None and "RIP=" in line:
            cur = 0
            cpus[cur] = {}
        for word in line.split():
            if "=" not in word:
                continue
            k, v = word.split("=", 1)
            if k in ("CPL", "CR3", "CR4") and cur is not None:
                cpus[cur][k.lower()] = int(v, 16 if k != "CPL" else 10)
    return cpus


def symbols(path):
    want = {"_text", "_end", "__entry_text_start", "__entry_text_end"}
    syms = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] in want:
                syms[parts[2]] = int(parts[0], 16)
    missing = want - set(syms)
    if missing:
        sys.exit(f"check-isolation: {path} lacks {', '.join(sorted(missing))}")
    return syms


def kaslr_slide(log, syms):
    """How far KASLR moved the kernel from its System.map addresses: the
    report's 'kernel text: ADDR' against _text; 0 without the line."""
    if not log:
        return 0
    with open(log, errors="replace") as f:
        m = re.search(r"^kernel text: ([0-9a-f]{16})$", f.read(), re.M)
    return int(m.group(1), 16) - syms["_text"] if m else 0


def walk(read_page, cr3, levels):
    """Yield (virtual address, size, physical address) of every present
    leaf in the kernel half."""
    shifts = [48, 39, 30, 21, 12] if levels == 5 else [39, 30, 21, 12]
    top_bits = shifts[0] + 9

    def canonical(va):
        return va - (1 << top_bits) if va >> (top_bits - 1) & 1 else va

    def visit(table, depth, base):
        entries = read_page(table)
        shift = shifts[depth]
        first = 256 if depth == 0 else 0
        for i in range(first, 512):
            e = entries[i]
            if not e & 1:
                continue
            va = base | (i << shift)
            leaf = depth == len(shifts) - 1 or (shift in (30, 21) and e & 0x80)
            if leaf:
                # bit 12 of a large leaf is PAT, not address
                yield (canonical(va) & 0xFFFFFFFFFFFFFFFF, 1 << shift,
                       e & ADDR_MASK & ~((1 << shift) - 1))
            else:
                yield from visit(e & ADDR_MASK, depth + 1, va)

    yield from visit(cr3 & ADDR_MASK, 0, 0)


def classify(va, syms, levels):
    # LDT_PGD_ENTRY is -240 with either paging depth
    ldt = (-240 << (48 if levels == 5 else 39)) & 0xFFFFFFFFFFFFFFFF
    ldt_size = 1 << (48 if levels == 5 else 39)
    if CEA_BASE <= va < CEA_BASE + P4D_SIZE:
        return "CPU entry area", True
    if ESPFIX_BASE <= va < ESPFIX_BASE + P4D_SIZE:
        return "espfix", True
    if ldt <= va < ldt + ldt_size:
        return "LDT", True
    if va & ~(PAGE - 1) == VSYSCALL:
        return "vsyscall page", True
    if FIXMAP[0] <= va < FIXMAP[1]:
        return "entry text alias", True
    if syms["__entry_text_start"] <= va < syms["__entry_text_end"]:
        return "entry text (the image's)", False
    if syms["_text"] <= va < syms["_end"]:
        return "kernel image", False
    if MODULES[0] <= va < MODULES[1]:
        return "module space", False
    return "direct map, vmalloc or other kernel memory", False


def compare_audit(log, frames, ldt):
    """The kernel's audit walks the shadow template, which has no LDT;
    this walk, one process's shadow, must find exactly that plus its LDT."""
    with open(log, errors="replace") as f:
        m = re.search(r"KAISER: (\d+) kernel pages visible to user space", f.read())
    if not m:
        return [f"no KAISER audit line in {log}"]
    audit = int(m.group(1))
    print(f"  the kernel's boot audit: {audit} kernel pages visible; "
          f"here {frames}, {ldt} of them the process's LDT")
    if frames != audit + ldt:
        return [f"{frames} frames visible here, but the audit's {audit} plus "
                f"{ldt} of LDT make {audit + ldt}"]
    return []


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qmp", required=True)
    ap.add_argument("--system-map", required=True)
    ap.add_argument("--expect", required=True, choices=["isolated", "whole", "any"])
    ap.add_argument("--boot-log")
    ap.add_argument("--map-out")
    ap.add_argument("--tries", type=int, default=200)
    opts = ap.parse_args()
    syms = symbols(opts.system_map)
    slide = kaslr_slide(opts.boot_log, syms)
    syms = {name: addr + slide for name, addr in syms.items()}
    print(f"  kernel text at {syms['_text']:#x}: "
          + (f"KASLR moved it by {slide:#x}" if slide else "where System.map has it"))

    try:
        qmp = connect(opts.qmp)
    except OSError as e:
        print(f"check-isolation: cannot connect to {opts.qmp}: {e}")
        return 2
    tmpdir = tempfile.mkdtemp(prefix="isolation.")
    cache = {}

    def read_page(phys):
        if phys not in cache:
            path = os.path.join(tmpdir, "page")
            send(qmp, "pmemsave", val=phys, size=PAGE, filename=path)
            with open(path, "rb") as f:
                data = f.read()
            cache[phys] = [int.from_bytes(data[i:i + 8], "little") for i in range(0, PAGE, 8)]
        return cache[phys]

    cpu = None
    for _ in range(opts.tries):
        send(qmp, "stop")
        cpus = parse_cpus(send(qmp, "hmp:info registers -a"))
        user = [c for c, r in cpus.items() if r.get("cpl") == 3]
        if user:
            cpu = cpus[user[0]]
            break
        send(qmp, "cont")
        time.sleep(0.05)
    if cpu is None:
        print(f"check-isolation: no vCPU was in user mode in {opts.tries} tries")
        return 2
    try:
        levels = 5 if cpu["cr4"] & (1 << 12) else 4
        regions, pages, frames, leaves = {}, 0, set(), []
        for va, size, phys in walk(read_page, cpu["cr3"], levels):
            name, allowed = classify(va, syms, levels)
            if name != "espfix":
                leaves.append(f"{va:#x} {size:#x} {name}")
            r = regions.setdefault(name, [allowed, 0, set()])
            leaf = range(phys // PAGE, (phys + size) // PAGE)
            r[1] += size // PAGE
            r[2].update(leaf)
            pages += size // PAGE
            frames.update(leaf)
    finally:
        send(qmp, "cont")

    if opts.map_out:
        with open(opts.map_out, "w") as f:
            f.write(f"# slide {slide:#x}\n" + "".join(l + "\n" for l in leaves))
    shadow = bool(cpu["cr3"] & SHADOW_BIT)
    print(f"CR3 {cpu['cr3']:#x} while in user mode ({'second' if shadow else 'first'} "
          f"page of the PGD), {levels}-level paging, {len(cache)} table pages read")
    print("  frames  address space  region")
    for name, (allowed, n, f) in sorted(regions.items(), key=lambda x: (not x[1][0], x[0])):
        print(f"  {len(f):6d}  {n:13d}  {name}{'' if allowed else '   <- outside the allowlist'}")
    outside = sum(n for allowed, n, _ in regions.values() if not allowed)
    print(f"  {len(frames)} kernel pages visible to user space (page frames), "
          f"{pages} pages of kernel address space mapped, {outside} outside the allowlist")
    placed = sum(n for name, (_, n, _) in regions.items() if name not in KASLR_FREE)
    print(f"  {placed} of those pages at addresses that tell where KASLR put the kernel: "
          f"{', '.join(sorted(set(regions) - KASLR_FREE)) or 'none'}")

    problems = []
    if opts.expect == "isolated":
        if not shadow:
            problems.append("user code runs on the kernel PGD, not the shadow")
        if outside:
            problems.append(f"{outside} pages mapped outside the allowlist")
        if placed:
            problems.append(f"{placed} pages at addresses KASLR chose")
        if "entry text alias" not in regions:
            problems.append("the entry text's alias is not mapped")
        if "LDT" not in regions:
            problems.append("the LDT of the spinning process is not mapped")
        if opts.boot_log:
            problems += compare_audit(opts.boot_log, len(frames),
                                      len(regions.get("LDT", [0, 0, set()])[2]))
    elif opts.expect == "whole":
        if shadow:
            problems.append("CR3 has the shadow bit set")
        if "kernel image" not in regions:
            problems.append("the kernel image is not mapped")
    if problems:
        print("check-isolation: FAIL: " + "; ".join(problems))
        return 1
    print(f"check-isolation: ok ({opts.expect})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

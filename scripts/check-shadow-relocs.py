#!/usr/bin/env python3
"""Count the places in the code the user page tables map that KASLR
rewrites at boot: bytes there depend on where the image went, and on a
Meltdown-affected CPU user space can read every page those tables map.

The places come from the kernel's own relocation tool, the one that
builds the list the boot code applies (arch/x86/tools/relocs --text
vmlinux), and the ranges from System.map:

  the SYSCALL trampoline's page (kaiser_entry_SYSCALL_64 up to
  __kaiser_syscall_trampoline_end), which every CPU entry area aliases:
  it must have none;

  the rest of the entry text, which KAISER runs from a copy in the fixmap
  that the user tables map: it may have only the displacements into
  __per_cpu_offset[] (paranoid_entry's GET_PERCPU_BASE), which the boot
  code that makes the copy points at a fixed window of the array
  (kaiser_relocate_entry_text(); it stops the boot at any other).

Exit 1 if the trampoline has any, or the rest another, 2 on a missing
file or symbol.

usage: check-shadow-relocs.py OBJDIR    (build/obj-kaiser)
"""
import os
import re
import subprocess
import sys


def symbols(path, names):
    syms = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] in names:
                syms[parts[2]] = int(parts[0], 16)
    missing = set(names) - set(syms)
    if missing:
        sys.exit(f"check-shadow-relocs: {path} lacks {', '.join(sorted(missing))}")
    return syms


def read_vmlinux(path, addr, size):
    """size bytes at link-time address addr, through the section headers."""
    with open(path, "rb") as f:
        elf = f.read()
    shoff = int.from_bytes(elf[0x28:0x30], "little")
    shentsize = int.from_bytes(elf[0x3A:0x3C], "little")
    shnum = int.from_bytes(elf[0x3C:0x3E], "little")
    for i in range(shnum):
        sh = elf[shoff + i * shentsize:shoff + (i + 1) * shentsize]
        sh_type = int.from_bytes(sh[4:8], "little")
        sh_addr, sh_offset, sh_size = (int.from_bytes(sh[o:o + 8], "little")
                                       for o in (0x10, 0x18, 0x20))
        if sh_type == 1 and sh_addr <= addr < sh_addr + sh_size:
            return elf[sh_offset + addr - sh_addr:sh_offset + addr - sh_addr + size]
    sys.exit(f"check-shadow-relocs: no section of {path} holds {addr:#x}")


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    obj = sys.argv[1]
    tool = os.path.join(obj, "arch/x86/tools/relocs")
    vmlinux = os.path.join(obj, "vmlinux")
    for path in (tool, vmlinux, os.path.join(obj, "System.map")):
        if not os.path.exists(path):
            print(f"check-shadow-relocs: no {path} (a kaiser kernel built with KASLR?)")
            return 2
    syms = symbols(os.path.join(obj, "System.map"),
                   ["kaiser_entry_SYSCALL_64", "__kaiser_syscall_trampoline_end",
                    "__entry_text_start", "__entry_text_end", "__per_cpu_offset"])
    with open(os.path.join(obj, ".config")) as f:
        m = re.search(r"^CONFIG_NR_CPUS=(\d+)$", f.read(), re.M)
    if not m:
        print(f"check-shadow-relocs: no CONFIG_NR_CPUS in {obj}/.config")
        return 2
    percpu = (syms["__per_cpu_offset"], syms["__per_cpu_offset"] + 8 * int(m.group(1)))
    out = subprocess.run([tool, "--text", vmlinux], capture_output=True, text=True)
    if out.returncode:
        print(f"check-shadow-relocs: {tool} failed: {out.stderr.strip()}")
        return 2
    # Each place as the low 32 bits of its link-time address; 0 ends a list.
    places = []
    for m in re.finditer(r"\.(long|quad)\s+0x([0-9a-f]+)", out.stdout):
        v = int(m.group(2), 16)
        if v:
            places.append(v | 0xFFFFFFFF00000000 if v & 0x80000000 else v)

    tramp = (syms["kaiser_entry_SYSCALL_64"], syms["__kaiser_syscall_trampoline_end"])
    entry = (syms["__entry_text_start"], syms["__entry_text_end"])
    in_tramp = sorted(p for p in places if tramp[0] <= p < tramp[1])
    in_entry = [p for p in places if entry[0] <= p < entry[1] and not tramp[0] <= p < tramp[1]]
    print(f"  {len(places)} places KASLR rewrites in the image; in the entry text, "
          f"{len(in_tramp) + len(in_entry)}")
    for p in in_tramp:
        print(f"  {p:#x}: kaiser_entry_SYSCALL_64+{p - tramp[0]:#x}")
    other = []
    for p in in_entry:
        value = int.from_bytes(read_vmlinux(vmlinux, p, 4), "little", signed=True)
        value &= 0xFFFFFFFFFFFFFFFF
        known = percpu[0] <= value < percpu[1]
        print(f"  {p:#x}: __entry_text_start+{p - entry[0]:#x} holds {value:#x}"
              + (" (__per_cpu_offset[], rewritten for the alias)" if known else ""))
        if not known:
            other.append(p)
    summary = (f"{len(in_tramp)} in the SYSCALL trampoline's page (aliased in every CPU entry "
               f"area), {len(in_entry)} in the rest of the entry text (copied to the fixmap), "
               f"{len(in_entry) - len(other)} of them into __per_cpu_offset[]")
    if in_tramp or other:
        print(f"check-shadow-relocs: FAIL: {summary}")
        return 1
    print(f"check-shadow-relocs: ok: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

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

  the rest of the entry text, which the user tables still map at its
  place in the image (so that its address tells KASLR's choice anyway):
  counted, for the step that moves it to an alias.

Exit 1 if the trampoline has any, 2 on a missing file or symbol.

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
                    "__entry_text_start", "__entry_text_end"])
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
    summary = (f"{len(in_tramp)} in the SYSCALL trampoline's page (aliased in every CPU entry "
               f"area), {len(in_entry)} in the rest of the entry text (mapped at the image's "
               f"address)")
    if in_tramp:
        print(f"check-shadow-relocs: FAIL: {summary}")
        return 1
    print(f"check-shadow-relocs: ok: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Compare what the user page tables map in two boots of one kernel with
KASLR: which of it moved with the kernel image, and which did not.

Each FILE is check-isolation.py's --map-out of one boot: the image's
KASLR slide, then every leaf of the kernel half (espfix left out).  A
page mapped in the first boot is

  fixed           if the second maps the same address;
  with the image  if the second maps it moved by exactly the difference
                  of the two slides: a probe of that page finds the image;
  elsewhere       otherwise (the CPU entry areas, each drawn anew at
                  boot; with RANDOMIZE_MEMORY, the direct map and vmalloc,
                  which have slides of their own).

Prints one line per class and region.  --allow REGION (repeatable): the
regions that may move with the image; any other page that does is a
failure (exit 1).  Exit 2 when the two boots have the same slide, which
tells nothing (one boot in 512), or on a bad file.

usage: kaslr-moves.py [--allow REGION]... FIRST SECOND
"""
import argparse
import re
import sys

PAGE = 4096


def load(path):
    """(slide, {page address: region}) of one --map-out file."""
    slide, pages = None, {}
    try:
        with open(path) as f:
            for line in f:
                m = re.match(r"# slide (0x[0-9a-f]+)$", line.strip())
                if m:
                    slide = int(m.group(1), 16)
                    continue
                va, size, region = line.split(None, 2)
                va, size = int(va, 16), int(size, 16)
                for p in range(va, va + size, PAGE):
                    pages[p] = region.strip()
    except (OSError, ValueError) as e:
        sys.exit(f"kaslr-moves: {path}: {e}")
    if slide is None:
        sys.exit(f"kaslr-moves: {path}: no '# slide' line")
    return slide, pages


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--allow", action="append", default=[])
    ap.add_argument("first")
    ap.add_argument("second")
    opts = ap.parse_args()
    slide1, a = load(opts.first)
    slide2, b = load(opts.second)
    delta = (slide2 - slide1) & 0xFFFFFFFFFFFFFFFF
    if slide1 == slide2:
        print(f"kaslr-moves: both boots have the image at the same place (slide {slide1:#x}): "
              "nothing to tell")
        return 2

    counts = {}
    for va, region in a.items():
        if va in b:
            cls = "fixed"
        elif (va + delta) & 0xFFFFFFFFFFFFFFFF in b:
            cls = "with the image"
        else:
            cls = "elsewhere"
        counts[(cls, region)] = counts.get((cls, region), 0) + 1
    print(f"  the image moved by {delta - (1 << 64) if delta >> 63 else delta:#x} "
          f"between the boots ({slide1:#x}, then {slide2:#x})")
    for (cls, region), n in sorted(counts.items()):
        print(f"  {n:6d}  {cls:15s} {region}")
    moved = {r: n for (c, r), n in counts.items() if c == "with the image"}
    bad = {r: n for r, n in moved.items() if r not in opts.allow}
    summary = (f"{sum(moved.values())} pages moved with the image"
               + (f" ({', '.join(f'{r}: {n}' for r, n in sorted(moved.items()))})" if moved else "")
               + f", {sum(n for (c, _), n in counts.items() if c == 'fixed')} stayed, "
               + f"{sum(n for (c, _), n in counts.items() if c == 'elsewhere')} moved elsewhere")
    if bad:
        print(f"kaslr-moves: FAIL: {summary}; not allowed to: {', '.join(sorted(bad))}")
        return 1
    print(f"kaslr-moves: ok: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

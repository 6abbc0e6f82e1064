#!/usr/bin/env python3
"""Extract KTAP results from a guest serial log, one TSV line per test.

usage: ktap.py --user LOG     the harness's own KTAP (guest/init), printed
                              by user space without printk timestamps
       ktap.py --kernel LOG   KTAP printed by the kernel (KUnit), with
                              printk timestamps; nested suites give
                              'suite.case' names

Output lines: NAME <tab> pass|fail|skip <tab> comment.  A 'Bail out!' is
reported as a test named '<bail-out>' with result fail.  Exit status 2
when the log holds no KTAP of the requested kind.
"""
import re
import sys

TS = re.compile(r'\[ *\d+\.\d{6}\] ?')
RESULT = re.compile(r'^(\s*)(not ok|ok) (\d+)(?: -)? ?([^#]*?)\s*(?:#\s*(.*))?$')
SUBTEST = re.compile(r'^(\s*)# Subtest: (.+?)\s*$')


def lines_of(text, kernel):
    """The log's lines of the requested source, timestamps removed."""
    for raw in text.splitlines():
        m = TS.search(raw)
        if kernel:
            # Only lines the kernel printed itself: a timestamp quoted
            # later in a line (say, a dmesg excerpt) does not count.
            if m and m.start() == 0:
                yield raw[m.end():]
        elif not m:
            yield raw


def parse(lines):
    """Yield (name, result, comment) for every leaf and suite result."""
    stack = []          # (indent, suite name) of open subtests
    seen_version = False
    for line in lines:
        if 'KTAP version' in line or 'TAP version' in line:
            seen_version = True
            continue
        if not seen_version:
            continue
        if line.strip().startswith('Bail out!'):
            yield ('<bail-out>', 'fail', line.strip()[len('Bail out!'):].strip())
            continue
        m = SUBTEST.match(line)
        if m:
            stack.append((len(m.group(1)), m.group(2)))
            continue
        m = RESULT.match(line)
        if not m:
            continue
        indent, status, _, name, comment = m.groups()
        indent = len(indent)
        comment = comment or ''
        # A result at the indent of an open subtest closes that subtest.
        while stack and stack[-1][0] > indent:
            stack.pop()
        if stack and stack[-1][0] == indent and stack[-1][1] == name.strip():
            stack.pop()
            # the suite's own result: reported under its name
        prefix = '.'.join(s for _, s in stack)
        full = f'{prefix}.{name}' if prefix else name
        if comment.upper().startswith('SKIP'):
            result = 'skip'
        elif status == 'ok':
            result = 'pass'
        else:
            result = 'fail'
        yield (full.strip(), result, comment.strip())


def main(argv):
    if len(argv) != 3 or argv[1] not in ('--user', '--kernel'):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        with open(argv[2], 'rb') as f:
            text = f.read().decode('utf-8', 'replace')
    except OSError as e:
        print(f'ktap.py: {e}', file=sys.stderr)
        return 2
    results = list(parse(lines_of(text, argv[1] == '--kernel')))
    if not results:
        return 2
    for name, result, comment in results:
        print(f'{name}\t{result}\t{comment}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))

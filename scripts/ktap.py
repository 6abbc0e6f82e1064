#!/usr/bin/env python3
"""Extract KTAP results from a guest serial log, one TSV line per test.

usage: ktap.py --user LOG     the harness's own KTAP (guest/init), printed
                              by user space without printk timestamps
       ktap.py --kernel LOG   KTAP printed by the kernel (KUnit), with
                              printk timestamps; nested suites give
                              'suite.case' names
       ktap.py --count FILE   count the results of a (nested) KTAP document,
                              make check's: prints 'P passed, F failed,
                              S skipped'; exit status 1 if F > 0
       ktap.py --failed FILE  name every failure --count counts, one line
                              each: the path of suite names down to the
                              test, '/'-separated, and its comment

Output lines of --user and --kernel: NAME <tab> pass|fail|skip <tab>
comment.  A 'Bail out!' is reported as a test named '<bail-out>' with
result fail.  Exit status 2 when the log holds no KTAP of the requested
kind.

--count counts every test once, at the deepest level that reports it: a
suite's own result line adds nothing when its subtests are there, and
one failure when it failed with no failing subtest (the stage itself
failed); a 'Bail out!' and every result a plan announced but that never
came count as failures.
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


def indent_of(line):
    return len(line) - len(line.lstrip(' '))


def count(lines, depth=0):
    """Count (passed, failed, skipped, failures) of the KTAP document at
    indent DEPTH in LINES (a list, consumed from the front); failures
    names each failure counted, as a path of result names."""
    passed = failed = skipped = 0
    failures = []
    plan = None
    results = 0
    children = None         # counts of the subtest just parsed, if any
    while lines:
        line = lines[0]
        if not line.strip():
            lines.pop(0)
            continue
        ind = indent_of(line)
        if ind < depth:
            break
        if ind > depth:
            children = count(lines, ind)
            continue
        lines.pop(0)
        text = line.strip()
        m = re.match(r'^1\.\.(\d+)', text)
        if m:
            plan = int(m.group(1))
            continue
        if text.startswith('Bail out!'):
            failed += 1
            failures.append(text)
            continue
        m = RESULT.match(text)
        if not m:
            continue
        results += 1
        status, comment = m.group(2), (m.group(5) or '')
        name = m.group(4).strip() or f'#{m.group(3)}'
        skip = comment.upper().startswith('SKIP')
        if children is not None and sum(children[:3]):
            p, f, s, names = children
            if status == 'not ok' and not f:
                f = 1
                names = [f'{name}  # {comment}' if comment else name]
            else:
                names = [f'{name}/{n}' for n in names]
            passed, failed, skipped = passed + p, failed + f, skipped + s
            failures += names
        elif skip:
            skipped += 1
        elif status == 'ok':
            passed += 1
        else:
            failed += 1
            failures.append(f'{name}  # {comment}' if comment else name)
        children = None
    if plan is not None and results < plan:
        failed += plan - results
        failures.append(f'{plan - results} of {plan} planned results never came')
    return passed, failed, skipped, failures


def main(argv):
    if len(argv) == 3 and argv[1] in ('--count', '--failed'):
        try:
            with open(argv[2], 'rb') as f:
                text = f.read().decode('utf-8', 'replace')
        except OSError as e:
            print(f'ktap.py: {e}', file=sys.stderr)
            return 2
        lines = [l.rstrip('\n') for l in text.splitlines()]
        lines = [l for l in lines if not l.lstrip().startswith('#') and 'KTAP version' not in l]
        p, f, s, failures = count(lines)
        if argv[1] == '--failed':
            for name in failures:
                print(name)
        else:
            print(f'{p} passed, {f} failed' + (f', {s} skipped' if s else ''))
        return 1 if f else 0
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

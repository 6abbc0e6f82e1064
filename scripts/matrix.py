#!/usr/bin/env python3
"""Compare the selftest results of every lane with its reference lane and
print the per-mode table.

usage: matrix.py LANES.tsv TCG.tsv RESULTS_DIR [MARKDOWN_OUT]

RESULTS_DIR holds, per lane, LANE.tsv (NAME<tab>pass|fail|skip<tab>comment,
from ktap.py), or LANE.skip (one line: why the lane did not run), or
neither (the lane was meant to run and did not: every test fails).

Each (lane, test) pair is counted once:
  passed   the test passed;
  skipped  the test skipped itself, or it is a known TCG failure
           (TCG.tsv, 'tcg-fail') that also fails in the reference lane;
  failed   anything else: a failure, a test that did not run, or a known
           TCG failure that passes in the reference lane but not here.
A lane skipped as a whole counts as one skipped item.  The last line is
'matrix: P passed, F failed, S skipped'; exit status 1 if F > 0.
"""
import os
import sys


def read_tsv(path):
    """Rows of a hand-written table: runs of tabs separate the columns."""
    rows = []
    with open(path) as f:
        for line in f:
            if not line.strip() or line.startswith('#'):
                continue
            rows.append([p for p in line.rstrip('\n').split('\t') if p != ''])
    return rows


def load_lanes(path):
    lanes = []
    for p in read_tsv(path):
        lane, flavour, smp, cpu, ref = p[:5]
        args = ' '.join(p[5:])
        lanes.append({'lane': lane, 'flavour': flavour, 'smp': smp, 'cpu': cpu,
                      'ref': None if ref == '-' else ref, 'args': args})
    return lanes


def load_tcg(path):
    tcg = {}
    for p in read_tsv(path):
        tcg[p[0]] = (p[1], ' '.join(p[2:]))
    return tcg


def load_results(d, lane):
    skip = os.path.join(d, lane + '.skip')
    if os.path.exists(skip):
        with open(skip) as f:
            return 'skipped', f.read().strip()
    path = os.path.join(d, lane + '.tsv')
    if not os.path.exists(path):
        return 'missing', 'no results: the lane did not run to the end'
    res = {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip('\n').split('\t') + ['', '']
            if parts[0]:
                res[parts[0]] = (parts[1], parts[2])
    return 'ran', res


def main(argv):
    if len(argv) not in (4, 5):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    lanes = load_lanes(argv[1])
    tcg = load_tcg(argv[2])
    results = {l['lane']: load_results(argv[3], l['lane']) for l in lanes}

    tests = set()
    for state, res in results.values():
        if state == 'ran':
            tests.update(t for t in res if not t.startswith('<'))
    tests = sorted(tests)

    counts = {'passed': 0, 'failed': 0, 'skipped': 0}
    cells = {}          # (lane, test) -> one-letter cell
    problems = []
    notes = []
    summary = []
    for l in lanes:
        lane = l['lane']
        state, res = results[lane]
        if state == 'skipped':
            counts['skipped'] += 1
            summary.append((l, 'skipped: ' + res))
            continue
        if state == 'missing':
            res = {}
            problems.append(f'{lane}: no results: the lane did not run to the end')
        ref = None
        if l['ref']:
            rstate, rres = results.get(l['ref'], ('missing', None))
            ref = rres if rstate == 'ran' else None
        lc = {'passed': 0, 'failed': 0, 'skipped': 0}
        for t in tests:
            result, comment = res.get(t, ('missing', 'did not run'))
            ref_result = ref.get(t, ('missing', ''))[0] if ref is not None else None
            known = tcg.get(t)
            if result == 'pass':
                verdict, cell = 'passed', 'P'
                if known and known[0] == 'tcg-fail':
                    notes.append(f'{lane}: {t} passed although listed as failing under TCG')
            elif result == 'skip':
                verdict, cell = 'skipped', 's'
            elif (result == 'fail' and known and known[0] == 'tcg-fail'
                  and ref_result in (None, 'fail')):
                verdict, cell = 'skipped', 'T'
            else:
                verdict = 'failed'
                cell = 'F' if result == 'fail' else '-'
                why = comment or result
                if ref_result == 'pass':
                    why += f"; passes on {l['ref']}: a regression"
                problems.append(f'{lane}: {t}: {why}')
            lc[verdict] += 1
            counts[verdict] += 1
            cells[(lane, t)] = cell
        bail = [c for n, (r, c) in res.items() if n == '<bail-out>']
        if bail:
            problems.append(f'{lane}: suite stopped early: {bail[0]}')
        summary.append((l, f"{lc['passed']} passed, {lc['failed']} failed, {lc['skipped']} skipped"))

    out = []
    out.append('| # | lane | flavour | vCPUs | CPU | kernel parameters | result |')
    out.append('|---|------|---------|-------|-----|-------------------|--------|')
    for i, (l, s) in enumerate(summary, 1):
        out.append(f"| {i} | {l['lane']} | {l['flavour']} | {l['smp']} | {l['cpu']} | {l['args'] or '-'} | {s} |")
    out.append('')
    ran = [l['lane'] for l, _ in summary if (l['lane'], tests[0] if tests else '') in cells]
    idx = {l['lane']: i for i, (l, _) in enumerate(summary, 1)}
    if tests and ran:
        out.append('| test | ' + ' | '.join(str(idx[r]) for r in ran) + ' |')
        out.append('|------|' + '---|' * len(ran))
        for t in tests:
            row = ' | '.join(cells.get((r, t), ' ') for r in ran)
            mark = ''
            if t in tcg:
                action = tcg[t][0]
                mark = (f' ({action[4:]})' if action.startswith('cpu=') else
                        ' (own boot, retried)' if action.startswith('retry=') else ' (TCG)')
            out.append(f'| {t}{mark} | {row} |')
        out.append('')
        out.append('P passed, F failed, s skipped by the test itself, '
                   'T fails under TCG on every flavour (skipped), - did not run; '
                   '(MODEL): run on that QEMU CPU model instead of the lane\'s.')
        for t, (action, why) in sorted(tcg.items()):
            out.append(f'- {t}: {action}: {why}')
    text = '\n'.join(out)
    print(text)
    if len(argv) == 5:
        with open(argv[4] + '.tmp', 'w') as f:
            f.write(text + '\n')
        os.replace(argv[4] + '.tmp', argv[4])
    for n in notes:
        print('note: ' + n)
    for p in problems:
        print('FAIL: ' + p)
    print(f"matrix: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    return 1 if counts['failed'] else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))

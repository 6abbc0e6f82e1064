#!/usr/bin/env python3
"""Compare the selftest results of every lane with its reference lane: the
test matrix, in KTAP on stdout and as a markdown table.

usage: matrix.py RESULTS_DIR MARKDOWN_OUT [LANE...]    (default: make check's lanes)

The lanes and the known TCG failures come from tests/ (scripts/tables.py).
RESULTS_DIR holds, per lane, LANE/results.tsv (NAME<tab>pass|fail|skip<tab>
comment, from ktap.py, written by scripts/run-lane.sh when every boot of
the lane ended cleanly); without it, every test of the lane fails.

Each (lane, test) pair is one KTAP result:
  passed   the test passed;
  skipped  the test skipped itself, or it is a known TCG failure
           ('tcg-fail') that also fails in the reference lane;
  failed   anything else: a failure, a test that did not run, or a known
           TCG failure that passes in the reference lane but not here.
Exit status 1 if any failed.
"""
import os
import sys

from tables import TableError, load_every_lane, load_lanes, load_tcg


def load_results(d, lane):
    path = os.path.join(d, lane, 'results.tsv')
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
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        lanes = load_every_lane() if argv[3:] else load_lanes()
        tcg = load_tcg()
    except (OSError, TableError) as e:
        print(f'matrix.py: {e}', file=sys.stderr)
        return 2
    if argv[3:]:
        lanes = [l for l in lanes if l['lane'] in argv[3:]]
    results = {l['lane']: load_results(argv[1], l['lane']) for l in lanes}

    tests = set()
    for state, res in results.values():
        if state == 'ran':
            tests.update(t for t in res if not t.startswith('<'))
    tests = sorted(tests)

    ktap = []           # (ok, description, reason)
    cells = {}          # (lane, test) -> one-letter cell
    notes = []
    summary = []
    for l in lanes:
        lane = l['lane']
        state, res = results[lane]
        if state == 'missing':
            res = {}
            notes.append(f'{lane}: no results: the lane did not run to the end')
            if not tests:
                ktap.append(('not ok', f'{lane}: results', 'the lane did not run to the end'))
        ref = None
        if l['ref']:
            rstate, rres = results.get(l['ref'], ('missing', None))
            ref = rres if rstate == 'ran' else None
        lc = {'passed': 0, 'failed': 0, 'skipped': 0}
        for t in tests:
            result, comment = res.get(t, ('missing', 'did not run'))
            ref_result = ref.get(t, ('missing', ''))[0] if ref is not None else None
            known = tcg.get(t)
            what = f'{lane}: {t}'
            if result == 'pass':
                verdict, cell = 'passed', 'P'
                if known and known[0] == 'tcg-fail':
                    notes.append(f'{lane}: {t} passed although listed as failing under TCG')
                ktap.append(('ok', what, ''))
            elif result == 'skip':
                verdict, cell = 'skipped', 's'
                ktap.append(('ok', what, 'SKIP ' + (comment or 'skipped itself')))
            elif (result == 'fail' and known and known[0] == 'tcg-fail'
                  and ref_result in (None, 'fail')):
                verdict, cell = 'skipped', 'T'
                ktap.append(('ok', what, 'SKIP fails under TCG on every flavour: ' + known[1]))
            else:
                verdict = 'failed'
                cell = 'F' if result == 'fail' else '-'
                why = comment or result
                if ref_result == 'pass':
                    why += f"; passes on {l['ref']}: a regression"
                ktap.append(('not ok', what, why))
            lc[verdict] += 1
            cells[(lane, t)] = cell
        bail = [c for n, (r, c) in res.items() if n == '<bail-out>']
        if bail:
            ktap.append(('not ok', f'{lane}: the suite ran to the end', f'stopped early: {bail[0]}'))
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
                mark = (f' ({action[4:]})' if action.startswith('cpu:') else
                        ' (own boot, retried)' if action.startswith('retry=') else ' (TCG)')
            out.append(f'| {t}{mark} | {row} |')
        out.append('')
        out.append('P passed, F failed, s skipped by the test itself, '
                   'T fails under TCG on every flavour (skipped), - did not run; '
                   '(CHANGE): run on the lane\'s QEMU CPU model with that change.')
        for t, (action, why) in sorted(tcg.items()):
            out.append(f'- {t}: {action}: {why}')
    text = '\n'.join(out)
    with open(argv[2] + '.tmp', 'w') as f:
        f.write(text + '\n')
    os.replace(argv[2] + '.tmp', argv[2])

    print('KTAP version 1')
    for l, s in summary:
        print(f"# {l['lane']}: {s}")
    for n in notes:
        print('# note: ' + n)
    for i, (status, what, why) in enumerate(ktap, 1):
        what = what.replace('#', 'no.')
        print(f'{status} {i} {what}' + (f' # {why}' if why else ''))
    print(f'1..{len(ktap)}')
    return 1 if any(k[0] == 'not ok' for k in ktap) else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Read the hand-written tables under tests/: the one place that knows
their format.  Imported by matrix.py; the shell scripts use its output,
one tab between columns, never the tables themselves.

usage: tables.py lanes [LANE...]   lane, flavour, vCPUs, QEMU -cpu model,
                                   reference lane ('-' for none), kernel
                                   parameters; make check's lanes by
                                   default, else the named ones of
                                   lanes.tsv or lanes-debug.tsv; an
                                   unknown name is an error
       tables.py boots LANE        the boots that run LANE's selftests:
                                   name, QEMU -cpu model, tries, silence
                                   limit (s), hard limit (s), the guest's
                                   test selection (kernel parameters)
       tables.py boot-options      one line per boot: kernel parameters
                                   ('-' for none), cpu name, QEMU -cpu
                                   model, and what the documented rule
                                   (boot_option_rule()) says the kernel
                                   prints: its decision line, cpuinfo
                                   flag, meltdown line, and warnings
                                   ('|' between them, '-' for none)
       tables.py pcid-lane         the Bochs boots of the PCID lane: name,
                                   flavour, CPUs, Bochs CPU model, suite
                                   (selftests or report), the cpuinfo TLB
                                   flags and isolation flag expected ('-'
                                   for none), kernel parameters with the
                                   selftest selection

Hand-written tables: '#' starts a comment line, runs of tabs separate
columns, and the last column may hold spaces.
"""
import os
import re
import sys

# KAISER_TABLES: another directory of tables, for the harness self-tests.
TESTS = os.environ.get('KAISER_TABLES') or \
    os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests')
LANES = os.path.join(TESTS, 'lanes.tsv')
LANES_DEBUG = os.path.join(TESTS, 'lanes-debug.tsv')
TCG = os.path.join(TESTS, 'selftests-under-tcg.tsv')
BOOT_OPTIONS = os.path.join(TESTS, 'boot-options.tsv')
PCID_LANE = os.path.join(TESTS, 'pcid-lane.tsv')
BOCHS = os.path.join(TESTS, 'selftests-under-bochs.tsv')
BOCHS_MODELS = ('corei7_haswell_4770', 'corei7_skylake_x', 'corei7_ivy_bridge_3770k')

# QEMU CPU models by the name a table gives them: Intel is affected by
# Meltdown and enters 32-bit system calls through SYSENTER, AMD is not
# affected and uses SYSCALL in compatibility mode; zen is an AMD family
# 17h part (EPYC), affected by Retbleed and SRSO, where kaiser=on is
# refused.
VENDORS = {'intel': 'max,vendor=GenuineIntel', 'amd': 'max,vendor=AuthenticAMD',
           'zen': 'EPYC'}

# Boots of a lane: the main boot may run for a long time but must keep
# printing; a retried test's boot is short, because what it guards
# against is a guest that stops printing.
MAIN_SILENCE, MAIN_LIMIT = 300, 1800
RETRY_SILENCE, RETRY_LIMIT, RETRY_TEST_SILENCE = 45, 300, 30


class TableError(Exception):
    pass


def read_rows(path, min_cols):
    rows = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip() or line.lstrip().startswith('#'):
                continue
            cols = [c for c in line.rstrip('\n').split('\t') if c != '']
            if len(cols) < min_cols:
                raise TableError(f'{path}:{n}: {len(cols)} columns, expected at least {min_cols}')
            rows.append((n, cols))
    return rows


def cpu_model(vendor, path, n):
    try:
        return VENDORS[vendor]
    except KeyError:
        raise TableError(f"{path}:{n}: unknown cpu '{vendor}' (one of: {', '.join(VENDORS)})")


def load_lanes(paths=None):
    """make check's lanes (tests/lanes.tsv); with PATHS, those tables'
    lanes, whose reference lanes may be in any of them."""
    lanes = []
    for path in paths or (LANES,):
        for n, c in read_rows(path, 5):
            lanes.append({'lane': c[0], 'flavour': c[1], 'smp': c[2], 'cpu': c[3],
                          'model': cpu_model(c[3], path, n), 'path': path,
                          'ref': None if c[4] == '-' else c[4], 'args': ' '.join(c[5:])})
    names = [l['lane'] for l in lanes]
    for l in lanes:
        if l['ref'] and l['ref'] not in names:
            raise TableError(f"{l['path']}: lane {l['lane']}: unknown reference lane {l['ref']}")
    return lanes


def load_every_lane():
    """make check's lanes and the debug kernel's (make check-debug), if
    this directory of tables has them."""
    return load_lanes((LANES,) + ((LANES_DEBUG,) if os.path.exists(LANES_DEBUG) else ()))


def load_tcg(path=TCG):
    """test -> (action, reason); actions: 'cpu:CHANGE', 'retry=N', 'tcg-fail'."""
    tcg = {}
    for n, c in read_rows(path, 3):
        action = c[1]
        if not re.fullmatch(r'cpu:[-+A-Za-z0-9_=,.]+|retry=[1-9][0-9]*|tcg-fail', action):
            raise TableError(f"{path}:{n}: unknown action '{action}'")
        tcg[c[0]] = (action, ' '.join(c[2:]))
    return tcg


def change_model(model, change):
    """A QEMU -cpu model with CHANGE applied: each comma-separated item
    replaces the model's item of the same key (the part before '=', or the
    feature name after '+'/'-') or is appended."""
    def key(item):
        return item.split('=', 1)[0].lstrip('+-')
    items = model.split(',')
    for c in change.split(','):
        for i, item in enumerate(items):
            if i > 0 and key(item) == key(c):
                items[i] = c
                break
        else:
            items.append(c)
    return ','.join(items)


def boots(lane, tcg):
    """The boots that run a lane's selftests, as dicts: the main boot, one
    per other CPU model a test needs, one per retried test."""
    by_model = {}
    retried = []
    for test, (action, _) in sorted(tcg.items()):
        if action.startswith('cpu:'):
            model = change_model(lane['model'], action[4:])
            if model != lane['model']:
                by_model.setdefault(model, []).append(test)
        elif action.startswith('retry='):
            retried.append((test, int(action[6:])))
    excluded = sorted([t for ts in by_model.values() for t in ts] + [t for t, _ in retried])
    out = [{'name': lane['lane'], 'model': lane['model'], 'tries': 1,
            'silence': MAIN_SILENCE, 'limit': MAIN_LIMIT,
            'select': f"harness.exclude={','.join(excluded)}" if excluded else ''}]
    for model, tests in sorted(by_model.items()):
        suffix = re.sub(r'[^A-Za-z0-9-]', '_', model.replace('max,', '').replace('vendor=', ''))
        out.append({'name': f"{lane['lane']}-{suffix}", 'model': model, 'tries': 1,
                    'silence': MAIN_SILENCE, 'limit': MAIN_LIMIT,
                    'select': f"harness.only={','.join(tests)}"})
    for test, tries in retried:
        out.append({'name': f"{lane['lane']}-{test}", 'model': lane['model'], 'tries': tries,
                    'silence': RETRY_SILENCE, 'limit': RETRY_LIMIT,
                    'select': f'harness.only={test} harness.timeout={RETRY_TEST_SILENCE}'})
    return out


MELTDOWN_AFFECTED = {'intel'}


def boot_option_rule(args, cpu):
    """What the kaiser kernel must print for kernel parameters ARGS on
    CPU, by the rule Documentation/admin-guide/kernel-parameters.txt
    states (written from that text, not from kaiser.c): kaiser= and pti=
    take on, off or auto, nokaiser and nopti mean off, and the last of
    these four counts; a missing or unknown value is warned about and
    means auto, a value given to nokaiser or nopti is warned about and
    ignored.  Under auto, mitigations=off (the last mitigations= counts)
    means off, and otherwise KAISER is on exactly when the CPU is
    affected by Meltdown."""
    mode, by, warnings, mitigations = 'auto', None, [], 'auto'
    for a in args.split():
        name, eq, val = a.partition('=')
        if name in ('kaiser', 'pti'):
            if not eq:
                warnings.append(f"KAISER: '{name}' needs a value (on, off or auto); using auto")
                mode, by = 'auto', None
            elif val in ('on', 'off', 'auto'):
                mode, by = val, a
            else:
                warnings.append(f"KAISER: unknown value in '{a}' (expected on, off or auto); using auto")
                mode, by = 'auto', None
        elif name in ('nokaiser', 'nopti'):
            if eq:
                warnings.append(f"KAISER: '{name}' takes no value, ignoring '={val}'")
            mode, by = 'off', name
        elif name == 'mitigations':
            mitigations = val
    affected = cpu in MELTDOWN_AFFECTED
    if mode in ('on', 'off'):
        on = mode == 'on'
        line = f"KAISER: {'enabled' if on else 'disabled'} by '{by}' on the command line"
    elif mitigations == 'off':
        on, line = False, 'KAISER: disabled: mitigations=off'
    elif affected:
        on, line = True, 'KAISER: enabled: CPU affected by Meltdown'
    else:
        on, line = False, 'KAISER: disabled: CPU not affected by Meltdown'
    meltdown = ('Mitigation: KAISER' if on else 'Vulnerable') if affected else 'Not affected'
    return {'line': line, 'flag': 'kaiser' if on else 'none', 'meltdown': meltdown,
            'warnings': warnings}


def load_boot_options(path=BOOT_OPTIONS):
    rows = []
    for n, c in read_rows(path, 2):
        args = '' if c[0] == '-' else c[0]
        for cpu in ' '.join(c[1:]).split():
            row = {'args': args, 'cpu': cpu, 'model': cpu_model(cpu, path, n)}
            row.update(boot_option_rule(args, cpu))
            rows.append(row)
    return rows


def load_pcid_lane(path=PCID_LANE, bochs=BOCHS):
    """The PCID lane's boots; each runs the selftests but those
    selftests-under-bochs.tsv names (test, reason)."""
    excluded = sorted(c[0] for _, c in read_rows(bochs, 2))
    boots = []
    for n, c in read_rows(path, 7):
        if c[3] not in BOCHS_MODELS:
            raise TableError(f"{path}:{n}: unknown Bochs model '{c[3]}' (one of: {', '.join(BOCHS_MODELS)})")
        if c[4] not in ('selftests', 'report'):
            raise TableError(f"{path}:{n}: unknown suite '{c[4]}' (selftests or report)")
        select = f"harness.exclude={','.join(excluded)}" if excluded and c[4] == 'selftests' else ''
        boots.append({'name': c[0], 'flavour': c[1], 'smp': c[2], 'model': c[3],
                      'suite': c[4], 'tlb': c[5], 'isolation': c[6],
                      'args': ' '.join(c[7:] + [select]).strip()})
    return boots


def main(argv):
    try:
        if len(argv) >= 2 and argv[1] == 'lanes':
            lanes = load_every_lane() if argv[2:] else load_lanes()
            if argv[2:]:
                known = {l['lane'] for l in lanes}
                unknown = [a for a in argv[2:] if a not in known]
                if unknown:
                    raise TableError(f"no lane {', '.join(unknown)} in {os.path.normpath(LANES)}")
                lanes = [l for l in lanes if l['lane'] in argv[2:]]
            for l in lanes:
                print('\t'.join([l['lane'], l['flavour'], l['smp'], l['model'],
                                 l['ref'] or '-', l['args']]))
        elif len(argv) == 3 and argv[1] == 'boots':
            lane = [l for l in load_every_lane() if l['lane'] == argv[2]]
            if not lane:
                raise TableError(f'no lane {argv[2]} in {os.path.normpath(LANES)}')
            for b in boots(lane[0], load_tcg()):
                print('\t'.join(str(b[k]) for k in
                                ('name', 'model', 'tries', 'silence', 'limit', 'select')))
        elif len(argv) == 2 and argv[1] == 'boot-options':
            for r in load_boot_options():
                print('\t'.join([r['args'] or '-', r['cpu'], r['model'], r['line'], r['flag'],
                                 r['meltdown'], '|'.join(r['warnings']) or '-']))
        elif len(argv) == 2 and argv[1] == 'pcid-lane':
            for b in load_pcid_lane():
                print('\t'.join(b[k] for k in
                                ('name', 'flavour', 'smp', 'model', 'suite', 'tlb', 'isolation',
                                 'args')))
        else:
            print(__doc__.strip(), file=sys.stderr)
            return 2
    except (OSError, TableError) as e:
        print(f'tables.py: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))

#!/bin/bash
# Boot the kaiser kernel once per row and CPU of tests/boot-options.tsv
# (1 vCPU, two boots at a time) and hold what it printed against what
# scripts/tables.py's statement of the documented rule expects: exactly
# one decision line, the expected one; the cpuinfo flag; the meltdown
# vulnerabilities line; exactly the expected warnings (a malformed value
# named, nothing else); no "unknown parameter" report.  Then the table
# of what was observed, option by option and CPU by CPU, must be the
# README's (between its boot-options markers): with --write-readme it is
# written there.  KTAP on stdout; logs in build/results/boot-options/.
#
# usage: scripts/check-boot-options.sh [--write-readme]
set -uo pipefail
. "$(dirname "$0")/lib.sh"

write_readme=
case "${1:-}" in
--write-readme) write_readme=1 ;;
"") ;;
*) die "usage: $0 [--write-readme]" ;;
esac
hold_build_lock

OUT=$BUILD/results/boot-options
rm -rf "$OUT"
mkdir -p "$OUT"
export LOGS=$OUT
README=$TOP/README.md
BEGIN='<!-- scripts/check-boot-options.sh writes from here: do not edit -->'
END='<!-- scripts/check-boot-options.sh wrote up to here -->'
WARNING_RE="^KAISER: (unknown value in|'[a-z]+' needs a value|'[a-z]+' takes no value)"

rows=$("$TOP/scripts/tables.py" boot-options) || exit 1
mapfile -t row <<<"$rows"

# Two boots at a time: each has 1 vCPU, the host 2 cores.
n=0
for r in "${row[@]}"; do
	n=$((n + 1))
	IFS=$'\t' read -r args cpu model _ <<<"$r"
	[ "$args" = - ] && args=
	while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n; done
	"$TOP/scripts/boot.sh" --name "option-$n" --cpu "$model" --smp 1 --silence 120 --timeout 300 \
		--args "$args" kaiser >"$OUT/option-$n.out" 2>&1 &
done
wait

ktap_begin
: >"$OUT/observed.tsv"
n=0
for r in "${row[@]}"; do
	n=$((n + 1))
	IFS=$'\t' read -r args cpu model line flag meltdown warnings <<<"$r"
	[ "$args" = - ] && args=
	log=$OUT/option-$n.log
	what="'${args:-no option}' on $cpu"
	fails=()
	# The kernel's own lines, without their timestamps
	klines=$(sed -n 's/^\[ *[0-9]*\.[0-9]*\] //p' "$log" 2>/dev/null)
	[ -s "$log" ] && grep -q '^harness: end of run: suite=report result=ok' "$log" ||
		fails+=("the boot failed: $(tail -1 "$OUT/option-$n.out")")
	decisions=$(grep -E '^KAISER: (enabled|disabled)' <<<"$klines")
	if [ "$(grep -c . <<<"$decisions")" != 1 ]; then
		fails+=("expected one decision line, got: $(tr '\n' '|' <<<"$decisions")")
	elif [ "$decisions" != "$line" ]; then
		fails+=("decision '$decisions', expected '$line'")
	fi
	got=$(sed -n 's/^cpuinfo isolation flags: //p' "$log" | tr -d ' ')
	[ "$got" = "$flag" ] || fails+=("cpuinfo isolation flags '$got', expected '$flag'")
	got=$(sed -n 's/^meltdown: //p' "$log")
	[ "$got" = "$meltdown" ] || fails+=("meltdown '$got', expected '$meltdown'")
	got=$(grep -E "$WARNING_RE" <<<"$klines" | paste -sd'|')
	[ "$warnings" = - ] && warnings=
	[ "$got" = "$warnings" ] || fails+=("warnings '$got', expected '${warnings:-none}'")
	if grep -A3 'Unknown kernel command line parameters' <<<"$klines" | grep -qE 'kaiser|pti|mitigations'; then
		fails+=("reported as an unknown kernel parameter")
	fi
	if [ ${#fails[@]} = 0 ]; then
		ktap_result pass "boot option $what: $line${warnings:+ (warns: $warnings)}"
	else
		ktap_result fail "boot option $what" "$(printf '%s; ' "${fails[@]}" | sed 's/; $//') (log: $log)"
	fi
	printf '%s\t%s\t%s\t%s\n' "${args:--}" "$cpu" "${decisions:-?}" "${got:+warns}" >>"$OUT/observed.tsv"
done

# The README's table: what each option did on each CPU, as observed.
python3 - "$OUT/observed.tsv" >"$OUT/table.md" <<'EOF'
import re
import sys

CPUS = [('intel', 'Intel (Meltdown)'), ('amd', 'AMD'), ('zen', 'AMD Zen 2')]
rows, cells = [], {}
for line in open(sys.argv[1]):
    args, cpu, decision, warns = line.rstrip('\n').split('\t')
    if args not in cells:
        rows.append(args)
        cells[args] = {}
    m = re.fullmatch(r"KAISER: (enabled|disabled) by '([^']+)' on the command line", decision)
    if m:
        cell = f"{'on' if m[1] == 'enabled' else 'off'}, by `{m[2]}`"
    else:
        m = re.fullmatch(r'KAISER: (enabled|disabled): (.*)', decision)
        cell = f"{'on' if m[1] == 'enabled' else 'off'}: {m[2]}" if m else f'? ({decision})'
    cells[args][cpu] = cell + (', warns' if warns else '')
used = [c for c in CPUS if any(c[0] in cells[a] for a in rows)]
print('| kernel parameters | ' + ' | '.join(name for _, name in used) + ' |')
print('|---|' + '---|' * len(used))
for a in rows:
    print(f"| `{a}` | " if a != '-' else '| (none) | ', end='')
    print(' | '.join(cells[a].get(c, '') for c, _ in used) + ' |')
EOF
if [ -n "$write_readme" ]; then
	python3 - "$README" "$OUT/table.md" "$BEGIN" "$END" <<'EOF' || die "could not write the table into $README"
import os
import sys
readme, table, begin, end = sys.argv[1:]
text = open(readme).read()
if begin not in text or end not in text:
    sys.exit(f'{readme}: no "{begin}" ... "{end}" block')
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
with open(readme + '.new', 'w') as f:
    f.write(head + begin + '\n' + open(table).read() + end + tail)
os.replace(readme + '.new', readme)
EOF
	note "wrote the observed table into $README"
fi
readme_table=$(awk -v b="$BEGIN" -v e="$END" '$0 == e { f = 0 } f { print } $0 == b { f = 1 }' "$README")
if [ "$readme_table" = "$(cat "$OUT/table.md")" ]; then
	ktap_result pass "the README's table of boot options is the one observed ($(grep -c '^| `\|^| (none)' "$OUT/table.md") rows)"
else
	diff <(echo "$readme_table") "$OUT/table.md" | sed 's/^/# /' | head -10
	ktap_result fail "the README's table of boot options is the one observed" \
		"it differs: scripts/check-boot-options.sh --write-readme writes it"
fi
ktap_end

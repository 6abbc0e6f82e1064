#!/bin/bash
# Check one guest serial log for kernel trouble: any BUG:, Oops, WARNING:,
# general protection fault, kernel panic, kernel BUG or RIP: line printed
# by the kernel, or a missing end-of-run marker, fails it.  Prints the
# first problem on stdout and exits 1; silent with status 0 on a clean log.
#
# usage: scripts/check-log.sh LOG
set -uo pipefail

log=${1:-}
[ -n "$log" ] || { echo "usage: $0 LOG" >&2; exit 2; }
[ -f "$log" ] || { echo "no log at $log"; exit 1; }

# Kernel lines carry a printk timestamp (CONFIG_PRINTK_TIME); test output
# does not.  The timestamp may follow user output on the same line when
# the two interleave on the console.
ts='\[ *[0-9]+\.[0-9]{6}\]'
pat="$ts.*(BUG:|Oops|WARNING:|general protection|Kernel panic|kernel BUG|RIP:)"
# Not trouble: bugs.c's advice on a vulnerable CPU model (an emulated AMD
# Zen has no microcode for SRSO), which says "WARNING: See <the hw-vuln
# documentation>".  A WARN() splat never looks like that.
advice='WARNING: See https://kernel.org/doc/html/latest/admin-guide/hw-vuln/'
hit=$(grep -aE "$pat" "$log" | grep -avF "$advice" | head -1)
if [ -n "$hit" ]; then
	echo "kernel trouble: $(echo "$hit" | sed -E "s/^.*($ts)/\1/" | cut -c1-200)"
	exit 1
fi
if ! grep -aq '^harness: end of run: ' "$log"; then
	last=$(grep -a . "$log" | tail -1 | cut -c1-160)
	echo "no end-of-run marker (last line: ${last:-<empty log>})"
	exit 1
fi
exit 0

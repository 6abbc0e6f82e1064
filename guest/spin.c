// SPDX-License-Identifier: GPL-2.0
/*
 * spin: stay in user mode, without system calls, for SECONDS of guest
 * time, so that the host can stop the VM while this CPU runs user code
 * and read, through QMP, the page tables behind its CR3 (see
 * scripts/check-isolation.py).  It installs an LDT entry first, so that
 * the host also finds the LDT's alias in those page tables.  Prints a
 * marker when it starts.
 *
 * usage: spin SECONDS
 */
#include <asm/ldt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

int main(int argc, char **argv)
{
	int secs = argc > 1 ? atoi(argv[1]) : 0;
	unsigned long long start, hz = 0;
	struct timespec t0, t1;
	volatile unsigned long n = 0;
	double elapsed;

	if (secs < 1) {
		fprintf(stderr, "usage: spin SECONDS\n");
		return 2;
	}
	struct user_desc desc;

	memset(&desc, 0, sizeof(desc));
	desc.entry_number = 0;
	desc.limit = 0xfffff;
	desc.seg_32bit = 1;
	desc.limit_in_pages = 1;
	desc.useable = 1;
	if (syscall(SYS_modify_ldt, 1, &desc, sizeof(desc))) {
		perror("spin: modify_ldt");
		return 1;
	}

	/* Calibrate the TSC once, then loop on it: no system call in the loop. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	start = __rdtsc();
	do {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		elapsed = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	} while (elapsed < 0.05);
	hz = (__rdtsc() - start) / elapsed;

	printf("harness: spinning in user mode for %d s\n", secs);
	fflush(stdout);
	start = __rdtsc();
	while (__rdtsc() - start < hz * secs)
		n++;
	printf("harness: spin done\n");
	return 0;
}

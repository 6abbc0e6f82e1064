// SPDX-License-Identifier: GPL-2.0
/*
 * make check's leak check (guest/init's "leaks" suite): create and reap
 * processes in the three ways that make KAISER allocate and free memory
 * per process, and check that the kernel's memory counters come back to
 * where they started:
 *
 *   fork      N plain processes: each mm's order-1 PGD, kernel half and
 *             shadow half, and the shadow's share of the user page tables;
 *   ldt       N processes that each install an LDT: its alias in the LDT
 *             remap area, mapped into the shadow and unmapped at exit;
 *   vsyscall  N processes that call and read the vsyscall page (boot with
 *             vsyscall=emulate: the shadow maps the page readable).
 *
 * Before each phase the counters are read once caches have settled (a
 * warm-up round of every kind of process first, then drop_caches and a
 * pause for RCU-deferred frees); after it, the same, and the difference
 * must stay within the bound printed beside it.  A leak of one 4 KiB page
 * per process shows as 40 MB after the fork phase and 4 MB after the
 * others, far outside the bounds.
 *
 * Prints one line per phase and counter, "leakcheck: ok ..." or
 * "leakcheck: not ok ...", for scripts/check-leaks.sh; exits 1 if any
 * is not ok.
 *
 * usage: leakcheck [FORKS [LDTS [VSYSCALLS]]]   (default 10000 1000 1000)
 */
#define _GNU_SOURCE
#include <asm/ldt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define VSYSCALL_GTOD	0xffffffffff600000UL

/* /proc/meminfo fields compared, and how far each may move (kB). */
static const struct counter {
	const char *name;
	long bound_kb;
} counters[] = {
	/* A few pages: per-CPU page lists and lazily dropped mms */
	{ "MemFree", 2048 },
	{ "PageTables", 16 },
	{ "KernelStack", 64 },
	{ "SUnreclaim", 512 },
};
#define NR_COUNTERS (sizeof(counters) / sizeof(counters[0]))

static long meminfo(const char *name)
{
	char line[256];
	size_t n = strlen(name);
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f) {
		perror("leakcheck: /proc/meminfo");
		exit(2);
	}
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ':') {
			kb = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	if (kb < 0) {
		fprintf(stderr, "leakcheck: no %s in /proc/meminfo\n", name);
		exit(2);
	}
	return kb;
}

/* Let what exits free settle: page cache dropped, RCU callbacks run. */
static void settle(long *kb)
{
	FILE *f = fopen("/proc/sys/vm/drop_caches", "w");

	sync();
	if (f) {
		fputs("3\n", f);
		fclose(f);
	}
	usleep(1500 * 1000);
	for (size_t i = 0; i < NR_COUNTERS; i++)
		kb[i] = meminfo(counters[i].name);
}

/* What each kind of child does before it exits; 0 means it worked. */
static int child_fork(void)
{
	return 0;
}

static int child_ldt(void)
{
	struct user_desc desc = {
		.entry_number = 0,
		.base_addr = 0,
		.limit = 0xfffff,
		.seg_32bit = 1,
		.contents = 0,	/* data, expand-up */
		.read_exec_only = 0,
		.limit_in_pages = 1,
		.seg_not_present = 0,
		.useable = 1,
	};
	unsigned short sel = (0 << 3) | 4 | 3;	/* LDT entry 0, RPL 3 */

	if (syscall(SYS_modify_ldt, 1, &desc, sizeof(desc)) != 0)
		return 1;
	/* Load it: the CPU reads the descriptor through the LDT's alias. */
	asm volatile("mov %0, %%fs" : : "r" (sel));
	return 0;
}

static int child_vsyscall(void)
{
	int (*gtod)(struct timeval *, void *) = (void *)VSYSCALL_GTOD;
	struct timeval tv;

	if (gtod(&tv, NULL) != 0 || tv.tv_sec == 0)
		return 1;
	/* vsyscall=emulate: the page is readable, and starts with code. */
	return *(volatile unsigned char *)VSYSCALL_GTOD == 0;
}

static const struct phase {
	const char *name;
	int (*child)(void);
} phases[] = {
	{ "fork", child_fork },
	{ "ldt", child_ldt },
	{ "vsyscall", child_vsyscall },
};

/* Create and reap @n children doing @child; the number that failed. */
static long run(const struct phase *p, long n)
{
	long bad = 0;

	for (long i = 0; i < n; i++) {
		int status;
		pid_t pid = fork();

		if (pid < 0) {
			perror("leakcheck: fork");
			exit(2);
		}
		if (pid == 0)
			_exit(p->child());
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			bad++;
	}
	return bad;
}

int main(int argc, char **argv)
{
	long n[3] = { 10000, 1000, 1000 };
	long before[NR_COUNTERS], after[NR_COUNTERS];
	int failed = 0;

	for (int i = 1; i < argc && i <= 3; i++)
		n[i - 1] = strtol(argv[i], NULL, 10);

	/* Warm-up: slab caches, per-CPU lists and the vsyscall fault path */
	for (size_t k = 0; k < 3; k++)
		run(&phases[k], 100);

	for (size_t k = 0; k < 3; k++) {
		const struct phase *p = &phases[k];
		long bad;

		settle(before);
		bad = run(p, n[k]);
		settle(after);
		if (bad) {
			printf("leakcheck: not ok %s: %ld of %ld children failed\n",
			       p->name, bad, n[k]);
			failed = 1;
		}
		for (size_t i = 0; i < NR_COUNTERS; i++) {
			long d = after[i] - before[i];
			/* Memory lost is MemFree going down, anything else up */
			long lost = i == 0 ? -d : d;
			int ok = lost <= counters[i].bound_kb;

			printf("leakcheck: %s %s: %s %ld kB -> %ld kB (%+ld kB) after %ld processes, bound %ld kB\n",
			       ok ? "ok" : "not ok", p->name, counters[i].name,
			       before[i], after[i], d, n[k], counters[i].bound_kb);
			failed |= !ok;
		}
	}
	return failed;
}

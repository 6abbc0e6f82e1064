// SPDX-License-Identifier: GPL-2.0
/*
 * kbench: the guest side of 'make bench'.  Times the kernel paths that
 * page table isolation makes dearer, each as guest nanoseconds per
 * operation.  Under QEMU's -icount shift=0 a guest nanosecond is one
 * guest instruction, so the figures are instruction counts, the same on
 * every run of the same kernel.
 *
 *   getppid            a system call that does nothing: SYSCALL's entry
 *                      and exit
 *   read64             read() of 64 bytes from /dev/zero
 *   pipe_pingpong      a byte there and back between two processes: two
 *                      context switches (CR3 writes), four system calls
 *   fork_exit          fork(), _exit() in the child, waitpid(): page
 *                      tables built and torn down
 *   page_fault         first touch of fresh anonymous memory
 *   sched_yield        sched_yield() with nothing else to run
 *   int80_getppid      getppid through int $0x80, the 32-bit entry an IDT
 *                      gate takes
 *   user_interrupt     what one interrupt taken from user mode costs: a
 *                      user loop that reads the TSC finds the gaps a
 *                      timer asked for 1 kHz (and the tick) leaves in it
 *   pagetables         memory, not time: PageTables and MemFree in
 *                      /proc/meminfo, before and with 200 sleeping
 *                      processes, per process
 * Built with -m32 (kbench32) it has one operation, the 32-bit vDSO's
 * system call: SYSENTER on Intel (sysenter_getppid), SYSCALL on AMD
 * (syscall32_getppid).
 *
 * Each figure runs the operation until it takes about MS milliseconds
 * of guest time, RUNS times, and prints the median:
 *   kbench: NAME NS ns/op TSC tsc/op (N ops, RUNS runs, spread S%)
 * TSC being time-stamp counter ticks per operation: under Bochs, whose
 * TSC ticks once per instruction (clock: sync=none, one CPU), the
 * instruction count.  Memory:
 *   kbench-memory: NAME KB kB/process (...)
 *
 * usage: kbench [-m MS] [-r RUNS] [OPERATION...]   (default: all, 100 ms, 3)
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

struct stamp {
	double ns;
	double tsc;
};

static struct stamp now(void)
{
	struct timespec ts;
	struct stamp s;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	s.tsc = (double)__rdtsc();
	s.ns = ts.tv_sec * 1e9 + ts.tv_nsec;
	return s;
}

static struct stamp since(struct stamp t0)
{
	struct stamp t1 = now();

	return (struct stamp){ t1.ns - t0.ns, t1.tsc - t0.tsc };
}

static void die(const char *what)
{
	fprintf(stderr, "kbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/*
 * Each operation runs N times and returns the time that took, leaving
 * out its own setup (a child to talk to, memory to fault in).
 */
typedef struct stamp (*op_fn)(long n);

#ifdef __x86_64__
static struct stamp op_getppid(long n)
{
	struct stamp t0 = now();

	while (n--)
		syscall(SYS_getppid);
	return since(t0);
}

static struct stamp op_read64(long n)
{
	int fd = open("/dev/zero", O_RDONLY);
	struct stamp t0;
	char buf[64];

	if (fd < 0)
		die("/dev/zero");
	t0 = now();
	while (n--)
		if (read(fd, buf, sizeof(buf)) != sizeof(buf))
			die("read");
	t0 = since(t0);
	close(fd);
	return t0;
}

static struct stamp op_pipe_pingpong(long n)
{
	int ping[2], pong[2];
	struct stamp t0;
	char c = 0;
	pid_t pid;

	if (pipe(ping) || pipe(pong))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(ping[1]);		/* or the read below never sees EOF */
		close(pong[0]);
		while (read(ping[0], &c, 1) == 1)
			if (write(pong[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(ping[0]);
	close(pong[1]);
	t0 = now();
	while (n--)
		if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
			die("pipe round trip");
	t0 = since(t0);
	close(ping[1]);
	close(pong[0]);
	waitpid(pid, NULL, 0);
	return t0;
}

static struct stamp op_fork_exit(long n)
{
	struct stamp t0 = now();

	while (n--) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0)
			_exit(0);
		if (waitpid(pid, NULL, 0) != pid)
			die("waitpid");
	}
	return since(t0);
}

/*
 * Fresh memory in chunks, so that a long run does not need its whole
 * footprint at once; mmap() and munmap() are not timed.
 */
static struct stamp op_page_fault(long n)
{
	long page = sysconf(_SC_PAGESIZE), chunk = 4096, i;
	struct stamp sum = { 0, 0 }, t0, d;
	volatile char *p;

	while (n > 0) {
		long k = n < chunk ? n : chunk;

		p = mmap(NULL, k * page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die("mmap");
		t0 = now();
		for (i = 0; i < k; i++)
			p[i * page] = 1;
		d = since(t0);
		sum.ns += d.ns;
		sum.tsc += d.tsc;
		munmap((void *)p, k * page);
		n -= k;
	}
	return sum;
}

static struct stamp op_sched_yield(long n)
{
	struct stamp t0 = now();

	while (n--)
		sched_yield();
	return since(t0);
}

/* i386's __NR_getppid: int $0x80 takes the 32-bit table, even from here. */
#define NR32_getppid 64

static struct stamp op_int80_getppid(long n)
{
	struct stamp t0 = now();
	long ret;

	while (n--) {
		asm volatile("int $0x80" : "=a" (ret) : "0" ((long)NR32_getppid)
			     : "memory", "r8", "r9", "r10", "r11");
		if (ret < 0) {
			errno = -ret;
			die("int $0x80");
		}
	}
	return since(t0);
}
#else
#define NR32_getppid 64

static unsigned long vsyscall;

/* __kernel_vsyscall keeps every register but %eax. */
static struct stamp op_vdso32_getppid(long n)
{
	struct stamp t0 = now();
	long ret;

	while (n--) {
		asm volatile("call *%[entry]" : "=a" (ret)
			     : "0" ((long)NR32_getppid), [entry] "r" (vsyscall)
			     : "memory", "cc");
		if (ret < 0) {
			errno = -ret;
			die("the vDSO's system call");
		}
	}
	return since(t0);
}
#endif

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#define MAX_RUNS 15

/*
 * Run OP until it takes about MS milliseconds, then RUNS times that
 * long: the median of the runs is the figure, their range its spread.
 */
static void measure(const char *name, op_fn op, double ms, int runs)
{
	double ns[MAX_RUNS], tsc[MAX_RUNS], target;
	long n = 1;
	struct stamp d;
	int i;

	/*
	 * A fork grows the slab caches its task, mm and page tables come
	 * from: runs of twenty forks spread by 10%, runs of two hundred by
	 * about 1%.  So fork_exit runs at least 40 ms (some 170 forks).
	 */
	if (!strcmp(name, "fork_exit") && ms < 40)
		ms = 40;
	target = ms * 1e6;
	op(10);				/* warm the caches and the TLB */
	for (;;) {
		d = op(n);
		if (d.ns >= target / 8 || n > (1L << 28))
			break;
		n *= 2;
	}
	if (d.ns > 0)
		n = (long)(n * target / d.ns);
	if (n < 1)
		n = 1;
	for (i = 0; i < runs; i++) {
		d = op(n);
		ns[i] = d.ns / n;
		tsc[i] = d.tsc / n;
	}
	qsort(ns, runs, sizeof(*ns), cmp_double);
	qsort(tsc, runs, sizeof(*tsc), cmp_double);
	printf("kbench: %s %.1f ns/op %.1f tsc/op (%ld ops, %d runs, spread %.2f%%)\n",
	       name, ns[runs / 2], tsc[runs / 2], n, runs,
	       ns[runs / 2] > 0 ? (ns[runs - 1] - ns[0]) / ns[runs / 2] * 100 : 0);
}

#ifdef __x86_64__
/*
 * A loop iteration reads the TSC and takes a few instructions; an
 * interrupt taken from user mode shows as a gap thousands of ticks long.
 * The time lost per interrupt is the gaps' time over their number, less
 * what the loop's own iteration would have taken.  Beside the tick, a
 * POSIX timer asks for 1 kHz with its SIGALRM ignored, so that no signal
 * is delivered and nothing else runs: what is left is the interrupt's
 * entry and exit and the timer's handler.  (The kernel fires an ignored
 * timer at most once a jiffy, so with HZ=250 the rate is the tick's and
 * that timer's together; the figure is per interrupt whatever the rate.)
 * A run lasts at least 40 ms, to hold some ten interrupts.
 */
#define GAP_TICKS 400

static void measure_user_interrupt(double ms, int runs)
{
	struct itimerspec it = { { 0, 1000000 }, { 0, 1000000 } };
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM };
	double lost[MAX_RUNS], ns_per_tick = 1, rate = 0;
	timer_t timer;
	int i;

	if (ms < 40)
		ms = 40;
	signal(SIGALRM, SIG_IGN);
	if (timer_create(CLOCK_MONOTONIC, &ev, &timer) || timer_settime(timer, 0, &it, NULL))
		die("a 1 kHz timer");
	for (i = 0; i < runs; i++) {
		unsigned long long t, prev, end, gaps = 0, gap_ticks = 0, min = ~0ULL;
		struct stamp t0 = now(), d;

		prev = __rdtsc();
		end = prev + (unsigned long long)(ms * 1e6 / ns_per_tick);
		do {
			t = __rdtsc();
			if (t - prev > GAP_TICKS) {
				gaps++;
				gap_ticks += t - prev;
			} else if (t - prev < min) {
				min = t - prev;
			}
			prev = t;
		} while (t < end);
		d = since(t0);
		if (d.tsc > 0)
			ns_per_tick = d.ns / d.tsc;
		if (!gaps) {
			fprintf(stderr, "kbench: user_interrupt: no interrupt in %.0f ms\n", ms);
			exit(1);
		}
		lost[i] = (double)(gap_ticks - gaps * min) / gaps;
		rate = gaps / (d.ns / 1e9);
	}
	timer_delete(timer);
	qsort(lost, runs, sizeof(*lost), cmp_double);
	printf("kbench: user_interrupt %.1f ns/op %.1f tsc/op (%.0f interrupts/s, %d runs, spread %.2f%%)\n",
	       lost[runs / 2] * ns_per_tick, lost[runs / 2], rate, runs,
	       lost[runs / 2] > 0 ? (lost[runs - 1] - lost[0]) / lost[runs / 2] * 100 : 0);
}

static long meminfo_kb(const char *field)
{
	char line[256];
	size_t len = strlen(field);
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		die("/proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			kb = atol(line + len + 1);
	fclose(f);
	if (kb < 0) {
		fprintf(stderr, "kbench: no %s in /proc/meminfo\n", field);
		exit(1);
	}
	return kb;
}

#define SLEEPERS 200

/*
 * Page-table memory per process: 200 children that each touched a page
 * of their own stack and sleep.  MemFree also counts what PageTables
 * leaves out (the PGD, and KAISER's shadow PGD beside it) and every
 * other per-process allocation, so it is stated beside it, not for it.
 */
static void measure_pagetables(void)
{
	long pt0, free0, pt1, free1;
	pid_t pids[SLEEPERS];
	int ready[2], i;
	char c;

	if (pipe(ready))
		die("pipe");
	pt0 = meminfo_kb("PageTables");
	free0 = meminfo_kb("MemFree");
	for (i = 0; i < SLEEPERS; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (pids[i] == 0) {
			if (write(ready[1], "", 1) != 1)
				_exit(1);
			pause();
			_exit(0);
		}
	}
	for (i = 0; i < SLEEPERS; i++)
		if (read(ready[0], &c, 1) != 1)
			die("a sleeper's start");
	pt1 = meminfo_kb("PageTables");
	free1 = meminfo_kb("MemFree");
	for (i = 0; i < SLEEPERS; i++)
		kill(pids[i], SIGKILL);
	for (i = 0; i < SLEEPERS; i++)
		waitpid(pids[i], NULL, 0);
	close(ready[0]);
	close(ready[1]);
	printf("kbench-memory: pagetables %.1f kB/process (%d processes: PageTables %ld -> %ld kB)\n",
	       (double)(pt1 - pt0) / SLEEPERS, SLEEPERS, pt0, pt1);
	printf("kbench-memory: memfree %.1f kB/process (%d processes: MemFree %ld -> %ld kB)\n",
	       (double)(free0 - free1) / SLEEPERS, SLEEPERS, free0, free1);
}
#endif

static const char *vdso32_name(void)
{
	unsigned int a, b = 0, c = 0, d = 0;
	char vendor[13];

	__get_cpuid(0, &a, &b, &c, &d);
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &c, 4);
	vendor[12] = 0;
	if (!strcmp(vendor, "GenuineIntel"))
		return "sysenter_getppid";
	if (!strcmp(vendor, "AuthenticAMD"))
		return "syscall32_getppid";
	return "vdso32_getppid";
}

static const struct {
	const char *name;
	op_fn op;
} ops[] = {
#ifdef __x86_64__
	{ "getppid", op_getppid },
	{ "read64", op_read64 },
	{ "pipe_pingpong", op_pipe_pingpong },
	{ "fork_exit", op_fork_exit },
	{ "page_fault", op_page_fault },
	{ "sched_yield", op_sched_yield },
	{ "int80_getppid", op_int80_getppid },
	{ "user_interrupt", NULL },
	{ "pagetables", NULL },
#else
	{ "vdso32_getppid", op_vdso32_getppid },
#endif
};
#define NR_OPS (sizeof(ops) / sizeof(ops[0]))

static void run(unsigned int i, double ms, int runs)
{
#ifdef __x86_64__
	if (!strcmp(ops[i].name, "user_interrupt"))
		measure_user_interrupt(ms, runs);
	else if (!strcmp(ops[i].name, "pagetables"))
		measure_pagetables();
	else
		measure(ops[i].name, ops[i].op, ms, runs);
#else
	vsyscall = getauxval(AT_SYSINFO);
	if (!vsyscall) {
		fprintf(stderr, "kbench: no AT_SYSINFO: no 32-bit vDSO\n");
		exit(1);
	}
	measure(vdso32_name(), ops[i].op, ms, runs);
#endif
}

int main(int argc, char **argv)
{
	double ms = 100;
	int runs = 3, opt;
	unsigned int i;

	while ((opt = getopt(argc, argv, "m:r:")) != -1) {
		switch (opt) {
		case 'm':
			ms = atof(optarg);
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (ms <= 0 || runs < 1 || runs > MAX_RUNS)
		goto usage;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (optind == argc) {
		for (i = 0; i < NR_OPS; i++)
			run(i, ms, runs);
		return 0;
	}
	for (; optind < argc; optind++) {
		const char *want = argv[optind];

		for (i = 0; i < NR_OPS; i++)
			if (!strcmp(ops[i].name, want) ||
			    (ops[i].op && !strcmp(want, vdso32_name()) &&
			     !strcmp(ops[i].name, "vdso32_getppid")))
				break;
		if (i == NR_OPS) {
			fprintf(stderr, "kbench: no operation '%s' in this build\n", want);
			return 2;
		}
		run(i, ms, runs);
	}
	return 0;
usage:
	fprintf(stderr, "usage: kbench [-m MS > 0] [-r RUNS, 1 to %d] [OPERATION...]\n", MAX_RUNS);
	return 2;
}

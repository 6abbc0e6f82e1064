// SPDX-License-Identifier: GPL-2.0
/*
 * kbench: the guest side of 'make bench'.  Times the kernel paths that
 * page table isolation makes dearer, each as guest nanoseconds per
 * operation.  Under QEMU's -icount shift=0 a guest nanosecond is one
 * guest instruction, so the figures are instruction counts, the same on
 * every run of the same kernel.
 *
 *   getppid     a system call that does nothing: the entry and exit cost
 *   pipe        a byte back and forth between two processes: two context
 *               switches (CR3 writes) and four system calls per round trip
 *   fork        fork(), _exit() in the child, waitpid(): page table setup
 *               and teardown
 *   fault       first touch of an anonymous page: a page fault
 *   read        read() of 64 bytes from /dev/zero
 *
 * Output: one line per figure, "kbench: NAME NS ns/op TSC tsc/op (N ops)",
 * TSC being time-stamp counter ticks per operation: under Bochs, whose
 * TSC ticks once per instruction (clock: sync=none, one CPU), the
 * instruction count.
 * usage: kbench [SCALE]   (SCALE multiplies the iteration counts; default 1)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <x86intrin.h>

struct stamp {
	double ns;
	unsigned long long tsc;
};

static struct stamp now(void)
{
	struct timespec ts;
	struct stamp s;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	s.tsc = __rdtsc();
	s.ns = ts.tv_sec * 1e9 + ts.tv_nsec;
	return s;
}

static void die(const char *what)
{
	fprintf(stderr, "kbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void report(const char *name, struct stamp t0, long n)
{
	struct stamp t1 = now();

	printf("kbench: %s %.1f ns/op %.1f tsc/op (%ld ops)\n", name,
	       (t1.ns - t0.ns) / n, (double)(t1.tsc - t0.tsc) / n, n);
	fflush(stdout);
}

static void bench_getppid(long n)
{
	struct stamp t0;
	long i;

	for (i = 0; i < 1000; i++)	/* warm the caches and the TLB */
		syscall(SYS_getppid);
	t0 = now();
	for (i = 0; i < n; i++)
		syscall(SYS_getppid);
	report("getppid", t0, n);
}

static void bench_pipe(long n)
{
	int ping[2], pong[2];
	char c = 0;
	struct stamp t0;
	pid_t pid;
	long i;

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
	t0 = now();
	for (i = 0; i < n; i++) {
		if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
			die("pipe round trip");
	}
	report("pipe", t0, n);
	close(ping[1]);
	waitpid(pid, NULL, 0);
	close(ping[0]);
	close(pong[0]);
	close(pong[1]);
}

static void bench_fork(long n)
{
	struct stamp t0;
	long i;

	t0 = now();
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0)
			_exit(0);
		if (waitpid(pid, NULL, 0) != pid)
			die("waitpid");
	}
	report("fork", t0, n);
}

static void bench_fault(long n)
{
	long page = sysconf(_SC_PAGESIZE), i;
	volatile char *p;
	struct stamp t0;

	p = mmap(NULL, n * page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	t0 = now();
	for (i = 0; i < n; i++)
		p[i * page] = 1;
	report("fault", t0, n);
	munmap((void *)p, n * page);
}

static void bench_read(long n)
{
	char buf[64];
	struct stamp t0;
	long i;
	int fd = open("/dev/zero", O_RDONLY);

	if (fd < 0)
		die("/dev/zero");
	t0 = now();
	for (i = 0; i < n; i++) {
		if (read(fd, buf, sizeof(buf)) != sizeof(buf))
			die("read");
	}
	report("read", t0, n);
	close(fd);
}

int main(int argc, char **argv)
{
	long scale = argc > 1 ? atol(argv[1]) : 1;

	if (scale < 1) {
		fprintf(stderr, "usage: kbench [SCALE], SCALE >= 1\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	bench_getppid(20000 * scale);
	bench_read(10000 * scale);
	bench_fault(2000 * scale);
	bench_pipe(2000 * scale);
	bench_fork(100 * scale);
	return 0;
}

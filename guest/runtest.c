// SPDX-License-Identifier: GPL-2.0
/*
 * runtest: run one test program in the guest, in a process group of its
 * own, and tell a slow test from a hung one.
 *
 *   runtest [-c CEILING] SILENCE PROGRAM [ARGS...]
 *
 * The program's stdout and stderr pass through a pipe, so that runtest sees
 * when it last printed.  A test silent for SILENCE seconds is hung and is
 * killed; a test that keeps printing runs on, up to CEILING seconds in all
 * (default: four times SILENCE).  On a loaded host a slow test is not a
 * failure; one that makes no progress is.
 *
 * When the program exits (or is stopped) every process left in its group
 * is killed, so that a test's stray children cannot run on into the next
 * test.  Exit status: the program's own, 128+N if signal N killed it, 124
 * if it was silent too long (hung), 125 if it was still printing at the
 * ceiling (slow).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Milliseconds, monotonic. */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void on_chld(int sig)
{
	/* Only here so that SIGCHLD interrupts ppoll(). */
}

static int usage(void)
{
	fprintf(stderr, "usage: runtest [-c CEILING] SILENCE PROGRAM [ARGS...]\n");
	return 2;
}

int main(int argc, char **argv)
{
	long silence, ceiling = 0;
	long long start, heard;
	int fds[2], status, opt, open_fd;
	char buf[4096];
	sigset_t chld, unblocked;
	struct sigaction sa = { .sa_handler = on_chld };
	pid_t pid;

	while ((opt = getopt(argc, argv, "+c:")) != -1) {
		if (opt != 'c' || atol(optarg) <= 0)
			return usage();
		ceiling = atol(optarg);
	}
	if (argc - optind < 2 || atol(argv[optind]) <= 0)
		return usage();
	silence = atol(argv[optind]);
	if (!ceiling)
		ceiling = 4 * silence;
	argv += optind + 1;

	/*
	 * SIGCHLD stays blocked except inside ppoll(), so that the program's
	 * exit wakes the loop at once and cannot slip in between its checks.
	 */
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &unblocked);

	if (pipe(fds)) {
		perror("runtest: pipe");
		return 2;
	}
	pid = fork();
	if (pid < 0) {
		perror("runtest: fork");
		return 2;
	}
	if (pid == 0) {
		setpgid(0, 0);
		sigprocmask(SIG_SETMASK, &unblocked, NULL);
		close(fds[0]);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[1]);
		execv(argv[0], argv);
		fprintf(stderr, "runtest: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	/* Also from the parent, so that the group exists before any kill. */
	setpgid(pid, pid);
	close(fds[1]);

	/*
	 * Forward output until the program exits.  The pipe alone cannot say
	 * so: a stray child may hold it open, and the program may close its
	 * ends; SIGCHLD interrupting ppoll() does.
	 */
	start = heard = now_ms();
	open_fd = 1;
	for (;;) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		struct timespec second = { .tv_sec = 1 };
		long long t;

		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		if (ppoll(&p, open_fd, &second, &unblocked) > 0) {
			ssize_t n = read(fds[0], buf, sizeof(buf));

			if (n > 0) {
				fwrite(buf, 1, n, stdout);
				fflush(stdout);
				heard = now_ms();
			} else if (n == 0) {
				open_fd = 0;
			}
		}
		t = now_ms();
		if (t - heard >= silence * 1000LL) {
			fprintf(stdout, "runtest: %s printed nothing for %ld s: hung, killing its process group\n",
				argv[0], silence);
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			return 124;
		}
		if (t - start >= ceiling * 1000LL) {
			fprintf(stdout, "runtest: %s still printing after %ld s, its ceiling: slow, killing its process group\n",
				argv[0], ceiling);
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			return 125;
		}
	}
	kill(-pid, SIGKILL);
	/* What the program printed just before it exited. */
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		ssize_t n = read(fds[0], buf, sizeof(buf));

		if (n <= 0)
			break;
		fwrite(buf, 1, n, stdout);
	}
	fflush(stdout);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * runtest: run one test program in the guest, in a process group of its
 * own, with a time limit.
 *
 *   runtest SECONDS PROGRAM [ARGS...]
 *
 * When the program exits (or the limit expires) every process left in its
 * group is killed, so that a test's stray children cannot run on into the
 * next test.  Exit status: the program's own, 128+N if signal N killed it,
 * 124 if it ran out of time.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec limit;
	sigset_t chld;
	pid_t pid;
	int status, sig;

	if (argc < 3 || atoi(argv[1]) <= 0) {
		fprintf(stderr, "usage: runtest SECONDS PROGRAM [ARGS...]\n");
		return 2;
	}
	limit.tv_sec = atoi(argv[1]);
	limit.tv_nsec = 0;

	/* Block SIGCHLD before the fork so that its arrival cannot be missed. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);

	pid = fork();
	if (pid < 0) {
		perror("runtest: fork");
		return 2;
	}
	if (pid == 0) {
		setpgid(0, 0);
		sigprocmask(SIG_UNBLOCK, &chld, NULL);
		execv(argv[2], argv + 2);
		fprintf(stderr, "runtest: cannot run %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	/* Also from the parent, so that the group exists before any kill. */
	setpgid(pid, pid);

	for (;;) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		sig = sigtimedwait(&chld, NULL, &limit);
		if (sig < 0 && errno == EAGAIN) {
			fprintf(stderr, "runtest: %s still running after %ld s: killing its process group\n",
				argv[2], (long)limit.tv_sec);
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			return 124;
		}
	}
	kill(-pid, SIGKILL);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * stress: keep the kernel's entry and exit paths busy for a while.
 *
 * Runs, side by side, until SECONDS have passed:
 *   - signal storms: pairs of processes that signal each other as fast as
 *     they can (each signal is an interrupt-return to user mode through
 *     a signal frame and sigreturn), one pair per CPU;
 *   - a timer storm: a process with a 1 ms interval timer whose handler
 *     runs while it spins in user mode (IRQ entry from user mode);
 *   - a fork storm: fork(), _exit(), waitpid() in a loop (new page
 *     tables, first return to user mode, teardown).
 *
 * Prints what each worker did and exits 0 only if every worker finished
 * normally and did some work.  The harness judges the kernel log.
 *
 * usage: stress SECONDS
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t hits;
static time_t deadline;

static void on_signal(int sig)
{
	hits++;
}

static int expired(void)
{
	return time(NULL) >= deadline;
}

static volatile sig_atomic_t usr1;

static void on_usr1(int sig)
{
	usr1++;
}

static void on_alarm(int sig)
{
	/* Only here so that the 2 s alarm ends a sigsuspend() that waits in vain. */
}

/*
 * Both sides of a pair: wait for the peer's signal, signal back, repeat.
 * A side that waits 10 s for a signal while its peer still runs has lost
 * one (the other side always answers): that fails the pair.  The wait is
 * taken as five 2 s alarms in a row, so that a peer merely slow to be
 * scheduled (the torture runs thirty busy processes on two emulated
 * CPUs) is not counted: a lost signal is never answered at all.
 */
static void signal_pair(void)
{
	sigset_t block, wait;
	pid_t peer, parent = getpid();
	long n = 0, stalls = 0;
	int waits = 0;

	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &wait);
	sigdelset(&wait, SIGUSR1);
	signal(SIGUSR1, on_usr1);
	signal(SIGALRM, on_alarm);

	peer = fork();
	if (peer < 0)
		_exit(2);
	if (peer == 0)
		peer = parent;
	else
		kill(peer, SIGUSR1);	/* the parent serves first */
	while (!expired()) {
		sig_atomic_t seen = usr1;

		alarm(2);
		sigsuspend(&wait);
		alarm(0);
		if (usr1 == seen) {
			/* Woken by the alarm: near the end, the peer may be gone. */
			if (++waits == 5 && time(NULL) < deadline - 1)
				stalls++;
			continue;
		}
		waits = 0;
		n++;
		kill(peer, SIGUSR1);
	}
	if (getpid() != parent)
		_exit(n > 0 && !stalls ? 0 : 1);
	waitpid(peer, NULL, 0);
	printf("stress: signal pair %d: %ld signals, %ld stalls\n", parent, n,
	       stalls);
	_exit(n > 0 && !stalls ? 0 : 1);
}

static void timer_storm(void)
{
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	volatile unsigned long spins = 0;

	signal(SIGALRM, on_signal);
	setitimer(ITIMER_REAL, &it, NULL);
	while (!expired())
		spins++;
	printf("stress: timer storm: %d timer signals\n", (int)hits);
	_exit(hits > 0 ? 0 : 1);
}

static void fork_storm(void)
{
	long n = 0;

	while (!expired()) {
		pid_t pid = fork();

		if (pid < 0)
			_exit(2);
		if (pid == 0)
			_exit(0);
		if (waitpid(pid, NULL, 0) != pid)
			_exit(3);
		n++;
	}
	printf("stress: fork storm: %ld forks\n", n);
	_exit(n > 0 ? 0 : 1);
}

int main(int argc, char **argv)
{
	void (*workers[8])(void);
	int nworkers = 0, i, bad = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int secs = argc > 1 ? atoi(argv[1]) : 0;

	if (secs < 1) {
		fprintf(stderr, "usage: stress SECONDS\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	deadline = time(NULL) + secs;
	for (i = 0; i < cpus && i < 4; i++)
		workers[nworkers++] = signal_pair;
	workers[nworkers++] = timer_storm;
	workers[nworkers++] = fork_storm;

	for (i = 0; i < nworkers; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("stress: fork");
			return 1;
		}
		if (pid == 0)
			workers[i]();
	}
	for (i = 0; i < nworkers; i++) {
		int status;

		if (wait(&status) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			printf("stress: a worker failed (status %#x)\n", status);
			bad = 1;
		}
	}
	printf("stress: %d workers, %s\n", nworkers, bad ? "FAILED" : "all ok");
	return bad;
}

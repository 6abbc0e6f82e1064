// SPDX-License-Identifier: GPL-2.0
/*
 * asuser: run a program as an unprivileged user, for the one torture
 * stressor that refuses to run as root (stress-ng's exec).  busybox's
 * su needs an /etc/passwd the initramfs does not have.
 *
 * usage: asuser UID PROGRAM [ARGS...]   (the group is the same number)
 */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	uid_t id;

	if (argc < 3) {
		fprintf(stderr, "usage: asuser UID PROGRAM [ARGS...]\n");
		return 2;
	}
	id = strtoul(argv[1], NULL, 10);
	if (setgroups(0, NULL) || setgid(id) || setuid(id)) {
		perror("asuser");
		return 2;
	}
	execvp(argv[2], argv + 2);
	perror("asuser: exec");
	return 127;
}

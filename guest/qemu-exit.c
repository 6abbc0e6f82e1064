// SPDX-License-Identifier: GPL-2.0
/*
 * qemu-exit: end the guest and hand the host a result through QEMU's
 * isa-debug-exit device (iobase 0xf4): writing V makes QEMU exit with
 * status (V << 1) | 1, so the host sees 1 for V=0 ("all passed") and 3 for
 * V=1 ("something failed").  Any other exit status means the guest never
 * got here: it panicked, reset or hung.
 *
 *   qemu-exit 0|1
 *
 * Falls back to a plain power-off when the device is absent (another
 * emulator), so that the guest never hangs here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>
#include <sys/reboot.h>
#include <termios.h>
#include <unistd.h>

#define DEBUG_EXIT_PORT 0xf4

int main(int argc, char **argv)
{
	int v = argc > 1 ? atoi(argv[1]) : 1;

	/*
	 * The end-of-run marker may still sit in the console's output
	 * buffer: under an emulator without the exit device, the kernel's
	 * power-off messages would otherwise be printed into its middle.
	 */
	tcdrain(STDOUT_FILENO);
	sync();
	if (ioperm(DEBUG_EXIT_PORT, 4, 1) == 0)
		outl(v ? 1 : 0, DEBUG_EXIT_PORT);
	else
		perror("qemu-exit: ioperm");
	/* Still here: no isa-debug-exit device. */
	reboot(RB_POWER_OFF);
	perror("qemu-exit: reboot");
	return 1;
}

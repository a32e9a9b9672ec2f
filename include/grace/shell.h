/*
 * shell.h — commands of the serial/keyboard shell.
 *
 * A subsystem registers a command with SHELL_COMMAND(); the shell finds it by
 * name, splits the line into argv (quotes group words), and on a non-zero
 * return prints the command's usage line — except for SHELL_CMD_FAILED: the
 * command understood its arguments, failed, and has said why itself.
 * Commands run in the shell's context with interrupts enabled.
 *
 *     static int cmd_mem(int argc, char **argv) { ... return 0; }
 *     SHELL_COMMAND(mem, "mem", "mem", "show memory usage", cmd_mem);
 */
#ifndef GRACE_SHELL_H
#define GRACE_SHELL_H

#include <grace/compiler.h>

#define SHELL_CMD_FAILED 2

struct shell_command {
	const char *name;
	const char *usage;
	const char *help;
	int (*fn)(int argc, char **argv);
};

#define SHELL_COMMAND(id, n, u, h, f) \
	static const struct shell_command __cmd_##id __used \
	__section(".grace_cmds") __aligned(8) = { .name = (n), .usage = (u), .help = (h), .fn = (f) }

/* Run one command line as if typed; returns the command's status
 * (or -1 for an unknown command, after printing a message). */
int shell_run_line(const char *line);
/* Run `autorun` commands (separated by ';'), then the interactive loop. */
__noreturn void shell_main(void);

#endif

/*
 * shell.c — the kernel shell: a command table, `autorun`, and the loop that
 * reads lines from the console and runs them.
 *
 * Input is one byte stream (console_getc_wait: COM1 and the PS/2 keyboard),
 * edited into lines by the line editor (kernel/line_edit.c, which has the
 * keys and the echo invariant). Commands come from the .grace_cmds section
 * (SHELL_COMMAND). A line is split into words by cmdline_split_args (double
 * quotes group words; lib/cmdline.c); `autorun` is split into commands at ';'
 * by cmdline_next_command.
 * Tests: tests/scenarios/shell-autorun.scn, tests/interactive/test_shell_keys.py
 * (keys over the serial line and the keyboard), KTEST shell.*,
 * tests/unit/fuzz_shell.c (editor and tokenizer on fuzzer bytes).
 */
#include <asm/cpu.h>
#include <grace/cmdline.h>
#include <grace/console.h>
#include <grace/ktest.h>
#include <grace/line_edit.h>
#include <grace/param.h>
#include <grace/printk.h>
#include <grace/reboot.h>
#include <grace/shell.h>
#include <grace/string.h>
#include <grace/time.h>

extern const struct shell_command __start_grace_cmds[], __stop_grace_cmds[];

#define PROMPT        "grace> "
#define RUN_LINE_MAX  1024  /* a command from autorun may be longer than a typed one */
#define MAX_ARGS      32

static char autorun[1024];
param_string("autorun", autorun,
	     "commands to run at boot, separated by ';' (quote the value: autorun=\"a; b\")");

/* ---- running commands ---- */

static const struct shell_command *find_command(const char *name)
{
	for (const struct shell_command *c = __start_grace_cmds; c < __stop_grace_cmds; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int shell_run_line(const char *text)
{
	char buf[RUN_LINE_MAX];
	char *argv[MAX_ARGS + 1];
	const struct shell_command *cmd;
	int argc, ret;

	if (strlcpy(buf, text, sizeof(buf)) >= sizeof(buf)) {
		printk("shell: line longer than %zu bytes\n", sizeof(buf) - 1);
		return -1;
	}
	argc = cmdline_split_args(buf, argv, MAX_ARGS);
	if (argc == CMDLINE_SPLIT_TOO_MANY) {
		printk("shell: more than %d words\n", MAX_ARGS);
		return -1;
	}
	if (argc == CMDLINE_SPLIT_UNTERMINATED) {
		printk("shell: unterminated quote\n");
		return -1;
	}
	if (argc == 0)
		return 0;
	cmd = find_command(argv[0]);
	if (!cmd) {
		printk("shell: unknown command '%.64s' (try 'help')\n", argv[0]);
		return -1;
	}
	ret = cmd->fn(argc, argv);
	if (ret && ret != SHELL_CMD_FAILED)
		printk("usage: %s\n", cmd->usage);
	return ret;
}

/* ---- the line editor (kernel/line_edit.c) on the console ---- */

static int console_key(void *ctx)
{
	return console_getc_wait();
}

static void console_echo(void *ctx, const char *s, size_t n)
{
	console_write(s, n);
}

static struct line_editor ed = { .getc = console_key, .write = console_echo };

static void outs(const char *s)
{
	size_t n = strlen(s);

	if (n)
		console_write(s, n);
}

/* ---- entry ---- */

static void print_boot_time(void)
{
	/*
	 * Microseconds from kmain's first instruction (tsc_at_boot) to here.
	 * ktime_get_ns() counts from the same TSC origin once the time code has
	 * calibrated the TSC; before that (or without it) it returns 0 and so
	 * does this line — the integrator checks it is non-zero once merged.
	 */
	printk("BENCH boot_to_shell_us %llu us\n", (unsigned long long)ktime_get_us());
}

static void run_autorun(void)
{
	static char cmd[RUN_LINE_MAX];
	const char *p = autorun;
	bool truncated;

	while ((p = cmdline_next_command(p, cmd, sizeof(cmd), &truncated))) {
		if (!cmd[0])
			continue;
		outs(PROMPT);
		outs(cmd);
		outs("\n");
		if (truncated) {
			printk("shell: autorun command too long, skipped\n");
			continue;
		}
		shell_run_line(cmd);
	}
}

void shell_main(void)
{
	print_boot_time();
	run_autorun();
	for (;;) {
		outs(PROMPT);
		line_edit_read(&ed); /* the console's input never ends */
		line_edit_history_add(&ed, ed.line);
		shell_run_line(ed.line);
	}
}

/* ---- built-in commands ---- */

/* The command after `prev` in name order (NULL: the first); NULL at the end. */
static const struct shell_command *next_sorted(const struct shell_command *prev)
{
	const struct shell_command *best = NULL;

	for (const struct shell_command *c = __start_grace_cmds; c < __stop_grace_cmds; c++) {
		if (prev) {
			int d = strcmp(c->name, prev->name);

			if (d < 0 || (d == 0 && c <= prev))
				continue;
		}
		if (!best || strcmp(c->name, best->name) < 0)
			best = c;
	}
	return best;
}

static int cmd_help(int argc, char **argv)
{
	if (argc > 2)
		return 1;
	if (argc == 2) {
		const struct shell_command *c = find_command(argv[1]);

		if (!c) {
			printk("help: no command '%.64s'\n", argv[1]);
			return 0;
		}
		printk("usage: %s\n", c->usage);
		printk("  %s\n", c->help);
		return 0;
	}
	printk("Commands (help CMD for one):\n");
	for (const struct shell_command *c = next_sorted(NULL); c; c = next_sorted(c))
		printk("  %-30s %s\n", c->usage, c->help);
	return 0;
}
SHELL_COMMAND(help, "help", "help [CMD]", "list the commands, or show how to use one", cmd_help);

static int cmd_dmesg(int argc, char **argv)
{
	char buf[256];
	size_t skip = 0, n, end = log_buf_len();

	if (argc != 1)
		return 1;
	/* Print the ring as it was when we started (our own output is
	 * written without logging, so it does not chase itself). */
	while (skip < end && (n = log_buf_read(buf, MIN(sizeof(buf), end - skip), skip)) > 0) {
		console_write_nolog(buf, n);
		skip += n;
	}
	return 0;
}
SHELL_COMMAND(dmesg, "dmesg", "dmesg", "print the kernel log", cmd_dmesg);

static int cmd_echo(int argc, char **argv)
{
	char buf[RUN_LINE_MAX];
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 1; i < argc; i++)
		n += (size_t)snprintf(buf + MIN(n, sizeof(buf)), sizeof(buf) - MIN(n, sizeof(buf)),
				      "%s%s", i > 1 ? " " : "", argv[i]);
	printk("%s\n", buf);
	return 0;
}
SHELL_COMMAND(echo, "echo", "echo [WORD...]", "print the words", cmd_echo);

static int cmd_poweroff(int argc, char **argv)
{
	bool success = true;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "fail") != 0))
		return 1;
	if (argc == 2)
		success = false;
	printk("poweroff: powering off%s\n", success ? "" : " with a failure status");
	machine_poweroff(success);
}
SHELL_COMMAND(poweroff, "poweroff", "poweroff [fail]",
	      "power off (QEMU exits 33; with 'fail', 35)", cmd_poweroff);

static int cmd_reboot(int argc, char **argv)
{
	if (argc != 1)
		return 1;
	printk("reboot: restarting\n");
	machine_restart();
}
SHELL_COMMAND(reboot, "reboot", "reboot", "restart the machine", cmd_reboot);

/* ---- in-kernel tests ---- */

static int test_cmd_calls, test_cmd_argc;
static char test_cmd_arg[32];

static int cmd_test_probe(int argc, char **argv)
{
	test_cmd_calls++;
	test_cmd_argc = argc;
	strlcpy(test_cmd_arg, argc > 1 ? argv[argc - 1] : "", sizeof(test_cmd_arg));
	return argc > 3; /* "too many" → non-zero → usage line */
}
SHELL_COMMAND(ktest_probe, "ktest-probe", "ktest-probe [A [B]]",
	      "a command the shell's own tests call (does nothing)", cmd_test_probe);

KTEST(shell_run, "shell.run_line")
{
	test_cmd_calls = 0;
	KTEST_EXPECT(shell_run_line("ktest-probe one \"two words\"") == 0);
	KTEST_EXPECT(test_cmd_calls == 1 && test_cmd_argc == 3);
	KTEST_EXPECT(strcmp(test_cmd_arg, "two words") == 0);
	KTEST_EXPECT(shell_run_line("ktest-probe a b c") != 0 && test_cmd_calls == 2);
	KTEST_EXPECT(shell_run_line("no-such-command-here") == -1);
	KTEST_EXPECT(shell_run_line("ktest-probe \"unterminated") == -1 && test_cmd_calls == 2);
	KTEST_EXPECT(shell_run_line("   ") == 0 && test_cmd_calls == 2);
	KTEST_EXPECT(find_command("help") && find_command("params") && find_command("echo"));
}

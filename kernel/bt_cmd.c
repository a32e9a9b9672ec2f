/*
 * bt_cmd.c — the shell's `bt`: a backtrace of this CPU, of one other CPU
 * (asked for by NMI, so it lands wherever that CPU is, interrupts off or
 * not), or of every online CPU in turn.
 * Test: scenario smp-bt-all.
 */
#include <grace/backtrace.h>
#include <grace/printk.h>
#include <grace/shell.h>
#include <grace/smp.h>
#include <grace/string.h>

/* `bt`, `bt all`, `bt N`. */
static int cmd_bt(int argc, char **argv)
{
	unsigned long long n;

	if (argc == 1) {
		trigger_single_cpu_backtrace(smp_processor_id());
		return 0;
	}
	if (argc != 2)
		return 1;
	if (strcmp(argv[1], "all") == 0) {
		trigger_all_cpu_backtrace();
		return 0;
	}
	if (kstrtoull(argv[1], 10, &n) || n >= nr_cpu_ids || !cpu_online((unsigned int)n)) {
		printk("bt: \"%s\" is not an online CPU\n", argv[1]);
		return 0;
	}
	trigger_single_cpu_backtrace((unsigned int)n);
	return 0;
}
SHELL_COMMAND(bt, "bt", "bt [all|CPU]", "backtrace of this CPU, one CPU (NMI), or every CPU", cmd_bt);


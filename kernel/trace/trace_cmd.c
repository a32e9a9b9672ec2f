/*
 * trace_cmd.c — the `trace` shell command: the event trace's controls.
 *
 *   trace on       start recording (allocates the rings the first time)
 *   trace off      stop
 *   trace clear    forget what was recorded
 *   trace dump     print the TRACE lines (tools/trace2json.py reads them)
 *   trace          say whether it is on, and how much is recorded
 * The rings are in kernel/trace/trace.c; docs/tracing.md.
 */
#include <grace/printk.h>
#include <grace/shell.h>
#include <grace/smp.h>
#include <grace/string.h>
#include <grace/trace.h>

static int cmd_trace(int argc, char **argv)
{
	if (argc == 1) {
		u64 n = 0;
		unsigned int cpu;

		for_each_possible_cpu(cpu)
			n += trace_cpu_head(cpu);
		printk("trace: %s, %llu events recorded since the last clear\n",
		       trace_enabled ? "on" : "off", (unsigned long long)n);
		return 0;
	}
	if (argc != 2)
		return 1;
	if (!strcmp(argv[1], "on"))
		return trace_start() ? SHELL_CMD_FAILED : 0;
	if (!strcmp(argv[1], "off"))
		trace_stop();
	else if (!strcmp(argv[1], "clear"))
		trace_clear();
	else if (!strcmp(argv[1], "dump"))
		trace_dump();
	else
		return 1;   /* the shell prints the usage line */
	return 0;
}
SHELL_COMMAND(trace, "trace", "trace [on|off|clear|dump]",
	      "the event trace: record hotplug steps, IPIs, lock hand-overs, ...", cmd_trace);

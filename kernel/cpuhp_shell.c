/*
 * cpuhp_shell.c — the shell's window on the hotplug state machine.
 *
 *   cpus                      every possible CPU: masks, state, target
 *   cpu offline N | online N  walk CPU N to OFFLINE / ONLINE
 *   cpu target N STATE        walk CPU N to any state it can rest at
 *   hotplug states            the table: section, callbacks, may it fail
 *   hotplug fail N STATE      make STATE fail once for CPU N
 *
 * Every command validates its arguments and explains a refusal; the state
 * machine prints what it does (including rollbacks) itself.
 */
#include <grace/cpuhotplug.h>
#include <grace/cpumask.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/shell.h>
#include <grace/string.h>
#include <grace/time.h>

static int parse_cpu(const char *s, unsigned int *cpu)
{
	unsigned long long v;

	if (kstrtoull(s, 0, &v) || v >= NR_CPUS || !cpu_possible((unsigned int)v)) {
		printk("no possible CPU '%s' (possible: 0-%u)\n", s, num_possible_cpus() - 1);
		return -1;
	}
	*cpu = (unsigned int)v;
	return 0;
}

static int parse_state(const char *s, enum cpuhp_state *state)
{
	*state = cpuhp_state_parse(s);
	if (*state == CPUHP_INVALID) {
		printk("unknown state '%s' (see 'hotplug states')\n", s);
		return -1;
	}
	return 0;
}

static int cmd_cpus(int argc, char **argv)
{
	unsigned int cpu;

	(void)argv;
	if (argc != 1)
		return 1;
	printk("CPU  APIC  present online active  state (target)        last op\n");
	for_each_possible_cpu(cpu) {
		enum cpuhp_state st, tgt, fail;
		u64 last;

		cpuhp_cpu_info(cpu, &st, &tgt, &fail, &last);
		printk("%3u  %4u  %-7s %-6s %-6s  %-20s%s%s  %llu us%s%s\n", cpu, per_cpu(cpu_local, cpu).apic_id,
		       cpumask_test_cpu(cpu, &cpu_present_mask) ? "yes" : "no",
		       cpu_online(cpu) ? "yes" : "no",
		       cpumask_test_cpu(cpu, &cpu_active_mask) ? "yes" : "no",
		       cpuhp_state_name(st), tgt != st ? " -> " : "", tgt != st ? cpuhp_state_name(tgt) : "",
		       (unsigned long long)(last / 1000),
		       fail != CPUHP_INVALID ? "  fail armed at " : "",
		       fail != CPUHP_INVALID ? cpuhp_state_name(fail) : "");
	}
	printk("%u possible, %u present, %u online, %u active\n", num_possible_cpus(),
	       cpumask_weight(&cpu_present_mask), num_online_cpus(), cpumask_weight(&cpu_active_mask));
	return 0;
}
SHELL_COMMAND(cpus, "cpus", "cpus", "list every possible CPU with its hotplug state", cmd_cpus);

static int cmd_cpu(int argc, char **argv)
{
	unsigned int cpu;
	enum cpuhp_state target;
	int ret;
	u64 t0;

	if (argc < 3)
		return 1;
	if (parse_cpu(argv[2], &cpu))
		return 0;
	if (!strcmp(argv[1], "online") && argc == 3)
		target = CPUHP_ONLINE;
	else if (!strcmp(argv[1], "offline") && argc == 3)
		target = CPUHP_OFFLINE;
	else if (!strcmp(argv[1], "target") && argc == 4) {
		if (parse_state(argv[3], &target))
			return 0;
	} else
		return 1;

	t0 = ktime_get_ns();
	ret = target >= cpuhp_get_state(cpu) ? cpu_up(cpu, target) : cpu_down(cpu, target);
	printk("cpu %u: %s (%d) in %llu us, now at %s\n", cpu, ret ? "failed" : "done", ret,
	       (unsigned long long)((ktime_get_ns() - t0) / 1000), cpuhp_state_name(cpuhp_get_state(cpu)));
	return 0;
}
SHELL_COMMAND(cpu, "cpu", "cpu online N | cpu offline N | cpu target N STATE",
	      "move CPU N through the hotplug state machine", cmd_cpu);

static int cmd_hotplug(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "states")) {
		printk("  #  state                 section   startup teardown  may fail  target\n");
		for (int s = 0; s < CPUHP_NR_STATES; s++) {
			struct cpuhp_state_info i;

			cpuhp_describe((enum cpuhp_state)s, &i);
			if (!i.used)
				continue;
			printk("%3d  %-20s  %-8s  %-7s %-8s  %-8s  %s\n", s, i.name, i.section,
			       i.has_startup ? "yes" : "-", i.has_teardown ? "yes" : "-",
			       i.may_fail_up && i.may_fail_down ? "up,down" :
			       i.may_fail_up ? "up" : i.may_fail_down ? "down" : "never",
			       i.can_rest ? "yes" : "no");
		}
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "fail")) {
		unsigned int cpu;
		enum cpuhp_state s;
		const char *why;

		if (parse_cpu(argv[2], &cpu) || parse_state(argv[3], &s))
			return 0;
		if (cpuhp_inject_fail(cpu, s, &why))
			printk("hotplug: refused: %s: %s\n", cpuhp_state_name(s), why);
		else
			printk("hotplug: CPU %u will fail once at %s\n", cpu, cpuhp_state_name(s));
		return 0;
	}
	return 1;
}
SHELL_COMMAND(hotplug, "hotplug", "hotplug states | hotplug fail CPU STATE",
	      "show the hotplug state table; inject a one-shot failure", cmd_hotplug);

/*
 * cpuhp_cmd.c — the shell's window on the hotplug state machine.
 *
 *   cpus                      every possible CPU: masks, state, target
 *   cpu offline N | online N  walk CPU N to OFFLINE / ONLINE
 *   cpu target N STATE        walk CPU N to any state it can rest at
 *   hotplug states            the table: section, callbacks, may it fail
 *   hotplug fail N STATE      make STATE fail once for CPU N
 *
 * Every command validates its arguments and explains a refusal; the state
 * machine prints what it does (including rollbacks) itself.
 *
 * The same window for code: cpuhp_describe(), cpuhp_cpu_info() and
 * cpuhp_state_parse() read the table and the per-CPU state for the shell,
 * the ktests (kernel/cpuhp_test.c) and the hotplug torture.
 * Tests: scenario hotplug-target (the commands), ktest hotplug.refuse.
 */
#include <grace/cpuhotplug.h>
#include <grace/cpumask.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/shell.h>
#include <grace/string.h>
#include <grace/time.h>

#include "cpuhp.h"

/* ---- introspection -------------------------------------------------------- */

enum cpuhp_state cpuhp_state_parse(const char *s)
{
	long long n;

	if (!kstrtoll(s, 0, &n))
		return n >= 0 && n < CPUHP_NR_STATES ? (enum cpuhp_state)n : CPUHP_INVALID;
	for (int i = 0; i < CPUHP_NR_STATES; i++)
		if (cpuhp_hp_states[i].name && !strcmp(cpuhp_hp_states[i].name, s))
			return (enum cpuhp_state)i;
	return CPUHP_INVALID;
}

void cpuhp_describe(enum cpuhp_state s, struct cpuhp_state_info *info)
{
	static const char *const sec[] = { "prepare", "bringup", "starting", "teardown", "online" };

	info->name = cpuhp_state_name(s);
	info->section = sec[cpuhp_section_of(s)];
	info->has_startup = cpuhp_hp_states[s].startup != NULL;
	info->has_teardown = cpuhp_hp_states[s].teardown != NULL;
	info->may_fail_up = cpuhp_step_may_fail(s, true);
	info->may_fail_down = cpuhp_step_may_fail(s, false);
	info->can_rest = cpuhp_state_is_target(s);
	info->used = cpuhp_hp_states[s].name != NULL;
}

void cpuhp_cpu_info(unsigned int cpu, enum cpuhp_state *state, enum cpuhp_state *target,
		    enum cpuhp_state *fail, u64 *last_ns)
{
	struct cpuhp_cpu_state *st = per_cpu_ptr(&cpuhp_state, cpu);

	*state = READ_ONCE(st->state);
	*target = READ_ONCE(st->target);
	*fail = READ_ONCE(st->fail);
	*last_ns = st->last_ns;
}

/* ---- shell commands ------------------------------------------------------- */

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

static void sort_u64(u64 *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			u64 t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

/* Median (and min/max) of N offline and N online operations of the highest
 * present CPU: BENCH cpu_offline_us / cpu_online_us. */
static int hotplug_bench(unsigned int rounds)
{
	static u64 down[100], up[100];
	unsigned int cpu = 0, c;

	for_each_cpu(c, &cpu_present_mask)
		cpu = c;
	if (cpu == 0) {
		printk("hotplug bench: needs a second present CPU\n");
		return 0;
	}
	if (rounds > 100)
		rounds = 100;
	for (unsigned int i = 0; i < rounds; i++) {
		u64 t0 = ktime_get_ns();

		if (cpu_down(cpu, CPUHP_OFFLINE)) {
			printk("hotplug bench: offline of CPU %u failed\n", cpu);
			return 0;
		}
		u64 t1 = ktime_get_ns();

		if (cpu_up(cpu, CPUHP_ONLINE)) {
			printk("hotplug bench: online of CPU %u failed\n", cpu);
			return 0;
		}
		down[i] = (t1 - t0) / 1000;
		up[i] = (ktime_get_ns() - t1) / 1000;
	}
	sort_u64(down, (int)rounds);
	sort_u64(up, (int)rounds);
	printk("hotplug bench: CPU %u, %u rounds, %u CPUs online: offline min/median/max %llu/%llu/%llu us, "
	       "online %llu/%llu/%llu us\n", cpu, rounds, num_online_cpus(),
	       (unsigned long long)down[0], (unsigned long long)down[rounds / 2],
	       (unsigned long long)down[rounds - 1], (unsigned long long)up[0],
	       (unsigned long long)up[rounds / 2], (unsigned long long)up[rounds - 1]);
	printk("BENCH cpu_offline_us %llu us\n", (unsigned long long)down[rounds / 2]);
	printk("BENCH cpu_online_us %llu us\n", (unsigned long long)up[rounds / 2]);
	return 0;
}

static int cmd_hotplug(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "bench") && argc <= 3) {
		unsigned long long n = 20;

		if (argc == 3 && (kstrtoull(argv[2], 0, &n) || n == 0 || n > 100))
			return 1;
		return hotplug_bench((unsigned int)n);
	}
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
SHELL_COMMAND(hotplug, "hotplug", "hotplug states | hotplug fail CPU STATE | hotplug bench [N<=100]",
	      "show the hotplug state table; inject a one-shot failure", cmd_hotplug);

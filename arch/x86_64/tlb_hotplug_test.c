/*
 * tlb_hotplug_test.c — ktest "tlb.reach": which CPUs a TLB shootdown
 * reaches, read back through each CPU's own translation.
 *
 * The property: after map_page() / flush_tlb_kernel_range() / flush_tlb_all()
 * return, *every* CPU that can execute kernel code — every online CPU,
 * active or not — translates the edited address the new way. A CPU that is
 * online but not active (coming up past CPUHP_AP_ONLINE, or going down before
 * CPUHP_TEARDOWN_CPU) runs interrupts and kthreads with the kernel tables,
 * so a shootdown that reaches only the active CPUs leaves it reading the old
 * page.
 *
 * One test address, mapped in turn to two physical pages; page content is
 * the round number. A round: each online CPU reads the address (caching the
 * old translation), the address is pointed at the other page — by
 * map_page() (range flush of one page), by editing the leaf entry and
 * flush_tlb_all() (the full flush: the mapping is global, so this needs the
 * CR4.PGE toggle), or by editing it and flushing a 40-page range (the
 * range-too-long fallback) — and then each online CPU reads it again, in an
 * IPI on that CPU, and must see this round's number.
 *
 * Part 1 rests CPU 1 at each resting hotplug state between CPUHP_AP_ONLINE
 * and CPUHP_AP_ACTIVE (online, not active) and runs rounds there. Part 2 runs
 * rounds for a while against a thread that takes the last CPU down and up
 * (to OFFLINE, ONLINE, or a random resting state), so shootdowns meet CPUs
 * coming up and going down; a CPU that came up mid-round is read too.
 * Needs two CPUs; scenarios tlb-reach-smp2/4.
 */
#include <asm/pgtable.h>
#include <asm/tlbflush.h>
#include <grace/cpuhotplug.h>
#include <grace/cpumask.h>
#include <grace/ktest.h>
#include <grace/kthread.h>
#include <grace/mm.h>
#include <grace/printk.h>
#include <grace/random.h>
#include <grace/sched.h>
#include <grace/smp.h>
#include <grace/string.h>
#include <grace/time.h>

/* 1 GiB below the stack area: nothing else maps there. */
#define TLB_TEST_VA (STACK_AREA - 0x40000000UL)

static struct {
	phys_addr_t page[2];
	u64 round;
	unsigned int bad_cpu;
	u64 bad_val, bad_round;
	int bad;
	int stop, onoff_done;
	unsigned long long onoff_ops, reads;
} tr;

static void tr_read(void *info)
{
	u64 *seen = info;

	seen[smp_processor_id()] = *(volatile u64 *)TLB_TEST_VA;
}

/* Every online CPU reads the address; remember the first one that is off. */
static void tr_check_all(u64 want)
{
	static u64 seen[NR_CPUS];
	unsigned int cpu;

	for_each_online_cpu(cpu) {
		seen[cpu] = ~0ULL;
		if (smp_call_function_single(cpu, tr_read, seen, 1))
			continue;   /* went offline meanwhile */
		tr.reads++;
		if (seen[cpu] != want && !tr.bad++) {
			tr.bad_cpu = cpu;
			tr.bad_val = seen[cpu];
			tr.bad_round = want;
		}
	}
}

static void tr_warm_all(void)
{
	static u64 seen[NR_CPUS];
	unsigned int cpu;

	for_each_online_cpu(cpu)
		smp_call_function_single(cpu, tr_read, seen, 1);
}

/* One round: warm, repoint at the other page one of three ways, read back. */
static void tr_round(u64 *rng)
{
	u64 r = ++tr.round;
	phys_addr_t p = tr.page[r & 1];
	unsigned int level;

	*(volatile u64 *)phys_to_virt(p) = r;
	tr_warm_all();
	switch (prandom_next(rng) % 3) {
	case 0:
		map_page(TLB_TEST_VA, p, PAGE_KERNEL);
		break;
	case 1: {
		u64 *e = lookup_address(TLB_TEST_VA, &level);

		WRITE_ONCE(*e, (p & PTE_ADDR_MASK) | PAGE_KERNEL);
		flush_tlb_all();
		break;
	}
	default: {
		u64 *e = lookup_address(TLB_TEST_VA, &level);

		WRITE_ONCE(*e, (p & PTE_ADDR_MASK) | PAGE_KERNEL);
		flush_tlb_kernel_range(TLB_TEST_VA - 16 * PAGE_SIZE, TLB_TEST_VA + 24 * PAGE_SIZE);
		break;
	}
	}
	tr_check_all(r);
}

static int tr_onoff(void *arg)
{
	unsigned int cpu = (unsigned int)(uintptr_t)arg;
	u64 rng = 0xBADC0FFEEULL ^ ktime_get_ns();

	while (!READ_ONCE(tr.stop)) {
		enum cpuhp_state now = cpuhp_get_state(cpu), target;
		struct cpuhp_state_info i;

		target = prandom_next(&rng) % 2 ? CPUHP_ONLINE : CPUHP_OFFLINE;
		if (prandom_next(&rng) % 2) {
			enum cpuhp_state s = (enum cpuhp_state)(prandom_next(&rng) % CPUHP_NR_STATES);

			cpuhp_describe(s, &i);
			if (i.used && i.can_rest)
				target = s;
		}
		if (target > now)
			cpu_up(cpu, target);
		else if (target < now)
			cpu_down(cpu, target);
		tr.onoff_ops++;
		msleep(1 + (unsigned int)(prandom_next(&rng) % 4));
	}
	__atomic_store_n(&tr.onoff_done, 1, __ATOMIC_RELEASE);
	return 0;
}

KTEST(tlb_reach, "tlb.reach")
{
	u64 rng = 0x7154ULL ^ ktime_get_ns();
	unsigned int last = 0, cpu;
	int resting = 0;

	if (num_online_cpus() < 2) {
		printk("tlb.reach: one CPU online: no other CPU to reach, nothing to check\n");
		return;
	}
	memset(&tr, 0, sizeof(tr));
	tr.page[0] = alloc_page();
	tr.page[1] = alloc_page();
	KTEST_EXPECT(tr.page[0] && tr.page[1]);
	if (!tr.page[0] || !tr.page[1])
		return;
	*(volatile u64 *)phys_to_virt(tr.page[0]) = 0;
	KTEST_EXPECT(map_page(TLB_TEST_VA, tr.page[0], PAGE_KERNEL) == 0);
	for_each_online_cpu(cpu)
		last = cpu;

	/* Part 1: CPU `last` online but not active, at each such resting state. */
	for (enum cpuhp_state s = CPUHP_AP_ACTIVE - 1; s >= CPUHP_AP_ONLINE; s--) {
		struct cpuhp_state_info i;

		cpuhp_describe(s, &i);
		if (!i.used || !i.can_rest)
			continue;
		if (cpu_down(last, s)) {
			KTEST_EXPECT_MSG(0, "could not take CPU %u down to %s", last, cpuhp_state_name(s));
			break;
		}
		KTEST_EXPECT_MSG(cpu_online(last) && !cpumask_test_cpu(last, &cpu_active_mask),
				 "CPU %u at %s: online %d active %d", last, cpuhp_state_name(s),
				 cpu_online(last), cpumask_test_cpu(last, &cpu_active_mask));
		resting++;
		for (int k = 0; k < 30; k++)
			tr_round(&rng);
		if (tr.bad) {
			KTEST_EXPECT_MSG(0, "CPU %u (resting at %s, online, not active) read round %llu's "
					 "page after the shootdown of round %llu", tr.bad_cpu,
					 cpuhp_state_name(s), (unsigned long long)tr.bad_val,
					 (unsigned long long)tr.bad_round);
			break;
		}
	}
	KTEST_EXPECT_MSG(cpu_up(last, CPUHP_ONLINE) == 0, "could not bring CPU %u back", last);
	KTEST_EXPECT_MSG(resting > 0, "no resting state between AP_ONLINE and AP_ACTIVE to test");

	/* Part 2: shootdowns against a CPU going down and coming up. */
	if (!tr.bad) {
		u64 end = ktime_get_ns() + 2000000000ULL;
		struct task_struct *th = kthread_run(tr_onoff, (void *)(uintptr_t)last, "tlb-onoff");

		KTEST_EXPECT(th != NULL);
		while (th && ktime_get_ns() < end && !tr.bad)
			tr_round(&rng);
		WRITE_ONCE(tr.stop, 1);
		while (th && !__atomic_load_n(&tr.onoff_done, __ATOMIC_ACQUIRE))
			msleep(5);
		if (cpuhp_get_state(last) != CPUHP_ONLINE)
			KTEST_EXPECT_MSG(cpu_up(last, CPUHP_ONLINE) == 0, "could not bring CPU %u back", last);
		tr_round(&rng);   /* and once more with everything online */
		KTEST_EXPECT_MSG(!tr.bad, "CPU %u read round %llu's page after the shootdown of round %llu "
				 "(hotplug of CPU %u running)", tr.bad_cpu, (unsigned long long)tr.bad_val,
				 (unsigned long long)tr.bad_round, last);
	}
	printk("tlb.reach: %llu rounds, %llu read-backs, %d online-inactive states, "
	       "%llu hotplug operations meanwhile, %d stale reads\n",
	       (unsigned long long)tr.round, tr.reads, resting, tr.onoff_ops, tr.bad);
	unmap_page(TLB_TEST_VA);
	free_page(tr.page[0]);
	free_page(tr.page[1]);
}

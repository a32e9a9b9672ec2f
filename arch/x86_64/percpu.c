/*
 * percpu.c — per-CPU areas and the GS base that finds them (see percpu.h).
 * Test: ktest "percpu.gs".
 */
#include <asm/cpu.h>
#include <grace/ktest.h>
#include <grace/mm.h>
#include <grace/panic.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/string.h>

unsigned long __per_cpu_offset[NR_CPUS];
DEFINE_PER_CPU(unsigned long, this_cpu_off);
DEFINE_PER_CPU(struct cpu_local, cpu_local);
bool percpu_ready;

void percpu_load_gs(unsigned int cpu)
{
	wrmsr(MSR_GS_BASE, __per_cpu_offset[cpu]);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
}

void percpu_init_boot_cpu(void)
{
	__per_cpu_offset[0] = 0;
	percpu_load_gs(0);
	this_cpu_write(this_cpu_off, 0UL);
	cpu_local.cpu = 0;
	percpu_ready = true;
}

void setup_per_cpu_areas(void)
{
	size_t size = (size_t)(__per_cpu_end - __per_cpu_start);
	unsigned int cpu, n = 0;

	for_each_possible_cpu(cpu) {
		if (cpu == 0)
			continue;
		char *area = kmalloc(size);

		if (!area)
			panic("percpu: no memory for CPU %u's area (%zu bytes)", cpu, size);
		memcpy(area, __per_cpu_start, size);
		__per_cpu_offset[cpu] = (unsigned long)area - (unsigned long)__per_cpu_start;
		per_cpu(this_cpu_off, cpu) = __per_cpu_offset[cpu];
		memset(&per_cpu(cpu_local, cpu), 0, sizeof(struct cpu_local));
		per_cpu(cpu_local, cpu).cpu = cpu;
		n++;
	}
	printk("percpu: %zu bytes per CPU, %u areas\n", size, n + 1);
}

static DEFINE_PER_CPU(u64, percpu_test_var);

KTEST(percpu_gs, "percpu.gs")
{
	KTEST_EXPECT(this_cpu() == per_cpu_ptr(&cpu_local, smp_processor_id()));
	this_cpu_write(percpu_test_var, 41);
	this_cpu_inc(percpu_test_var);
	KTEST_EXPECT(this_cpu_read(percpu_test_var) == 42);
	KTEST_EXPECT(per_cpu(percpu_test_var, smp_processor_id()) == 42);
}

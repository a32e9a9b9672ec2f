/*
 * percpu.c — the boot CPU's struct cpu_local and the GS base that finds it.
 * Invariant: once percpu_ready is set, %gs:0 on every running CPU points at
 * that CPU's own struct cpu_local.
 */
#include <asm/cpu.h>
#include <grace/percpu.h>

static struct cpu_local boot_cpu_local;
bool percpu_ready;

void percpu_init_boot_cpu(void)
{
	boot_cpu_local.self = &boot_cpu_local;
	boot_cpu_local.cpu = 0;
	wrmsr(MSR_GS_BASE, (u64)&boot_cpu_local);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
	percpu_ready = true;
}

unsigned int smp_processor_id(void)
{
	return percpu_ready ? this_cpu()->cpu : 0;
}

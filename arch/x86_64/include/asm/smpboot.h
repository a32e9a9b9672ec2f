/*
 * asm/smpboot.h — the arch's bring-up API (arch/x86_64/smpboot.c): which
 * CPUs exist, their APIC IDs, and starting and stopping one. The generic
 * kernel calls nothing else of the arch to run CPUs; the hotplug state
 * machine (kernel/cpu.c) uses the arch_cpu_* hooks at the end.
 *
 * Boot order (kmain, on the boot CPU):
 *     smp_prepare_cpus();      discovery: possible/present masks, APIC IDs,
 *                              nr_cpu_ids, and it calls setup_per_cpu_areas()
 *     ... scheduler, time, interrupts, smp_cfd_init() ...
 *     smp_init();              trampoline; with smp.parallel=1 kick every AP
 *     bringup_nonboot_cpus(setup_max_cpus);   kernel/cpu.c: the state machine
 *     smp_cpus_done();         report, BENCH line, park APs never released
 * smp_init() calls smp_prepare_cpus() itself if nobody did.
 * Tests: tests/scenarios/smp-*.scn, boot-*.scn.
 */
#ifndef ASM_SMPBOOT_H
#define ASM_SMPBOOT_H

#include <grace/cpumask.h>
#include <grace/types.h>

#define BAD_APICID 0xffffffffu

/* Highest possible CPU number + 1: loops over per-CPU data may stop here. */
extern unsigned int nr_cpu_ids;
/* maxcpus=: how many CPUs (boot CPU included) come online at boot. */
extern unsigned int setup_max_cpus;
/* cpu -> APIC ID (BAD_APICID when not possible); read by the AP trampoline. */
extern u32 cpu_apicid[NR_CPUS];

static inline u32 cpu_physical_id(unsigned int cpu)
{
	return cpu < NR_CPUS ? cpu_apicid[cpu] : BAD_APICID;
}
/* APIC ID -> logical CPU number, or -1. */
int apicid_to_cpu(u32 apic_id);

void smp_prepare_cpus(void);
void smp_init(void);
void smp_cpus_done(void);

/* The AP's C entry, from boot/trampoline.asm; never returns. */
__attribute__((noreturn)) void start_secondary(unsigned int cpu);

/* The hotplug state machine's hooks (kernel/cpu.c). */
int arch_cpu_up(unsigned int cpu);        /* INIT-SIPI; 0 when the AP is alive */
void arch_cpu_disable(void);              /* on the dying CPU, irqs off */
int arch_cpu_wait_dead(unsigned int cpu); /* control CPU: wait for play_dead */
__attribute__((noreturn)) void arch_play_dead(void);

#endif

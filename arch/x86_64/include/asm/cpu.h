/*
 * cpu.h — x86-64 instructions the kernel uses directly: interrupt flag, halt,
 * control registers, MSRs, CPUID, TSC.
 */
#ifndef ASM_CPU_H
#define ASM_CPU_H

#include <grace/types.h>

#define X86_RFLAGS_IF (1UL << 9)

static inline void cli(void) { __asm__ __volatile__("cli" ::: "memory"); }
static inline void sti(void) { __asm__ __volatile__("sti" ::: "memory"); }
static inline void hlt(void) { __asm__ __volatile__("hlt" ::: "memory"); }
/* sti takes effect after the next instruction, so no interrupt slips between. */
static inline void safe_halt(void) { __asm__ __volatile__("sti; hlt" ::: "memory"); }
static inline void cpu_relax(void) { __asm__ __volatile__("pause" ::: "memory"); }

static inline unsigned long local_save_flags(void)
{
	unsigned long f;
	__asm__ __volatile__("pushfq; popq %0" : "=r"(f) :: "memory");
	return f;
}
static inline unsigned long local_irq_save(void)
{
	unsigned long f = local_save_flags();
	cli();
	return f;
}
static inline void local_irq_restore(unsigned long f)
{
	if (f & X86_RFLAGS_IF)
		sti();
}
static inline bool irqs_disabled(void) { return !(local_save_flags() & X86_RFLAGS_IF); }
#define local_irq_disable() cli()
#define local_irq_enable()  sti()

#define DEFINE_CR(n) \
static inline unsigned long read_cr##n(void) { unsigned long v; __asm__ __volatile__("mov %%cr" #n ", %0" : "=r"(v)); return v; } \
static inline void write_cr##n(unsigned long v) { __asm__ __volatile__("mov %0, %%cr" #n :: "r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}
static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ __volatile__("wrmsr" :: "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

static inline void cpuid_count(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
	__asm__ __volatile__("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}
static inline void cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d) { cpuid_count(leaf, 0, a, b, c, d); }

/* CPUID.1:ECX[31], reserved for hypervisors: set when running in a VM
 * (SDM Vol. 2A, CPUID leaf 1; every hypervisor Grace runs under sets it). */
#define X86_CPUID1_ECX_HYPERVISOR (1U << 31)
static inline bool cpu_has_hypervisor(void)
{
	u32 a, b, c, d;

	cpuid(1, &a, &b, &c, &d);
	return (c & X86_CPUID1_ECX_HYPERVISOR) != 0;
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline void invlpg(unsigned long va) { __asm__ __volatile__("invlpg (%0)" :: "r"(va) : "memory"); }

#define MSR_EFER          0xC0000080
#define MSR_FS_BASE       0xC0000100
#define MSR_GS_BASE       0xC0000101
#define MSR_KERNEL_GS_BASE 0xC0000102
#define MSR_APIC_BASE     0x0000001B

#endif

/*
 * desc.h — the CPU's descriptor tables: GDT, TSS and IDT.
 *
 * Every CPU owns a `struct cpu_tables`: its own GDT (the TSS descriptor's busy
 * bit is per CPU, so GDTs cannot be shared), its own 64-bit TSS, and its own
 * interrupt stacks (IST). The IDT is one table shared by all CPUs.
 *
 * Selectors (the same values the boot GDT in boot/entry.asm uses):
 *   0x08 kernel code (64-bit), 0x10 kernel data, 0x18 TSS (a 16-byte entry).
 * Grace runs only in ring 0, so there are no user segments and TSS.RSP0 is
 * unused; the TSS exists for its IST pointers.
 *
 * IST stacks (Intel SDM Vol. 3A, "Interrupt Stack Table"): the CPU switches to
 * them unconditionally for the vectors that name one, so these handlers get a
 * good stack even when the kernel stack is the thing that broke:
 *   IST1 = #DF (vector 8), IST2 = NMI (vector 2), IST3 = #MC (vector 18).
 *
 * Bringing up a CPU:
 *     cpu_tables_init(t, ist_tops);   // any CPU may prepare another's tables
 *     cpu_tables_load(t);             // on the CPU itself: lgdt, segments, ltr
 *     idt_load();                     // on the CPU itself
 * The boot CPU does all of this in trap_init() with static tables and stacks.
 */
#ifndef ASM_DESC_H
#define ASM_DESC_H

#include <grace/compiler.h>
#include <grace/types.h>

#define GDT_ENTRY_KERNEL_CS 1
#define GDT_ENTRY_KERNEL_DS 2
#define GDT_ENTRY_TSS       3   /* occupies entries 3 and 4 */
#define GDT_ENTRIES         5

#define KERNEL_CS (GDT_ENTRY_KERNEL_CS * 8)
#define KERNEL_DS (GDT_ENTRY_KERNEL_DS * 8)
#define TSS_SEL   (GDT_ENTRY_TSS * 8)

/* IST slots are numbered 1..7 in the IDT gate; 0 means "no stack switch". */
#define IST_DF   1
#define IST_NMI  2
#define IST_MC   3
#define NR_IST   3
#define IST_STACK_SIZE (16 * 1024)

/* The 64-bit TSS (Intel SDM Vol. 3A, "Task Management in 64-bit Mode",
 * figure "64-Bit TSS Format"). */
struct tss64 {
	u32 reserved0;
	u64 rsp[3];     /* stacks for a privilege change to ring 0..2: unused */
	u64 reserved1;
	u64 ist[7];     /* ist[0] is IST1 */
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base; /* beyond the limit: no I/O permission bitmap */
} __packed;

struct cpu_tables {
	u64 gdt[GDT_ENTRIES] __aligned(16);
	struct tss64 tss __aligned(16);
	unsigned long ist_top[NR_IST]; /* top of each IST stack, as installed */
};

/* Fill the GDT and TSS of `t`; ist_top[i] is the top of the stack for IST i+1. */
void cpu_tables_init(struct cpu_tables *t, const unsigned long ist_top[NR_IST]);
/* On the CPU that will use `t`: load the GDT, reload CS/DS/ES/SS, load TR.
 * FS and GS are left alone: reloading GS would clear the per-CPU GS base. */
void cpu_tables_load(struct cpu_tables *t);
extern struct cpu_tables boot_cpu_tables;
/* The boot CPU's tables with its static IST stacks: init + load. */
void boot_cpu_tables_init(void);

/* The shared IDT. idt_set_gate installs an interrupt gate (IF cleared on
 * entry) to `handler` in the kernel code segment, with IST slot `ist` (0 = none). */
void idt_set_gate(unsigned int vector, void *handler, unsigned int ist);
void idt_load(void);

/* Entry stubs (arch/x86_64/entry.asm): isr_stub_table[v] enters vector v. */
extern void *const isr_stub_table[256];
/* Bounds of the entry code: a return address in here means the frame above is
 * an exception/interrupt frame (struct pt_regs), see kernel/backtrace.c. */
extern char __entry_text_start[], __entry_text_end[];

#endif

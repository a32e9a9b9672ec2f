/*
 * traps.h — CPU exceptions: vector numbers, entry points, hooks.
 *
 * Every exception enters do_exception() (arch/x86_64/traps.c) with a complete
 * struct pt_regs. NMI and INT3 first go to a hook that another subsystem may
 * install; everything else, and an INT3 no hook claims, prints an exception
 * report and powers the machine off with a failure status. See docs/traps.md.
 */
#ifndef ASM_TRAPS_H
#define ASM_TRAPS_H

#include <asm/ptrace.h>
#include <grace/compiler.h>
#include <grace/types.h>

/* Intel SDM Vol. 3A, Table 6-1 "Protected-Mode Exceptions and Interrupts". */
enum {
	X86_TRAP_DE = 0,   /* divide error */
	X86_TRAP_DB = 1,   /* debug */
	X86_TRAP_NMI = 2,  /* non-maskable interrupt */
	X86_TRAP_BP = 3,   /* breakpoint (int3) */
	X86_TRAP_OF = 4,   /* overflow (into) */
	X86_TRAP_BR = 5,   /* bound range exceeded */
	X86_TRAP_UD = 6,   /* invalid opcode */
	X86_TRAP_NM = 7,   /* device not available */
	X86_TRAP_DF = 8,   /* double fault */
	X86_TRAP_OLD_MF = 9,
	X86_TRAP_TS = 10,  /* invalid TSS */
	X86_TRAP_NP = 11,  /* segment not present */
	X86_TRAP_SS = 12,  /* stack-segment fault */
	X86_TRAP_GP = 13,  /* general protection */
	X86_TRAP_PF = 14,  /* page fault */
	X86_TRAP_MF = 16,  /* x87 floating-point error */
	X86_TRAP_AC = 17,  /* alignment check */
	X86_TRAP_MC = 18,  /* machine check */
	X86_TRAP_XM = 19,  /* SIMD floating-point */
	X86_TRAP_VE = 20,  /* virtualization exception */
	X86_TRAP_CP = 21,  /* control protection */
	NR_EXCEPTION_VECTORS = 32,
};

/* #PF error code bits (Intel SDM Vol. 3A, "Page-Fault Error Code"). */
#define X86_PF_PROT  (1UL << 0)  /* 0: page not present, 1: protection violation */
#define X86_PF_WRITE (1UL << 1)
#define X86_PF_USER  (1UL << 2)
#define X86_PF_RSVD  (1UL << 3)  /* a reserved bit was set in a paging entry */
#define X86_PF_INSTR (1UL << 4)  /* instruction fetch */
#define X86_PF_PK    (1UL << 5)
#define X86_PF_SS    (1UL << 6)  /* shadow-stack access */

/*
 * Boot CPU: GDT, TSS with IST stacks, IDT with the exception gates. Called
 * first thing after the console and multiboot2 parsing so every later fault is
 * reported. (irq_init() adds the gates for vectors 0x20..0xff.)
 */
void trap_init(void);

/* Called from arch/x86_64/entry.asm with interrupts off. */
void do_exception(struct pt_regs *regs);
void do_irq(struct pt_regs *regs);

/*
 * NMI hook: called for every NMI (on the NMI IST stack, in_nmi() true). The
 * SMP work uses NMIs to stop CPUs for panic and to collect `bt all`. With no
 * hook the NMI is logged and ignored.
 */
extern void (*nmi_handler_hook)(struct pt_regs *regs);
/*
 * INT3 hook: called for every breakpoint trap (regs->rip is just past the
 * int3 byte). Returns true when it handled the trap (e.g. text_poke_bp
 * emulating the instruction being patched; it may change regs->rip). An
 * unclaimed int3 is reported like any other exception.
 */
extern bool (*int3_handler_hook)(struct pt_regs *regs);

/* Print the exception report for `regs` and power off (failure). */
__noreturn void die(const char *why, struct pt_regs *regs);

/* True if a kernel read of the 8 bytes at `va` would not fault: walks the
 * live page tables. For code that must not fault (backtraces, reports). */
bool kernel_addr_mapped(unsigned long va);

#endif

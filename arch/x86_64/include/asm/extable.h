/*
 * asm/extable.h — instructions that are allowed to fault.
 *
 * A few instructions may fault for reasons outside the kernel's control: a
 * hypercall the hypervisor refuses or tries to rewrite (kernel/locking/
 * pv_kvm.c), a probe of a model-specific feature. Each such instruction
 * gets an entry in the `__ex_table` section naming it and the address to
 * continue at. do_exception() looks a faulting RIP up before it calls die():
 * when the RIP has an entry, the fault is recorded for the caller, RAX is set
 * to EX_FAULTED, and execution resumes at the fixup instead of a report.
 *
 * Entries hold offsets relative to their own fields (as Linux's do), so the
 * table needs no relocation and is 12 bytes an entry.
 *
 * Invariant: only #UD, #GP and #PF are fixed up — the exceptions a single
 * instruction raises precisely, with RIP on that instruction. A fault in
 * code with no entry is reported exactly as before.
 * Tested by: ktest traps.extable (a #UD and a #PF write on read-only text,
 * both fixed up), and the KVM probe's fallback (docs/locking.md).
 */
#ifndef ASM_EXTABLE_H
#define ASM_EXTABLE_H

#include <grace/types.h>

/* What RAX holds after a fixed-up fault. No KVM hypercall returns it (they
 * return 0, a positive value or a small negative errno). */
#define EX_FAULTED 0x8000fa17fa17fa17ULL

/*
 * Inside an asm statement: `from` is the label of the instruction that may
 * fault, `to` the label to continue at. Example:
 *     "1: vmcall\n2:\n" _ASM_EXTABLE(1b, 2b)
 */
#define _ASM_EXTABLE(from, to)                      \
	".pushsection __ex_table, \"a\"\n"          \
	".balign 4\n"                               \
	".long (" #from ") - .\n"                   \
	".long (" #to ") - .\n"                     \
	".long 0\n"                                 \
	".popsection\n"

struct exception_table_entry {
	s32 insn;      /* faulting instruction, relative to this field */
	s32 fixup;     /* where to continue, relative to this field */
	u32 flags;     /* reserved, 0 */
};

/* The last fault that was fixed up on this CPU, for the caller to report. */
struct extable_fault {
	u64 vector;
	u64 error_code;
	u64 cr2;        /* #PF only */
	u64 rip;        /* the faulting instruction */
	u64 count;      /* faults fixed up on this CPU so far */
};

struct pt_regs;

/* The entry for `rip`, or NULL. */
const struct exception_table_entry *search_exception_tables(unsigned long rip);
/* From do_exception(): true when the fault was fixed up (regs changed). */
bool fixup_exception(struct pt_regs *regs);
/* This CPU's record of its last fixed-up fault. */
const struct extable_fault *extable_last_fault(void);

#endif

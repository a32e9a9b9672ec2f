/*
 * extable.c — the exception table: instructions allowed to fault.
 *
 * The concept and the entry format are in asm/extable.h. The table is built by
 * the linker from every `__ex_table` piece (linker.ld: __start_ex_table ..
 * __stop_ex_table) and searched linearly: it has a handful of entries, and a
 * search happens only on a fault.
 *
 * Invariants: a fixup changes only RIP and RAX of the interrupted context;
 * the table is in read-only data.
 * Tested by: traps.extable (traps_ktest.c).
 */
#include <asm/cpu.h>
#include <asm/extable.h>
#include <asm/ptrace.h>
#include <asm/traps.h>
#include <grace/percpu.h>

extern const struct exception_table_entry __start_ex_table[], __stop_ex_table[];

static DEFINE_PER_CPU(struct extable_fault, extable_fault);

static unsigned long ex_addr(const s32 *field)
{
	return (unsigned long)field + (long)*field;
}

const struct exception_table_entry *search_exception_tables(unsigned long rip)
{
	for (const struct exception_table_entry *e = __start_ex_table; e < __stop_ex_table; e++)
		if (ex_addr(&e->insn) == rip)
			return e;
	return NULL;
}

bool fixup_exception(struct pt_regs *regs)
{
	const struct exception_table_entry *e;
	struct extable_fault *f;

	if (regs->vector != X86_TRAP_UD && regs->vector != X86_TRAP_GP &&
	    regs->vector != X86_TRAP_PF)
		return false;
	e = search_exception_tables(regs->rip);
	if (!e)
		return false;
	f = this_cpu_ptr(&extable_fault);
	f->vector = regs->vector;
	f->error_code = regs->error_code;
	f->cr2 = regs->vector == X86_TRAP_PF ? read_cr2() : 0;
	f->rip = regs->rip;
	f->count++;
	regs->rax = EX_FAULTED;
	regs->rip = ex_addr(&e->fixup);
	return true;
}

const struct extable_fault *extable_last_fault(void)
{
	return this_cpu_ptr(&extable_fault);
}

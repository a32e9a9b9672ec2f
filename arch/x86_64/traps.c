/*
 * traps.c — CPU exceptions and the exception report.
 *
 * Every exception vector (0..31) arrives in do_exception() through its stub in
 * entry.asm with a complete struct pt_regs. Three are not necessarily fatal:
 *   NMI (2)  -> nmi_handler_hook (SMP: panic stop, `bt all`), else logged;
 *   #BP (3)  -> do_int3() (own entry in entry.asm): int3_handler_hook (text
 *               patching, arch/x86_64/text_patching.c), else reported;
 * an instruction listed in the exception table (asm/extable.h) that raises
 * #UD, #GP or #PF continues at its fixup; everything else is a kernel bug:
 * die() prints a report and powers off with
 * a failure status, so a scenario fails at once instead of timing out.
 *
 * The report (docs/traps.md explains how to read it):
 *   !!! EXCEPTION: Page Fault (vector 14) error_code=0x0 on CPU 0
 *   RIP: fault_do_pf+0x11/0x20
 *   registers, control registers, a decoded #PF error code, Call Trace
 *
 * Invariants:
 *  - one CPU reports at a time; another CPU that faults meanwhile waits (the
 *    reporter powers the machine off);
 *  - an exception while reporting (on the reporting CPU) prints one short line
 *    and powers off; a third goes straight to the power-off. Never a loop.
 *  - the report reads memory only through kernel_addr_mapped() checks, so a
 *    broken stack or a wild RBP cannot fault it;
 *  - #DF, NMI and #MC run on their own IST stacks (asm/desc.h), so a kernel
 *    stack overflow (#PF on the guard page -> #DF) still gets a full report.
 * Tests: tests/scenarios/fault-{pf,de,ud,stack,textwrite}.scn.
 */
#include <asm/cpu.h>
#include <asm/desc.h>
#include <asm/extable.h>
#include <asm/traps.h>
#include <grace/rcupdate.h>
#include <grace/backtrace.h>
#include <grace/irq.h>
#include <grace/mm.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/reboot.h>
#include <grace/smp.h>

/* entry.asm hard-codes this layout. */
BUILD_BUG_ON(__builtin_offsetof(struct pt_regs, vector) != 15 * 8);
BUILD_BUG_ON(__builtin_offsetof(struct pt_regs, rip) != 17 * 8);
BUILD_BUG_ON(sizeof(struct pt_regs) != 22 * 8);

void (*nmi_handler_hook)(struct pt_regs *regs);
bool (*int3_handler_hook)(struct pt_regs *regs);

/* Intel SDM Vol. 3A, Table 6-1; 28-30 are AMD's (APM Vol. 2, §8.2). */
static const char *const exception_names[NR_EXCEPTION_VECTORS] = {
	[0] = "Divide Error",            [1] = "Debug",
	[2] = "NMI",                     [3] = "Breakpoint",
	[4] = "Overflow",                [5] = "BOUND Range Exceeded",
	[6] = "Invalid Opcode",          [7] = "Device Not Available",
	[8] = "Double Fault",            [9] = "Coprocessor Segment Overrun",
	[10] = "Invalid TSS",            [11] = "Segment Not Present",
	[12] = "Stack-Segment Fault",    [13] = "General Protection",
	[14] = "Page Fault",             [15] = "Reserved (15)",
	[16] = "x87 FPU Error",          [17] = "Alignment Check",
	[18] = "Machine Check",          [19] = "SIMD Floating-Point",
	[20] = "Virtualization",         [21] = "Control Protection",
	[28] = "Hypervisor Injection",   [29] = "VMM Communication",
	[30] = "Security Exception",
};

static const char *exception_name(u64 vector)
{
	if (vector < NR_EXCEPTION_VECTORS && exception_names[vector])
		return exception_names[vector];
	return vector < NR_EXCEPTION_VECTORS ? "Reserved" : "Interrupt";
}

/*
 * Walk the live page tables (4-level, Intel SDM Vol. 3A, "4-Level Paging")
 * through the direct map. Page tables live in RAM the direct map covers.
 */
bool kernel_addr_mapped(unsigned long va)
{
	/* Canonical: bits 63..47 all equal (48-bit virtual addresses). */
	if ((unsigned long)((long)(va << 16) >> 16) != va)
		return false;
	u64 entry = read_cr3() & 0x000ffffffffff000ULL;
	static const int shifts[4] = { 39, 30, 21, 12 };

	for (int level = 0; level < 4; level++) {
		const u64 *table = phys_to_virt(entry);

		entry = table[(va >> shifts[level]) & 511];
		if (!(entry & 1))          /* P */
			return false;
		if (level > 0 && level < 3 && (entry & (1ULL << 7)))
			return true;       /* PS: a 1 GiB or 2 MiB page */
		entry &= 0x000ffffffffff000ULL;
	}
	return true;
}

static void show_regs(const struct pt_regs *regs)
{
	unsigned long off, size;
	const char *name = ksym_lookup(regs->rip, &off, &size);

	if (name)
		printk("RIP: %s+0x%lx/0x%lx\n", name, off, size);
	else
		printk("RIP: %016lx (no symbol)\n", (unsigned long)regs->rip);
	printk(" rip %016lx cs %04lx rflags %016lx\n",
	       (unsigned long)regs->rip, (unsigned long)regs->cs, (unsigned long)regs->rflags);
	printk(" rsp %016lx ss %04lx rbp    %016lx\n",
	       (unsigned long)regs->rsp, (unsigned long)regs->ss, (unsigned long)regs->rbp);
	printk(" rax %016lx rbx %016lx rcx %016lx\n",
	       (unsigned long)regs->rax, (unsigned long)regs->rbx, (unsigned long)regs->rcx);
	printk(" rdx %016lx rsi %016lx rdi %016lx\n",
	       (unsigned long)regs->rdx, (unsigned long)regs->rsi, (unsigned long)regs->rdi);
	printk(" r8  %016lx r9  %016lx r10 %016lx\n",
	       (unsigned long)regs->r8, (unsigned long)regs->r9, (unsigned long)regs->r10);
	printk(" r11 %016lx r12 %016lx r13 %016lx\n",
	       (unsigned long)regs->r11, (unsigned long)regs->r12, (unsigned long)regs->r13);
	printk(" r14 %016lx r15 %016lx\n",
	       (unsigned long)regs->r14, (unsigned long)regs->r15);
	printk(" cr0 %016lx cr2 %016lx\n", read_cr0(), read_cr2());
	printk(" cr3 %016lx cr4 %016lx\n", read_cr3(), read_cr4());
}

static void explain_fault_address(unsigned long addr)
{
	if (addr_is_stack_guard(addr))
		printk("  %016lx is in a stack guard page: kernel stack overflow\n", addr);
	else if (addr < PAGE_SIZE)
		printk("  %016lx is in the first page: a NULL pointer dereference\n", addr);
	else if (addr >= (unsigned long)__text_start && addr < (unsigned long)__text_end)
		printk("  %016lx is kernel text\n", addr);
	else if (addr >= (unsigned long)__rodata_start && addr < (unsigned long)__rodata_end)
		printk("  %016lx is kernel read-only data\n", addr);
}

/* #PF: the error code says what kind of access faulted, CR2 where. */
static void explain_page_fault(const struct pt_regs *regs)
{
	unsigned long ec = regs->error_code;
	unsigned long cr2 = read_cr2();

	printk("#PF: %s %s %016lx: %s, %s mode%s\n",
	       ec & X86_PF_INSTR ? "instruction fetch" : ec & X86_PF_WRITE ? "write" : "read",
	       ec & X86_PF_INSTR ? "at" : "of",
	       cr2,
	       ec & X86_PF_PROT ? "protection violation on a present page" : "page not present",
	       ec & X86_PF_USER ? "user" : "kernel",
	       ec & X86_PF_RSVD ? ", reserved bit set in a page-table entry" : "");
	explain_fault_address(cr2);
}

/* #GP, #NP, #SS, #TS: a selector error code (SDM Vol. 3A, "Error Code"). */
static void explain_selector_error(unsigned long ec)
{
	if (!ec)
		return;
	printk("error code: %s %s index %lu%s\n",
	       ec & 2 ? "IDT" : ec & 4 ? "LDT" : "GDT",
	       ec & 2 ? "vector" : "selector",
	       (ec >> 3) & 0x1fff,
	       ec & 1 ? " (external event)" : "");
}

/* Who is reporting: -1 nobody, else the CPU number. */
static int die_owner = -1;
static int die_depth;

void die(const char *why, struct pt_regs *regs)
{
	int cpu = (int)smp_processor_id();
	int expected = -1;

	cli();
	if (!__atomic_compare_exchange_n(&die_owner, &expected, cpu, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		if (expected != cpu) {
			/* Another CPU is reporting and will power off. */
			for (;;)
				hlt();
		}
		/* An exception inside the report itself. */
		if (++die_depth == 1) {
			printk("!!! EXCEPTION: %s (vector %lu) at %016lx while reporting an exception; powering off\n",
			       exception_name(regs->vector), (unsigned long)regs->vector,
			       (unsigned long)regs->rip);
		}
		machine_poweroff(false);
	}

	printk_enter_emergency();
	printk("!!! EXCEPTION: %s (vector %lu) error_code=0x%lx on CPU %d\n",
	       exception_name(regs->vector), (unsigned long)regs->vector,
	       (unsigned long)regs->error_code, cpu);
	if (why)
		printk("%s\n", why);
	show_regs(regs);

	switch (regs->vector) {
	case X86_TRAP_PF:
		explain_page_fault(regs);
		break;
	case X86_TRAP_DF:
		/* A #PF on the guard page cannot push its own frame, so it becomes
		 * a #DF; CR2 still holds the address of the first fault. */
		printk("#DF: a fault while delivering a fault; running on the IST%d stack\n", IST_DF);
		explain_fault_address(read_cr2());
		break;
	case X86_TRAP_GP: case X86_TRAP_NP: case X86_TRAP_SS: case X86_TRAP_TS:
		explain_selector_error(regs->error_code);
		break;
	case X86_TRAP_BP:
		printk("#BP: int3 at %016lx that no handler claimed\n", (unsigned long)regs->rip - 1);
		break;
	}

	print_backtrace_regs(regs);
	smp_stop_other_cpus();
	printk("---[ end exception: %s ]---\n", exception_name(regs->vector));
	machine_poweroff(false);
}

static void do_nmi(struct pt_regs *regs)
{
	void (*hook)(struct pt_regs *) = READ_ONCE(nmi_handler_hook);
	struct cpu_local *c = this_cpu();

	c->nmi_depth++;
	rcu_nmi_enter();          /* NMI handlers may hold readers, also in idle */
	if (hook)
		hook(regs);
	else
		printk("NMI received on CPU %u (no NMI handler registered); continuing\n", c->cpu);
	rcu_nmi_exit();
	c->nmi_depth--;
}

void do_exception(struct pt_regs *regs)
{
	switch (regs->vector) {
	case X86_TRAP_NMI:
		do_nmi(regs);
		return;
	}
	if (fixup_exception(regs))
		return;
	die(NULL, regs);
}

/*
 * #BP, from int3_entry in entry.asm. 1 = a hook handled the int3 and the
 * frame is to be resumed without iretq (see entry.asm); 0 = the normal path
 * (the exception table, or the report) ran and iretq returns.
 */
int do_int3(struct pt_regs *regs);
int do_int3(struct pt_regs *regs)
{
	bool (*hook)(struct pt_regs *) = READ_ONCE(int3_handler_hook);

	if (hook && hook(regs))
		return 1;
	if (fixup_exception(regs))
		return 0;
	die(NULL, regs);
	return 0;
}

void trap_init(void)
{
	boot_cpu_tables_init();
	for (unsigned int v = 0; v < NR_EXCEPTION_VECTORS; v++) {
		unsigned int ist = v == X86_TRAP_DF ? IST_DF :
				   v == X86_TRAP_NMI ? IST_NMI :
				   v == X86_TRAP_MC ? IST_MC : 0;

		idt_set_gate(v, isr_stub_table[v], ist);
	}
	idt_load();
	printk("traps: GDT, TSS (IST stacks for #DF, NMI, #MC) and IDT loaded\n");
}

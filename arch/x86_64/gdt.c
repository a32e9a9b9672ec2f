/*
 * gdt.c — per-CPU GDT and TSS.
 *
 * In 64-bit mode segmentation is almost gone: code and data descriptors only
 * supply the privilege level and the L (64-bit) bit, their base and limit are
 * ignored. What still matters is the TSS, whose IST pointers give #DF, NMI and
 * #MC a known-good stack (see asm/desc.h for which vector uses which slot).
 *
 * Invariants:
 *  - each CPU loads its own struct cpu_tables: the TSS descriptor becomes
 *    "busy" when TR is loaded, so two CPUs cannot load the same one;
 *  - the selectors equal the boot GDT's, so CS/DS values are the same before
 *    and after cpu_tables_load();
 *  - FS and GS are never reloaded here: that would zero the GS base that
 *    this_cpu() depends on.
 * Test: every fault-*.scn scenario; fault-stack.scn needs IST1 to report a
 * kernel stack overflow.
 */
#include <asm/desc.h>
#include <grace/string.h>

struct cpu_tables boot_cpu_tables;

/* The boot CPU's IST stacks; the SMP work allocates one set per CPU. */
static u8 boot_ist_stacks[NR_IST][IST_STACK_SIZE] __aligned(16);

/*
 * Code/data descriptors (Intel SDM Vol. 3A, "Segment Descriptors"):
 *   0x00af9a000000ffff  P=1 DPL=0 S=1 type=execute/read, L=1 (64-bit), G=1
 *   0x00cf92000000ffff  P=1 DPL=0 S=1 type=read/write, D/B=1, G=1
 */
#define GDT_KERNEL_CODE64 0x00af9a000000ffffULL
#define GDT_KERNEL_DATA   0x00cf92000000ffffULL

/*
 * A 64-bit TSS descriptor is 16 bytes (SDM Vol. 3A, "TSS Descriptor in 64-bit
 * Mode"): limit 15:0, base 23:0, type 9 (available 64-bit TSS), P=1, DPL=0,
 * limit 19:16, base 31:24 in the first quadword; base 63:32 in the second.
 */
static void set_tss_descriptor(u64 *desc, const struct tss64 *tss)
{
	u64 base = (u64)tss;
	u64 limit = sizeof(*tss) - 1;

	desc[0] = (limit & 0xffff) |
		  ((base & 0xffffff) << 16) |
		  (0x89ULL << 40) |                  /* P=1, DPL=0, type=9 */
		  (((limit >> 16) & 0xf) << 48) |
		  (((base >> 24) & 0xff) << 56);
	desc[1] = base >> 32;
}

void cpu_tables_init(struct cpu_tables *t, const unsigned long ist_top[NR_IST])
{
	memset(t, 0, sizeof(*t));
	t->gdt[0] = 0;
	t->gdt[GDT_ENTRY_KERNEL_CS] = GDT_KERNEL_CODE64;
	t->gdt[GDT_ENTRY_KERNEL_DS] = GDT_KERNEL_DATA;
	for (int i = 0; i < NR_IST; i++) {
		t->ist_top[i] = ist_top[i] & ~15UL; /* the CPU wants it 16-aligned */
		t->tss.ist[i] = t->ist_top[i];
	}
	t->tss.iomap_base = sizeof(t->tss);
	set_tss_descriptor(&t->gdt[GDT_ENTRY_TSS], &t->tss);
}

void cpu_tables_load(struct cpu_tables *t)
{
	struct { u16 limit; u64 base; } __packed gdtr = {
		.limit = sizeof(t->gdt) - 1,
		.base = (u64)t->gdt,
	};

	/* New GDT, then reload CS with a far return (there is no far jump to an
	 * immediate in 64-bit mode) and the data segments the CPU checks. */
	__asm__ __volatile__(
		"lgdt %0\n\t"
		"pushq %1\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movw %w2, %%ds\n\t"
		"movw %w2, %%es\n\t"
		"movw %w2, %%ss\n\t"
		:: "m"(gdtr), "i"((u64)KERNEL_CS), "r"((u32)KERNEL_DS)
		: "rax", "memory");
	__asm__ __volatile__("ltr %w0" :: "r"((u32)TSS_SEL) : "memory");
}

void boot_cpu_tables_init(void)
{
	unsigned long tops[NR_IST];

	for (int i = 0; i < NR_IST; i++)
		tops[i] = (unsigned long)&boot_ist_stacks[i][IST_STACK_SIZE];
	cpu_tables_init(&boot_cpu_tables, tops);
	cpu_tables_load(&boot_cpu_tables);
}

/*
 * main.c — kmain, the boot CPU's path from long mode to the shell.
 *
 * Order matters and each step says why it is where it is:
 *   percpu (printk needs the CPU number) → serial (see anything at all) →
 *   multiboot2 (memory map, command line, RSDP, framebuffer) → parameters →
 *   traps (every later fault gets a report) → memory (pages, page tables,
 *   heap) → consoles on screen → ACPI → interrupts and time → in-kernel tests
 *   → shell with `autorun`.
 */
#include <asm/patch_sites.h>
#include <asm/apic.h>
#include <asm/cpu.h>
#include <asm/traps.h>
#include <grace/acpi.h>
#include <grace/bootinfo.h>
#include <grace/console.h>
#include <grace/cpuhotplug.h>
#include <grace/smp.h>
#include <grace/stop_machine.h>
#include <grace/torture.h>
#include <grace/watchdog.h>
#include <grace/workqueue.h>
#include <grace/fault_inject.h>
#include <grace/irq.h>
#include <grace/bench.h>
#include <grace/ktest.h>
#include <grace/mm.h>
#include <grace/panic.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/pv_dynamic.h>
#include <grace/pv_ipi.h>
#include <grace/qspinlock_lab.h>
#include <grace/qspinlock_pv.h>
#include <grace/rcupdate.h>
#include <grace/reboot.h>
#include <grace/param.h>
#include <grace/serial.h>
#include <grace/shell.h>
#include <grace/sched.h>
#include <grace/string.h>
#include <grace/time.h>
#include <grace/timer.h>
#include <grace/trace.h>

struct boot_info boot_info;

static void boot_warn(const char *msg)
{
	printk("%s\n", msg);
}

static void parse_boot_info(u32 magic, u32 mbi_phys)
{
	if (magic != MULTIBOOT2_BOOTLOADER_MAGIC)
		panic("not started by a multiboot2 loader (magic %#x); boot Grace through GRUB", magic);
	if (!mbi_phys || mbi_phys & 7)
		panic("multiboot2 information pointer %#x is invalid", mbi_phys);
	/* The boot page tables map the low 4 GiB at PHYS_OFFSET; the
	 * information structure lives there. Read its size, bounded. */
	const void *mbi = phys_to_virt(mbi_phys);
	u32 total = *(const u32 *)mbi;
	size_t avail = total > (1u << 20) ? (1u << 20) : total;

	if (multiboot2_parse(mbi, avail, &boot_info, boot_warn))
		panic("multiboot2 information is unusable (see messages above)");
	boot_info.mbi_phys = mbi_phys;
}

static int kernel_init(void *unused);

void kmain(u32 magic, u32 mbi_phys);
void kmain(u32 magic, u32 mbi_phys)
{
	tsc_at_boot = rdtsc();
	percpu_init_boot_cpu();
	serial_init();
	printk("Grace: booting\n");
	parse_boot_info(magic, mbi_phys);
	printk("boot: loader \"%s\", %s, %u memory regions, cmdline \"%s\"\n",
	       boot_info.loader, boot_info.efi ? "UEFI" : "BIOS", boot_info.nr_mem, boot_info.cmdline);
	/* Arguments next: everything after this may be tuned by them. */
	cmdline_init();

	/* GDT/TSS/IDT before anything else can fault: from here on every
	 * exception prints a report instead of triple-faulting. */
	trap_init();
	irq_init();

	/* Memory: pages first (their metadata goes in low memory the boot map
	 * reaches), then the final page tables built from those pages, then the
	 * heap on top of both. */
	pmm_init();
	paging_init();
	kmalloc_init();
	/* Text patching needs the final page tables (its alias is a private
	 * root) and runs before any other CPU: check the sites, set the static
	 * keys' boot states. */
	patching_init();
	printk("mem: %llu MiB usable, %llu pages free, kernel %llu KiB\n",
	       (unsigned long long)(pmm_total_pages() >> (20 - PAGE_SHIFT)),
	       (unsigned long long)pmm_free_pages(),
	       (unsigned long long)((__kernel_phys_end - __kernel_phys_start) >> 10));

	/* Screen consoles: after memory, the framebuffer is mapped with ioremap. */
	console_init();

	/* ACPI: after memory (tables may lie above 4 GiB, reached through the
	 * full direct map) and before anything that reads the MADT or HPET. */
	acpi_init();

	/* CPUs: possible/present masks and APIC IDs from the MADT, per-CPU
	 * areas for every possible CPU. Then the lock code's lab switches and
	 * the slow path's PV backend, chosen before any other CPU runs
	 * (pvspin=) from the possible count. */
	smp_prepare_cpus();
	qspinlock_lab_init();
	pv_spinlock_init(num_possible_cpus());
	trace_init();   /* trace=1: rings for every possible CPU, from here on */

	/* The scheduler: every possible CPU's runqueue and timer base; this
	 * context becomes CPU 0's idle task "swapper/0" (it may not sleep until
	 * rest_init hands the rest of boot to the init thread). Before the tick,
	 * which calls into it. */
	sched_init();

	/* Interrupts and time: the TSC is calibrated against the HPET (found
	 * through ACPI) or the PIT; then this CPU's LAPIC, the IOAPIC (pins
	 * masked until a driver asks) and the periodic tick. */
	time_init();
	lapic_init();
	ioapic_init();
	timer_tick_init();
	local_irq_enable();

	/* Keyboard (IRQ 1) and serial (IRQ 4) input by interrupt: the shell
	 * can then sleep with hlt between keys. */
	if (!request_isa_irq(1, console_input_irq, NULL, "keyboard") &&
	    !request_isa_irq(4, console_input_irq, NULL, "serial")) {
		serial_enable_rx_irq();
		console_input_irq_ready();
	}

	/* IPIs: call-function, NMI requests, the PV lock kick. */
	smp_cfd_init();
	nmi_ipi_init();
	pv_kick_init();

	/* The rest runs in a thread that may sleep; this context idles. */
	rest_init(kernel_init, NULL);
}

/* The "init" thread: what is left of boot once the scheduler runs. */
/*
 * The first thread: everything that sleeps. The hotplug machinery (threads
 * cpuhp/N and migration/N for every possible CPU, workqueues, watchdog),
 * then the other CPUs through the state machine — the same walk `cpu online`
 * takes later — then tests, torture and the shell.
 */
static int kernel_init(void *unused)
{
	(void)unused;
	/* RCU before any other CPU exists: hotplug's RCU steps need its books. */
	rcu_init();
	timers_register_hotplug();
	cpuhp_init();
	stop_machine_init();
	workqueue_init();
	watchdog_init();
	smp_init();
	bringup_nonboot_cpus(setup_max_cpus);
	smp_cpus_done();
	pv_dynamic_start();   /* pvspin=dynamic: the overcommit sampler and its thread */

	/* A deliberate fault (`fault=<kind>`) once every CPU is up. */
	fault_inject_from_param();
	hotplug_torture_start();
	locktorture_start();
	wqtorture_start();
	rcutorture_start();
	ktest_run_selected();
	if (!rcu_bench_from_param())
		bench_from_param();
	shell_main();
}

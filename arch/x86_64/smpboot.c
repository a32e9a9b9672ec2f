/*
 * smpboot.c — finding the other CPUs, starting them, and stopping them.
 *
 * Discovery (smp_prepare_cpus): the MADT lists every processor the firmware
 * knows. The boot CPU is CPU 0 whatever its APIC ID; the others get numbers
 * 1, 2, ... in MADT order:
 *   Enabled                      -> possible and present
 *   Online Capable (MADT rev >= 5, ACPI 6.3)
 *   or, in an older MADT, neither bit set (the pre-6.3 way of saying
 *   "may be hot-added", which QEMU's -smp N,maxcpus=M uses)
 *                                -> possible, not present: never started, and
 *                                   nothing may ever wait for it
 * nr_cpus= caps the possible CPUs, maxcpus= how many come online at boot
 * (the rest stay offline and can be onlined later); acpi=off or no MADT
 * means one CPU. cpu_apicid[] maps cpu -> APIC ID, apicid_to_cpu() back.
 *
 * Starting an AP (INIT, SIPI, SIPI; Intel SDM Vol. 3A §8.4.4): the AP runs
 * boot/trampoline.asm from `trampoline_phys`, finds its CPU number by its
 * APIC ID in cpu_apicid[], takes smp_ap_stack_top[cpu] and calls
 * start_secondary(cpu). Nothing in that path is shared and written, so any
 * number of APs may run it at once.
 *
 * Handshake with the control CPU, per CPU (struct ap_boot):
 *
 *   control CPU                         AP
 *   prepare_ap: stacks, GDT/TSS,
 *     alive = go = 0
 *   INIT, SIPI, SIPI  ───────────────▶  trampoline → start_secondary:
 *                                         GS base, GDT/TSS, IDT, LAPIC
 *   wait for alive (timeout)  ◀──────── alive = 1 (release)
 *   go = 1 (release), wake IPI ───────▶ sti;hlt until go (acquire)
 *   return 0 to cpu.c                     tick, STARTING callbacks, online,
 *                                         sti, idle loop → cpuhp_online_idle
 *
 * smp.parallel=1 (default): smp_init() kicks every AP that will come up at
 * boot first; they all run the trampoline concurrently and sleep at "go";
 * arch_cpu_up() then only waits for "alive" and releases. smp.parallel=0, and
 * every later onlining, do the whole INIT-SIPI-SIPI inside arch_cpu_up().
 *
 * Stopping (the state machine's teardown, on the dying CPU): arch_cpu_disable
 * stops the LAPIC timer; the idle loop calls arch_play_dead, which sets the
 * per-CPU `cpu_dead` flag (release) and halts with interrupts off forever.
 * arch_cpu_wait_dead polls that flag (acquire) with a timeout. Only an INIT
 * gets the CPU out of there, which is why onlining it again is a full
 * INIT-SIPI-SIPI.
 *
 * Invariants: an AP is kicked only if present and its stacks, tables and
 * cpu_apicid entry are written (smp_mb before the ICR write); an AP is released
 * at most once per kick; a CPU that missed its timeout leaves the present mask
 * and is sent INIT so a late start can never run into a half-set-up CPU.
 * Tests: tests/scenarios/smp-*.scn (bring-up at 1..16 CPUs, maxcpus, topology,
 * serial), smp-64/smp-255 in the long set; docs/smp.md.
 */
#include <asm/apic.h>
#include <asm/barrier.h>
#include <asm/cpu.h>
#include <asm/desc.h>
#include <asm/irq_vectors.h>
#include <asm/pgtable.h>
#include <grace/acpi.h>
#include <grace/cpuhotplug.h>
#include <grace/cpumask.h>
#include <grace/delay.h>
#include <grace/errno.h>
#include <grace/mm.h>
#include <grace/panic.h>
#include <grace/param.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/smp.h>
#include <grace/string.h>
#include <grace/time.h>

unsigned int nr_cpu_ids = 1;
unsigned int setup_max_cpus = NR_CPUS;
u32 cpu_apicid[NR_CPUS];

/* Read by secondary_startup_64 (boot/trampoline.asm). */
unsigned long smp_ap_stack_top[NR_CPUS];
unsigned long smp_boot_cr3, smp_boot_cr4, smp_boot_cr0;
u32 smp_ap_lost;   /* APs that found no CPU number for their APIC ID */

static int maxcpus = NR_CPUS;
param_int("maxcpus", maxcpus, 0, NR_CPUS,
	  "CPUs (boot CPU included) brought online at boot; the others can be onlined later");
static int nr_cpus = NR_CPUS;
param_int("nr_cpus", nr_cpus, 1, NR_CPUS, "limit the possible CPUs to this many");
static int ap_timeout_ms = 2000;
param_int("smp.ap_timeout_ms", ap_timeout_ms, 1, 600000,
	  "how long an AP may take to answer INIT-SIPI (and to die when offlined)");
static bool smp_parallel = true;
param_bool("smp.parallel", smp_parallel,
	   "kick every AP at once at boot (1) or one at a time inside cpu_up (0)");
static char spec_delays[8] = "auto";
param_string("smp.spec_delays", spec_delays,
	     "INIT-SIPI delays of the SDM (10 ms, 200 us): auto (off under a hypervisor), on, off");
static int silent_cpu = -1;
param_int("smp.test_silent_cpu", silent_cpu, -1, NR_CPUS - 1,
	  "failure injection: never send SIPI to this CPU, as if it were broken (-1: none)");

/* The trampoline blob and its patch points (boot/trampoline.asm). */
extern char trampoline_start[], trampoline_end[];
extern char tr_gdtr_base[], tr_pm32_off[], tr_lm64_off[], tr_cr3[], tr_entry[];
extern char secondary_startup_64[];

/* The trampoline's page table (asm/pgtable.h: below 4 GiB, a 32-bit CR3
 * load; 0..2 MiB identity-mapped plus the kernel half). */
static phys_addr_t tramp_pml4;

#define IST_STACK_ORDER 2    /* 4 pages = IST_STACK_SIZE */
BUILD_BUG_ON((PAGE_SIZE << IST_STACK_ORDER) != IST_STACK_SIZE);

struct ap_boot {
	u32 alive;              /* AP -> control: in start_secondary, LAPIC on */
	u32 go;                 /* control -> AP: carry on */
	bool kicked;            /* INIT-SIPI sent, not yet released */
	struct cpu_tables *tables;
	unsigned long ist_top[NR_IST];
};
static struct ap_boot ap_boot[NR_CPUS];

/* Set by arch_play_dead (release), read by arch_cpu_wait_dead (acquire). */
static DEFINE_PER_CPU(u32, cpu_dead);

static bool prepared, trampoline_ready, use_spec_delays;
static u64 bringup_start_ns;

int apicid_to_cpu(u32 apic_id)
{
	for (unsigned int cpu = 0; cpu < nr_cpu_ids; cpu++)
		if (cpu_apicid[cpu] == apic_id)
			return (int)cpu;
	return -1;
}

/* This CPU's APIC ID the way the trampoline reads it (CPUID), so the two
 * always agree. */
static u32 cpuid_apic_id(void)
{
	u32 a, b, c, d;

	cpuid(0, &a, &b, &c, &d);
	if (a >= 0xB) {
		cpuid_count(0xB, 0, &a, &b, &c, &d);
		if (b)
			return d;
	}
	cpuid(1, &a, &b, &c, &d);
	return b >> 24;
}

/* The MADT's revision: it decides what a processor entry with neither
 * Enabled nor Online Capable means. */
static unsigned int madt_revision(void)
{
	for (unsigned int i = 0; i < acpi.nr_tables; i++)
		if (memcmp(acpi.tables[i].sig, "APIC", 4) == 0 && acpi.tables[i].used)
			return acpi.tables[i].revision;
	return 0;
}

void smp_prepare_cpus(void)
{
	unsigned int next = 1, skipped = 0, absent = 0;
	u32 boot_id = cpuid_apic_id();
	bool boot_listed = false;

	if (prepared)
		return;
	prepared = true;
	for (unsigned int i = 0; i < NR_CPUS; i++)
		cpu_apicid[i] = BAD_APICID;
	cpu_apicid[0] = boot_id;
	this_cpu()->apic_id = boot_id;
	cpumask_set_cpu(0, &cpu_possible_mask);
	cpumask_set_cpu(0, &cpu_present_mask);
	cpumask_set_cpu(0, &cpu_online_mask);
	cpumask_set_cpu(0, &cpu_active_mask);

	if (!acpi.have_madt) {
		printk("smp: no MADT (no ACPI, or acpi=off): running on the boot CPU only\n");
	} else {
		bool old_madt = madt_revision() < 5;

		for (unsigned int i = 0; i < acpi.nr_cpus; i++) {
			const struct acpi_cpu *e = &acpi.cpus[i];
			bool enabled = e->flags & ACPI_CPU_ENABLED;
			bool hotplug = (e->flags & ACPI_CPU_ONLINE_CAPABLE) || (!e->flags && old_madt);

			if (e->apic_id == boot_id) {
				boot_listed = true;
				continue;
			}
			if (!enabled && !hotplug)
				continue;
			if (e->apic_id == 0xff && !e->x2apic)
				continue;       /* the xAPIC broadcast ID names no CPU */
			if (next >= (unsigned int)nr_cpus) {
				skipped++;
				continue;
			}
			cpu_apicid[next] = e->apic_id;
			cpumask_set_cpu(next, &cpu_possible_mask);
			if (enabled)
				cpumask_set_cpu(next, &cpu_present_mask);
			else
				absent++;
			next++;
		}
		if (!boot_listed)
			printk("smp: the boot CPU's APIC ID %u is not in the MADT; using it as CPU 0 anyway\n",
			       boot_id);
		if (skipped)
			printk("smp: nr_cpus=%d: %u more CPUs in the MADT are ignored\n", nr_cpus, skipped);
	}
	nr_cpu_ids = next;
	setup_max_cpus = maxcpus ? (unsigned int)maxcpus : 1;
	printk("smp: %u possible CPUs (%u present, %u not present), boot CPU APIC ID %u, maxcpus=%u\n",
	       num_possible_cpus(), cpumask_weight(&cpu_present_mask), absent, boot_id, setup_max_cpus);

	setup_per_cpu_areas();
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		per_cpu(cpu_local, cpu).apic_id = cpu_apicid[cpu];
}

/* ---- the trampoline ------------------------------------------------------ */

static void *tramp_ptr(char *sym)
{
	return (u8 *)phys_to_virt(trampoline_phys) + (sym - trampoline_start);
}

/* What the trampoline and secondary_startup_64 load: refreshed before every
 * kick, since the kernel may have added top-level entries (new stacks,
 * ioremaps) since the last one. */
static void trampoline_refresh(void)
{
	const u64 *kpml4 = phys_to_virt(kernel_pml4_phys);
	u64 *tpml4 = phys_to_virt(tramp_pml4);

	for (int i = 256; i < 512; i++)
		tpml4[i] = kpml4[i];
	smp_boot_cr3 = read_cr3();
	smp_boot_cr4 = read_cr4();
	smp_boot_cr0 = read_cr0();
}

static void tramp_add32(void *field, u32 v)
{
	u32 x;

	memcpy(&x, field, sizeof(x));
	x += v;
	memcpy(field, &x, sizeof(x));
}

static bool trampoline_setup(void)
{
	size_t size = (size_t)(trampoline_end - trampoline_start);
	phys_addr_t tp = trampoline_phys;
	phys_addr_t pml4 = trampoline_pml4();

	/* A SIPI vector is a page number below 1 MiB; A0-BF are reserved
	 * (SDM Vol. 3A §8.4.4.1: "vectors A0H to BFH are reserved"). */
	if (!tp || tp & (PAGE_SIZE - 1) || tp >= 0x100000 || (tp >= 0xA0000 && tp < 0xC0000)) {
		printk("smp: no usable page below 1 MiB for the AP trampoline (trampoline_phys=%#llx); "
		       "running on the boot CPU only\n", (unsigned long long)tp);
		return false;
	}
	if (size > PAGE_SIZE || !pml4 || pml4 >= (1ULL << 32)) {
		printk("smp: AP trampoline does not fit (%zu bytes, page table at %#llx); "
		       "running on the boot CPU only\n", size, (unsigned long long)pml4);
		return false;
	}
	memcpy(phys_to_virt(tp), trampoline_start, size);
	/* The trampoline's fields sit where the instructions put them, not on
	 * natural boundaries: patch them bytewise. */
	tramp_add32(tramp_ptr(tr_gdtr_base), (u32)tp);
	tramp_add32(tramp_ptr(tr_pm32_off), (u32)tp);
	tramp_add32(tramp_ptr(tr_lm64_off), (u32)tp);
	u32 cr3 = (u32)pml4;
	u64 entry = (u64)secondary_startup_64;

	memcpy(tramp_ptr(tr_cr3), &cr3, sizeof(cr3));
	memcpy(tramp_ptr(tr_entry), &entry, sizeof(entry));
	tramp_pml4 = pml4;
	trampoline_refresh();
	printk("smp: AP trampoline at %#llx (%zu bytes)\n", (unsigned long long)tp, size);
	return true;
}

/* Stacks, descriptor tables and flags for `cpu`, before (every) kick. */
static int prepare_ap(unsigned int cpu)
{
	struct ap_boot *b = &ap_boot[cpu];

	if (!smp_ap_stack_top[cpu]) {
		void *top = alloc_kernel_stack();

		if (!top)
			return -ENOMEM;
		smp_ap_stack_top[cpu] = (unsigned long)top;
	}
	for (int i = 0; i < NR_IST; i++) {
		/* IST stacks: plain pages from the direct map (no guard page, like
		 * the boot CPU's), so they cost no kernel-stack slot. */
		if (!b->ist_top[i]) {
			phys_addr_t p = alloc_pages(IST_STACK_ORDER);

			if (!p)
				return -ENOMEM;
			b->ist_top[i] = (unsigned long)phys_to_virt(p) + IST_STACK_SIZE;
		}
	}
	if (!b->tables) {
		b->tables = kzalloc(sizeof(*b->tables));
		if (!b->tables)
			return -ENOMEM;
	}
	/* Fresh every time: the TSS descriptor is busy after the last ltr. */
	cpu_tables_init(b->tables, b->ist_top);
	WRITE_ONCE(b->alive, 0);
	WRITE_ONCE(b->go, 0);
	per_cpu(cpu_dead, cpu) = 0;
	return 0;
}

/* ---- INIT, SIPI, SIPI ---------------------------------------------------- */

static void decide_spec_delays(void)
{
	if (strcmp(spec_delays, "on") == 0)
		use_spec_delays = true;
	else if (strcmp(spec_delays, "off") == 0)
		use_spec_delays = false;
	else {
		if (strcmp(spec_delays, "auto") != 0)
			printk("smp: smp.spec_delays=%s is not auto, on or off; using auto\n", spec_delays);
		use_spec_delays = !cpu_has_hypervisor();
	}
	printk("smp: INIT-SIPI spec delays %s, %s bring-up\n", use_spec_delays ? "on" : "off",
	       smp_parallel ? "parallel" : "serial");
}

/* >>> LAB smp-bringup (docs/labs/smp-bringup/README.md) */
/* Wait until the ICR's delivery status says the last IPI left (SDM Vol. 3A
 * §10.6.1, Delivery Status bit 12). Bounded: a stuck bit is reported. */
static void apic_wait_icr_idle(void)
{
	for (int i = 0; i < 100000; i++) {
		if (!(lapic_read(APIC_ICR_LOW) & APIC_ICR_PENDING))
			return;
		cpu_relax();
	}
	printk("smp: LAPIC ICR still busy after an IPI\n");
}

static void send_init(unsigned int cpu)
{
	/* INIT, level assert, edge (SDM §8.4.4.1: 000C4500H without the
	 * all-excluding-self shorthand: only this AP). */
	lapic_send_ipi(cpu_apicid[cpu], APIC_ICR_INIT | APIC_ICR_LEVEL_ASSERT, 0);
	apic_wait_icr_idle();
}

static void send_sipi(unsigned int cpu)
{
	lapic_send_ipi(cpu_apicid[cpu], APIC_ICR_STARTUP | APIC_ICR_LEVEL_ASSERT,
		       (u8)(trampoline_phys >> PAGE_SHIFT));
	apic_wait_icr_idle();
}

/*
 * Kick a set of APs: INIT to each, 10 ms, SIPI to each, 200 us, SIPI to
 * each, 200 us (SDM Vol. 3A §8.4.4.1). The delays are paid once for the
 * whole set, which is what makes parallel bring-up cheap on real hardware.
 * A second SIPI to an AP that already started is ignored by the AP.
 */
static void kick_aps(const struct cpumask *set)
{
	unsigned int cpu;

	trampoline_refresh();
	/* Everything prepare_ap wrote is visible before the AP can run. */
	smp_mb();
	for_each_cpu(cpu, set)
		send_init(cpu);
	if (use_spec_delays)
		mdelay(10);
	for (int round = 0; round < 2; round++) {
		for_each_cpu(cpu, set) {
			if ((int)cpu != silent_cpu)
				send_sipi(cpu);
			ap_boot[cpu].kicked = true;
		}
		if (use_spec_delays)
			udelay(200);
	}
}
/* <<< LAB smp-bringup */

static int kick_one(unsigned int cpu)
{
	struct cpumask one;
	int ret = prepare_ap(cpu);

	if (ret)
		return ret;
	cpumask_clear(&one);
	cpumask_set_cpu(cpu, &one);
	kick_aps(&one);
	return 0;
}

/* Pairs with the smp_store_release of the flag on the other CPU. */
static bool wait_flag(const u32 *flag, int timeout_ms)
{
	return spin_until(smp_load_acquire(flag) != 0, timeout_ms);
}

int arch_cpu_up(unsigned int cpu)
{
	struct ap_boot *b = &ap_boot[cpu];
	int ret;

	if (!trampoline_ready || cpu == 0 || cpu >= nr_cpu_ids)
		return -EIO;
	if (!b->kicked) {
		ret = kick_one(cpu);
		if (ret) {
			printk("smp: no memory to start CPU %u\n", cpu);
			return ret;
		}
	}
	if (!wait_flag(&b->alive, ap_timeout_ms)) {
		printk("smp: CPU %u (APIC %u) did not start within %d ms; marking it not present\n",
		       cpu, cpu_apicid[cpu], ap_timeout_ms);
		b->kicked = false;
		cpumask_clear_cpu(cpu, &cpu_present_mask);
		send_init(cpu);    /* a late start must not run on */
		return -EIO;
	}
	b->kicked = false;
	/* Pairs with smp_load_acquire(&b->go) in start_secondary. */
	smp_store_release(&b->go, 1);
	/* It sleeps in sti;hlt until an interrupt; any vector with a handler will do. */
	lapic_send_ipi(cpu_apicid[cpu], APIC_ICR_FIXED, CALL_FUNCTION_SINGLE_VECTOR);
	return 0;
}

void smp_init(void)
{
	struct cpumask boot_set;
	unsigned int cpu, n = 1;

	smp_prepare_cpus();
	smp_cfd_init();
	bringup_start_ns = ktime_get_ns();
	if (num_possible_cpus() == 1)
		return;
	trampoline_ready = trampoline_setup();
	if (!trampoline_ready) {
		for_each_possible_cpu(cpu)
			if (cpu)
				cpumask_clear_cpu(cpu, &cpu_present_mask);
		return;
	}
	/*
	 * Firmware may leave its APs spinning (OVMF's AP loop can be a busy
	 * loop): under TCG each is a host thread taking CPU time from this
	 * one. INIT parks them in wait-for-SIPI at once, and those maxcpus=
	 * leaves offline stay parked. (INIT is harmless to a halted AP.)
	 */
	for_each_cpu(cpu, &cpu_present_mask)
		if (cpu)
			send_init(cpu);
	decide_spec_delays();
	if (!smp_parallel)
		return;
	/* Kick exactly the APs bringup_nonboot_cpus() will bring up. */
	cpumask_clear(&boot_set);
	for_each_cpu(cpu, &cpu_present_mask) {
		if (cpu == 0)
			continue;
		if (n >= setup_max_cpus)
			break;
		if (prepare_ap(cpu)) {
			printk("smp: no memory to start CPU %u\n", cpu);
			continue;
		}
		cpumask_set_cpu(cpu, &boot_set);
		n++;
	}
	kick_aps(&boot_set);
}

void smp_cpus_done(void)
{
	u64 ns = ktime_get_ns() - bringup_start_ns;
	unsigned int cpu;

	/* An AP kicked at boot that the state machine never released (its
	 * cpu_up failed before BRINGUP_CPU) is put back to wait-for-SIPI. */
	for (cpu = 1; cpu < nr_cpu_ids; cpu++) {
		if (ap_boot[cpu].kicked) {
			ap_boot[cpu].kicked = false;
			send_init(cpu);
		}
	}
	if (READ_ONCE(smp_ap_lost))
		printk("smp: %u APs started with an APIC ID the MADT did not list; they were halted\n",
		       smp_ap_lost);
	printk("smp: %u CPUs online (%u possible, %u present)\n", num_online_cpus(),
	       num_possible_cpus(), cpumask_weight(&cpu_present_mask));
	printk("BENCH smp_bringup_%s_ms %llu.%03llu ms\n", smp_parallel ? "parallel" : "serial",
	       (unsigned long long)(ns / 1000000), (unsigned long long)(ns / 1000 % 1000));
}

/* ---- on the AP ----------------------------------------------------------- */

void start_secondary(unsigned int cpu)
{
	struct ap_boot *b = &ap_boot[cpu];

	/* GS first: printk, this_cpu() and every handler need it. */
	percpu_load_gs(cpu);
	cpu_tables_load(b->tables);
	idt_load();
	lapic_init();
	/* Pairs with wait_flag(&b->alive) in arch_cpu_up. */
	smp_store_release(&b->alive, 1);
	/* Sleep, not spin, until released: under TCG a spinning vCPU steals
	 * the host CPU the control CPU needs. The wake IPI ends the hlt; the
	 * flag is checked with interrupts off, so the wake cannot be lost. */
	while (!smp_load_acquire(&b->go)) {
		safe_halt();
		cli();
	}

	timer_tick_init();
	notify_cpu_starting(cpu);
	cpumask_set_cpu(cpu, &cpu_online_mask);
	local_irq_enable();
	cpu_startup_entry(CPUHP_AP_ONLINE_IDLE);
}

void arch_cpu_disable(void)
{
	/* No more ticks on a CPU that is leaving; the LAPIC stays enabled so
	 * INIT still reaches it. */
	lapic_timer_stop();
}

void arch_play_dead(void)
{
	unsigned int cpu = smp_processor_id();

	cli();
	/* Pairs with the acquire in arch_cpu_wait_dead: everything this CPU
	 * did before is visible once the flag is. */
	smp_store_release(&per_cpu(cpu_dead, cpu), 1);
	for (;;)
		hlt();     /* an NMI returns here; only INIT gets out */
}

int arch_cpu_wait_dead(unsigned int cpu)
{
	if (wait_flag(&per_cpu(cpu_dead, cpu), ap_timeout_ms))
		return 0;
	printk("smp: CPU %u did not reach play_dead within %d ms\n", cpu, ap_timeout_ms);
	return -EIO;
}

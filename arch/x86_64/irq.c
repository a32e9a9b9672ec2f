/*
 * irq.c — hardware interrupt dispatch for vectors 0x20..0xff.
 *
 * Path: device/LAPIC -> IDT gate (interrupts off) -> isr_stub_<v> (entry.asm)
 * -> do_irq(regs) -> the handler registered for v -> EOI -> iretq.
 *
 *   - request_irq_vector() installs one handler per vector; registration is
 *     serialized by irq_desc_lock and publishes the handler last (a release
 *     store), so do_irq never sees a handler without its data.
 *   - the vector table is a read-mostly structure read on the interrupt
 *     path, under RCU: a handler runs with interrupts off, which makes it an
 *     RCU reader (Grace's RCU counts no quiescent state inside it), and
 *     free_irq_vector() unpublishes the handler and then waits for a grace
 *     period, so when it returns no CPU is still inside the old handler and
 *     the caller may free its data — the pattern "wait for pre-existing
 *     readers" of McKenney et al., "RCU in the Linux Kernel: One Decade
 *     Later" (Linux's free_irq() does the same with synchronize_irq()). The
 *     wait also keeps a later request_irq_vector() of the same vector from
 *     changing `data` under a handler still running with the old one.
 *     irq.bug_free_no_gp=1 leaves the wait out (ktest irq.free_waits,
 *     scenario irq-bug-free-no-gp).
 *   - do_irq counts every arrival (irq_count()), marks the CPU as in_irq() while
 *     the handler runs, then acknowledges:
 *       LAPIC vectors                -> lapic_eoi() after the handler
 *       SPURIOUS_APIC_VECTOR (0xff)  -> no EOI (SDM Vol. 3A, "Spurious Interrupt")
 *       0x20..0x2f (the 8259 PICs)   -> only an 8259 EOI if the PIC really has
 *                                       the line in service; a spurious IRQ 7/15
 *                                       gets none (IRQ 15: master only)
 *   - a vector with no handler is reported once ("irq: unexpected vector ...").
 *
 * The legacy PICs are remapped to 0x20..0x2f and fully masked: the IOAPIC
 * delivers device interrupts. Remapping still matters because a spurious PIC
 * interrupt can arrive even when masked, and must not land on an exception
 * vector.
 * Test: `interrupts` shell command shows the counts; the timer and IPI work
 * exercise the path on every tick; ktests traps.irq_dispatch, irq.free_waits.
 */
#include <asm/apic.h>
#include <asm/desc.h>
#include <asm/io.h>
#include <asm/traps.h>
#include <grace/rcupdate.h>
#include <grace/irq.h>
#include <grace/param.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/sched.h>
#include <grace/shell.h>
#include <grace/spinlock.h>
#include <grace/trace.h>

struct irq_desc {
	irq_handler_t handler;  /* published last, read first */
	void *data;
	const char *name;
	bool reported;          /* "unexpected vector" printed already */
};

static struct irq_desc irq_desc[NR_VECTORS];
static u64 irq_counts[NR_VECTORS];
static DEFINE_SPINLOCK(irq_desc_lock);

/* 8259A PIC (Intel 8259A datasheet, "Programming the 8259A"). */
#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1
#define PIC_ICW1_INIT_ICW4 0x11  /* ICW1: edge-triggered, cascade, ICW4 follows */
#define PIC_ICW4_8086      0x01
#define PIC_OCW3_READ_ISR  0x0b
#define PIC_EOI            0x20  /* OCW2: non-specific EOI */

static void pic_remap_and_mask(void)
{
	outb(PIC1_CMD, PIC_ICW1_INIT_ICW4);  io_delay();
	outb(PIC2_CMD, PIC_ICW1_INIT_ICW4);  io_delay();
	outb(PIC1_DATA, PIC_VECTOR_BASE);    io_delay();  /* ICW2: vector base */
	outb(PIC2_DATA, PIC_VECTOR_BASE + 8); io_delay();
	outb(PIC1_DATA, 1 << 2);             io_delay();  /* ICW3: slave on IRQ 2 */
	outb(PIC2_DATA, 2);                  io_delay();  /* ICW3: slave identity */
	outb(PIC1_DATA, PIC_ICW4_8086);      io_delay();
	outb(PIC2_DATA, PIC_ICW4_8086);      io_delay();
	outb(PIC1_DATA, 0xff);                            /* OCW1: mask all */
	outb(PIC2_DATA, 0xff);
}

static u8 pic_read_isr(u16 cmd)
{
	outb(cmd, PIC_OCW3_READ_ISR);
	return inb(cmd);
}

/* Acknowledge a vector in the PIC range, telling spurious from real. */
static void pic_ack(unsigned int vector)
{
	unsigned int irq = vector - PIC_VECTOR_BASE;
	bool slave = irq >= 8;
	u8 isr = pic_read_isr(slave ? PIC2_CMD : PIC1_CMD);

	if (!(isr & (1u << (irq & 7)))) {
		/* Spurious: the line dropped before the PIC could say which. The
		 * master did see the cascade line, so a slave spurious needs the
		 * master's EOI. */
		if (slave)
			outb(PIC1_CMD, PIC_EOI);
		return;
	}
	if (slave)
		outb(PIC2_CMD, PIC_EOI);
	outb(PIC1_CMD, PIC_EOI);
}

int request_irq_vector(unsigned int vector, irq_handler_t h, void *data, const char *name)
{
	unsigned long flags;
	int ret = -1;

	if (vector < FIRST_EXTERNAL_VECTOR || vector >= NR_VECTORS || !h)
		return -1;
	spin_lock_irqsave(&irq_desc_lock, flags);
	struct irq_desc *d = &irq_desc[vector];

	if (!d->handler) {
		d->data = data;
		d->name = name;
		d->reported = false;
		/* Pairs with the READ_ONCE of handler in do_irq: data and name
		 * are visible before the handler is. */
		smp_store_release(&d->handler, h);
		ret = 0;
	}
	spin_unlock_irqrestore(&irq_desc_lock, flags);
	return ret;
}

static bool irq_bug_free_no_gp;
param_bool("irq.bug_free_no_gp", irq_bug_free_no_gp,
	   "INJECTED BUG: free_irq_vector() returns while other CPUs may still run the old handler");

/* Sleeps (a grace period): task context only, or early boot. */
void free_irq_vector(unsigned int vector)
{
	unsigned long flags;

	if (vector < FIRST_EXTERNAL_VECTOR || vector >= NR_VECTORS)
		return;
	spin_lock_irqsave(&irq_desc_lock, flags);
	WRITE_ONCE(irq_desc[vector].handler, NULL);
	spin_unlock_irqrestore(&irq_desc_lock, flags);
	/* A CPU may still be inside the old handler (interrupts off: an RCU
	 * reader). Once a grace period has ended none is, and the caller may
	 * free the handler's data. */
	if (!irq_bug_free_no_gp)
		synchronize_rcu();
}

void do_irq(struct pt_regs *regs)
{
	unsigned int vector = regs->vector & 0xff;
	struct cpu_local *c = this_cpu();
	struct irq_desc *d = &irq_desc[vector];
	/* Pairs with request_irq_vector's release; the handler and its data
	 * stay valid until this returns (free_irq_vector waits a GP). */
	irq_handler_t h = smp_load_acquire(&d->handler);

	__atomic_fetch_add(&irq_counts[vector], 1, __ATOMIC_RELAXED);
	if (vector != LOCAL_TIMER_VECTOR)   /* the tick would flood the trace */
		trace_event(TRACE_IPI_RECV, 0, vector, 0);
	c->irq_depth++;
	rcu_irq_enter();          /* RCU watches an idle CPU while it handles this */
	if (h) {
		h(regs, d->data);
	} else if (!d->reported) {
		d->reported = true;
		if (vector >= PIC_VECTOR_BASE && vector < PIC_VECTOR_BASE + 16)
			printk("irq: spurious 8259 PIC interrupt (vector %#x); PICs are masked, ignored\n", vector);
		else
			printk("irq: unexpected vector %#x on CPU %u (no handler), acknowledged\n",
			       vector, c->cpu);
	}
	c->irq_depth--;

	if (vector >= PIC_VECTOR_BASE && vector < PIC_VECTOR_BASE + 16)
		pic_ack(vector);
	else if (vector != SPURIOUS_APIC_VECTOR)
		lapic_eoi();
	/* A preemption point, after the EOI (a task switched away here must not
	 * keep the vector's priority class blocked in the LAPIC). The task
	 * resumes here later and returns through iretq as if nothing happened. */
	/* Before the preemption point: the irq/NMI nesting count must not be
	 * carried into another task (the idle task is never preempted here). */
	rcu_irq_exit();
	irq_exit_preempt(regs);
}

bool in_irq(void)
{
	return percpu_ready && this_cpu()->irq_depth > 0;
}

bool in_nmi(void)
{
	return percpu_ready && this_cpu()->nmi_depth > 0;
}

u64 irq_count(unsigned int vector)
{
	return vector < NR_VECTORS ? __atomic_load_n(&irq_counts[vector], __ATOMIC_RELAXED) : 0;
}

void irq_init(void)
{
	for (unsigned int v = FIRST_EXTERNAL_VECTOR; v < NR_VECTORS; v++)
		idt_set_gate(v, isr_stub_table[v], 0);
	pic_remap_and_mask();
	printk("irq: vectors %#x-%#x routed to the dispatcher, 8259 PICs remapped to %#x and masked\n",
	       FIRST_EXTERNAL_VECTOR, NR_VECTORS - 1, PIC_VECTOR_BASE);
}

/* `interrupts`: every vector that has fired or has a handler, like
 * Linux's /proc/interrupts. */
static int cmd_interrupts(int argc, char **argv)
{
	printk("vector      count  handler\n");
	for (unsigned int v = FIRST_EXTERNAL_VECTOR; v < NR_VECTORS; v++) {
		irq_handler_t h = READ_ONCE(irq_desc[v].handler);
		u64 n = irq_count(v);

		if (h || n)
			printk("  %#4x %10llu  %s\n", v, (unsigned long long)n,
			       h ? irq_desc[v].name : "-");
	}
	return 0;
}
SHELL_COMMAND(interrupts, "interrupts", "interrupts", "per-vector interrupt counts and handlers", cmd_interrupts);

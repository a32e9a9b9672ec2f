/*
 * ioapic.c — the I/O APIC: route interrupt pins (GSIs) to vectors.
 *
 * Registers are reached indirectly: write the index to IOREGSEL (offset 0),
 * then read/write IOWIN (offset 0x10). Register 1 holds the number of
 * redirection entries minus one in bits 16-23; entry n is the 64-bit pair at
 * 0x10 + 2n (82093AA data sheet §3.2). Every pin is masked at init; a pin is
 * unmasked only when a driver asks for it (request_isa_irq).
 *
 * ISA interrupts are edge-triggered, active high unless the MADT's interrupt
 * source override says otherwise (MPS INTI flags: polarity bits 0-1, 01 high,
 * 11 low; trigger bits 2-3, 01 edge, 11 level). QEMU overrides IRQ 0 → GSI 2
 * and makes the PCI IRQs level/low.
 * Test: the shell's serial input arrives by IRQ 4 (every autorun scenario);
 * ktest "irq.isa_route".
 */
#include <asm/apic.h>
#include <asm/io.h>
#include <grace/acpi.h>
#include <grace/irq.h>
#include <grace/mm.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/spinlock.h>

#define IOREGSEL 0x00
#define IOWIN    0x10
#define IOAPIC_REG_VER 0x01
#define IOAPIC_REDTBL(n) (0x10 + 2 * (n))
#define REDIR_MASKED      (1u << 16)
#define REDIR_LEVEL       (1u << 15)
#define REDIR_ACTIVE_LOW  (1u << 13)

struct ioapic {
	volatile u8 *base;
	u32 gsi_base;
	u32 nr_pins;
};

static struct ioapic ioapics[ACPI_MAX_IOAPICS];
static unsigned int nr_ioapics;
static DEFINE_SPINLOCK(ioapic_lock);

static u32 io_read(struct ioapic *io, u32 reg)
{
	mmio_write32(io->base + IOREGSEL, reg);
	return mmio_read32(io->base + IOWIN);
}

static void io_write(struct ioapic *io, u32 reg, u32 v)
{
	mmio_write32(io->base + IOREGSEL, reg);
	mmio_write32(io->base + IOWIN, v);
}

static struct ioapic *ioapic_for_gsi(u32 gsi, u32 *pin)
{
	for (unsigned int i = 0; i < nr_ioapics; i++) {
		if (gsi >= ioapics[i].gsi_base && gsi < ioapics[i].gsi_base + ioapics[i].nr_pins) {
			*pin = gsi - ioapics[i].gsi_base;
			return &ioapics[i];
		}
	}
	return NULL;
}

void ioapic_init(void)
{
	/* Without a MADT, assume the one standard IOAPIC of every PC. */
	static const struct acpi_ioapic fallback = { .id = 0, .addr = 0xFEC00000, .gsi_base = 0 };
	const struct acpi_ioapic *list = acpi.nr_ioapics ? acpi.ioapics : &fallback;
	unsigned int n = acpi.nr_ioapics ? acpi.nr_ioapics : 1;

	if (!acpi.nr_ioapics)
		printk("ioapic: no IOAPIC in the MADT, assuming one at 0xfec00000\n");
	for (unsigned int i = 0; i < n && nr_ioapics < ACPI_MAX_IOAPICS; i++) {
		struct ioapic *io = &ioapics[nr_ioapics];

		io->base = ioremap(list[i].addr, PAGE_SIZE);
		io->gsi_base = list[i].gsi_base;
		u32 ver = io_read(io, IOAPIC_REG_VER);

		if (ver == 0xFFFFFFFF) {
			printk("ioapic: nothing answers at %#x, ignored\n", list[i].addr);
			continue;
		}
		io->nr_pins = ((ver >> 16) & 0xFF) + 1;
		for (u32 pin = 0; pin < io->nr_pins; pin++) {
			io_write(io, IOAPIC_REDTBL(pin), REDIR_MASKED);
			io_write(io, IOAPIC_REDTBL(pin) + 1, 0);
		}
		printk("ioapic: %u at %#x, GSIs %u-%u\n", list[i].id, list[i].addr,
		       io->gsi_base, io->gsi_base + io->nr_pins - 1);
		nr_ioapics++;
	}
}

int ioapic_route(u32 gsi, u8 vector, u32 apic_id, u16 flags)
{
	u32 pin;
	struct ioapic *io = ioapic_for_gsi(gsi, &pin);

	if (!io)
		return -1;
	u32 low = vector; /* fixed delivery, physical destination */

	if ((flags & 0x3) == 0x3)
		low |= REDIR_ACTIVE_LOW;
	if (((flags >> 2) & 0x3) == 0x3)
		low |= REDIR_LEVEL;
	unsigned long irqf;

	spin_lock_irqsave(&ioapic_lock, irqf);
	io_write(io, IOAPIC_REDTBL(pin), REDIR_MASKED);
	io_write(io, IOAPIC_REDTBL(pin) + 1, apic_id << 24);
	io_write(io, IOAPIC_REDTBL(pin), low);
	spin_unlock_irqrestore(&ioapic_lock, irqf);
	return 0;
}

void ioapic_mask(u32 gsi, bool masked)
{
	u32 pin;
	struct ioapic *io = ioapic_for_gsi(gsi, &pin);
	unsigned long irqf;

	if (!io)
		return;
	spin_lock_irqsave(&ioapic_lock, irqf);
	u32 low = io_read(io, IOAPIC_REDTBL(pin));

	io_write(io, IOAPIC_REDTBL(pin), masked ? low | REDIR_MASKED : low & ~REDIR_MASKED);
	spin_unlock_irqrestore(&ioapic_lock, irqf);
}

int request_isa_irq(unsigned int irq, irq_handler_t h, void *data, const char *name)
{
	u16 flags = 0;
	u32 gsi = acpi_isa_irq_to_gsi((u8)irq, &flags);

	if (irq > 15 || gsi >= IRQ_GSI_MAX) {
		printk("irq: ISA IRQ %u (GSI %u) cannot be routed\n", irq, gsi);
		return -1;
	}
	if (request_irq_vector(IRQ_GSI_BASE + gsi, h, data, name))
		return -1;
	if (ioapic_route(gsi, (u8)(IRQ_GSI_BASE + gsi), lapic_id(), flags)) {
		printk("irq: no IOAPIC pin for GSI %u (ISA IRQ %u)\n", gsi, irq);
		free_irq_vector(IRQ_GSI_BASE + gsi);
		return -1;
	}
	return 0;
}

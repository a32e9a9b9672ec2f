/*
 * idt.c — the interrupt descriptor table, shared by all CPUs.
 *
 * 256 gates, one per vector, each pointing at its stub in entry.asm. All are
 * interrupt gates (not trap gates), so the CPU clears IF on entry: a handler
 * runs with interrupts off until it returns or enables them itself. All are
 * DPL 0: Grace has no user mode, so no `int n` from ring 3 needs allowing.
 *
 * Gate format (Intel SDM Vol. 3A, "64-Bit Mode IDT", figure "64-Bit IDT Gate
 * Descriptors"): offset 15:0, selector, IST (bits 2:0), type/attributes
 * (P=1, DPL=0, type 0xE = 64-bit interrupt gate), offset 31:16, offset 63:32.
 *
 * Invariant: a vector's gate is either not present or points at its own stub
 * in isr_stub_table, so pt_regs->vector always names the gate that was taken.
 */
#include <asm/desc.h>
#include <grace/compiler.h>

struct idt_gate {
	u16 offset_low;
	u16 selector;
	u8 ist;
	u8 type_attr;
	u16 offset_mid;
	u32 offset_high;
	u32 reserved;
} __packed;

BUILD_BUG_ON(sizeof(struct idt_gate) != 16);

#define GATE_INTERRUPT 0x8e /* P=1, DPL=0, type 0xE */

static struct idt_gate idt[256] __aligned(16);

void idt_set_gate(unsigned int vector, void *handler, unsigned int ist)
{
	u64 addr = (u64)handler;
	struct idt_gate g = {
		.offset_low = addr & 0xffff,
		.selector = KERNEL_CS,
		.ist = ist & 7,
		.type_attr = GATE_INTERRUPT,
		.offset_mid = (addr >> 16) & 0xffff,
		.offset_high = addr >> 32,
	};

	idt[vector & 0xff] = g;
}

void idt_load(void)
{
	struct { u16 limit; u64 base; } __packed idtr = {
		.limit = sizeof(idt) - 1,
		.base = (u64)idt,
	};

	__asm__ __volatile__("lidt %0" :: "m"(idtr) : "memory");
}

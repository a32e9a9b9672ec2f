/*
 * apic.h — the local APIC and the I/O APIC.
 *
 * Local APIC (xAPIC MMIO mode; Intel SDM Vol. 3A ch. 11): one per CPU at the
 * physical address in IA32_APIC_BASE (normally 0xFEE00000). Grace uses it for
 * the per-CPU timer tick, end-of-interrupt and inter-processor interrupts.
 * I/O APIC (82093AA data sheet): routes the ISA/PCI interrupt pins (GSIs) to a
 * vector on a chosen CPU.
 */
#ifndef ASM_APIC_H
#define ASM_APIC_H

#include <grace/types.h>

/* Local APIC register offsets (SDM Vol. 3A, Table 11-1). */
#define APIC_ID        0x020
#define APIC_VERSION   0x030
#define APIC_TPR       0x080
#define APIC_EOI       0x0B0
#define APIC_LDR       0x0D0
#define APIC_DFR       0x0E0
#define APIC_SVR       0x0F0
#define APIC_ESR       0x280
#define APIC_ICR_LOW   0x300
#define APIC_ICR_HIGH  0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR  0x390
#define APIC_TIMER_DIV  0x3E0

#define APIC_SVR_ENABLE      (1u << 8)
#define APIC_LVT_MASKED      (1u << 16)
#define APIC_LVT_NMI         (4u << 8)
#define APIC_TIMER_PERIODIC  (1u << 17)
/* ICR fields (SDM Vol. 3A, Figure 11-12) */
#define APIC_ICR_FIXED       (0u << 8)
#define APIC_ICR_NMI         (4u << 8)
#define APIC_ICR_INIT        (5u << 8)
#define APIC_ICR_STARTUP     (6u << 8)
#define APIC_ICR_PENDING     (1u << 12)
#define APIC_ICR_LEVEL_ASSERT (1u << 14)
#define APIC_ICR_LEVEL_TRIG  (1u << 15)
#define APIC_ICR_ALL_BUT_SELF (3u << 18)

void lapic_init(void);          /* map and enable this CPU's local APIC */
void lapic_eoi(void);
u32 lapic_id(void);
u32 lapic_read(u32 reg);
void lapic_write(u32 reg, u32 v);
/* Send an IPI; `icr_low` holds delivery mode/level/shorthand bits. */
void lapic_send_ipi(u32 apic_id, u32 icr_low, u8 vector);
/* Start this CPU's periodic timer at `hz`, on LOCAL_TIMER_VECTOR. */
void lapic_timer_start(unsigned int hz);
void lapic_timer_stop(void);
extern u32 lapic_timer_ticks_per_ms; /* bus-clock ticks (divide 16) per ms */

void ioapic_init(void);
/* Program GSI `gsi` to deliver `vector` to CPU `apic_id`; flags = MPS INTI flags. */
int ioapic_route(u32 gsi, u8 vector, u32 apic_id, u16 flags);
void ioapic_mask(u32 gsi, bool masked);

#endif

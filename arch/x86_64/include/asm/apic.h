/*
 * apic.h — the local APIC, as far as interrupt dispatch needs it.
 *
 * lapic_eoi() tells the local APIC that the interrupt being serviced is done,
 * so it can deliver the next one of equal or lower priority (Intel SDM Vol. 3A,
 * "End-of-Interrupt (EOI)"). The LAPIC driver provides it; until that lands,
 * arch/x86_64/irq.c has a weak no-op fallback.
 */
#ifndef ASM_APIC_H
#define ASM_APIC_H

void lapic_eoi(void);

#endif

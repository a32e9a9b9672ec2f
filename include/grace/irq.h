/*
 * irq.h — interrupt handlers.
 *
 * Every vector from 0x20 up enters the common dispatcher (arch/x86_64/irq.c),
 * which calls the handler registered for it with interrupts off, sends the
 * LAPIC EOI afterwards (unless the handler is for the spurious vector), and
 * counts it. A vector with no handler is reported once ("irq: unexpected
 * vector") and acknowledged. in_irq()/in_nmi() tell whether the current CPU is
 * inside a hardware interrupt or an NMI.
 */
#ifndef GRACE_IRQ_H
#define GRACE_IRQ_H

#include <asm/irq_vectors.h>
#include <asm/ptrace.h>
#include <grace/types.h>

typedef void (*irq_handler_t)(struct pt_regs *regs, void *data);

/* Install `h` on `vector` (0x20..0xff). Returns 0, or -1 if already taken. */
int request_irq_vector(unsigned int vector, irq_handler_t h, void *data, const char *name);
void free_irq_vector(unsigned int vector);
/* Route ISA IRQ `irq` (after ACPI overrides) through the IOAPIC to this CPU. */
int request_isa_irq(unsigned int irq, irq_handler_t h, void *data, const char *name);

void irq_init(void);          /* IDT gates for all vectors, PIC masked */
bool in_irq(void);
bool in_nmi(void);
u64 irq_count(unsigned int vector);

#endif

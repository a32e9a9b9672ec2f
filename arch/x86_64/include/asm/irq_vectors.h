/*
 * irq_vectors.h — how Grace uses the 256 interrupt vectors.
 *
 *   0x00-0x1f  CPU exceptions (Intel SDM Vol. 3A, Table 6-1)
 *   0x20-0x2f  the legacy 8259 PICs, remapped here and masked (spurious only)
 *   0x30-0x4f  IOAPIC pins: GSI n arrives on vector IRQ_GSI_BASE + n
 *   0x50-0xbf  free for dynamic allocation
 *   0xc0, 0xd0, 0xe0  locktorture's nesting IPIs: one per priority class, so
 *              each may interrupt the one below while it waits for a lock
 *   0xe0-0xfe  system vectors (LAPIC timer, IPIs), highest priority classes
 *   0xff       LAPIC spurious vector
 */
#ifndef ASM_IRQ_VECTORS_H
#define ASM_IRQ_VECTORS_H

#define NR_VECTORS             256
#define FIRST_EXTERNAL_VECTOR  0x20
#define PIC_VECTOR_BASE        0x20
#define IRQ_GSI_BASE           0x30
#define IRQ_GSI_MAX            32
#define FIRST_DYNAMIC_VECTOR   0x50
#define LAST_DYNAMIC_VECTOR    0xbf
/* Nesting level k (1..3) of locktorture's chain: classes 0xc, 0xd, 0xe. */
#define LOCKTORTURE_NEST_VECTOR(k) (0xb0 + 0x10 * (k))

#define LOCAL_TIMER_VECTOR     0xec
#define PV_KICK_VECTOR         0xfa   /* wakes a halted paravirt lock waiter */
#define CALL_FUNCTION_SINGLE_VECTOR 0xfb
#define CALL_FUNCTION_VECTOR   0xfc
#define RESCHEDULE_VECTOR      0xfd
#define REBOOT_VECTOR          0xfe
#define SPURIOUS_APIC_VECTOR   0xff

#endif

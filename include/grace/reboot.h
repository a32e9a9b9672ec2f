/*
 * reboot.h — leaving the machine.
 *
 * machine_poweroff(success): writes to QEMU's isa-debug-exit (port 0xf4):
 * 0x10 when successful (QEMU exits with status 33), 0x11 otherwise (status 35).
 * When that device is absent the write is ignored and we try ACPI S5 through the
 * FADT, then halt forever with interrupts off.
 */
#ifndef GRACE_REBOOT_H
#define GRACE_REBOOT_H

#include <grace/compiler.h>

#define ISA_DEBUG_EXIT_PORT    0xf4
#define ISA_DEBUG_EXIT_SUCCESS 0x10
#define ISA_DEBUG_EXIT_FAILURE 0x11

__noreturn void machine_poweroff(bool success);
__noreturn void machine_restart(void);
__noreturn void machine_halt(void);

#endif

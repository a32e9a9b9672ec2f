/*
 * reboot.c — power-off, restart and halt.
 *
 * Power-off tries, in order: QEMU's isa-debug-exit (port 0xf4; QEMU exits with
 * status (value << 1) | 1, so 0x10 gives 33 = success), ACPI S5 through the
 * FADT, then a halt loop. Restart tries the ACPI reset register, then the
 * keyboard controller pulse (port 0x64, command 0xFE), then a triple fault.
 */
#include <asm/cpu.h>
#include <asm/io.h>
#include <grace/acpi.h>
#include <grace/printk.h>
#include <grace/reboot.h>
#include <grace/trace.h>

void machine_halt(void)
{
	cli();
	for (;;)
		hlt();
}

void machine_poweroff(bool success)
{
	cli();
	trace_dump_at_exit();   /* trace.dump=1 */
	outb(ISA_DEBUG_EXIT_PORT, success ? ISA_DEBUG_EXIT_SUCCESS : ISA_DEBUG_EXIT_FAILURE);
	/* Still here: no isa-debug-exit device. */
	acpi_poweroff();
	printk("poweroff: no way to power off; halting\n");
	machine_halt();
}

void machine_restart(void)
{
	cli();
	acpi_reset();
	for (int i = 0; i < 100000 && (inb(0x64) & 0x02); i++)
		cpu_relax();
	outb(0x64, 0xFE);
	for (volatile int i = 0; i < 1000000; i++)
		;
	/* Triple fault: load an empty IDT and raise an exception. */
	struct { u16 limit; u64 base; } __packed idtr = { 0, 0 };
	__asm__ __volatile__("lidt %0; int3" :: "m"(idtr));
	machine_halt();
}

/*
 * pit.c — the 8254 PIT, channel 2, as a one-shot stopwatch.
 *
 * Channel 2's gate is bit 0 of port 0x61 and its output is readable as bit 5
 * of the same port, so it can time an interval without interrupts. Mode 0
 * (interrupt on terminal count): the output goes high when the count reaches
 * zero. Input clock 1.193182 MHz (8254 data sheet; PC/AT wiring).
 * Used only as the TSC calibration fallback when there is no HPET.
 */
#include <asm/io.h>
#include <grace/hpet.h>

#define PIT_HZ       1193182u
#define PIT_CH2_DATA 0x42
#define PIT_CMD      0x43
#define PORT_61      0x61

bool pit_wait_us(unsigned int us)
{
	u32 count = (u32)((u64)PIT_HZ * us / 1000000);

	if (count == 0 || count > 0xFFFF)
		return false;
	u8 p61 = inb(PORT_61);

	outb(PORT_61, (u8)((p61 & ~0x02) & ~0x01)); /* gate low, speaker off */
	outb(PIT_CMD, 0xB0);       /* channel 2, lobyte/hibyte, mode 0, binary */
	outb(PIT_CH2_DATA, count & 0xFF);
	outb(PIT_CH2_DATA, count >> 8);
	outb(PORT_61, (u8)((p61 & ~0x02) | 0x01)); /* gate high: start counting */

	bool done = false;

	for (u32 i = 0; i < 50000000u; i++) {
		if (inb(PORT_61) & 0x20) {
			done = true;
			break;
		}
	}
	outb(PORT_61, p61);
	return done;
}

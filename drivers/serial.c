/*
 * serial.c — the 16550 UART on COM1 (I/O port 0x3F8), the primary console.
 *
 * 115200 baud, 8N1, FIFOs on; output is polled (wait for THR empty, then
 * write), so it works before interrupts exist and from any context. Input is
 * polled by the shell (serial_getc) and, once interrupts are up, also raised
 * as IRQ 4 so the shell can sleep between keys.
 * Registers: National Semiconductor PC16550D data sheet, table 2.
 */
#include <asm/io.h>
#include <grace/printk.h>
#include <grace/serial.h>

#define COM1 0x3F8
#define UART_THR 0 /* transmit holding (write) / receive buffer (read) */
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20

static bool serial_present;

static void serial_putc_raw(char c)
{
	for (int spin = 0; spin < 100000; spin++)
		if (inb(COM1 + UART_LSR) & LSR_THR_EMPTY)
			break;
	outb(COM1 + UART_THR, (u8)c);
}

static void serial_write(const char *s, size_t len)
{
	if (!serial_present)
		return;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			serial_putc_raw('\r');
		serial_putc_raw(s[i]);
	}
}

static struct console serial_console = { .name = "ttyS0", .write = serial_write };

void serial_init(void)
{
	/* A UART has a scratch register; if it does not hold a value, nobody is home. */
	outb(COM1 + UART_SCR, 0x5a);
	if (inb(COM1 + UART_SCR) != 0x5a)
		return;
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, 0x80);  /* DLAB on: divisor latch */
	outb(COM1 + 0, 1);            /* 115200 = 115200 / 1 */
	outb(COM1 + 1, 0);
	outb(COM1 + UART_LCR, 0x03);  /* 8N1, DLAB off */
	outb(COM1 + UART_FCR, 0xC7);  /* FIFO on, clear, 14-byte threshold */
	outb(COM1 + UART_MCR, 0x0B);  /* DTR, RTS, OUT2 (IRQ line enable) */
	serial_present = true;
	register_console(&serial_console);
}

int serial_getc(void)
{
	if (!serial_present || !(inb(COM1 + UART_LSR) & LSR_DATA_READY))
		return -1;
	return inb(COM1 + UART_THR);
}

void serial_enable_rx_irq(void)
{
	if (serial_present)
		outb(COM1 + UART_IER, 0x01); /* data-available interrupt */
}

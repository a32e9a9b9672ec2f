/* serial.h — COM1 console (drivers/serial.c). */
#ifndef GRACE_SERIAL_H
#define GRACE_SERIAL_H

void serial_init(void);
int serial_getc(void);             /* -1 when no byte is waiting */
void serial_enable_rx_irq(void);   /* raise IRQ 4 on received data */

#endif

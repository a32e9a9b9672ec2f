/* hpet.h — the HPET main counter, used to calibrate the TSC (drivers/hpet.c). */
#ifndef GRACE_HPET_H
#define GRACE_HPET_H

#include <grace/types.h>

bool hpet_init(void);            /* false: no usable HPET */
u64 hpet_read(void);             /* main counter */
u64 hpet_period_fs(void);        /* femtoseconds per tick */

/* PIT channel 2 (drivers/pit.c): busy-wait `us` microseconds (<= 50 ms)
 * measuring with the PIT alone. Returns false if the PIT did not count. */
bool pit_wait_us(unsigned int us);

#endif

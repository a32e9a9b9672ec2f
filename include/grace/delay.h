/*
 * delay.h — waiting for a while. mdelay/udelay (time.h) spin on the TSC;
 * msleep sleeps on a timer and lets the CPU run other tasks meanwhile.
 */
#ifndef GRACE_DELAY_H
#define GRACE_DELAY_H

#include <grace/time.h>

/* Sleep at least `ms` milliseconds (rounded up to whole ticks). Task context. */
void msleep(unsigned int ms);

#endif

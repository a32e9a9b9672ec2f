/*
 * time.h — kernel time.
 *
 * ktime_get_ns(): nanoseconds since boot from the TSC, calibrated against the
 * HPET (PIT fallback) at boot; 0 until calibration. jiffies counts LAPIC timer
 * ticks at `timer.hz`. udelay/mdelay busy-wait on the TSC.
 */
#ifndef GRACE_TIME_H
#define GRACE_TIME_H

#include <grace/types.h>

u64 ktime_get_ns(void);
static inline u64 ktime_get_us(void) { return ktime_get_ns() / 1000; }
void udelay(unsigned long us);
void mdelay(unsigned long ms);

extern volatile u64 jiffies;
/* The jiffy a timeout starting now counts from: jiffies, or real time's jiffy
 * if the tick is late (kernel/time.c). */
u64 jiffies_now(void);
extern unsigned int tick_hz;
extern u64 tsc_khz;        /* 0 until calibrated */
extern u64 tsc_at_boot;    /* TSC read first thing in kmain */

void time_init(void);      /* calibrate the TSC */
void timer_tick_init(void);/* start this CPU's periodic LAPIC tick */

/* nohz=1: an idle CPU stops its tick when nothing needs it (kernel/time.c).
 * Idle loop only, interrupts off. */
void tick_nohz_idle_enter(void);
void tick_nohz_idle_exit(void);
bool tick_stopped_on(unsigned int cpu);   /* its tick is stopped in idle */
extern bool nohz_idle;                    /* the nohz= boot parameter */
extern unsigned long tick_nohz_stops;     /* idle entries that stopped the tick */

#endif

/*
 * delay.h — waiting for a while. mdelay/udelay (time.h) spin on the TSC;
 * msleep sleeps on a timer and lets the CPU run other tasks meanwhile;
 * spin_until spins for a condition, with a time limit.
 */
#ifndef GRACE_DELAY_H
#define GRACE_DELAY_H

#include <asm/cpu.h>
#include <grace/time.h>

/* Sleep at least `ms` milliseconds (rounded up to whole ticks). Task context. */
void msleep(unsigned int ms);

/*
 * Spin until `cond` is true or `ms` milliseconds have passed; the value is
 * cond's last evaluation, taken once more after the deadline so that a change
 * at the very end still counts. For waits that may not sleep (interrupts
 * off, NMI answers, an AP's first signs of life). `cond` carries its own
 * ordering: read the flag with smp_load_acquire() or an acquire atomic and
 * say which release it pairs with.
 */
#define spin_until(cond, ms) ({                                             \
	u64 __spin_deadline = ktime_get_ns() + (u64)(ms) * 1000000ULL;      \
	bool __spin_done;                                                    \
	while (!(__spin_done = (cond)) && ktime_get_ns() <= __spin_deadline) \
		cpu_relax();                                                 \
	__spin_done || (cond);                                               \
})

#endif

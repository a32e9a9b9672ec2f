/*
 * watchdog.h — softlockup and hardlockup detectors (kernel/watchdog.c).
 *
 * softlockup: a CPU that has not passed through the scheduler (schedule() or
 *   its idle loop) for watchdog.softlockup_s seconds — it is spinning with
 *   preemption off. Noticed by the CPU itself, in its tick.
 * hardlockup: a CPU whose tick has stopped — it is spinning with interrupts
 *   off. Noticed by its buddy (the next online CPU), which compares the
 *   CPU's tick count across watchdog.hardlockup_s seconds.
 * Both print "!!! watchdog: BUG: ..." naming the CPU, and its backtrace.
 */
#ifndef GRACE_WATCHDOG_H
#define GRACE_WATCHDOG_H

#include <asm/ptrace.h>

void watchdog_init(void);
void watchdog_touch(void);              /* "this CPU could schedule" */
void watchdog_tick(struct pt_regs *regs); /* from the timer tick, irqs off */
/* For code that legitimately keeps a CPU busy (e.g. stop_machine's spin). */
static inline void touch_softlockup_watchdog(void) { watchdog_touch(); }
extern unsigned long watchdog_soft_reports, watchdog_hard_reports;

#endif

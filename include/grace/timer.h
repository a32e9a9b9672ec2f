/*
 * timer.h — "call me back in N ticks": per-CPU timer lists on the tick.
 *
 *     struct timer_list t;
 *     timer_setup(&t, my_callback, 0);
 *     mod_timer(&t, jiffies + msecs_to_jiffies(50));
 *     ... del_timer_sync(&t);          before freeing t
 *
 * Every CPU has a timer base (kernel/timer.c) that its tick scans. A timer
 * is pending on exactly one base at a time; it fires once, on that base's
 * CPU, at the first tick with jiffies >= expires.
 *
 * Context of callbacks: the tick interrupt, interrupts OFF, preemption off.
 * Grace has no softirqs, so a callback must be short, must not sleep, and
 * may take only locks that are always taken with interrupts off (_irqsave).
 * It may re-arm its own timer (mod_timer/add_timer) and wake tasks.
 *
 * Hotplug: pending timers of a CPU that goes offline move to a live CPU —
 * pushed away on the dying CPU itself (CPUHP_AP_TIMERS_DYING), and whatever
 * was queued later is swept at the DEAD step of CPUHP_TIMERS_PREPARE on the
 * control CPU. A timer thus fires exactly once, never twice, never lost.
 * Tests: ktest "timer.fire_once", "timer.del_sync".
 */
#ifndef GRACE_TIMER_H
#define GRACE_TIMER_H

#include <grace/compiler.h>
#include <grace/list.h>
#include <grace/types.h>

struct timer_list {
	struct list_head entry;           /* on a base's wheel bucket while pending */
	unsigned long expires;            /* in jiffies */
	void (*function)(struct timer_list *t);
	unsigned int flags;
	unsigned int cpu;                 /* the base it belongs to */
};

#define TIMER_PINNED 0x1                  /* mod_timer keeps it on its CPU */

#define from_timer(var, callback_timer, timer_fieldname) \
	container_of(callback_timer, __typeof__(*var), timer_fieldname)

void timer_setup(struct timer_list *timer, void (*fn)(struct timer_list *), unsigned int flags);

/* (Re)arm on this CPU; 1 if it was pending before, else 0. */
int mod_timer(struct timer_list *timer, unsigned long expires);
/* Arm a timer that is not pending, with timer->expires set. */
void add_timer(struct timer_list *timer);
/* ... on `cpu` (if `cpu` has gone offline meanwhile: on this CPU). */
void add_timer_on(struct timer_list *timer, unsigned int cpu);
/* Disarm; 1 if it was pending. The callback may still be running elsewhere. */
int del_timer(struct timer_list *timer);
/* Disarm and wait until a running callback finished. Not from the callback. */
int del_timer_sync(struct timer_list *timer);
bool timer_pending(const struct timer_list *timer);

void init_timers(void);
/* From the tick handler, interrupts off: run this CPU's expired timers. */
void run_local_timers(void);
unsigned int timers_pending_on(unsigned int cpu);
void timers_register_hotplug(void);   /* kernel_init: the injected bug's DEAD state */

#endif

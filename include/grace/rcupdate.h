/*
 * rcupdate.h — read-copy update: readers that never wait, and writers that
 * wait for every reader that might still see the old version.
 *
 *   reader                              updater
 *     rcu_read_lock();                    new = copy of old, changed;
 *     p = rcu_dereference(gp);            rcu_assign_pointer(gp, new);
 *     ... use *p ...                      synchronize_rcu();   (or call_rcu /
 *     rcu_read_unlock();                  kfree(old);           kfree_rcu)
 *
 * The guarantee: a grace period (synchronize_rcu(), or the wait before a
 * call_rcu() callback runs) ends only after every read-side critical section
 * that began before it has ended. Readers cost one preempt-count increment
 * and decrement (this is the non-preemptible flavour: a reader may not
 * sleep, and any region with preemption or interrupts off is a reader too).
 *
 * Readers are legal in tasks, interrupt handlers and NMI handlers, on any
 * CPU RCU knows to be online — including the last moments of a CPU on its
 * way down (kernel/rcu/tree_hotplug.c). The implementation is tree RCU,
 * kernel/rcu/tree.c; docs/rcu.md is the long version.
 * Tests: tests/unit/test_rcu_*.c, rcutorture (kernel/torture/rcutorture.c).
 */
#ifndef GRACE_RCUPDATE_H
#define GRACE_RCUPDATE_H

#include <grace/compiler.h>
#include <grace/preempt.h>
#include <grace/types.h>

struct rcu_head {
	struct rcu_head *next;
	void (*func)(struct rcu_head *head);
};
typedef void (*rcu_callback_t)(struct rcu_head *head);

/* ---- readers ---- */

static __always_inline void rcu_read_lock(void)
{
	preempt_disable();
}

/* A preemption point, like any preempt_enable(): a CPU the GP kthread asked
 * to reschedule (a holdout) switches here, which is its quiescent state. */
static __always_inline void rcu_read_unlock(void)
{
	preempt_enable();
}

#ifdef CONFIG_DEBUG
bool rcu_read_lock_held(void);
#define RCU_LOCKDEP_WARN(c, msg) do { if (c) rcu_lockdep_warn(msg, __FILE__, __LINE__); } while (0)
void rcu_lockdep_warn(const char *msg, const char *file, int line);
#else
static inline bool rcu_read_lock_held(void) { return true; }
#define RCU_LOCKDEP_WARN(c, msg) do { (void)sizeof(c); } while (0)
#endif

/*
 * Subscribe: load a pointer published with rcu_assign_pointer(). The load
 * is ordered before the loads through it by the address dependency (x86
 * and every CPU Grace may run on keep dependent loads in order); READ_ONCE
 * stops the compiler from re-loading or tearing it. Pairs with the release
 * in rcu_assign_pointer().
 */
#define rcu_dereference_check(p, c) ({ \
	RCU_LOCKDEP_WARN(!((c) || rcu_read_lock_held()), "rcu_dereference() outside a reader"); \
	READ_ONCE(p); })
#define rcu_dereference(p) rcu_dereference_check(p, 0)
/* The updater, holding whatever lock serializes updates. */
#define rcu_dereference_protected(p, c) READ_ONCE(p)
#define rcu_access_pointer(p) READ_ONCE(p)

/*
 * Publish: every store initializing *v is visible before the pointer is
 * (release; pairs with rcu_dereference's dependent loads).
 */
#define rcu_assign_pointer(p, v) do { \
	__asm__ __volatile__("" ::: "memory"); \
	WRITE_ONCE((p), (v)); \
} while (0)
/* For NULL, or a structure no reader can reach yet: no ordering needed. */
#define RCU_INIT_POINTER(p, v) WRITE_ONCE((p), (v))

/* ---- updaters ---- */

void call_rcu(struct rcu_head *head, rcu_callback_t func);
void synchronize_rcu(void);
/* The same guarantee, fast: IPIs the CPUs that are not idle (tree_exp.c). */
void synchronize_rcu_expedited(void);
void rcu_barrier(void);

/* kfree_rcu(ptr, field): kfree(ptr) after a grace period; `field` is the
 * struct rcu_head inside *ptr. The callback slot carries the offset. */
void kvfree_call_rcu(struct rcu_head *head, unsigned long offset);
#define kfree_rcu(ptr, field) \
	kvfree_call_rcu(&(ptr)->field, __builtin_offsetof(__typeof__(*(ptr)), field))
#define RCU_KFREE_MAX_OFFSET 4096UL

/* Polled grace periods: a cookie now, "has a full grace period passed
 * since?" later. start_poll_ also makes sure one will. */
unsigned long get_state_synchronize_rcu(void);
unsigned long start_poll_synchronize_rcu(void);
bool poll_state_synchronize_rcu(unsigned long cookie);
/* Wait until the cookie's grace period is over (returns at once if it is). */
void cond_synchronize_rcu(unsigned long cookie);

/* ---- the hooks the rest of the kernel calls ---- */

void rcu_init(void);                            /* kernel_init, before other CPUs */
void rcu_note_context_switch(void);             /* __schedule, interrupts off */
void rcu_sched_clock_irq(void);                 /* the tick */
void rcu_idle_enter(void);                      /* idle loop, interrupts off, before hlt */
void rcu_idle_exit(void);                       /* idle loop, after hlt */
void rcu_irq_enter(void);                       /* hardware interrupt entry/exit */
void rcu_irq_exit(void);
void rcu_nmi_enter(void);                       /* NMI entry/exit */
void rcu_nmi_exit(void);
/* CPU hotplug (kernel/rcu/tree_hotplug.c): the outgoing CPU's report from
 * its idle loop after its last reader, and the first DEAD step. */
void rcutree_report_cpu_dead(void);
void rcutree_migrate_callbacks(unsigned int cpu);
/* This CPU is in RCU's books (readers here are waited for). */
bool rcu_cpu_online(unsigned int cpu);
bool rcu_is_watching(void);
bool rcu_needs_cpu(void);   /* this CPU has callbacks: its tick must run (nohz) */

/* Grace periods completed so far (for statistics). */
unsigned long rcu_gp_completed(void);

#endif

/*
 * completion.h — "this has happened": a counted event one side waits for.
 *
 *     struct completion done;  init_completion(&done);
 *     worker:  ...; complete(&done);
 *     waiter:  wait_for_completion(&done);
 *
 * `done` counts complete() calls not yet consumed; each wait consumes one.
 * complete_all() sets it to "infinite": every present and future waiter
 * passes until reinit_completion(). The count and the waiters are protected
 * by the wait queue's lock, and a waiter re-checks `done` under that lock
 * before it sleeps, so a complete() can never be lost. complete() may be
 * called from interrupt context and with interrupts off.
 * Test: ktest "sched.completion".
 */
/* sched.h first: it includes this file back and needs struct completion
 * complete before it defines struct task_struct (which embeds two). */
#include <grace/sched.h>

#ifndef GRACE_COMPLETION_H
#define GRACE_COMPLETION_H

#include <grace/wait.h>

#define COMPLETION_ALL 0xffffffffu

struct completion {
	unsigned int done;
	struct wait_queue_head wait;
};

#define COMPLETION_INITIALIZER(work) { 0, __WAIT_QUEUE_HEAD_INITIALIZER((work).wait) }
#define DECLARE_COMPLETION(work) struct completion work = COMPLETION_INITIALIZER(work)

void init_completion(struct completion *x);
void reinit_completion(struct completion *x);
void complete(struct completion *x);
void complete_all(struct completion *x);
void wait_for_completion(struct completion *x);
/* 0 if it timed out, else the jiffies left (at least 1). */
unsigned long wait_for_completion_timeout(struct completion *x, unsigned long timeout);
/* Consume one completion if available without sleeping. */
bool try_wait_for_completion(struct completion *x);
bool completion_done(struct completion *x);

#endif

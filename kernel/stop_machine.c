/*
 * stop_machine.c — per-CPU stopper threads and the stop_machine() rendezvous.
 *
 * Each possible CPU has a stopper thread "migration/N" bound to it, which the
 * scheduler always picks first (sched_set_stop_task). Work is queued on a
 * stopper as a cpu_stop_work and the caller waits on its completion.
 *
 * stop_machine() queues the same multi_cpu_stop() on every online CPU. The
 * stoppers step together through the stages below; every stage change needs
 * an acknowledgement from every participant (thread_ack counts down; the last
 * CPU to acknowledge advances the stage):
 *
 *   NONE → PREPARE → DISABLE_IRQ → RUN → EXIT
 *                    (local irqs    (fn on the CPUs in `cpus`;
 *                     off)           the others spin)
 *
 * Invariants: while fn runs, every participating CPU has interrupts off and
 * is inside multi_cpu_stop(); a stopper runs only at preemptible points, so
 * no CPU is stopped inside a spinlock's critical section.
 * Test: the hotplug TEARDOWN_CPU step (every offline), ktest "stop_machine.*".
 *
 * Debug: stop_machine.irqon_delay_us=N — in the DISABLE_IRQ stage a CPU that
 * does not run fn waits N us with interrupts still on before it turns them
 * off. That widens a real window: the CPUs in `cpus` already have interrupts
 * off while the others still take interrupts, whose handlers may queue work
 * (a cross-call) for them. ktest smp.dying_flush sets it around its own
 * cpu_down()s: a call queued for the dying CPU in this window must still
 * run there before it dies (CPUHP_AP_SMPCFD_DYING).
 */
#include <asm/barrier.h>
#include <asm/cpu.h>
#include <grace/completion.h>
#include <grace/cpuhotplug.h>
#include <grace/delay.h>
#include <grace/errno.h>
#include <grace/ktest.h>
#include <grace/kthread.h>
#include <grace/panic.h>
#include <grace/param.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/sched.h>
#include <grace/spinlock.h>
#include <grace/stop_machine.h>
#include <grace/wait.h>

struct cpu_stop_work {
	struct cpu_stop_work *next;
	cpu_stop_fn_t fn;
	void *arg;
	int ret;
	struct completion done;
};

struct cpu_stopper {
	spinlock_t lock;
	struct cpu_stop_work *head, **tail;
	struct wait_queue_head wq;
	struct task_struct *thread;
	bool enabled;
};
static DEFINE_PER_CPU(struct cpu_stopper, cpu_stopper);
static bool stoppers_ready;

int stop_machine_irqon_delay_us;
param_int("stop_machine.irqon_delay_us", stop_machine_irqon_delay_us, 0, 100000,
	  "debug: in stop_machine's DISABLE_IRQ stage the CPUs not running fn keep interrupts on N us longer");

static void cpu_stop_queue(unsigned int cpu, struct cpu_stop_work *w)
{
	struct cpu_stopper *s = per_cpu_ptr(&cpu_stopper, cpu);
	unsigned long flags;

	w->next = NULL;
	spin_lock_irqsave(&s->lock, flags);
	*s->tail = w;
	s->tail = &w->next;
	spin_unlock_irqrestore(&s->lock, flags);
	wake_up(&s->wq);
}

static struct cpu_stop_work *cpu_stop_dequeue(struct cpu_stopper *s)
{
	struct cpu_stop_work *w;
	unsigned long flags;

	spin_lock_irqsave(&s->lock, flags);
	w = s->head;
	if (w) {
		s->head = w->next;
		if (!s->head)
			s->tail = &s->head;
	}
	spin_unlock_irqrestore(&s->lock, flags);
	return w;
}

static bool cpu_stop_pending(struct cpu_stopper *s)
{
	return READ_ONCE(s->head) != NULL;
}

static int cpu_stopper_thread(void *arg)
{
	struct cpu_stopper *s = arg;

	for (;;) {
		struct cpu_stop_work *w;

		wait_event(s->wq, cpu_stop_pending(s));
		while ((w = cpu_stop_dequeue(s))) {
			w->ret = w->fn(w->arg);
			complete(&w->done);
		}
	}
	return 0;
}

void stop_machine_init(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		struct cpu_stopper *s = per_cpu_ptr(&cpu_stopper, cpu);

		spin_lock_init(&s->lock);
		s->head = NULL;
		s->tail = &s->head;
		init_waitqueue_head(&s->wq);
		s->thread = kthread_create_on_cpu(cpu_stopper_thread, s, cpu, "migration/%u");
		if (!s->thread)
			panic("stop_machine: cannot create the stopper of CPU %u", cpu);
		sched_set_stop_task(cpu, s->thread);
		wake_up_process(s->thread);
	}
	stoppers_ready = true;
}

int stop_one_cpu(unsigned int cpu, cpu_stop_fn_t fn, void *arg)
{
	struct cpu_stop_work w = { .fn = fn, .arg = arg };

	if (!cpu_online(cpu))
		return -ENOENT;
	init_completion(&w.done);
	cpu_stop_queue(cpu, &w);
	wait_for_completion(&w.done);
	return w.ret;
}

/* ---- the rendezvous ------------------------------------------------------ */

enum multi_stop_state {
	MULTI_STOP_NONE,
	MULTI_STOP_PREPARE,
	MULTI_STOP_DISABLE_IRQ,
	MULTI_STOP_RUN,
	MULTI_STOP_EXIT,
};

struct multi_stop_data {
	cpu_stop_fn_t fn;
	void *data;
	const struct cpumask *active_cpus;
	unsigned int num_threads;
	int state;                 /* enum multi_stop_state */
	int thread_ack;
	int ret;                   /* the first error of fn, if any */
};

static void set_state(struct multi_stop_data *m, int newstate)
{
	__atomic_store_n(&m->thread_ack, (int)m->num_threads, __ATOMIC_RELAXED);
	/* The reset count must be visible before the new stage: a CPU that sees
	 * the stage acknowledges against the fresh count. Pairs with the
	 * acquire load of ->state in multi_cpu_stop(). */
	__atomic_store_n(&m->state, newstate, __ATOMIC_RELEASE);
}

static void ack_state(struct multi_stop_data *m)
{
	if (__atomic_sub_fetch(&m->thread_ack, 1, __ATOMIC_ACQ_REL) == 0)
		set_state(m, m->state + 1);
}

static int multi_cpu_stop(void *arg)
{
	struct multi_stop_data *m = arg;
	int cur = MULTI_STOP_NONE, err = 0;
	unsigned long flags = local_save_flags();
	bool is_active = cpumask_test_cpu(smp_processor_id(), m->active_cpus);

	do {
		cpu_relax();
		int newstate = __atomic_load_n(&m->state, __ATOMIC_ACQUIRE);

		if (newstate == cur)
			continue;
		cur = newstate;
		switch (cur) {
		case MULTI_STOP_DISABLE_IRQ: {
			int delay = READ_ONCE(stop_machine_irqon_delay_us);

			if (unlikely(delay) && !is_active)
				udelay((unsigned long)delay);   /* interrupts still on */
			cli();
			break;
		}
		case MULTI_STOP_RUN:
			if (is_active)
				err = m->fn(m->data);
			break;
		default:
			break;
		}
		ack_state(m);
	} while (cur != MULTI_STOP_EXIT);
	local_irq_restore(flags);
	if (err)
		__atomic_compare_exchange_n(&m->ret, &(int){0}, err, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	return err;
}

int stop_machine_cpuslocked(cpu_stop_fn_t fn, void *data, const struct cpumask *cpus)
{
	static struct cpu_stop_work works[NR_CPUS];
	struct multi_stop_data m = { .fn = fn, .data = data, .active_cpus = cpus };
	struct cpumask targets, first;
	unsigned int cpu;

	if (!stoppers_ready || num_online_cpus() == 1) {
		/* Nobody else to stop: just run it with interrupts off. */
		unsigned long flags = local_irq_save();
		int ret = fn(data);

		local_irq_restore(flags);
		return ret;
	}
	/* The hotplug lock is held: the online mask cannot change under us. */
	cpumask_copy(&targets, &cpu_online_mask);
	if (!cpus) {
		/* As in Linux: NULL runs fn on one CPU, the first online one. */
		cpumask_clear(&first);
		cpumask_set_cpu(cpumask_first(&targets), &first);
		m.active_cpus = &first;
	}
	m.num_threads = cpumask_weight(&targets);
	set_state(&m, MULTI_STOP_PREPARE);
	/*
	 * Queue on every CPU before any stopper can start: waking this CPU's
	 * own stopper would otherwise preempt us at once, and it would spin
	 * waiting for CPUs whose work we had not queued yet.
	 */
	preempt_disable();
	for_each_cpu(cpu, &targets) {
		works[cpu].fn = multi_cpu_stop;
		works[cpu].arg = &m;
		init_completion(&works[cpu].done);
		cpu_stop_queue(cpu, &works[cpu]);
	}
	preempt_enable();
	for_each_cpu(cpu, &targets)
		wait_for_completion(&works[cpu].done);
	return m.ret;
}

int stop_machine(cpu_stop_fn_t fn, void *data, const struct cpumask *cpus)
{
	int ret;

	cpus_read_lock();
	ret = stop_machine_cpuslocked(fn, data, cpus);
	cpus_read_unlock();
	return ret;
}

/* ---- tests ---------------------------------------------------------------- */

struct sm_test {
	int running_cpu;
	bool irqs_were_off;
	int runs;
};

static int sm_test_fn(void *arg)
{
	struct sm_test *t = arg;

	t->running_cpu = (int)smp_processor_id();
	t->irqs_were_off = irqs_disabled();
	__atomic_add_fetch(&t->runs, 1, __ATOMIC_RELAXED);
	return 0;
}

static int sm_fail_fn(void *arg)
{
	(void)arg;
	return -EIO;
}

KTEST(stop_machine_runs_once, "stop_machine.run")
{
	struct sm_test st = { .running_cpu = -1 };
	unsigned int last = 0, cpu;

	for_each_online_cpu(cpu)
		last = cpu;
	KTEST_EXPECT(stop_machine(sm_test_fn, &st, cpumask_of(last)) == 0);
	KTEST_EXPECT_MSG(st.running_cpu == (int)last, "fn ran on CPU %d, not %u", st.running_cpu, last);
	KTEST_EXPECT(st.irqs_were_off);
	KTEST_EXPECT(st.runs == 1);
	st.runs = 0;
	KTEST_EXPECT(stop_machine(sm_test_fn, &st, &cpu_online_mask) == 0);
	KTEST_EXPECT_MSG(st.runs == (int)num_online_cpus(), "fn ran %d times on %u CPUs",
			 st.runs, num_online_cpus());
	KTEST_EXPECT(stop_machine(sm_fail_fn, NULL, cpumask_of(0)) == -EIO);
}

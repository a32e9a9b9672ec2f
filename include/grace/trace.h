/*
 * trace.h — the event trace: a per-CPU, lock-free ring of small records.
 *
 * Events mark the moments the concurrency story is made of: a hotplug step
 * run on some CPU, an IPI sent and received, a lock's slow path entered, a
 * PV waiter halting and being kicked, the MCS queue head handed on. Each CPU
 * writes only its own ring, so a writer never waits and never takes a lock —
 * it may be an NMI that interrupted another writer on the same CPU: a slot is
 * reserved by one `xadd` on the CPU's head (a single instruction, so an
 * interrupt lands before or after it, never inside) and committed by a
 * release store of its sequence number, written last.
 *
 * Cost when off: one load and a predictable branch on `trace_enabled` at each
 * site (trace_event() is inline).
 *
 *   trace on | off | clear | dump     the shell command (kernel/trace/trace_cmd.c)
 *   trace=1                           trace from boot (trace.size=N events per CPU)
 *   trace.dump=1                      dump to the console at power-off
 *
 * The dump is plain console lines that tools/trace2json.py turns into a
 * Chrome trace-event JSON (Perfetto opens it) and a PNG timeline:
 *   TRACE-BEGIN cpus=4 events=1234 lost=0
 *   TRACE cpu ts_ns event a b c
 *   TRACE-END
 * Tested by: ktest trace.ring (order, nesting from an interrupt, overwrite),
 * tests/unit/test_trace2json.py (the converter), scenario trace-hotplug.
 */
#ifndef GRACE_TRACE_H
#define GRACE_TRACE_H

#include <grace/compiler.h>
#include <grace/types.h>

enum trace_event_type {
	TRACE_NONE,
	TRACE_CPUHP_STEP,      /* a = cpu, b = state, c = 1 startup / 0 teardown, ret in high bits */
	TRACE_IPI_SEND,        /* a = target cpu, b = vector */
	TRACE_IPI_RECV,        /* b = vector */
	TRACE_LOCK_SLOWPATH,   /* a = lock (low 32 bits of its address), b = MCS node index */
	TRACE_LOCK_ACQUIRED,   /* a = lock, b = 1 if it came through the queue */
	TRACE_LOCK_HANDOVER,   /* a = lock, b = next CPU made queue head */
	TRACE_PV_WAIT,         /* written on waking: a = awaited word, c = TSC when the halt began */
	TRACE_PV_KICK,         /* a = target cpu */
	TRACE_RCU_GP_START,    /* a = gp_seq */
	TRACE_RCU_GP_END,      /* a = gp_seq */
	TRACE_RCU_QS,          /* a = GP number, b = CPU, c = 1: reported by the CPU going offline */
	TRACE_RCU_CB,          /* a = callbacks invoked in this batch */
	TRACE_PATCH_STEP,      /* a = step (0 int3, 1 tail, 2 first byte), b = sites */
	TRACE_MARK,            /* a, b, c: free-form (tests) */
	TRACE_NR_EVENTS
};

struct trace_entry {
	u64 seq;               /* index + 1 once committed; 0 while being written */
	u64 tsc;
	u32 type;
	u32 a;
	u64 b;
	u64 c;
};

extern bool trace_enabled;

void __trace_event(enum trace_event_type type, u32 a, u64 b, u64 c);

static __always_inline void trace_event(enum trace_event_type type, u32 a, u64 b, u64 c)
{
	if (unlikely(__atomic_load_n(&trace_enabled, __ATOMIC_RELAXED)))
		__trace_event(type, a, b, c);
}

int trace_start(void);            /* allocates the rings on first use; -ENOMEM */
void trace_stop(void);
void trace_clear(void);
void trace_dump(void);            /* the TRACE lines, every CPU's ring merged by time */
const char *trace_event_name(enum trace_event_type type);
/* From the power-off path: dump if trace.dump=1. */
void trace_dump_at_exit(void);
void trace_init(void);            /* trace=1: start recording (after the heap exists) */

/* For tests: a CPU's next write position, the committed entry at a position
 * (NULL if overwritten or not committed), the ring size. */
u64 trace_cpu_head(unsigned int cpu);
const struct trace_entry *trace_entry_at(unsigned int cpu, u64 pos);
u64 trace_ring_size(void);

#endif

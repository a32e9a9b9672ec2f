/*
 * cpumask_limits.h — compile-time CPU limits shared by every per-CPU array.
 *
 * NR_CPUS_MAX bounds logical CPU numbers (smp_processor_id() < NR_CPUS_MAX).
 * Static per-CPU arrays (MCS nodes, lock statistics, ...) are sized by it
 * until the SMP work grows real per-CPU areas. The queued spinlock's tail
 * can name up to 16383 CPUs (include/grace/qspinlock.h checks that this
 * limit fits).
 */
#ifndef GRACE_CPUMASK_LIMITS_H
#define GRACE_CPUMASK_LIMITS_H

#define NR_CPUS_MAX 256

#endif

/*
 * barrier.h — CPU memory barriers for x86-64 (TSO).
 *
 * x86 keeps loads ordered with loads and stores with stores, and never moves a
 * store before an earlier load; the one reordering it does is a later load
 * passing an earlier store. So smp_rmb/smp_wmb need only stop the compiler,
 * and smp_mb needs a real fence (a locked op is cheaper than mfence).
 * Every use must say in a comment which other barrier it pairs with.
 */
#ifndef ASM_BARRIER_H
#define ASM_BARRIER_H

#include <grace/compiler.h>

#define mb()      __asm__ __volatile__("mfence" ::: "memory")
#define smp_mb()  __asm__ __volatile__("lock; addl $0,-4(%%rsp)" ::: "memory", "cc")
#define smp_rmb() barrier()
#define smp_wmb() barrier()

#define smp_store_release(p, v) do { barrier(); WRITE_ONCE(*(p), (v)); } while (0)
#define smp_load_acquire(p) ({ __typeof__(*(p)) ___v = READ_ONCE(*(p)); barrier(); ___v; })

#endif

/*
 * compiler.h — compiler attributes, barriers and one-time accesses.
 *
 * READ_ONCE/WRITE_ONCE make one access of exactly the object's size that the
 * compiler may neither tear, fuse nor repeat; they order nothing by themselves.
 * barrier() stops the compiler moving memory accesses across it; the CPU
 * barriers (smp_mb & co.) live in <asm/barrier.h>.
 */
#ifndef GRACE_COMPILER_H
#define GRACE_COMPILER_H

#define __packed        __attribute__((packed))
#define __aligned(x)    __attribute__((aligned(x)))
#define __section(s)    __attribute__((section(s)))
#define __used          __attribute__((used))
#define __unused        __attribute__((unused))
#define __noreturn      __attribute__((noreturn))
#define __noinline      __attribute__((noinline))
#ifndef __always_inline /* glibc defines it too (host unit tests) */
#define __always_inline inline __attribute__((always_inline))
#endif
#define __weak          __attribute__((weak))
#define __printf(a, b)  __attribute__((format(printf, a, b)))
#define __cold          __attribute__((cold))
#define __maybe_unused  __attribute__((unused))
#define __no_sanitize   __attribute__((no_sanitize("undefined")))

#define likely(x)       __builtin_expect(!!(x), 1)
#define unlikely(x)     __builtin_expect(!!(x), 0)

#define barrier()       __asm__ __volatile__("" ::: "memory")

#define READ_ONCE(x)     (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) do { *(volatile __typeof__(x) *)&(x) = (v); } while (0)

#define ARRAY_SIZE(a)   (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)  (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define MIN(a, b)       ((a) < (b) ? (a) : (b))
#define MAX(a, b)       ((a) > (b) ? (a) : (b))

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - __builtin_offsetof(type, member)))

#define BUILD_BUG_ON(cond) _Static_assert(!(cond), #cond)

#endif

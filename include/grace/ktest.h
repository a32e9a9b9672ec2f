/*
 * ktest.h — in-kernel tests (KUnit-like).
 *
 * A test is a function that checks things with KTEST_EXPECT(); the first
 * failed expectation is the reason printed. Tests are selected with the boot
 * parameter `ktest=all` or `ktest=name1,name2` (prefix match on "suite."), run
 * after boot is complete, and each prints exactly one line:
 *
 *     TEST <name>: PASS
 *     TEST <name>: FAIL <why>
 */
#ifndef GRACE_KTEST_H
#define GRACE_KTEST_H

#include <grace/compiler.h>
#include <grace/types.h>

struct ktest_ctx {
	bool failed;
	char why[160];
};

struct ktest {
	const char *name;
	void (*fn)(struct ktest_ctx *t);
};

#define KTEST(id, n) \
	static void __ktest_fn_##id(struct ktest_ctx *t); \
	static const struct ktest __ktest_##id __used \
	__section(".grace_tests") __aligned(8) = { .name = (n), .fn = __ktest_fn_##id }; \
	static void __ktest_fn_##id(struct ktest_ctx *t)

void ktest_fail(struct ktest_ctx *t, const char *file, int line, const char *fmt, ...) __printf(4, 5);

#define KTEST_EXPECT(cond) do { \
	if (!(cond)) ktest_fail(t, __FILE__, __LINE__, "%s", #cond); \
} while (0)
#define KTEST_EXPECT_MSG(cond, fmt, ...) do { \
	if (!(cond)) ktest_fail(t, __FILE__, __LINE__, fmt, ##__VA_ARGS__); \
} while (0)

/* Pin the calling test to the CPU it runs on (its mask saved in *saved,
 * for ktest_unpin) and return another online CPU; nr_cpu_ids, and nothing
 * pinned, when there is none. For tests that send to the other CPU and
 * must not end up on it. */
struct cpumask;
unsigned int ktest_pin_pick_other(struct cpumask *saved);
void ktest_unpin(const struct cpumask *saved);

/* Run the tests selected by `ktest=`; returns the number that failed. */
int ktest_run_selected(void);

#endif

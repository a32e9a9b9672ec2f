/*
 * ktest.c — the in-kernel test runner.
 *
 * Tests live in the .grace_tests section (KTEST()). A selection is a list of
 * words separated by ',' or blanks: `all`, a full test name, or a prefix that
 * matches a whole first component ("mm" and "mm." both select "mm.pmm" but not
 * "mmio.read"). Selected tests run once each, in name order, each printing
 * exactly one verdict line:
 *     TEST <name>: PASS
 *     TEST <name>: FAIL <file>:<line>: <first failed expectation>
 * A selection word that matches nothing is itself a failure
 * ("TEST ktest.select: FAIL no test matches 'foo'"), so a typo in a scenario
 * cannot pass silently. The run ends with "ktest: N passed, N failed".
 * Tests run in the boot CPU's shell context (after boot, before autorun).
 * `ktest.repeat=N` runs the selection N times; `ktest.poweroff` powers off
 * afterwards with the verdict as the exit status (for runs without autorun).
 * Test: tests/scenarios/ktest-all.scn runs them all; ktest-select.scn checks
 * the selection failure.
 */
#include <grace/cpumask.h>
#include <grace/ktest.h>
#include <grace/param.h>
#include <grace/printk.h>
#include <grace/reboot.h>
#include <grace/sched.h>
#include <grace/shell.h>
#include <grace/smp.h>
#include <grace/string.h>

extern const struct ktest __start_grace_tests[], __stop_grace_tests[];

static char ktest_selection[256];
param_string("ktest", ktest_selection,
	     "in-kernel tests to run at boot: all, or names/prefixes separated by ','");
static int ktest_repeat = 1;
param_int("ktest.repeat", ktest_repeat, 1, 1000,
	  "run the boot-time selection this many times (shakes out flaky tests)");
static bool ktest_poweroff;
param_bool("ktest.poweroff", ktest_poweroff,
	   "power off after the boot-time tests: success status only if all passed");

unsigned int ktest_pin_pick_other(struct cpumask *saved)
{
	unsigned int me, other;

	preempt_disable();
	me = smp_processor_id();
	preempt_enable();
	other = cpumask_any_but(&cpu_online_mask, me);
	if (other >= nr_cpu_ids)
		return other;
	cpumask_copy(saved, &current->cpus_allowed);
	set_cpus_allowed_ptr(current, cpumask_of(me));
	return other;
}

void ktest_unpin(const struct cpumask *saved)
{
	set_cpus_allowed_ptr(current, saved);
}

void ktest_fail(struct ktest_ctx *t, const char *file, int line, const char *fmt, ...)
{
	const char *base = file;
	va_list ap;
	int n;

	if (t->failed)
		return; /* the first failure is the reason */
	t->failed = true;
	for (const char *p = file; *p; p++)
		if (*p == '/')
			base = p + 1;
	n = snprintf(t->why, sizeof(t->why), "%s:%d: ", base, line);
	if (n < 0 || (size_t)n >= sizeof(t->why))
		return;
	va_start(ap, fmt);
	vsnprintf(t->why + n, sizeof(t->why) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Does selection word `w` (length len) pick test `name`? */
static bool word_matches(const char *w, size_t len, const char *name)
{
	if (len == 3 && memcmp(w, "all", 3) == 0)
		return true;
	if (len && w[len - 1] == '.')
		len--; /* "mm." means the same as "mm" */
	if (len == 0 || strncmp(name, w, len) != 0)
		return false;
	return name[len] == '\0' || name[len] == '.';
}

static bool is_separator(char c)
{
	return c == ',' || c == ' ' || c == '\t';
}

/* Iterate the words of a selection: returns the next word's start or NULL. */
static const char *next_word(const char *p, size_t *len)
{
	while (*p && is_separator(*p))
		p++;
	if (!*p)
		return NULL;
	*len = 0;
	while (p[*len] && !is_separator(p[*len]))
		(*len)++;
	return p;
}

static bool selected(const char *sel, const char *name)
{
	size_t len;

	for (const char *w = sel; (w = next_word(w, &len)); w += len)
		if (word_matches(w, len, name))
			return true;
	return false;
}

static const struct ktest *next_sorted(const struct ktest *prev)
{
	const struct ktest *best = NULL;

	for (const struct ktest *k = __start_grace_tests; k < __stop_grace_tests; k++) {
		if (prev) {
			int d = strcmp(k->name, prev->name);

			if (d < 0 || (d == 0 && k <= prev))
				continue;
		}
		if (!best || strcmp(k->name, best->name) < 0)
			best = k;
	}
	return best;
}

static bool run_one(const struct ktest *k)
{
	struct ktest_ctx ctx = { .failed = false };

	k->fn(&ctx);
	if (ctx.failed)
		printk("TEST %s: FAIL %s\n", k->name, ctx.why);
	else
		printk("TEST %s: PASS\n", k->name);
	return !ctx.failed;
}

/* Run every test `sel` selects; returns the number of failures. */
static int ktest_run(const char *sel)
{
	unsigned int passed = 0, failed = 0;
	size_t len;

	printk("ktest: running '%.200s'\n", sel);
	for (const char *w = sel; (w = next_word(w, &len)); w += len) {
		bool any = false;

		for (const struct ktest *k = __start_grace_tests; k < __stop_grace_tests && !any; k++)
			any = word_matches(w, len, k->name);
		if (!any) {
			printk("ktest: no test matches '%.*s'\n", (int)MIN(len, 64), w);
			printk("TEST ktest.select: FAIL no test matches '%.*s'\n", (int)MIN(len, 64), w);
			failed++;
		}
	}
	for (const struct ktest *k = next_sorted(NULL); k; k = next_sorted(k)) {
		if (!selected(sel, k->name))
			continue;
		if (run_one(k))
			passed++;
		else
			failed++;
	}
	printk("ktest: %u passed, %u failed\n", passed, failed);
	return (int)failed;
}

int ktest_run_selected(void)
{
	int failed = 0;

	if (!ktest_selection[0])
		return 0;
	for (int i = 0; i < ktest_repeat; i++)
		failed += ktest_run(ktest_selection);
	if (ktest_poweroff) {
		printk("ktest: powering off (ktest.poweroff), %s\n", failed ? "failure" : "success");
		machine_poweroff(failed == 0);
	}
	return failed;
}

static int cmd_ktest(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "list") == 0 && argc <= 3) {
		const char *sel = argc == 3 ? argv[2] : "all";

		for (const struct ktest *k = next_sorted(NULL); k; k = next_sorted(k))
			if (selected(sel, k->name))
				printk("  %s\n", k->name);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "run") == 0) {
		char sel[256];
		size_t n = 0;

		sel[0] = '\0';
		for (int i = 2; i < argc; i++) {
			size_t w = strlen(argv[i]);

			if (n + w + 2 > sizeof(sel)) {
				printk("ktest: selection too long\n");
				return 0;
			}
			if (n)
				sel[n++] = ',';
			memcpy(sel + n, argv[i], w);
			n += w;
			sel[n] = '\0';
		}
		ktest_run(sel);
		return 0;
	}
	return 1;
}
SHELL_COMMAND(ktest, "ktest", "ktest list [SEL] | run SEL...",
	      "list or run in-kernel tests (SEL: all, a name, or a prefix like 'params')", cmd_ktest);

KTEST(ktest_select, "ktest.selection")
{
	KTEST_EXPECT(selected("all", "mm.pmm"));
	KTEST_EXPECT(selected("mm", "mm.pmm"));
	KTEST_EXPECT(selected("mm.", "mm.pmm"));
	KTEST_EXPECT(!selected("mm", "mmio.read"));
	KTEST_EXPECT(selected("x,mm.pmm", "mm.pmm"));
	KTEST_EXPECT(!selected("mm.pm", "mm.pmm"));
	KTEST_EXPECT(selected("rcu.tree", "rcu.tree.gp"));
	KTEST_EXPECT(!selected("", "mm.pmm"));
	KTEST_EXPECT(!selected(",,", "mm.pmm"));
}

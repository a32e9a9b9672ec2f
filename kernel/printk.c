/*
 * printk.c — the kernel log.
 *
 * printk formats into a local buffer, then, under the console lock, prefixes
 * each new line with "[seconds.micros Cn] ", appends it to the in-memory ring
 * (read by `dmesg`) and hands it to every registered console.
 *
 * Invariants:
 *  - a line from one CPU is never interleaved with another CPU's output;
 *  - printk never deadlocks: a CPU that re-enters (an exception or NMI inside
 *    printk) does not wait for the lock its own interrupted context holds, and
 *    after printk_enter_emergency() (panic, oops) waiting for the lock is
 *    bounded, then the lock is broken.
 *  - a re-entered printk does not write into the middle of the interrupted
 *    line: it formats its lines (with their own prefix) into this CPU's
 *    deferred buffer, and the interrupted printk emits them after its own
 *    text, before it lets the lock go (Linux's printk_safe idea). Seen
 *    without it: an RCU stall's NMI backtrace landed inside the stalled
 *    CPU's own "detected a self-stall" line ("CPU 3 detected a self-NMI
 *    backtrace for CPU 3:"), and the scenario that greps for it failed.
 *    In an emergency (the interrupted context may never resume) a re-entered
 *    printk writes at once, as before.
 *  - console_write() (the shell's prompt and echo) goes to the same consoles
 *    and ring without any prefix; if it leaves a line unfinished (a prompt
 *    waiting for input), the next printk starts a fresh line first, so a log
 *    line never begins in the middle of what the user is typing.
 * Test: every scenario reads its verdict through here; ktest
 * "printk.nmi_midline" (an NMI that prints while its CPU is inside a printk
 * line: both lines whole, the NMI's after the other, kernel/printk_test.c).
 */
#include <asm/cpu.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/spinlock.h>
#include <grace/string.h>
#include <grace/time.h>

#define LOG_BUF_SIZE (128 * 1024)

static char log_buf[LOG_BUF_SIZE];
static size_t log_head;          /* total bytes ever written; index = head % size */
static struct console *consoles;
static DEFINE_SPINLOCK(console_lock);
static volatile int console_owner = -1;
static bool at_line_start = true;
static bool raw_line_open;       /* console_write() left a line unfinished */
static bool emergency;

/* Lines a re-entered printk left for the printk it interrupted (one per CPU;
 * only this CPU's nested contexts write it, the outer one drains it). */
#define DEFER_SIZE 4096
struct printk_defer {
	char buf[DEFER_SIZE];
	u32 len;
	u32 dropped;
};
static DEFINE_PER_CPU(struct printk_defer, printk_defer);

/* Test hook (printk_test.c): called once in the middle of each printk line
 * that contains printk_midline_marker, with the console lock held. */
void (*printk_midline_hook)(void);
const char *printk_midline_marker;

void register_console(struct console *con)
{
	con->next = consoles;
	consoles = con;
}

void printk_enter_emergency(void)
{
	WRITE_ONCE(emergency, true);
}

static int current_cpu(void)
{
	return percpu_ready ? (int)smp_processor_id() : 0;
}

static void emit(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		log_buf[(log_head + i) % LOG_BUF_SIZE] = s[i];
	log_head += len;
	for (struct console *c = consoles; c; c = c->next)
		c->write(s, len);
}

/* Returns true when the lock was taken (and must be released). */
static bool console_lock_acquire(int cpu)
{
	if (READ_ONCE(console_owner) == cpu)
		return false; /* re-entered from an exception/NMI on this CPU */
	for (unsigned long spins = 0;; spins++) {
		if (spin_trylock(&console_lock)) {
			console_owner = cpu;
			return true;
		}
		if (READ_ONCE(emergency) && spins > 20000000UL)
			return false; /* the holder is stuck (or stopped): write anyway */
		cpu_relax();
	}
}

/* Re-entered on a CPU whose interrupted context holds the console lock:
 * format the lines into the deferred buffer, each with its prefix. */
static void defer_lines(int cpu, const char *text, size_t len, const char *prefix, size_t plen)
{
	struct printk_defer *d = per_cpu_ptr(&printk_defer, (unsigned int)cpu);

	for (size_t i = 0; i < len;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t chunk = nl ? (size_t)(nl - (text + i)) + 1 : len - i;
		size_t need = chunk + plen + (nl ? 0 : 1);
		u32 at = d->len;

		if (at + need > DEFER_SIZE) {
			d->dropped++;
			return;
		}
		memcpy(d->buf + at, prefix, plen);   /* every deferred line starts one */
		at += (u32)plen;
		memcpy(d->buf + at, text + i, chunk);
		at += (u32)chunk;
		if (!nl)
			d->buf[at++] = '\n';   /* deferred text always ends a line */
		/* Release: the bytes before the length the drain reads. */
		__atomic_store_n(&d->len, at, __ATOMIC_RELEASE);
		i += chunk;
	}
}

/* The lock holder, before it lets the lock go: what nested contexts left. */
static void flush_deferred(int cpu)
{
	struct printk_defer *d = per_cpu_ptr(&printk_defer, (unsigned int)cpu);
	u32 done = 0;

	/* Nested contexts only append (at len); we emit from `done` on and
	 * reset len to 0 with a cmpxchg that fails if one appended meanwhile
	 * (interrupts are off: only an NMI or exception of this CPU can). */
	for (;;) {
		u32 n = __atomic_load_n(&d->len, __ATOMIC_ACQUIRE);

		if (n > done) {
			if (!at_line_start) {
				emit("\n", 1);
				at_line_start = true;
			}
			emit(d->buf + done, n - done);
			done = n;
			raw_line_open = false;   /* deferred text always ends its line */
			continue;
		}
		if (!n || __atomic_compare_exchange_n(&d->len, &n, 0, false, __ATOMIC_ACQ_REL,
						      __ATOMIC_ACQUIRE))
			break;
	}
	if (d->dropped) {
		char msg[64];
		int m = snprintf(msg, sizeof(msg), "printk: %u nested lines dropped\n", d->dropped);

		d->dropped = 0;
		emit(msg, (size_t)m);
	}
}

int vprintk(const char *fmt, va_list ap)
{
	char text[512];
	char prefix[40];
	int cpu = current_cpu();
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	size_t len = (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1;
	unsigned long flags = local_irq_save();
	bool nested = READ_ONCE(console_owner) == cpu && !READ_ONCE(emergency);
	bool locked = nested ? false : console_lock_acquire(cpu);
	u64 ns = ktime_get_ns();
	int plen = snprintf(prefix, sizeof(prefix), "[%5llu.%06llu C%d] ",
			    (unsigned long long)(ns / 1000000000ULL),
			    (unsigned long long)(ns / 1000ULL % 1000000ULL), cpu);
	void (*hook)(void) = READ_ONCE(printk_midline_hook);
	const char *marker = READ_ONCE(printk_midline_marker);

	if (nested) {
		defer_lines(cpu, text, len, prefix, (size_t)plen);
		local_irq_restore(flags);
		return n;
	}
	if (READ_ONCE(emergency))
		flush_deferred(cpu);   /* the context that would have may never resume */
	if (hook && (!marker || !memmem(text, len, marker, strlen(marker))))
		hook = NULL;

	if (raw_line_open && len) {
		emit("\n", 1);
		at_line_start = true;
		raw_line_open = false;
	}
	for (size_t i = 0; i < len;) {
		if (at_line_start) {
			emit(prefix, (size_t)plen);
			at_line_start = false;
		}
		const char *nl = memchr(text + i, '\n', len - i);
		size_t chunk = nl ? (size_t)(nl - (text + i)) + 1 : len - i;

		if (hook && chunk > 1) {
			/* The test's NMI lands between the two halves of a line. */
			emit(text + i, chunk / 2);
			hook();
			hook = NULL;
			emit(text + i + chunk / 2, chunk - chunk / 2);
		} else {
			emit(text + i, chunk);
		}
		i += chunk;
		if (nl)
			at_line_start = true;
	}
	if (locked) {
		flush_deferred(cpu);
		console_owner = -1;
		spin_unlock(&console_lock);
	}
	local_irq_restore(flags);
	return n;
}

int printk(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}

static void console_write_common(const char *s, size_t n, bool to_log)
{
	unsigned long flags = local_irq_save();
	bool locked = console_lock_acquire(current_cpu());

	if (to_log) {
		emit(s, n);
	} else {
		for (struct console *c = consoles; c; c = c->next)
			c->write(s, n);
	}
	if (n) {
		at_line_start = s[n - 1] == '\n';
		raw_line_open = !at_line_start;
	}
	if (locked) {
		flush_deferred(current_cpu());
		console_owner = -1;
		spin_unlock(&console_lock);
	}
	local_irq_restore(flags);
}

void console_write(const char *s, size_t n)
{
	console_write_common(s, n, true);
}

void console_write_nolog(const char *s, size_t n)
{
	console_write_common(s, n, false);
}

size_t log_buf_len(void)
{
	return log_head < LOG_BUF_SIZE ? log_head : LOG_BUF_SIZE;
}

size_t log_buf_read(char *dst, size_t size, size_t skip)
{
	size_t avail = log_buf_len();
	size_t first = log_head - avail; /* oldest byte still in the ring */
	size_t n = 0;

	for (size_t i = skip; i < avail && n < size; i++, n++)
		dst[n] = log_buf[(first + i) % LOG_BUF_SIZE];
	return n;
}

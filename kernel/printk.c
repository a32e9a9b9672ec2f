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
 *    printk) writes without the lock, and after printk_enter_emergency() (panic,
 *    oops) waiting for the lock is bounded, then the lock is broken.
 *  - console_write() (the shell's prompt and echo) goes to the same consoles
 *    and ring without any prefix; if it leaves a line unfinished (a prompt
 *    waiting for input), the next printk starts a fresh line first, so a log
 *    line never begins in the middle of what the user is typing.
 * Test: every scenario reads its verdict through here; ktest "printk.*".
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

int vprintk(const char *fmt, va_list ap)
{
	char text[512];
	char prefix[40];
	int cpu = current_cpu();
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	size_t len = (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1;
	unsigned long flags = local_irq_save();
	bool locked = console_lock_acquire(cpu);
	u64 ns = ktime_get_ns();
	int plen = snprintf(prefix, sizeof(prefix), "[%5llu.%06llu C%d] ",
			    (unsigned long long)(ns / 1000000000ULL),
			    (unsigned long long)(ns / 1000ULL % 1000000ULL), cpu);

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

		emit(text + i, chunk);
		i += chunk;
		if (nl)
			at_line_start = true;
	}
	if (locked) {
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

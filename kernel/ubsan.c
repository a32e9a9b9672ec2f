/*
 * ubsan.c — the Undefined Behaviour Sanitizer runtime (DEBUG=1 builds).
 *
 * `make DEBUG=1` compiles the kernel with -fsanitize=undefined: before each
 * operation whose result would be undefined (signed overflow, a shift too
 * far, an out-of-bounds index, a misaligned or null access, ...) the compiler
 * inserts a check that calls one of the __ubsan_handle_* functions below with
 * a static description of the site. Each prints
 *
 *     !!! UBSAN: <kind> at <file>:<line>:<column>
 *       <what happened, with the operand values>
 *     Call Trace: ...                       (starting in the offending function)
 *     ---[ end UBSAN ]---
 *
 * and returns, so the kernel goes on and one run can reveal several bugs.
 * The exceptions are "unreachable" and "missing return": the compiler emits
 * no code after them, so those power off with a failure status.
 *
 * Invariants:
 *  - each site is reported once: bit 31 of its column is set atomically by the
 *    first report (the site descriptions are writable data);
 *  - reports do not nest: a UB inside the report (printk, the walker) on the
 *    same CPU is dropped; another CPU waits for its turn;
 *  - this file is built with -fno-sanitize=all (Makefile), so it cannot
 *    recurse into itself.
 * Test: `fault=ubsan` in a DEBUG=1 build (tests/scenarios/fault-ubsan.scn).
 */
#include <grace/backtrace.h>
#include <grace/percpu.h>
#include <grace/printk.h>
#include <grace/reboot.h>
#include "ubsan.h"

#define REPORTED_BIT (1u << 31)

/* -1: nobody reporting, else the reporting CPU. */
static int ubsan_owner = -1;

/* Claim the site and the report; false if already reported or nested. */
static bool report_begin(struct source_location *loc, const char *kind)
{
	int cpu = (int)smp_processor_id();

	if (__atomic_load_n(&ubsan_owner, __ATOMIC_RELAXED) == cpu)
		return false; /* UB inside a report: do not recurse */
	if (__atomic_fetch_or(&loc->column, REPORTED_BIT, __ATOMIC_RELAXED) & REPORTED_BIT)
		return false;
	for (;;) {
		int expected = -1;

		if (__atomic_compare_exchange_n(&ubsan_owner, &expected, cpu, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			break;
		__asm__ __volatile__("pause");
	}
	printk("!!! UBSAN: %s at %s:%u:%u\n", kind, loc->file ? loc->file : "?",
	       loc->line, loc->column & ~REPORTED_BIT);
	return true;
}

/*
 * `frame` is the handler's own frame, so the trace starts at its return
 * address: the function that contains the undefined operation.
 */
static void report_end(void *frame)
{
	print_backtrace(0, (unsigned long)frame);
	printk("---[ end UBSAN ]---\n");
	__atomic_store_n(&ubsan_owner, -1, __ATOMIC_RELEASE);
}

#define REPORT_END() report_end(__builtin_frame_address(0))

/* ---- operand values ---------------------------------------------------- */

static bool type_is_int(const struct type_descriptor *t) { return t->kind == 0; }
static bool type_is_signed(const struct type_descriptor *t) { return t->kind == 0 && (t->info & 1); }
static unsigned int type_bits(const struct type_descriptor *t) { return 1u << (t->info >> 1); }

/* Integers up to pointer width are passed by value, wider ones by address. */
static bool value_inline(const struct type_descriptor *t) { return type_bits(t) <= 64; }

static s64 signed_value(const struct type_descriptor *t, void *v)
{
	unsigned int bits = type_bits(t);

	if (!value_inline(t))
		return *(const s64 *)v; /* low 64 bits of an __int128 */
	u64 raw = (u64)(unsigned long)v;
	unsigned int shift = 64 - bits;
	return shift ? (s64)(raw << shift) >> shift : (s64)raw;
}

static u64 unsigned_value(const struct type_descriptor *t, void *v)
{
	if (!value_inline(t))
		return *(const u64 *)v;
	return (u64)(unsigned long)v;
}

static bool value_negative(const struct type_descriptor *t, void *v)
{
	return type_is_signed(t) && signed_value(t, v) < 0;
}

static void format_value(char *buf, size_t size, const struct type_descriptor *t, void *v)
{
	if (!type_is_int(t)) {
		snprintf(buf, size, "<%s value>", t->name);
		return;
	}
	if (!value_inline(t)) {
		const u64 *w = v; /* little endian: w[0] low, w[1] high */
		snprintf(buf, size, "0x%016llx%016llx", (unsigned long long)w[1], (unsigned long long)w[0]);
	} else if (type_is_signed(t)) {
		snprintf(buf, size, "%lld", (long long)signed_value(t, v));
	} else {
		snprintf(buf, size, "%llu", (unsigned long long)unsigned_value(t, v));
	}
}

/* ---- null, alignment, object size -------------------------------------- */

/* compiler-rt TypeCheckKind, in order. */
static const char *const type_check_kinds[] = {
	"load of", "store to", "reference binding to", "member access within",
	"member call on", "constructor call on", "downcast of", "downcast of",
	"upcast of", "cast to virtual base of", "_Nonnull binding to",
	"dynamic operation on",
};

static void type_mismatch(struct source_location *loc, const struct type_descriptor *type,
			  unsigned long align, u8 check_kind, unsigned long ptr, void *frame)
{
	const char *what = check_kind < sizeof(type_check_kinds) / sizeof(type_check_kinds[0]) ?
			   type_check_kinds[check_kind] : "access to";

	if (!ptr) {
		if (!report_begin(loc, "null-pointer-dereference"))
			return;
		printk("  %s null pointer of type %s\n", what, type->name);
	} else if (align && (ptr & (align - 1))) {
		if (!report_begin(loc, "misaligned-access"))
			return;
		printk("  %s misaligned address %#lx for type %s, which requires %lu-byte alignment\n",
		       what, ptr, type->name, align);
	} else {
		if (!report_begin(loc, "object-size-mismatch"))
			return;
		printk("  %s address %#lx with insufficient space for an object of type %s\n",
		       what, ptr, type->name);
	}
	report_end(frame);
}

void __ubsan_handle_type_mismatch(void *data, void *ptr)
{
	struct type_mismatch_data *d = data;

	type_mismatch(&d->loc, d->type, d->alignment, d->type_check_kind,
		      (unsigned long)ptr, __builtin_frame_address(0));
}

void __ubsan_handle_type_mismatch_v1(void *data, void *ptr)
{
	struct type_mismatch_data_v1 *d = data;

	type_mismatch(&d->loc, d->type, 1UL << d->log_alignment, d->type_check_kind,
		      (unsigned long)ptr, __builtin_frame_address(0));
}

/* ---- arithmetic -------------------------------------------------------- */

static void overflow(void *data, void *lhs, void *rhs, char op, void *frame)
{
	struct overflow_data *d = data;
	char a[48], b[48];

	if (!report_begin(&d->loc, type_is_signed(d->type) ? "signed-integer-overflow"
							    : "unsigned-integer-overflow"))
		return;
	format_value(a, sizeof(a), d->type, lhs);
	format_value(b, sizeof(b), d->type, rhs);
	printk("  %s %c %s cannot be represented in type %s\n", a, op, b, d->type->name);
	report_end(frame);
}

void __ubsan_handle_add_overflow(void *data, void *lhs, void *rhs)
{
	overflow(data, lhs, rhs, '+', __builtin_frame_address(0));
}

void __ubsan_handle_sub_overflow(void *data, void *lhs, void *rhs)
{
	overflow(data, lhs, rhs, '-', __builtin_frame_address(0));
}

void __ubsan_handle_mul_overflow(void *data, void *lhs, void *rhs)
{
	overflow(data, lhs, rhs, '*', __builtin_frame_address(0));
}

void __ubsan_handle_negate_overflow(void *data, void *old)
{
	struct overflow_data *d = data;
	char v[48];

	if (!report_begin(&d->loc, "negate-overflow"))
		return;
	format_value(v, sizeof(v), d->type, old);
	printk("  negation of %s cannot be represented in type %s\n", v, d->type->name);
	REPORT_END();
}

void __ubsan_handle_divrem_overflow(void *data, void *lhs, void *rhs)
{
	struct overflow_data *d = data;
	char a[48];

	if (type_is_signed(d->type) && signed_value(d->type, rhs) == -1) {
		if (!report_begin(&d->loc, "division-overflow"))
			return;
		format_value(a, sizeof(a), d->type, lhs);
		printk("  division of %s by -1 cannot be represented in type %s\n", a, d->type->name);
	} else {
		if (!report_begin(&d->loc, "division-by-zero"))
			return;
		printk("  division by zero\n");
	}
	REPORT_END();
}

void __ubsan_handle_shift_out_of_bounds(void *data, void *lhs, void *rhs)
{
	struct shift_out_of_bounds_data *d = data;
	char a[48], b[48];

	if (!report_begin(&d->loc, "shift-out-of-bounds"))
		return;
	format_value(a, sizeof(a), d->lhs_type, lhs);
	format_value(b, sizeof(b), d->rhs_type, rhs);
	if (value_negative(d->rhs_type, rhs))
		printk("  shift exponent %s is negative\n", b);
	else if (unsigned_value(d->rhs_type, rhs) >= type_bits(d->lhs_type))
		printk("  shift exponent %s is too large for %u-bit type %s\n",
		       b, type_bits(d->lhs_type), d->lhs_type->name);
	else if (value_negative(d->lhs_type, lhs))
		printk("  left shift of negative value %s\n", a);
	else
		printk("  left shift of %s by %s places cannot be represented in type %s\n",
		       a, b, d->lhs_type->name);
	REPORT_END();
}

void __ubsan_handle_pointer_overflow(void *data, void *base, void *result)
{
	struct pointer_overflow_data *d = data;

	if (!report_begin(&d->loc, "pointer-overflow"))
		return;
	if (!base && !result)
		printk("  applying zero offset to null pointer\n");
	else if (!base)
		printk("  applying non-zero offset %p to null pointer\n", result);
	else if (!result)
		printk("  applying non-zero offset to non-null pointer %p produced null pointer\n", base);
	else
		printk("  pointer index expression with base %p overflowed to %p\n", base, result);
	REPORT_END();
}

/* ---- bounds and values ------------------------------------------------- */

void __ubsan_handle_out_of_bounds(void *data, void *index)
{
	struct out_of_bounds_data *d = data;
	char i[48];

	if (!report_begin(&d->loc, "array-index-out-of-bounds"))
		return;
	format_value(i, sizeof(i), d->index_type, index);
	printk("  index %s is out of range for type %s\n", i, d->array_type->name);
	REPORT_END();
}

void __ubsan_handle_load_invalid_value(void *data, void *val)
{
	struct invalid_value_data *d = data;
	char v[48];

	if (!report_begin(&d->loc, "invalid-load"))
		return;
	format_value(v, sizeof(v), d->type, val);
	printk("  load of value %s, which is not a valid value for type %s\n", v, d->type->name);
	REPORT_END();
}

void __ubsan_handle_vla_bound_not_positive(void *data, void *bound)
{
	struct vla_bound_data *d = data;
	char v[48];

	if (!report_begin(&d->loc, "vla-bound-not-positive"))
		return;
	format_value(v, sizeof(v), d->type, bound);
	printk("  variable length array bound evaluates to non-positive value %s\n", v);
	REPORT_END();
}

void __ubsan_handle_invalid_builtin(void *data)
{
	struct invalid_builtin_data *d = data;

	if (!report_begin(&d->loc, "invalid-builtin-use"))
		return;
	printk("  passing zero to %s, which is not a valid argument\n",
	       d->kind == 0 ? "ctz()" : "clz()");
	REPORT_END();
}

void __ubsan_handle_float_cast_overflow(void *data, void *from)
{
	struct float_cast_overflow_data *d = data;

	if (!report_begin(&d->loc, "float-cast-overflow"))
		return;
	printk("  a value of type %s is outside the range of representable values of type %s\n",
	       d->from_type->name, d->to_type->name);
	REPORT_END();
}

void __ubsan_handle_alignment_assumption(void *data, void *ptr, void *align, void *offset)
{
	struct alignment_assumption_data *d = data;

	if (!report_begin(&d->loc, "alignment-assumption"))
		return;
	printk("  assumption of %lu-byte alignment (offset %lu) for pointer %p of type %s failed\n",
	       (unsigned long)align, (unsigned long)offset, ptr, d->type->name);
	REPORT_END();
}

/* ---- attributes -------------------------------------------------------- */

void __ubsan_handle_nonnull_arg(void *data)
{
	struct nonnull_arg_data *d = data;

	if (!report_begin(&d->loc, "nonnull-argument"))
		return;
	printk("  null pointer passed as argument %d, which is declared never null", d->arg_index);
	if (d->attr_loc.file)
		printk(" (%s:%u)", d->attr_loc.file, d->attr_loc.line);
	printk("\n");
	REPORT_END();
}

void __ubsan_handle_nonnull_return_v1(void *data, void *loc)
{
	struct nonnull_return_data *d = data;

	if (!report_begin(loc, "nonnull-return"))
		return;
	printk("  null pointer returned from a function declared never to return null");
	if (d->attr_loc.file)
		printk(" (%s:%u)", d->attr_loc.file, d->attr_loc.line);
	printk("\n");
	REPORT_END();
}

/* ---- no way to continue ------------------------------------------------ */

static __noreturn void report_fatal(struct source_location *loc, const char *kind,
				    const char *what, void *frame)
{
	if (report_begin(loc, kind)) {
		printk("  %s; the compiler emitted nothing after this point, so stopping\n", what);
		report_end(frame);
	}
	machine_poweroff(false);
}

void __ubsan_handle_builtin_unreachable(void *data)
{
	struct unreachable_data *d = data;

	report_fatal(&d->loc, "unreachable", "execution reached __builtin_unreachable()",
		     __builtin_frame_address(0));
}

void __ubsan_handle_missing_return(void *data)
{
	struct unreachable_data *d = data;

	report_fatal(&d->loc, "missing-return", "execution reached the end of a value-returning function",
		     __builtin_frame_address(0));
}

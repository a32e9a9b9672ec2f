/*
 * ubsan.h — the UBSan runtime's entry points (kernel/ubsan.c).
 *
 * With `make DEBUG=1` (-fsanitize=undefined) GCC and clang insert a call to one
 * of these before each operation that would be undefined behaviour. The data
 * layouts follow what the compilers emit (the compiler-rt ABI, shared by GCC).
 * Nothing in the kernel calls these directly; the prototypes are here so the
 * definitions have one. `data` is void * as in the compilers' own built-in
 * declarations; each handler casts it to the struct below that it points to.
 */
#ifndef KERNEL_UBSAN_H
#define KERNEL_UBSAN_H

#include <grace/types.h>

struct source_location {
	const char *file;
	u32 line;
	u32 column;  /* bit 31 is set once the site has been reported */
};

struct type_descriptor {
	u16 kind;    /* 0 integer, 1 float, 0xffff unknown */
	u16 info;    /* integer: bit 0 signed, bits 15:1 log2(bit width) */
	char name[];
};

struct type_mismatch_data {           /* older ABI */
	struct source_location loc;
	const struct type_descriptor *type;
	unsigned long alignment;
	u8 type_check_kind;
};

struct type_mismatch_data_v1 {
	struct source_location loc;
	const struct type_descriptor *type;
	u8 log_alignment;
	u8 type_check_kind;
};

struct overflow_data {
	struct source_location loc;
	const struct type_descriptor *type;
};

struct shift_out_of_bounds_data {
	struct source_location loc;
	const struct type_descriptor *lhs_type;
	const struct type_descriptor *rhs_type;
};

struct out_of_bounds_data {
	struct source_location loc;
	const struct type_descriptor *array_type;
	const struct type_descriptor *index_type;
};

struct unreachable_data {
	struct source_location loc;
};

struct invalid_value_data {
	struct source_location loc;
	const struct type_descriptor *type;
};

struct vla_bound_data {
	struct source_location loc;
	const struct type_descriptor *type;
};

struct nonnull_arg_data {
	struct source_location loc;
	struct source_location attr_loc;
	int arg_index;
};

struct nonnull_return_data {
	struct source_location attr_loc;
};

struct pointer_overflow_data {
	struct source_location loc;
};

struct invalid_builtin_data {
	struct source_location loc;
	u8 kind;     /* 0: ctz of zero, 1: clz of zero */
};

struct float_cast_overflow_data {
	struct source_location loc;
	const struct type_descriptor *from_type;
	const struct type_descriptor *to_type;
};

struct alignment_assumption_data {
	struct source_location loc;
	struct source_location assumption_loc;
	const struct type_descriptor *type;
};

void __ubsan_handle_type_mismatch(void *data, void *ptr);
void __ubsan_handle_type_mismatch_v1(void *data, void *ptr);
void __ubsan_handle_add_overflow(void *data, void *lhs, void *rhs);
void __ubsan_handle_sub_overflow(void *data, void *lhs, void *rhs);
void __ubsan_handle_mul_overflow(void *data, void *lhs, void *rhs);
void __ubsan_handle_negate_overflow(void *data, void *old);
void __ubsan_handle_divrem_overflow(void *data, void *lhs, void *rhs);
void __ubsan_handle_shift_out_of_bounds(void *data, void *lhs, void *rhs);
void __ubsan_handle_out_of_bounds(void *data, void *index);
void __ubsan_handle_load_invalid_value(void *data, void *val);
__attribute__((noreturn)) void __ubsan_handle_builtin_unreachable(void *data);
__attribute__((noreturn)) void __ubsan_handle_missing_return(void *data);
void __ubsan_handle_pointer_overflow(void *data, void *base, void *result);
void __ubsan_handle_nonnull_arg(void *data);
void __ubsan_handle_nonnull_return_v1(void *data, void *loc);
void __ubsan_handle_vla_bound_not_positive(void *data, void *bound);
void __ubsan_handle_invalid_builtin(void *data);
void __ubsan_handle_float_cast_overflow(void *data, void *from);
void __ubsan_handle_alignment_assumption(void *data, void *ptr,
					 void *align, void *offset);

#endif

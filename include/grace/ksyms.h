/*
 * ksyms.h — the layout of the kernel symbol table embedded in the image.
 *
 * tools/gen_ksyms.py writes build/ksyms_table.c from `nm -n -S` of a first
 * link: one struct ksym per text symbol, sorted by address, with names in one
 * NUL-separated blob; and one per data object (.data, .bss, per-CPU
 * variables) in ksym_data_table, whose addr is an offset from __data_start
 * (see the generator for why). It all goes into the .ksyms section at the end of
 * .rodata, so adding the table cannot move any text (the Makefile checks).
 * kernel/ksyms.c searches it; see include/grace/backtrace.h for the API.
 */
#ifndef GRACE_KSYMS_H
#define GRACE_KSYMS_H

#include <grace/types.h>

struct ksym {
	unsigned long addr;
	u32 size;       /* bytes; never 0 (the generator fills gaps) */
	u32 name;       /* offset into ksym_names */
};

extern const unsigned long ksym_count;
extern const struct ksym ksym_table[];
extern const char ksym_names[];
extern const unsigned long ksym_data_count;
extern const struct ksym ksym_data_table[];

#endif

/*
 * backtrace.h — symbolized stack traces.
 *
 * Grace is built with frame pointers, so a backtrace follows the chain of
 * saved %rbp values; each return address is printed as symbol+offset/size
 * from the symbol table embedded at build time (kernel/ksyms.c). The walk
 * stops at a zero %rbp (the boot and thread entry points set one), at an
 * address outside the current stack, or after 32 frames.
 */
#ifndef GRACE_BACKTRACE_H
#define GRACE_BACKTRACE_H

#include <grace/types.h>

/* The symbol containing addr, or NULL; *offset and *size describe where. */
const char *ksym_lookup(unsigned long addr, unsigned long *offset, unsigned long *size);
/* The data object (global or static variable) containing addr, or NULL. */
const char *ksym_data_lookup(unsigned long addr, unsigned long *offset, unsigned long *size);
/* Address of a text symbol by exact name, or 0. */
unsigned long ksym_address(const char *name);

void print_symbol(const char *prefix, unsigned long addr);
void print_backtrace(unsigned long rip, unsigned long rbp);
struct pt_regs;
/* The same from an interrupted context: its RSP also finds the caller of a
 * function interrupted before its frame exists. */
void print_backtrace_regs(const struct pt_regs *regs);
void dump_stack(void);

#endif

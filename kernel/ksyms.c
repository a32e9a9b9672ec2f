/*
 * ksyms.c — address <-> name lookups in the embedded symbol table.
 *
 * The table (layout in include/grace/ksyms.h) is generated at build time by a
 * two-pass link (Makefile, tools/gen_ksyms.py): link with an empty table, list
 * the text symbols of that ELF, compile them into the .ksyms section, link
 * again. Because .ksyms sits after every other read-only section and all text,
 * the second link cannot move a text symbol; the Makefile fails the build if
 * one moved anyway.
 *
 * Invariants: ksym_table is sorted by address, entries do not overlap, each
 * size is > 0. An address in a gap between symbols (alignment padding) maps
 * to no symbol rather than to the previous one. ksym_data_table is the same
 * for data objects, with addresses relative to __data_start.
 * Tests: tests/unit/test_ksyms.c (lookup edges); every fault-*.scn scenario
 * expects a symbolized backtrace line.
 */
#include <grace/backtrace.h>
#include <grace/ksyms.h>
#include <grace/string.h>

static const char *table_lookup(const struct ksym *table, unsigned long count,
				unsigned long addr, unsigned long *offset, unsigned long *size)
{
	unsigned long lo = 0, hi = count;

	/* Find the last entry with entry.addr <= addr. */
	while (lo < hi) {
		unsigned long mid = lo + (hi - lo) / 2;

		if (table[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct ksym *s = &table[lo - 1];

	if (addr - s->addr >= s->size)
		return NULL;
	if (offset)
		*offset = addr - s->addr;
	if (size)
		*size = s->size;
	return &ksym_names[s->name];
}

const char *ksym_lookup(unsigned long addr, unsigned long *offset, unsigned long *size)
{
	return table_lookup(ksym_table, ksym_count, addr, offset, size);
}

/* Data offsets count from the start of .data (linker.ld); the host test,
 * where libc owns __data_start, supplies its own base. */
#if __STDC_HOSTED__
extern char ksym_host_data_start[];
#define KSYM_DATA_BASE ((unsigned long)ksym_host_data_start)
#else
extern char __data_start[];
#define KSYM_DATA_BASE ((unsigned long)__data_start)
#endif

const char *ksym_data_lookup(unsigned long addr, unsigned long *offset, unsigned long *size)
{
	unsigned long base = KSYM_DATA_BASE;

	if (addr < base)
		return NULL;
	return table_lookup(ksym_data_table, ksym_data_count, addr - base, offset, size);
}

unsigned long ksym_address(const char *name)
{
	for (unsigned long i = 0; i < ksym_count; i++)
		if (!strcmp(&ksym_names[ksym_table[i].name], name))
			return ksym_table[i].addr;
	return 0;
}

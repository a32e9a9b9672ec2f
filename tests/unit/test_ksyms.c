// UNIT_SOURCES: kernel/ksyms.c
/*
 * test_ksyms.c — kernel/ksyms.c's lookups against a hand-made table:
 * first/last byte of a symbol, gaps between symbols (alignment padding maps to
 * no symbol), before the first and after the last, and by-name lookup; and
 * the data table, whose addresses are offsets from __data_start.
 */
#include <grace/backtrace.h>
#include <grace/ksyms.h>
#include <stdio.h>
#include <string.h>

const unsigned long ksym_count = 3;
const struct ksym ksym_table[] = {
	{ 0x1000, 16, 0 },  /* alpha: 0x1000..0x100f */
	{ 0x1010, 8, 6 },   /* beta:  0x1010..0x1017, then a gap */
	{ 0x1020, 32, 11 }, /* gamma: 0x1020..0x103f */
};
const char ksym_names[] = "alpha\0beta\0gamma\0lock_a\0counter";
const unsigned long ksym_data_count = 2;
const struct ksym ksym_data_table[] = {
	{ 0x40, 8, 17 },    /* lock_a:  base+0x40..0x47 */
	{ 0x80, 4, 24 },    /* counter: base+0x80..0x83 */
};
char ksym_host_data_start[0x100];   /* stands for __data_start */

static int failures;

static void expect(unsigned long addr, const char *name, unsigned long off, unsigned long size)
{
	unsigned long o = ~0UL, s = ~0UL;
	const char *got = ksym_lookup(addr, &o, &s);

	if (!name) {
		if (got) {
			printf("FAIL %#lx: expected no symbol, got %s\n", addr, got);
			failures++;
		}
		return;
	}
	if (!got || strcmp(got, name) || o != off || s != size) {
		printf("FAIL %#lx: expected %s+%#lx/%#lx, got %s+%#lx/%#lx\n",
		       addr, name, off, size, got ? got : "NULL", o, s);
		failures++;
	}
}

int main(void)
{
	expect(0x0, NULL, 0, 0);
	expect(0xfff, NULL, 0, 0);
	expect(0x1000, "alpha", 0, 16);
	expect(0x100f, "alpha", 15, 16);
	expect(0x1010, "beta", 0, 8);
	expect(0x1017, "beta", 7, 8);
	expect(0x1018, NULL, 0, 0);   /* padding between beta and gamma */
	expect(0x101f, NULL, 0, 0);
	expect(0x1020, "gamma", 0, 32);
	expect(0x103f, "gamma", 31, 32);
	expect(0x1040, NULL, 0, 0);
	expect(~0UL, NULL, 0, 0);
	if (ksym_lookup(0x1001, NULL, NULL) == NULL) {
		printf("FAIL lookup with NULL offset/size pointers\n");
		failures++;
	}
	if (ksym_address("beta") != 0x1010 || ksym_address("gamma") != 0x1020 ||
	    ksym_address("alpha") != 0x1000 || ksym_address("delta") != 0 ||
	    ksym_address("alph") != 0) {
		printf("FAIL ksym_address\n");
		failures++;
	}
	unsigned long base = (unsigned long)ksym_host_data_start, o = 0, sz = 0;
	const char *d = ksym_data_lookup(base + 0x44, &o, &sz);

	if (!d || strcmp(d, "lock_a") || o != 4 || sz != 8 ||
	    !(d = ksym_data_lookup(base + 0x80, &o, &sz)) || strcmp(d, "counter") || o != 0 ||
	    ksym_data_lookup(base + 0x48, NULL, NULL) || ksym_data_lookup(base, NULL, NULL) ||
	    ksym_data_lookup(base - 1, NULL, NULL) || ksym_data_lookup(0x40, NULL, NULL)) {
		printf("FAIL ksym_data_lookup\n");
		failures++;
	}
	return failures ? 1 : 0;
}

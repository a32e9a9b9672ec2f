/*
 * patchcheck.c — refuse a kernel whose patch sites are not single 5-byte
 * instructions (host tool, run by the Makefile after every link).
 *
 *   patchcheck build/grace.elf        exit 0: every site is fine; prints a
 *                                     one-line summary
 *                                     exit 1: names each bad site, its
 *                                     function and its bytes
 *
 * Reads the ELF64 section headers, the `.patch_sites` table
 * (asm/patch_site.h) and `.text`, and applies the same patch_site_check()
 * the kernel runs at boot (arch/x86_64/patch_site_check.c, linked in here)
 * plus the overlap check over the sites sorted by address.
 * Tested by tests/unit/test_patch_site.c (the check itself) and by
 * tests/unit/test_patchcheck.py (this tool on a good and a corrupted ELF).
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <asm/patch_site.h>

static unsigned char *img;
static size_t img_size;

static const Elf64_Shdr *section(const char *want, const Elf64_Shdr **symtab)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(img + eh->e_shoff);
	const char *names = (const char *)img + sh[eh->e_shstrndx].sh_offset;

	for (unsigned int i = 0; i < eh->e_shnum; i++) {
		if (symtab && sh[i].sh_type == SHT_SYMTAB)
			*symtab = &sh[i];
		if (want && !strcmp(names + sh[i].sh_name, want))
			return &sh[i];
	}
	return NULL;
}

static const char *symbol_for(unsigned long addr, unsigned long *off)
{
	const Elf64_Shdr *symtab = NULL, *sh;
	const Elf64_Sym *best = NULL;
	const char *strs;

	section(NULL, &symtab);
	if (!symtab)
		return "?";
	sh = (const Elf64_Shdr *)(img + ((const Elf64_Ehdr *)img)->e_shoff);
	strs = (const char *)img + sh[symtab->sh_link].sh_offset;
	for (size_t i = 0; i < symtab->sh_size / sizeof(Elf64_Sym); i++) {
		const Elf64_Sym *s = (const Elf64_Sym *)(img + symtab->sh_offset) + i;

		if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_value > addr)
			continue;
		if (!best || s->st_value > best->st_value)
			best = s;
	}
	if (!best)
		return "?";
	*off = addr - best->st_value;
	return strs + best->st_name;
}

static int by_addr(const void *a, const void *b)
{
	const struct patch_site_view *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int main(int argc, char **argv)
{
	const Elf64_Shdr *ps, *text;
	struct patch_site_view *v;
	enum patch_site_error err;
	size_t n;
	long bad;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: patchcheck KERNEL.elf\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	fseek(f, 0, SEEK_END);
	img_size = (size_t)ftell(f);
	rewind(f);
	img = malloc(img_size);
	if (!img || fread(img, 1, img_size, f) != img_size || img_size < sizeof(Elf64_Ehdr) ||
	    memcmp(img, ELFMAG, SELFMAG) || img[EI_CLASS] != ELFCLASS64) {
		fprintf(stderr, "patchcheck: %s: not a readable ELF64 file\n", argv[1]);
		return 2;
	}
	fclose(f);
	text = section(".text", NULL);
	ps = section(".patch_sites", NULL);
	if (!text) {
		fprintf(stderr, "patchcheck: %s: no .text section\n", argv[1]);
		return 2;
	}
	if (!ps) {
		ps = section(".rodata", NULL);   /* linker.ld folds the table into .rodata */
	}
	/* The table sits between __start_patch_sites and __stop_patch_sites. */
	{
		const Elf64_Shdr *symtab = NULL, *sh = (const Elf64_Shdr *)(img + ((const Elf64_Ehdr *)img)->e_shoff);
		unsigned long start = 0, stop = 0;
		const char *strs;

		section(NULL, &symtab);
		if (!symtab) {
			fprintf(stderr, "patchcheck: %s: no symbol table\n", argv[1]);
			return 2;
		}
		strs = (const char *)img + sh[symtab->sh_link].sh_offset;
		for (size_t i = 0; i < symtab->sh_size / sizeof(Elf64_Sym); i++) {
			const Elf64_Sym *s = (const Elf64_Sym *)(img + symtab->sh_offset) + i;

			if (!strcmp(strs + s->st_name, "__start_patch_sites"))
				start = s->st_value;
			else if (!strcmp(strs + s->st_name, "__stop_patch_sites"))
				stop = s->st_value;
		}
		if (!start || stop < start || !ps || start < ps->sh_addr || stop > ps->sh_addr + ps->sh_size) {
			fprintf(stderr, "patchcheck: %s: no __start/__stop_patch_sites table\n", argv[1]);
			return 2;
		}
		n = (stop - start) / sizeof(struct patch_site);
		v = calloc(n ? n : 1, sizeof(*v));
		for (size_t i = 0; i < n; i++) {
			unsigned long ea = start + i * sizeof(struct patch_site);
			const struct patch_site *e = (const void *)(img + ps->sh_offset + (ea - ps->sh_addr));

			v[i].addr = ea + (unsigned long)(long)e->code;
			v[i].target = ea + 4 + (unsigned long)(long)e->target;
			v[i].len = e->len;
			v[i].kind = e->kind;
			if (v[i].addr >= text->sh_addr && v[i].addr + PATCH_INSN_SIZE <= text->sh_addr + text->sh_size)
				v[i].bytes = img + text->sh_offset + (v[i].addr - text->sh_addr);
			else
				v[i].bytes = (const unsigned char *)"\0\0\0\0\0";
		}
	}
	qsort(v, n, sizeof(*v), by_addr);
	bad = patch_sites_check_sorted(v, n, text->sh_addr, text->sh_addr + text->sh_size, &err);
	if (bad >= 0) {
		const struct patch_site_view *b = &v[bad];
		unsigned long off = 0;
		const char *fn = symbol_for(b->addr, &off);

		fprintf(stderr, "patchcheck: %s: patch site %#lx (%s+%#lx, kind %u, len %u): %s; "
			"bytes %02x %02x %02x %02x %02x\n", argv[1], b->addr, fn, off, b->kind, b->len,
			patch_site_error_name(err), b->bytes[0], b->bytes[1], b->bytes[2],
			b->bytes[3], b->bytes[4]);
		return 1;
	}
	printf("  PATCHCK %s: %zu patch sites, each one 5-byte instruction\n", argv[1], n);
	return 0;
}

/*
 * patch_sites.c — the kernel's table of patch sites, checked at boot.
 *
 * The linker collects every `.patch_sites` entry (asm/patch_site.h) between
 * __start_patch_sites and __stop_patch_sites. tools/patchcheck already
 * refused a bad table after the link; patching_init() checks it once more
 * on the running kernel (the same patch_site_check()), so a kernel linked
 * without the tool still cannot patch a site that is not one instruction.
 * `patchsites` (shell) lists every site with its current instruction.
 * Test: boot of every scenario (a bad site panics), ktest patching.sites.
 */
#include <asm/patch_sites.h>
#include <asm/text-patching.h>
#include <grace/jump_label.h>
#include <grace/backtrace.h>
#include <grace/mm.h>
#include <grace/panic.h>
#include <grace/printk.h>
#include <grace/shell.h>

unsigned int patch_sites_count(void)
{
	return (unsigned int)(__stop_patch_sites - __start_patch_sites);
}

static struct patch_site_view view_of(const struct patch_site *s)
{
	return (struct patch_site_view){
		.addr = patch_site_addr(s), .target = patch_site_target(s),
		.len = s->len, .kind = s->kind, .bytes = (const u8 *)patch_site_addr(s),
	};
}

void patching_init(void)
{
	unsigned long ts = (unsigned long)__text_start, te = (unsigned long)__text_end;
	unsigned int n = 0;

	for_each_patch_site(s) {
		struct patch_site_view v = view_of(s);
		enum patch_site_error e = patch_site_check(&v, ts, te);

		for (const struct patch_site *o = __start_patch_sites; o < s && e == PSE_OK; o++) {
			unsigned long a = patch_site_addr(o);

			if (a < v.addr + v.len && v.addr < a + o->len)
				e = PSE_OVERLAP;
		}
		if (e != PSE_OK)
			panic("patch site %016lx: %s", v.addr,
			      patch_site_error_name(e));
		n++;
	}
	text_patching_init();
	jump_label_init();
	printk("patching: %u patch sites checked; text_poke through a private alias, int3 protocol ready\n", n);
}

static const char *const kind_names[PATCH_SITE_NR_KINDS] = {
	[PATCH_SITE_JUMP_LABEL] = "jump_label", [PATCH_SITE_STATIC_CALL] = "static_call",
	[PATCH_SITE_LOCK_OP] = "lock_op",
};

static int cmd_patchsites(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for_each_patch_site(s) {
		unsigned long a = patch_site_addr(s), off, size;
		const u8 *b = (const u8 *)a;
		struct insn in = insn_decode(b, a);
		const char *fn = ksym_lookup(a, &off, &size);
		const char *tn = in.target ? ksym_lookup(in.target, &off, &size) : NULL;

		printk("%016lx %-22s %-11s %02x %02x %02x %02x %02x  %s%s%s\n", a, fn ? fn : "?",
		       s->kind < PATCH_SITE_NR_KINDS ? kind_names[s->kind] : "?",
		       b[0], b[1], b[2], b[3], b[4], insn_kind_name(in.kind), tn ? " " : "",
		       tn ? tn : "");
	}
	printk("%u sites; %llu pokes, %llu syncs, %llu batches, %llu int3 hits (%llu in NMI, %llu stale, %llu by the next batch)\n",
	       patch_sites_count(), (unsigned long long)text_poke_stats.pokes,
	       (unsigned long long)text_poke_stats.syncs, (unsigned long long)text_poke_stats.batches,
	       (unsigned long long)text_poke_stats.int3_hits,
	       (unsigned long long)text_poke_stats.int3_hits_nmi,
	       (unsigned long long)text_poke_stats.int3_stale,
	       (unsigned long long)text_poke_stats.int3_next_batch);
	return 0;
}
SHELL_COMMAND(patchsites, "patchsites", "patchsites",
	      "list the text patch sites and their current instructions", cmd_patchsites);

/*
 * asm/patch_sites.h — the kernel's own table of patch sites at run time
 * (arch/x86_64/patch_sites.c). The entry format is asm/patch_site.h.
 */
#ifndef ASM_PATCH_SITES_H
#define ASM_PATCH_SITES_H

#include <asm/patch_site.h>

extern const struct patch_site __start_patch_sites[], __stop_patch_sites[];

#define for_each_patch_site(s) \
	for (const struct patch_site *s = __start_patch_sites; s < __stop_patch_sites; s++)

/* Boot, boot CPU only, after paging_init: check every site (panic on a
 * bad one), install the #BP hook, set the static keys' initial states. */
void patching_init(void);
unsigned int patch_sites_count(void);

#endif

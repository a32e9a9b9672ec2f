/*
 * mem_cmd.c — the `mem` shell command: the firmware memory map, the page
 * allocator's counters and arenas, the trampoline page, the heap classes.
 * Read-only; safe to run at any time.
 */
#include <grace/bootinfo.h>
#include <grace/mm.h>
#include <grace/printk.h>
#include <grace/shell.h>

static const char *mem_type_name(u32 type)
{
	switch (type) {
	case MEM_USABLE: return "usable";
	case MEM_RESERVED: return "reserved";
	case MEM_ACPI_RECLAIMABLE: return "ACPI reclaimable";
	case MEM_ACPI_NVS: return "ACPI NVS";
	case MEM_BAD: return "bad";
	}
	return "unknown";
}

static int cmd_mem(int argc, char **argv)
{
	if (argc > 1) {
		printk("mem: takes no arguments\n");
		return 1;
	}
	printk("memory map (%u regions%s):\n", boot_info.nr_mem,
	       boot_info.mem_truncated ? ", truncated" : "");
	for (unsigned int i = 0; i < boot_info.nr_mem; i++) {
		const struct mem_region *m = &boot_info.mem[i];
		printk("  [0x%016llx-0x%016llx] %-16s %8llu KiB\n", (unsigned long long)m->base,
		       (unsigned long long)(m->base + m->len - 1), mem_type_name(m->type),
		       (unsigned long long)(m->len >> 10));
	}
	pmm_print();
	kmalloc_print();
	return 0;
}
SHELL_COMMAND(mem, "mem", "mem", "show the memory map, page and heap usage", cmd_mem);

/*
 * tmp_fallbacks.c — weak fallbacks that let the skeleton link while the
 * subsystems that own these functions are being written. Each real
 * implementation overrides its fallback; this file is deleted once all exist.
 */
#include <grace/acpi.h>
#include <grace/backtrace.h>
#include <grace/compiler.h>
#include <grace/time.h>

u64 tsc_at_boot;
__weak void acpi_poweroff(void) { }
__weak void acpi_reset(void) { }
#include <grace/ktest.h>
#include <grace/mm.h>
__weak void ktest_fail(struct ktest_ctx *t, const char *f, int l, const char *fmt, ...) { (void)t; (void)f; (void)l; (void)fmt; }
__weak void *kmalloc(size_t s) { (void)s; return 0; }
#include <grace/irq.h>
__weak struct acpi_info acpi;
__weak void *ioremap(phys_addr_t p, size_t s) { (void)s; return phys_to_virt(p); }
__weak u32 acpi_isa_irq_to_gsi(u8 irq, u16 *f) { *f = 0; return irq; }

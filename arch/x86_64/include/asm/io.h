/*
 * io.h — x86 port I/O and MMIO accessors.
 * MMIO accessors are volatile single accesses; device ordering on x86 needs no
 * extra fences for uncached mappings.
 */
#ifndef ASM_IO_H
#define ASM_IO_H

#include <grace/types.h>

static inline void outb(u16 port, u8 v)  { __asm__ __volatile__("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ __volatile__("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ __volatile__("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline u8  inb(u16 port) { u8 v;  __asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u16 inw(u16 port) { u16 v; __asm__ __volatile__("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 inl(u16 port) { u32 v; __asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
/* A write to the unused POST port: ~1 us on real hardware. */
static inline void io_delay(void) { outb(0x80, 0); }

static inline u32 mmio_read32(const volatile void *a) { return *(const volatile u32 *)a; }
static inline void mmio_write32(volatile void *a, u32 v) { *(volatile u32 *)a = v; }
static inline u64 mmio_read64(const volatile void *a) { return *(const volatile u64 *)a; }
static inline void mmio_write64(volatile void *a, u64 v) { *(volatile u64 *)a = v; }

#endif

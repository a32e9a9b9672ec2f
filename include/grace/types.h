/*
 * types.h — fixed-width integer types and the few kernel typedefs.
 * Freestanding: only the compiler's own <stdint.h>, <stddef.h>, <stdbool.h>.
 */
#ifndef GRACE_TYPES_H
#define GRACE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t  u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t   s8;
typedef int16_t  s16;
typedef int32_t  s32;
typedef int64_t  s64;

typedef u64 phys_addr_t;
typedef long ssize_t;

#endif

/* Small internal helpers shared by every area (not exported). */
#ifndef IOTKIT__UTIL_H
#define IOTKIT__UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "iotkit/error.h"

/* strdup that accepts NULL (returns NULL for NULL or on allocation failure). */
char *iotkit__strdup(const char *s);

/* Format into a fixed buffer, always NUL-terminated, truncating. */
void iotkit__fmt(char *buf, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* True if s is 1..max bytes of [A-Za-z0-9._-] (device ids, KV keys). */
bool iotkit__is_safe_name(const char *s, size_t max);

/* Overwrite memory in a way the compiler may not elide (for secrets). */
void iotkit__memzero(void *p, size_t n);

/* Free a string after zeroing it (passwords, tokens). NULL is a no-op. */
void iotkit__free_secret(char *s);

#define IOTKIT__ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------ structs that grow -- */
/*
 * Input structs start with `size_t struct_size` (docs/architecture.md,
 * "Structs that grow"). 0 means the 0.2.0 layout; fields beyond the size are
 * absent (defaults, NULL operations).
 */

/* End of @p field in @p type: the least struct_size that covers it. */
#define IOTKIT__FIELD_END(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

/* The size a caller's struct claims: its struct_size, or @p size_0_2 when 0. */
#define IOTKIT__STRUCT_SIZE(p, size_0_2) ((p)->struct_size ? (p)->struct_size : (size_t)(size_0_2))

/* Whether @p field of *p (of struct type @p type) lies within what the caller
   filled (struct_size, or the 0.2.0 layout @p size_0_2 when 0). */
#define IOTKIT__HAS_FIELD(p, type, field, size_0_2) (IOTKIT__FIELD_END(type, field) <= IOTKIT__STRUCT_SIZE(p, size_0_2))

/*
 * Normalise a caller's struct into a full-size local copy: @p dst (@p
 * dst_size bytes, already filled with defaults) receives the first
 * min(size, dst_size) bytes of @p src, where size is src's struct_size (its
 * first size_t) or @p size_0_2 when that is 0; dst's struct_size then becomes
 * @p dst_size. ::IOTKIT_ERR_INVALID_ARG (dst untouched) when the size is below
 * @p required (the end of the struct's required fields) or an argument is NULL.
 */
iotkit_err_t iotkit__struct_copy(void *dst, size_t dst_size, const void *src, size_t size_0_2, size_t required);

/* Fill local struct @p dst with @p init_fn's defaults, then with the prefix of
   @p src that its struct_size covers; ABI names the constants IOTKIT__<X>_SIZE_0_2
   and IOTKIT__<X>_REQUIRED of core/abi.h by their prefix (e.g. IOTKIT__OTA_CONFIG).
   An iotkit_err_t expression. */
#define IOTKIT__STRUCT_IN(dst, init_fn, src, ABI) \
  (init_fn(&(dst)), iotkit__struct_copy(&(dst), sizeof(dst), (src), ABI##_SIZE_0_2, ABI##_REQUIRED))

/* Check a caller's struct_size without copying: IOTKIT_OK, or
   IOTKIT_ERR_INVALID_ARG when src is NULL or its size is below @p required. */
iotkit_err_t iotkit__struct_check(const void *src, size_t size_0_2, size_t required);

#include "core/abi.h"

#endif

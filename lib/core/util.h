/* Small internal helpers shared by every area (not exported). */
#ifndef IOTKIT__UTIL_H
#define IOTKIT__UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

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

#endif

/* Helpers shared by the libFuzzer targets of tests/fuzz (one target per file,
 * each with its seed corpus in corpus/<name>/ and, where the format has
 * keywords, a dictionary <name>.dict). A target must not leak, must not keep
 * state that changes what the next input does (beyond what it resets), and
 * aborts (FUZZ_CHECK) when the library breaks a promise of its API. */
#ifndef IOTKIT_FUZZ_UTIL_H
#define IOTKIT_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotkit/iotkit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A broken promise of the API (not a refused input): report and abort, so libFuzzer keeps the input. */
#define FUZZ_CHECK(cond)                                                              \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                        \
    }                                                                                 \
  } while (0)

/* A NUL-terminated copy of the input (the library takes C strings in many places). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  FUZZ_CHECK(s != NULL);
  if (size) memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

/* Take the first byte of the input as a selector (0 if empty). */
static inline unsigned fuzz_take_byte(const uint8_t **data, size_t *size) {
  if (*size == 0) return 0;
  unsigned b = (*data)[0];
  (*data)++;
  (*size)--;
  return b;
}

/* Split the input at the first occurrence of @p sep: the part before goes to
   *head (NUL-terminated copy), the rest stays in data/size. No separator: all
   of it is the head and the rest is empty. */
static inline char *fuzz_take_until(const uint8_t **data, size_t *size, uint8_t sep) {
  const uint8_t *p = *size ? memchr(*data, sep, *size) : NULL;
  size_t n = p ? (size_t)(p - *data) : *size;
  char *head = fuzz_strndup(*data, n);
  *data += p ? n + 1 : n;
  *size -= p ? n + 1 : n;
  return head;
}

/* A memory HAL with a manual clock and small firmware slots (the default 16 MiB
   would be most of an execution's time). */
static inline iotkit_hal_t *fuzz_memory_hal(void) {
  iotkit_hal_memory_config_t mc;
  iotkit_hal_memory_config_init(&mc);
  mc.manual_clock = true;
  mc.slot_capacity = 64u * 1024u;
  iotkit_hal_t *hal = NULL;
  FUZZ_CHECK(iotkit_hal_memory_new(&mc, &hal) == IOTKIT_OK);
  return hal;
}

#endif

/* Small internal helpers shared by every area. */
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *iotkit__strdup(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

void iotkit__fmt(char *buf, size_t cap, const char *fmt, ...) {
  if (!buf || cap == 0) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, cap, fmt, ap);
  va_end(ap);
  if (n < 0) buf[0] = '\0';
}

bool iotkit__is_safe_name(const char *s, size_t max) {
  if (!s || !*s) return false;
  size_t n = 0;
  for (const char *p = s; *p; p++, n++) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok || n >= max) return false;
  }
  /* "." and ".." would be path components on a file-backed store. */
  return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

void iotkit__memzero(void *p, size_t n) {
  volatile unsigned char *v = p;
  while (n--) *v++ = 0;
}

void iotkit__free_secret(char *s) {
  if (!s) return;
  iotkit__memzero(s, strlen(s));
  free(s);
}

static size_t claimed_size(const void *src, size_t size_0_2) {
  size_t size;
  memcpy(&size, src, sizeof size); /* struct_size is the first field of every struct that grows */
  return size ? size : size_0_2;
}

iotkit_err_t iotkit__struct_check(const void *src, size_t size_0_2, size_t required) {
  if (!src || claimed_size(src, size_0_2) < required) return IOTKIT_ERR_INVALID_ARG;
  return IOTKIT_OK;
}

iotkit_err_t iotkit__struct_copy(void *dst, size_t dst_size, const void *src, size_t size_0_2, size_t required) {
  if (!dst || dst_size < sizeof(size_t) || iotkit__struct_check(src, size_0_2, required) != IOTKIT_OK)
    return IOTKIT_ERR_INVALID_ARG;
  size_t size = claimed_size(src, size_0_2);
  memcpy(dst, src, size < dst_size ? size : dst_size);
  memcpy(dst, &dst_size, sizeof dst_size);
  return IOTKIT_OK;
}

/* base64 and base64url decoding (lib/crypto/base64.c), with every output
   capacity from 0 up: a decode never writes past cap, and what decodes
   encodes back to a string that decodes to the same bytes. */
#include "fuzz_util.h"

static void one(bool url, const char *in, size_t len) {
  size_t cap = len;
  uint8_t *out = malloc(cap + 1);
  FUZZ_CHECK(out != NULL);
  size_t n = 0;
  iotkit_err_t rc = url ? iotkit_base64url_decode(in, len, out, cap, &n) : iotkit_base64_decode(in, len, out, cap, &n);
  if (rc == IOTKIT_OK) {
    FUZZ_CHECK(n <= cap);
    size_t ecap = 4 * (n / 3 + 1) + 1;
    char *enc = malloc(ecap);
    FUZZ_CHECK(enc != NULL);
    size_t elen = 0;
    rc = url ? iotkit_base64url_encode(out, n, enc, ecap, &elen) : iotkit_base64_encode(out, n, enc, ecap, &elen);
    FUZZ_CHECK(rc == IOTKIT_OK);
    uint8_t *back = malloc(n + 1);
    FUZZ_CHECK(back != NULL);
    size_t blen = 0;
    rc = url ? iotkit_base64url_decode(enc, elen, back, n, &blen) : iotkit_base64_decode(enc, elen, back, n, &blen);
    FUZZ_CHECK(rc == IOTKIT_OK && blen == n && (n == 0 || memcmp(back, out, n) == 0));
    free(back);
    free(enc);
    /* One byte short must be refused, never overrun (ASan watches the exact-size buffer). */
    if (n > 0) {
      uint8_t *tight = malloc(n - 1 ? n - 1 : 1);
      FUZZ_CHECK(tight != NULL);
      size_t tlen = 0;
      rc = url ? iotkit_base64url_decode(in, len, tight, n - 1, &tlen) : iotkit_base64_decode(in, len, tight, n - 1, &tlen);
      FUZZ_CHECK(rc != IOTKIT_OK);
      free(tight);
    }
  }
  free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* The exact-size heap copy lets ASan see a read past in_len. */
  char *in = malloc(size ? size : 1);
  FUZZ_CHECK(in != NULL);
  if (size) memcpy(in, data, size);
  one(false, in, size);
  one(true, in, size);
  free(in);
  return 0;
}

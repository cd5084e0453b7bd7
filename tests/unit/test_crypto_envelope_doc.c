/* The exact envelope example of docs/protocol.md: read from the document, sealed again, opened. */
#include "test_crypto_util.h"

/* The fenced block after "### Example (exact)" of the envelope section, malloc'd. */
static char *doc_example(void) {
  FILE *f = fopen(IOTKIT_SOURCE_DIR "/docs/protocol.md", "r");
  cr_assert_not_null(f);
  static char text[1 << 17];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  const char *sec = strstr(text, "## Payload envelope (end-to-end protection)");
  cr_assert_not_null(sec);
  const char *ex = strstr(sec, "### Example (exact)");
  cr_assert_not_null(ex);
  const char *start = strstr(ex, "```\n");
  cr_assert_not_null(start);
  start += 4;
  const char *end = strstr(start, "```");
  cr_assert_not_null(end);
  char *block = strndup(start, (size_t)(end - start));
  cr_assert_not_null(block);
  return block;
}

/* The value after "name:" up to the end of the line (malloc'd). */
static char *field(const char *block, const char *name) {
  char pat[32];
  snprintf(pat, sizeof pat, "%s:", name);
  const char *p = strstr(block, pat);
  cr_assert_not_null(p, "no field %s", name);
  p += strlen(pat);
  while (*p == ' ') p++;
  return strndup(p, strcspn(p, "\n"));
}

/* Hex digits from after "name:" to the end of the block, spaces and line breaks skipped. */
static char *hex_tail(const char *block, const char *name) {
  char pat[32];
  snprintf(pat, sizeof pat, "%s:", name);
  const char *p = strstr(block, pat);
  cr_assert_not_null(p);
  char *out = calloc(1, strlen(p) + 1);
  size_t n = 0;
  for (p += strlen(pat); *p; p++)
    if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')) out[n++] = *p;
  return out;
}

typedef struct example {
  char *block, *key_hex, *kid, *dev, *channel, *stored, *payload, *env_hex;
} example_t;

static example_t load(void) {
  example_t e;
  e.block = doc_example();
  e.key_hex = field(e.block, "key");
  e.kid = field(e.block, "key id");
  e.dev = field(e.block, "device id");
  e.channel = field(e.block, "channel");
  e.stored = field(e.block, "stored");
  e.payload = field(e.block, "payload");
  e.env_hex = hex_tail(e.block, "envelope");
  return e;
}

static void unload(example_t *e) {
  char *all[] = {e->block, e->key_hex, e->kid, e->dev, e->channel, e->stored, e->payload, e->env_hex};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
}

/* An envelope handle on a memory HAL whose counter holds the example's stored value. */
static iotkit_envelope_t *handle(const example_t *e, iotkit_hal_t **hal) {
  cr_assert_eq(iotkit_hal_memory_new(NULL, hal), IOTKIT_OK);
  uint8_t be[8];
  unsigned long long v = strtoull(e->stored, NULL, 10);
  for (int i = 7; i >= 0; i--, v >>= 8) be[i] = (uint8_t)v;
  cr_assert_eq((*hal)->kv_set((*hal)->ctx, "iotkit.envelope.k1", be, 8), IOTKIT_OK);
  size_t kl;
  uint8_t *key = hex(e->key_hex, &kl);
  cr_assert_eq(kl, 32);
  iotkit_envelope_config_t c;
  iotkit_envelope_config_init(&c);
  c.key = key;
  c.key_id = e->kid;
  c.device_id = e->dev;
  c.hal = *hal;
  iotkit_envelope_t *env = NULL;
  cr_assert_eq(iotkit_envelope_new(&c, &env), IOTKIT_OK);
  free(key);
  return env;
}

Test(envelope_doc, example_key_is_the_gcm_test_case_15_key) {
  example_t e = load();
  cr_assert_str_eq(e.key_hex, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  cr_assert_str_eq(e.kid, "k1");
  unload(&e);
}

Test(envelope_doc, sealing_the_example_gives_its_exact_bytes) {
  example_t e = load();
  iotkit_hal_t *hal = NULL;
  iotkit_envelope_t *env = handle(&e, &hal);
  uint8_t out[256];
  size_t n = 0;
  cr_assert_eq(iotkit_envelope_seal(env, e.channel, e.payload, strlen(e.payload), out, sizeof out, &n), IOTKIT_OK);
  assert_hex(out, n, e.env_hex);
  uint8_t stored[8];
  size_t sl = 0;
  cr_assert_eq(hal->kv_get(hal->ctx, "iotkit.envelope.k1", stored, sizeof stored, &sl), IOTKIT_OK);
  assert_hex(stored, sl, "00000000000005f4"); /* 1524, as the document says */
  iotkit_envelope_free(env);
  iotkit_hal_free(hal);
  unload(&e);
}

Test(envelope_doc, the_example_opens_to_its_payload) {
  example_t e = load();
  iotkit_hal_t *hal = NULL;
  iotkit_envelope_t *env = handle(&e, &hal);
  size_t el;
  uint8_t *in = hex(e.env_hex, &el);
  char pt[256];
  size_t n = 0;
  cr_assert_eq(iotkit_envelope_open(env, e.channel, in, el, pt, sizeof pt, &n), IOTKIT_OK);
  cr_assert_eq(n, strlen(e.payload));
  cr_assert(memcmp(pt, e.payload, n) == 0);
  free(in);
  iotkit_envelope_free(env);
  iotkit_hal_free(hal);
  unload(&e);
}

/* The documented associated data is what the library authenticates: opening with it works. */
Test(envelope_doc, the_documented_aad_opens_the_raw_gcm_parts) {
  example_t e = load();
  char *aad_hex = field(e.block, "aad");
  char *compact = calloc(1, strlen(aad_hex) + 1);
  for (size_t i = 0, n = 0; aad_hex[i]; i++)
    if (aad_hex[i] != ' ') compact[n++] = aad_hex[i];
  size_t al, el, kl;
  uint8_t *aad = hex(compact, &al), *in = hex(e.env_hex, &el), *key = hex(e.key_hex, &kl);
  size_t hdr = 2 + strlen(e.kid) + 12, ct_len = el - hdr - 16;
  char pt[256];
  cr_assert_eq(iotkit_aes256gcm_open(key, in + 2 + strlen(e.kid), aad, al, in + hdr, ct_len, in + hdr + ct_len, pt),
               IOTKIT_OK);
  cr_assert(memcmp(pt, e.payload, ct_len) == 0);
  free(aad);
  free(in);
  free(key);
  free(compact);
  free(aad_hex);
  unload(&e);
}

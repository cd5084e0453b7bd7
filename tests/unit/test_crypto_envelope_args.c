/* Payload envelopes: each bad argument of new, seal and open has its own test. */
#include "test_crypto_envelope_util.h"

static iotkit_err_t try_new(const iotkit_envelope_config_t *c) {
  iotkit_envelope_t *env = (iotkit_envelope_t *)0x1;
  iotkit_err_t rc = iotkit_envelope_new(c, &env);
  cr_assert_eq(env, (iotkit_envelope_t *)0x1, "output written on failure");
  return rc;
}

Test(envelope_new, null_config) { cr_assert_eq(try_new(NULL), IOTKIT_ERR_INVALID_ARG); }

Test(envelope_new, null_out) {
  iotkit_envelope_config_t c;
  env_config(&c, NULL);
  cr_assert_eq(iotkit_envelope_new(&c, NULL), IOTKIT_ERR_INVALID_ARG);
}

#define BAD_CONFIG(name, edit)                           \
  Test(envelope_new, name) {                             \
    iotkit_envelope_config_t c;                          \
    env_config(&c, NULL);                                \
    edit;                                                \
    cr_assert_eq(try_new(&c), IOTKIT_ERR_INVALID_ARG);   \
  }

BAD_CONFIG(missing_key, c.key = NULL)
BAD_CONFIG(missing_key_id, c.key_id = NULL)
BAD_CONFIG(empty_key_id, c.key_id = "")
BAD_CONFIG(key_id_of_33_bytes, c.key_id = "abcdefghijabcdefghijabcdefghijabc")
BAD_CONFIG(key_id_with_a_slash, c.key_id = "k/1")
BAD_CONFIG(missing_device_id, c.device_id = NULL)
BAD_CONFIG(device_id_with_a_space, c.device_id = "dev a")
BAD_CONFIG(nonce_block_zero, c.nonce_block = 0)
BAD_CONFIG(nonce_block_above_max, c.nonce_block = IOTKIT_ENVELOPE_NONCE_BLOCK_MAX + 1)

Test(envelope_new, key_id_of_32_bytes_is_accepted) {
  iotkit_envelope_config_t c;
  env_config(&c, NULL);
  c.key_id = "abcdefghijabcdefghijabcdefghijab";
  iotkit_envelope_free(env_make(&c));
}

Test(envelope_new, config_init_defaults) {
  iotkit_envelope_config_t c;
  memset(&c, 0xFF, sizeof c);
  iotkit_envelope_config_init(&c);
  cr_assert_null(c.key);
  cr_assert_null(c.hal);
  cr_assert_eq(c.sender, 0);
  cr_assert_eq(c.nonce_block, IOTKIT_ENVELOPE_NONCE_BLOCK_DEFAULT);
  iotkit_envelope_config_init(NULL);
  iotkit_envelope_free(NULL);
}

/* seal/open arguments, on a handle with a memory HAL. */
static iotkit_hal_t *hal;
static iotkit_envelope_t *env;
static uint8_t out[128];
static size_t out_len = 4242;

static void setup(void) {
  hal = env_hal();
  iotkit_envelope_config_t c;
  env_config(&c, hal);
  env = env_make(&c);
}

static void teardown(void) {
  iotkit_envelope_free(env);
  iotkit_hal_free(hal);
}

static void expect_seal(iotkit_envelope_t *e, const char *ch, const void *pt, size_t len, void *o, size_t cap,
                        size_t *ol, iotkit_err_t want) {
  cr_assert_eq(iotkit_envelope_seal(e, ch, pt, len, o, cap, ol), want);
  cr_assert_eq(out_len, 4242);
}

TestSuite(envelope_seal, .init = setup, .fini = teardown);

Test(envelope_seal, null_handle) {
  expect_seal(NULL, "telemetry", "x", 1, out, sizeof out, &out_len, IOTKIT_ERR_INVALID_ARG);
}
Test(envelope_seal, null_channel) { expect_seal(env, NULL, "x", 1, out, sizeof out, &out_len, IOTKIT_ERR_INVALID_ARG); }
Test(envelope_seal, empty_channel) { expect_seal(env, "", "x", 1, out, sizeof out, &out_len, IOTKIT_ERR_INVALID_ARG); }
Test(envelope_seal, channel_of_256_bytes) {
  char ch[257];
  memset(ch, 'c', 256);
  ch[256] = '\0';
  expect_seal(env, ch, "x", 1, out, sizeof out, &out_len, IOTKIT_ERR_INVALID_ARG);
}
Test(envelope_seal, null_payload_with_length) {
  expect_seal(env, "telemetry", NULL, 1, out, sizeof out, &out_len, IOTKIT_ERR_INVALID_ARG);
}
Test(envelope_seal, null_output_with_capacity) {
  expect_seal(env, "telemetry", "x", 1, NULL, sizeof out, &out_len, IOTKIT_ERR_INVALID_ARG);
}
Test(envelope_seal, null_output_length) {
  expect_seal(env, "telemetry", "x", 1, out, sizeof out, NULL, IOTKIT_ERR_INVALID_ARG);
}
Test(envelope_seal, length_overflowing_size_t) {
  expect_seal(env, "telemetry", "x", SIZE_MAX - 5, out, sizeof out, &out_len, IOTKIT_ERR_TOO_LARGE);
}
Test(envelope_seal, handle_without_hal_cannot_seal) {
  iotkit_envelope_config_t c;
  env_config(&c, NULL);
  iotkit_envelope_t *o = env_make(&c);
  expect_seal(o, "telemetry", "x", 1, out, sizeof out, &out_len, IOTKIT_ERR_UNSUPPORTED);
  iotkit_envelope_free(o);
}
Test(envelope_seal, hal_without_kv_store_cannot_seal) {
  iotkit_hal_t bare;
  iotkit_hal_init(&bare);
  iotkit_envelope_config_t c;
  env_config(&c, &bare);
  iotkit_envelope_t *o = env_make(&c);
  expect_seal(o, "telemetry", "x", 1, out, sizeof out, &out_len, IOTKIT_ERR_UNSUPPORTED);
  iotkit_envelope_free(o);
}

TestSuite(envelope_open, .init = setup, .fini = teardown);

static void expect_open(const iotkit_envelope_t *e, const char *ch, const void *in, size_t n, void *pt, size_t cap,
                        size_t *pl, iotkit_err_t want) {
  cr_assert_eq(iotkit_envelope_open(e, ch, in, n, pt, cap, pl), want);
  cr_assert_eq(out_len, 4242);
}

Test(envelope_open, null_handle) {
  uint8_t e[128];
  size_t n = env_seal(env, e, sizeof e);
  expect_open(NULL, "telemetry", e, n, out, sizeof out, &out_len, IOTKIT_ERR_INVALID_ARG);
}
Test(envelope_open, null_channel) {
  uint8_t e[128];
  size_t n = env_seal(env, e, sizeof e);
  expect_open(env, NULL, e, n, out, sizeof out, &out_len, IOTKIT_ERR_INVALID_ARG);
}
Test(envelope_open, empty_channel) {
  uint8_t e[128];
  size_t n = env_seal(env, e, sizeof e);
  expect_open(env, "", e, n, out, sizeof out, &out_len, IOTKIT_ERR_INVALID_ARG);
}
Test(envelope_open, null_input_with_length) {
  expect_open(env, "telemetry", NULL, 40, out, sizeof out, &out_len, IOTKIT_ERR_INVALID_ARG);
}
Test(envelope_open, null_output_with_capacity) {
  uint8_t e[128];
  size_t n = env_seal(env, e, sizeof e);
  expect_open(env, "telemetry", e, n, NULL, sizeof out, &out_len, IOTKIT_ERR_INVALID_ARG);
}
Test(envelope_open, null_output_length) {
  uint8_t e[128];
  size_t n = env_seal(env, e, sizeof e);
  expect_open(env, "telemetry", e, n, out, sizeof out, NULL, IOTKIT_ERR_INVALID_ARG);
}

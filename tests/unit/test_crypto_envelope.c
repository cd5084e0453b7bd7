/* Payload envelopes: round trip, tampering, binding, and every bad argument. */
#include "test_crypto_envelope_util.h"

/* A device handle on a fresh memory HAL and one envelope of ENV_PAYLOAD. */
typedef struct fixture {
  iotkit_hal_t *hal;
  iotkit_envelope_t *env;
  uint8_t e[128];
  size_t n;
} fixture_t;

static fixture_t fx;

static void setup(void) {
  fx.hal = env_hal();
  iotkit_envelope_config_t c;
  env_config(&c, fx.hal);
  fx.env = env_make(&c);
  fx.n = env_seal(fx.env, fx.e, sizeof fx.e);
}

static void teardown(void) {
  iotkit_envelope_free(fx.env);
  iotkit_hal_free(fx.hal);
}

/* Open e[0..n) with env on channel: expect rc; on failure the payload-sized output stays zero. */
static void expect_open(const iotkit_envelope_t *env, const char *channel, const uint8_t *e, size_t n,
                        iotkit_err_t want) {
  char pt[128];
  memset(pt, 0x5A, sizeof pt);
  size_t len = 777;
  cr_assert_eq(iotkit_envelope_open(env, channel, e, n, pt, sizeof pt, &len), want, "got %s, expected %s",
               iotkit_err_name(iotkit_envelope_open(env, channel, e, n, pt, sizeof pt, &len)), iotkit_err_name(want));
  if (want == IOTKIT_OK) {
    cr_assert_eq(len, strlen(ENV_PAYLOAD));
    cr_assert(memcmp(pt, ENV_PAYLOAD, len) == 0);
    return;
  }
  cr_assert_eq(len, 777, "length written on failure");
  if (want == IOTKIT_ERR_CRYPTO_AUTH) {
    size_t body = n - IOTKIT_ENVELOPE_OVERHEAD(2);
    for (size_t i = 0; i < body; i++) cr_assert_eq(pt[i], 0, "plaintext byte %zu released", i);
  }
}

TestSuite(envelope, .init = setup, .fini = teardown);

Test(envelope, seal_then_open_gives_the_payload) { expect_open(fx.env, "telemetry", fx.e, fx.n, IOTKIT_OK); }

Test(envelope, layout_is_version_kid_nonce_ciphertext_tag) {
  cr_assert_eq(fx.e[0], IOTKIT_ENVELOPE_V1);
  cr_assert_eq(fx.e[1], 2);
  cr_assert(memcmp(fx.e + 2, "k1", 2) == 0);
  cr_assert_eq(env_sender(fx.e), 0);
  cr_assert_eq(env_counter(fx.e), 0);
  for (size_t i = 0; i + 11 <= fx.n; i++)
    cr_assert(memcmp(fx.e + i, "temperature", 11) != 0, "plaintext visible in the envelope");
}

Test(envelope, every_flipped_ciphertext_byte_is_refused) {
  for (size_t i = 16; i < fx.n - 16; i++) {
    fx.e[i] ^= 0x01;
    expect_open(fx.env, "telemetry", fx.e, fx.n, IOTKIT_ERR_CRYPTO_AUTH);
    fx.e[i] ^= 0x01;
  }
}

Test(envelope, every_flipped_tag_byte_is_refused) {
  for (size_t i = fx.n - 16; i < fx.n; i++) {
    fx.e[i] ^= 0x80;
    expect_open(fx.env, "telemetry", fx.e, fx.n, IOTKIT_ERR_CRYPTO_AUTH);
    fx.e[i] ^= 0x80;
  }
}

Test(envelope, every_flipped_nonce_byte_is_refused) {
  for (size_t i = 4; i < 16; i++) {
    fx.e[i] ^= 0x01;
    expect_open(fx.env, "telemetry", fx.e, fx.n, IOTKIT_ERR_CRYPTO_AUTH);
    fx.e[i] ^= 0x01;
  }
}

Test(envelope, edited_key_id_is_refused) {
  fx.e[3] = '2';
  expect_open(fx.env, "telemetry", fx.e, fx.n, IOTKIT_ERR_CRYPTO_AUTH);
}

/* The key id is in the associated data: an opener holding the same key under the edited id refuses it too. */
Test(envelope, edited_key_id_is_refused_by_a_handle_of_that_id_with_the_same_key) {
  iotkit_envelope_config_t c;
  env_config(&c, NULL);
  c.key_id = "k2";
  iotkit_envelope_t *k2 = env_make(&c);
  fx.e[3] = '2';
  expect_open(k2, "telemetry", fx.e, fx.n, IOTKIT_ERR_CRYPTO_AUTH);
  iotkit_envelope_free(k2);
}

Test(envelope, truncated_tag_is_refused) { expect_open(fx.env, "telemetry", fx.e, fx.n - 1, IOTKIT_ERR_CRYPTO_AUTH); }

Test(envelope, another_channel_is_refused) { expect_open(fx.env, "state/reported", fx.e, fx.n, IOTKIT_ERR_CRYPTO_AUTH); }

Test(envelope, another_device_id_is_refused) {
  iotkit_envelope_config_t c;
  env_config(&c, NULL);
  c.device_id = "dev-b";
  iotkit_envelope_t *b = env_make(&c);
  expect_open(b, "telemetry", fx.e, fx.n, IOTKIT_ERR_CRYPTO_AUTH);
  iotkit_envelope_free(b);
}

Test(envelope, another_key_is_refused) {
  uint8_t other[32];
  memcpy(other, ENV_KEY, 32);
  other[31] ^= 1;
  iotkit_envelope_config_t c;
  env_config(&c, NULL);
  c.key = other;
  iotkit_envelope_t *o = env_make(&c);
  expect_open(o, "telemetry", fx.e, fx.n, IOTKIT_ERR_CRYPTO_AUTH);
  iotkit_envelope_free(o);
}

Test(envelope, open_only_handle_without_hal_opens) {
  iotkit_envelope_config_t c;
  env_config(&c, NULL);
  iotkit_envelope_t *o = env_make(&c);
  expect_open(o, "telemetry", fx.e, fx.n, IOTKIT_OK);
  iotkit_envelope_free(o);
}

Test(envelope, other_version_byte_is_bad_encoding) {
  fx.e[0] = 0xE2;
  expect_open(fx.env, "telemetry", fx.e, fx.n, IOTKIT_ERR_BAD_ENCODING);
}

Test(envelope, zero_key_id_length_is_bad_encoding) {
  fx.e[1] = 0;
  expect_open(fx.env, "telemetry", fx.e, fx.n, IOTKIT_ERR_BAD_ENCODING);
}

Test(envelope, key_id_length_over_32_is_bad_encoding) {
  fx.e[1] = 33;
  expect_open(fx.env, "telemetry", fx.e, fx.n, IOTKIT_ERR_BAD_ENCODING);
}

Test(envelope, shorter_than_the_overhead_is_bad_encoding) {
  expect_open(fx.env, "telemetry", fx.e, IOTKIT_ENVELOPE_OVERHEAD(2) - 1, IOTKIT_ERR_BAD_ENCODING);
}

Test(envelope, empty_input_is_bad_encoding) { expect_open(fx.env, "telemetry", fx.e, 0, IOTKIT_ERR_BAD_ENCODING); }

Test(envelope, empty_payload_round_trips) {
  uint8_t e[64];
  size_t n = 0, len = 9;
  cr_assert_eq(iotkit_envelope_seal(fx.env, "status", NULL, 0, e, sizeof e, &n), IOTKIT_OK);
  cr_assert_eq(n, IOTKIT_ENVELOPE_OVERHEAD(2));
  cr_assert_eq(iotkit_envelope_open(fx.env, "status", e, n, NULL, 0, &len), IOTKIT_OK);
  cr_assert_eq(len, 0);
}

Test(envelope, open_into_a_small_buffer_says_the_size) {
  char pt[4];
  size_t len = 0;
  cr_assert_eq(iotkit_envelope_open(fx.env, "telemetry", fx.e, fx.n, pt, sizeof pt, &len),
               IOTKIT_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(len, strlen(ENV_PAYLOAD));
}

Test(envelope, seal_into_a_small_buffer_says_the_size_and_uses_no_nonce) {
  uint8_t e[128];
  size_t n = 0;
  cr_assert_eq(iotkit_envelope_seal(fx.env, "telemetry", ENV_PAYLOAD, strlen(ENV_PAYLOAD), e, 10, &n),
               IOTKIT_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(n, strlen(ENV_PAYLOAD) + IOTKIT_ENVELOPE_OVERHEAD(2));
  env_seal(fx.env, e, sizeof e);
  cr_assert_eq(env_counter(e), 1);
}

Test(envelope, fleet_side_seals_with_sender_1_and_the_device_opens) {
  iotkit_hal_t *fleet_hal = env_hal();
  iotkit_envelope_config_t c;
  env_config(&c, fleet_hal);
  c.sender = 1;
  iotkit_envelope_t *fleet = env_make(&c);
  uint8_t e[128];
  size_t n = env_seal(fleet, e, sizeof e);
  cr_assert_eq(env_sender(e), 1);
  cr_assert_eq(env_counter(e), 0);
  cr_assert(memcmp(e + 4, fx.e + 4, 12) != 0, "same nonce as the device's");
  expect_open(fx.env, "telemetry", e, n, IOTKIT_OK);
  iotkit_envelope_free(fleet);
  iotkit_hal_free(fleet_hal);
}

Test(envelope, peek_key_id) {
  char kid[IOTKIT_ENVELOPE_MAX_KID + 1];
  cr_assert_eq(iotkit_envelope_peek_key_id(fx.e, fx.n, kid, sizeof kid), IOTKIT_OK);
  cr_assert_str_eq(kid, "k1");
}

Test(envelope, peek_key_id_small_buffer) {
  char kid[2] = "x";
  cr_assert_eq(iotkit_envelope_peek_key_id(fx.e, fx.n, kid, sizeof kid), IOTKIT_ERR_BUFFER_TOO_SMALL);
  cr_assert_str_eq(kid, "x");
}

Test(envelope, peek_key_id_of_unsafe_bytes_is_bad_encoding) {
  char kid[8];
  fx.e[2] = '/';
  cr_assert_eq(iotkit_envelope_peek_key_id(fx.e, fx.n, kid, sizeof kid), IOTKIT_ERR_BAD_ENCODING);
}

Test(envelope, peek_key_id_of_another_version_is_bad_encoding) {
  char kid[8];
  fx.e[0] = '{';
  cr_assert_eq(iotkit_envelope_peek_key_id(fx.e, fx.n, kid, sizeof kid), IOTKIT_ERR_BAD_ENCODING);
}

Test(envelope, peek_key_id_null) {
  char kid[8];
  cr_assert_eq(iotkit_envelope_peek_key_id(NULL, fx.n, kid, sizeof kid), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_envelope_peek_key_id(fx.e, fx.n, NULL, sizeof kid), IOTKIT_ERR_INVALID_ARG);
}

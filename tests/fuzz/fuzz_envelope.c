/* Payload envelopes (lib/crypto/envelope.c): the key id peeked, then the
   envelope opened for one of the device's channels with a fixed key (the
   seed corpus holds envelopes sealed with it by fuzz_seeds). */
#include "fuzz_seed_keys.h"
#include "fuzz_util.h"

static iotkit_hal_t *g_hal;
static iotkit_envelope_t *g_env;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  iotkit_hal_memory_config_t mc;
  iotkit_hal_memory_config_init(&mc);
  FUZZ_CHECK(iotkit_hal_memory_new(&mc, &g_hal) == IOTKIT_OK);
  g_env = fuzz_envelope_new(g_hal);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const channels[] = {"commands/request", "state/desired", "telemetry", ""};
  const char *channel = channels[fuzz_take_byte(&data, &size) % 4];
  char kid[IOTKIT_ENVELOPE_MAX_KID + 1];
  if (iotkit_envelope_peek_key_id(data, size, kid, sizeof kid) == IOTKIT_OK) FUZZ_CHECK(strlen(kid) <= IOTKIT_ENVELOPE_MAX_KID);
  size_t cap = size;
  uint8_t *pt = malloc(cap ? cap : 1);
  FUZZ_CHECK(pt != NULL);
  size_t pt_len = 0;
  if (iotkit_envelope_open(g_env, channel, data, size, pt, cap, &pt_len) == IOTKIT_OK) FUZZ_CHECK(pt_len <= cap);
  free(pt);
  return 0;
}

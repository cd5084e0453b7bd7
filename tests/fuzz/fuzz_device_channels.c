/* The device's handling of every incoming channel (lib/device): a fresh device
   "sensor-1" on the capture transport of tests/support (memory HAL, manual
   clock), with command handlers, a desired-state callback, an application
   subscription ("app/#") and an OTA client attached, is given a sequence of
   messages, each
     [channel selector: 1 byte][length: 1 byte][payload: length bytes]
   on state/desired, commands/request, ota/manifest, app/<x>, or an arbitrary
   topic (the selector picks; the first selector's top bit turns end-to-end
   envelopes on, which every message must then be, as fuzz_seeds seals them). */
#include "capture_transport.h"
#include "fuzz_keys.h"
#include "fuzz_seed_keys.h"
#include "fuzz_util.h"

static iotkit_ota_trust_t *g_trust;
static iotkit_transport_registry_t *g_reg;

static iotkit_err_t no_fetch(void *ctx, const char *url, uint64_t offset, size_t chunk, iotkit_ota_sink_fn sink,
                             void *sink_ctx) {
  (void)ctx, (void)url, (void)offset, (void)chunk, (void)sink, (void)sink_ctx;
  return IOTKIT_ERR_UNSUPPORTED; /* never the network */
}

static void on_desired(iotkit_device_t *dev, void *user, const char *delta, uint64_t version) {
  (void)dev, (void)user, (void)version;
  FUZZ_CHECK(delta != NULL);
}

static void on_message(iotkit_device_t *dev, void *user, const char *channel, const void *payload, size_t len) {
  (void)dev, (void)user, (void)payload, (void)len;
  FUZZ_CHECK(channel != NULL);
}

static void echo(iotkit_device_t *dev, void *user, const char *id, const char *name, const char *params,
                 iotkit_command_t *cmd) {
  (void)dev, (void)user, (void)id, (void)name;
  (void)iotkit_command_complete(cmd, params);
}

static void refuse(iotkit_device_t *dev, void *user, const char *id, const char *name, const char *params,
                   iotkit_command_t *cmd) {
  (void)dev, (void)user, (void)id, (void)name, (void)params;
  (void)iotkit_command_fail(cmd, "invalid_params", "no");
}

static iotkit_command_t *g_held;
static void hold(iotkit_device_t *dev, void *user, const char *id, const char *name, const char *params,
                 iotkit_command_t *cmd) {
  (void)dev, (void)user, (void)id, (void)name, (void)params;
  if (g_held) (void)iotkit_command_complete(g_held, "1");
  g_held = cmd; /* answered by the next one, or left to the deadline and the device's free */
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  g_trust = fuzz_trust_new();
  g_reg = capture_registry();
  FUZZ_CHECK(g_reg != NULL);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const suffixes[] = {"state/desired", "commands/request", "ota/manifest", "app/x", "app/a/b"};
  capture_reset();
  g_held = NULL;
  bool e2e = size > 0 && (data[0] & 0x80);
  iotkit_hal_t *hal = fuzz_memory_hal();
  static uint8_t key[IOTKIT_AES256GCM_KEY_LEN];
  memset(key, 0x42, sizeof key);
  iotkit_device_config_t cfg;
  iotkit_device_config_init(&cfg);
  cfg.device_id = FUZZ_DEVICE_ID;
  cfg.uri = "cap://local";
  cfg.hal = hal;
  cfg.transports = g_reg;
  if (e2e) {
    cfg.e2e_key = key;
    cfg.e2e_key_id = FUZZ_ENVELOPE_KID;
  }
  iotkit_device_t *dev = NULL;
  FUZZ_CHECK(iotkit_device_new(&cfg, &dev) == IOTKIT_OK);
  FUZZ_CHECK(iotkit_device_command_register(dev, "echo", echo, NULL) == IOTKIT_OK);
  FUZZ_CHECK(iotkit_device_command_register(dev, "refuse", refuse, NULL) == IOTKIT_OK);
  FUZZ_CHECK(iotkit_device_command_register(dev, "hold", hold, NULL) == IOTKIT_OK);
  FUZZ_CHECK(iotkit_device_on_desired(dev, on_desired, NULL) == IOTKIT_OK);
  FUZZ_CHECK(iotkit_device_on_message(dev, on_message, NULL) == IOTKIT_OK);
  const iotkit_ota_fetcher_t fetcher = {.fetch = no_fetch, .ctx = NULL};
  iotkit_ota_t *ota = fuzz_ota_new(hal, g_trust, &fetcher);
  FUZZ_CHECK(iotkit_device_ota_attach(dev, ota) == IOTKIT_OK);
  FUZZ_CHECK(iotkit_device_connect(dev) == IOTKIT_OK);
  for (int i = 0; i < 3; i++) (void)iotkit_device_poll(dev, 0);
  FUZZ_CHECK(iotkit_device_subscribe(dev, "app/#", 1) == IOTKIT_OK);

  for (int n = 0; n < 16 && size >= 3; n++) {
    unsigned sel = data[0] & 0x7f, len = (unsigned)data[1] | (unsigned)data[2] << 8;
    data += 3, size -= 3;
    if (len > size) len = (unsigned)size;
    char topic[300];
    if (sel % 6 < 5) {
      snprintf(topic, sizeof topic, "iotkit/v1/" FUZZ_DEVICE_ID "/%s", suffixes[sel % 6]);
    } else { /* the topic is the payload's first line, the rest the payload */
      const uint8_t *nl = memchr(data, '\n', len);
      size_t tl = nl ? (size_t)(nl - data) : len;
      snprintf(topic, sizeof topic, "%.*s", (int)(tl < 299 ? tl : 299), (const char *)data);
      data += nl ? tl + 1 : tl, size -= nl ? tl + 1 : tl, len -= (unsigned)(nl ? tl + 1 : tl);
    }
    capture_inject(topic, data, len);
    data += len, size -= len;
    (void)iotkit_device_poll(dev, 0);
    if (sel & 0x40) (void)iotkit_hal_memory_advance(hal, 10000); /* deadlines, backoffs */
  }
  for (int i = 0; i < 3; i++) (void)iotkit_device_poll(dev, 0);
  iotkit_device_free(dev);
  iotkit_ota_free(ota);
  iotkit_hal_free(hal);
  capture_reset();
  return 0;
}

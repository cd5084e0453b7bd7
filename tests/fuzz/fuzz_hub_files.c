/* The hub's file parsers (tools/iotkit-hub/auth.c, config.c): the input is
   written as a key file ("device-id hexkey" lines: the DTLS PSKs and HTTP
   tokens) or as a configuration file ("key = value" lines), as the first byte
   says, and loaded; a loaded key file's tokens are then looked up. */
#include <unistd.h>

#include "fuzz_util.h"
#include "hub.h"

static char g_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  hub_log_set_level(HUB_LOG_ERROR);
  snprintf(g_path, sizeof g_path, "/tmp/iotkit-fuzz-hubfile-XXXXXX");
  int fd = mkstemp(g_path);
  FUZZ_CHECK(fd >= 0);
  close(fd);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  unsigned which = fuzz_take_byte(&data, &size);
  FILE *f = fopen(g_path, "wb");
  FUZZ_CHECK(f != NULL);
  FUZZ_CHECK(fwrite(data, 1, size, f) == size);
  fclose(f);
  hub_t hub;
  memset(&hub, 0, sizeof hub);
  hub_config_init(&hub.cfg);
  if (which & 1) {
    if (hub_config_load(&hub.cfg, g_path)) (void)hub_config_check(&hub.cfg);
  } else if (hub_auth_load(&hub, g_path)) {
    for (hub_device_t *d = hub.devices; d; d = d->next) {
      FUZZ_CHECK(hub_id_valid(d->id, strlen(d->id)));
      FUZZ_CHECK(d->key_len >= 1 && d->key_len <= sizeof d->key);
      char token[2 * sizeof d->key + 1];
      for (size_t i = 0; i < d->key_len; i++) snprintf(token + 2 * i, 3, "%02x", d->key[i]);
      hub_device_t *found = hub_auth_token_device(&hub, token);
      FUZZ_CHECK(found != NULL && found->key_len == d->key_len);
    }
    char *token = fuzz_strndup(data, size < 200 ? size : 200);
    (void)hub_auth_token_device(&hub, token);
    free(token);
  }
  hub_devices_free(&hub);
  hub_config_clear(&hub.cfg);
  return 0;
}

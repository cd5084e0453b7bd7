/* The hub's HTTP request handling (tools/iotkit-hub/http_front.c
   hub_http_check(), channels.c, auth.c): method, path, Authorization and
   Content-Type headers and body, one per line up to the body:
     METHOD SP PATH LF AUTHORIZATION LF CONTENT-TYPE LF BODY
   are checked as the front checks a request libmicrohttpd has read, against a
   hub whose key file lists "sensor-1" (key 00112233..., the token in its hex)
   and "dev-2". The first byte of the body-length limit decides whether the
   body counts as too large. */
#include <unistd.h>

#include "fuzz_util.h"
#include "hub_http.h"

static hub_t g_hub;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  hub_log_set_level(HUB_LOG_ERROR);
  hub_config_init(&g_hub.cfg);
  FUZZ_CHECK(hub_config_set(&g_hub.cfg, "topic_prefix", IOTKIT_TOPIC_PREFIX_DEFAULT));
  g_hub.cfg.max_payload = 512;
  char path[] = "/tmp/iotkit-fuzz-keys-XXXXXX";
  int fd = mkstemp(path);
  FUZZ_CHECK(fd >= 0);
  static const char keys[] = "# fuzz\nsensor-1 00112233445566778899aabbccddeeff\ndev-2 0102\n";
  FUZZ_CHECK(write(fd, keys, sizeof keys - 1) == (ssize_t)(sizeof keys - 1));
  close(fd);
  FUZZ_CHECK(hub_auth_load(&g_hub, path));
  unlink(path);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *method = fuzz_take_until(&data, &size, ' ');
  char *url = fuzz_take_until(&data, &size, '\n');
  char *auth = fuzz_take_until(&data, &size, '\n');
  char *type = fuzz_take_until(&data, &size, '\n');
  char *body = fuzz_strndup(data, size);
  hub_http_request_t rq = {
      .method = method,
      .url = url,
      .authorization = auth[0] ? auth : NULL,
      .content_type = type[0] ? type : NULL,
      .body = body,
      .len = size,
      .too_large = size > g_hub.cfg.max_payload,
  };
  hub_http_check_t c;
  hub_http_check(&g_hub, &rq, &c);
  FUZZ_CHECK(c.status == 0 || c.status == 200 || (c.status >= 400 && c.status < 500));
  if (c.status == 0) FUZZ_CHECK(c.who != NULL && c.name != NULL && (c.get || c.rule != NULL));
  free(body);
  free(type);
  free(auth);
  free(url);
  free(method);
  return 0;
}

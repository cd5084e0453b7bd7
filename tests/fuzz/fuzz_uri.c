/* URI parsing (lib/transport/uri.c), as given by a configuration or an OTA
   manifest's image URL; and the default port of whatever scheme it had. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_strndup(data, size);
  iotkit_uri_t u;
  memset(&u, 0, sizeof u);
  if (iotkit_uri_parse(text, &u) == IOTKIT_OK) {
    FUZZ_CHECK(u.host != NULL && u.path != NULL);
    FUZZ_CHECK(strlen(u.scheme) <= IOTKIT_URI_SCHEME_MAX);
    (void)iotkit_uri_default_port(u.scheme);
    iotkit_uri_clear(&u);
  }
  free(text);
  return 0;
}

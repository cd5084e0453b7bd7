/* A tiny consumer of the installed libiotkit: built with pkg-config and with find_package. */
#include <stdio.h>
#include <string.h>

#include <iotkit/iotkit.h>

int main(void) {
  iotkit_uri_t uri;
  iotkit_err_t rc = iotkit_uri_parse("mqtt://127.0.0.1", &uri);
  if (rc != IOTKIT_OK || uri.port != 1883) {
    fprintf(stderr, "consumer: uri parse failed: %s\n", iotkit_strerror(rc));
    return 1;
  }
  iotkit_uri_clear(&uri);
  if (iotkit_uri_parse("nonsense", &uri) != IOTKIT_ERR_BAD_URI) return 1;
  printf("consumer ok: libiotkit %s, %s\n", iotkit_version(), iotkit_err_name(IOTKIT_ERR_TIMEOUT));
  return strcmp(iotkit_version(), "") == 0;
}

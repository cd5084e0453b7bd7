/* Telemetry decoders (lib/telemetry): libiotkit's JSON, SenML JSON and SenML
   CBOR (RFC 8428), as the fleet and the hub receive them from devices. The
   first byte picks the format; a decoded batch is encoded again in every
   format and the re-encoding decoded, which must succeed. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  iotkit_telemetry_format_t fmt = (iotkit_telemetry_format_t)(fuzz_take_byte(&data, &size) % 3);
  iotkit_telemetry_batch_t *b = NULL;
  iotkit_err_t rc = iotkit_telemetry_decode(fmt, data, size, &b);
  if (rc != IOTKIT_OK) {
    FUZZ_CHECK(b == NULL);
    FUZZ_CHECK(iotkit_err_name(rc) != NULL);
    return 0;
  }
  FUZZ_CHECK(b != NULL);
  for (int f = 0; f < 3; f++) {
    uint8_t *buf = NULL;
    size_t len = 0;
    if (iotkit_telemetry_encode(b, (iotkit_telemetry_format_t)f, &buf, &len) != IOTKIT_OK) continue;
    iotkit_telemetry_batch_t *again = NULL;
    iotkit_err_t rc2 = iotkit_telemetry_decode((iotkit_telemetry_format_t)f, buf, len, &again);
    if (rc2 != IOTKIT_OK) {
      fprintf(stderr, "re-decoding the %s encoding failed: %s\n", iotkit_telemetry_format_name(f), iotkit_err_name(rc2));
      FUZZ_CHECK(rc2 == IOTKIT_OK);
    }
    iotkit_telemetry_batch_free(again);
    iotkit_free(buf);
  }
  iotkit_telemetry_batch_free(b);
  return 0;
}

/* The fleet's readers of what devices publish (lib/fleet/ingest.c,
   ingest_data.c, presence.c): one fleet (in-memory registry, auto-registration
   on, location and telemetry history kept) takes a sequence of messages, each
     [selector: 1 byte][length: 2 bytes LE][payload]
   on status, telemetry (with or without a media type), state/reported,
   events/<type>, location or an arbitrary topic of four devices; the
   selector's top bits pick the device and mark the message retained. */
#include "fleet/fleet_internal.h"
#include "fuzz_util.h"

static iotkit_hal_t *g_hal;
static iotkit_fleet_t *g_fleet;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  g_hal = fuzz_memory_hal();
  iotkit_fleet_config_t c;
  iotkit_fleet_config_init(&c);
  c.db_path = ":memory:";
  c.hal = g_hal;
  c.auto_register = true;
  c.history_max_points = 8;
  FUZZ_CHECK(iotkit_fleet_new(&c, &g_fleet) == IOTKIT_OK);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const channels[] = {"status",  "telemetry", "telemetry", "telemetry", "telemetry",
                                         "state/reported", "events/alarm", "location"};
  static const char *const types[] = {NULL, "application/json", "application/senml+json", "application/senml+cbor",
                                      "text/plain"};
  for (int n = 0; n < 8 && size >= 3; n++) {
    unsigned sel = data[0];
    size_t len = (size_t)data[1] | (size_t)data[2] << 8;
    data += 3, size -= 3;
    if (len > size) len = size;
    char topic[300];
    const uint8_t *payload = data;
    size_t plen = len;
    if ((sel & 7) == 7 && (sel & 8)) { /* the topic is the payload's first line */
      const uint8_t *nl = memchr(data, '\n', len);
      size_t tl = nl ? (size_t)(nl - data) : len;
      snprintf(topic, sizeof topic, "%.*s", (int)(tl < 299 ? tl : 299), (const char *)data);
      payload += nl ? tl + 1 : tl, plen -= nl ? tl + 1 : tl;
    } else {
      snprintf(topic, sizeof topic, "iotkit/v1/dev-%u/%s", sel >> 6, channels[sel & 7]);
    }
    iotkit_transport_msg_t m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    m.channel = topic;
    m.payload = plen ? payload : NULL;
    m.len = plen;
    m.qos = 1;
    m.retain = (sel & 0x20) != 0;
    m.props.content_type = (sel & 7) >= 1 && (sel & 7) <= 4 ? types[sel & 7] : NULL;
    if ((sel & 7) == 1 && (sel & 8)) m.props.content_type = NULL;
    iotkit__fleet_message(g_fleet, &m);
    data += len, size -= len;
    (void)iotkit_hal_memory_advance(g_hal, 1000);
  }
  return 0;
}

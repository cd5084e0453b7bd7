/* iotkit ota push: publish a manifest (retained) on a device's ota/manifest and
   follow its ota/status reports with a progress bar until the update ends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define SLICE_MS 100
#define BAR_WIDTH 30
#define CHANNEL_MAX 512 /* "<prefix>/<device id>/ota/manifest": --prefix is at most 256 bytes, the id 128 */
#define PREFIX_MAX 256

typedef struct push {
  bool connected, down, published, acked;
  iotkit_err_t down_reason;
  const char *version; /* the manifest's */
  char status_channel[CHANNEL_MAX];
  int result; /* -1 while going on, else the exit code */
  bool tty;
  int last_percent;
  char last_state[32];
} push_t;

static void ev_connected(void *user) { ((push_t *)user)->connected = true; }

static void ev_disconnected(void *user, iotkit_err_t reason, const char *detail) {
  push_t *p = user;
  p->down = true;
  p->down_reason = reason;
  if (reason != IOTKIT_OK) fprintf(stderr, "iotkit: ota push: connection lost: %s\n", detail ? detail : "");
}

static void ev_delivery(void *user, uint32_t id, iotkit_err_t status) {
  (void)id;
  push_t *p = user;
  if (status == IOTKIT_OK) p->acked = true;
}

static void draw(push_t *p, const char *state, double bytes, double total, int percent) {
  char bar[BAR_WIDTH + 1];
  int fill = percent * BAR_WIDTH / 100;
  for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < fill ? '#' : '.';
  bar[BAR_WIDTH] = '\0';
  printf("%s%-12s [%s] %3d%% %.0f/%.0f bytes%s", p->tty ? "\r" : "", state, bar, percent, bytes, total,
         p->tty ? "" : "\n");
  fflush(stdout);
}

static void ev_message(void *user, const char *channel, const void *payload, size_t len) {
  push_t *p = user;
  if (p->result >= 0 || strcmp(channel, p->status_channel) != 0) return;
  iotkit_ota_report_t r;
  if (iotkit_protocol_ota_status_parse(payload, len, &r) != IOTKIT_OK) return;
  /* Reports of another update are not this one's; a manifest refused unparsed has no target. */
  bool ours = r.target_version ? strcmp(r.target_version, p->version) == 0 : strcmp(r.state, "failed") == 0;
  if (ours) {
    int pc = (int)r.percent;
    if (pc != p->last_percent || strcmp(r.state, p->last_state) != 0)
      draw(p, r.state, (double)r.bytes, (double)r.total, pc);
    p->last_percent = pc;
    snprintf(p->last_state, sizeof p->last_state, "%s", r.state);
    if (strcmp(r.state, "confirmed") == 0) {
      printf("%supdate to %s confirmed by the device\n", p->tty ? "\n" : "", p->version);
      p->result = CLI_EXIT_OK;
    } else if (strcmp(r.state, "failed") == 0 || strcmp(r.state, "rolled_back") == 0) {
      printf("%supdate to %s %s: %s (%s)\n", p->tty ? "\n" : "", p->version,
             strcmp(r.state, "failed") == 0 ? "failed" : "rolled back", r.reason ? r.reason : "no reason given",
             r.error ? r.error : "-");
      p->result = CLI_EXIT_UPDATE;
    }
  }
  iotkit_protocol_ota_status_clear(&r);
}

static iotkit_err_t make_hal(iotkit_hal_t **out) {
  iotkit_hal_memory_config_t mc;
  iotkit_hal_memory_config_init(&mc);
  mc.seed = (uint64_t)getpid();
  mc.log_level = IOTKIT_LOG_WARN;
  return iotkit_hal_memory_new(&mc, out);
}

/* Poll until @p done or @p ms pass; false on timeout or a lost connection. */
static bool pump(const iotkit_transport_ops_t *ops, void *t, const iotkit_hal_t *hal, push_t *p, uint64_t ms,
                 bool (*done)(const push_t *)) {
  uint64_t end = hal->monotonic_ms(hal->ctx) + ms;
  while (!done(p) && !p->down && !cli_stop_requested() && hal->monotonic_ms(hal->ctx) < end) ops->poll(t, SLICE_MS);
  return done(p);
}

static bool is_connected(const push_t *p) { return p->connected; }
static bool is_acked(const push_t *p) { return p->acked; }
static bool is_over(const push_t *p) { return p->result >= 0; }
static bool is_down(const push_t *p) { return p->down; }

static int run(push_t *p, const char *uri_text, const char *prefix, const char *id, const char *manifest, size_t len,
               unsigned long timeout) {
  iotkit_uri_t uri;
  memset(&uri, 0, sizeof uri);
  if (iotkit_uri_parse(uri_text, &uri) != IOTKIT_OK) return cli_usage_error("ota push: bad --uri '%s'", uri_text);
  iotkit_hal_t *hal = NULL;
  if (make_hal(&hal) != IOTKIT_OK) {
    iotkit_uri_clear(&uri);
    return cli_usage_error("ota push: cannot set up a HAL");
  }
  char client_id[64];
  snprintf(client_id, sizeof client_id, "iotkit-ota-push-%ld", (long)getpid());
  char manifest_channel[CHANNEL_MAX];
  (void)iotkit_protocol_topic(prefix, id, iotkit_channel_name(IOTKIT_CHANNEL_OTA_MANIFEST), manifest_channel,
                              sizeof manifest_channel); /* checked in cmd_ota_push() */
  iotkit_transport_config_t tc;
  iotkit_transport_config_init(&tc);
  tc.uri = &uri;
  tc.hal = hal;
  tc.client_id = client_id;
  tc.username = uri.user;
  tc.password = uri.password;
  tc.keepalive_s = 30;
  tc.connect_timeout_ms = 10000;
  iotkit_transport_events_t ev = {
      .user = p, .connected = ev_connected, .disconnected = ev_disconnected, .message = ev_message, .delivery = ev_delivery};
  const iotkit_transport_ops_t *ops = iotkit_transport_mqtt();
  void *t = NULL;
  int code = CLI_EXIT_CONNECT;
  iotkit_err_t rc = ops->create(&tc, &ev, &t);
  if (rc == IOTKIT_OK) rc = ops->connect(t);
  if (rc != IOTKIT_OK || !pump(ops, t, hal, p, 10000, is_connected)) {
    fprintf(stderr, "iotkit: ota push: cannot connect to %s: %s\n", uri_text,
            t && ops->last_error(t) ? ops->last_error(t) : iotkit_strerror(rc ? rc : IOTKIT_ERR_CONNECT));
    goto out;
  }
  code = CLI_EXIT_DELIVERY;
  /* The broker handles the subscription before the publish that follows it on the same connection. */
  iotkit_message_t msg = {.channel = manifest_channel, .payload = manifest, .len = len, .qos = 1, .retain = true};
  uint32_t msg_id = 0;
  if (ops->subscribe(t, p->status_channel, 1) != IOTKIT_OK || ops->send(t, &msg, &msg_id) != IOTKIT_OK ||
      !pump(ops, t, hal, p, 10000, is_acked)) {
    fprintf(stderr, "iotkit: ota push: the manifest was not delivered to the broker\n");
    goto out;
  }
  printf("manifest %s published (retained) on %s; following %s\n", p->version, manifest_channel, p->status_channel);
  fflush(stdout);
  if (!pump(ops, t, hal, p, (uint64_t)timeout * 1000u, is_over)) {
    fprintf(stderr, "\niotkit: ota push: no final status from %s within %lu s (last: %s)\n", id, timeout,
            *p->last_state ? p->last_state : "none");
    goto out;
  }
  code = p->result;
  ops->disconnect(t);
  pump(ops, t, hal, p, 1000, is_down); /* let the DISCONNECT go out */
out:
  if (t) ops->destroy(t);
  iotkit_hal_free(hal);
  iotkit_uri_clear(&uri);
  return code;
}

int cmd_ota_push(int argc, char **argv) {
  const char *uri = NULL, *id = NULL, *timeout_text = "600", *prefix = IOTKIT_TOPIC_PREFIX_DEFAULT;
  const cli_opt_t opts[] = {
      {"uri", &uri, NULL}, {"id", &id, NULL}, {"timeout", &timeout_text, NULL}, {"prefix", &prefix, NULL}};
  const char *pos[1];
  size_t npos = 0;
  if (cli_parse_positional(argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1, &npos) != CLI_EXIT_OK)
    return CLI_EXIT_USAGE;
  unsigned long timeout = 0;
  if (!uri || !id || npos != 1) return cli_usage_error("ota push: --uri, --id and the MANIFEST are required");
  if (!iotkit_protocol_device_id_valid(id))
    return cli_usage_error("ota push: --id wants a device id (1..128 of [A-Za-z0-9._-])");
  if (!iotkit_protocol_prefix_valid(prefix) || strlen(prefix) > PREFIX_MAX)
    return cli_usage_error("ota push: --prefix wants a channel prefix such as %s ('/'-separated, no wildcards)",
                           IOTKIT_TOPIC_PREFIX_DEFAULT);
  if (!cli_parse_num("timeout", timeout_text, 1, 86400, &timeout)) return CLI_EXIT_USAGE;
  size_t len = 0;
  char *text = cli_read_manifest(pos[0], &len);
  if (!text) return CLI_EXIT_USAGE;
  iotkit_ota_manifest_t *m = NULL;
  iotkit_err_t rc = iotkit_ota_manifest_parse(text, len, &m);
  if (rc != IOTKIT_OK) {
    free(text);
    return cli_crypto_error("ota push: the manifest", rc, CLI_EXIT_USAGE);
  }
  iotkit_ota_image_t img;
  iotkit_ota_manifest_image(m, &img);
  push_t p;
  memset(&p, 0, sizeof p);
  p.result = -1;
  p.last_percent = -1;
  p.version = img.version;
  p.tty = isatty(STDOUT_FILENO);
  (void)iotkit_protocol_topic(prefix, id, iotkit_channel_name(IOTKIT_CHANNEL_OTA_STATUS), p.status_channel,
                              sizeof p.status_channel);
  cli_catch_stop_signals();
  int code = run(&p, uri, prefix, id, text, len, timeout);
  iotkit_ota_manifest_free(m);
  free(text);
  return code;
}

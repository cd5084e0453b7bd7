/* A client of the HTTP backend for the HTTP integration tests (see http_fixture.h). */
#include "http_fixture.h"

#include <criterion/criterion.h>
#include <string.h>

void http_fx_init(http_fx_t *fx) {
  memset(fx, 0, sizeof *fx);
  transport_rec_init(&fx->rec);
  fx->th = test_hal_new();
  cr_assert_not_null(fx->th);
  fx->ops = iotkit_transport_http();
  cr_assert_not_null(fx->ops, "built without HTTP");
}

void http_fx_open(http_fx_t *fx, const char *uri, const http_fx_opts_t *o) {
  static const http_fx_opts_t none = {0};
  if (!o) o = &none;
  cr_assert_eq(iotkit_uri_parse(uri, &fx->uri), IOTKIT_OK, "%s", uri);
  iotkit_transport_config_t cfg;
  iotkit_transport_config_init(&cfg);
  cfg.uri = &fx->uri;
  cfg.hal = test_hal_get(fx->th);
  cfg.client_id = "dev-1";
  cfg.username = o->user;
  cfg.password = o->password;
  cfg.keepalive_s = 30;
  cfg.connect_timeout_ms = 5000;
  cfg.max_payload = o->max_payload;
  cfg.tls = o->tls;
  cfg.tls.verify_peer = !o->verify_off;
  iotkit_transport_events_t ev = o->message_ex ? transport_rec_events_ex(&fx->rec) : transport_rec_events(&fx->rec);
  cr_assert_eq(fx->ops->create(&cfg, &ev, &fx->ctx), IOTKIT_OK);
}

void http_fx_connect(http_fx_t *fx) {
  int before = transport_rec_read(&fx->rec, &fx->rec.connected);
  cr_assert_eq(fx->ops->connect(fx->ctx), IOTKIT_OK, "%s", fx->ops->last_error(fx->ctx));
  cr_assert(http_fx_wait(fx, &fx->rec.connected, before + 1), "no connected event: %s", fx->rec.disc_detail);
}

uint32_t http_fx_send(http_fx_t *fx, const char *channel, const void *payload, size_t len) {
  iotkit_message_t m = {.channel = channel, .payload = payload, .len = len, .qos = 1};
  uint32_t id = 0;
  cr_assert_eq(fx->ops->send(fx->ctx, &m, &id), IOTKIT_OK, "%s", fx->ops->last_error(fx->ctx));
  return id;
}

bool http_fx_wait(http_fx_t *fx, const int *counter, int want) {
  return transport_rec_wait(&fx->rec, fx->ops, fx->ctx, counter, want, 15000);
}

void http_fx_fini(http_fx_t *fx) {
  if (fx->ops && fx->ctx) fx->ops->destroy(fx->ctx);
  fx->ctx = NULL;
  iotkit_uri_clear(&fx->uri);
  test_hal_free(fx->th);
  fx->th = NULL;
}

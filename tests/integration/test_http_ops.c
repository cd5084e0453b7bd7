// requires: http
/* The HTTP backend's operations added with the size-versioned ops table, against
   the scripted libmicrohttpd server: unsubscribe stops the long-poll, message_ex
   says QoS 0 and no retain, and an external loop on fd() and timeout_ms() alone
   gets messages and confirmations. */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "http_fixture.h"
#include "http_script_server.h"
#include "net_util.h"

static http_script_t *srv;
static http_fx_t fx;

static void setup(void) {
  http_fx_init(&fx);
  srv = http_script_start();
  cr_assert_not_null(srv);
}

static void teardown(void) {
  http_fx_fini(&fx);
  http_script_free(srv);
}

static void open_ex(void) {
  char uri[256];
  snprintf(uri, sizeof uri, "%s/api?backoff_ms=20&poll_ms=50", http_script_url(srv));
  http_fx_open(&fx, uri, &(http_fx_opts_t){.message_ex = true});
  http_fx_connect(&fx);
}

static void push(const char *path, http_script_reply_t reply) { cr_assert(http_script_push(srv, path, &reply)); }

TestSuite(http_ops, .init = setup, .fini = teardown, .timeout = 60);

Test(http_ops, table_carries_its_size_and_the_new_ops) {
  cr_assert_eq(fx.ops->struct_size, sizeof(iotkit_transport_ops_t));
  cr_assert_not_null(fx.ops->unsubscribe);
  cr_assert_not_null(fx.ops->timeout_ms);
  cr_assert_null(fx.ops->fd_events, "fd() is an epoll set: readability is all it needs");
}

Test(http_ops, message_ex_is_qos_0_not_retained) {
  open_ex();
  push("/api/c", (http_script_reply_t){.status = 200, .body = "m1"});
  cr_assert_eq(fx.ops->subscribe(fx.ctx, "c", 1), IOTKIT_OK);
  cr_assert(http_fx_wait(&fx, &fx.rec.messages, 1));
  cr_assert_eq(fx.rec.ex_messages, 1, "message_ex() instead of message()");
  cr_assert_str_eq(fx.rec.channel, "c");
  cr_assert_eq(fx.rec.len, 2);
  cr_assert_eq(fx.rec.qos, 0);
  cr_assert_not(fx.rec.retain);
}

Test(http_ops, unsubscribe_stops_the_long_poll) {
  open_ex();
  push("/api/c", (http_script_reply_t){.status = 200, .body = "m1"});
  cr_assert_eq(fx.ops->subscribe(fx.ctx, "c", 0), IOTKIT_OK);
  cr_assert(http_fx_wait(&fx, &fx.rec.messages, 1));
  /* The next poll is held for 2 s and would bring m2: cancel it meanwhile. */
  push("/api/c", (http_script_reply_t){.status = 200, .body = "m2", .delay_ms = 2000});
  uint64_t end = test_now_ms() + 10000;
  while (http_script_count(srv, "GET", "/api/c") < 2 && test_now_ms() < end) fx.ops->poll(fx.ctx, 20);
  cr_assert_eq(http_script_count(srv, "GET", "/api/c"), 2);
  cr_assert_eq(fx.ops->unsubscribe(fx.ctx, "c"), IOTKIT_OK);
  /* Another subscription's message proves the loop ran on past m2's answer. */
  push("/api/d", (http_script_reply_t){.status = 200, .body = "d1", .delay_ms = 2500});
  cr_assert_eq(fx.ops->subscribe(fx.ctx, "d", 0), IOTKIT_OK);
  cr_assert(http_fx_wait(&fx, &fx.rec.messages, 2));
  cr_assert_str_eq(fx.rec.channel, "d");
  cr_assert_eq(fx.rec.messages, 2, "nothing came on c after unsubscribe");
  cr_assert_eq(http_script_count(srv, "GET", "/api/c"), 2, "no new long-poll of c");
}

Test(http_ops, unsubscribe_unknown_channel_is_not_found) {
  open_ex();
  cr_assert_eq(fx.ops->subscribe(fx.ctx, "c", 0), IOTKIT_OK);
  cr_assert_eq(fx.ops->unsubscribe(fx.ctx, "other"), IOTKIT_ERR_NOT_FOUND);
  cr_assert(strstr(fx.ops->last_error(fx.ctx), "other"), "%s", fx.ops->last_error(fx.ctx));
  cr_assert_eq(fx.ops->unsubscribe(fx.ctx, "c"), IOTKIT_OK);
  cr_assert_eq(fx.ops->unsubscribe(fx.ctx, "c"), IOTKIT_ERR_NOT_FOUND);
}

Test(http_ops, timeout_ms_is_zero_with_a_send_queued) {
  open_ex();
  fx.ops->poll(fx.ctx, 0);
  http_fx_send(&fx, "t", "x", 1);
  cr_assert_eq(fx.ops->timeout_ms(fx.ctx), 0);
}

/* Wait on fd() for timeout_ms() (capped for the test's own bound), then poll(0). */
static bool external_loop_until(const int *counter, int want) {
  int fd = fx.ops->fd(fx.ctx);
  cr_assert_geq(fd, 0);
  uint64_t end = test_now_ms() + 15000;
  while (transport_rec_read(&fx.rec, counter) < want && test_now_ms() < end) {
    int ms = fx.ops->timeout_ms(fx.ctx);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    poll(&p, 1, ms < 0 || ms > 5000 ? 5000 : ms);
    cr_assert_eq(fx.ops->poll(fx.ctx, 0), IOTKIT_OK);
  }
  return transport_rec_read(&fx.rec, counter) >= want;
}

Test(http_ops, external_loop_gets_a_long_poll_message) {
  open_ex();
  push("/api/c", (http_script_reply_t){.status = 200, .body = "late", .delay_ms = 500});
  cr_assert_eq(fx.ops->subscribe(fx.ctx, "c", 0), IOTKIT_OK);
  cr_assert(external_loop_until(&fx.rec.messages, 1));
  cr_assert_eq(memcmp(fx.rec.payload, "late", 4), 0);
}

Test(http_ops, external_loop_gets_a_confirmation_and_a_retry) {
  open_ex();
  push("/api/t", (http_script_reply_t){.status = 503});
  push("/api/t", (http_script_reply_t){.status = 200});
  uint32_t id = http_fx_send(&fx, "t", "x", 1);
  cr_assert(external_loop_until(&fx.rec.deliveries, 1));
  cr_assert_eq(transport_rec_status(&fx.rec, id), IOTKIT_OK);
  cr_assert_eq(http_script_count(srv, "POST", "/api/t"), 2);
}

/* The HTTP backend against a scripted libmicrohttpd server on 127.0.0.1:
   retries, Retry-After, cut responses, long-polls, ETags. */
#include <criterion/criterion.h>
#include <pthread.h>
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

/* Connect with extra query options (backoff shortened so that tests are quick). */
static void connect_with(const char *query) {
  char uri[256];
  snprintf(uri, sizeof uri, "%s/api?backoff_ms=20&poll_ms=50%s%s", http_script_url(srv), query ? "&" : "",
           query ? query : "");
  http_fx_open(&fx, uri, NULL);
  http_fx_connect(&fx);
}

static void push(const char *path, http_script_reply_t reply) { cr_assert(http_script_push(srv, path, &reply)); }

/* Send once and wait for the delivery; returns its status. */
static int deliver(const char *channel) {
  uint32_t id = http_fx_send(&fx, channel, "{\"v\":1}", 7);
  cr_assert(http_fx_wait(&fx, &fx.rec.deliveries, transport_rec_read(&fx.rec, &fx.rec.deliveries) + 1));
  return transport_rec_status(&fx.rec, id);
}

TestSuite(http_faults, .init = setup, .fini = teardown, .timeout = 60);

Test(http_faults, status_500_then_200_is_delivered_once) {
  connect_with(NULL);
  push("/api/t", (http_script_reply_t){.status = 500});
  push("/api/t", (http_script_reply_t){.status = 200});
  cr_assert_eq(deliver("t"), IOTKIT_OK);
  cr_assert_eq(fx.rec.deliveries, 1, "one delivery for one message");
  cr_assert_eq(http_script_count(srv, "POST", "/api/t"), 2);
  http_script_request_t r;
  cr_assert(http_script_get(srv, 2, &r));
  cr_assert_eq(r.body_len, 7, "the retry carries the whole body again");
  cr_assert_eq(memcmp(r.body, "{\"v\":1}", 7), 0);
}

Test(http_faults, status_429_honours_retry_after) {
  connect_with(NULL);
  push("/api/t", (http_script_reply_t){.status = 429, .header = "Retry-After", .value = "1"});
  push("/api/t", (http_script_reply_t){.status = 200});
  cr_assert_eq(deliver("t"), IOTKIT_OK);
  cr_assert_eq(http_script_count(srv, "POST", "/api/t"), 2);
  /* the retry was scheduled after the server's second, not the 20 ms backoff */
  cr_assert(test_hal_log_contains(fx.th, "answered 429; attempt 2 in 1000 ms"), "Retry-After not honoured");
}

Test(http_faults, status_503_every_time_is_DELIVERY_after_attempts) {
  connect_with("attempts=3");
  for (int i = 0; i < 3; i++) push("/api/t", (http_script_reply_t){.status = 503});
  push("/api/t", (http_script_reply_t){.status = 200}); /* never reached */
  cr_assert_eq(deliver("t"), IOTKIT_ERR_DELIVERY);
  cr_assert_eq(http_script_count(srv, "POST", "/api/t"), 3);
  cr_assert(strstr(fx.ops->last_error(fx.ctx), "503") != NULL, "%s", fx.ops->last_error(fx.ctx));
  cr_assert_eq(transport_rec_read(&fx.rec, &fx.rec.disconnected), 0, "the server answers: the session stays");
}

Test(http_faults, status_404_is_not_retried) {
  connect_with(NULL);
  push("/api/t", (http_script_reply_t){.status = 404});
  cr_assert_eq(deliver("t"), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(http_script_count(srv, "POST", "/api/t"), 1);
}

Test(http_faults, status_413_is_TOO_LARGE) {
  connect_with(NULL);
  push("/api/t", (http_script_reply_t){.status = 413});
  cr_assert_eq(deliver("t"), IOTKIT_ERR_TOO_LARGE);
}

Test(http_faults, response_cut_mid_body_is_retried) {
  connect_with(NULL);
  push("/api/t", (http_script_reply_t){.status = 200, .body = "accepted-accepted-accepted", .cut = true});
  push("/api/t", (http_script_reply_t){.status = 200});
  cr_assert_eq(deliver("t"), IOTKIT_OK);
  cr_assert_eq(http_script_count(srv, "POST", "/api/t"), 2);
}

Test(http_faults, sends_keep_their_order) {
  connect_with(NULL);
  push("/api/t", (http_script_reply_t){.status = 500});
  uint32_t ids[5];
  for (int i = 0; i < 5; i++) {
    char body[2] = {(char)('0' + i), 0};
    ids[i] = http_fx_send(&fx, "t", body, 1);
  }
  cr_assert(http_fx_wait(&fx, &fx.rec.deliveries, 5));
  for (int i = 0; i < 5; i++) cr_assert_eq(fx.rec.ids[i], ids[i]);
  /* the first was tried twice, before any later one */
  const char want[] = "001234";
  cr_assert_eq(http_script_count(srv, "POST", "/api/t"), 6);
  for (size_t i = 1; i <= 6; i++) {
    http_script_request_t r;
    cr_assert(http_script_get(srv, i, &r));
    cr_assert_eq(r.body[0], want[i - 1], "request %zu", i);
  }
}

Test(http_faults, long_poll_receives_message) {
  connect_with("wait=7");
  push("/api/iotkit/v1/dev-1/commands/request",
       (http_script_reply_t){.status = 200, .body = "{\"cmd\":\"reboot\"}", .delay_ms = 300});
  cr_assert_eq(fx.ops->subscribe(fx.ctx, "iotkit/v1/dev-1/commands/request", 1), IOTKIT_OK);
  cr_assert(http_fx_wait(&fx, &fx.rec.messages, 1));
  cr_assert_str_eq(fx.rec.channel, "iotkit/v1/dev-1/commands/request");
  cr_assert_eq(fx.rec.len, 16);
  cr_assert_eq(memcmp(fx.rec.payload, "{\"cmd\":\"reboot\"}", 16), 0);
  http_script_request_t r;
  cr_assert(http_script_get(srv, 1, &r));
  cr_assert_str_eq(r.method, "GET");
  cr_assert_str_eq(r.wait, "7");
}

Test(http_faults, long_poll_empty_answers_then_message) {
  connect_with(NULL);
  const char *path = "/api/c";
  push(path, (http_script_reply_t){.status = 204});
  push(path, (http_script_reply_t){.status = 304});
  push(path, (http_script_reply_t){.status = 200, .body = "m"});
  cr_assert_eq(fx.ops->subscribe(fx.ctx, "c", 0), IOTKIT_OK);
  cr_assert(http_fx_wait(&fx, &fx.rec.messages, 1));
  cr_assert_geq(http_script_count(srv, "GET", path), 3);
  cr_assert_eq(fx.rec.messages, 1, "204 and 304 are no messages");
}

Test(http_faults, long_poll_sends_etag_back) {
  connect_with(NULL);
  push("/api/c", (http_script_reply_t){.status = 200, .body = "v1", .header = "ETag", .value = "\"rev-1\""});
  cr_assert_eq(fx.ops->subscribe(fx.ctx, "c", 0), IOTKIT_OK);
  cr_assert(http_fx_wait(&fx, &fx.rec.messages, 1));
  uint64_t end = test_now_ms() + 10000;
  while (http_script_count(srv, "GET", "/api/c") < 2 && test_now_ms() < end) fx.ops->poll(fx.ctx, 20);
  http_script_request_t first, second;
  cr_assert(http_script_get(srv, 1, &first));
  cr_assert(http_script_get(srv, 2, &second));
  cr_assert_str_eq(first.if_none_match, "");
  cr_assert_str_eq(second.if_none_match, "\"rev-1\"");
}

Test(http_faults, long_poll_cut_mid_body_delivers_nothing_partial) {
  connect_with(NULL);
  push("/api/c", (http_script_reply_t){.status = 200, .body = "partial-message-partial", .cut = true});
  push("/api/c", (http_script_reply_t){.status = 200, .body = "whole"});
  cr_assert_eq(fx.ops->subscribe(fx.ctx, "c", 0), IOTKIT_OK);
  cr_assert(http_fx_wait(&fx, &fx.rec.messages, 1));
  cr_assert_eq(fx.rec.len, 5);
  cr_assert_eq(memcmp(fx.rec.payload, "whole", 5), 0);
}

Test(http_faults, long_poll_unauthorized_ends_session_with_AUTH) {
  connect_with(NULL);
  push("/api/c", (http_script_reply_t){.status = 401});
  cr_assert_eq(fx.ops->subscribe(fx.ctx, "c", 0), IOTKIT_OK);
  cr_assert(http_fx_wait(&fx, &fx.rec.disconnected, 1));
  cr_assert_eq(fx.rec.disc_reason, IOTKIT_ERR_AUTH);
}

Test(http_faults, send_unauthorized_ends_session_with_AUTH) {
  connect_with(NULL);
  push("/api/t", (http_script_reply_t){.status = 401});
  cr_assert_eq(deliver("t"), IOTKIT_ERR_AUTH);
  cr_assert(http_fx_wait(&fx, &fx.rec.disconnected, 1), "a refused token ends the session");
  cr_assert_eq(fx.rec.disc_reason, IOTKIT_ERR_AUTH);
  cr_assert_eq(http_script_count(srv, "POST", "/api/t"), 1, "a 401 is not retried");
}

Test(http_faults, long_poll_message_over_limit_is_dropped) {
  char uri[256];
  snprintf(uri, sizeof uri, "%s/api?poll_ms=50", http_script_url(srv));
  http_fx_open(&fx, uri, &(http_fx_opts_t){.max_payload = 8});
  http_fx_connect(&fx);
  push("/api/c", (http_script_reply_t){.status = 200, .body = "0123456789"});
  push("/api/c", (http_script_reply_t){.status = 200, .body = "01234567"});
  cr_assert_eq(fx.ops->subscribe(fx.ctx, "c", 0), IOTKIT_OK);
  cr_assert(http_fx_wait(&fx, &fx.rec.messages, 1));
  cr_assert_eq(fx.rec.len, 8);
  cr_assert(test_hal_log_contains(fx.th, "exceeds the limit of 8 bytes"));
}

Test(http_faults, poll_returns_while_a_long_poll_is_held) {
  connect_with(NULL);
  push("/api/c", (http_script_reply_t){.status = 200, .body = "late", .delay_ms = 1500});
  cr_assert_eq(fx.ops->subscribe(fx.ctx, "c", 0), IOTKIT_OK);
  /* each call comes back although the server holds the request */
  for (int i = 0; i < 3; i++) cr_assert_eq(fx.ops->poll(fx.ctx, 10), IOTKIT_OK);
  cr_assert_eq(fx.ops->poll(fx.ctx, 0), IOTKIT_OK);
  cr_assert_eq(fx.rec.messages, 0);
  cr_assert(http_fx_wait(&fx, &fx.rec.messages, 1));
}

Test(http_faults, subscribe_twice_polls_once) {
  connect_with(NULL);
  push("/api/c", (http_script_reply_t){.status = 200, .body = "m", .delay_ms = 400});
  cr_assert_eq(fx.ops->subscribe(fx.ctx, "c", 0), IOTKIT_OK);
  cr_assert_eq(fx.ops->subscribe(fx.ctx, "c", 1), IOTKIT_OK);
  cr_assert(http_fx_wait(&fx, &fx.rec.messages, 1));
  /* one poll held 400 ms, then its successor; a second poll of the same
     channel would have been answered 204 at once and polled every 50 ms */
  cr_assert_leq(http_script_count(srv, "GET", "/api/c"), 2);
  cr_assert_eq(fx.rec.messages, 1);
}

Test(http_faults, disconnect_fails_unconfirmed_sends) {
  connect_with(NULL);
  push("/api/t", (http_script_reply_t){.status = 200, .delay_ms = 2000});
  uint32_t a = http_fx_send(&fx, "t", "a", 1);
  uint32_t b = http_fx_send(&fx, "t", "b", 1);
  uint64_t end = test_now_ms() + 10000;
  while (http_script_count(srv, "POST", "/api/t") < 1 && test_now_ms() < end) fx.ops->poll(fx.ctx, 20);
  cr_assert_eq(fx.ops->disconnect(fx.ctx), IOTKIT_OK);
  cr_assert_eq(fx.rec.deliveries, 2);
  cr_assert_eq(transport_rec_status(&fx.rec, a), IOTKIT_ERR_CONNECTION_LOST);
  cr_assert_eq(transport_rec_status(&fx.rec, b), IOTKIT_ERR_CONNECTION_LOST);
  cr_assert_eq(fx.rec.disconnected, 1);
  cr_assert_eq(fx.rec.disc_reason, IOTKIT_OK);
  cr_assert_eq(fx.ops->disconnect(fx.ctx), IOTKIT_ERR_NOT_CONNECTED);
}

/* send() from another thread while this one polls. */
#define CONCURRENT_SENDS 100
static void *sender(void *arg) {
  (void)arg;
  for (int i = 0; i < CONCURRENT_SENDS; i++) http_fx_send(&fx, "load", &i, sizeof i);
  return NULL;
}

Test(http_faults, send_concurrent_with_poll) {
  connect_with("inflight=4");
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, sender, NULL), 0);
  bool all = http_fx_wait(&fx, &fx.rec.deliveries, CONCURRENT_SENDS);
  pthread_join(t, NULL);
  cr_assert(all, "only %d deliveries", fx.rec.deliveries);
  for (int i = 0; i < CONCURRENT_SENDS; i++) cr_assert_eq(fx.rec.statuses[i], IOTKIT_OK);
  cr_assert_eq(http_script_count(srv, "POST", "/api/load"), CONCURRENT_SENDS);
}

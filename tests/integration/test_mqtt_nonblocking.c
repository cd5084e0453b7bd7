// requires: mqtt
/* The MQTT backend never blocks its thread on the network: a connect to a
 * blackholed port (a loopback listener whose accept queue is full, so SYNs
 * are dropped) leaves the thread free to drive another context to a real
 * mosquitto meanwhile, and ends in disconnected(IOTKIT_ERR_TIMEOUT) after
 * connect_timeout_ms; a send from another thread wakes a loop that waits in
 * poll(2) on the context's descriptor. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iotkit/transport.h"
#include "mosquitto_server.h"
#include "net_util.h"
#include "transport_client.h"

#define FILLERS_MAX 8

static mosq_server_t *srv;
static tclient_t *stuck, *live;
static int hole = -1;
static int fillers[FILLERS_MAX];
static int nfillers;
static uint16_t hole_port;

/* A nonblocking TCP connect to 127.0.0.1:@p port; the socket, or -1. */
static int connect_nb(uint16_t port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (connect(s, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS) {
    close(s);
    return -1;
  }
  return s;
}

/* Listen with a backlog of 0 and never accept; connect fillers until one stays
   unanswered (its SYN dropped because the accept queue is full). */
static void make_blackhole(void) {
  hole = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  cr_assert_geq(hole, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  cr_assert_eq(bind(hole, (struct sockaddr *)&a, sizeof a), 0);
  cr_assert_eq(listen(hole, 0), 0);
  cr_assert_eq(getsockname(hole, (struct sockaddr *)&a, &len), 0);
  hole_port = ntohs(a.sin_port);
  bool full = false;
  while (!full && nfillers < FILLERS_MAX) {
    int s = connect_nb(hole_port);
    cr_assert_geq(s, 0, "filler connect: %s", strerror(errno));
    fillers[nfillers++] = s;
    struct pollfd p = {.fd = s, .events = POLLOUT};
    full = poll(&p, 1, 500) == 0; /* still in SYN_SENT: the queue is full */
  }
  cr_assert(full, "the accept queue of the blackhole never filled");
}

static void start(void) {
  srv = mosq_server_new();
  cr_assert(srv && mosq_server_start(srv));
}

static void stop(void) {
  tclient_free(stuck);
  tclient_free(live);
  stuck = live = NULL;
  for (int i = 0; i < nfillers; i++) close(fillers[i]);
  nfillers = 0;
  if (hole >= 0) close(hole);
  hole = -1;
  mosq_server_free(srv);
  srv = NULL;
}

TestSuite(mqtt_nb, .init = start, .fini = stop, .timeout = 90);

static int counter(tclient_t *c, const int *field) {
  pthread_mutex_lock(&c->lock);
  int v = *field;
  pthread_mutex_unlock(&c->lock);
  return v;
}

/* One round of an external loop over both contexts: poll(2) on their
   descriptors for the shorter of their timeout_ms() (capped at 100 ms), then
   poll() each. */
static void loop_once(void) {
  tclient_t *cs[2] = {stuck, live};
  struct pollfd pfd[2];
  int wait = 100;
  for (int i = 0; i < 2; i++) {
    pfd[i] = (struct pollfd){.fd = cs[i]->ops->fd(cs[i]->ctx), .events = POLLIN};
    int t = cs[i]->ops->timeout_ms(cs[i]->ctx);
    if (t >= 0 && t < wait) wait = t;
  }
  (void)poll(pfd, 2, wait);
  for (int i = 0; i < 2; i++) cr_assert_eq(cs[i]->ops->poll(cs[i]->ctx, 0), IOTKIT_OK);
}

/* Run the loop until *field of @p c reaches @p want (false after 20 s). */
static bool loop_until(tclient_t *c, const int *field, int want) {
  uint64_t end = test_now_ms() + 20000;
  while (counter(c, field) < want) {
    if (test_now_ms() > end) return false;
    loop_once();
  }
  return true;
}

Test(mqtt_nb, blackholed_connect_leaves_the_thread_free_then_times_out) {
  make_blackhole();
  char uri[64];
  snprintf(uri, sizeof uri, "mqtt://127.0.0.1:%u", (unsigned)hole_port);
  stuck = tclient_new(&(tclient_opts_t){.uri = uri, .client_id = "stuck", .connect_timeout_ms = 4000});
  live = tclient_new(&(tclient_opts_t){.uri = mosq_server_uri(srv), .client_id = "live"});
  cr_assert(stuck && live);
  int stuck_fd = stuck->ops->fd(stuck->ctx);
  cr_assert_eq(stuck->ops->connect(stuck->ctx), IOTKIT_OK, "%s", tclient_last_error(stuck));
  cr_assert_eq(stuck->ops->fd(stuck->ctx), stuck_fd, "the descriptor stays the same while connecting");
  int t = stuck->ops->timeout_ms(stuck->ctx);
  cr_assert(t >= 0 && t <= 1000, "a connect in progress asks to be polled: %d", t);

  /* Meanwhile the same thread connects the other context and makes a round trip. */
  cr_assert_eq(live->ops->connect(live->ctx), IOTKIT_OK);
  cr_assert(loop_until(live, &live->connected, 1), "%s", tclient_last_error(live));
  cr_assert_eq(live->ops->subscribe(live->ctx, "echo/#", 1), IOTKIT_OK);
  cr_assert(loop_until(live, &live->subscribed, 1));
  uint32_t id;
  cr_assert_eq(tclient_send(live, "echo/1", "hi", 2, 1, &id), IOTKIT_OK);
  cr_assert(loop_until(live, &live->messages, 1));
  cr_assert_str_eq(live->msgs[0].payload, "hi");
  cr_assert_eq(counter(stuck, &stuck->connected), 0);
  cr_assert_eq(counter(stuck, &stuck->disconnected), 0,
               "the blackholed attempt ended before the other context's round trip: %s", stuck->disc_detail);

  /* Then the attempt runs out, named by host and port. */
  cr_assert(loop_until(stuck, &stuck->disconnected, 1));
  cr_assert_eq(stuck->disc_reason, IOTKIT_ERR_TIMEOUT, "%s: %s", iotkit_err_name(stuck->disc_reason),
               stuck->disc_detail);
  char where[64];
  snprintf(where, sizeof where, "127.0.0.1:%u within 4000 ms", (unsigned)hole_port);
  cr_assert(strstr(stuck->disc_detail, where), "%s", stuck->disc_detail);
  cr_assert(strstr(tclient_last_error(stuck), "no CONNACK"), "%s", tclient_last_error(stuck));
  cr_assert_eq(counter(stuck, &stuck->connected), 0);
  cr_assert_eq(stuck->ops->timeout_ms(stuck->ctx), -1, "nothing to do after the attempt ended");
  cr_assert_eq(stuck->ops->fd(stuck->ctx), stuck_fd);

  /* The live context is unharmed; the timed-out one may try again (and is refused again). */
  cr_assert_eq(tclient_send(live, "echo/2", "again", 5, 1, &id), IOTKIT_OK);
  cr_assert(loop_until(live, &live->messages, 2));
  cr_assert_eq(stuck->ops->connect(stuck->ctx), IOTKIT_OK);
  cr_assert(loop_until(stuck, &stuck->disconnected, 2));
  cr_assert_eq(stuck->disc_reason, IOTKIT_ERR_TIMEOUT);
}

typedef struct {
  tclient_t *c;
  int delay_ms;
  iotkit_err_t rc;
} sender_arg_t;

static void *sender(void *p) {
  sender_arg_t *a = p;
  test_msleep(a->delay_ms);
  uint32_t id;
  a->rc = tclient_send(a->c, "wake/1", "late", 4, 1, &id);
  return NULL;
}

/* Poll until nothing is pending (timeout_ms() not 0) and the descriptor is quiet. */
static void settle(tclient_t *c) {
  for (int i = 0; i < 100; i++) {
    cr_assert_eq(c->ops->poll(c->ctx, 0), IOTKIT_OK);
    struct pollfd p = {.fd = c->ops->fd(c->ctx), .events = POLLIN};
    if (c->ops->timeout_ms(c->ctx) != 0 && poll(&p, 1, 0) == 0) return;
  }
  cr_assert_fail("the context never settled");
}

Test(mqtt_nb, send_from_another_thread_wakes_poll_on_fd) {
  live = tclient_new(&(tclient_opts_t){.uri = mosq_server_uri(srv), .client_id = "live"});
  cr_assert(live);
  cr_assert_eq(tclient_connect(live), IOTKIT_OK);
  cr_assert_eq(tclient_subscribe(live, "wake/#", 1), IOTKIT_OK);
  settle(live);
  int fd = live->ops->fd(live->ctx);
  sender_arg_t a = {.c = live, .delay_ms = 200, .rc = IOTKIT_ERR_INTERNAL};
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, sender, &a), 0);
  /* Wait on the descriptor alone (keepalive is 30 s: nothing else can wake it). */
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int n = poll(&p, 1, 15000);
  pthread_join(t, NULL);
  cr_assert_eq(a.rc, IOTKIT_OK);
  cr_assert_eq(n, 1, "poll(2) on fd() was not woken by the send from another thread");
  cr_assert(p.revents & POLLIN);
  cr_assert_eq(live->ops->timeout_ms(live->ctx), 0, "a queued packet asks for a poll now");
  cr_assert(tclient_poll_until(live, &live->messages, 1));
  cr_assert_str_eq(live->msgs[0].payload, "late");
}

Test(mqtt_nb, unsubscribe_makes_fd_readable) {
  live = tclient_new(&(tclient_opts_t){.uri = mosq_server_uri(srv), .client_id = "live"});
  cr_assert(live);
  cr_assert_eq(tclient_connect(live), IOTKIT_OK);
  cr_assert_eq(tclient_subscribe(live, "wake/#", 1), IOTKIT_OK);
  settle(live);
  cr_assert_eq(live->ops->unsubscribe(live->ctx, "wake/#"), IOTKIT_OK);
  struct pollfd p = {.fd = live->ops->fd(live->ctx), .events = POLLIN};
  cr_assert_eq(poll(&p, 1, 15000), 1, "unsubscribe() did not make the descriptor readable");
  settle(live);
}

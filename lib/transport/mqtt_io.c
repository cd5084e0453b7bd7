/* The poll machinery of the MQTT backend: libmosquitto driven by epoll
 * instead of mosquitto_loop() (which uses select() and refuses descriptors
 * of 1024 and above).
 *
 * Each context owns an epoll set, created with the context, so fd() stays
 * the same for the context's life. It holds an eventfd that the threads
 * queueing packets (send, subscribe, unsubscribe, disconnect) write to, and,
 * while libmosquitto has one, the MQTT socket: EPOLLIN always, EPOLLOUT while
 * libmosquitto wants to write or the TCP connect is still in progress. The
 * set is readable exactly when poll() has work to do.
 */
#include "transport/mqtt_mosquitto.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

iotkit_err_t iotkit__transport_mqtt_io_open(iotkit__mqtt_ctx_t *c) {
  c->sock = -1;
  c->sock_events = 0;
  atomic_init(&c->wake_pending, false);
  c->epfd = epoll_create1(EPOLL_CLOEXEC);
  c->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (c->epfd < 0 || c->wakefd < 0) {
    iotkit__transport_mqtt_io_close(c);
    return IOTKIT_ERR_IO;
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = c->wakefd};
  if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->wakefd, &ev) != 0) {
    iotkit__transport_mqtt_io_close(c);
    return IOTKIT_ERR_IO;
  }
  return IOTKIT_OK;
}

void iotkit__transport_mqtt_io_close(iotkit__mqtt_ctx_t *c) {
  if (c->epfd >= 0) close(c->epfd);
  if (c->wakefd >= 0) close(c->wakefd);
  c->epfd = -1;
  c->wakefd = -1;
  c->sock = -1;
}

/* Coalesced: only the first wake after poll() took the last one writes the
   eventfd (a write is a system call per publish otherwise). The flag is set
   after the caller queued its packet and is cleared by io_wait() after it
   drained the eventfd and before poll() looks at libmosquitto's queue, so a
   wake that finds it set is covered by the write of an earlier one or by the
   poll in progress: set means "a write is done or coming, or poll() will see
   the packet". */
void iotkit__transport_mqtt_io_wake(iotkit__mqtt_ctx_t *c) {
  if (atomic_exchange(&c->wake_pending, true)) return;
  uint64_t one = 1;
  /* EAGAIN only when the counter is near overflow: it is readable then anyway */
  if (write(c->wakefd, &one, sizeof one) < 0) return;
}

/* The TCP connection of @p s is established (not still in progress). */
static bool tcp_established(int s) {
  struct sockaddr_storage peer;
  socklen_t len = sizeof peer;
  return getpeername(s, (struct sockaddr *)&peer, &len) == 0;
}

void iotkit__transport_mqtt_io_sync(iotkit__mqtt_ctx_t *c, bool drop) {
  int s = drop ? -1 : mosquitto_socket(c->mosq);
  if (c->sock >= 0 && s != c->sock) {
    /* fails with EBADF when libmosquitto closed it already (closing removed it) */
    (void)epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->sock, NULL);
    c->sock = -1;
    c->sock_events = 0;
  }
  if (s < 0) return;
  iotkit__transport_lock_acquire(&c->lock);
  bool connecting = c->state == IOTKIT__MQTT_CONNECTING || c->settling;
  iotkit__transport_lock_release(&c->lock);
  uint32_t want = EPOLLIN;
  if (mosquitto_want_write(c->mosq) || (connecting && !tcp_established(s))) want |= EPOLLOUT;
  if (s == c->sock && want == c->sock_events) return;
  struct epoll_event ev = {.events = want, .data.fd = s};
  int op = s == c->sock ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  int rc = epoll_ctl(c->epfd, op, s, &ev);
  if (rc != 0 && errno == ENOENT) rc = epoll_ctl(c->epfd, EPOLL_CTL_ADD, s, &ev);
  if (rc != 0 && errno == EEXIST) rc = epoll_ctl(c->epfd, EPOLL_CTL_MOD, s, &ev);
  if (rc != 0) {
    iotkit__transport_logf(c->hal, IOTKIT_LOG_WARN, "mqtt: cannot watch the socket of %s:%u: %s", c->host, c->port,
                           strerror(errno));
    return;
  }
  c->sock = s;
  c->sock_events = want;
}

void iotkit__transport_mqtt_io_wait(iotkit__mqtt_ctx_t *c, int timeout_ms, bool *readable, bool *writable) {
  struct epoll_event evs[2];
  *readable = *writable = false;
  int n = epoll_wait(c->epfd, evs, 2, timeout_ms);
  for (int i = 0; i < n; i++) {
    if (evs[i].data.fd == c->wakefd) {
      /* Drain, then clear (see io_wake): cleared first, a wake could find the flag
         clear, write, and have its count eaten by this read, leaving the flag set
         with nothing to read, and every later wake would be skipped. The exchange
         pairs with the wakes' exchange, so their packets are visible to poll(). */
      uint64_t count;
      ssize_t got = read(c->wakefd, &count, sizeof count); /* EAGAIN: drained already */
      (void)got;
      (void)atomic_exchange(&c->wake_pending, false);
      continue;
    }
    if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) *readable = true;
    if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) *writable = true;
  }
}

int iotkit__transport_mqtt_io_timeout(iotkit__mqtt_ctx_t *c, bool down) {
  if (down) return -1;
  if (atomic_load(&c->wake_pending)) return 0;
  int wait = IOTKIT__MQTT_MISC_MS;
  iotkit__transport_lock_acquire(&c->lock);
  bool settling = c->settling;
  iotkit__transport_lock_release(&c->lock);
  if (settling && c->connect_timeout_ms) {
    uint64_t now = iotkit__transport_now_ms(c->hal);
    uint64_t deadline = c->connect_started + c->connect_timeout_ms;
    uint64_t left = deadline > now ? deadline - now : 0;
    if (left < (uint64_t)wait) wait = (int)left;
  }
  return wait;
}

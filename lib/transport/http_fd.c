/* The HTTP backend's descriptors: one epoll set that holds every socket libcurl
 * uses (told by CURLMOPT_SOCKETFUNCTION, with the directions libcurl waits for)
 * and an eventfd that send() signals. poll() (http_loop.c) waits on it and
 * drives libcurl with curl_multi_socket_action(); fd() hands the same set to an
 * external loop, readable whenever poll() has work. libcurl's next timer (told
 * by CURLMOPT_TIMERFUNCTION) is kept in timer_due, for poll() and timeout_ms().
 */
#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "transport/http_curl.h"

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
  (void)easy;
  (void)socketp;
  http_ctx_t *c = userp;
  if (what == CURL_POLL_REMOVE) {
    /* The socket may be closed already, which took it out of the set. */
    (void)epoll_ctl(c->epfd, EPOLL_CTL_DEL, s, NULL);
    return 0;
  }
  struct epoll_event ev = {.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u),
                           .data.fd = s};
  if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, s, &ev) != 0 && errno == ENOENT) (void)epoll_ctl(c->epfd, EPOLL_CTL_ADD, s, &ev);
  return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp) {
  (void)multi;
  http_ctx_t *c = userp;
  c->timer_due = timeout_ms < 0 ? UINT64_MAX : iotkit__transport_now_ms(c->hal) + (uint64_t)timeout_ms;
  return 0;
}

iotkit_err_t iotkit__transport_http_fd_init(http_ctx_t *c) {
  c->epfd = epoll_create1(EPOLL_CLOEXEC);
  c->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = c->wakefd};
  if (c->epfd < 0 || c->wakefd < 0 || epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->wakefd, &ev) != 0) {
    iotkit__transport_http_fd_free(c);
    return IOTKIT_ERR_IO;
  }
  curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
  c->timer_due = UINT64_MAX;
  curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
  return IOTKIT_OK;
}

void iotkit__transport_http_fd_free(http_ctx_t *c) {
  if (c->epfd >= 0) close(c->epfd);
  if (c->wakefd >= 0) close(c->wakefd);
  c->epfd = c->wakefd = -1;
}

void iotkit__transport_http_fd_wake(http_ctx_t *c) {
  uint64_t one = 1;
  if (c->wakefd >= 0) (void)!write(c->wakefd, &one, sizeof one);
}

void iotkit__transport_http_fd_drain(http_ctx_t *c) {
  uint64_t n;
  if (c->wakefd >= 0) (void)!read(c->wakefd, &n, sizeof n);
}

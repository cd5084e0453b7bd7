/* libcoap's example server and client for integration tests (see coap_server.h). */
#include "coap_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hal_tmpdir.h"

#define SERVER_BIN "/usr/bin/coap-server-openssl"
#define CLIENT_BIN "/usr/bin/coap-client-openssl"

struct coap_srv {
  char dir[64];
  char uri[64];
  char uri_dtls[64];
  char psk_key[64];
  char psk_hint[64];
  char loss[16];
  uint16_t port;
  pid_t pid;
  bool started_once;
  bool static_only;
  bool pki;
};

static void msleep(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static bool bindable(int type, uint16_t port) {
  int fd = socket(AF_INET, type, 0);
  if (fd < 0) return false;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

uint16_t coap_free_udp_port(void) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return 0;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  uint16_t port = 0;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

/* coap-server listens on UDP and TCP at the port, DTLS and TLS at port + 1. */
static uint16_t pick_ports(void) {
  for (int i = 0; i < 50; i++) {
    uint16_t p = coap_free_udp_port();
    if (p && p < 65535 && bindable(SOCK_STREAM, p) && bindable(SOCK_DGRAM, (uint16_t)(p + 1)) &&
        bindable(SOCK_STREAM, (uint16_t)(p + 1))) {
      return p;
    }
  }
  return 0;
}

static void set_ports(coap_srv_t *srv, uint16_t port) {
  srv->port = port;
  snprintf(srv->uri, sizeof srv->uri, "coap://127.0.0.1:%u", port);
  snprintf(srv->uri_dtls, sizeof srv->uri_dtls, "coaps://127.0.0.1:%u", port + 1u);
}

coap_srv_t *coap_srv_new(void) {
  coap_srv_t *srv = calloc(1, sizeof *srv);
  if (!srv) return NULL;
  snprintf(srv->dir, sizeof srv->dir, "/tmp/iotkit-coap-XXXXXX");
  if (!mkdtemp(srv->dir)) {
    fprintf(stderr, "coap_srv: mkdtemp: %s\n", strerror(errno));
    free(srv);
    return NULL;
  }
  set_ports(srv, pick_ports());
  return srv;
}

bool coap_srv_set_psk(coap_srv_t *srv, const char *key, const char *hint) {
  if (!srv || !key || !hint || strlen(key) >= sizeof srv->psk_key || strlen(hint) >= sizeof srv->psk_hint) {
    return false;
  }
  snprintf(srv->psk_key, sizeof srv->psk_key, "%s", key);
  snprintf(srv->psk_hint, sizeof srv->psk_hint, "%s", hint);
  return true;
}

bool coap_srv_set_dynamic(coap_srv_t *srv, bool on) {
  if (!srv) return false;
  srv->static_only = !on;
  return true;
}

/* Self-contained PKI: short-lived EC keys, nothing outside the directory. */
static const char k_pki_script[] =
    "set -e; cd \"$1\"; o=/usr/bin/openssl; ec='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';"
    "$o req -x509 $ec -keyout ca.key -out ca.pem -subj /CN=iotkit-test-ca -days 2 2>/dev/null;"
    "$o req -x509 $ec -keyout other-ca.key -out other-ca.pem -subj /CN=iotkit-other-ca -days 2 2>/dev/null;"
    "for n in server client; do"
    "  $o req $ec -keyout $n.key -out $n.csr -subj /CN=127.0.0.1 2>/dev/null;"
    "  $o x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $n.pem -days 2 2>/dev/null;"
    "done";

bool coap_srv_use_test_pki(coap_srv_t *srv) {
  if (!srv) return false;
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", k_pki_script, "sh", srv->dir, (char *)NULL);
    _exit(127);
  }
  int status = 0;
  while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "coap_srv: making the test PKI in %s failed\n", srv->dir);
    return false;
  }
  srv->pki = true;
  return true;
}

bool coap_srv_set_loss(coap_srv_t *srv, const char *loss) {
  if (!srv || !loss || strlen(loss) >= sizeof srv->loss) return false;
  snprintf(srv->loss, sizeof srv->loss, "%s", loss);
  return true;
}

static pid_t spawn(coap_srv_t *srv) {
  char log[128], port[8], cert[96], key[96], ca[96];
  snprintf(cert, sizeof cert, "%s/server.pem", srv->dir);
  snprintf(key, sizeof key, "%s/server.key", srv->dir);
  snprintf(ca, sizeof ca, "%s/ca.pem", srv->dir);
  snprintf(log, sizeof log, "%s/server.log", srv->dir);
  snprintf(port, sizeof port, "%u", srv->port);
  const char *argv[24];
  int n = 0;
  argv[n++] = "coap-server-openssl";
  argv[n++] = "-A";
  argv[n++] = "127.0.0.1";
  argv[n++] = "-p";
  argv[n++] = port;
  if (!srv->static_only) {
    argv[n++] = "-d";
    argv[n++] = "1000";
  }
  argv[n++] = "-v";
  argv[n++] = "5";
  if (srv->psk_key[0]) {
    argv[n++] = "-k";
    argv[n++] = srv->psk_key;
    argv[n++] = "-h";
    argv[n++] = srv->psk_hint;
  }
  if (srv->pki) {
    argv[n++] = "-c";
    argv[n++] = cert;
    argv[n++] = "-j";
    argv[n++] = key;
    argv[n++] = "-C";
    argv[n++] = ca;
  }
  if (srv->loss[0]) {
    argv[n++] = "-l";
    argv[n++] = srv->loss;
  }
  argv[n] = NULL;
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    execv(SERVER_BIN, (char *const *)argv);
    _exit(127);
  }
  return pid;
}

/* A CoAP ping (empty CON) answered by a RST proves a CoAP server is there;
   several tries because the server may be told to lose datagrams. */
static bool answers_ping(uint16_t port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bool ok = false;
  if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
    for (int i = 0; i < 5 && !ok; i++) {
      unsigned char ping[4] = {0x40, 0x00, 0x12, (unsigned char)(0x30 + i)}, pong[16];
      if (send(fd, ping, sizeof ping, 0) != (ssize_t)sizeof ping) break;
      struct pollfd p = {.fd = fd, .events = POLLIN};
      if (poll(&p, 1, 100) == 1) {
        ssize_t got = recv(fd, pong, sizeof pong, 0);
        ok = got >= 4 && (pong[0] & 0x30) == 0x30 && pong[3] == ping[3]; /* RST with our message id */
      }
    }
  }
  close(fd);
  return ok;
}

static bool start_once(coap_srv_t *srv) {
  srv->pid = spawn(srv);
  if (srv->pid < 0) return false;
  for (int i = 0; i < 50; i++) {
    int status;
    if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
      srv->pid = 0;
      return false;
    }
    if (answers_ping(srv->port)) return true;
    msleep(20);
  }
  coap_srv_stop(srv);
  return false;
}

bool coap_srv_start(coap_srv_t *srv) {
  if (!srv || srv->pid > 0 || !srv->port) return false;
  for (int attempt = 0; attempt < 10; attempt++) {
    if (start_once(srv)) {
      srv->started_once = true;
      return true;
    }
    if (srv->started_once) {
      msleep(100); /* a restart keeps its ports */
    } else {
      set_ports(srv, pick_ports());
    }
  }
  fprintf(stderr, "coap_srv: coap-server did not start on port %u (see %s/server.log)\n", srv->port, srv->dir);
  return false;
}

bool coap_srv_stop(coap_srv_t *srv) {
  if (!srv || srv->pid <= 0) return false;
  kill(srv->pid, SIGTERM);
  int status;
  while (waitpid(srv->pid, &status, 0) < 0 && errno == EINTR) {
  }
  srv->pid = 0;
  return true;
}

bool coap_srv_restart(coap_srv_t *srv) {
  if (!srv) return false;
  if (srv->pid > 0) coap_srv_stop(srv);
  return coap_srv_start(srv);
}

uint16_t coap_srv_port(const coap_srv_t *srv) { return srv ? srv->port : 0; }
const char *coap_srv_uri(const coap_srv_t *srv) { return srv ? srv->uri : ""; }
const char *coap_srv_uri_dtls(const coap_srv_t *srv) { return srv ? srv->uri_dtls : ""; }
const char *coap_srv_dir(const coap_srv_t *srv) { return srv ? srv->dir : ""; }

void coap_srv_free(coap_srv_t *srv) {
  if (!srv) return;
  if (srv->pid > 0) coap_srv_stop(srv);
  if (!getenv("IOTKIT_TEST_KEEP")) hal_tmpdir_remove(srv->dir);
  free(srv);
}

static int run_client(const char *const *args, char *out, size_t cap, bool with_stderr) {
  if (!args || !out || cap == 0) return -1;
  const char *argv[32];
  int n = 0;
  argv[n++] = "coap-client-openssl";
  for (int i = 0; args[i] && n < 30; i++) argv[n++] = args[i];
  argv[n] = NULL;
  int fds[2];
  if (pipe(fds) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    if (with_stderr) dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    execv(CLIENT_BIN, (char *const *)argv);
    _exit(127);
  }
  close(fds[1]);
  size_t used = 0;
  for (;;) {
    struct pollfd p = {.fd = fds[0], .events = POLLIN};
    if (poll(&p, 1, 20000) != 1) {
      kill(pid, SIGKILL);
      break;
    }
    char buf[512];
    ssize_t got = read(fds[0], buf, sizeof buf);
    if (got <= 0) break;
    size_t take = (size_t)got < cap - 1 - used ? (size_t)got : cap - 1 - used;
    memcpy(out + used, buf, take);
    used += take;
  }
  out[used] = '\0';
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int coap_client_run(const char *const *args, char *out, size_t cap) { return run_client(args, out, cap, false); }

int coap_client_run_all(const char *const *args, char *out, size_t cap) { return run_client(args, out, cap, true); }

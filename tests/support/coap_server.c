/* libcoap's example server and client for integration tests (see coap_server.h). */
#include "coap_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hal_tmpdir.h"
#include "net_util.h"
#include "test_certs.h"

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

/* coap-server listens on UDP and TCP at the port, DTLS and TLS at port + 1. */
static uint16_t pick_ports(void) {
  for (int i = 0; i < 50; i++) {
    uint16_t p = test_free_udp_port();
    uint16_t q = (uint16_t)(p + 1);
    if (p && p < 65535 && test_port_bindable(SOCK_STREAM, p) && test_port_bindable(SOCK_DGRAM, q) &&
        test_port_bindable(SOCK_STREAM, q)) {
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

bool coap_srv_use_test_pki(coap_srv_t *srv) {
  if (!srv) return false;
  const char *d = srv->dir;
  if (!test_certs_make_ca(d, "ca", "iotkit-test-ca") || !test_certs_make_ca(d, "other-ca", "iotkit-other-ca") ||
      !test_certs_make_cert(d, "server", "ca", "127.0.0.1", "IP:127.0.0.1", TEST_CERT_SERVER) ||
      !test_certs_make_cert(d, "client", "ca", "127.0.0.1", NULL, TEST_CERT_CLIENT)) {
    fprintf(stderr, "coap_srv: making the test PKI in %s failed\n", d);
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
  snprintf(cert, sizeof cert, "%s/server.crt", srv->dir);
  snprintf(key, sizeof key, "%s/server.key", srv->dir);
  snprintf(ca, sizeof ca, "%s/ca.crt", srv->dir);
  snprintf(log, sizeof log, "%s/server.log", srv->dir);
  snprintf(port, sizeof port, "%u", srv->port);
  const char *argv[24];
  int n = 0;
  argv[n++] = SERVER_BIN;
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
  return test_spawn((char *const *)argv, log);
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
    if (test_exited(srv->pid)) {
      srv->pid = 0;
      return false;
    }
    if (answers_ping(srv->port)) return true;
    test_msleep(20);
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
      test_msleep(100); /* a restart keeps its ports */
    } else {
      set_ports(srv, pick_ports());
    }
  }
  fprintf(stderr, "coap_srv: coap-server did not start on port %u (see %s/server.log)\n", srv->port, srv->dir);
  return false;
}

bool coap_srv_stop(coap_srv_t *srv) {
  if (!srv || srv->pid <= 0) return false;
  test_kill_wait(srv->pid, SIGTERM);
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

bool coap_srv_put(coap_srv_t *srv, const char *path, const void *data, size_t len) {
  if (!srv || !path || path[0] != '/' || (!data && len)) return false;
  char file[96], uri[160], out[512];
  snprintf(file, sizeof file, "%s/put.bin", srv->dir);
  FILE *fp = fopen(file, "wb");
  bool ok = fp && fwrite(data, 1, len, fp) == len;
  if (fp && fclose(fp) != 0) ok = false;
  if (!ok) {
    fprintf(stderr, "coap_srv_put: cannot write %s: %s\n", file, strerror(errno));
    return false;
  }
  snprintf(uri, sizeof uri, "%s%s", srv->uri, path);
  const char *args[] = {"-m", "put", "-f", file, uri, NULL};
  int rc = coap_client_run_all(args, out, sizeof out);
  remove(file);
  if (rc != 0 || out[0]) { /* coap-client prints nothing for 2.01/2.04 */
    fprintf(stderr, "coap_srv_put: PUT %s: exit %d: %s\n", uri, rc, out);
    return false;
  }
  return true;
}

/* The iotkit-hub daemon for integration tests (see hub_server.h). */
#include "hub_server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hal_tmpdir.h"
#include "test_certs.h"
#include "net_util.h"

struct hub_srv {
  char dir[64];
  char bin[512];
  char mqtt_uri[128];
  char conf[128];
  char keys[128];
  char log[128];
  char coap_uri[64];
  char coaps_uri[64];
  char http_uri[64];
  char file[192];
  char ca[160];
  bool http, https;
  char *extra; /* config lines added by the test */
  pid_t pid;
};

static bool append(const char *path, const char *text) {
  FILE *f = fopen(path, "a");
  if (!f) return false;
  bool ok = fputs(text, f) >= 0;
  return fclose(f) == 0 && ok;
}

hub_srv_t *hub_srv_new(const char *bin, const char *mqtt_uri) {
  hub_srv_t *h = bin && mqtt_uri ? calloc(1, sizeof *h) : NULL;
  if (!h) return NULL;
  snprintf(h->dir, sizeof h->dir, "/tmp/iotkit-hub-XXXXXX");
  if (!mkdtemp(h->dir)) {
    fprintf(stderr, "hub_srv: mkdtemp: %s\n", strerror(errno));
    free(h);
    return NULL;
  }
  snprintf(h->bin, sizeof h->bin, "%s", bin);
  snprintf(h->mqtt_uri, sizeof h->mqtt_uri, "%s", mqtt_uri);
  snprintf(h->conf, sizeof h->conf, "%s/hub.conf", h->dir);
  snprintf(h->keys, sizeof h->keys, "%s/keys", h->dir);
  snprintf(h->log, sizeof h->log, "%s/hub.log", h->dir);
  h->extra = calloc(1, 1);
  if (!h->extra || !append(h->keys, "# test devices\n") || chmod(h->keys, 0600) != 0) {
    hub_srv_free(h);
    return NULL;
  }
  return h;
}

bool hub_srv_add_device(hub_srv_t *h, const char *id, const char *key_hex) {
  char line[512];
  if (!h || !id || !key_hex) return false;
  snprintf(line, sizeof line, "%s %s\n", id, key_hex);
  return append(h->keys, line);
}

bool hub_srv_add_config(hub_srv_t *h, const char *line) {
  if (!h || !line) return false;
  size_t n = strlen(h->extra), m = strlen(line);
  char *grown = realloc(h->extra, n + m + 2);
  if (!grown) return false;
  memcpy(grown + n, line, m);
  memcpy(grown + n + m, "\n", 2);
  h->extra = grown;
  return true;
}

bool hub_srv_enable_http(hub_srv_t *h, bool tls) {
  if (!h) return false;
  if (tls && !test_certs_make(h->dir)) return false;
  snprintf(h->ca, sizeof h->ca, "%s/ca.crt", h->dir);
  h->http = true;
  h->https = tls;
  return true;
}

const char *hub_srv_http_uri(const hub_srv_t *h) { return h ? h->http_uri : ""; }

const char *hub_srv_ca_file(const hub_srv_t *h) { return h ? h->ca : ""; }

const char *hub_srv_file(hub_srv_t *h, const char *name) {
  snprintf(h->file, sizeof h->file, "%s/%s", h->dir, name);
  return h->file;
}

static bool write_http_config(hub_srv_t *h) {
  if (!h->http) return true;
  char text[768];
  /* A restart keeps the HTTP port, so that devices find the hub again. */
  const char *colon = strrchr(h->http_uri, ':');
  uint16_t port = colon ? (uint16_t)strtoul(colon + 1, NULL, 10) : test_free_port();
  snprintf(h->http_uri, sizeof h->http_uri, "%s://127.0.0.1:%u", h->https ? "https" : "http", port);
  if (h->https) {
    snprintf(text, sizeof text, "http_listen = 127.0.0.1:%u\nhttps_cert = %s/server.crt\nhttps_key = %s/server.key\n",
             port, h->dir, h->dir);
  } else {
    snprintf(text, sizeof text, "http_listen = 127.0.0.1:%u\nallow_insecure_http = true\n", port);
  }
  return port && append(h->conf, text);
}

static bool write_config(hub_srv_t *h, uint16_t coap, uint16_t coaps) {
  char text[1024];
  snprintf(h->coap_uri, sizeof h->coap_uri, "coap://127.0.0.1:%u", coap);
  snprintf(h->coaps_uri, sizeof h->coaps_uri, "coaps://127.0.0.1:%u", coaps);
  snprintf(text, sizeof text,
           "# written by tests/support/hub_server.c\n"
           "coap_listen = 127.0.0.1:%u\ncoaps_listen = 127.0.0.1:%u\nallow_insecure_coap = true\n"
           "psk_file = %s\nmqtt_uri = %s\nlog_level = debug\n",
           coap, coaps, h->keys, h->mqtt_uri);
  unlink(h->conf);
  return append(h->conf, text) && write_http_config(h) && append(h->conf, h->extra);
}

/* Lines of the log (appended to by every run) containing @p needle. */
static int log_count(const hub_srv_t *h, const char *needle) {
  FILE *f = fopen(h->log, "r");
  if (!f) return 0;
  char line[2048];
  int n = 0;
  while (fgets(line, sizeof line, f)) n += strstr(line, needle) != NULL;
  fclose(f);
  return n;
}

/* Wait for a "ready" line beyond the @p before of earlier runs. */
static bool wait_ready(hub_srv_t *h, int before) {
  for (int i = 0; i < 300; i++) {
    if (log_count(h, "INFO ready:") > before) return true;
    int status;
    if (waitpid(h->pid, &status, WNOHANG) == h->pid) {
      h->pid = 0;
      return false;
    }
    test_msleep(50);
  }
  return false;
}

bool hub_srv_start(hub_srv_t *h) {
  if (!h || h->pid > 0) return false;
  for (int attempt = 0; attempt < 5; attempt++) {
    uint16_t coap = test_free_udp_port(), coaps = test_free_udp_port();
    if (!coap || !coaps || coap == coaps || !write_config(h, coap, coaps)) continue;
    char *argv[] = {h->bin, "--config", h->conf, NULL};
    int before = log_count(h, "INFO ready:"); /* a restart's log still has the last run's */
    h->pid = test_spawn(argv, h->log);
    if (h->pid > 0 && wait_ready(h, before)) return true;
    if (h->pid > 0) hub_srv_stop(h);
  }
  fprintf(stderr, "hub_srv: the hub did not become ready (see %s)\n", h->log);
  return false;
}

bool hub_srv_stop(hub_srv_t *h) {
  if (!h || h->pid <= 0) return false;
  kill(h->pid, SIGTERM);
  int status = 0;
  while (waitpid(h->pid, &status, 0) < 0 && errno == EINTR) {
  }
  h->pid = 0;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool hub_srv_term(hub_srv_t *h) { return h && h->pid > 0 && kill(h->pid, SIGTERM) == 0; }

const char *hub_srv_coap_uri(const hub_srv_t *h) { return h ? h->coap_uri : ""; }
const char *hub_srv_coaps_uri(const hub_srv_t *h) { return h ? h->coaps_uri : ""; }
const char *hub_srv_log_path(const hub_srv_t *h) { return h ? h->log : ""; }

bool hub_srv_log_contains(const hub_srv_t *h, const char *needle) {
  FILE *f = h && needle ? fopen(h->log, "r") : NULL;
  if (!f) return false;
  char line[2048];
  bool found = false;
  while (!found && fgets(line, sizeof line, f)) found = strstr(line, needle) != NULL;
  fclose(f);
  return found;
}

void hub_srv_free(hub_srv_t *h) {
  if (!h) return;
  if (h->pid > 0) hub_srv_stop(h);
  if (!getenv("IOTKIT_TEST_KEEP")) hal_tmpdir_remove(h->dir);
  free(h->extra);
  free(h);
}

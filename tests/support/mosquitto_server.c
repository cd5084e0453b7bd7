/* A real mosquitto broker for integration tests (see mosquitto_server.h). */
#include "mosquitto_server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hal_tmpdir.h"
#include "net_util.h"
#include "test_certs.h"

#define MOSQ_BIN "/usr/sbin/mosquitto"
#define MOSQ_PASSWD_BIN "/usr/bin/mosquitto_passwd"
#define MAX_EXTRA 32

struct mosq_server {
  char dir[64];
  char uri[64];
  uint16_t port;
  pid_t pid;
  bool persistence;
  bool has_users;
  bool started_once;
  bool tls;
  char path[192];
  char *extra[MAX_EXTRA];
  int nextra;
};

static void set_port(mosq_server_t *srv, uint16_t port) {
  srv->port = port;
  snprintf(srv->uri, sizeof srv->uri, "%s://127.0.0.1:%u", srv->tls ? "mqtts" : "mqtt", port);
}

mosq_server_t *mosq_server_new(void) {
  mosq_server_t *srv = calloc(1, sizeof *srv);
  if (!srv) return NULL;
  snprintf(srv->dir, sizeof srv->dir, "/tmp/iotkit-mosq-XXXXXX");
  if (!mkdtemp(srv->dir)) {
    fprintf(stderr, "mosq_server: mkdtemp: %s\n", strerror(errno));
    free(srv);
    return NULL;
  }
  set_port(srv, test_free_port());
  return srv;
}

bool mosq_server_set_persistence(mosq_server_t *srv, bool on) {
  if (!srv) return false;
  srv->persistence = on;
  return true;
}

bool mosq_server_add_config(mosq_server_t *srv, const char *line) {
  if (!srv || !line || srv->nextra == MAX_EXTRA) return false;
  srv->extra[srv->nextra] = strdup(line);
  return srv->extra[srv->nextra++] != NULL;
}

/* Run a tool; its output goes to tools.log in the directory. */
static bool run(const mosq_server_t *srv, char *const argv[]) {
  char log[128];
  snprintf(log, sizeof log, "%s/tools.log", srv->dir);
  return test_proc_run(log, argv);
}

bool mosq_server_add_user(mosq_server_t *srv, const char *user, const char *password) {
  if (!srv || !user || !password) return false;
  char file[128];
  snprintf(file, sizeof file, "%s/passwd", srv->dir);
  char *create[] = {MOSQ_PASSWD_BIN, "-c", "-b", file, (char *)user, (char *)password, NULL};
  char *append[] = {MOSQ_PASSWD_BIN, "-b", file, (char *)user, (char *)password, NULL};
  if (!run(srv, srv->has_users ? append : create)) {
    fprintf(stderr, "mosq_server: mosquitto_passwd failed for user %s\n", user);
    return false;
  }
  srv->has_users = true;
  return true;
}

const char *mosq_server_file(mosq_server_t *srv, const char *name) {
  if (!srv || !name) return "";
  snprintf(srv->path, sizeof srv->path, "%s/%s", srv->dir, name);
  return srv->path;
}

bool mosq_server_enable_tls(mosq_server_t *srv) {
  return mosq_server_enable_tls_san(srv, "IP:127.0.0.1,DNS:localhost");
}

bool mosq_server_enable_tls_san(mosq_server_t *srv, const char *san) {
  if (!srv || !san || !test_certs_make_ca(srv->dir, "ca", "iotkit test CA") ||
      !test_certs_make_ca(srv->dir, "other-ca", "unrelated CA") ||
      !test_certs_make_cert(srv->dir, "server", "ca", "iotkit test server", san, TEST_CERT_SERVER)) {
    return false;
  }
  char line[256];
  snprintf(line, sizeof line, "cafile %s/ca.crt", srv->dir);
  bool ok = mosq_server_add_config(srv, line);
  snprintf(line, sizeof line, "certfile %s/server.crt", srv->dir);
  ok = ok && mosq_server_add_config(srv, line);
  snprintf(line, sizeof line, "keyfile %s/server.key", srv->dir);
  ok = ok && mosq_server_add_config(srv, line);
  srv->tls = true;
  set_port(srv, srv->port);
  return ok;
}

bool mosq_server_make_client_cert(mosq_server_t *srv, const char *name, const char *ca, const char *cn) {
  return srv && name && ca && cn && test_certs_make_cert(srv->dir, name, ca, cn, NULL, TEST_CERT_CLIENT);
}

/* Write @p text to the file @p name in the directory; its path into @p path. */
static bool write_file(const mosq_server_t *srv, const char *name, const char *text, char *path, size_t cap) {
  snprintf(path, cap, "%s/%s", srv->dir, name);
  FILE *f = fopen(path, "w");
  if (!f) return false;
  fputs(text, f);
  return fclose(f) == 0;
}

bool mosq_server_set_acl(mosq_server_t *srv, const char *acl) {
  char path[128], line[160];
  if (!srv || !acl || !write_file(srv, "acl", acl, path, sizeof path)) return false;
  snprintf(line, sizeof line, "acl_file %s", path);
  return mosq_server_add_config(srv, line);
}

bool mosq_server_set_dynsec(mosq_server_t *srv, const char *json) {
  static const char *const plugins[] = {"/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so",
                                        "/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so",
                                        "/usr/lib/mosquitto_dynamic_security.so", NULL};
  const char *plugin = NULL;
  for (int i = 0; plugins[i] && !plugin; i++) plugin = access(plugins[i], R_OK) == 0 ? plugins[i] : NULL;
  if (!plugin) {
    fprintf(stderr, "mosq_server: mosquitto_dynamic_security.so not found\n");
    return false;
  }
  char path[128], line[256];
  if (!srv || !json || !write_file(srv, "dynsec.json", json, path, sizeof path)) return false;
  snprintf(line, sizeof line, "plugin %s", plugin);
  bool ok = mosq_server_add_config(srv, line);
  snprintf(line, sizeof line, "plugin_opt_config_file %s", path);
  return ok && mosq_server_add_config(srv, line);
}

static bool write_config(mosq_server_t *srv, const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) return false;
  fprintf(f, "listener %u 127.0.0.1\n", srv->port);
  fprintf(f, "allow_anonymous %s\n", srv->has_users ? "false" : "true");
  if (srv->has_users) fprintf(f, "password_file %s/passwd\n", srv->dir);
  if (srv->persistence) fprintf(f, "persistence true\npersistence_location %s/\n", srv->dir);
  fprintf(f, "log_dest stderr\nlog_type all\n");
  /* As root, mosquitto would switch to the "mosquitto" user, who cannot read our directory. */
  if (geteuid() == 0) fprintf(f, "user root\n");
  for (int i = 0; i < srv->nextra; i++) fprintf(f, "%s\n", srv->extra[i]);
  return fclose(f) == 0;
}

static pid_t spawn(mosq_server_t *srv, char *conf) {
  char log[128];
  snprintf(log, sizeof log, "%s/mosquitto.log", srv->dir);
  char *argv[] = {MOSQ_BIN, "-c", conf, NULL};
  return test_spawn(argv, log);
}

/* How many times the log says the broker is up ("mosquitto version X running"). */
static int count_running(const mosq_server_t *srv) {
  char path[128], line[512];
  snprintf(path, sizeof path, "%s/mosquitto.log", srv->dir);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int n = 0;
  while (fgets(line, sizeof line, f)) n += strstr(line, " running") != NULL;
  fclose(f);
  return n;
}

/* One attempt: true once it is up and accepts, false if it exited or did not
   come up. The log line proves that what accepts is our broker, not another
   process that took the port. */
static bool start_once(mosq_server_t *srv) {
  char conf[128];
  snprintf(conf, sizeof conf, "%s/mosquitto.conf", srv->dir);
  if (!write_config(srv, conf)) return false;
  int before = count_running(srv);
  srv->pid = spawn(srv, conf);
  if (srv->pid < 0) return false;
  for (int i = 0; i < 1000; i++) {
    if (test_exited(srv->pid)) {
      srv->pid = 0;
      return false;
    }
    if (count_running(srv) > before && test_accepts_tcp(srv->port)) return true;
    test_msleep(10);
  }
  mosq_server_kill(srv);
  return false;
}

bool mosq_server_start(mosq_server_t *srv) {
  if (!srv || srv->pid > 0) return false;
  /* A first start may lose its port to another process: try fresh ports.
     A restart must keep its port, so it only waits for it to come free. */
  for (int attempt = 0; attempt < 20; attempt++) {
    if (start_once(srv)) {
      srv->started_once = true;
      return true;
    }
    if (srv->started_once) {
      test_msleep(100);
    } else {
      set_port(srv, test_free_port());
    }
  }
  fprintf(stderr, "mosq_server: mosquitto did not start on port %u (see %s/mosquitto.log)\n", srv->port,
          srv->dir);
  return false;
}

static bool signal_and_wait(mosq_server_t *srv, int sig) {
  if (!srv || srv->pid <= 0) return false;
  kill(srv->pid, SIGCONT); /* a paused broker must run to act on the signal (sent after sig) */
  test_kill_wait(srv->pid, sig);
  srv->pid = 0;
  return true;
}

bool mosq_server_stop(mosq_server_t *srv) { return signal_and_wait(srv, SIGTERM); }

bool mosq_server_kill(mosq_server_t *srv) { return signal_and_wait(srv, SIGKILL); }

bool mosq_server_pause(mosq_server_t *srv, bool paused) {
  if (!srv || srv->pid <= 0) return false;
  return kill(srv->pid, paused ? SIGSTOP : SIGCONT) == 0;
}

bool mosq_server_restart(mosq_server_t *srv) {
  if (!srv) return false;
  if (srv->pid > 0) mosq_server_stop(srv);
  return mosq_server_start(srv);
}

bool mosq_server_running(mosq_server_t *srv) {
  if (!srv || srv->pid <= 0) return false;
  if (test_exited(srv->pid)) {
    srv->pid = 0;
    return false;
  }
  return true;
}

uint16_t mosq_server_port(const mosq_server_t *srv) { return srv ? srv->port : 0; }

const char *mosq_server_uri(const mosq_server_t *srv) { return srv ? srv->uri : ""; }

const char *mosq_server_dir(const mosq_server_t *srv) { return srv ? srv->dir : ""; }

void mosq_server_free(mosq_server_t *srv) {
  if (!srv) return;
  if (srv->pid > 0) mosq_server_stop(srv);
  if (!getenv("IOTKIT_TEST_KEEP")) hal_tmpdir_remove(srv->dir);
  for (int i = 0; i < srv->nextra; i++) free(srv->extra[i]);
  free(srv);
}

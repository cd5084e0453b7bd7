/* A real nginx for integration tests (see nginx_server.h). */
#include "nginx_server.h"
#include "test_net.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hal_tmpdir.h"

#define NGINX_BIN "/usr/sbin/nginx"

struct nginx_server {
  char dir[128];
  char url[512];
  uint16_t port;
  pid_t pid;
};

static void msleep(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}


static void path_of(const nginx_server_t *srv, const char *name, char *buf, size_t cap) {
  snprintf(buf, cap, "%s/%s", srv->dir, name);
}

nginx_server_t *nginx_server_new(void) {
  nginx_server_t *srv = calloc(1, sizeof *srv);
  if (!srv) return NULL;
  const char *base = getenv("TMPDIR");
  snprintf(srv->dir, sizeof srv->dir, "%s/iotkit-nginx-XXXXXX", base && *base ? base : "/tmp");
  char root[192];
  if (!mkdtemp(srv->dir)) {
    fprintf(stderr, "nginx_server: mkdtemp: %s\n", strerror(errno));
    free(srv);
    return NULL;
  }
  path_of(srv, "root", root, sizeof root);
  mkdir(root, 0700);
  return srv;
}

bool nginx_server_put(nginx_server_t *srv, const char *name, const void *data, size_t len) {
  if (!srv || !name || strchr(name, '/')) return false;
  char path[256];
  snprintf(path, sizeof path, "%s/root/%s", srv->dir, name);
  FILE *f = fopen(path, "wb");
  if (!f) return false;
  bool ok = fwrite(data, 1, len, f) == len;
  return fclose(f) == 0 && ok;
}

static bool write_config(const nginx_server_t *srv, const char *conf) {
  FILE *f = fopen(conf, "w");
  if (!f) return false;
  const char *d = srv->dir;
  fprintf(f,
          "daemon off;\nmaster_process off;\nworker_processes 1;\npid %s/nginx.pid;\n"
          "error_log %s/error.log info;\n"
          "events { worker_connections 64; }\n"
          "http {\n"
          "  log_format iotkit '$status \"$request\" \"$http_range\" $body_bytes_sent';\n"
          "  access_log %s/access.log iotkit;\n"
          "  client_body_temp_path %s/tmp-body; proxy_temp_path %s/tmp-proxy;\n"
          "  fastcgi_temp_path %s/tmp-fcgi; uwsgi_temp_path %s/tmp-uwsgi; scgi_temp_path %s/tmp-scgi;\n"
          "  default_type application/octet-stream;\n"
          "  server {\n"
          "    listen 127.0.0.1:%u;\n"
          "    root %s/root;\n"
          "    location = /error500 { return 500; }\n"
          "  }\n"
          "}\n",
          d, d, d, d, d, d, d, d, srv->port, d);
  return fclose(f) == 0;
}

/* How many access log lines there are (a line is complete when its newline is there). */
static int count_lines(const nginx_server_t *srv) {
  char path[256];
  path_of(srv, "access.log", path, sizeof path);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int n = 0, c;
  while ((c = fgetc(f)) != EOF) n += c == '\n';
  fclose(f);
  return n;
}

static bool start_once(nginx_server_t *srv) {
  char conf[256], log[256];
  path_of(srv, "nginx.conf", conf, sizeof conf);
  path_of(srv, "nginx.out", log, sizeof log);
  if (!write_config(srv, conf)) return false;
  srv->pid = fork();
  if (srv->pid < 0) return false;
  if (srv->pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    char err[256];
    path_of(srv, "error.log", err, sizeof err);
    execl(NGINX_BIN, "nginx", "-e", err, "-p", srv->dir, "-c", conf, (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 1000; i++) {
    int status;
    if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
      srv->pid = 0;
      return false;
    }
    if (test_net_accepts_tcp(srv->port)) return true;
    msleep(10);
  }
  return false;
}

bool nginx_server_start(nginx_server_t *srv) {
  if (!srv || srv->pid > 0) return false;
  /* The port may be taken between picking and binding: try fresh ones. */
  for (int attempt = 0; attempt < 20; attempt++) {
    srv->port = test_net_free_port();
    if (start_once(srv)) return true;
  }
  fprintf(stderr, "nginx_server: nginx did not start (see %s/error.log)\n", srv->dir);
  return false;
}

const char *nginx_server_url(nginx_server_t *srv, const char *path) {
  snprintf(srv->url, sizeof srv->url, "http://127.0.0.1:%u/%s", srv->port, path);
  return srv->url;
}

int nginx_server_log(nginx_server_t *srv, nginx_log_entry_t *out, int max) {
  char path[256], line[1024];
  path_of(srv, "access.log", path, sizeof path);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int n = 0;
  while (n < max && fgets(line, sizeof line, f)) {
    nginx_log_entry_t e;
    memset(&e, 0, sizeof e);
    unsigned long long bytes = 0;
    if (sscanf(line, "%d \"%255[^\"]\" \"%63[^\"]\" %llu", &e.status, e.request, e.range, &bytes) == 4 ||
        sscanf(line, "%d \"%255[^\"]\" \"\" %llu", &e.status, e.request, &bytes) == 3) {
      if (strcmp(e.range, "-") == 0) e.range[0] = '\0';
      e.bytes = bytes;
      out[n++] = e;
    }
  }
  fclose(f);
  return n;
}

bool nginx_server_wait_log(nginx_server_t *srv, int n) {
  for (int i = 0; i < 1000; i++) {
    if (count_lines(srv) >= n) return true;
    msleep(10);
  }
  return false;
}

bool nginx_server_clear_log(nginx_server_t *srv) {
  char path[256];
  path_of(srv, "access.log", path, sizeof path);
  return truncate(path, 0) == 0;
}

void nginx_server_free(nginx_server_t *srv) {
  if (!srv) return;
  if (srv->pid > 0) {
    kill(srv->pid, SIGTERM);
    int status;
    while (waitpid(srv->pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (!getenv("IOTKIT_TEST_KEEP")) hal_tmpdir_remove(srv->dir);
  free(srv);
}

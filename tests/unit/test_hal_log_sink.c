/* Log sinks of the shipped HALs (log_cb / log_user): every line at or above
   log_level reaches the callback without a time stamp; with the POSIX HAL's
   log_fd -1 only the callback gets it; a device's connect lines arrive there,
   and a password never does, even at TRACE. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <iotkit/iotkit.h>

#include "hal_tmpdir.h"

#define SECRET "s3cret-Pa55word"

static struct {
  pthread_mutex_t lock;
  char text[64 * 1024];
  size_t len;
  int lines;
  int below_level; /* lines below the configured level that reached the sink */
  iotkit_log_level_t level;
  void *user_seen;
} sink = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void on_log(void *user, iotkit_log_level_t level, const char *line) {
  pthread_mutex_lock(&sink.lock);
  sink.user_seen = user;
  if (level > sink.level) sink.below_level++;
  sink.lines++;
  int n = snprintf(sink.text + sink.len, sizeof sink.text - sink.len, "[%s] %s\n", iotkit_log_level_name(level), line);
  if (n > 0 && (size_t)n < sizeof sink.text - sink.len) sink.len += (size_t)n;
  pthread_mutex_unlock(&sink.lock);
}

static char dir[256];
static void setup(void) { hal_tmpdir_make(dir, sizeof dir); }
static void teardown(void) { hal_tmpdir_remove(dir); }
TestSuite(hal_log_sink, .init = setup, .fini = teardown, .timeout = 30);

static iotkit_hal_t *posix_hal(iotkit_log_level_t level, int fd) {
  iotkit_hal_posix_config_t pc;
  iotkit_hal_posix_config_init(&pc);
  pc.state_dir = dir;
  pc.log_level = level;
  pc.log_fd = fd;
  pc.log_cb = on_log;
  pc.log_user = &sink;
  sink.level = level;
  iotkit_hal_t *h = NULL;
  cr_assert_eq(iotkit_hal_posix_new(&pc, &h), IOTKIT_OK);
  return h;
}

Test(hal_log_sink, posix_callback_only_with_fd_minus_one) {
  iotkit_hal_t *h = posix_hal(IOTKIT_LOG_INFO, -1);
  iotkit_hal_log(h, IOTKIT_LOG_WARN, "hello sink");
  iotkit_hal_logf(h, IOTKIT_LOG_DEBUG, "below the level %d", 1);
  cr_assert_eq(sink.lines, 1);
  cr_assert_str_eq(sink.text, "[warn] hello sink\n", "no time stamp, the text as given");
  cr_assert_eq(sink.user_seen, &sink);
  iotkit_hal_free(h);
}

Test(hal_log_sink, posix_callback_and_fd) {
  int fds[2];
  cr_assert_eq(pipe(fds), 0);
  iotkit_hal_t *h = posix_hal(IOTKIT_LOG_INFO, fds[1]);
  iotkit_hal_log(h, IOTKIT_LOG_ERROR, "both ways");
  char buf[256] = {0};
  ssize_t n = read(fds[0], buf, sizeof buf - 1);
  cr_assert_gt(n, 0);
  cr_assert_not_null(strstr(buf, "iotkit[error] both ways\n"), "%s", buf);
  cr_assert_str_eq(sink.text, "[error] both ways\n");
  iotkit_hal_free(h);
  close(fds[0]);
  close(fds[1]);
}

Test(hal_log_sink, device_connect_lines_reach_posix_callback_without_password) {
  iotkit_hal_t *h = posix_hal(IOTKIT_LOG_TRACE, -1);
  iotkit_device_config_t cfg;
  iotkit_device_config_init(&cfg);
  cfg.device_id = "log-1";
  cfg.uri = "loop://x";
  cfg.username = "user";
  cfg.password = SECRET;
  cfg.hal = h;
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&cfg, &dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_send_telemetry(dev, "{\"t\":1}", 7, NULL), IOTKIT_OK);
  cr_assert_eq(iotkit_device_poll(dev, 0), IOTKIT_OK);
  cr_assert_eq(iotkit_device_disconnect(dev), IOTKIT_OK);
  iotkit_device_free(dev);
  pthread_mutex_lock(&sink.lock);
  cr_assert_not_null(strstr(sink.text, "device log-1: connected"), "%s", sink.text);
  cr_assert_null(strstr(sink.text, SECRET), "the password reached the log sink:\n%s", sink.text);
  pthread_mutex_unlock(&sink.lock);
  iotkit_hal_free(h);
}

Test(hal_log_sink, memory_callback) {
  iotkit_hal_memory_config_t mc;
  iotkit_hal_memory_config_init(&mc);
  mc.log_level = IOTKIT_LOG_INFO;
  mc.log_cb = on_log;
  mc.log_user = &sink;
  sink.level = IOTKIT_LOG_INFO;
  iotkit_hal_t *h = NULL;
  cr_assert_eq(iotkit_hal_memory_new(&mc, &h), IOTKIT_OK);
  iotkit_hal_log(h, IOTKIT_LOG_INFO, "kept");
  iotkit_hal_log(h, IOTKIT_LOG_DEBUG, "dropped");
  cr_assert_eq(sink.lines, 1);
  cr_assert_str_eq(sink.text, "[info] kept\n");
  cr_assert_str_eq(iotkit_hal_memory_log(h), "[info] kept\n", "the captured log still has it");
  cr_assert_eq(sink.below_level, 0);
  iotkit_hal_free(h);
}

Test(hal_log_sink, memory_device_trace_without_password) {
  iotkit_hal_memory_config_t mc;
  iotkit_hal_memory_config_init(&mc);
  mc.log_level = IOTKIT_LOG_TRACE;
  mc.log_cb = on_log;
  sink.level = IOTKIT_LOG_TRACE;
  iotkit_hal_t *h = NULL;
  cr_assert_eq(iotkit_hal_memory_new(&mc, &h), IOTKIT_OK);
  iotkit_device_config_t cfg;
  iotkit_device_config_init(&cfg);
  cfg.device_id = "log-2";
  cfg.uri = "loop://user:" SECRET "@x";
  cfg.hal = h;
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&cfg, &dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_connect(dev), IOTKIT_OK);
  cr_assert_eq(iotkit_device_disconnect(dev), IOTKIT_OK);
  iotkit_device_free(dev);
  cr_assert_null(sink.user_seen, "log_user NULL is passed as is");
  cr_assert_not_null(strstr(sink.text, "device log-2: connected"), "%s", sink.text);
  cr_assert_null(strstr(sink.text, SECRET), "%s", sink.text);
  iotkit_hal_free(h);
}

/* Fleet registry tests: temporary directory, memory HAL, fleet on a file. */
#include "fleet_fixture.h"

#include <criterion/criterion.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hal_tmpdir.h"

static void make_hal(fleet_fixture_t *fx) {
  iotkit_hal_memory_config_t hc;
  iotkit_hal_memory_config_init(&hc);
  hc.manual_clock = true;
  cr_assert_eq(iotkit_hal_memory_new(&hc, &fx->hal), IOTKIT_OK);
}

iotkit_err_t fleet_fixture_open(fleet_fixture_t *fx, const char *path, iotkit_fleet_t **out) {
  iotkit_fleet_config_t cfg;
  iotkit_fleet_config_init(&cfg);
  cfg.db_path = path;
  cfg.hal = fx->hal;
  cfg.busy_timeout_ms = 200;
  cfg.error_buf = fx->err;
  cfg.error_buf_size = sizeof(fx->err);
  fx->err[0] = '\0';
  return iotkit_fleet_new(&cfg, out);
}

void fleet_fixture_setup(fleet_fixture_t *fx) {
  memset(fx, 0, sizeof(*fx));
  hal_tmpdir_make(fx->dir, sizeof(fx->dir));
  snprintf(fx->path, sizeof(fx->path), "%s/fleet.db", fx->dir);
  make_hal(fx);
  iotkit_err_t rc = fleet_fixture_open(fx, fx->path, &fx->fleet);
  cr_assert_eq(rc, IOTKIT_OK, "%s: %s", iotkit_err_name(rc), fx->err);
}

void fleet_fixture_setup_memory(fleet_fixture_t *fx) {
  memset(fx, 0, sizeof(*fx));
  snprintf(fx->path, sizeof(fx->path), ":memory:");
  make_hal(fx);
  iotkit_err_t rc = fleet_fixture_open(fx, fx->path, &fx->fleet);
  cr_assert_eq(rc, IOTKIT_OK, "%s: %s", iotkit_err_name(rc), fx->err);
}

void fleet_fixture_reopen(fleet_fixture_t *fx) {
  iotkit_fleet_free(fx->fleet);
  fx->fleet = NULL;
  iotkit_err_t rc = fleet_fixture_open(fx, fx->path, &fx->fleet);
  cr_assert_eq(rc, IOTKIT_OK, "%s: %s", iotkit_err_name(rc), fx->err);
}

void fleet_fixture_teardown(fleet_fixture_t *fx) {
  iotkit_fleet_free(fx->fleet);
  fx->fleet = NULL;
  iotkit_hal_free(fx->hal);
  fx->hal = NULL;
  if (fx->dir[0]) hal_tmpdir_remove(fx->dir);
}

iotkit_err_t fleet_fixture_create(iotkit_fleet_t *fleet, const char *id, const char *type, const char *const *tags,
                                  size_t tag_count) {
  iotkit_fleet_device_spec_t spec;
  iotkit_fleet_device_spec_init(&spec);
  spec.id = id;
  spec.type = type;
  spec.tags = tags;
  spec.tag_count = tag_count;
  return iotkit_fleet_device_create(fleet, &spec);
}

const char *fleet_fixture_peer(void) { return IOTKIT_BINARY_DIR "/tests/fleet_peer"; }

bool fleet_fixture_drop_root(void) {
  if (geteuid() != 0) return true;
  gid_t nobody_gid = 65534;
  if (setgroups(1, &nobody_gid) != 0 || setgid(65534) != 0 || setuid(65534) != 0) return false;
  /* $TMPDIR may be root's own: use /tmp, which anyone may write. */
  unsetenv("TMPDIR");
  return geteuid() != 0;
}

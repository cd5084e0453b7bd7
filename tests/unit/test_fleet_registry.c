// requires: fleet
/* Fleet registry: configuration, create/get/update/delete, every bad input with
   its exact code, SQL-looking strings stored literally, concurrent writers. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/fleet_internal.h"
#include "fleet_fixture.h"

static fleet_fixture_t fx;

static void setup(void) { fleet_fixture_setup(&fx); }
static void teardown(void) { fleet_fixture_teardown(&fx); }

TestSuite(fleet_config, .timeout = 60);
TestSuite(fleet_crud, .init = setup, .fini = teardown, .timeout = 60);
TestSuite(fleet_bad_input, .init = setup, .fini = teardown, .timeout = 60);

static iotkit_fleet_device_t *get(const char *id) {
  iotkit_fleet_device_t *d = NULL;
  iotkit_err_t rc = iotkit_fleet_device_get(fx.fleet, id, &d);
  cr_assert_eq(rc, IOTKIT_OK, "get %s: %s", id, iotkit_err_name(rc));
  cr_assert_not_null(d);
  return d;
}

static uint64_t count_all(void) {
  uint64_t n = 0;
  cr_assert_eq(iotkit_fleet_count(fx.fleet, NULL, &n), IOTKIT_OK);
  return n;
}

static char *last_error(void) {
  static char buf[IOTKIT_ERROR_TEXT_SIZE];
  return (char *)iotkit_fleet_last_error(fx.fleet, buf, sizeof(buf));
}

static iotkit_fleet_device_spec_t spec_of(const char *id) {
  iotkit_fleet_device_spec_t s;
  iotkit_fleet_device_spec_init(&s);
  s.id = id;
  return s;
}

/* A string of @p n copies of @p c (static buffer per call site is not needed: the caller frees). */
static char *repeat(char c, size_t n) {
  char *s = malloc(n + 1);
  cr_assert_not_null(s);
  memset(s, c, n);
  s[n] = '\0';
  return s;
}

/* ------------------------------------------------------------ config -- */

Test(fleet_config, defaults) {
  iotkit_fleet_config_t cfg;
  memset(&cfg, 0x5a, sizeof(cfg));
  iotkit_fleet_config_init(&cfg);
  cr_assert_eq(cfg.struct_size, sizeof(cfg));
  cr_assert_null(cfg.db_path);
  cr_assert_null(cfg.hal);
  cr_assert_eq(cfg.busy_timeout_ms, IOTKIT_FLEET_BUSY_TIMEOUT_DEFAULT_MS);
  cr_assert_not(cfg.integrity_check);
  cr_assert_str_eq(cfg.topic_prefix, IOTKIT_TOPIC_PREFIX_DEFAULT);
  cr_assert(cfg.tls.verify_peer);
  cr_assert_not(cfg.auto_register);
  cr_assert_null(cfg.auto_register_cb);
  iotkit_fleet_config_init(NULL);

  iotkit_fleet_filter_t f;
  memset(&f, 0x5a, sizeof(f));
  iotkit_fleet_filter_init(&f);
  cr_assert_eq(f.struct_size, sizeof(f));
  cr_assert_null(f.type);
  cr_assert_null(f.tag);
  cr_assert_eq(f.online, IOTKIT_FLEET_ONLINE_ANY);
  cr_assert_eq(f.last_seen_before_ms, 0);
  cr_assert_eq(f.last_seen_after_ms, 0);

  iotkit_fleet_device_spec_t s;
  memset(&s, 0x5a, sizeof(s));
  iotkit_fleet_device_spec_init(&s);
  cr_assert_eq(s.struct_size, sizeof(s));
  cr_assert_null(s.id);
  cr_assert_null(s.tags);
  cr_assert_eq(s.tag_count, 0);
}

Test(fleet_config, limits_exposed) {
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_FLEET_MAX_NAME), IOTKIT_FLEET_MAX_NAME);
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_FLEET_MAX_TYPE), IOTKIT_FLEET_MAX_TYPE);
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_FLEET_MAX_TAG), IOTKIT_FLEET_MAX_TAG);
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_FLEET_MAX_TAGS), IOTKIT_FLEET_MAX_TAGS);
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_FLEET_MAX_ATTRIBUTES), IOTKIT_FLEET_MAX_ATTRIBUTES);
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_FLEET_MAX_PAGE), IOTKIT_FLEET_MAX_PAGE);
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_FLEET_BUSY_TIMEOUT_DEFAULT_MS), IOTKIT_FLEET_BUSY_TIMEOUT_DEFAULT_MS);
  cr_assert_str_eq(iotkit_limit_name(IOTKIT_LIMIT_FLEET_MAX_ATTRIBUTES), "FLEET_MAX_ATTRIBUTES");
}

/* A config on :memory: with the given HAL, an error buffer in @p err. */
static iotkit_fleet_config_t mem_cfg(const iotkit_hal_t *hal, char *err, size_t cap) {
  iotkit_fleet_config_t cfg;
  iotkit_fleet_config_init(&cfg);
  cfg.db_path = ":memory:";
  cfg.hal = hal;
  cfg.error_buf = err;
  cfg.error_buf_size = cap;
  return cfg;
}

Test(fleet_config, null_arguments) {
  iotkit_hal_t *hal = NULL;
  cr_assert_eq(iotkit_hal_memory_new(NULL, &hal), IOTKIT_OK);
  char err[IOTKIT_ERROR_TEXT_SIZE];
  iotkit_fleet_config_t cfg = mem_cfg(hal, err, sizeof(err));
  iotkit_fleet_t *fleet = (iotkit_fleet_t *)0x1;
  cr_assert_eq(iotkit_fleet_new(NULL, &fleet), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_new(&cfg, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(fleet, (iotkit_fleet_t *)0x1, "out left alone on failure");
  iotkit_fleet_free(NULL);
  char buf[8] = "x";
  cr_assert_str_eq(iotkit_fleet_last_error(NULL, buf, sizeof(buf)), "");
  iotkit_hal_free(hal);
}

Test(fleet_config, no_db_path) {
  iotkit_hal_t *hal = NULL;
  cr_assert_eq(iotkit_hal_memory_new(NULL, &hal), IOTKIT_OK);
  char err[IOTKIT_ERROR_TEXT_SIZE] = "";
  iotkit_fleet_config_t cfg = mem_cfg(hal, err, sizeof(err));
  cfg.db_path = NULL;
  iotkit_fleet_t *fleet = NULL;
  cr_assert_eq(iotkit_fleet_new(&cfg, &fleet), IOTKIT_ERR_INVALID_ARG);
  cr_assert_null(fleet);
  cr_assert(strstr(err, "db_path"), "%s", err);
  cfg.db_path = "";
  cr_assert_eq(iotkit_fleet_new(&cfg, &fleet), IOTKIT_ERR_INVALID_ARG);
  iotkit_hal_free(hal);
}

Test(fleet_config, no_hal) {
  char err[IOTKIT_ERROR_TEXT_SIZE] = "";
  iotkit_fleet_config_t cfg = mem_cfg(NULL, err, sizeof(err));
  iotkit_fleet_t *fleet = NULL;
  cr_assert_eq(iotkit_fleet_new(&cfg, &fleet), IOTKIT_ERR_INVALID_ARG);
  cr_assert(strstr(err, "HAL"), "%s", err);
}

Test(fleet_config, struct_size_below_hal) {
  iotkit_hal_t *hal = NULL;
  cr_assert_eq(iotkit_hal_memory_new(NULL, &hal), IOTKIT_OK);
  iotkit_fleet_config_t cfg = mem_cfg(hal, NULL, 0);
  cfg.struct_size = offsetof(iotkit_fleet_config_t, hal);
  iotkit_fleet_t *fleet = NULL;
  cr_assert_eq(iotkit_fleet_new(&cfg, &fleet), IOTKIT_ERR_INVALID_ARG);
  iotkit_hal_free(hal);
}

Test(fleet_config, struct_size_zero_and_future_accepted) {
  iotkit_hal_t *hal = NULL;
  cr_assert_eq(iotkit_hal_memory_new(NULL, &hal), IOTKIT_OK);
  struct {
    iotkit_fleet_config_t cfg;
    unsigned char future[64];
  } big;
  memset(&big, 0x5a, sizeof(big));
  big.cfg = mem_cfg(hal, NULL, 0);
  big.cfg.struct_size = sizeof(big);
  iotkit_fleet_t *fleet = NULL;
  cr_assert_eq(iotkit_fleet_new(&big.cfg, &fleet), IOTKIT_OK);
  iotkit_fleet_free(fleet);
  iotkit_fleet_config_t zero = {.db_path = ":memory:", .hal = hal};
  cr_assert_eq(iotkit_fleet_new(&zero, &fleet), IOTKIT_OK);
  iotkit_fleet_free(fleet);
  iotkit_hal_free(hal);
}

Test(fleet_config, hal_without_threads) {
  iotkit_hal_t *hal = NULL;
  cr_assert_eq(iotkit_hal_memory_new(NULL, &hal), IOTKIT_OK);
  iotkit_hal_t copy = *hal;
  copy.thread_start = NULL;
  char err[IOTKIT_ERROR_TEXT_SIZE] = "";
  iotkit_fleet_config_t cfg = mem_cfg(&copy, err, sizeof(err));
  iotkit_fleet_t *fleet = NULL;
  cr_assert_eq(iotkit_fleet_new(&cfg, &fleet), IOTKIT_ERR_INVALID_ARG);
  cr_assert(strstr(err, "thread"), "%s", err);
  iotkit_hal_free(hal);
}

Test(fleet_config, hal_without_cond_nor_sleep) {
  iotkit_hal_t *hal = NULL;
  cr_assert_eq(iotkit_hal_memory_new(NULL, &hal), IOTKIT_OK);
  iotkit_hal_t copy = *hal;
  copy.cond_new = NULL;
  copy.sleep_ms = NULL;
  iotkit_fleet_config_t cfg = mem_cfg(&copy, NULL, 0);
  iotkit_fleet_t *fleet = NULL;
  cr_assert_eq(iotkit_fleet_new(&cfg, &fleet), IOTKIT_ERR_UNSUPPORTED);
  iotkit_hal_free(hal);
}

Test(fleet_config, bad_topic_prefix) {
  iotkit_hal_t *hal = NULL;
  cr_assert_eq(iotkit_hal_memory_new(NULL, &hal), IOTKIT_OK);
  const char *bad[] = {"", "a/+/b", "a//b", "#", "a/../b"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    iotkit_fleet_config_t cfg = mem_cfg(hal, NULL, 0);
    cfg.topic_prefix = bad[i];
    iotkit_fleet_t *fleet = NULL;
    cr_assert_eq(iotkit_fleet_new(&cfg, &fleet), IOTKIT_ERR_INVALID_ARG, "prefix '%s'", bad[i]);
  }
  iotkit_hal_free(hal);
}

Test(fleet_config, broker_fields_copied) {
  iotkit_hal_t *hal = NULL;
  cr_assert_eq(iotkit_hal_memory_new(NULL, &hal), IOTKIT_OK);
  char uri[] = "mqtt://127.0.0.1:1883", user[] = "ops", pass[] = "secret", prefix[] = "acme/v1";
  iotkit_fleet_config_t cfg = mem_cfg(hal, NULL, 0);
  cfg.uri = uri;
  cfg.username = user;
  cfg.password = pass;
  cfg.topic_prefix = prefix;
  cfg.auto_register = true;
  iotkit_fleet_t *fleet = NULL;
  cr_assert_eq(iotkit_fleet_new(&cfg, &fleet), IOTKIT_OK);
  memset(uri, 'x', sizeof(uri) - 1);
  memset(pass, 'x', sizeof(pass) - 1);
  cr_assert_str_eq(fleet->uri, "mqtt://127.0.0.1:1883");
  cr_assert_str_eq(fleet->username, "ops");
  cr_assert_str_eq(fleet->password, "secret");
  cr_assert_str_eq(fleet->topic_prefix, "acme/v1");
  cr_assert(fleet->auto_register);
  iotkit_fleet_free(fleet);
  iotkit_hal_free(hal);
}

/* A HAL of the 0.2.0 layout has no condition variables: the writer polls with sleep_ms. */
Test(fleet_config, old_hal_without_cond_works) {
  iotkit_hal_t *hal = NULL;
  cr_assert_eq(iotkit_hal_memory_new(NULL, &hal), IOTKIT_OK);
  iotkit_hal_t old = *hal;
  old.struct_size = offsetof(iotkit_hal_t, cond_new);
  iotkit_fleet_config_t cfg = mem_cfg(&old, NULL, 0);
  iotkit_fleet_t *fleet = NULL;
  cr_assert_eq(iotkit_fleet_new(&cfg, &fleet), IOTKIT_OK);
  cr_assert_null(fleet->wq_work, "the cond ops beyond struct_size must not be used");
  for (int i = 0; i < 20; i++) {
    char id[16];
    snprintf(id, sizeof(id), "old-%02d", i);
    cr_assert_eq(fleet_fixture_create(fleet, id, NULL, NULL, 0), IOTKIT_OK);
  }
  uint64_t n = 0;
  cr_assert_eq(iotkit_fleet_count(fleet, NULL, &n), IOTKIT_OK);
  cr_assert_eq(n, 20);
  iotkit_fleet_free(fleet);
  iotkit_hal_free(hal);
}

Test(fleet_config, memory_databases_are_separate) {
  iotkit_hal_t *hal = NULL;
  cr_assert_eq(iotkit_hal_memory_new(NULL, &hal), IOTKIT_OK);
  iotkit_fleet_config_t cfg = mem_cfg(hal, NULL, 0);
  iotkit_fleet_t *a = NULL, *b = NULL;
  cr_assert_eq(iotkit_fleet_new(&cfg, &a), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_new(&cfg, &b), IOTKIT_OK);
  cr_assert_eq(fleet_fixture_create(a, "only-in-a", NULL, NULL, 0), IOTKIT_OK);
  iotkit_fleet_device_t *d = NULL;
  cr_assert_eq(iotkit_fleet_device_get(a, "only-in-a", &d), IOTKIT_OK);
  iotkit_fleet_device_free(d);
  d = NULL;
  cr_assert_eq(iotkit_fleet_device_get(b, "only-in-a", &d), IOTKIT_ERR_NOT_FOUND);
  cr_assert_null(d);
  iotkit_fleet_free(a);
  iotkit_fleet_free(b);
  iotkit_hal_free(hal);
}

/* -------------------------------------------------------------- CRUD -- */

Test(fleet_crud, create_then_get_every_field) {
  const char *tags[] = {"floor-3", "north", "critical"};
  iotkit_fleet_device_spec_t s = spec_of("thermo-1");
  s.name = "Thermostat, lobby";
  s.type = "thermo-v2";
  s.tags = tags;
  s.tag_count = 3;
  s.attributes = "{\"fw\":\"2.1.0\",\"loc\":{\"room\":12}}";
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_OK);
  iotkit_fleet_device_t *d = get("thermo-1");
  cr_assert_eq(d->struct_size, sizeof(*d));
  cr_assert_str_eq(d->id, "thermo-1");
  cr_assert_str_eq(d->name, "Thermostat, lobby");
  cr_assert_str_eq(d->type, "thermo-v2");
  cr_assert_eq(d->tag_count, 3);
  for (size_t i = 0; i < 3; i++) cr_assert_str_eq(d->tags[i], tags[i], "tags keep their order");
  cr_assert_str_eq(d->attributes, "{\"fw\":\"2.1.0\",\"loc\":{\"room\":12}}");
  cr_assert_eq(d->created_ms, FLEET_FIXTURE_T0_MS);
  cr_assert_eq(d->updated_ms, FLEET_FIXTURE_T0_MS);
  cr_assert_eq(d->last_seen_ms, 0);
  cr_assert_not(d->online);
  iotkit_fleet_device_free(d);
  iotkit_fleet_device_free(NULL);
}

Test(fleet_crud, create_with_defaults) {
  iotkit_fleet_device_spec_t s = spec_of("bare");
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_OK);
  iotkit_fleet_device_t *d = get("bare");
  cr_assert_str_eq(d->name, "");
  cr_assert_str_eq(d->type, "");
  cr_assert_eq(d->tag_count, 0);
  cr_assert_null(d->tags);
  cr_assert_str_eq(d->attributes, "{}");
  iotkit_fleet_device_free(d);
}

Test(fleet_crud, attributes_stored_as_given) {
  iotkit_fleet_device_spec_t s = spec_of("fmt");
  s.attributes = "{ \"a\" : 1.50 ,\n \"b\": [ ] }  ";
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_OK);
  iotkit_fleet_device_t *d = get("fmt");
  cr_assert_str_eq(d->attributes, "{ \"a\" : 1.50 ,\n \"b\": [ ] }  ");
  iotkit_fleet_device_free(d);
}

Test(fleet_crud, unicode_round_trip) {
  const char *tags[] = {"étage-2", "北", "🌡"};
  iotkit_fleet_device_spec_t s = spec_of("uni");
  s.name = "Température — salle 北京 🌡";
  s.tags = tags;
  s.tag_count = 3;
  s.attributes = "{\"note\":\"ünïcødé \\u00e9\"}";
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_OK);
  iotkit_fleet_device_t *d = get("uni");
  cr_assert_str_eq(d->name, s.name);
  for (size_t i = 0; i < 3; i++) cr_assert_str_eq(d->tags[i], tags[i]);
  cr_assert_str_eq(d->attributes, s.attributes);
  iotkit_fleet_device_free(d);
}

Test(fleet_crud, duplicate_id_is_exists) {
  iotkit_fleet_device_spec_t s = spec_of("dup");
  s.name = "first";
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_OK);
  s.name = "second";
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_ERR_EXISTS);
  cr_assert(strstr(last_error(), "dup"), "%s", last_error());
  iotkit_fleet_device_t *d = get("dup");
  cr_assert_str_eq(d->name, "first", "the failed create changed nothing");
  iotkit_fleet_device_free(d);
  cr_assert_eq(count_all(), 1);
}

Test(fleet_crud, get_unknown_is_not_found) {
  iotkit_fleet_device_t *d = (iotkit_fleet_device_t *)0x1;
  cr_assert_eq(iotkit_fleet_device_get(fx.fleet, "nobody", &d), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(d, (iotkit_fleet_device_t *)0x1, "out left alone");
  cr_assert(strstr(last_error(), "nobody"), "%s", last_error());
}

Test(fleet_crud, update_unknown_is_not_found) {
  iotkit_fleet_device_spec_t s = spec_of("ghost");
  s.name = "x";
  cr_assert_eq(iotkit_fleet_device_update(fx.fleet, &s, IOTKIT_FLEET_FIELD_NAME), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(iotkit_fleet_device_update(fx.fleet, &s, IOTKIT_FLEET_FIELD_TAGS), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(iotkit_fleet_device_update(fx.fleet, &s, 0), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(count_all(), 0);
}

Test(fleet_crud, delete_unknown_is_not_found) {
  cr_assert_eq(iotkit_fleet_device_delete(fx.fleet, "ghost"), IOTKIT_ERR_NOT_FOUND);
}

Test(fleet_crud, delete_then_gone_and_recreate_clean) {
  const char *tags[] = {"a", "b"};
  cr_assert_eq(fleet_fixture_create(fx.fleet, "gone", "t1", tags, 2), IOTKIT_OK);
  cr_assert_eq(fleet_fixture_create(fx.fleet, "stays", NULL, tags, 1), IOTKIT_OK);
  cr_assert_eq(iotkit_fleet_device_delete(fx.fleet, "gone"), IOTKIT_OK);
  iotkit_fleet_device_t *d = NULL;
  cr_assert_eq(iotkit_fleet_device_get(fx.fleet, "gone", &d), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(iotkit_fleet_device_delete(fx.fleet, "gone"), IOTKIT_ERR_NOT_FOUND, "a second delete");
  cr_assert_eq(count_all(), 1);
  /* The same id again starts from nothing: no tags of the old record. */
  cr_assert_eq(fleet_fixture_create(fx.fleet, "gone", NULL, NULL, 0), IOTKIT_OK);
  d = get("gone");
  cr_assert_eq(d->tag_count, 0);
  cr_assert_str_eq(d->type, "");
  iotkit_fleet_device_free(d);
  d = get("stays");
  cr_assert_eq(d->tag_count, 1);
  iotkit_fleet_device_free(d);
}

Test(fleet_crud, update_only_the_named_fields) {
  const char *tags[] = {"x", "y"};
  iotkit_fleet_device_spec_t s = spec_of("upd");
  s.name = "old name";
  s.type = "old-type";
  s.tags = tags;
  s.tag_count = 2;
  s.attributes = "{\"k\":1}";
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_advance(fx.hal, 5000), IOTKIT_OK);

  /* Only the name: the rest of the spec is ignored (even fields that would be refused). */
  iotkit_fleet_device_spec_t u = spec_of("upd");
  u.name = "new name";
  u.type = "bad type!";
  u.attributes = "not json";
  cr_assert_eq(iotkit_fleet_device_update(fx.fleet, &u, IOTKIT_FLEET_FIELD_NAME), IOTKIT_OK);
  iotkit_fleet_device_t *d = get("upd");
  cr_assert_str_eq(d->name, "new name");
  cr_assert_str_eq(d->type, "old-type");
  cr_assert_eq(d->tag_count, 2);
  cr_assert_str_eq(d->attributes, "{\"k\":1}");
  cr_assert_eq(d->created_ms, FLEET_FIXTURE_T0_MS);
  cr_assert_eq(d->updated_ms, FLEET_FIXTURE_T0_MS + 5000);
  iotkit_fleet_device_free(d);

  /* Type and attributes, not the name. */
  u = spec_of("upd");
  u.type = "new-type";
  u.attributes = "{\"k\":2}";
  cr_assert_eq(iotkit_fleet_device_update(fx.fleet, &u, IOTKIT_FLEET_FIELD_TYPE | IOTKIT_FLEET_FIELD_ATTRIBUTES),
               IOTKIT_OK);
  d = get("upd");
  cr_assert_str_eq(d->name, "new name");
  cr_assert_str_eq(d->type, "new-type");
  cr_assert_str_eq(d->attributes, "{\"k\":2}");
  cr_assert_eq(d->tag_count, 2);
  iotkit_fleet_device_free(d);
}

Test(fleet_crud, update_tags_replace_and_clear) {
  const char *tags[] = {"a", "b", "c"};
  cr_assert_eq(fleet_fixture_create(fx.fleet, "tg", NULL, tags, 3), IOTKIT_OK);
  const char *other[] = {"c", "z"};
  iotkit_fleet_device_spec_t u = spec_of("tg");
  u.tags = other;
  u.tag_count = 2;
  cr_assert_eq(iotkit_fleet_device_update(fx.fleet, &u, IOTKIT_FLEET_FIELD_TAGS), IOTKIT_OK);
  iotkit_fleet_device_t *d = get("tg");
  cr_assert_eq(d->tag_count, 2);
  cr_assert_str_eq(d->tags[0], "c");
  cr_assert_str_eq(d->tags[1], "z");
  iotkit_fleet_device_free(d);
  u = spec_of("tg"); /* tags NULL: none */
  cr_assert_eq(iotkit_fleet_device_update(fx.fleet, &u, IOTKIT_FLEET_FIELD_TAGS), IOTKIT_OK);
  d = get("tg");
  cr_assert_eq(d->tag_count, 0);
  iotkit_fleet_device_free(d);
}

Test(fleet_crud, update_all_with_nulls_resets) {
  const char *tags[] = {"a"};
  iotkit_fleet_device_spec_t s = spec_of("reset");
  s.name = "n";
  s.type = "t";
  s.tags = tags;
  s.tag_count = 1;
  s.attributes = "{\"a\":1}";
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_OK);
  iotkit_fleet_device_spec_t u = spec_of("reset");
  cr_assert_eq(iotkit_fleet_device_update(fx.fleet, &u, IOTKIT_FLEET_FIELD_ALL), IOTKIT_OK);
  iotkit_fleet_device_t *d = get("reset");
  cr_assert_str_eq(d->name, "");
  cr_assert_str_eq(d->type, "");
  cr_assert_eq(d->tag_count, 0);
  cr_assert_str_eq(d->attributes, "{}");
  iotkit_fleet_device_free(d);
}

Test(fleet_crud, update_no_fields_changes_nothing) {
  cr_assert_eq(fleet_fixture_create(fx.fleet, "same", "t", NULL, 0), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_advance(fx.hal, 1000), IOTKIT_OK);
  iotkit_fleet_device_spec_t u = spec_of("same");
  u.type = "other";
  cr_assert_eq(iotkit_fleet_device_update(fx.fleet, &u, 0), IOTKIT_OK);
  iotkit_fleet_device_t *d = get("same");
  cr_assert_str_eq(d->type, "t");
  cr_assert_eq(d->updated_ms, FLEET_FIXTURE_T0_MS);
  iotkit_fleet_device_free(d);
}

Test(fleet_crud, failed_update_changes_nothing) {
  cr_assert_eq(fleet_fixture_create(fx.fleet, "keep", "t", NULL, 0), IOTKIT_OK);
  iotkit_fleet_device_spec_t u = spec_of("keep");
  u.name = "fine";
  u.attributes = "[1,2]";
  cr_assert_eq(iotkit_fleet_device_update(fx.fleet, &u, IOTKIT_FLEET_FIELD_NAME | IOTKIT_FLEET_FIELD_ATTRIBUTES),
               IOTKIT_ERR_BAD_ENCODING);
  iotkit_fleet_device_t *d = get("keep");
  cr_assert_str_eq(d->name, "", "the valid field of a refused update is not applied either");
  iotkit_fleet_device_free(d);
}

Test(fleet_crud, presence_sets_online_and_last_seen) {
  cr_assert_eq(fleet_fixture_create(fx.fleet, "p1", NULL, NULL, 0), IOTKIT_OK);
  cr_assert_eq(iotkit__fleet_presence(fx.fleet, "p1", true, FLEET_FIXTURE_T0_MS + 42), IOTKIT_OK);
  cr_assert_eq(iotkit__fleet_flush(fx.fleet), IOTKIT_OK);
  iotkit_fleet_device_t *d = get("p1");
  cr_assert(d->online);
  cr_assert_eq(d->last_seen_ms, FLEET_FIXTURE_T0_MS + 42);
  cr_assert_eq(d->updated_ms, FLEET_FIXTURE_T0_MS, "presence is not an update of the record");
  iotkit_fleet_device_free(d);
  cr_assert_eq(iotkit__fleet_presence(fx.fleet, "p1", false, FLEET_FIXTURE_T0_MS + 50), IOTKIT_OK);
  cr_assert_eq(iotkit__fleet_flush(fx.fleet), IOTKIT_OK);
  d = get("p1");
  cr_assert_not(d->online);
  cr_assert_eq(d->last_seen_ms, FLEET_FIXTURE_T0_MS + 50);
  iotkit_fleet_device_free(d);
}

Test(fleet_crud, presence_of_unknown_is_counted_and_logged) {
  cr_assert_eq(iotkit__fleet_presence(fx.fleet, "stranger", true, 1), IOTKIT_OK);
  cr_assert_eq(iotkit__fleet_flush(fx.fleet), IOTKIT_OK);
  cr_assert_eq(fx.fleet->async_failures, 1);
  cr_assert(strstr(iotkit_hal_memory_log(fx.hal), "no device stranger"), "%s", iotkit_hal_memory_log(fx.hal));
  cr_assert_eq(iotkit__fleet_presence(fx.fleet, "bad id", true, 1), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit__fleet_presence(fx.fleet, "ok", true, -1), IOTKIT_ERR_INVALID_ARG);
}

Test(fleet_crud, free_runs_queued_writes) {
  cr_assert_eq(fleet_fixture_create(fx.fleet, "q", NULL, NULL, 0), IOTKIT_OK);
  for (int i = 1; i <= 100; i++) cr_assert_eq(iotkit__fleet_presence(fx.fleet, "q", i % 2, i), IOTKIT_OK);
  fleet_fixture_reopen(&fx); /* free without a flush */
  iotkit_fleet_device_t *d = get("q");
  cr_assert_eq(d->last_seen_ms, 100, "every write queued before free ran, in order");
  cr_assert_not(d->online);
  iotkit_fleet_device_free(d);
}

/* SQL-looking strings are values, never SQL. */
Test(fleet_crud, sql_strings_stored_literally) {
  const char *name = "Robert'); DROP TABLE devices;--";
  const char *tags[] = {"' OR '1'='1", "a\"b", "x; DELETE FROM device_tags; --", "%", "_", "\\"};
  const char *attrs = "{\"q\":\"'; DROP TABLE devices; --\",\"s\":\"\\\"; SELECT * FROM sqlite_master;\"}";
  iotkit_fleet_device_spec_t s = spec_of("bobby");
  s.name = name;
  s.tags = tags;
  s.tag_count = sizeof(tags) / sizeof(tags[0]);
  s.attributes = attrs;
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_OK);
  const char *plain[] = {"1"};
  cr_assert_eq(fleet_fixture_create(fx.fleet, "other", NULL, plain, 1), IOTKIT_OK);

  iotkit_fleet_device_t *d = get("bobby");
  cr_assert_str_eq(d->name, name);
  cr_assert_eq(d->tag_count, s.tag_count);
  for (size_t i = 0; i < s.tag_count; i++) cr_assert_str_eq(d->tags[i], tags[i]);
  cr_assert_str_eq(d->attributes, attrs);
  iotkit_fleet_device_free(d);
  cr_assert_eq(count_all(), 2, "both tables still there, nothing deleted");

  /* A filter value is a value too: the tag "' OR '1'='1" matches only its device,
     and "%" / "_" are not LIKE patterns. */
  const char *probes[] = {"' OR '1'='1", "%", "_"};
  for (size_t i = 0; i < 3; i++) {
    iotkit_fleet_filter_t f;
    iotkit_fleet_filter_init(&f);
    f.tag = probes[i];
    iotkit_fleet_page_t *page = NULL;
    cr_assert_eq(iotkit_fleet_list(fx.fleet, &f, NULL, 10, &page), IOTKIT_OK);
    cr_assert_eq(page->count, 1, "tag %s", probes[i]);
    cr_assert_str_eq(page->devices[0]->id, "bobby");
    iotkit_fleet_page_free(page);
  }
  iotkit_fleet_filter_t f;
  iotkit_fleet_filter_init(&f);
  f.type = "' OR ''='";
  uint64_t n = 99;
  cr_assert_eq(iotkit_fleet_count(fx.fleet, &f, &n), IOTKIT_OK);
  cr_assert_eq(n, 0);

  /* And after an update, too. */
  iotkit_fleet_device_spec_t u = spec_of("bobby");
  u.name = "x' WHERE 1=1; UPDATE devices SET name='pwned'; --";
  cr_assert_eq(iotkit_fleet_device_update(fx.fleet, &u, IOTKIT_FLEET_FIELD_NAME), IOTKIT_OK);
  d = get("bobby");
  cr_assert_str_eq(d->name, u.name);
  iotkit_fleet_device_free(d);
  d = get("other");
  cr_assert_str_eq(d->name, "");
  iotkit_fleet_device_free(d);
}

/* Several threads create at once: each call gets its own result through the one writer. */
typedef struct {
  iotkit_fleet_t *fleet;
  int base;
  int ok;
  int exists;
} creator_t;

static void *creator_main(void *arg) {
  creator_t *c = arg;
  for (int i = 0; i < 60; i++) {
    char id[32];
    /* Every thread also tries ids 0..9 of the shared range: exactly one create of each wins. */
    if (i < 10)
      snprintf(id, sizeof(id), "shared-%02d", i);
    else
      snprintf(id, sizeof(id), "t%d-%03d", c->base, i);
    iotkit_err_t rc = fleet_fixture_create(c->fleet, id, NULL, NULL, 0);
    if (rc == IOTKIT_OK)
      c->ok++;
    else if (rc == IOTKIT_ERR_EXISTS)
      c->exists++;
  }
  return NULL;
}

Test(fleet_crud, concurrent_creates) {
  creator_t c[4];
  pthread_t th[4];
  for (int i = 0; i < 4; i++) {
    c[i] = (creator_t){.fleet = fx.fleet, .base = i};
    cr_assert_eq(pthread_create(&th[i], NULL, creator_main, &c[i]), 0);
  }
  int ok = 0, exists = 0;
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    ok += c[i].ok;
    exists += c[i].exists;
  }
  cr_assert_eq(ok, 4 * 50 + 10);
  cr_assert_eq(exists, 3 * 10);
  cr_assert_eq(count_all(), 210);
}

/* --------------------------------------------------------- bad input -- */

static iotkit_err_t create_id(const char *id) {
  iotkit_fleet_device_spec_t s = spec_of(id);
  return iotkit_fleet_device_create(fx.fleet, &s);
}

Test(fleet_bad_input, null_fleet_or_spec) {
  iotkit_fleet_device_spec_t s = spec_of("x");
  cr_assert_eq(iotkit_fleet_device_create(NULL, &s), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_device_update(NULL, &s, IOTKIT_FLEET_FIELD_NAME), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_device_update(fx.fleet, NULL, IOTKIT_FLEET_FIELD_NAME), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_device_delete(NULL, "x"), IOTKIT_ERR_INVALID_ARG);
  iotkit_fleet_device_t *d = NULL;
  cr_assert_eq(iotkit_fleet_device_get(NULL, "x", &d), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_device_get(fx.fleet, "x", NULL), IOTKIT_ERR_INVALID_ARG);
}

Test(fleet_bad_input, spec_struct_size_below_id) {
  iotkit_fleet_device_spec_t s = spec_of("x");
  s.struct_size = offsetof(iotkit_fleet_device_spec_t, id);
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_ERR_INVALID_ARG);
  s.struct_size = 0; /* the 0.3.0 layout */
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_OK);
}

Test(fleet_bad_input, spec_old_size_ignores_later_fields) {
  iotkit_fleet_device_spec_t s = spec_of("short");
  s.struct_size = offsetof(iotkit_fleet_device_spec_t, name);
  s.name = "not read";
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_OK);
  iotkit_fleet_device_t *d = get("short");
  cr_assert_str_eq(d->name, "");
  iotkit_fleet_device_free(d);
}

Test(fleet_bad_input, invalid_id_characters) {
  const char *bad[] = {"has space", "slash/id", "quote'id", "semi;colon", "dq\"", "plus+", "hash#", "ünï",
                       ".", "..", "tab\t", "star*"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    cr_assert_eq(create_id(bad[i]), IOTKIT_ERR_INVALID_ARG, "id '%s'", bad[i]);
    iotkit_fleet_device_t *d = NULL;
    cr_assert_eq(iotkit_fleet_device_get(fx.fleet, bad[i], &d), IOTKIT_ERR_INVALID_ARG, "get '%s'", bad[i]);
    cr_assert_eq(iotkit_fleet_device_delete(fx.fleet, bad[i]), IOTKIT_ERR_INVALID_ARG, "delete '%s'", bad[i]);
    iotkit_fleet_device_spec_t s = spec_of(bad[i]);
    cr_assert_eq(iotkit_fleet_device_update(fx.fleet, &s, IOTKIT_FLEET_FIELD_NAME), IOTKIT_ERR_INVALID_ARG);
  }
  cr_assert(strstr(last_error(), "id"), "%s", last_error());
  cr_assert_eq(count_all(), 0);
}

Test(fleet_bad_input, empty_and_null_id) {
  cr_assert_eq(create_id(""), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(create_id(NULL), IOTKIT_ERR_INVALID_ARG);
  iotkit_fleet_device_t *d = NULL;
  cr_assert_eq(iotkit_fleet_device_get(fx.fleet, NULL, &d), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_device_delete(fx.fleet, NULL), IOTKIT_ERR_INVALID_ARG);
}

Test(fleet_bad_input, id_too_long_is_invalid_arg) {
  char *longest = repeat('a', IOTKIT_MAX_DEVICE_ID);
  char *over = repeat('a', IOTKIT_MAX_DEVICE_ID + 1);
  cr_assert_eq(create_id(longest), IOTKIT_OK);
  cr_assert_eq(create_id(over), IOTKIT_ERR_INVALID_ARG, "ids follow the device id rule: INVALID_ARG, not TOO_LARGE");
  iotkit_fleet_device_t *d = get(longest);
  cr_assert_str_eq(d->id, longest);
  iotkit_fleet_device_free(d);
  free(longest);
  free(over);
}

Test(fleet_bad_input, name_too_long) {
  char *at = repeat('n', IOTKIT_FLEET_MAX_NAME);
  char *over = repeat('n', IOTKIT_FLEET_MAX_NAME + 1);
  iotkit_fleet_device_spec_t s = spec_of("n1");
  s.name = over;
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_ERR_TOO_LARGE);
  cr_assert(strstr(last_error(), "name"), "%s", last_error());
  s.name = at;
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_OK);
  s.name = over;
  cr_assert_eq(iotkit_fleet_device_update(fx.fleet, &s, IOTKIT_FLEET_FIELD_NAME), IOTKIT_ERR_TOO_LARGE);
  free(at);
  free(over);
}

Test(fleet_bad_input, name_not_utf8) {
  const char *bad[] = {"\xff", "caf\xc3", "\xc0\xaf", "\xed\xa0\x80", "a\x80z"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    iotkit_fleet_device_spec_t s = spec_of("u8");
    s.name = bad[i];
    cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_ERR_BAD_ENCODING, "name %zu", i);
  }
}

Test(fleet_bad_input, type_rules) {
  char *at = repeat('t', IOTKIT_FLEET_MAX_TYPE);
  char *over = repeat('t', IOTKIT_FLEET_MAX_TYPE + 1);
  iotkit_fleet_device_spec_t s = spec_of("ty");
  s.type = over;
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_ERR_TOO_LARGE);
  const char *bad[] = {"with space", "semi;", "quote'", "slash/", ".", ".."};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    s.type = bad[i];
    cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_ERR_INVALID_ARG, "type '%s'", bad[i]);
  }
  s.type = at;
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_OK);
  s.id = "ty2";
  s.type = "";
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_OK);
  free(at);
  free(over);
}

Test(fleet_bad_input, too_many_tags) {
  const char *tags[IOTKIT_FLEET_MAX_TAGS + 1];
  char buf[IOTKIT_FLEET_MAX_TAGS + 1][8];
  for (size_t i = 0; i <= IOTKIT_FLEET_MAX_TAGS; i++) {
    snprintf(buf[i], sizeof(buf[i]), "t%zu", i);
    tags[i] = buf[i];
  }
  cr_assert_eq(fleet_fixture_create(fx.fleet, "many", NULL, tags, IOTKIT_FLEET_MAX_TAGS + 1), IOTKIT_ERR_TOO_LARGE);
  cr_assert_eq(fleet_fixture_create(fx.fleet, "many", NULL, tags, IOTKIT_FLEET_MAX_TAGS), IOTKIT_OK);
  iotkit_fleet_device_t *d = get("many");
  cr_assert_eq(d->tag_count, IOTKIT_FLEET_MAX_TAGS);
  iotkit_fleet_device_free(d);
}

Test(fleet_bad_input, tag_too_long) {
  char *at = repeat('g', IOTKIT_FLEET_MAX_TAG);
  char *over = repeat('g', IOTKIT_FLEET_MAX_TAG + 1);
  const char *tags[] = {"fine", over};
  cr_assert_eq(fleet_fixture_create(fx.fleet, "lt", NULL, tags, 2), IOTKIT_ERR_TOO_LARGE);
  tags[1] = at;
  cr_assert_eq(fleet_fixture_create(fx.fleet, "lt", NULL, tags, 2), IOTKIT_OK);
  free(at);
  free(over);
}

Test(fleet_bad_input, empty_null_and_repeated_tags) {
  const char *empty[] = {"a", ""};
  cr_assert_eq(fleet_fixture_create(fx.fleet, "tg", NULL, empty, 2), IOTKIT_ERR_INVALID_ARG);
  const char *null_entry[] = {"a", NULL};
  cr_assert_eq(fleet_fixture_create(fx.fleet, "tg", NULL, null_entry, 2), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(fleet_fixture_create(fx.fleet, "tg", NULL, NULL, 1), IOTKIT_ERR_INVALID_ARG);
  const char *dup[] = {"a", "b", "a"};
  cr_assert_eq(fleet_fixture_create(fx.fleet, "tg", NULL, dup, 3), IOTKIT_ERR_INVALID_ARG);
  cr_assert(strstr(last_error(), "repeats"), "%s", last_error());
  const char *bad_utf8[] = {"ok", "\xfe\xff"};
  cr_assert_eq(fleet_fixture_create(fx.fleet, "tg", NULL, bad_utf8, 2), IOTKIT_ERR_BAD_ENCODING);
  cr_assert_eq(count_all(), 0);
}

Test(fleet_bad_input, malformed_attributes) {
  const char *bad[] = {"",          "not json", "{",        "{\"a\":}",  "[1,2]",       "\"text\"", "42",
                       "null",      "true",     "{}x",      "{} {}",     "{\"a\":1,}",  "{'a':1}", "{\"a\":\"\xff\"}"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    iotkit_fleet_device_spec_t s = spec_of("attr");
    s.attributes = bad[i];
    cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_ERR_BAD_ENCODING, "attributes '%s'", bad[i]);
  }
  cr_assert_eq(count_all(), 0);
  iotkit_fleet_device_spec_t s = spec_of("attr");
  s.attributes = "{}";
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_OK);
  s.attributes = "{\"a\":";
  cr_assert_eq(iotkit_fleet_device_update(fx.fleet, &s, IOTKIT_FLEET_FIELD_ATTRIBUTES), IOTKIT_ERR_BAD_ENCODING);
}

Test(fleet_bad_input, attributes_too_long) {
  /* {"a":"xxx..."} of exactly the limit, then one byte more. */
  size_t max = IOTKIT_FLEET_MAX_ATTRIBUTES;
  char *text = malloc(max + 2);
  cr_assert_not_null(text);
  memcpy(text, "{\"a\":\"", 6);
  memset(text + 6, 'x', max - 8);
  memcpy(text + max - 2, "\"}", 3);
  cr_assert_eq(strlen(text), max);
  iotkit_fleet_device_spec_t s = spec_of("big");
  s.attributes = text;
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_OK);
  iotkit_fleet_device_t *d = get("big");
  cr_assert_str_eq(d->attributes, text);
  iotkit_fleet_device_free(d);
  memcpy(text + max - 2, "x\"}", 4);
  s.id = "big2";
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_ERR_TOO_LARGE);
  cr_assert(strstr(last_error(), "attributes"), "%s", last_error());
  free(text);
}

Test(fleet_bad_input, limits_before_encodings) {
  /* An over-long name that is also not UTF-8 is too large, not badly encoded. */
  char *over = repeat('\xff', IOTKIT_FLEET_MAX_NAME + 1);
  iotkit_fleet_device_spec_t s = spec_of("order");
  s.name = over;
  cr_assert_eq(iotkit_fleet_device_create(fx.fleet, &s), IOTKIT_ERR_TOO_LARGE);
  free(over);
}

Test(fleet_bad_input, update_unknown_field_bits) {
  cr_assert_eq(fleet_fixture_create(fx.fleet, "bits", NULL, NULL, 0), IOTKIT_OK);
  iotkit_fleet_device_spec_t s = spec_of("bits");
  cr_assert_eq(iotkit_fleet_device_update(fx.fleet, &s, 1u << 4), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_fleet_device_update(fx.fleet, &s, IOTKIT_FLEET_FIELD_NAME | 0x80000000u),
               IOTKIT_ERR_INVALID_ARG);
}

// requires: mqtt fleet
/* The C example of the README's fleet section, compiled (warnings as errors)
   against the built library and run against a real mosquitto, with a real
   device: it prints the device's status transition and presence, and a second
   run finds the device registered already. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_run.h"
#include "fleet_live.h"

static fleet_live_t fx;
static void setup(void) { fleet_live_setup(&fx, false); }
static void teardown(void) { fleet_live_teardown(&fx); }
TestSuite(readme_fleet, .init = setup, .fini = teardown, .timeout = 120);

/* The first ```c block after "## The fleet side", with @p from replaced by @p to (pairs, NULL-ended). */
static void extract(const char *path, const char *const *subst) {
  FILE *f = fopen(IOTKIT_SOURCE_DIR "/README.md", "r");
  cr_assert_not_null(f);
  static char readme[1 << 18];
  size_t n = fread(readme, 1, sizeof readme - 1, f);
  fclose(f);
  readme[n] = '\0';
  const char *sec = strstr(readme, "\n## The fleet side\n");
  cr_assert_not_null(sec, "no fleet section in README.md");
  const char *start = strstr(sec, "\n```c\n");
  cr_assert_not_null(start, "no C example in the fleet section");
  start += 6;
  const char *end = strstr(start, "\n```\n");
  cr_assert_not_null(end);
  static char code[1 << 16];
  size_t len = (size_t)(end - start) + 1;
  cr_assert_lt(len, sizeof code);
  memcpy(code, start, len);
  code[len] = '\0';
  for (size_t i = 0; subst[i]; i += 2) {
    char *at = strstr(code, subst[i]);
    cr_assert_not_null(at, "'%s' not in the example", subst[i]);
    size_t from = strlen(subst[i]), to = strlen(subst[i + 1]);
    cr_assert_lt(strlen(code) + to, sizeof code);
    memmove(at + to, at + from, strlen(at + from) + 1);
    memcpy(at, subst[i + 1], to);
  }
  FILE *o = fopen(path, "w");
  cr_assert_not_null(o);
  fputs(code, o);
  fclose(o);
}

Test(readme_fleet, c_example_compiles_and_runs) {
  char src[400], bin[400], db[400], hal[400], cmd[2048];
  snprintf(src, sizeof src, "%s/example.c", fx.dir);
  snprintf(bin, sizeof bin, "%s/example", fx.dir);
  snprintf(db, sizeof db, "%s/fleet.db", fx.dir);
  snprintf(hal, sizeof hal, "%s/fleet-hal", fx.dir);
  char uri[128];
  snprintf(uri, sizeof uri, "\"%s\"", mosq_server_uri(fx.srv));
  char db_lit[420], hal_lit[420];
  snprintf(db_lit, sizeof db_lit, "\"%s\"", db);
  snprintf(hal_lit, sizeof hal_lit, "\"%s\"", hal);
  const char *subst[] = {"\"mqtt://127.0.0.1:1883\"", uri, "\"/tmp/fleet.db\"", db_lit, "\"/tmp/fleet-hal\"", hal_lit,
                         NULL};
  extract(src, subst);
#ifdef __SANITIZE_ADDRESS__
  const char *san = "-fsanitize=address,undefined"; /* the library under test is built with them */
#else
  const char *san = "";
#endif
  snprintf(cmd, sizeof cmd,
           "cc -std=c11 -Wall -Wextra -Werror %s -I'%s/include' -o '%s' '%s' -L'%s' -Wl,-rpath,'%s' -liotkit", san,
           IOTKIT_SOURCE_DIR, bin, src, IOTKIT_BINARY_DIR, IOTKIT_BINARY_DIR);
  cr_assert_eq(system(cmd), 0, "the README's fleet example does not compile: %s", cmd);

  iotkit_device_t *dev = fleet_live_device(&fx, "sensor-1"); /* online, its status retained by the broker */
  cli_result_t r;
  const char *none[] = {NULL};
  cli_run(bin, fx.dir, none, &r);
  cr_assert_eq(r.status, 0, "stdout: %s\nstderr: %s", r.out, r.err);
  cr_assert_str_eq(r.out, "sensor-1 online\nsensor-1 is online\n");
  /* The device says goodbye; the next run (the device registered already, its view loaded
     from the database as online) sees the retained "offline". */
  fleet_live_drop(&fx, dev, false);
  cli_run(bin, fx.dir, none, &r);
  cr_assert_eq(r.status, 0, "a second run finds the device registered: %s", r.err);
  cr_assert_str_eq(r.out, "sensor-1 offline disconnect\nsensor-1 is offline\n");

  /* What it registered, read back from the same database. */
  const char *show[] = {"fleet", "show", "sensor-1", "--db", db, NULL};
  cli_run(IOTKIT_BINARY_DIR "/tools/iotkit/iotkit", fx.dir, show, &r);
  cr_assert_eq(r.status, 0, "%s", r.err);
  cr_assert(strstr(r.out, "\nname        Main hall\n"), "%s", r.out);
  cr_assert(strstr(r.out, "\nattributes  {\"room\":12}\n"), "%s", r.out);
  cr_assert(strstr(r.out, "\nstatus      offline\n"), "%s", r.out);
}

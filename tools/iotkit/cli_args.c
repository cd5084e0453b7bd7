/* Command dispatch, option parsing and usage errors. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("iotkit: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputs("\nTry 'iotkit help'.\n", stderr);
  return CLI_EXIT_USAGE;
}

int cli_dispatch(const char *group, const cli_command_t *table, int argc, char **argv) {
  const char *prefix = group ? group : "";
  const char *sep = group ? " " : "";
  if (argc < 1) return cli_usage_error("missing command after 'iotkit%s%s'", sep, prefix);
  for (const cli_command_t *c = table; c->name; c++) {
    if (strcmp(c->name, argv[0]) == 0) return c->run(argc, argv);
  }
  return cli_usage_error("unknown command '%s%s%s'", prefix, sep, argv[0]);
}

static const cli_opt_t *find_opt(const cli_opt_t *opts, size_t n, const char *name, size_t len) {
  for (size_t i = 0; i < n; i++) {
    if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0) return &opts[i];
  }
  return NULL;
}

int cli_parse_opts(int argc, char **argv, const cli_opt_t *opts, size_t n) {
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') return cli_usage_error("unexpected argument '%s'", arg);
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const cli_opt_t *o = find_opt(opts, n, name, len);
    if (!o) return cli_usage_error("unknown option '--%.*s'", (int)len, name);
    if (o->flag) {
      if (eq) return cli_usage_error("option '--%s' takes no value", o->name);
      *o->flag = true;
    } else if (eq) {
      *o->value = eq + 1;
    } else if (i + 1 < argc) {
      *o->value = argv[++i];
    } else {
      return cli_usage_error("option '--%s' needs a value", o->name);
    }
  }
  return CLI_EXIT_OK;
}

/* Options (with the value that follows those that take one) to opt_argv, the rest to pos. */
static int split_args(int argc, char **argv, const cli_opt_t *opts, size_t n_opts, char **opt_argv, const char **pos,
                      size_t max_pos, size_t *n_pos) {
  int n = 0;
  *n_pos = 0;
  opt_argv[n++] = argv[0];
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "--", 2) == 0) {
      opt_argv[n++] = argv[i];
      const char *name = argv[i] + 2;
      const cli_opt_t *o = find_opt(opts, n_opts, name, strlen(name));
      /* "--name VALUE" (an unknown option is reported by cli_parse_opts()) or a flag or "--name=VALUE". */
      if (!strchr(argv[i], '=') && !(o && o->flag) && i + 1 < argc) opt_argv[n++] = argv[++i];
    } else if (*n_pos < max_pos) {
      pos[(*n_pos)++] = argv[i];
    } else {
      cli_usage_error("unexpected argument '%s'", argv[i]);
      return -1;
    }
  }
  opt_argv[n] = NULL;
  return n;
}

int cli_parse_positional(int argc, char **argv, const cli_opt_t *opts, size_t n_opts, const char **pos, size_t max_pos,
                         size_t *n_pos) {
  char *oargv[64];
  if (argc > 60) return cli_usage_error("%s: too many arguments", argv[0]);
  int n = split_args(argc, argv, opts, n_opts, oargv, pos, max_pos, n_pos);
  return n < 0 ? CLI_EXIT_USAGE : cli_parse_opts(n, oargv, opts, n_opts);
}

bool cli_parse_num(const char *name, const char *text, unsigned long min, unsigned long max, unsigned long *out) {
  char *end = NULL;
  errno = 0;
  unsigned long v = text && *text >= '0' && *text <= '9' ? strtoul(text, &end, 10) : 0;
  if (!end || *end || errno || v < min || v > max) {
    cli_usage_error("option '--%s' wants a number from %lu to %lu, not '%s'", name, min, max, text ? text : "");
    return false;
  }
  *out = v;
  return true;
}

/* iotkit telemetry decode: pretty-print a telemetry message read from stdin. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

#define MAX_INPUT (16u * 1024u * 1024u)

/* All of stdin, at most MAX_INPUT bytes; NULL on failure (reported). */
static uint8_t *read_stdin(size_t *len) {
  size_t cap = 4096, n = 0;
  uint8_t *buf = malloc(cap);
  while (buf) {
    if (n == cap) {
      uint8_t *nb = cap < MAX_INPUT ? realloc(buf, cap * 2) : NULL;
      if (!nb) {
        free(buf);
        fprintf(stderr, "iotkit: telemetry decode: input too large (at most %u bytes)\n", MAX_INPUT);
        return NULL;
      }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, stdin);
    n += got;
    if (got == 0) break;
  }
  if (buf) *len = n;
  return buf;
}

static void print_point(size_t i, const iotkit_telemetry_point_t *p) {
  printf("  [%zu] %s = ", i, p->name);
  switch (p->type) {
    case IOTKIT_TELEMETRY_DOUBLE: printf("%.17g", p->value.d); break;
    case IOTKIT_TELEMETRY_INT: printf("%" PRId64, p->value.i); break;
    case IOTKIT_TELEMETRY_BOOL: printf("%s", p->value.b ? "true" : "false"); break;
    case IOTKIT_TELEMETRY_STRING: printf("\"%s\"", p->value.s); break;
  }
  if (p->unit) printf(" %s", p->unit);
  if (p->ts_ms) printf("  ts=%" PRId64, p->ts_ms);
  for (size_t t = 0; t < p->tag_count; t++) printf("  %s=%s", p->tags[t].key, p->tags[t].value);
  putchar('\n');
}

static int decode(int argc, char **argv) {
  const char *format = "json";
  const cli_opt_t opts[] = {{"format", &format, NULL}};
  int rc = cli_parse_opts(argc, argv, opts, 1);
  if (rc != CLI_EXIT_OK) return rc;
  iotkit_telemetry_format_t f;
  if (iotkit_telemetry_format_parse(format, &f) != IOTKIT_OK)
    return cli_usage_error("option '--format' wants json, senml-json or senml-cbor, not '%s'", format);
  size_t len = 0;
  uint8_t *buf = read_stdin(&len);
  if (!buf) return CLI_EXIT_USAGE;
  iotkit_telemetry_batch_t *b = NULL;
  iotkit_err_t err = iotkit_telemetry_decode(f, buf, len, &b);
  free(buf);
  if (err != IOTKIT_OK) {
    fprintf(stderr, "iotkit: telemetry decode: not valid %s: %s (%s)\n", format, iotkit_strerror(err),
            iotkit_err_name(err));
    return CLI_EXIT_USAGE;
  }
  size_t n = iotkit_telemetry_batch_count(b);
  printf("%s message", format);
  if (iotkit_telemetry_batch_seq(b)) printf(" seq=%" PRIu64, iotkit_telemetry_batch_seq(b));
  printf(", %zu point%s\n", n, n == 1 ? "" : "s");
  for (size_t i = 0; i < n; i++) {
    const iotkit_telemetry_point_t *p = NULL;
    if (iotkit_telemetry_batch_get(b, i, &p) == IOTKIT_OK) print_point(i, p);
  }
  iotkit_telemetry_batch_free(b);
  return CLI_EXIT_OK;
}

int cmd_telemetry(int argc, char **argv) {
  static const cli_command_t table[] = {
      {"decode", decode, "pretty-print a telemetry message from stdin"},
      {NULL, NULL, NULL},
  };
  return cli_dispatch("telemetry", table, argc - 1, argv + 1);
}

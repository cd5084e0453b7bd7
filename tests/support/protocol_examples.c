/* The examples of docs/protocol.md (see protocol_examples.h). */
#include "protocol_examples.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *doc_text;

static char *read_doc(void) {
  FILE *fp = fopen(IOTKIT_SOURCE_DIR "/docs/protocol.md", "rb");
  cr_assert_not_null(fp);
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
  fclose(fp);
  buf[n] = '\0';
  return buf;
}

example_t protocol_example(const char *name) {
  if (!doc_text) doc_text = read_doc();
  char marker[96];
  snprintf(marker, sizeof(marker), "<!-- example: %s ", name);
  const char *at = strstr(doc_text, marker);
  cr_assert_not_null(at, "no example '%s' in docs/protocol.md", name);
  example_t ex = {0};
  const char *end = strstr(at, "-->");
  const char *ch = strstr(at, "channel=");
  if (ch && ch < end) sscanf(ch + 8, "%127[^ ]", ex.channel);
  const char *open = strstr(end, "```json\n");
  cr_assert_not_null(open);
  open += 8;
  const char *close = strstr(open, "\n```");
  cr_assert_not_null(close);
  ex.json = strndup(open, (size_t)(close - open));
  return ex;
}

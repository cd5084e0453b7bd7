/* The examples of docs/protocol.md, read from the file itself, so that tests
   compare the library's bytes with the document's. */
#ifndef IOTKIT_PROTOCOL_EXAMPLES_H
#define IOTKIT_PROTOCOL_EXAMPLES_H

typedef struct example {
  char channel[128]; /* "" if the marker names none */
  char *json;        /* malloc'd */
} example_t;

/* The ```json block after "<!-- example: NAME[ channel=C] -->" (asserts it exists). */
example_t protocol_example(const char *name);

#endif

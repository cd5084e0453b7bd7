/* Raw libcurl side of the HTTP benchmark: one easy handle (keep-alive), COUNT
 * POSTs of a JSON body to URL with a bearer token, one after the other.
 * Usage: raw_curl_post URL TOKEN COUNT PAYLOAD_BYTES
 * Prints: "raw count=N seconds=S rate=R failed=F" */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t discard(char *p, size_t s, size_t n, void *u) {
  (void)p, (void)u;
  return s * n;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s URL TOKEN COUNT PAYLOAD_BYTES\n", argv[0]);
    return 1;
  }
  long count = atol(argv[3]);
  size_t size = (size_t)atol(argv[4]);
  char *body = malloc(size + 16);
  snprintf(body, size + 16, "{\"p\":\"%0*d\"}", size > 8 ? (int)(size - 8) : 1, 0);
  char auth[256];
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", argv[2]);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL *h = curl_easy_init();
  struct curl_slist *hdr = curl_slist_append(NULL, auth);
  hdr = curl_slist_append(hdr, "Content-Type: application/json");
  curl_easy_setopt(h, CURLOPT_URL, argv[1]);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
  long failed = 0;
  double t0 = now_s();
  for (long i = 0; i < count; i++) {
    long code = 0;
    if (curl_easy_perform(h) != CURLE_OK || curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK ||
        code / 100 != 2) {
      failed++;
    }
  }
  double secs = now_s() - t0;
  printf("raw count=%ld seconds=%.3f rate=%.0f failed=%ld\n", count, secs, count / secs, failed);
  curl_slist_free_all(hdr);
  curl_easy_cleanup(h);
  curl_global_cleanup();
  free(body);
  return failed ? 3 : 0;
}

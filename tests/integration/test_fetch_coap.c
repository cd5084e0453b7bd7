// requires: coap
/* The OTA download (lib/transport/fetch.h) over coap:// and coaps:// against
   libcoap's coap-server-openssl on 127.0.0.1: Block2 transfers, resume,
   DTLS-PSK, and the failures. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coap_server.h"
#include "iotkit/iotkit.h"
#include "net_util.h"
#include "ota_fixture.h"
#include "transport/fetch.h"

#define IMG_LEN (200u * 1024u + 77u) /* not a whole number of blocks */
#define CHUNK 4096u
#define PSK "secretPSK"
#define PSK_HEX "73656372657450534b" /* "secretPSK" */

static coap_srv_t *srv;
static uint8_t *img;

typedef struct got {
  uint8_t *data;
  size_t len;
  unsigned calls;
  unsigned short_calls; /* calls with less than a full chunk */
  size_t abort_after;   /* set the abort flag once this many bytes arrived (0: never) */
  atomic_bool abort;
} got_t;

static got_t got;

static void setup(void) {
  img = ota_fx_image(IMG_LEN, 7);
  srv = coap_srv_new();
  cr_assert_not_null(srv);
  cr_assert(coap_srv_set_psk(srv, PSK, "CoAP"));
  cr_assert(coap_srv_start(srv));
  cr_assert(coap_srv_put(srv, "/fw/img.bin", img, IMG_LEN));
  memset(&got, 0, sizeof got);
  got.data = malloc(IMG_LEN);
  atomic_init(&got.abort, false);
}

static void teardown(void) {
  coap_srv_free(srv);
  free(got.data);
  free(img);
}

TestSuite(fetch_coap, .init = setup, .fini = teardown, .timeout = 60);

static iotkit_err_t sink(void *ctx, const void *data, size_t len) {
  got_t *g = ctx;
  cr_assert_leq(len, CHUNK);
  cr_assert_leq(g->len + len, IMG_LEN, "more bytes than the resource has");
  memcpy(g->data + g->len, data, len);
  g->len += len;
  g->calls++;
  if (len < CHUNK) g->short_calls++;
  if (g->abort_after && g->len >= g->abort_after) atomic_store(&g->abort, true);
  return IOTKIT_OK;
}

static iotkit__fetch_opts_t opts_for(const char *url) {
  iotkit__fetch_opts_t o = {.url = url, .chunk_size = CHUNK, .timeout_ms = 5000, .abort = &got.abort};
  return o;
}

/* Options for @p path on @p base (the URL lives until the next call). */
static iotkit__fetch_opts_t opts_at(const char *base, const char *path) {
  static char url[160];
  snprintf(url, sizeof url, "%s%s", base, path);
  return opts_for(url);
}

static void assert_got_from(uint64_t offset) {
  cr_assert_eq(got.len, IMG_LEN - offset, "%zu bytes, wanted %llu", got.len,
               (unsigned long long)(IMG_LEN - offset));
  cr_assert_arr_eq(got.data, img + offset, got.len);
  cr_assert_leq(got.short_calls, 1, "only the last chunk may be short");
}

Test(fetch_coap, full_download_matches_byte_for_byte_and_sha256) {
  iotkit__fetch_opts_t o = opts_at(coap_srv_uri(srv), "/fw/img.bin");
  cr_assert_eq(iotkit__transport_fetch(&o, sink, &got), IOTKIT_OK);
  assert_got_from(0);
  uint8_t want[32], have[32];
  iotkit_sha256(img, IMG_LEN, want);
  iotkit_sha256(got.data, got.len, have);
  cr_assert_arr_eq(have, want, 32);
  cr_assert_eq(got.calls, (IMG_LEN + CHUNK - 1) / CHUNK);
}

Test(fetch_coap, resume_from_unaligned_offset_delivers_exactly_the_rest) {
  iotkit__fetch_opts_t o = opts_at(coap_srv_uri(srv), "/fw/img.bin");
  o.offset = 70u * 1024u + 333u;
  cr_assert_eq(iotkit__transport_fetch(&o, sink, &got), IOTKIT_OK);
  assert_got_from(o.offset);
}

Test(fetch_coap, resume_inside_the_last_block) {
  iotkit__fetch_opts_t o = opts_at(coap_srv_uri(srv), "/fw/img.bin");
  o.offset = IMG_LEN - 5;
  cr_assert_eq(iotkit__transport_fetch(&o, sink, &got), IOTKIT_OK);
  assert_got_from(o.offset);
}

Test(fetch_coap, small_resource_arrives_whole) {
  cr_assert(coap_srv_put(srv, "/fw/small.bin", img, 100));
  iotkit__fetch_opts_t o = opts_at(coap_srv_uri(srv), "/fw/small.bin");
  cr_assert_eq(iotkit__transport_fetch(&o, sink, &got), IOTKIT_OK);
  cr_assert_eq(got.len, 100);
  cr_assert_arr_eq(got.data, img, 100);
}

Test(fetch_coap, coaps_with_psk_downloads_the_image) {
  iotkit__fetch_opts_t o = opts_at(coap_srv_uri_dtls(srv), "/fw/img.bin");
  o.psk_identity = "dev-1";
  o.psk_key_hex = PSK_HEX;
  o.offset = 1000; /* resume works over DTLS too */
  cr_assert_eq(iotkit__transport_fetch(&o, sink, &got), IOTKIT_OK);
  assert_got_from(o.offset);
}

Test(fetch_coap, coaps_with_wrong_psk_is_auth) {
  iotkit__fetch_opts_t o = opts_at(coap_srv_uri_dtls(srv), "/fw/img.bin");
  o.psk_identity = "dev-1";
  o.psk_key_hex = "00112233445566778899";
  o.timeout_ms = 3000;
  cr_assert_eq(iotkit__transport_fetch(&o, sink, &got), IOTKIT_ERR_AUTH);
  cr_assert_eq(got.len, 0);
}

Test(fetch_coap, coaps_with_malformed_psk_is_invalid_arg) {
  iotkit__fetch_opts_t o = opts_at(coap_srv_uri_dtls(srv), "/fw/img.bin");
  o.psk_identity = "dev-1";
  o.psk_key_hex = "not-hex";
  cr_assert_eq(iotkit__transport_fetch(&o, sink, &got), IOTKIT_ERR_INVALID_ARG);
}

Test(fetch_coap, missing_resource_is_not_found) {
  iotkit__fetch_opts_t o = opts_at(coap_srv_uri(srv), "/fw/missing.bin");
  cr_assert_eq(iotkit__transport_fetch(&o, sink, &got), IOTKIT_ERR_NOT_FOUND);
  cr_assert_eq(got.len, 0);
}

Test(fetch_coap, offset_past_the_end_is_protocol) {
  iotkit__fetch_opts_t o = opts_at(coap_srv_uri(srv), "/fw/img.bin");
  o.offset = IMG_LEN + 4096; /* coap-server answers 4.00 for a block past the end */
  cr_assert_eq(iotkit__transport_fetch(&o, sink, &got), IOTKIT_ERR_PROTOCOL);
  cr_assert_eq(got.len, 0);
}

Test(fetch_coap, server_not_listening_is_connect) {
  char url[128];
  snprintf(url, sizeof url, "coap://127.0.0.1:%u/fw/img.bin", test_free_udp_port());
  iotkit__fetch_opts_t o = opts_for(url);
  o.timeout_ms = 3000;
  cr_assert_eq(iotkit__transport_fetch(&o, sink, &got), IOTKIT_ERR_CONNECT);
  cr_assert_eq(got.len, 0);
}

Test(fetch_coap, abort_flag_stops_with_busy) {
  iotkit__fetch_opts_t o = opts_at(coap_srv_uri(srv), "/fw/img.bin");
  got.abort_after = 3 * CHUNK;
  cr_assert_eq(iotkit__transport_fetch(&o, sink, &got), IOTKIT_ERR_BUSY);
  cr_assert_geq(got.len, 3 * CHUNK);
  cr_assert_lt(got.len, IMG_LEN);
  cr_assert_arr_eq(got.data, img, got.len);
}

Test(fetch_coap, abort_before_start_is_busy_without_bytes) {
  iotkit__fetch_opts_t o = opts_at(coap_srv_uri(srv), "/fw/img.bin");
  atomic_store(&got.abort, true);
  cr_assert_eq(iotkit__transport_fetch(&o, sink, &got), IOTKIT_ERR_BUSY);
  cr_assert_eq(got.len, 0);
}

Test(fetch_coap, malformed_coap_url_is_bad_uri) {
  iotkit__fetch_opts_t o = opts_for("coap://:99999/x");
  cr_assert_eq(iotkit__transport_fetch(&o, sink, &got), IOTKIT_ERR_BAD_URI);
}

Test(fetch_coap, unknown_scheme_is_unknown_scheme) {
  iotkit__fetch_opts_t o = opts_for("ftp://127.0.0.1/fw/img.bin");
  cr_assert_eq(iotkit__transport_fetch(&o, sink, &got), IOTKIT_ERR_UNKNOWN_SCHEME);
}

Test(fetch_coap, null_url_is_invalid_arg) {
  iotkit__fetch_opts_t o = opts_for(NULL);
  cr_assert_eq(iotkit__transport_fetch(&o, sink, &got), IOTKIT_ERR_INVALID_ARG);
}

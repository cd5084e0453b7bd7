#include <criterion/criterion.h>
#include <string.h>

#include "iotkit/transport.h"

static iotkit_uri_t uri;

static void clear_uri(void) { iotkit_uri_clear(&uri); }

TestSuite(uri, .fini = clear_uri);

Test(uri, mqtt_host_and_port) {
  cr_assert_eq(iotkit_uri_parse("mqtt://broker.example:1884", &uri), IOTKIT_OK);
  cr_assert_str_eq(uri.scheme, "mqtt");
  cr_assert_str_eq(uri.host, "broker.example");
  cr_assert_eq(uri.port, 1884);
  cr_assert_str_eq(uri.path, "");
  cr_assert_null(uri.query);
  cr_assert_null(uri.user);
  cr_assert_null(uri.password);
  cr_assert_not(uri.secure);
}

Test(uri, scheme_is_lower_cased) {
  cr_assert_eq(iotkit_uri_parse("MQTTS://h", &uri), IOTKIT_OK);
  cr_assert_str_eq(uri.scheme, "mqtts");
  cr_assert(uri.secure);
  cr_assert_eq(uri.port, 8883);
}

Test(uri, default_ports_fill_missing_port) {
  static const struct {
    const char *text;
    uint16_t port;
    bool secure;
  } cases[] = {
      {"mqtt://h", 1883, false}, {"mqtts://h", 8883, true}, {"coap://h", 5683, false},
      {"coaps://h", 5684, true}, {"http://h", 80, false},   {"https://h", 443, true},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    iotkit_uri_t u;
    cr_assert_eq(iotkit_uri_parse(cases[i].text, &u), IOTKIT_OK, "%s", cases[i].text);
    cr_assert_eq(u.port, cases[i].port, "%s", cases[i].text);
    cr_assert_eq(u.secure, cases[i].secure, "%s", cases[i].text);
    iotkit_uri_clear(&u);
  }
}

Test(uri, default_port_function) {
  cr_assert_eq(iotkit_uri_default_port("mqtt"), 1883);
  cr_assert_eq(iotkit_uri_default_port("MQTTS"), 8883);
  cr_assert_eq(iotkit_uri_default_port("coaps"), 5684);
  cr_assert_eq(iotkit_uri_default_port("https"), 443);
  cr_assert_eq(iotkit_uri_default_port("gopher"), 0);
  cr_assert_eq(iotkit_uri_default_port("loop"), 0);
  cr_assert_eq(iotkit_uri_default_port(NULL), 0);
  cr_assert_eq(iotkit_uri_default_port("averyveryverylongscheme"), 0);
}

Test(uri, ipv6_literal) {
  cr_assert_eq(iotkit_uri_parse("mqtt://[::1]:1999/x", &uri), IOTKIT_OK);
  cr_assert_str_eq(uri.host, "::1");
  cr_assert_eq(uri.port, 1999);
  cr_assert_str_eq(uri.path, "/x");
}

Test(uri, ipv6_literal_default_port) {
  cr_assert_eq(iotkit_uri_parse("coap://[fe80::1:2]", &uri), IOTKIT_OK);
  cr_assert_str_eq(uri.host, "fe80::1:2");
  cr_assert_eq(uri.port, 5683);
}

Test(uri, user_and_password) {
  cr_assert_eq(iotkit_uri_parse("mqtt://alice:s3cret@h:1", &uri), IOTKIT_OK);
  cr_assert_str_eq(uri.user, "alice");
  cr_assert_str_eq(uri.password, "s3cret");
  cr_assert_str_eq(uri.host, "h");
  cr_assert_eq(uri.port, 1);
}

Test(uri, user_without_password) {
  cr_assert_eq(iotkit_uri_parse("mqtt://bob@h", &uri), IOTKIT_OK);
  cr_assert_str_eq(uri.user, "bob");
  cr_assert_null(uri.password);
}

Test(uri, percent_escapes_in_userinfo) {
  cr_assert_eq(iotkit_uri_parse("mqtt://a%40b:p%3Aw%2fd%25@h", &uri), IOTKIT_OK);
  cr_assert_str_eq(uri.user, "a@b");
  cr_assert_str_eq(uri.password, "p:w/d%");
}

Test(uri, last_at_ends_userinfo) {
  cr_assert_eq(iotkit_uri_parse("mqtt://u:p@ss@h", &uri), IOTKIT_OK);
  cr_assert_str_eq(uri.user, "u");
  cr_assert_str_eq(uri.password, "p@ss");
  cr_assert_str_eq(uri.host, "h");
}

Test(uri, path_and_query_decoded) {
  cr_assert_eq(iotkit_uri_parse("https://h/api%20v1/x?a=1&b=%2Fz", &uri), IOTKIT_OK);
  cr_assert_str_eq(uri.path, "/api v1/x");
  cr_assert_str_eq(uri.query, "a=1&b=/z");
}

Test(uri, empty_query) {
  cr_assert_eq(iotkit_uri_parse("http://h/?", &uri), IOTKIT_OK);
  cr_assert_str_eq(uri.path, "/");
  cr_assert_str_eq(uri.query, "");
}

Test(uri, query_without_path) {
  cr_assert_eq(iotkit_uri_parse("loop://x?refuse=1", &uri), IOTKIT_OK);
  cr_assert_str_eq(uri.scheme, "loop");
  cr_assert_str_eq(uri.host, "x");
  cr_assert_eq(uri.port, 0);
  cr_assert_str_eq(uri.path, "");
  cr_assert_str_eq(uri.query, "refuse=1");
}

Test(uri, unknown_scheme_still_parses) {
  cr_assert_eq(iotkit_uri_parse("modem+at://cell-1:7", &uri), IOTKIT_OK);
  cr_assert_str_eq(uri.scheme, "modem+at");
  cr_assert_eq(uri.port, 7);
  cr_assert_not(uri.secure);
}

Test(uri, highest_port) {
  cr_assert_eq(iotkit_uri_parse("mqtt://h:65535", &uri), IOTKIT_OK);
  cr_assert_eq(uri.port, 65535);
}

Test(uri, clear_zeroes_and_accepts_null) {
  cr_assert_eq(iotkit_uri_parse("mqtt://u:p@h/p?q", &uri), IOTKIT_OK);
  iotkit_uri_clear(&uri);
  cr_assert_null(uri.host);
  cr_assert_null(uri.password);
  cr_assert_eq(uri.scheme[0], '\0');
  iotkit_uri_clear(NULL);
}

Test(uri, null_text_is_invalid_arg) { cr_assert_eq(iotkit_uri_parse(NULL, &uri), IOTKIT_ERR_INVALID_ARG); }

Test(uri, null_output_is_invalid_arg) { cr_assert_eq(iotkit_uri_parse("mqtt://h", NULL), IOTKIT_ERR_INVALID_ARG); }

/* Each malformed URI: BAD_URI and a zeroed output. */
static void expect_bad(const char *text) {
  iotkit_uri_t u;
  memset(&u, 0x5a, sizeof u);
  cr_assert_eq(iotkit_uri_parse(text, &u), IOTKIT_ERR_BAD_URI, "'%s'", text);
  iotkit_uri_t zero;
  memset(&zero, 0, sizeof zero);
  cr_assert_eq(memcmp(&u, &zero, sizeof u), 0, "output not zeroed for '%s'", text);
}

Test(uri_bad, empty_string) { expect_bad(""); }
Test(uri_bad, missing_scheme_separator) { expect_bad("mqtt:/h"); }
Test(uri_bad, no_scheme_at_all) { expect_bad("broker.example:1883"); }
Test(uri_bad, empty_scheme) { expect_bad("://h"); }
Test(uri_bad, scheme_starting_with_digit) { expect_bad("1mqtt://h"); }
Test(uri_bad, scheme_with_bad_char) { expect_bad("mq_tt://h"); }
Test(uri_bad, scheme_too_long) { expect_bad("abcdefghijklmnop://h"); }
Test(uri_bad, empty_host) { expect_bad("mqtt://"); }
Test(uri_bad, empty_host_with_port) { expect_bad("mqtt://:1883"); }
Test(uri_bad, empty_host_with_userinfo) { expect_bad("mqtt://u:p@/x"); }
Test(uri_bad, empty_port) { expect_bad("mqtt://h:"); }
Test(uri_bad, port_zero) { expect_bad("mqtt://h:0"); }
Test(uri_bad, port_too_large) { expect_bad("mqtt://h:65536"); }
Test(uri_bad, port_not_numeric) { expect_bad("mqtt://h:18a3"); }
Test(uri_bad, port_negative) { expect_bad("mqtt://h:-1"); }
Test(uri_bad, port_too_many_digits) { expect_bad("mqtt://h:000001"); }
Test(uri_bad, space_in_host) { expect_bad("mqtt://bro ker"); }
Test(uri_bad, space_in_path) { expect_bad("http://h/a b"); }
Test(uri_bad, control_char) { expect_bad("mqtt://h\n"); }
Test(uri_bad, tab_in_userinfo) { expect_bad("mqtt://u\t:p@h"); }
Test(uri_bad, delete_char) { expect_bad("mqtt://h\x7f"); }
Test(uri_bad, fragment) { expect_bad("http://h/x#frag"); }
Test(uri_bad, truncated_escape) { expect_bad("http://h/a%2"); }
Test(uri_bad, non_hex_escape) { expect_bad("http://h/a%zz"); }
Test(uri_bad, escaped_nul) { expect_bad("mqtt://u:%00@h"); }
Test(uri_bad, bad_escape_in_query) { expect_bad("loop://x?a=%g0"); }
Test(uri_bad, ipv6_unclosed) { expect_bad("mqtt://[::1:1883"); }
Test(uri_bad, ipv6_empty) { expect_bad("mqtt://[]:1883"); }
Test(uri_bad, ipv6_bad_chars) { expect_bad("mqtt://[::g]"); }
Test(uri_bad, ipv6_without_colon) { expect_bad("mqtt://[1234]"); }
Test(uri_bad, garbage_after_ipv6) { expect_bad("mqtt://[::1]x"); }
Test(uri_bad, bad_host_char) { expect_bad("mqtt://ho%st"); }
Test(uri_bad, two_ports) { expect_bad("mqtt://h:1:2"); }

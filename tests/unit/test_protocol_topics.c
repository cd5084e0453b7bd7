/* iotkit/protocol.h: topic rules, channel names, topics and filters built and
   split (each bad input with its own code). */
#include <criterion/criterion.h>
#include <string.h>

#include "iotkit/iotkit.h"

Test(protocol_topics, match_follows_mqtt_rules) {
  cr_assert(iotkit_topic_match("iotkit/v1/+/telemetry", "iotkit/v1/sensor-1/telemetry"));
  cr_assert(iotkit_topic_match("iotkit/v1/sensor-1/#", "iotkit/v1/sensor-1"));
  cr_assert_not(iotkit_topic_match("iotkit/v1/+/telemetry", "iotkit/v1/sensor-1/status"));
  cr_assert_not(iotkit_topic_match("+/x", "$SYS/x"));
  cr_assert_not(iotkit_topic_match("a/#/b", "a/x/b"));
  cr_assert_not(iotkit_topic_match(NULL, "a"));
  cr_assert_not(iotkit_topic_match("a", NULL));
}

Test(protocol_topics, name_and_filter_validity) {
  cr_assert(iotkit_topic_name_valid("a/b"));
  cr_assert_not(iotkit_topic_name_valid("a/+"));
  cr_assert_not(iotkit_topic_name_valid(""));
  cr_assert_not(iotkit_topic_name_valid(NULL));
  cr_assert(iotkit_topic_filter_valid("a/+/#"));
  cr_assert_not(iotkit_topic_filter_valid("a/b+"));
  cr_assert_not(iotkit_topic_filter_valid("a/#/b"));
  cr_assert_not(iotkit_topic_filter_valid(NULL));
}

Test(protocol_topics, channel_names_round_trip) {
  static const char *const want[] = {NULL, "telemetry", "state/reported", "state/desired", "commands/request",
                                     "commands/response", "events", "status", "ota/manifest", "ota/status",
                                     "location"};
  for (int c = IOTKIT_CHANNEL_OTHER; c <= IOTKIT_CHANNEL_LOCATION; c++) {
    const char *n = iotkit_channel_name((iotkit_channel_t)c);
    if (!want[c]) {
      cr_assert_null(n);
      continue;
    }
    cr_assert_str_eq(n, want[c]);
    if (c != IOTKIT_CHANNEL_EVENTS) cr_assert_eq(iotkit_channel_from_suffix(n), c, "%s", n);
  }
  cr_assert_null(iotkit_channel_name((iotkit_channel_t)99));
  cr_assert_eq(iotkit_channel_from_suffix("events/overheat"), IOTKIT_CHANNEL_EVENTS);
  cr_assert_eq(iotkit_channel_from_suffix("events"), IOTKIT_CHANNEL_OTHER);
  cr_assert_eq(iotkit_channel_from_suffix("events/a/b"), IOTKIT_CHANNEL_OTHER);
  cr_assert_eq(iotkit_channel_from_suffix("app/data"), IOTKIT_CHANNEL_OTHER);
  cr_assert_eq(iotkit_channel_from_suffix(NULL), IOTKIT_CHANNEL_OTHER);
}

Test(protocol_topics, topic_is_prefix_id_suffix) {
  char buf[64];
  cr_assert_eq(iotkit_protocol_topic(NULL, "sensor-1", "state/desired", buf, sizeof buf), IOTKIT_OK);
  cr_assert_str_eq(buf, "iotkit/v1/sensor-1/state/desired");
  cr_assert_eq(iotkit_protocol_topic("acme/v2", "d.1", "events/alarm", buf, sizeof buf), IOTKIT_OK);
  cr_assert_str_eq(buf, "acme/v2/d.1/events/alarm");
}

Test(protocol_topics, topic_exact_fit_and_one_short) {
  char buf[32];
  size_t need = strlen("p/id/telemetry") + 1;
  cr_assert_eq(iotkit_protocol_topic("p", "id", "telemetry", buf, need), IOTKIT_OK);
  cr_assert_str_eq(buf, "p/id/telemetry");
  memset(buf, 'x', sizeof buf);
  cr_assert_eq(iotkit_protocol_topic("p", "id", "telemetry", buf, need - 1), IOTKIT_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(buf[0], 'x', "buffer touched on failure");
}

Test(protocol_topics, topic_bad_prefix) {
  char buf[64];
  const char *bad[] = {"", "/iotkit", "iotkit/", "a//b", "a/./b", "a/../b", "a/+/b", "a/#", "a\nb"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert_eq(iotkit_protocol_topic(bad[i], "d", "telemetry", buf, sizeof buf), IOTKIT_ERR_INVALID_ARG, "%s", bad[i]);
    cr_assert_not(iotkit_protocol_prefix_valid(bad[i]), "%s", bad[i]);
  }
}

Test(protocol_topics, topic_bad_device_id) {
  char buf[300];
  char longid[IOTKIT_MAX_DEVICE_ID + 2];
  memset(longid, 'a', sizeof longid - 1);
  longid[sizeof longid - 1] = '\0';
  const char *bad[] = {NULL, "", ".", "..", "a/b", "a+b", "a#", "a b", "é", longid};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert_eq(iotkit_protocol_topic(NULL, bad[i], "telemetry", buf, sizeof buf), IOTKIT_ERR_INVALID_ARG, "%zu", i);
    cr_assert_not(iotkit_protocol_device_id_valid(bad[i]), "%zu", i);
  }
  longid[IOTKIT_MAX_DEVICE_ID] = '\0';
  cr_assert(iotkit_protocol_device_id_valid(longid));
}

Test(protocol_topics, topic_bad_suffix) {
  char buf[64];
  const char *bad[] = {NULL, "", "/x", "x/", "a//b", ".", "a/..", "+", "#", "a/+", "x\x7f"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_eq(iotkit_protocol_topic(NULL, "d", bad[i], buf, sizeof buf), IOTKIT_ERR_INVALID_ARG, "%zu", i);
}

Test(protocol_topics, topic_null_buffer) {
  cr_assert_eq(iotkit_protocol_topic(NULL, "d", "status", NULL, 64), IOTKIT_ERR_INVALID_ARG);
}

Test(protocol_topics, fleet_filters) {
  char buf[64];
  cr_assert_eq(iotkit_protocol_filter(NULL, NULL, "telemetry", buf, sizeof buf), IOTKIT_OK);
  cr_assert_str_eq(buf, "iotkit/v1/+/telemetry");
  cr_assert(iotkit_topic_match(buf, "iotkit/v1/sensor-1/telemetry"));
  cr_assert_eq(iotkit_protocol_filter("acme/v2", NULL, "events/+", buf, sizeof buf), IOTKIT_OK);
  cr_assert_str_eq(buf, "acme/v2/+/events/+");
  cr_assert_eq(iotkit_protocol_filter(NULL, "sensor-1", "#", buf, sizeof buf), IOTKIT_OK);
  cr_assert_str_eq(buf, "iotkit/v1/sensor-1/#");
  cr_assert_eq(iotkit_protocol_filter(NULL, NULL, "#/x", buf, sizeof buf), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_protocol_filter(NULL, NULL, "a+", buf, sizeof buf), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_protocol_filter("a/+", NULL, "status", buf, sizeof buf), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_protocol_filter(NULL, "a/b", "status", buf, sizeof buf), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_protocol_filter(NULL, NULL, "status", buf, 10), IOTKIT_ERR_BUFFER_TOO_SMALL);
}

Test(protocol_topics, parse_splits_a_fleet_topic) {
  char id[IOTKIT_MAX_DEVICE_ID + 1];
  const char *suffix = NULL;
  iotkit_channel_t ch = IOTKIT_CHANNEL_OTHER;
  cr_assert_eq(iotkit_protocol_topic_parse(NULL, "iotkit/v1/sensor-1/telemetry", id, sizeof id, &suffix, &ch),
               IOTKIT_OK);
  cr_assert_str_eq(id, "sensor-1");
  cr_assert_str_eq(suffix, "telemetry");
  cr_assert_eq(ch, IOTKIT_CHANNEL_TELEMETRY);
  cr_assert_eq(iotkit_protocol_topic_parse("acme/v2", "acme/v2/d/events/overheat", id, sizeof id, &suffix, &ch),
               IOTKIT_OK);
  cr_assert_str_eq(id, "d");
  cr_assert_str_eq(suffix, "events/overheat");
  cr_assert_eq(ch, IOTKIT_CHANNEL_EVENTS);
  cr_assert_eq(iotkit_protocol_topic_parse(NULL, "iotkit/v1/d/app/x", NULL, 0, NULL, &ch), IOTKIT_OK);
  cr_assert_eq(ch, IOTKIT_CHANNEL_OTHER);
}

Test(protocol_topics, parse_round_trips_what_topic_builds) {
  char topic[128], id[16];
  const char *suffix = NULL;
  for (int c = IOTKIT_CHANNEL_TELEMETRY; c <= IOTKIT_CHANNEL_LOCATION; c++) {
    if (c == IOTKIT_CHANNEL_EVENTS) continue;
    cr_assert_eq(iotkit_protocol_topic("x/y/z", "dev", iotkit_channel_name((iotkit_channel_t)c), topic, sizeof topic),
                 IOTKIT_OK);
    iotkit_channel_t got = IOTKIT_CHANNEL_OTHER;
    cr_assert_eq(iotkit_protocol_topic_parse("x/y/z", topic, id, sizeof id, &suffix, &got), IOTKIT_OK);
    cr_assert_eq(got, c);
    cr_assert_str_eq(id, "dev");
  }
}

Test(protocol_topics, parse_not_a_channel_below_the_prefix) {
  char id[16];
  const char *bad[] = {"other/v1/d/telemetry", "iotkit/v1", "iotkit/v1/", "iotkit/v1/d", "iotkit/v1/d/",
                       "iotkit/v10/d/telemetry", "iotkit/v1//telemetry", "iotkit/v1/../telemetry",
                       "iotkit/v1/d//x", "iotkit/v1/d/+"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_eq(iotkit_protocol_topic_parse(NULL, bad[i], id, sizeof id, NULL, NULL), IOTKIT_ERR_NOT_FOUND, "%s",
                 bad[i]);
}

Test(protocol_topics, parse_bad_arguments) {
  char id[16];
  cr_assert_eq(iotkit_protocol_topic_parse("a/", "a/d/x", id, sizeof id, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_protocol_topic_parse(NULL, NULL, id, sizeof id, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_protocol_topic_parse(NULL, "iotkit/v1/d/x", NULL, 8, NULL, NULL), IOTKIT_ERR_INVALID_ARG);
}

Test(protocol_topics, parse_id_buffer_too_small) {
  char id[16];
  memset(id, 'x', sizeof id);
  const char *suffix = "untouched";
  cr_assert_eq(iotkit_protocol_topic_parse(NULL, "iotkit/v1/sensor-1/status", id, 8, &suffix, NULL),
               IOTKIT_ERR_BUFFER_TOO_SMALL);
  cr_assert_eq(id[0], 'x');
  cr_assert_str_eq(suffix, "untouched");
  cr_assert_eq(iotkit_protocol_topic_parse(NULL, "iotkit/v1/sensor-1/status", id, 9, &suffix, NULL), IOTKIT_OK);
  cr_assert_str_eq(id, "sensor-1");
}

Test(protocol_topics, name_rules) {
  cr_assert(iotkit_protocol_name_valid("overheat"));
  cr_assert_not(iotkit_protocol_name_valid("a/b"));
  cr_assert_not(iotkit_protocol_name_valid(""));
  char n[IOTKIT_MAX_NAME + 2];
  memset(n, 'a', sizeof n - 1);
  n[sizeof n - 1] = '\0';
  cr_assert_not(iotkit_protocol_name_valid(n));
  n[IOTKIT_MAX_NAME] = '\0';
  cr_assert(iotkit_protocol_name_valid(n));
}

Test(protocol_topics, suffix_wildcards_only_when_allowed) {
  cr_assert(iotkit_protocol_suffix_valid("events/+", true));
  cr_assert(iotkit_protocol_suffix_valid("#", true));
  cr_assert_not(iotkit_protocol_suffix_valid("events/+", false));
  cr_assert_not(iotkit_protocol_suffix_valid("#/x", true));
  cr_assert_not(iotkit_protocol_suffix_valid("a+/x", true));
}

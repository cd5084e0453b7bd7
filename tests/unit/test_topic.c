#include <criterion/criterion.h>

#include "transport/topic.h"

Test(topic, exact_match) {
  cr_assert(iotkit__topic_match("a/b/c", "a/b/c"));
  cr_assert_not(iotkit__topic_match("a/b/c", "a/b/d"));
  cr_assert_not(iotkit__topic_match("a/b", "a/b/c"));
  cr_assert_not(iotkit__topic_match("a/b/c", "a/b"));
  cr_assert_not(iotkit__topic_match("a/bc", "a/b"));
}

Test(topic, plus_matches_one_level) {
  cr_assert(iotkit__topic_match("a/+/c", "a/b/c"));
  cr_assert(iotkit__topic_match("a/+/c", "a//c"));
  cr_assert(iotkit__topic_match("+", "x"));
  cr_assert(iotkit__topic_match("+/+", "x/y"));
  cr_assert_not(iotkit__topic_match("a/+/c", "a/b/x/c"));
  cr_assert_not(iotkit__topic_match("a/+", "a"));
  cr_assert_not(iotkit__topic_match("+", "x/y"));
}

Test(topic, hash_matches_rest_and_parent) {
  cr_assert(iotkit__topic_match("#", "a"));
  cr_assert(iotkit__topic_match("#", "a/b/c"));
  cr_assert(iotkit__topic_match("a/#", "a/b/c"));
  cr_assert(iotkit__topic_match("a/#", "a"));
  cr_assert(iotkit__topic_match("a/+/#", "a/b"));
  cr_assert_not(iotkit__topic_match("a/#", "b/c"));
  cr_assert_not(iotkit__topic_match("a/b/#", "a"));
}

Test(topic, dollar_topics_not_matched_by_leading_wildcard) {
  cr_assert_not(iotkit__topic_match("#", "$SYS/x"));
  cr_assert_not(iotkit__topic_match("+/x", "$SYS/x"));
  cr_assert(iotkit__topic_match("$SYS/#", "$SYS/x"));
}

Test(topic, invalid_filters_never_match) {
  cr_assert_not(iotkit__topic_match("a/#/b", "a/x/b"));
  cr_assert_not(iotkit__topic_match("a#", "a"));
  cr_assert_not(iotkit__topic_match("a+/b", "a+/b"));
  cr_assert_not(iotkit__topic_match("", ""));
}

Test(topic, wildcards_in_topic_never_match) {
  cr_assert_not(iotkit__topic_match("a/+", "a/+"));
  cr_assert_not(iotkit__topic_match("#", "a/#"));
}

Test(topic, null_arguments) {
  cr_assert_not(iotkit__topic_match(NULL, "a"));
  cr_assert_not(iotkit__topic_match("a", NULL));
  cr_assert_not(iotkit__topic_filter_valid(NULL));
  cr_assert_not(iotkit__topic_name_valid(NULL));
}

Test(topic, filter_validity) {
  cr_assert(iotkit__topic_filter_valid("a/+/#"));
  cr_assert(iotkit__topic_filter_valid("+"));
  cr_assert(iotkit__topic_filter_valid("/"));
  cr_assert_not(iotkit__topic_filter_valid(""));
  cr_assert_not(iotkit__topic_filter_valid("a/#/"));
  cr_assert_not(iotkit__topic_filter_valid("a/b+"));
  cr_assert_not(iotkit__topic_filter_valid("+a"));
}

/* The documents and topics of docs/protocol.md (lib/protocol): the first byte
   picks the parser: desired and reported state, status, event, location,
   command response, OTA status, a topic under "iotkit/v1", a JSON merge
   patch (RFC 7386: target NUL patch) and the diff of two documents, which
   applied to the first must give a document equal to the second. */
#include "fuzz_util.h"

static void merge_and_diff(const uint8_t *data, size_t size) {
  char *target = fuzz_take_until(&data, &size, 0);
  char *patch = fuzz_strndup(data, size);
  char *out = NULL;
  if (iotkit_json_merge_patch(target, patch, &out) == IOTKIT_OK) {
    FUZZ_CHECK(out != NULL);
    iotkit_free(out);
  }
  char *diff = NULL;
  if (iotkit_json_diff(target, patch, &diff) == IOTKIT_OK) {
    FUZZ_CHECK(diff != NULL);
    char *back = NULL;
    iotkit_err_t rc = iotkit_json_merge_patch(target, diff, &back);
    FUZZ_CHECK(rc == IOTKIT_OK);
    /* A merge patch cannot make a member null (null removes it, RFC 7386), and a null
       member both documents share is no difference, so it stays in the result: compare
       both sides as a patch makes them, their null members gone. */
    char *want = NULL, *got = NULL, *again = NULL;
    FUZZ_CHECK(iotkit_json_merge_patch("{}", patch, &want) == IOTKIT_OK);
    FUZZ_CHECK(iotkit_json_merge_patch("{}", back, &got) == IOTKIT_OK);
    FUZZ_CHECK(iotkit_json_diff(got, want, &again) == IOTKIT_OK);
    if (strcmp(again, "{}") != 0 && strcmp(got, want) != 0) {
      fprintf(stderr, "diff of %s and %s is %s, applied gives %s, which differs from %s by %s\n", target, patch,
              diff, back, want, again);
      FUZZ_CHECK(0);
    }
    iotkit_free(again);
    iotkit_free(got);
    iotkit_free(want);
    iotkit_free(back);
    iotkit_free(diff);
  }
  free(patch);
  free(target);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  unsigned which = fuzz_take_byte(&data, &size) % 10;
  char *s1 = NULL, *s2 = NULL;
  int64_t ts = 0;
  switch (which) {
    case 0: {
      uint64_t version = 0;
      if (iotkit_protocol_desired_parse(data, size, &version, &s1) == IOTKIT_OK) FUZZ_CHECK(s1 != NULL);
      break;
    }
    case 1:
      if (iotkit_protocol_reported_parse(data, size, &s1, &ts) == IOTKIT_OK) FUZZ_CHECK(s1 != NULL);
      break;
    case 2: {
      bool online = false;
      (void)iotkit_protocol_status_parse(data, size, &online, &s1, &ts);
      break;
    }
    case 3:
      if (iotkit_protocol_event_parse(data, size, &s1, &ts, &s2) == IOTKIT_OK) FUZZ_CHECK(s1 != NULL);
      break;
    case 4: {
      iotkit_location_t loc;
      (void)iotkit_protocol_location_parse(data, size, &loc);
      break;
    }
    case 5: {
      iotkit_command_response_t r;
      memset(&r, 0, sizeof r);
      if (iotkit_protocol_response_parse(data, size, &r) == IOTKIT_OK) iotkit_protocol_response_clear(&r);
      break;
    }
    case 6: {
      iotkit_ota_report_t r;
      memset(&r, 0, sizeof r);
      if (iotkit_protocol_ota_status_parse(data, size, &r) == IOTKIT_OK) iotkit_protocol_ota_status_clear(&r);
      break;
    }
    case 7: {
      char *topic = fuzz_strndup(data, size);
      char id[IOTKIT_MAX_DEVICE_ID + 1];
      const char *suffix = NULL;
      iotkit_channel_t ch = IOTKIT_CHANNEL_OTHER;
      if (iotkit_protocol_topic_parse("iotkit/v1", topic, id, sizeof id, &suffix, &ch) == IOTKIT_OK) {
        FUZZ_CHECK(suffix != NULL && strlen(id) <= IOTKIT_MAX_DEVICE_ID);
        FUZZ_CHECK(iotkit_channel_from_suffix(suffix) == ch);
      }
      (void)iotkit_topic_match("iotkit/v1/+/#", topic);
      (void)iotkit_topic_match(topic, "iotkit/v1/sensor-1/state/desired");
      free(topic);
      break;
    }
    default: merge_and_diff(data, size); break;
  }
  iotkit_free(s1);
  iotkit_free(s2);
  return 0;
}

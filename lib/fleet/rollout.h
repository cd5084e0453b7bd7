/* OTA rollouts (internal): the in-memory model, its evaluation, its wire work and its store. */
#ifndef IOTKIT__FLEET_ROLLOUT_H
#define IOTKIT__FLEET_ROLLOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotkit/fleet.h"
#include "iotkit/transport.h"

/* What the fleet still has to put on the wire for a device (persisted). */
enum {
  IOTKIT__RO_WIRE_NONE = 0,    /* nothing sent */
  IOTKIT__RO_WIRE_SEND = 1,    /* publish the manifest (retained) */
  IOTKIT__RO_WIRE_SENT = 2,    /* published */
  IOTKIT__RO_WIRE_CLEAR = 3,   /* clear the retained manifest (cancel) */
  IOTKIT__RO_WIRE_CLEARED = 4  /* cleared */
};

/* The verdict of a group's thresholds. */
typedef enum {
  IOTKIT__RO_GO_ON = 0,   /* neither threshold */
  IOTKIT__RO_SUCCESS = 1, /* finished/total >= success % (or empty) */
  IOTKIT__RO_ERROR = 2    /* errors/total > error % (checked first) */
} iotkit__ro_verdict_t;

/* hawkBit's thresholds, in integers. */
iotkit__ro_verdict_t iotkit__ro_verdict(size_t total, size_t finished, size_t errors, unsigned success_pct,
                                        unsigned error_pct);

typedef struct iotkit__ro_dev {
  char id[IOTKIT_MAX_DEVICE_ID + 1];
  uint32_t pos;    /* its place in the rollout (devs[pos]) */
  uint32_t group;
  uint8_t state;   /* iotkit_fleet_rollout_device_state_t */
  uint8_t wire;    /* IOTKIT__RO_WIRE_* */
  uint8_t percent;
  bool reported;   /* a report of the rollout's version came */
  bool dirty;      /* not yet written */
  char error[48];
  int64_t updated_ms;
} iotkit__ro_dev_t;

typedef struct iotkit__ro_group {
  uint32_t first, size; /* devs[first .. first + size) */
  uint8_t success_pct, error_pct;
  uint8_t state;        /* iotkit_fleet_group_state_t */
  int64_t started_ms;
} iotkit__ro_group_t;

typedef struct iotkit__ro {
  struct iotkit__ro *next;
  char id[IOTKIT_MAX_DEVICE_ID + 1];
  char *manifest;       /* immutable while the fleet lives */
  size_t manifest_len;
  char version[IOTKIT_OTA_MAX_VERSION + 1];
  char device_type[IOTKIT_OTA_MAX_NAME + 1];
  uint8_t state;        /* iotkit_fleet_rollout_state_t */
  uint32_t started;     /* groups started */
  int32_t error_group;  /* -1: none */
  char reason[96];
  int64_t created_ms, updated_ms;
  uint32_t n_groups;
  iotkit__ro_group_t *groups;
  uint32_t n_devs;
  iotkit__ro_dev_t *devs;
  uint32_t *by_id;      /* indices of devs in id order */
  uint8_t stored_state; /* the state last known to be in the database (loaded or saved) */
  bool dirty;           /* the rollout's own row and groups not yet written */
  bool wire;            /* some device has wire work */
} iotkit__ro_t;

/* Every rollout of a fleet (under the fleet's lock). */
typedef struct iotkit__rollouts {
  iotkit__ro_t *head, *tail;
  const iotkit_ota_trust_t *trust;
  bool save_queued;
  bool wire;             /* some rollout has wire work */
  uint64_t sessions_seen;
  uint64_t next_refresh; /* monotonic ms of the next look at the stored states */
  iotkit_fleet_rollout_cb cb;
  void *cb_user;
} iotkit__rollouts_t;

/* Events collected under the lock, delivered after it (rollout.c). */
#define IOTKIT__RO_EVENTS_MAX (IOTKIT_FLEET_ROLLOUT_MAX_GROUPS + 4)
typedef struct iotkit__ro_ev {
  int group;
  uint8_t group_state, state, dev_state, percent;
  bool device;
  char dev_id[IOTKIT_MAX_DEVICE_ID + 1];
  char error[48];
} iotkit__ro_ev_t;
typedef struct iotkit__ro_events {
  char rollout_id[IOTKIT_MAX_DEVICE_ID + 1];
  iotkit__ro_ev_t ev[IOTKIT__RO_EVENTS_MAX];
  size_t n;
} iotkit__ro_events_t;

/* rollout_eval.c (lock held). */
void iotkit__ro_counts(const iotkit__ro_t *ro, int group, iotkit_fleet_rollout_counts_t *c);
/* Apply the thresholds, start groups, finish; events into @p evs. */
void iotkit__ro_evaluate(iotkit_fleet_t *f, iotkit__ro_t *ro, int64_t now, iotkit__ro_events_t *evs);
void iotkit__ro_event_group(iotkit__ro_events_t *evs, const iotkit__ro_t *ro, int group);
iotkit__ro_t *iotkit__ro_find(const iotkit_fleet_t *f, const char *id);
iotkit__ro_dev_t *iotkit__ro_find_dev(const iotkit__ro_t *ro, const char *id);
void iotkit__ro_free_one(iotkit__ro_t *ro);
/* Sort by_id (after devs are filled). */
void iotkit__ro_index(iotkit__ro_t *ro);

/* rollout.c */
/* After a change (lock NOT held): queue the save job unless queued. */
void iotkit__ro_kick(iotkit_fleet_t *f);
/* Deliver events (lock NOT held). */
void iotkit__ro_deliver(iotkit_fleet_t *f, const iotkit__ro_events_t *evs);

/* Cancel in memory: every device not finished is canceled, the sent manifests marked to clear
   (lock held). */
void iotkit__ro_cancel(iotkit_fleet_t *f, iotkit__ro_t *ro, int64_t now);

/* rollout_refresh.c: adopt a start, pause, resume or cancel another process stored (polling
   thread, at most every IOTKIT__RO_REFRESH_MS, only while some rollout is active). */
#define IOTKIT__RO_REFRESH_MS 250u
void iotkit__fleet_rollouts_refresh(iotkit_fleet_t *f);

/* rollout_wire.c: an ota/status message of a registered device (polling thread). */
void iotkit__fleet_ota_status_in(iotkit_fleet_t *f, const char *id, const iotkit_transport_msg_t *msg);
/* One step of wire work (polling thread, session up). */
void iotkit__fleet_rollout_step(iotkit_fleet_t *f);

/* rollout_store.c: load at creation, free at release. */
iotkit_err_t iotkit__fleet_rollouts_load(iotkit_fleet_t *f, char *err, size_t cap);
void iotkit__fleet_rollouts_free(iotkit_fleet_t *f);

#endif

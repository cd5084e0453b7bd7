/* Internal pieces of the OTA client (not exported). */
#ifndef IOTKIT__OTA_INTERNAL_H
#define IOTKIT__OTA_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotkit/ota.h"

/* ---------------------------------------------------------- semver.c -- */
typedef struct iotkit__semver {
  uint64_t major, minor, patch;
  const char *pre; /* pre-release identifiers (into the parsed text), or NULL */
  size_t pre_len;
} iotkit__semver_t;

bool iotkit__ota_semver_parse(const char *v, iotkit__semver_t *out);
int iotkit__ota_semver_cmp(const iotkit__semver_t *a, const iotkit__semver_t *b);

/* -------------------------------------------------------- manifest.c -- */
struct iotkit_ota_manifest {
  char device_type[IOTKIT_OTA_MAX_NAME + 1];
  char version[IOTKIT_OTA_MAX_VERSION + 1];
  uint64_t size;
  uint8_t sha256[IOTKIT_SHA256_LEN];
  char *url;
  char key_id[IOTKIT_OTA_MAX_NAME + 1];
  uint8_t sig[IOTKIT_SIG_EC_LEN];
  size_t sig_len;
};

/* Largest manifest text accepted. */
#define IOTKIT__OTA_MANIFEST_MAX 8192u

/* OK if every field of @img and @key_id follows the manifest rules. */
iotkit_err_t iotkit__ota_image_check(const iotkit_ota_image_t *img, const char *key_id);
/* The canonical form of @img + @key_id (see docs/protocol.md), malloc'd. */
char *iotkit__ota_canonical(const iotkit_ota_image_t *img, const char *key_id);

/* ----------------------------------------------------------- trust.c -- */
/* The trusted key of @key_id, or NULL. */
const iotkit_key_t *iotkit__ota_trust_find(const iotkit_ota_trust_t *trust, const char *key_id);
/* The signature algorithm a manifest key of @key's type uses, or 0. */
iotkit_sig_alg_t iotkit__ota_sig_alg(const iotkit_key_t *key);

/* ---------------------------------------------------------- client -- */
struct iotkit_ota {
  iotkit_ota_config_t cfg; /* strings below are the handle's own copies */
  iotkit_hal_t hal_view;   /* cfg.hal points here when the caller's HAL is of an older, smaller layout */
  char device_type[IOTKIT_OTA_MAX_NAME + 1];
  char running_version[IOTKIT_OTA_MAX_VERSION + 1];
  char *ca_file;
  char *psk_identity;
  char *psk_key_hex; /* a secret: freed with iotkit__free_secret */

  /* The persisted state ("ota.state"). */
  iotkit_ota_state_t state;
  iotkit_err_t error;
  int slot;        /* target slot, -1 without an update */
  uint64_t offset; /* bytes in the slot; durable up to the HAL's recorded slot size */
  uint64_t persisted_offset; /* the offset in the stored record (non-zero: the slot's size is this download's) */
  char *manifest_text; /* "ota.manifest" */
  iotkit_ota_manifest_t *manifest;

  /* Download in progress (not persisted). */
  iotkit_sha256_t *sha;
  bool sha_valid;  /* sha holds the hash of the slot's first `offset` bytes */
  uint8_t *buf;    /* chunk_size bytes */
  unsigned since_checkpoint;
  atomic_bool abort;
  char error_name[48];
  uint64_t trial_since_ms; /* HAL monotonic time of iotkit_ota_new(): the trial clock of this boot (trial.c) */
  bool reverted;           /* iotkit_ota_poll() rolled back in this boot: the running image's slot is now the inactive one */

  /* A second status listener besides cfg.on_status: the device glue (lib/device/device_ota.c). */
  iotkit_ota_status_cb observer;
  void *observer_user;
};

#define IOTKIT__OTA_KEY_STATE "ota.state"
#define IOTKIT__OTA_KEY_MANIFEST "ota.manifest"
#define IOTKIT__OTA_KEY_FLOOR "ota.floor"

/* state.c: persist / load the state record; persist moves @ota to @state and reports it. */
iotkit_err_t iotkit__ota_state_load(iotkit_ota_t *ota);
iotkit_err_t iotkit__ota_set_state(iotkit_ota_t *ota, iotkit_ota_state_t state, iotkit_err_t error);
iotkit_err_t iotkit__ota_persist(iotkit_ota_t *ota);
void iotkit__ota_report(iotkit_ota_t *ota);
/* Set (or clear, with NULL) the second status listener. */
void iotkit__ota_set_observer(iotkit_ota_t *ota, iotkit_ota_status_cb cb, void *user);
/* The security floor, or "" if none. */
iotkit_err_t iotkit__ota_floor_get(const iotkit_ota_t *ota, char *buf, size_t cap);

/* checks.c: every check before download; @m_out receives the parsed manifest (or NULL), OK or not: the caller frees it. */
iotkit_err_t iotkit__ota_check(iotkit_ota_t *ota, const char *text, size_t len, iotkit_ota_manifest_t **m_out);

/* download.c: stream the image into the slot (state DOWNLOADING -> DOWNLOADED). */
iotkit_err_t iotkit__ota_download(iotkit_ota_t *ota);
/* Restart the hash and feed it the slot's first @upto bytes, read back (CORRUPT if fewer). */
iotkit_err_t iotkit__ota_rehash(iotkit_ota_t *ota, uint64_t upto);

/* install.c */
iotkit_err_t iotkit__ota_verify_and_mark(iotkit_ota_t *ota);
iotkit_err_t iotkit__ota_request_reboot(iotkit_ota_t *ota, bool ask);
iotkit_err_t iotkit__ota_reconcile(iotkit_ota_t *ota);

#endif

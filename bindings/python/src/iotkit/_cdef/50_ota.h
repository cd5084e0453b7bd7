/* ota.h: versions, trust store, manifests, the OTA client, device integration.
 * iotkit_device_t is repeated here as an opaque type (cffi accepts the
 * repetition); the Device binding declares the device functions. */
typedef struct iotkit_device iotkit_device_t;

#define IOTKIT_OTA_MAX_NAME 64
#define IOTKIT_OTA_MAX_VERSION 64
#define IOTKIT_OTA_MAX_URL 2048
#define IOTKIT_OTA_MAX_KEYS 16
#define IOTKIT_OTA_TRIAL_TIMEOUT_S ...
#define IOTKIT_DEVICE_OTA_PROGRESS_MS ...

iotkit_err_t iotkit_ota_version_compare(const char *a, const char *b, int *cmp);

typedef struct iotkit_ota_trust iotkit_ota_trust_t;
iotkit_err_t iotkit_ota_trust_new(iotkit_ota_trust_t **out);
void iotkit_ota_trust_free(iotkit_ota_trust_t *trust);
iotkit_err_t iotkit_ota_trust_add(iotkit_ota_trust_t *trust, const char *key_id, const iotkit_key_t *key);
iotkit_err_t iotkit_ota_trust_add_pem(iotkit_ota_trust_t *trust, const char *key_id, const void *pem, size_t len);
iotkit_err_t iotkit_ota_trust_remove(iotkit_ota_trust_t *trust, const char *key_id);
size_t iotkit_ota_trust_count(const iotkit_ota_trust_t *trust);

typedef struct iotkit_ota_image {
  const char *device_type;
  const char *version;
  uint64_t size;
  uint8_t sha256[32];
  const char *url;
} iotkit_ota_image_t;

typedef struct iotkit_ota_manifest iotkit_ota_manifest_t;
iotkit_err_t iotkit_ota_manifest_sign(const iotkit_ota_image_t *image, const iotkit_key_t *key, const char *key_id,
                                      char **json);
iotkit_err_t iotkit_ota_manifest_parse(const char *json, size_t len, iotkit_ota_manifest_t **out);
void iotkit_ota_manifest_free(iotkit_ota_manifest_t *m);
iotkit_err_t iotkit_ota_manifest_image(const iotkit_ota_manifest_t *m, iotkit_ota_image_t *image);
const char *iotkit_ota_manifest_key_id(const iotkit_ota_manifest_t *m);
iotkit_err_t iotkit_ota_manifest_canonical(const iotkit_ota_manifest_t *m, char **text);
iotkit_err_t iotkit_ota_manifest_verify(const iotkit_ota_manifest_t *m, const iotkit_ota_trust_t *trust);

typedef enum iotkit_ota_state {
  IOTKIT_OTA_IDLE = 0, IOTKIT_OTA_DOWNLOADING = 1, IOTKIT_OTA_DOWNLOADED = 2, IOTKIT_OTA_VERIFYING = 3,
  IOTKIT_OTA_PENDING = 4, IOTKIT_OTA_TRIAL = 5, IOTKIT_OTA_CONFIRMED = 6, IOTKIT_OTA_ROLLED_BACK = 7,
  IOTKIT_OTA_FAILED = 8
} iotkit_ota_state_t;
const char *iotkit_ota_state_name(iotkit_ota_state_t state);

typedef struct iotkit_ota_status {
  size_t struct_size;
  iotkit_ota_state_t state;
  uint64_t bytes;
  uint64_t total;
  unsigned percent;
  iotkit_err_t error;
  const char *running_version;
  const char *target_version;
} iotkit_ota_status_t;

typedef struct iotkit_ota iotkit_ota_t;
typedef void (*iotkit_ota_status_cb)(iotkit_ota_t *ota, void *user, const iotkit_ota_status_t *status);
typedef bool (*iotkit_ota_reboot_cb)(iotkit_ota_t *ota, void *user);
typedef iotkit_err_t (*iotkit_ota_sink_fn)(void *sink_ctx, const void *data, size_t len);
typedef struct iotkit_ota_fetcher {
  iotkit_err_t (*fetch)(void *ctx, const char *url, uint64_t offset, size_t chunk_size, iotkit_ota_sink_fn sink,
                        void *sink_ctx);
  void *ctx;
} iotkit_ota_fetcher_t;

typedef struct iotkit_ota_config {
  size_t struct_size;
  iotkit_hal_t *hal;
  const iotkit_ota_trust_t *trust;
  const char *device_type;
  const char *running_version;
  size_t chunk_size;
  unsigned checkpoint_chunks;
  unsigned max_retries;
  uint32_t retry_base_ms;
  uint32_t retry_max_ms;
  uint32_t timeout_ms;
  const char *ca_file;
  const char *psk_identity;
  const char *psk_key_hex;
  iotkit_ota_fetcher_t fetcher;
  uint32_t trial_timeout_s;
  iotkit_ota_status_cb on_status;
  iotkit_ota_reboot_cb on_reboot;
  void *user;
} iotkit_ota_config_t;

void iotkit_ota_config_init(iotkit_ota_config_t *cfg);
iotkit_err_t iotkit_ota_new(const iotkit_ota_config_t *cfg, iotkit_ota_t **out);
void iotkit_ota_free(iotkit_ota_t *ota);
iotkit_err_t iotkit_ota_check(iotkit_ota_t *ota, const char *manifest, size_t len);
iotkit_err_t iotkit_ota_start(iotkit_ota_t *ota, const char *manifest, size_t len);
iotkit_err_t iotkit_ota_run(iotkit_ota_t *ota);
void iotkit_ota_abort(iotkit_ota_t *ota);
iotkit_err_t iotkit_ota_reboot(iotkit_ota_t *ota);
iotkit_err_t iotkit_ota_confirm(iotkit_ota_t *ota);
iotkit_err_t iotkit_ota_poll(iotkit_ota_t *ota);
iotkit_err_t iotkit_ota_cancel(iotkit_ota_t *ota);
iotkit_err_t iotkit_ota_set_security_floor(iotkit_ota_t *ota, const char *version);
iotkit_err_t iotkit_ota_status_sized(iotkit_ota_t *ota, iotkit_ota_status_t *status, size_t size);
iotkit_err_t iotkit_ota_status_json(iotkit_ota_t *ota, char **json);

iotkit_err_t iotkit_device_ota_attach(iotkit_device_t *dev, iotkit_ota_t *ota);
iotkit_err_t iotkit_device_ota_offer(iotkit_device_t *dev, const char *manifest, size_t len);
iotkit_err_t iotkit_device_ota_run(iotkit_device_t *dev);
iotkit_err_t iotkit_device_ota_report(iotkit_device_t *dev);

/* iotkit.ota: the client's callbacks and a fetcher written in Python. */
extern "Python" void _iotkit_pyota_status(iotkit_ota_t *ota, void *user, const iotkit_ota_status_t *status);
extern "Python" bool _iotkit_pyota_reboot(iotkit_ota_t *ota, void *user);
extern "Python" iotkit_err_t _iotkit_pyota_fetch(void *ctx, const char *url, uint64_t offset, size_t chunk_size,
                                                 iotkit_ota_sink_fn sink, void *sink_ctx);

/* Structs that grow (docs/architecture.md): a caller built against an older,
   smaller struct (struct_size = the end of an earlier field) is accepted and the
   missing fields act as defaults / absent operations; struct_size 0 is the 0.2.0
   layout; a size below the required fields is IOTKIT_ERR_INVALID_ARG; a larger
   (future) size is read up to the known prefix; the _sized stats fill only the
   caller's prefix. Also the transport config defaults, the version number and
   the run-time limits. */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <iotkit/iotkit.h>

static iotkit_hal_t *hal;

static void setup(void) { cr_assert_eq(iotkit_hal_memory_new(NULL, &hal), IOTKIT_OK); }
static void teardown(void) { iotkit_hal_free(hal); }
TestSuite(abi, .init = setup, .fini = teardown, .timeout = 30);

/* A caller's struct with room after it: a "future" caller's bytes the library must not read as known fields. */
typedef struct {
  iotkit_device_config_t cfg;
  unsigned char future[64];
} future_device_config_t;

static void device_cfg(iotkit_device_config_t *cfg) {
  iotkit_device_config_init(cfg);
  cfg->device_id = "abi-1";
  cfg->uri = "loop://x";
  cfg->hal = hal;
}

static iotkit_device_telemetry_stats_t stats_of(iotkit_device_t *dev) {
  iotkit_device_telemetry_stats_t st;
  cr_assert_eq(iotkit_device_telemetry_stats(dev, &st), IOTKIT_OK);
  return st;
}

/* ------------------------------------------------------ device config -- */

Test(abi, device_config_init_sets_struct_size) {
  iotkit_device_config_t cfg;
  memset(&cfg, 0x5a, sizeof cfg);
  iotkit_device_config_init(&cfg);
  cr_assert_eq(cfg.struct_size, sizeof cfg);
}

Test(abi, device_config_old_size_missing_fields_are_defaults) {
  iotkit_device_config_t cfg;
  device_cfg(&cfg);
  /* An "old" caller knows nothing from telemetry_durable on: what lies there is not its. */
  cfg.struct_size = offsetof(iotkit_device_config_t, telemetry_durable);
  cfg.telemetry_durable = false;
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&cfg, &dev), IOTKIT_OK);
  cr_assert(stats_of(dev).durable, "telemetry_durable beyond struct_size must keep its default (true)");
  iotkit_device_free(dev);
}

Test(abi, device_config_cut_before_drain_rate_accepted) {
  iotkit_device_config_t cfg;
  device_cfg(&cfg);
  cfg.struct_size = offsetof(iotkit_device_config_t, telemetry_drain_rate);
  cfg.telemetry_drain_rate = 12345;
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&cfg, &dev), IOTKIT_OK);
  iotkit_device_free(dev);
}

Test(abi, device_config_full_size_reads_every_field) {
  iotkit_device_config_t cfg;
  device_cfg(&cfg);
  cfg.telemetry_durable = false;
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&cfg, &dev), IOTKIT_OK);
  cr_assert_not(stats_of(dev).durable);
  iotkit_device_free(dev);
}

Test(abi, device_config_zero_size_is_the_0_2_layout) {
  iotkit_device_config_t cfg;
  device_cfg(&cfg);
  cfg.struct_size = 0;
  cfg.telemetry_durable = false; /* part of 0.2.0: read */
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&cfg, &dev), IOTKIT_OK);
  cr_assert_not(stats_of(dev).durable);
  iotkit_device_free(dev);
}

Test(abi, device_config_designated_initializer_works) {
  iotkit_device_config_t cfg = {.device_id = "abi-1", .uri = "loop://x", .hal = hal, .telemetry_durable = true};
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&cfg, &dev), IOTKIT_OK);
  cr_assert(stats_of(dev).durable);
  iotkit_device_free(dev);
}

Test(abi, device_config_below_required_fields_is_invalid) {
  iotkit_device_config_t cfg;
  device_cfg(&cfg);
  cfg.struct_size = offsetof(iotkit_device_config_t, uri); /* uri is required */
  iotkit_device_t *dev = (iotkit_device_t *)&cfg;
  cr_assert_eq(iotkit_device_new(&cfg, &dev), IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(dev, (iotkit_device_t *)&cfg, "out must be left alone");
  cfg.struct_size = 1;
  cr_assert_eq(iotkit_device_new(&cfg, &dev), IOTKIT_ERR_INVALID_ARG);
}

Test(abi, device_config_future_size_uses_known_prefix) {
  future_device_config_t f;
  memset(&f, 0xee, sizeof f);
  device_cfg(&f.cfg);
  f.cfg.struct_size = sizeof f; /* a newer caller: fields the library does not know follow */
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&f.cfg, &dev), IOTKIT_OK);
  iotkit_device_free(dev);
}

/* ---------------------------------------------------------- OTA config -- */

static iotkit_ota_trust_t *trust;

static void ota_cfg(iotkit_ota_config_t *cfg) {
  cr_assert_eq(iotkit_ota_trust_new(&trust), IOTKIT_OK);
  iotkit_ota_config_init(cfg);
  cfg->hal = hal;
  cfg->trust = trust;
  cfg->device_type = "sensor";
  cfg->running_version = "1.0.0";
}

Test(abi, ota_config_init_sets_struct_size) {
  iotkit_ota_config_t cfg;
  iotkit_ota_config_init(&cfg);
  cr_assert_eq(cfg.struct_size, sizeof cfg);
}

Test(abi, ota_config_old_size_missing_fields_are_defaults) {
  iotkit_ota_config_t cfg;
  ota_cfg(&cfg);
  /* Cut before chunk_size: a garbage chunk size beyond it must not be read. */
  cfg.struct_size = offsetof(iotkit_ota_config_t, chunk_size);
  cfg.chunk_size = 1; /* would be refused (below 1 KiB) if read */
  iotkit_ota_t *ota = NULL;
  cr_assert_eq(iotkit_ota_new(&cfg, &ota), IOTKIT_OK);
  iotkit_ota_free(ota);
  cfg.struct_size = sizeof cfg;
  cr_assert_eq(iotkit_ota_new(&cfg, &ota), IOTKIT_ERR_INVALID_ARG, "the full struct reads chunk_size");
  iotkit_ota_trust_free(trust);
}

Test(abi, ota_config_zero_size_and_future_size) {
  iotkit_ota_config_t cfg;
  ota_cfg(&cfg);
  iotkit_ota_t *ota = NULL;
  cfg.struct_size = 0;
  cr_assert_eq(iotkit_ota_new(&cfg, &ota), IOTKIT_OK);
  iotkit_ota_free(ota);
  struct {
    iotkit_ota_config_t cfg;
    unsigned char future[32];
  } f;
  memset(&f, 0xee, sizeof f);
  f.cfg = cfg;
  f.cfg.struct_size = sizeof f;
  cr_assert_eq(iotkit_ota_new(&f.cfg, &ota), IOTKIT_OK);
  iotkit_ota_free(ota);
  iotkit_ota_trust_free(trust);
}

Test(abi, ota_config_below_required_fields_is_invalid) {
  iotkit_ota_config_t cfg;
  ota_cfg(&cfg);
  cfg.struct_size = offsetof(iotkit_ota_config_t, running_version);
  iotkit_ota_t *ota = NULL;
  cr_assert_eq(iotkit_ota_new(&cfg, &ota), IOTKIT_ERR_INVALID_ARG);
  cr_assert_null(ota);
  iotkit_ota_trust_free(trust);
}

Test(abi, ota_status_sized_fills_prefix_only) {
  iotkit_ota_config_t cfg;
  ota_cfg(&cfg);
  iotkit_ota_t *ota = NULL;
  cr_assert_eq(iotkit_ota_new(&cfg, &ota), IOTKIT_OK);
  iotkit_ota_status_t st;
  cr_assert_eq(iotkit_ota_status(ota, &st), IOTKIT_OK);
  cr_assert_eq(st.struct_size, sizeof st);
  cr_assert_str_eq(st.running_version, "1.0.0");
  unsigned char buf[sizeof(iotkit_ota_status_t)];
  memset(buf, 0xcc, sizeof buf);
  size_t cut = offsetof(iotkit_ota_status_t, running_version);
  cr_assert_eq(iotkit_ota_status_sized(ota, (iotkit_ota_status_t *)(void *)buf, cut), IOTKIT_OK);
  size_t got;
  memcpy(&got, buf, sizeof got);
  cr_assert_eq(got, cut, "struct_size says how much was written");
  for (size_t i = cut; i < sizeof buf; i++) cr_assert_eq(buf[i], 0xcc, "byte %zu written past the size", i);
  cr_assert_eq(iotkit_ota_status_sized(ota, &st, 0), IOTKIT_ERR_INVALID_ARG);
  iotkit_ota_free(ota);
  iotkit_ota_trust_free(trust);
}

/* ----------------------------------------------------------------- HAL -- */

/* A hand-filled HAL copied from the memory HAL, as an integrator would fill one. */
static iotkit_hal_t copy_hal(size_t struct_size) {
  iotkit_hal_t h = *hal;
  h.struct_size = struct_size;
  return h;
}

Test(abi, hal_cut_before_seg_append_has_no_durable_queue) {
  iotkit_hal_t old = copy_hal(offsetof(iotkit_hal_t, seg_append));
  cr_assert_eq(iotkit_hal_validate(&old), IOTKIT_OK);
  iotkit_device_config_t cfg;
  device_cfg(&cfg);
  cfg.hal = &old; /* seg_* are set in the bytes after struct_size, but the caller did not know them */
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&cfg, &dev), IOTKIT_OK);
  cr_assert_not(stats_of(dev).durable, "seg_* beyond struct_size must be taken as absent");
  const iotkit_hal_t *used = iotkit_device_hal(dev);
  cr_assert_null(used->seg_append);
  cr_assert_eq(used->ctx, hal->ctx);
  iotkit_device_free(dev);
}

Test(abi, hal_full_size_and_zero_size_have_durable_queue) {
  size_t sizes[] = {sizeof(iotkit_hal_t), 0};
  for (size_t i = 0; i < 2; i++) {
    iotkit_hal_t h = copy_hal(sizes[i]);
    iotkit_device_config_t cfg;
    device_cfg(&cfg);
    cfg.hal = &h;
    iotkit_device_t *dev = NULL;
    cr_assert_eq(iotkit_device_new(&cfg, &dev), IOTKIT_OK);
    cr_assert(stats_of(dev).durable, "struct_size %zu", sizes[i]);
    iotkit_device_free(dev);
  }
}

Test(abi, hal_future_size_accepted) {
  struct {
    iotkit_hal_t hal;
    void (*future_op)(void *ctx);
  } f;
  memset(&f, 0xee, sizeof f);
  f.hal = copy_hal(sizeof f);
  cr_assert_eq(iotkit_hal_validate(&f.hal), IOTKIT_OK);
  iotkit_device_config_t cfg;
  device_cfg(&cfg);
  cfg.hal = &f.hal;
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&cfg, &dev), IOTKIT_OK);
  cr_assert(stats_of(dev).durable);
  iotkit_device_free(dev);
}

Test(abi, hal_below_required_ops_is_invalid) {
  iotkit_hal_t h = copy_hal(offsetof(iotkit_hal_t, mutex_free));
  cr_assert_eq(iotkit_hal_validate(&h), IOTKIT_ERR_INVALID_ARG);
  iotkit_device_config_t cfg;
  device_cfg(&cfg);
  cfg.hal = &h;
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&cfg, &dev), IOTKIT_ERR_INVALID_ARG);
  h.struct_size = 3;
  cr_assert_eq(iotkit_hal_validate(&h), IOTKIT_ERR_INVALID_ARG);
}

Test(abi, hal_init_sets_struct_size) {
  iotkit_hal_t h;
  memset(&h, 0x5a, sizeof h);
  iotkit_hal_init(&h);
  cr_assert_eq(h.struct_size, sizeof h);
  cr_assert_null(h.thread_self);
}

Test(abi, queue_on_old_hal_is_unsupported) {
  iotkit_hal_t old = copy_hal(offsetof(iotkit_hal_t, seg_append));
  iotkit_telemetry_queue_config_t qc;
  iotkit_telemetry_queue_config_init(&qc);
  cr_assert_eq(qc.struct_size, sizeof qc);
  qc.hal = &old;
  iotkit_telemetry_queue_t *q = NULL;
  cr_assert_eq(iotkit_telemetry_queue_open(&qc, &q), IOTKIT_ERR_UNSUPPORTED);
  qc.hal = hal;
  qc.struct_size = offsetof(iotkit_telemetry_queue_config_t, hal);
  cr_assert_eq(iotkit_telemetry_queue_open(&qc, &q), IOTKIT_ERR_INVALID_ARG);
}

/* ------------------------------------------------------ transport ops -- */

static iotkit_err_t op_create(const iotkit_transport_config_t *c, const iotkit_transport_events_t *e, void **ctx) {
  (void)c;
  (void)e;
  *ctx = NULL;
  return IOTKIT_OK;
}
static void op_destroy(void *ctx) { (void)ctx; }
static iotkit_err_t op_void(void *ctx) {
  (void)ctx;
  return IOTKIT_OK;
}
static iotkit_err_t op_send(void *ctx, const iotkit_message_t *m, uint32_t *id) {
  (void)ctx;
  (void)m;
  *id = 1;
  return IOTKIT_OK;
}
static iotkit_err_t op_subscribe(void *ctx, const char *ch, int qos) {
  (void)ctx;
  (void)ch;
  (void)qos;
  return IOTKIT_OK;
}
static iotkit_err_t op_poll(void *ctx, int ms) {
  (void)ctx;
  (void)ms;
  return IOTKIT_OK;
}
static const char *const k_schemes[] = {"abi", NULL};

static iotkit_transport_ops_t ops_table(size_t struct_size, const char *name) {
  iotkit_transport_ops_t t = {.struct_size = struct_size,
                              .name = name,
                              .schemes = k_schemes,
                              .create = op_create,
                              .destroy = op_destroy,
                              .connect = op_void,
                              .disconnect = op_void,
                              .send = op_send,
                              .subscribe = op_subscribe,
                              .poll = op_poll};
  return t;
}

Test(abi, ops_sizes) {
  iotkit_transport_registry_t *reg = NULL;
  cr_assert_eq(iotkit_transport_registry_new(&reg), IOTKIT_OK);
  static iotkit_transport_ops_t old, zero, full, small;
  old = ops_table(offsetof(iotkit_transport_ops_t, unsubscribe), "abi-old");
  zero = ops_table(0, "abi-zero");
  full = ops_table(sizeof full, "abi-full");
  small = ops_table(offsetof(iotkit_transport_ops_t, poll), "abi-small");
  cr_assert_eq(iotkit_transport_register(reg, &old), IOTKIT_OK);
  cr_assert_eq(iotkit_transport_register(reg, &zero), IOTKIT_OK);
  cr_assert_eq(iotkit_transport_register(reg, &full), IOTKIT_OK);
  cr_assert_eq(iotkit_transport_register(reg, &small), IOTKIT_ERR_INVALID_ARG, "poll is required");
  /* A future table: larger than ours; the registry keeps the pointer and reads the known prefix. */
  static struct {
    iotkit_transport_ops_t ops;
    void *future_op;
  } future;
  future.ops = ops_table(sizeof future, "abi-future");
  cr_assert_eq(iotkit_transport_register(reg, &future.ops), IOTKIT_OK);
  iotkit_transport_registry_free(reg);
}

Test(abi, device_uses_old_ops_table) {
  iotkit_transport_registry_t *reg = NULL;
  cr_assert_eq(iotkit_transport_registry_new(&reg), IOTKIT_OK);
  static iotkit_transport_ops_t old;
  old = ops_table(offsetof(iotkit_transport_ops_t, unsubscribe), "abi-old");
  cr_assert_eq(iotkit_transport_register(reg, &old), IOTKIT_OK);
  iotkit_device_config_t cfg;
  device_cfg(&cfg);
  cfg.uri = "abi://h";
  cfg.transports = reg;
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&cfg, &dev), IOTKIT_OK);
  iotkit_device_free(dev);
  iotkit_transport_registry_free(reg);
}

/* ----------------------------------------------------- transport config -- */

Test(abi, transport_config_init_defaults) {
  iotkit_transport_config_t c;
  memset(&c, 0x5a, sizeof c);
  iotkit_transport_config_init(&c);
  cr_assert_eq(c.struct_size, sizeof c);
  cr_assert(c.tls.verify_peer, "verification is on by default");
  cr_assert_eq(c.keepalive_s, IOTKIT_KEEPALIVE_DEFAULT_S);
  cr_assert(c.clean_session);
  cr_assert_eq(c.protocol_version, 311);
  cr_assert_eq(c.connect_timeout_ms, IOTKIT_CONNECT_TIMEOUT_DEFAULT_MS);
  cr_assert_eq(c.max_payload, IOTKIT_MAX_PAYLOAD_DEFAULT);
  cr_assert_null(c.uri);
  cr_assert_null(c.hal);
  cr_assert_null(c.client_id);
  cr_assert_null(c.username);
  cr_assert_null(c.password);
  cr_assert_null(c.will.channel);
  cr_assert_null(c.tls.ca_file);
  cr_assert_null(c.tls.cert_file);
  for (size_t i = 0; i < sizeof c.tls.reserved / sizeof c.tls.reserved[0]; i++) cr_assert_null(c.tls.reserved[i]);
  iotkit_transport_config_init(NULL); /* ignored */
}

/* ------------------------------------------------------------- stats -- */

Test(abi, device_stats_sized_fills_prefix_only) {
  iotkit_device_config_t cfg;
  device_cfg(&cfg);
  iotkit_device_t *dev = NULL;
  cr_assert_eq(iotkit_device_new(&cfg, &dev), IOTKIT_OK);
  unsigned char buf[sizeof(iotkit_device_telemetry_stats_t) + 16];
  memset(buf, 0xcc, sizeof buf);
  size_t cut = offsetof(iotkit_device_telemetry_stats_t, accepted);
  cr_assert_eq(iotkit_device_telemetry_stats_sized(dev, (iotkit_device_telemetry_stats_t *)(void *)buf, cut),
               IOTKIT_OK);
  bool durable;
  memcpy(&durable, buf, sizeof durable);
  cr_assert(durable);
  for (size_t i = cut; i < sizeof buf; i++) cr_assert_eq(buf[i], 0xcc, "byte %zu written past the size", i);
  /* A larger (future) size: only what the library knows is written. */
  memset(buf, 0xcc, sizeof buf);
  cr_assert_eq(iotkit_device_telemetry_stats_sized(dev, (iotkit_device_telemetry_stats_t *)(void *)buf, sizeof buf),
               IOTKIT_OK);
  for (size_t i = sizeof(iotkit_device_telemetry_stats_t); i < sizeof buf; i++) cr_assert_eq(buf[i], 0xcc);
  cr_assert_eq(iotkit_device_telemetry_stats_sized(dev, (iotkit_device_telemetry_stats_t *)(void *)buf, 0),
               IOTKIT_ERR_INVALID_ARG);
  cr_assert_eq(iotkit_device_telemetry_stats_sized(NULL, (iotkit_device_telemetry_stats_t *)(void *)buf, cut),
               IOTKIT_ERR_INVALID_ARG);
  iotkit_device_free(dev);
}

Test(abi, queue_stats_sized_fills_prefix_only) {
  iotkit_telemetry_queue_config_t qc;
  iotkit_telemetry_queue_config_init(&qc);
  qc.hal = hal;
  iotkit_telemetry_queue_t *q = NULL;
  cr_assert_eq(iotkit_telemetry_queue_open(&qc, &q), IOTKIT_OK);
  uint64_t seq;
  cr_assert_eq(iotkit_telemetry_queue_next_seq(q, &seq), IOTKIT_OK);
  cr_assert_eq(iotkit_telemetry_queue_append(q, seq, "x", 1), IOTKIT_OK);
  unsigned char buf[sizeof(iotkit_telemetry_queue_stats_t)];
  memset(buf, 0xcc, sizeof buf);
  size_t cut = offsetof(iotkit_telemetry_queue_stats_t, sent);
  cr_assert_eq(iotkit_telemetry_queue_stats_sized(q, (iotkit_telemetry_queue_stats_t *)(void *)buf, cut), IOTKIT_OK);
  uint64_t queued;
  memcpy(&queued, buf, sizeof queued);
  cr_assert_eq(queued, 1);
  for (size_t i = cut; i < sizeof buf; i++) cr_assert_eq(buf[i], 0xcc, "byte %zu written past the size", i);
  iotkit_telemetry_queue_stats_t st;
  cr_assert_eq(iotkit_telemetry_queue_stats(q, &st), IOTKIT_OK);
  cr_assert_eq(st.pending, 1);
  cr_assert_eq(iotkit_telemetry_queue_stats_sized(q, &st, 0), IOTKIT_ERR_INVALID_ARG);
  iotkit_telemetry_queue_close(q);
}

/* ------------------------------------------------ other configs' sizes -- */

Test(abi, other_inits_set_struct_size) {
  iotkit_hal_posix_config_t pc;
  iotkit_hal_posix_config_init(&pc);
  cr_assert_eq(pc.struct_size, sizeof pc);
  iotkit_hal_memory_config_t mc;
  iotkit_hal_memory_config_init(&mc);
  cr_assert_eq(mc.struct_size, sizeof mc);
  iotkit_jwt_provider_config_t jc;
  iotkit_jwt_provider_config_init(&jc);
  cr_assert_eq(jc.struct_size, sizeof jc);
  iotkit_jwt_verify_opts_t vo;
  iotkit_jwt_verify_opts_init(&vo);
  cr_assert_eq(vo.struct_size, sizeof vo);
  iotkit_envelope_config_t ec;
  iotkit_envelope_config_init(&ec);
  cr_assert_eq(ec.struct_size, sizeof ec);
}

Test(abi, memory_hal_config_sizes) {
  iotkit_hal_memory_config_t mc;
  iotkit_hal_memory_config_init(&mc);
  mc.struct_size = offsetof(iotkit_hal_memory_config_t, manual_clock);
  mc.manual_clock = true; /* beyond the size: not read */
  iotkit_hal_t *h = NULL;
  cr_assert_eq(iotkit_hal_memory_new(&mc, &h), IOTKIT_OK);
  cr_assert_eq(iotkit_hal_memory_advance(h, 1), IOTKIT_ERR_STATE, "manual_clock kept its default (off)");
  iotkit_hal_free(h);
  mc.struct_size = 2;
  cr_assert_eq(iotkit_hal_memory_new(&mc, &h), IOTKIT_ERR_INVALID_ARG);
}

Test(abi, posix_hal_config_below_state_dir_is_invalid) {
  iotkit_hal_posix_config_t pc;
  iotkit_hal_posix_config_init(&pc);
  pc.state_dir = "/tmp";
  pc.struct_size = offsetof(iotkit_hal_posix_config_t, state_dir);
  iotkit_hal_t *h = NULL;
  cr_assert_eq(iotkit_hal_posix_new(&pc, &h), IOTKIT_ERR_INVALID_ARG);
  cr_assert_null(h);
}

Test(abi, envelope_and_jwt_provider_below_required_are_invalid) {
  static const uint8_t key[32] = {1};
  iotkit_envelope_config_t ec;
  iotkit_envelope_config_init(&ec);
  ec.key = key;
  ec.key_id = "k1";
  ec.device_id = "abi-1";
  iotkit_envelope_t *env = NULL;
  cr_assert_eq(iotkit_envelope_new(&ec, &env), IOTKIT_OK);
  iotkit_envelope_free(env);
  env = NULL;
  ec.struct_size = offsetof(iotkit_envelope_config_t, device_id);
  cr_assert_eq(iotkit_envelope_new(&ec, &env), IOTKIT_ERR_INVALID_ARG);
  cr_assert_null(env);
  iotkit_jwt_provider_config_t jc;
  iotkit_jwt_provider_config_init(&jc);
  jc.struct_size = offsetof(iotkit_jwt_provider_config_t, hal);
  iotkit_jwt_provider_t *p = NULL;
  cr_assert_eq(iotkit_jwt_provider_new(&jc, &p), IOTKIT_ERR_INVALID_ARG);
  iotkit_jwt_verify_opts_t vo;
  iotkit_jwt_verify_opts_init(&vo);
  vo.struct_size = offsetof(iotkit_jwt_verify_opts_t, key);
  cr_assert_eq(iotkit_jwt_verify("a.b.c", &vo, NULL), IOTKIT_ERR_INVALID_ARG);
}

/* ------------------------------------------------- version and limits -- */

Test(abi, version_number) {
  cr_assert_eq(iotkit_version_number(), (uint32_t)IOTKIT_VERSION_NUMBER);
  cr_assert_eq(IOTKIT_VERSION_NUMBER, (IOTKIT_VERSION_MAJOR << 16) | (IOTKIT_VERSION_MINOR << 8) | IOTKIT_VERSION_PATCH);
  cr_assert_eq(iotkit_version_number(), 0x000200u);
  cr_assert_str_eq(iotkit_version(), "0.2.0");
}

Test(abi, limits) {
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_MAX_PAYLOAD_DEFAULT), IOTKIT_MAX_PAYLOAD_DEFAULT);
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_MAX_DEVICE_ID), IOTKIT_MAX_DEVICE_ID);
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_MAX_KV_KEY), IOTKIT_MAX_KV_KEY);
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_MAX_KV_VALUE), IOTKIT_MAX_KV_VALUE);
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_ERROR_TEXT_SIZE), IOTKIT_ERROR_TEXT_SIZE);
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_MAX_NAME), IOTKIT_MAX_NAME);
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_MAX_REQUEST_ID), IOTKIT_MAX_REQUEST_ID);
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_MAX_CREDENTIAL), IOTKIT_MAX_CREDENTIAL);
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_MAX_PENDING_COMMANDS), IOTKIT_MAX_PENDING_COMMANDS);
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_ENVELOPE_MAX_OVERHEAD), IOTKIT_ENVELOPE_MAX_OVERHEAD);
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_OTA_MAX_URL), IOTKIT_OTA_MAX_URL);
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_TELEMETRY_MAX_POINTS), IOTKIT_TELEMETRY_MAX_POINTS);
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_TELEMETRY_DRAIN_RATE_DEFAULT), IOTKIT_TELEMETRY_DRAIN_RATE_DEFAULT);
  cr_assert_str_eq(iotkit_limit_name(IOTKIT_LIMIT_MAX_DEVICE_ID), "MAX_DEVICE_ID");
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_FLEET_MAX_CONTROL_JSON), IOTKIT_FLEET_MAX_CONTROL_JSON);
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_FLEET_ROLLOUT_MAX_DEVICES), IOTKIT_FLEET_ROLLOUT_MAX_DEVICES);
  cr_assert_eq(iotkit_limit(IOTKIT_LIMIT_TELEMETRY_MAX_CBOR_DEPTH), IOTKIT_TELEMETRY_MAX_CBOR_DEPTH);
  cr_assert_str_eq(iotkit_limit_name(IOTKIT_LIMIT_FLEET_FLUSH_INTERVAL_MS), "FLEET_FLUSH_INTERVAL_MS");
}

Test(abi, limits_listed_without_gaps) {
  int n = 0;
  while (iotkit_limit_name((iotkit_limit_t)n)) {
    cr_assert_neq(iotkit_limit((iotkit_limit_t)n), 0, "%s", iotkit_limit_name((iotkit_limit_t)n));
    n++;
  }
  cr_assert_eq(n, IOTKIT_LIMIT_TELEMETRY_MAX_CBOR_DEPTH + 1);
}

Test(abi, unknown_limit) {
  cr_assert_eq(iotkit_limit((iotkit_limit_t)9999), 0);
  cr_assert_null(iotkit_limit_name((iotkit_limit_t)9999));
  cr_assert_eq(iotkit_limit((iotkit_limit_t)-1), 0);
}

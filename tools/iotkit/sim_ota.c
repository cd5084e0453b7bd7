/* Over-the-air updates of `iotkit device simulate` (with --trust-key and --state-dir).
 *
 * Every start of the process is a boot: iotkit_hal_boot() plays the
 * bootloader on the POSIX HAL's slots. The version the simulated firmware runs
 * is the one recorded for the active slot ("sim.fw.slot<N>" in the HAL's
 * key-value store; --fw-version before any update). An accepted update is
 * downloaded into the other slot; once it is pending the process "reboots" by
 * executing itself again with the same arguments; the new image then runs on
 * trial and is confirmed after a self-test (unless --no-confirm, which lets
 * the OTA client roll it back after --trial-timeout seconds, rebooting into
 * the confirmed image, or the bootloader after MAX_TRIAL_BOOTS boots). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "device_sim.h"

#define MAX_TRIAL_BOOTS 2

struct sim_ota {
  iotkit_ota_trust_t *trust;
  iotkit_ota_t *ota;
  char version[IOTKIT_OTA_MAX_VERSION + 1];
  uint64_t next_try; /* monotonic ms: after a failed run, wait before resuming */
  bool on_trial;     /* this boot runs an image on trial */
};

#define RETRY_MS 2000u

static void slot_key(int slot, char *key, size_t cap) { snprintf(key, cap, "sim.fw.slot%d", slot); }

/* The version recorded for the active slot, or --fw-version. */
static void running_version(const sim_t *s, iotkit_hal_t *hal, int active, char *out, size_t cap) {
  char key[32];
  slot_key(active, key, sizeof key);
  size_t len = 0;
  if (hal->kv_get(hal->ctx, key, out, cap - 1, &len) == IOTKIT_OK) {
    out[len] = '\0';
    return;
  }
  snprintf(out, cap, "%s", s->fw_version);
}

static bool defer_reboot(iotkit_ota_t *ota, void *user) {
  (void)ota, (void)user;
  return false; /* the simulator reboots itself (sim_ota_step) */
}

static const char *const k_outcomes[] = {"confirmed image", "first boot of the new image on trial",
                                          "new image on trial again", "rolled back to the confirmed image"};

void sim_ota_free(sim_t *s) {
  if (!s->ota) return;
  iotkit_ota_free(s->ota->ota);
  iotkit_ota_trust_free(s->ota->trust);
  free(s->ota);
  s->ota = NULL;
}

int sim_ota_boot(sim_t *s, iotkit_hal_t *hal) {
  if (!s->trust_key) return CLI_EXIT_OK;
  if (!s->state_dir) return cli_usage_error("device simulate: --trust-key needs --state-dir (the firmware slots)");
  iotkit_boot_outcome_t outcome;
  iotkit_err_t err = iotkit_hal_boot(hal, MAX_TRIAL_BOOTS, &outcome);
  iotkit_slot_info_t info;
  if (err == IOTKIT_OK) err = hal->slot_query(hal->ctx, &info);
  if (err != IOTKIT_OK) return cli_crypto_error("device simulate: boot", err, CLI_EXIT_USAGE);
  s->ota = calloc(1, sizeof *s->ota);
  if (!s->ota) return cli_crypto_error("device simulate", IOTKIT_ERR_NOMEM, CLI_EXIT_USAGE);
  running_version(s, hal, info.active, s->ota->version, sizeof s->ota->version);
  if (!s->quiet) printf("boot: slot %d, %s, firmware %s\n", info.active, k_outcomes[outcome], s->ota->version);
  iotkit_key_t *key = NULL;
  int code = cli_load_key("trust-key", s->trust_key, &key);
  if (code != CLI_EXIT_OK) return code;
  err = iotkit_ota_trust_new(&s->ota->trust);
  if (err == IOTKIT_OK) err = iotkit_ota_trust_add(s->ota->trust, s->trust_key_id, key);
  iotkit_key_free(key);
  if (err != IOTKIT_OK) return cli_crypto_error("device simulate: --trust-key/--trust-key-id", err, CLI_EXIT_USAGE);
  iotkit_ota_config_t oc;
  iotkit_ota_config_init(&oc);
  oc.hal = hal;
  oc.trust = s->ota->trust;
  oc.device_type = s->device_type;
  oc.running_version = s->ota->version;
  oc.on_reboot = defer_reboot;
  oc.retry_base_ms = 200;
  oc.retry_max_ms = 2000;
  oc.timeout_ms = 10000;
  oc.trial_timeout_s = (uint32_t)s->trial_timeout_s;
  err = iotkit_ota_new(&oc, &s->ota->ota);
  if (err != IOTKIT_OK) return cli_crypto_error("device simulate: OTA client", err, CLI_EXIT_USAGE);
  iotkit_ota_status_t st;
  iotkit_ota_status(s->ota->ota, &st);
  s->ota->on_trial = st.state == IOTKIT_OTA_TRIAL;
  if (st.state == IOTKIT_OTA_TRIAL && !s->no_confirm) {
    /* The self-test of a simulated sensor: its model starts and the image is the one the manifest named. */
    if (!s->quiet) printf("self-test of %s passed: confirming\n", s->ota->version);
    err = iotkit_ota_confirm(s->ota->ota);
    if (err != IOTKIT_OK) return cli_crypto_error("device simulate: confirm", err, CLI_EXIT_USAGE);
  } else if (st.state == IOTKIT_OTA_ROLLED_BACK && !s->quiet) {
    printf("update to %s was rolled back\n", st.target_version);
  }
  fflush(stdout);
  return CLI_EXIT_OK;
}

iotkit_err_t sim_ota_attach(sim_t *s) { return s->ota ? iotkit_device_ota_attach(s->dev, s->ota->ota) : IOTKIT_OK; }

/* End the session and execute this program again: the simulated reboot. */
static void restart(sim_t *s, iotkit_hal_t *hal) {
  fflush(stdout);
  fflush(stderr);
  if (iotkit_device_is_connected(s->dev)) (void)iotkit_device_disconnect(s->dev);
  iotkit_device_free(s->dev);
  s->dev = NULL;
  sim_ota_free(s);
  iotkit_hal_free(hal);
  execv("/proc/self/exe", s->argv);
  perror("iotkit: reboot (execv)");
  _exit(CLI_EXIT_USAGE);
}

/* Record the version of the pending slot, end the session and execute this program again. */
static void reboot_into(sim_t *s, iotkit_hal_t *hal) {
  iotkit_ota_status_t st;
  iotkit_slot_info_t info;
  iotkit_ota_status(s->ota->ota, &st);
  char key[32];
  if (hal->slot_query(hal->ctx, &info) != IOTKIT_OK || info.pending < 0) return;
  slot_key(info.pending, key, sizeof key);
  if (hal->kv_set(hal->ctx, key, st.target_version, strlen(st.target_version)) != IOTKIT_OK) return;
  if (!s->quiet) printf("update %s pending: rebooting\n", st.target_version);
  restart(s, hal);
}

void sim_ota_step(sim_t *s, iotkit_hal_t *hal) {
  if (!s->ota || !s->dev) return;
  iotkit_ota_status_t st;
  iotkit_ota_status(s->ota->ota, &st);
  if (s->ota->on_trial && st.state == IOTKIT_OTA_ROLLED_BACK) {
    /* The trial's time limit passed (iotkit_device_poll() rolled it back): boot the confirmed image. */
    if (!s->quiet) printf("update %s not confirmed in time: rebooting into the confirmed image\n", st.target_version);
    for (int i = 0; i < 5 && iotkit_device_is_connected(s->dev); i++) (void)iotkit_device_poll(s->dev, 20);
    restart(s, hal);
    return;
  }
  if (st.state < IOTKIT_OTA_DOWNLOADING || st.state > IOTKIT_OTA_PENDING) return;
  if (st.state != IOTKIT_OTA_PENDING && !iotkit_device_is_connected(s->dev)) return; /* report as it goes */
  if (hal->monotonic_ms(hal->ctx) < s->ota->next_try) return;
  if (!s->quiet) printf("ota: updating to %s\n", st.target_version);
  fflush(stdout);
  iotkit_err_t err = st.state == IOTKIT_OTA_PENDING ? IOTKIT_OK : iotkit_device_ota_run(s->dev);
  iotkit_ota_status(s->ota->ota, &st);
  if (err == IOTKIT_OK && st.state == IOTKIT_OTA_PENDING) {
    /* Let the "pending" report reach the broker before the reboot. */
    for (int i = 0; i < 5 && iotkit_device_is_connected(s->dev); i++) (void)iotkit_device_poll(s->dev, 20);
    reboot_into(s, hal);
  } else if (err != IOTKIT_OK) {
    s->ota->next_try = hal->monotonic_ms(hal->ctx) + RETRY_MS;
    fprintf(stderr, "iotkit: ota: %s (%s)\n", iotkit_strerror(err), iotkit_err_name(err));
  }
}

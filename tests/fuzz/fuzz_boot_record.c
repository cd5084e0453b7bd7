/* The POSIX HAL's boot record read from a damaged file (lib/hal/posix_slots.c,
   boot_record.c): the input becomes <state>/slots/boot.rec (the first byte
   picks: a bare 36-byte record, the two-copy form, or the bytes as they are),
   the HAL is opened, the bootloader step run, the slots queried, and a trial
   confirmed or reverted; then the HAL is opened again on what it wrote. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "hal/hal_internal.h"

#define RECORD IOTKIT__HAL_BOOT_RECORD_SIZE
#define COPY IOTKIT__HAL_BOOT_COPY_SIZE

static char g_dir[64];
static char g_file[128];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  const char *tmp = getenv("TMPDIR");
  snprintf(g_dir, sizeof g_dir, "%s/iotkit-fuzz-boot-XXXXXX", tmp && strlen(tmp) < 30 ? tmp : "/tmp");
  FUZZ_CHECK(mkdtemp(g_dir) != NULL);
  char slots[100];
  snprintf(slots, sizeof slots, "%s/slots", g_dir);
  FUZZ_CHECK(mkdir(slots, 0700) == 0);
  snprintf(g_file, sizeof g_file, "%s/boot.rec", slots);
  return 0;
}

static iotkit_hal_t *open_hal(void) {
  iotkit_hal_posix_config_t c;
  iotkit_hal_posix_config_init(&c);
  c.state_dir = g_dir;
  c.slot_capacity = 4096;
  c.log_fd = -1;
  iotkit_hal_t *hal = NULL;
  return iotkit_hal_posix_new(&c, &hal) == IOTKIT_OK ? hal : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  unsigned form = fuzz_take_byte(&data, &size);
  uint8_t buf[2 * COPY];
  size_t n = size;
  if (form % 3 < 2) {
    n = form % 3 == 0 ? RECORD : 2 * COPY;
    memset(buf, 0, sizeof buf);
    memcpy(buf, data, size < n ? size : n);
    data = buf;
  }
  int fd = open(g_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  FUZZ_CHECK(fd >= 0);
  FUZZ_CHECK(write(fd, data, n) == (ssize_t)n);
  close(fd);
  for (int round = 0; round < 2; round++) {
    iotkit_hal_t *hal = open_hal();
    if (!hal) break;
    iotkit_boot_outcome_t out;
    (void)iotkit_hal_boot(hal, 3, &out);
    iotkit_slot_info_t info;
    if (hal->slot_query(hal->ctx, &info) == IOTKIT_OK && round == 0) {
      if (form & 0x10) (void)hal->slot_confirm(hal->ctx);
      if ((form & 0x20) && hal->slot_revert) (void)hal->slot_revert(hal->ctx);
      if (form & 0x40) (void)hal->slot_mark_pending(hal->ctx, (int)(form >> 7));
    }
    iotkit_hal_free(hal);
  }
  return 0;
}

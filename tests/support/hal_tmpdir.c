/* Temporary directories for the HAL tests. */
#include "hal_tmpdir.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void hal_tmpdir_make(char *buf, size_t cap) {
  const char *base = getenv("TMPDIR");
  snprintf(buf, cap, "%s/iotkit-hal-XXXXXX", base && *base ? base : "/tmp");
  cr_assert_not_null(mkdtemp(buf), "mkdtemp %s", buf);
}

static void remove_at(int parent, const char *name) {
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    unlinkat(parent, name, 0);
    return;
  }
  DIR *dir = fdopendir(fd);
  if (!dir) {
    close(fd);
    return;
  }
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    remove_at(dirfd(dir), e->d_name);
  }
  closedir(dir);
  unlinkat(parent, name, AT_REMOVEDIR);
}

void hal_tmpdir_remove(const char *path) {
  if (path && *path) remove_at(AT_FDCWD, path);
}

int hal_tmpdir_count(const char *path, const char *prefix) {
  DIR *dir = opendir(path);
  if (!dir) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) n++;
  }
  closedir(dir);
  return n;
}
